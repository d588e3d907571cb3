/* Per-sample metering DSP.
 *
 * Each sample pair: subtract a very slow DC tracker on both channels (first
 * order, time constant 2^14 samples = 4 s: a fast high-pass would shift phase
 * and gain at 50 Hz), then sum v*v, i*i, v*i, v, i and v(n-d)*i in 64 bits
 * (d = integer quarter period, from the ring of past voltage samples). Rising
 * voltage zero crossings with hysteresis lock blocks to whole cycles:
 *
 *   v   /\    /\    /\         /\
 *      /  \  /  \  /  \  ...  /  \
 *   --x----\/----\/----\-----x----\--    x = interpolated rising crossing
 *     |<------- 10 cycles ------>|       = one block; the next starts here
 *
 * At the block end (once per 200 ms, double arithmetic is fine there) the
 * residual DC is removed exactly with the block means, frequency comes from
 * the interpolated crossings, and the delayed product is corrected for the
 * fractional part of the quarter period:
 *   sum v(n-d) i(n) = V I [cos(wd) cos(phi) + sin(wd) sin(phi)]
 *   => Q = (Q_d - P cos(wd)) / sin(wd), exact for the fundamental at any d.
 * No division and no float in the per-sample loop. */
#include <math.h>
#include <string.h>

#include "klefr/meter.h"

#define KLEFR_DC_SHIFT 14       /* tracker time constant 2^14 samples */
#define KLEFR_ZC_HYST 131072    /* -7.8 V: arms the rising crossing detector */
#define KLEFR_BLOCK_CYCLES 10u  /* cycles per locked block */
#define KLEFR_BLOCK_MAX 2048u   /* samples: no crossings (no voltage) ends a block */
#define KLEFR_DC_SNAP_BLOCKS 4u /* first blocks set the trackers to the block mean */
#define KLEFR_RING_MASK (KLEFR_DELAY_RING - 1u)

static const double klefr_two_pi = 6.283185307179586;

static uint32_t quarter_period(double f)
{
    double q = (double)KLEFR_FS_HZ / (4.0 * f);
    uint32_t d = (uint32_t)(q + 0.5);
    if (d < 4)
        d = 4;
    if (d > KLEFR_DELAY_RING - 1)
        d = KLEFR_DELAY_RING - 1;
    return d;
}

void klefr_dsp_init(klefr_dsp *d)
{
    memset(d, 0, sizeof *d);
    d->freq_hz = KLEFR_FN_HZ;
    d->d = quarter_period(d->freq_hz);
}

static void sums_reset(klefr_dsp *d)
{
    d->s = (klefr_dsp_sums){.dc_v = d->s.dc_v, .dc_i = d->s.dc_i};
    d->cycles = 0;
}

/* Ends the block held in d; next_k is the absolute index of the first sample
 * after it, t_end_us that sample's time. span: crossing-to-crossing length of a
 * locked block in samples. */
