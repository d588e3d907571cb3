/* The synthetic generator's inner loop (afe_kernel.h). A segment is rows of
 * KLEFR_SEG_ROW samples; in a row, component c is Re(b_q e^{j h r dtheta}):
 * two multiplies and a subtraction per sample and channel from the row's
 * phase steps e^{j h r dtheta} (a small table), no sample depending on the
 * one before. b_q goes from row to row by a complex multiply (8 steps a
 * segment from the exact phase: no rounding builds up). In the same pass over
 * a row: the components' sum, noise from a table, the ADC's clamp and
 * rounding, both channels (one pass per row, nothing stored in between). */
#include "afe_kernel.h"

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

static const float zeros[KLEFR_SEG];

/* The ADC's code for x + dc + n * noise: clamp, then round half up through
 * a positive offset (x + 2^23 + 0.5 is in [0.5, 2^24): a conversion to int32
 * truncates it exactly). */
KLEFR_INLINE int32_t adc_code(double a, double dc, double n, float noise)
{
    const double hi = KLEFR_ADC_FULL_SCALE - 1.0, lo = -KLEFR_ADC_FULL_SCALE;
    double x = a + (dc + n * (double)noise);
    x = x < hi ? x : hi;
    x = x > lo ? x : lo;
    return (int32_t)(x + KLEFR_ADC_FULL_SCALE + 0.5) - (int32_t)KLEFR_ADC_FULL_SCALE;
}

/* The segment for nc components; clip NULL or not. Called with nc and
 * the test of clip constant (the switch below), so the loop over components unrolls into the loop over a row's
 * samples, which vectorises: each sample's sum is added in component order
 * (c = 0 first), exactly as a pass per component would, so the codes do not
 * depend on the width. */
KLEFR_INLINE void segment_nc(const klefr_seg_in *restrict g, const unsigned nc,
                             int32_t *restrict v, int32_t *restrict i, uint8_t *restrict clip,
                             const float *restrict nzv, const float *restrict nzi)
{
    const double hi = KLEFR_ADC_FULL_SCALE - 1.0, lo = -KLEFR_ADC_FULL_SCALE;
    double bv[KLEFR_SEG_COMP][2], bi[KLEFR_SEG_COMP][2];
    for (unsigned c = 0; c < nc; c++)
        bv[c][0] = g->bv[c][0], bv[c][1] = g->bv[c][1], bi[c][0] = g->bi[c][0],
        bi[c][1] = g->bi[c][1];
    for (unsigned q = 0; q < KLEFR_SEG; q += ROW) {
        for (unsigned r = 0; r < ROW; r++) {
            double x = bv[0][0] * g->er[0][r] - bv[0][1] * g->ei[0][r];
            double y = bi[0][0] * g->er[0][r] - bi[0][1] * g->ei[0][r];
            for (unsigned c = 1; c < nc; c++) {
                x += bv[c][0] * g->er[c][r] - bv[c][1] * g->ei[c][r];
                y += bi[c][0] * g->er[c][r] - bi[c][1] * g->ei[c][r];
            }
            if (clip) {
                double xv = x + (g->dc_v + g->nv * (double)nzv[q + r]);
                double yi = y + (g->dc_i + g->ni * (double)nzi[q + r]);
                clip[q + r] = (uint8_t)(((xv > hi) | (xv < lo)) | ((yi > hi) | (yi < lo)) << 1);
            }
            v[q + r] = adc_code(x, g->dc_v, g->nv, nzv[q + r]);
            i[q + r] = adc_code(y, g->dc_i, g->ni, nzi[q + r]);
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

KLEFR_SIMD_CLONES
void klefr_synth_segment(const klefr_seg_in *g, int32_t *restrict v, int32_t *restrict i,
                         uint8_t *restrict clip)
{
    const float *nzv = g->noise_v ? g->noise_v : zeros, *nzi = g->noise_i ? g->noise_i : zeros;
    switch (g->ncomp) {
#define NC(n)                                                                                      \
    case n:                                                                                        \
        if (clip)                                                                                  \
            segment_nc(g, n, v, i, clip, nzv, nzi);                                                \
        else                                                                                       \
            segment_nc(g, n, v, i, NULL, nzv, nzi);                                                \
        break;
        NC(1) NC(2) NC(3) NC(4) NC(5) NC(6) NC(7) NC(8)
#undef NC
    default:
        if (clip)
            segment_nc(g, KLEFR_SEG_COMP, v, i, clip, nzv, nzi);
        else
            segment_nc(g, KLEFR_SEG_COMP, v, i, NULL, nzv, nzi);
        break;
    }
}
