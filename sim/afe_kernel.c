/* The synthetic generator's inner loop (afe_kernel.h). A segment is rows of
 * KLEFR_SEG_ROW samples; in a row, component c is Re(b_q e^{j h r dtheta}):
 * two multiplies and a subtraction per sample and channel from the row's
 * phase steps e^{j h r dtheta} (a small table), no sample depending on the
 * one before. b_q goes from row to row by a complex multiply (8 steps a
 * segment from the exact phase: no rounding builds up). In the same pass over
 * a row: the components' sum, noise from a table, the ADC's clamp and
 * rounding, both channels (one pass per row, nothing stored in between). */
#include "afe_kernel.h"

#include <math.h>
#include <string.h>

#include "klefr/config.h"

/* Host builds compile this for several vector widths (meson.build). */
#ifndef KLEFR_SIMD_CLONES
#define KLEFR_SIMD_CLONES
#endif

#define ROW KLEFR_SEG_ROW

/* The segment code is written once and inlined for every count of
 * components (constants, so the loops over them unroll). */
#if defined(__GNUC__)
#define KLEFR_INLINE static inline __attribute__((always_inline))
#else
#define KLEFR_INLINE static inline
#endif

/* lrintf to an int: GCC vectorises its builtin (one conversion a vector). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_irintf)
#define KLEFR_IRINTF(f) __builtin_irintf(f)
#endif
#endif
#ifndef KLEFR_IRINTF
#define KLEFR_IRINTF(f) ((int32_t)lrintf(f))
#endif

static const float zeros[KLEFR_SEG];
/* The clamp's bounds, read once a segment through volatile: with them as
 * constants GCC folds the clamped samples' codes and turns the clamp into
 * branches, and the row loop no longer vectorises. */
static const volatile float adc_lim[2] = {(float)(KLEFR_ADC_FULL_SCALE - 1.0),
                                          (float)-KLEFR_ADC_FULL_SCALE};

/* The grid of component 0's head: its phasor on multiples of 2^12 (at most
 * 13 bits up to twice full scale), its steps on multiples of 2^-12 (13
 * bits), so a head product is an integer below 2^24: exact in float. */
#define HEAD_GRID 4096.0
#define HEAD_ROUND 0x1.8p+64 /* (b + this) - this: b to a multiple of 2^12 */

void klefr_seg_steps(klefr_seg_in *g, unsigned c, double w)
{
    g->row[c][0] = cos(w * ROW), g->row[c][1] = sin(w * ROW);
    for (unsigned r = 0; r < ROW; r++) {
        double er = cos(w * r), ei = sin(w * r);
        g->er[c][r] = (float)er, g->ei[c][r] = (float)ei;
        if (c == 0) {
            double hr = nearbyint(er * HEAD_GRID) / HEAD_GRID;
            double hi = nearbyint(ei * HEAD_GRID) / HEAD_GRID;
            g->er_hi[r] = (float)hr, g->ei_hi[r] = (float)hi;
            g->er_lo[r] = (float)(er - hr), g->ei_lo[r] = (float)(ei - hi);
        }
    }
}

/* The ADC's code for head + f, head an integer (exact in float), f the rest
 * (the other products, DC, noise): f rounded to the nearest integer, ties to
 * even (lrintf in the default rounding mode: one conversion instruction),
 * plus head, clamped to full scale when the segment can reach it (clamping
 * after rounding gives the same code: the bounds are integers). */
KLEFR_INLINE int32_t adc_code(int split, int clamp, float head, float f, int32_t hi, int32_t lo)
{
    int32_t x = KLEFR_IRINTF(f);
    if (split)
        x += (int32_t)head;
    if (clamp) {
        x = x < hi ? x : hi;
        x = x > lo ? x : lo;
    }
    return x;
}

