/* The synthetic generator's inner loop (afe_kernel.h). A segment is rows of
 * KLEFR_SEG_ROW samples; in a row, component c is Re(b_q e^{j h r dtheta}):
 * two multiplies and a subtraction per sample and channel from the row's
 * phase steps e^{j h r dtheta} (a small table), no sample depending on the
 * one before. b_q goes from row to row by a complex multiply (8 steps a
 * segment from the exact phase: no rounding builds up). Then noise from a table, the ADC's clamp and
 * rounding. */
#include "afe_kernel.h"

#include "klefr/config.h"

/* Host builds compile this for several vector widths (meson.build). */
#ifndef KLEFR_SIMD_CLONES
#define KLEFR_SIMD_CLONES
#endif

#define ROW KLEFR_SEG_ROW

/* a[q + r] (+)= Re(b_q e^{j h r dtheta}), r < ROW, for the rows of one
 * component; b_q from row to row by a complex multiply. A row is long
 * enough (32) that the compiler vectorises the loop over it as a loop. */
static inline void rows(double *restrict a, const double *restrict er,
                        const double *restrict ei, double br, double bi, const double *step,
                        int add)
{
    for (unsigned q = 0; q < KLEFR_SEG; q += ROW) {
        double *restrict p = a + q;
        if (add)
            for (unsigned r = 0; r < ROW; r++)
                p[r] += br * er[r] - bi * ei[r];
        else
            for (unsigned r = 0; r < ROW; r++)
                p[r] = br * er[r] - bi * ei[r];
        double t = br * step[0] - bi * step[1];
        bi = br * step[1] + bi * step[0];
        br = t;
    }
}

static const float zeros[KLEFR_SEG];

/* out[k] = the ADC's code for a[k] + dc + n * noise[k]. */
static inline void adc(int32_t *restrict out, const double *restrict a, double dc, double n,
                       const float *restrict noise)
{
    const double hi = KLEFR_ADC_FULL_SCALE - 1.0, lo = -KLEFR_ADC_FULL_SCALE;
    for (unsigned k = 0; k < KLEFR_SEG; k++) {
        double x = a[k] + (dc + n * (double)noise[k]);
        x = x < hi ? x : hi;
        x = x > lo ? x : lo;
        out[k] = (int32_t)(x + KLEFR_ADC_FULL_SCALE + 0.5) - (int32_t)KLEFR_ADC_FULL_SCALE;
    }
}

KLEFR_SIMD_CLONES
void klefr_synth_segment(const klefr_seg_in *g, int32_t *restrict v, int32_t *restrict i,
                         uint8_t *restrict clip)
{
    double av[KLEFR_SEG], ai[KLEFR_SEG];
    for (unsigned c = 0; c < g->ncomp; c++) {
        rows(av, g->er[c], g->ei[c], g->bv[c][0], g->bv[c][1], g->row[c], c > 0);
        rows(ai, g->er[c], g->ei[c], g->bi[c][0], g->bi[c][1], g->row[c], c > 0);
    }
    /* Then, in one pass per channel: DC, noise, clamp and round half up
     * through a positive offset (x + 2^23 + 0.5 is in [0.5, 2^24): a
     * conversion to int32 truncates it exactly). */
    const double hi = KLEFR_ADC_FULL_SCALE - 1.0, lo = -KLEFR_ADC_FULL_SCALE;
    const float *nzv = g->noise_v ? g->noise_v : zeros, *nzi = g->noise_i ? g->noise_i : zeros;
    if (clip)
        for (unsigned k = 0; k < KLEFR_SEG; k++) {
            double x = av[k] + (g->dc_v + g->nv * (double)nzv[k]);
            double y = ai[k] + (g->dc_i + g->ni * (double)nzi[k]);
            clip[k] = (uint8_t)(((x > hi) | (x < lo)) | ((y > hi) | (y < lo)) << 1);
        }
    adc(v, av, g->dc_v, g->nv, nzv);
    adc(i, ai, g->dc_i, g->ni, nzi);
}
