/* Per-sample metering DSP.
 *
 * Every sample of a block has the block's DC estimate taken off (whole
 * codes, fixed for the block; the estimate follows the block sums with a
 * time constant of 2^14 samples = 4 s: a fast high-pass would shift phase
 * and gain at 50 Hz), then v*v, i*i, v*i, v, i are summed in 64 bits. For
 * the fundamental, every two samples are added (a 2 kHz stream; the
 * anti-alias filter leaves nothing near 2 kHz to fold onto 50 Hz) and
 * correlated, Hann-windowed, with e^{-j 2w m} on both channels, window x
 * rotor read from a table. Rising voltage zero crossings with hysteresis
 * lock blocks to whole cycles:
 *
 *   v   /\    /\    /\         /\
 *      /  \  /  \  /  \  ...  /  \
 *   --x----\/----\/----\-----x----\--    x = interpolated rising crossing
 *     |<------- 10 cycles ------>|       = one block; the next starts here
 *
 * The loop is in two passes over the samples between events, both in shapes
 * a compiler vectorises (sums over runs of samples, no state carried from
 * one sample to the next): a search for the next crossing (the first sample
 * below the hysteresis, then the first at or above the DC: chunks of 8
 * samples judged by their extreme, a vector minimum or maximum, then the
 * chunk that holds the event sample by sample) and the sums up to it. Integer sums: exact, so the same samples give the
 * same registers whatever the vector width.
 *
 * At the block end (once per 200 ms, double arithmetic is fine there) the
 * residual DC is removed exactly with the block means, frequency comes from
 * the interpolated crossings, and the fundamental phasors V1, I1 are solved
 * from the correlations: the window (1 - cos(w k / 10)) / 2 spans ten
 * cycles of the table's frequency (within KLEFR_CORR_TOL of the measured
 * one), so every harmonic and the DC fall on its zeros, sub-harmonics and
 * interharmonics leak little (sidelobes fall as 1/f^3), and the exact model
 * x_k = Re(X e^{j wc k}) + m at this block's own frequency wc (not the
 * table's w) takes out the mismatch and the image of the fundamental:
 * Q1 = Im(V1 conj I1) / 2 is the fundamental reactive power (IEC 62053-24),
 * harmonic active power gives 0 var. No division and no float per sample. */
#include <math.h>
#include <string.h>

#include "klefr/meter.h"

#define KLEFR_DC_SHIFT 14       /* tracker time constant 2^14 samples */
#define KLEFR_ZC_HYST 131072    /* -7.8 V: arms the rising crossing detector */
#define KLEFR_BLOCK_CYCLES 10u  /* cycles per locked block */
#define KLEFR_BLOCK_MAX 2048u   /* samples: no crossings (no voltage) ends a block */
#define KLEFR_DC_SNAP_BLOCKS 4u /* first blocks set the trackers to the block mean */
#define KLEFR_CORR_SHIFT 26     /* window x rotor table in Q26 (sums stay in int64) */
/* The table is rebuilt when the frequency moves by more than this (relative):
 * a window 1e-4 longer or shorter than ten cycles lets a harmonic leak
 * about 2e-6 of its amplitude into the fundamental. */
#define KLEFR_CORR_TOL 1e-4

/* Host builds may define KLEFR_SIMD_CLONES as a function attribute that
 * compiles the per-sample loops for several vector widths (GCC's
 * target_clones); the MCU build leaves it empty. */
#ifndef KLEFR_SIMD_CLONES
#define KLEFR_SIMD_CLONES
#endif

static void settle(klefr_dsp *d);

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

/* The window x rotor table for frequency f (three-term recurrences in
 * double, rounded to Q26): once at power-up and when the frequency moves. */