/* The segment for nc components; clip NULL or not; the clamp on or off
 * (off only when no sample can come near full scale); component 0 of the
 * voltage (sv) and current (si) split or not. Called with nc, the flags and
 * the test of clip constant (the switches below), so the loop over
 * components unrolls into the loop over a row's samples, which vectorises:
 * each sample's sum is worked in the same order whatever the width, so the
 * codes do not depend on it. Products are added with fmaf (one rounding:
 * C99's exact definition, so every width and the library's fmaf give the
 * same float; one instruction where the CPU has FMA, which every x86-64
 * level from AVX2 up and every ARMv8 has).
 * The samples are worked in float (twice the lanes of double); the row
 * phasors go from row to row in double (from the segment's exact phasors:
 * nothing builds up) and are rounded to float once a row. Float's 24 bits
 * are short of a code's fraction at full scale, so component 0 (the
 * fundamental, the large one) of a channel that can reach 2^21 is split:
 * the product of its phasor's head (a multiple of 2^12) and its steps'
 * heads is exact, the rest is small. A code is within 1 LSB of the double
 * scheme's (tests/test_synth_kernel.c, docs/metering.md). */
KLEFR_INLINE void segment_nc(const klefr_seg_in *restrict g, const unsigned nc, const int sv,
                             const int si, const int clamp, int32_t *restrict v,
                             int32_t *restrict i, uint8_t *restrict clip,
                             const float *restrict nzv, const float *restrict nzi)
{
    const float hi = adc_lim[0], lo = adc_lim[1];
    const int32_t ihi = (int32_t)hi, ilo = (int32_t)lo;
    const float dcv = (float)g->dc_v, dci = (float)g->dc_i, nv = (float)g->nv, ni = (float)g->ni;
    double bv[KLEFR_SEG_COMP][2], bi[KLEFR_SEG_COMP][2];
    for (unsigned c = 0; c < nc; c++)
        bv[c][0] = g->bv[c][0], bv[c][1] = g->bv[c][1], bi[c][0] = g->bi[c][0],
        bi[c][1] = g->bi[c][1];
    for (unsigned q = 0; q < KLEFR_SEG; q += ROW) {
        /* this row's phasors in float (the second part negated: a sample is
         * re * er + (-im) * ei); a split component 0 as head + rest */
        float fv[KLEFR_SEG_COMP][2], fi[KLEFR_SEG_COMP][2], hv[2] = {0, 0}, hc[2] = {0, 0};
        for (unsigned c = 0; c < nc; c++)
            fv[c][0] = (float)bv[c][0], fv[c][1] = -(float)bv[c][1], fi[c][0] = (float)bi[c][0],
            fi[c][1] = -(float)bi[c][1];
        for (unsigned k = 0; k < 2; k++) {
            double h = (bv[0][k] + HEAD_ROUND) - HEAD_ROUND;
            float sg = k ? -1.0f : 1.0f;
            if (sv)
                hv[k] = sg * (float)h, fv[0][k] = sg * (float)(bv[0][k] - h);
            h = (bi[0][k] + HEAD_ROUND) - HEAD_ROUND;
            if (si)
                hc[k] = sg * (float)h, fi[0][k] = sg * (float)(bi[0][k] - h);
        }
        for (unsigned r = 0; r < ROW; r++) {
            /* DC and noise, then each component's two products, then the
             * split head's products with the steps' rest */
            float x = fmaf(nv, nzv[q + r], dcv), y = fmaf(ni, nzi[q + r], dci);
            for (unsigned c = 0; c < nc; c++) {
                x = fmaf(fv[c][1], g->ei[c][r], fmaf(fv[c][0], g->er[c][r], x));
                y = fmaf(fi[c][1], g->ei[c][r], fmaf(fi[c][0], g->er[c][r], y));
            }
            float xh = 0, yh = 0;
            if (sv) {
                xh = fmaf(hv[1], g->ei_hi[r], hv[0] * g->er_hi[r]); /* exact */
                x = fmaf(hv[1], g->ei_lo[r], fmaf(hv[0], g->er_lo[r], x));
            }
            if (si) {
                yh = fmaf(hc[1], g->ei_hi[r], hc[0] * g->er_hi[r]);
                y = fmaf(hc[1], g->ei_lo[r], fmaf(hc[0], g->er_lo[r], y));
            }
            if (clip)
                clip[q + r] = (uint8_t)(((x > hi - xh) | (x < lo - xh)) |
                                        ((y > hi - yh) | (y < lo - yh)) << 1);
            v[q + r] = adc_code(sv, clamp, xh, x, ihi, ilo);
            i[q + r] = adc_code(si, clamp, yh, y, ihi, ilo);
        }
        for (unsigned c = 0; c < nc; c++) { /* the next row's phasors */
            const double *st = g->row[c];
            double t = bv[c][0] * st[0] - bv[c][1] * st[1];
            bv[c][1] = bv[c][0] * st[1] + bv[c][1] * st[0];
            bv[c][0] = t;
            t = bi[c][0] * st[0] - bi[c][1] * st[1];
            bi[c][1] = bi[c][0] * st[1] + bi[c][1] * st[0];
            bi[c][0] = t;
        }
    }
}

