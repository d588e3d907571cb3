/* Per-sample metering DSP.
 *
 * Each sample pair: subtract a very slow DC tracker on both channels (first
 * order, time constant 2^14 samples = 4 s: a fast high-pass would shift phase
 * and gain at 50 Hz), then sum v*v, i*i, v*i, v, i in 64 bits. For the
 * fundamental, every two samples are added (a 2 kHz stream; the anti-alias
 * filter leaves nothing near 2 kHz to fold onto 50 Hz) and correlated,
 * Hann-windowed, with e^{-j 2w m} on both channels. Rising
 * voltage zero crossings with hysteresis lock blocks to whole cycles:
 *
 *   v   /\    /\    /\         /\
 *      /  \  /  \  /  \  ...  /  \
 *   --x----\/----\/----\-----x----\--    x = interpolated rising crossing
 *     |<------- 10 cycles ------>|       = one block; the next starts here
 *
 * At the block end (once per 200 ms, double arithmetic is fine there) the
 * residual DC is removed exactly with the block means, frequency comes from
 * the interpolated crossings, and the fundamental phasors V1, I1 are solved
 * from the correlations: the window (1 - cos(w k / 10)) / 2 spans the ten
 * cycles the previous block measured, so every harmonic and the DC fall on
 * its zeros, sub-harmonics and interharmonics leak little (sidelobes fall as
 * 1/f^3), and the exact model x_k = Re(X e^{j wc k}) + m at this block's own
 * frequency wc (not the rotor's w) takes out the mismatch and the image of
 * the fundamental: Q1 = Im(V1 conj I1) / 2 is the fundamental reactive power
 * (IEC 62053-24), harmonic active power gives 0 var. Rotor and window advance
 * by three-term recurrences, one multiply each per pair; no division and no
 * float in the per-sample loop. */
#include <math.h>
#include <string.h>

#include "klefr/meter.h"

#define KLEFR_DC_SHIFT 14       /* tracker time constant 2^14 samples */
#define KLEFR_ZC_HYST 131072    /* -7.8 V: arms the rising crossing detector */
#define KLEFR_BLOCK_CYCLES 10u  /* cycles per locked block */
#define KLEFR_BLOCK_MAX 2048u   /* samples: no crossings (no voltage) ends a block */
#define KLEFR_DC_SNAP_BLOCKS 4u /* first blocks set the trackers to the block mean */
#define KLEFR_ROT_SHIFT 28      /* rotor cos/sin in Q28 (products stay in int64) */
#define KLEFR_WIN_SHIFT 30      /* window cosine in Q30 */

static const double klefr_two_pi = 6.283185307179586;

/* ---- a little complex arithmetic for the block end ------------------------- */

typedef struct {
    double re, im;
} cplx;

