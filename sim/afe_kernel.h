/* The synthetic generator's inner loop: one segment of ADC codes from the
 * components' phasors, in shapes the compiler vectorises. */
#ifndef KLEFR_SIM_AFE_KERNEL_H
#define KLEFR_SIM_AFE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* Samples per segment (the generator starts each from the exact phase):
 * eight of the simulator's 10 ms slices, so a slice is read in place. */
#define KLEFR_SEG 320u
/* Samples per row: a component is b_q e^{j h r dtheta}, r < KLEFR_SEG_ROW. */
#define KLEFR_SEG_ROW 32u
#define KLEFR_SEG_COMP 9u /* fundamental + KLEFR_MAX_HARMONICS */

typedef struct {
    unsigned ncomp;
    /* Per component: its code phasors at the segment's first sample on each
     * channel (sample k = Re(b e^{j h k dtheta})), the row's phase steps
     * e^{j h r dtheta} (r < KLEFR_SEG_ROW) and the step from row to row
     * e^{j h KLEFR_SEG_ROW dtheta}. */
    double bv[KLEFR_SEG_COMP][2], bi[KLEFR_SEG_COMP][2];
    float er[KLEFR_SEG_COMP][KLEFR_SEG_ROW], ei[KLEFR_SEG_COMP][KLEFR_SEG_ROW];
    /* Component 0's steps split: a head on a 2^-12 grid and the rest
     * (klefr_seg_steps(): its head products are exact in float). */
    float er_hi[KLEFR_SEG_ROW], ei_hi[KLEFR_SEG_ROW], er_lo[KLEFR_SEG_ROW], ei_lo[KLEFR_SEG_ROW];
    double row[KLEFR_SEG_COMP][2];
    double dc_v, dc_i;              /* codes */
    double nv, ni;                  /* noise: codes per unit of the table */
    const float *noise_v, *noise_i; /* KLEFR_SEG unit-rms values (|x| <= 8) each, or NULL */
} klefr_seg_in;

/* Sets component c's phase steps for a phase step of w radians a sample:
 * er, ei, the row step and (c == 0) the split tables. */
void klefr_seg_steps(klefr_seg_in *g, unsigned c, double w);

/* KLEFR_SEG codes of each channel; when clip is not NULL, clip[k] tells
 * which of sample k's went past full scale (bit 0: v, bit 1: i). The same
 * codes for every vector width (no reassociation, products fused by fmaf
 * only: each sample's sum in the same order). */
void klefr_synth_segment(const klefr_seg_in *g, int32_t *v, int32_t *i, uint8_t *clip);

#endif