static void table_build(klefr_dsp *d, double f)
{
    d->f_tab = f;
    d->wp = klefr_two_pi * f / KLEFR_FS_HZ;
    /* Steps per pair of samples: 2 w for the rotor, 2 w / 10 for the window. */
    double c = cos(2 * d->wp), sn = sin(2 * d->wp);
    double cw = cos(2 * d->wp / KLEFR_BLOCK_CYCLES), sw = sin(2 * d->wp / KLEFR_BLOCK_CYCLES);
    d->zp[0] = c, d->zp[1] = sn;
    d->zw[0] = cw, d->zw[1] = sw;
    const double half = 0.5 * (double)(1 << KLEFR_CORR_SHIFT);
    double rr = 1, ri = 0, wr = 1, wi = 0;
    for (unsigned m = 0; m < KLEFR_DSP_PAIRS; m++) {
        double w = half * (1 - wr);
        d->tc[m] = (int32_t)lrint(w * rr);
        d->ts[m] = (int32_t)lrint(w * ri);
        double t = rr * c - ri * sn;
        ri = rr * sn + ri * c;
        rr = t;
        t = wr * cw - wi * sw;
        wi = wr * sw + wi * cw;
        wr = t;
    }
}

/* Start a block: sums to zero, the DC estimate of the trackers, the table
 * at the current frequency. */
static void block_start(klefr_dsp *d)
{
    const int64_t half = 1ll << (KLEFR_DC_SHIFT - 1);
    d->s = (klefr_dsp_sums){.dv = (int32_t)((d->dc_v + half) >> KLEFR_DC_SHIFT),
                            .di = (int32_t)((d->dc_i + half) >> KLEFR_DC_SHIFT)};
    d->cycles = d->cyc_n = 0;
    if (fabs(d->freq_hz - d->f_tab) > KLEFR_CORR_TOL * d->freq_hz)
        table_build(d, d->freq_hz);
}

void klefr_dsp_init(klefr_dsp *d)
{
    memset(d, 0, sizeof *d);
    d->freq_hz = KLEFR_FN_HZ;
    d->zn[0].n = d->zn[1].n = -1; /* nothing cached */
    block_start(d);
}

/* Fundamental phasors (codes, peak) of v and i in sums s of a block whose
 * rotor ran at d->wp, for a signal at wc rad/sample with residual DC mv, mi.
 * The correlation saw pairs x_2m + x_2m+1 = Re(X (1 + e^{j wc}) e^{j 2wc m})
 * + 2 m_dc, m < n / 2 (an odd last sample is left out: the window is ~0
 * there). */