static cplx c_mul(cplx a, cplx b)
{
    return (cplx){a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
static cplx c_conj(cplx a)
{
    return (cplx){a.re, -a.im};
}
static cplx c_exp(double phi)
{
    return (cplx){cos(phi), sin(phi)};
}
/* e^{j x}, by its series when x is small (a frequency correction). */
static cplx c_exp_small(double x)
{
    if (fabs(x) > 1e-3)
        return c_exp(x);
    double x2 = x * x;
    return (cplx){1 - x2 / 2 * (1 - x2 / 12), x * (1 - x2 / 6 * (1 - x2 / 20))};
}
static cplx c_lin(double a, cplx x, double b, cplx y)
{
    return (cplx){a * x.re + b * y.re, a * x.im + b * y.im};
}

/* sum_{k<n} z^k with zn = z^n */
static cplx geo(cplx z, cplx zn, double n)
{
    cplx num = {1 - zn.re, -zn.im}, den = {1 - z.re, -z.im};
    double d2 = den.re * den.re + den.im * den.im;
    if (d2 < 1e-24)
        return (cplx){n, 0};
    return (cplx){(num.re * den.re + num.im * den.im) / d2, (num.im * den.re - num.re * den.im) / d2};
}

/* sum_{k<n} w_k z^k, w_k = (1 - cos(W k)) / 2, zw = e^{jW} */
static cplx hann_geo(cplx z, cplx zn, cplx zw, cplx zwn, double n)
{
    cplx a = geo(z, zn, n);
    cplx b = geo(c_mul(z, zw), c_mul(zn, zwn), n);
    cplx c = geo(c_mul(z, c_conj(zw)), c_mul(zn, c_conj(zwn)), n);
    return (cplx){0.5 * a.re - 0.25 * (b.re + c.re), 0.5 * a.im - 0.25 * (b.im + c.im)};
}

/* ---- blocks ----------------------------------------------------------------- */

/* Start a block at the current frequency: sums to zero (trackers kept),
 * rotor and window at k = 0. */
static void block_start(klefr_dsp *d)
{
    klefr_dsp_sums *s = &d->s;
    *s = (klefr_dsp_sums){.dc_v = s->dc_v, .dc_i = s->dc_i};
    d->cycles = d->cyc_n = 0;
    d->wp = klefr_two_pi * d->freq_hz / KLEFR_FS_HZ;
    /* Steps per pair of samples: 2 w for the rotor, 2 w / 10 for the window. */
    double c = cos(2 * d->wp), sn = sin(2 * d->wp), cw = cos(2 * d->wp / KLEFR_BLOCK_CYCLES);
    d->zp[0] = c, d->zp[1] = sn;
    d->zw[0] = cw, d->zw[1] = sin(2 * d->wp / KLEFR_BLOCK_CYCLES);
    const double rot_one = (double)(1 << KLEFR_ROT_SHIFT), win_one = (double)(1 << KLEFR_WIN_SHIFT);
    d->rot2 = (int64_t)lround(2 * c * rot_one);
    s->rc = 1 << KLEFR_ROT_SHIFT;
    s->rc1 = (int32_t)lround(c * rot_one);
    s->rs = 0;
    s->rs1 = (int32_t)lround(-sn * rot_one);
    d->win2 = (int64_t)llround(2 * cw * win_one);
    s->wc = 1 << KLEFR_WIN_SHIFT;
    s->wc1 = (int32_t)lround(cw * win_one);
}

void klefr_dsp_init(klefr_dsp *d)
{
    memset(d, 0, sizeof *d);
    d->freq_hz = KLEFR_FN_HZ;
    block_start(d);
}

/* Fundamental phasors (codes, peak) of v and i in sums s of a block whose
 * rotor ran at d->wp, for a signal at wc rad/sample with residual DC mv, mi.
 * The correlation saw pairs x_2m + x_2m+1 = Re(X (1 + e^{j wc}) e^{j 2wc m})
 * + 2 m_dc, m < n / 2 (an odd last sample is left out: the window is ~0
 * there). */
static void fundamental(const klefr_dsp *d, const klefr_dsp_sums *s, double wc, double mv,
                        double mi, cplx *xv, cplx *xi)
{
    double n = (double)(s->n / 2), wp = 2 * d->wp, ww = wp / KLEFR_BLOCK_CYCLES;
    wc *= 2;
    mv *= 2;
    mi *= 2;
    cplx zp = {d->zp[0], d->zp[1]}, zw = {d->zw[0], d->zw[1]};
    cplx zpn = c_exp(wp * n), zwn = c_exp(ww * n);
    /* The block's own frequency is the rotor's give or take a little. */
    cplx zc = c_mul(zp, c_exp_small(wc - wp)), zcn = c_mul(zpn, c_exp_small((wc - wp) * n));
    /* C = (X/2) G(wc - wp) + (conj X / 2) G(-wc - wp) + m G(-wp) */
    cplx a = hann_geo(c_mul(zc, c_conj(zp)), c_mul(zcn, c_conj(zpn)), zw, zwn, n);
    cplx b = hann_geo(c_conj(c_mul(zc, zp)), c_conj(c_mul(zcn, zpn)), zw, zwn, n);
    cplx e = hann_geo(c_conj(zp), c_conj(zpn), zw, zwn, n);
    a = (cplx){a.re / 2, a.im / 2};
    b = (cplx){b.re / 2, b.im / 2};
    /* X a + conj(X) b = C': [Re(a+b) -Im(a-b); Im(a+b) Re(a-b)] [p q]' */
    double m00 = a.re + b.re, m01 = -(a.im - b.im), m10 = a.im + b.im, m11 = a.re - b.re;
    double det = m00 * m11 - m01 * m10;
    const double unit = 1.0 / (double)(1 << KLEFR_ROT_SHIFT);
    cplx cv = c_lin(unit, (cplx){(double)s->vre, -(double)s->vim}, -mv, e);
    cplx ci = c_lin(unit, (cplx){(double)s->ire, -(double)s->iim}, -mi, e);
    if (det == 0) {
        *xv = *xi = (cplx){0, 0};
        return;
    }
    cplx pv = {(cv.re * m11 - m01 * cv.im) / det, (m00 * cv.im - m10 * cv.re) / det};
    cplx pi = {(ci.re * m11 - m01 * ci.im) / det, (m00 * ci.im - m10 * ci.re) / det};
    /* Undo the pairing: divide by 1 + e^{j wc / 2} (same on both channels);
     * the half angle of zc (wc / 2 < pi / 2). */
    cplx h = {sqrt((1 + zc.re) / 2), 0};
    h.im = zc.im / (2 * h.re);
    h.re += 1;
    double h2 = h.re * h.re + h.im * h.im;
    *xv = (cplx){(pv.re * h.re + pv.im * h.im) / h2, (pv.im * h.re - pv.re * h.im) / h2};
    *xi = (cplx){(pi.re * h.re + pi.im * h.im) / h2, (pi.im * h.re - pi.re * h.im) / h2};
}

/* Block results from sums s, with DC (codes) mv, mi left in the samples. The
 * tracker's high-pass H = (1 - z^-1) / (1 - (1 - a) z^-1), a = 2^-14, has
 * |H|^2 = 1 / (1 - a) well above its 0.04 Hz corner: +0.006 % on every
 * product unless taken out (g). fit: solve the fundamental (else q_rate). */
static klefr_block measure(const klefr_dsp *d, const klefr_dsp_sums *s, double wc, double mv,
                           double mi, bool fit)
{
    klefr_block b = {.n = s->n};
    double n = (double)s->n;
    const double g = 1.0 - 1.0 / (double)(1 << KLEFR_DC_SHIFT);
    b.vv_raw = ((double)s->svv - 2 * mv * (double)s->sv + n * mv * mv) * g;
    b.ii_raw = ((double)s->sii - 2 * mi * (double)s->si + n * mi * mi) * g;
    b.p_raw = ((double)s->svi - mv * (double)s->si - mi * (double)s->sv + n * mv * mi) * g;
    /* DC at the ADC: what the trackers took off (their mean over the block:
     * they ripple with the integral of the signal) plus the rest. */
    double np = (double)(s->n / 2);
    const double sh = (double)(1 << KLEFR_DC_SHIFT);
    b.dc_v = (np > 0 ? (double)s->tv / np : (double)s->dc_v / sh) + (n > 0 ? (double)s->sv / n : 0);
    b.dc_i = (np > 0 ? (double)s->ti / np : (double)s->dc_i / sh) + (n > 0 ? (double)s->si / n : 0);
    if (fit) {
        cplx xv, xi;
        fundamental(d, s, wc, mv, mi, &xv, &xi);
        b.q_raw = n * (xv.im * xi.re - xv.re * xi.im) / 2 * g; /* Im(V conj I) / 2 */
        b.p1_raw = n * (xv.re * xi.re + xv.im * xi.im) / 2 * g;
    } else {
        b.q_raw = d->q_rate * n;
        b.p1_raw = b.p_raw;
    }
    return b;
}

/* The fundamental of sums s is solved when they hold a cycle or more (a
 * window much shorter than a cycle tells nothing about it); else a piece
 * takes the reactive power of the last block. */
static bool fit_ok(const klefr_dsp *d, const klefr_dsp_sums *s)
{
    return (double)s->n * d->freq_hz >= KLEFR_FS_HZ;
}

/* Ends the block held in d; next_k is the absolute index of the first sample
 * after it, t_end_us that sample's time. span: crossing-to-crossing length of a
 * locked block in samples. */
static void block_end(klefr_meter *m, bool locked, double span, uint64_t next_k, uint64_t t_end_us)
{
    klefr_dsp *d = &m->metering.dsp;
    klefr_dsp_sums *s = &d->s;
    double n = (double)s->n;
    /* Means over whole cycles are the DC the tracker has not removed yet;
     * over a partial block they are not: use what the last block left. */
    double mv = locked ? (double)s->sv / n : d->res_v, mi = locked ? (double)s->si / n : d->res_i;
    double wc = d->wp;
    if (locked) {
        d->freq_hz = (double)KLEFR_BLOCK_CYCLES * KLEFR_FS_HZ / span;
        wc = klefr_two_pi * d->freq_hz / KLEFR_FS_HZ;
    }
    klefr_block b = measure(d, s, wc, mv, mi, fit_ok(d, s));
    b.locked = locked;
    b.freq_hz = locked ? d->freq_hz : 0.0;
    d->q_rate = n > 0 ? b.q_raw / n : 0.0;

    if (locked) {
        d->res_v = mv;
        d->res_i = mi;
        if (d->blocks < KLEFR_DC_SNAP_BLOCKS) {
            s->dc_v += (int64_t)(s->sv / (int64_t)s->n) * (1 << KLEFR_DC_SHIFT);
            s->dc_i += (int64_t)(s->si / (int64_t)s->n) * (1 << KLEFR_DC_SHIFT);
            d->res_v = d->res_i = 0;
        }
    }
    /* The power-up piece, now that the DC is known. */
    klefr_block first = {0};
    if (d->first.n && locked) {
        first = measure(d, &d->first, wc, mv, mi, false);
        first.partial = true;
    }
    d->blocks++;
    d->blk_k0 = next_k;
    block_start(d);
    if (first.n) { /* in time order, judged with the block that follows it */
        d->first.n = 0;
        klefr_metering_judge(m, &b);
        klefr_metering_block(m, &first, d->first_t_us);
    }
    klefr_metering_block(m, &b, t_end_us);
}

void klefr_dsp_flush(klefr_meter *m, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    /* DC the trackers left in the samples: per the last block; before the
     * first whole block, the means of the whole cycles since the first
     * crossing (the power-up piece is less than a cycle: its own means are
     * not its DC). */
    double mv = d->res_v, mi = d->res_i;
    if (d->first.n && d->cyc_n) {
        mv = (double)d->cyc_sv / d->cyc_n;
        mi = (double)d->cyc_si / d->cyc_n;
    }
    klefr_block b = {0};
    if (d->s.n) {
        /* A cycle or more: its own fundamental; less: the last block's rate. */
        b = measure(d, &d->s, d->wp, mv, mi, fit_ok(d, &d->s));
        b.partial = true;
        block_start(d);
    }
    if (d->first.n) {
        /* No whole block yet: the piece after the power-up piece gives it its
         * reactive rate and no-load judgement, as the first whole block would. */
        klefr_dsp_sums *f = &d->first;
        if (b.n) {
            d->q_rate = b.q_raw / (double)b.n;
            klefr_metering_judge(m, &b);
        }
        klefr_block first = measure(d, f, d->wp, mv, mi, false);
        first.partial = true;
        f->n = 0;
        klefr_metering_block(m, &first, d->first_t_us);
    }
    if (b.n)
        klefr_metering_block(m, &b, t_us);
}

/* A rising crossing between sample kidx-1 (prev < 0) and kidx (x >= 0). */
static void crossing(klefr_meter *m, int32_t prev, int32_t x, uint64_t kidx, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    double f = (double)prev / ((double)prev - (double)x); /* in (0, 1] */
    double pos = (double)(kidx - 1 - d->blk_k0) + f;
    if (!d->locked) {
        /* First crossing: close the unlocked block, lock from here. The
         * power-up piece waits for the first whole block's DC. */
        if (d->s.n && d->blocks == 0) {
            d->first = d->s;
            d->first_t_us = t_us;
            d->blk_k0 = kidx;
            block_start(d);
        } else if (d->s.n) {
            block_end(m, false, 0.0, kidx, t_us);
        }
        d->locked = true;
        d->x_start = f - 1.0;
        return;
    }
    if (++d->cycles < KLEFR_BLOCK_CYCLES) {
        d->cyc_n = (uint32_t)d->s.n; /* whole cycles so far: their means are the DC */
        d->cyc_sv = d->s.sv;
        d->cyc_si = d->s.si;
        return;
    }
    block_end(m, true, pos - d->x_start, kidx, t_us);
    d->x_start = f - 1.0;
}

void klefr_dsp_run(klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    klefr_dsp_sums s = d->s; /* a local copy the compiler keeps in registers */
    int64_t rot2 = d->rot2, win2 = d->win2;
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
                rot2 = d->rot2;
                win2 = d->win2;
            }
        } else if (x < -KLEFR_ZC_HYST) {
            armed = true;
        }
        prev = x;
        s.svv += (int64_t)x * x;
        s.sii += (int64_t)y * y;
        s.svi += (int64_t)x * y;
        s.sv += x;
        s.si += y;
        if (!(s.n & 1)) {
            s.xh = x, s.yh = y;
        } else {
            /* Fundamental, per pair: Hann-windowed correlation with the rotor. */
            int64_t x2 = (int64_t)s.xh + x, y2 = (int64_t)s.yh + y;
            s.tv += v[j] - x;
            s.ti += i[j] - y;
            int64_t w2 = (1ll << KLEFR_WIN_SHIFT) - s.wc; /* 2 x window, Q30 */
            int32_t xw = (int32_t)((x2 * w2 + (1ll << KLEFR_WIN_SHIFT)) >> (KLEFR_WIN_SHIFT + 1));
            int32_t yw = (int32_t)((y2 * w2 + (1ll << KLEFR_WIN_SHIFT)) >> (KLEFR_WIN_SHIFT + 1));
            s.vre += (int64_t)xw * s.rc;
            s.vim += (int64_t)xw * s.rs;
            s.ire += (int64_t)yw * s.rc;
            s.iim += (int64_t)yw * s.rs;
            int32_t rc =
                (int32_t)((rot2 * s.rc + (1 << (KLEFR_ROT_SHIFT - 1))) >> KLEFR_ROT_SHIFT) - s.rc1;
            int32_t rs =
                (int32_t)((rot2 * s.rs + (1 << (KLEFR_ROT_SHIFT - 1))) >> KLEFR_ROT_SHIFT) - s.rs1;
            int32_t wc =
                (int32_t)((win2 * s.wc + (1 << (KLEFR_WIN_SHIFT - 1))) >> KLEFR_WIN_SHIFT) - s.wc1;
            s.rc1 = s.rc, s.rc = rc;
            s.rs1 = s.rs, s.rs = rs;
            s.wc1 = s.wc, s.wc = wc;
        }
        if (++s.n >= KLEFR_BLOCK_MAX) {
            /* No crossings for too long (no voltage): end an unlocked block. */
            d->s = s;
            d->locked = false;
            block_end(m, false, 0.0, d->k + j + 1, t_us + (uint64_t)(j + 1) * KLEFR_TS_US);
            s = d->s;
            rot2 = d->rot2;
            win2 = d->win2;
        }
    }
    d->s = s;
    d->prev_v = prev;
    d->armed = armed;
    d->k += n;
}