/* A bound on a channel's samples (components, DC, noise up to 8 units). */
static double peak_bound(const double (*b)[2], unsigned nc, double dc, double n)
{
    double p = fabs(dc) + 8 * fabs(n);
    for (unsigned c = 0; c < nc; c++)
        p += fabs(b[c][0]) + fabs(b[c][1]);
    return p;
}

/* Below 2^21, float alone keeps a code within 1 LSB: no split needed. */
static int needs_split(double peak)
{
    return !(peak < 0x1p21);
}

/* Far enough below full scale (the float sum's error is a few units at most)
 * no code is clamped: the clamp and the clip flags can be left out. */
static int may_clamp(double peak)
{
    return !(peak < KLEFR_ADC_FULL_SCALE - 64.0);
}

/* One count of components: clamped (clip flags or not) or not, the four
 * splits. */
#define SEGMENT_CLIP(n, sv, si)                                                                    \
    (!clamp ? segment_nc(g, n, sv, si, 0, v, i, NULL, nzv, nzi)                                    \
     : clip ? segment_nc(g, n, sv, si, 1, v, i, clip, nzv, nzi)                                    \
            : segment_nc(g, n, sv, si, 1, v, i, NULL, nzv, nzi))
#define SEGMENT_SPLIT(n)                                                                           \
    (split == 0   ? SEGMENT_CLIP(n, 0, 0)                                                          \
     : split == 1 ? SEGMENT_CLIP(n, 1, 0)                                                          \
     : split == 2 ? SEGMENT_CLIP(n, 0, 1)                                                          \
                  : SEGMENT_CLIP(n, 1, 1))

KLEFR_SIMD_CLONES
void klefr_synth_segment(const klefr_seg_in *g, int32_t *restrict v, int32_t *restrict i,
                         uint8_t *restrict clip)
{
    const float *nzv = g->noise_v ? g->noise_v : zeros, *nzi = g->noise_i ? g->noise_i : zeros;
    const unsigned nc = g->ncomp - 1u < KLEFR_SEG_COMP ? g->ncomp : KLEFR_SEG_COMP;
    const double pv = peak_bound(g->bv, nc, g->dc_v, g->noise_v ? g->nv : 0),
                 pi = peak_bound(g->bi, nc, g->dc_i, g->noise_i ? g->ni : 0);
    const int split = needs_split(pv) | needs_split(pi) << 1;
    const int clamp = may_clamp(pv) | may_clamp(pi);
    if (!clamp && clip)
        memset(clip, 0, KLEFR_SEG);
    switch (nc) {
#define NC(n)                                                                                      \
    case n:                                                                                        \
        SEGMENT_SPLIT(n);                                                                          \
        break;
        NC(1) NC(2) NC(3) NC(4) NC(5) NC(6) NC(7) NC(8)
#undef NC
    default:
        SEGMENT_SPLIT(KLEFR_SEG_COMP);
        break;
    }
}