static void fundamental(klefr_dsp *d, const klefr_dsp_sums *s, double wc, double mv, double mi,
                        cplx *xv, cplx *xi)
{
    double n = (double)(s->n / 2), wp = 2 * d->wp, ww = wp / KLEFR_BLOCK_CYCLES;
    wc *= 2;
    mv *= 2;
    mi *= 2;
    cplx zp = {d->zp[0], d->zp[1]}, zw = {d->zw[0], d->zw[1]};
    /* e^{j wp n}, e^{j ww n}: the same values as last time for the same n */
    klefr_dsp_pow *zc_n = &d->zn[(s->n / 2) & 1u];
    if (zc_n->n != n || zc_n->wp != wp) {
        cplx a = c_exp(wp * n), b = c_exp(ww * n);
        zc_n->n = n, zc_n->wp = wp;
        zc_n->zpn[0] = a.re, zc_n->zpn[1] = a.im;
        zc_n->zwn[0] = b.re, zc_n->zwn[1] = b.im;
    }
    cplx zpn = {zc_n->zpn[0], zc_n->zpn[1]}, zwn = {zc_n->zwn[0], zc_n->zwn[1]};
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
    const double unit = 1.0 / (double)(1 << KLEFR_CORR_SHIFT);
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

/* Block results from sums s, with DC (codes) mv, mi left in the samples
 * (the block's DC estimate s->dv, s->di taken off). fit: solve the
 * fundamental (else q_rate). */
static klefr_block measure(klefr_dsp *d, const klefr_dsp_sums *s, double wc, double mv,
                           double mi, bool fit)
{
    klefr_block b = {.n = s->n, .span = s->n};
    double n = (double)s->n;
    b.vv_raw = (double)s->svv - 2 * mv * (double)s->sv + n * mv * mv;
    b.ii_raw = (double)s->sii - 2 * mi * (double)s->si + n * mi * mi;
    b.p_raw = (double)s->svi - mv * (double)s->si - mi * (double)s->sv + n * mv * mi;
    /* DC at the ADC: the block's estimate plus what it still missed. */
    b.dc_v = s->dv + (n > 0 ? (double)s->sv / n : 0);
    b.dc_i = s->di + (n > 0 ? (double)s->si / n : 0);
    if (fit) {
        cplx xv, xi;
        fundamental(d, s, wc, mv, mi, &xv, &xi);
        b.q_raw = n * (xv.im * xi.re - xv.re * xi.im) / 2; /* Im(V conj I) / 2 */
        b.p1_raw = n * (xv.re * xi.re + xv.im * xi.im) / 2;
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

/* The trackers follow the block: by its sum of x (what the per-sample
 * tracker would have moved, to first order); the first whole blocks set
 * them to the block's mean (power-up). */
static void dc_follow(klefr_dsp *d, const klefr_dsp_sums *s, bool locked)
{
    if (locked && s->n) {
        double n = (double)s->n;
        d->dc_est_v = s->dv + (double)s->sv / n;
        d->dc_est_i = s->di + (double)s->si / n;
        if (d->blocks < KLEFR_DC_SNAP_BLOCKS) {
            const double one = (double)(1 << KLEFR_DC_SHIFT);
            d->dc_v = llround(d->dc_est_v * one);
            d->dc_i = llround(d->dc_est_i * one);
            return;
        }
    }
    d->dc_v += s->sv;
    d->dc_i += s->si;
}

/* Ends the block held in d; next_k is the absolute index of the first sample
 * after it, t_end_us that sample's time. span: crossing-to-crossing length of a
 * locked block in samples. */
static void block_end(klefr_meter *m, bool locked, double span, double ib_end, uint64_t next_k,
                      uint64_t t_end_us)
{
    klefr_dsp *d = &m->metering.dsp;
    settle(d);
    klefr_dsp_sums *s = &d->s;
    double n = (double)s->n;
    /* Means over whole cycles are the DC the estimate has not removed; over a
     * partial block they are not: use what the last block left. */
    double mv = locked ? (double)s->sv / n : d->dc_est_v - s->dv;
    double mi = locked ? (double)s->si / n : d->dc_est_i - s->di;
    double wc = d->wp;
    if (locked) {
        d->freq_hz = (double)KLEFR_BLOCK_CYCLES * KLEFR_FS_HZ / span;
        wc = klefr_two_pi * d->freq_hz / KLEFR_FS_HZ;
    }
    klefr_block b = measure(d, s, wc, mv, mi, fit_ok(d, s));
    if (locked) {
        double ia = d->ib_start - s->di - mi, ib = ib_end - mi;
        b.span = span;
        b.ii_b = (ia * ia + ib * ib) / 2;
    }
    b.locked = locked;
    b.freq_hz = locked ? d->freq_hz : 0.0;
    d->q_rate = n > 0 ? b.q_raw / n : 0.0;
    /* The power-up piece, now that the DC is known (it had the same
     * estimate taken off as this block: the trackers move at block ends). */
    klefr_block first = {0};
    if (d->first.n && locked) {
        first = measure(d, &d->first, wc, mv, mi, false);
        first.partial = true;
    }
    dc_follow(d, s, locked);
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
    settle(d);
    klefr_dsp_sums *s = &d->s;
    /* DC the block's estimate left in the samples: per the last block; before
     * the first whole block, the means of the whole cycles since the first
     * crossing (the power-up piece is less than a cycle: its own means are
     * not its DC; it had the same estimate taken off). */
    double mv = d->dc_est_v - s->dv, mi = d->dc_est_i - s->di;
    if (d->first.n && d->cyc_n) {
        mv = (double)d->cyc_sv / d->cyc_n;
        mi = (double)d->cyc_si / d->cyc_n;
    }
    klefr_block b = {0};
    if (s->n) {
        /* A cycle or more: its own fundamental; less: the last block's rate. */
        b = measure(d, s, d->wp, mv, mi, fit_ok(d, s));
        b.partial = true;
        dc_follow(d, s, false);
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

/* A rising crossing between sample kidx-1 (prev < 0) and kidx (x >= 0);
 * iprev, iy: the current at those samples. */
static void crossing(klefr_meter *m, int32_t prev, int32_t x, int32_t iprev, int32_t iy,
                     uint64_t kidx, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    double f = (double)prev / ((double)prev - (double)x); /* in (0, 1] */
    double pos = (double)(kidx - 1 - d->blk_k0) + f;
    double ib = iprev + f * ((double)iy - iprev); /* DC-free, this block's estimate */
    double ib_raw = ib + d->s.di;
    if (!d->locked) {
        /* First crossing: close the unlocked block, lock from here. The
         * power-up piece waits for the first whole block's DC. */
        settle(d);
        if (d->s.n && d->blocks == 0) {
            d->first = d->s;
            d->first_t_us = t_us;
            d->blk_k0 = kidx;
            block_start(d);
        } else if (d->s.n) {
            block_end(m, false, 0.0, 0.0, kidx, t_us);
        }
        d->locked = true;
        d->x_start = f - 1.0;
        d->ib_start = ib_raw;
        return;
    }
    if (++d->cycles < KLEFR_BLOCK_CYCLES) {
        if (d->first.n) { /* no whole block yet: the whole cycles' means are its DC */
            settle(d);    /* (rare: the first block after power-up) */
            d->cyc_n = d->s.n;
            d->cyc_sv = d->s.sv;
            d->cyc_si = d->s.si;
        }
        return;
    }
    block_end(m, true, pos - d->x_start, ib, kidx, t_us);
    d->x_start = f - 1.0;
    d->ib_start = ib_raw;
}

/* ---- the per-sample passes --------------------------------------------------- */

/* First k < n with v[k] < thr, else n: by chunks of 8 samples, each judged
 * by its least sample (a vector minimum, no branch per sample), then the
 * one chunk that holds the event (or the last, short one) sample by sample
 * (a run is a slice or less, at most KLEFR_BLOCK_MAX, and most hold one
 * event or none). */
static inline size_t find_below(const int32_t *v, size_t n, int32_t thr)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        int32_t m = v[k];
        for (unsigned q = 1; q < 8; q++)
            m = v[k + q] < m ? v[k + q] : m;
        if (m < thr)
            break;
    }
    while (k < n && v[k] >= thr)
        k++;
    return k;
}

/* First k < n with v[k] >= thr, else n (chunks judged by their greatest).
 * Not folded with find_below behind a flag: that one compiled 7-9 % slower
 * on the full twin (same-CPU pairs, 2026-11-30). */
static inline size_t find_at_or_above(const int32_t *v, size_t n, int32_t thr)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        int32_t m = v[k];
        for (unsigned q = 1; q < 8; q++)
            m = v[k + q] > m ? v[k + q] : m;
        if (m >= thr)
            break;
    }
    while (k < n && v[k] < thr)
        k++;
    return k;
}

/* Adds samples v[0..n), i[0..n) to the sums s (pairs continue from s->n). */
KLEFR_SIMD_CLONES
static void sums_add(klefr_dsp_sums *restrict s, const int32_t *restrict tc,
                     const int32_t *restrict ts, const int32_t *restrict v,
                     const int32_t *restrict i, size_t n)
{
    const int32_t dv = s->dv, di = s->di;
    int64_t svv = s->svv, sii = s->sii, svi = s->svi, sv = s->sv, si = s->si;
    int64_t vre = s->vre, vim = s->vim, ire = s->ire, iim = s->iim;
    size_t j = 0;
    uint32_t k = s->n;
    if (n && (k & 1)) { /* the second sample of the pair in progress */
        int32_t x = v[0] - dv, y = i[0] - di;
        svv += (int64_t)x * x, sii += (int64_t)y * y, svi += (int64_t)x * y;
        sv += x, si += y;
        int32_t x2 = s->xh + x, y2 = s->yh + y, c = tc[k / 2], sn = ts[k / 2];
        vre += (int64_t)x2 * c, vim += (int64_t)x2 * sn;
        ire += (int64_t)y2 * c, iim += (int64_t)y2 * sn;
        j = 1, k++;
    }
    size_t np = (n - j) / 2;
    const int32_t *pv = v + j, *pi = i + j, *pc = tc + k / 2, *ps = ts + k / 2;
    for (size_t p = 0; p < np; p++) {
        int32_t x0 = pv[2 * p] - dv, x1 = pv[2 * p + 1] - dv;
        int32_t y0 = pi[2 * p] - di, y1 = pi[2 * p + 1] - di;
        svv += (int64_t)x0 * x0 + (int64_t)x1 * x1;
        sii += (int64_t)y0 * y0 + (int64_t)y1 * y1;
        svi += (int64_t)x0 * y0 + (int64_t)x1 * y1;
        int32_t x2 = x0 + x1, y2 = y0 + y1;
        sv += x2, si += y2;
        vre += (int64_t)x2 * pc[p], vim += (int64_t)x2 * ps[p];
        ire += (int64_t)y2 * pc[p], iim += (int64_t)y2 * ps[p];
    }
    j += 2 * np, k += 2 * (uint32_t)np;
    if (j < n) { /* the first sample of a pair */
        int32_t x = v[j] - dv, y = i[j] - di;
        svv += (int64_t)x * x, sii += (int64_t)y * y, svi += (int64_t)x * y;
        sv += x, si += y;
        s->xh = x, s->yh = y;
        k++;
    }
    s->svv = svv, s->sii = sii, s->svi = svi, s->sv = sv, s->si = si;
    s->vre = vre, s->vim = vim, s->ire = ire, s->iim = iim;
    s->n = k;
}

/* Sums the samples held back: before the sums of the block are read. */
static void settle(klefr_dsp *d)
{
    if (d->nbuf) {
        sums_add(&d->s, d->tc, d->ts, d->bv, d->bi, d->nbuf);
        d->nbuf = 0;
    }
}

/* Samples v, i [0, n) of the block in progress: held back while they are
 * few, summed with those held in one run when there are enough. */
static void feed(klefr_dsp *d, const int32_t *v, const int32_t *i, size_t n)
{
    if (d->nbuf + n < KLEFR_DSP_BUF) {
        memcpy(d->bv + d->nbuf, v, n * sizeof *v);
        memcpy(d->bi + d->nbuf, i, n * sizeof *i);
        d->nbuf += (uint32_t)n;
        return;
    }
    settle(d);
    sums_add(&d->s, d->tc, d->ts, v, i, n);
}

/* Compiled for each vector width too: the searches inline into it. */
KLEFR_SIMD_CLONES
void klefr_dsp_run(klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us)
{
    klefr_dsp *d = &m->metering.dsp;
    int32_t prev = d->prev_v, prev_i = d->prev_i; /* x, y of the sample before j */
    size_t j = 0;
    /* When the whole run will be held back, it is copied in one piece:
     * sample j then sits at bv[base + j] as long as no block end has summed
     * the buffer (nbuf == base + j); feed copies only after one. */
    bool held = d->nbuf + n < KLEFR_DSP_BUF;
    size_t base = d->nbuf;
    if (held) {
        memcpy(d->bv + base, v, n * sizeof *v);
        memcpy(d->bi + base, i, n * sizeof *i);
    }
    while (j < n) {
        /* Up to the next crossing, or the block's longest. */
        size_t room = KLEFR_BLOCK_MAX - d->s.n - d->nbuf, lim = n - j < room ? n : j + room;
        size_t k = j, e = lim;
        if (!d->armed) {
            k = j + find_below(v + j, lim - j, d->s.dv - KLEFR_ZC_HYST);
            if (k < lim)
                d->armed = true, k++;
        }
        if (d->armed)
            e = k + find_at_or_above(v + k, lim - k, d->s.dv);
        if (held && d->nbuf == base + j) /* already there */
            d->nbuf += (uint32_t)(e - j);
        else
            feed(d, v + j, i + j, e - j);
        if (e > j)
            prev = v[e - 1] - d->s.dv, prev_i = i[e - 1] - d->s.di;
        j = e;
        if (e < lim) {
            /* Rare (once a cycle): the crossing, maybe a block end. Most
             * (9 in 10) only count a cycle of a locked block. */
            d->armed = false;
            if (d->locked && d->cycles + 1 < KLEFR_BLOCK_CYCLES && !d->first.n)
                d->cycles++;
            else
                crossing(m, prev, v[e] - d->s.dv, prev_i, i[e] - d->s.di, d->k + e,
                         t_us + (uint64_t)e * KLEFR_TS_US);
        } else if (d->s.n + d->nbuf >= KLEFR_BLOCK_MAX) {
            /* No crossings for too long (no voltage): end an unlocked block. */
            d->locked = false;
            block_end(m, false, 0.0, 0.0, d->k + e, t_us + (uint64_t)e * KLEFR_TS_US);
        }
    }
    d->prev_v = prev, d->prev_i = prev_i;
    d->k += n;
}