static void block_end(klefr_meter *m, bool locked, double span, uint64_t next_k, uint64_t t_end_us)
{
    klefr_dsp *d = &m->metering.dsp;
    klefr_dsp_sums *s = &d->s;
    klefr_block b = {.n = s->n, .locked = locked, .startup = d->blocks == 0 && !locked};
    double n = (double)s->n;
    /* The tracker's high-pass H = (1 - z^-1) / (1 - (1 - a) z^-1), a = 2^-14,
     * has |H|^2 = 1 / (1 - a) well above its 0.04 Hz corner: +0.006 % on
     * every product sum unless taken out here. */
    const double g = 1.0 - 1.0 / (double)(1 << KLEFR_DC_SHIFT);
    double mv = (double)s->sv / n, mi = (double)s->si / n;
    if (locked) {
        b.freq_hz = (double)KLEFR_BLOCK_CYCLES * KLEFR_FS_HZ / span;
        d->freq_hz = b.freq_hz;
    } else {
        b.freq_hz = 0.0;
    }
    /* Means over whole cycles are the DC the tracker has not removed yet;
     * over a partial block they are not, so only locked blocks use them. */
    double cv = locked ? mv : 0.0, ci = locked ? mi : 0.0;
    b.vv_raw = ((double)s->svv - n * cv * cv) * g;
    b.ii_raw = ((double)s->sii - n * ci * ci) * g;
    b.p_raw = ((double)s->svi - n * cv * ci) * g;
    double qd = ((double)s->sq - n * cv * ci) * g;
    double wd = klefr_two_pi * d->freq_hz / KLEFR_FS_HZ * (double)d->d;
    b.q_raw = (qd - b.p_raw * cos(wd)) / sin(wd);

    if (locked && d->blocks < KLEFR_DC_SNAP_BLOCKS) {
        s->dc_v += (int64_t)(s->sv / (int64_t)s->n) * (1 << KLEFR_DC_SHIFT);
        s->dc_i += (int64_t)(s->si / (int64_t)s->n) * (1 << KLEFR_DC_SHIFT);
    }
    d->blocks++;
    d->d = quarter_period(d->freq_hz);
    d->blk_k0 = next_k;
    sums_reset(d);
    klefr_metering_block(m, &b, t_end_us);
}

/* A rising crossing between sample kidx-1 (prev < 0) and kidx (x >= 0). */
static void crossing(klefr_meter *m, int32_t prev, int32_t x, uint64_t kidx, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    double f = (double)prev / ((double)prev - (double)x); /* in (0, 1] */
    double pos = (double)(kidx - 1 - d->blk_k0) + f;
    if (!d->locked) {
        /* First crossing: close the unlocked block, lock from here. */
        if (d->s.n)
            block_end(m, false, 0.0, kidx, t_us);
        d->locked = true;
        d->x_start = f - 1.0;
        return;
    }
    if (++d->cycles < KLEFR_BLOCK_CYCLES)
        return;
    block_end(m, true, pos - d->x_start, kidx, t_us);
    d->x_start = f - 1.0;
}

void klefr_dsp_run(klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    int32_t *ring = d->ring;
    klefr_dsp_sums s = d->s; /* a local copy the compiler keeps in registers */
    uint32_t w = d->w, dl = d->d;
    int32_t prev = d->prev_v;
    bool armed = d->armed;

    for (size_t j = 0; j < n; j++) {
        int32_t x = v[j] - (int32_t)(s.dc_v >> KLEFR_DC_SHIFT);
        int32_t y = i[j] - (int32_t)(s.dc_i >> KLEFR_DC_SHIFT);
        s.dc_v += x;
        s.dc_i += y;
        if (x >= 0) {
            if (armed) {
                /* Rare path (once a cycle): hand the sums to the block code. */
                armed = false;
                d->s = s;
                crossing(m, prev, x, d->k + j, t_us + (uint64_t)j * KLEFR_TS_US);
                s = d->s;
                dl = d->d;
            }
        } else if (x < -KLEFR_ZC_HYST) {
            armed = true;
        }
        prev = x;
        int32_t xd = ring[(w - dl) & KLEFR_RING_MASK];
        ring[w & KLEFR_RING_MASK] = x;
        w++;
        s.svv += (int64_t)x * x;
        s.sii += (int64_t)y * y;
        s.svi += (int64_t)x * y;
        s.sq += (int64_t)xd * y;
        s.sv += x;
        s.si += y;
        if (++s.n >= KLEFR_BLOCK_MAX) {
            /* No crossings for too long (no voltage): end an unlocked block. */
            d->s = s;
            d->locked = false;
            block_end(m, false, 0.0, d->k + j + 1, t_us + (uint64_t)(j + 1) * KLEFR_TS_US);
            s = d->s;
            dl = d->d;
        }
    }
    d->s = s;
    d->w = w;
    d->prev_v = prev;
    d->armed = armed;
    d->k += n;
}
