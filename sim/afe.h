/* Analog front end sources: something that fills ADC sample blocks, and
 * knows the true energy of the signal it put at the meter's terminals.
 *
 * The truth (klefr_afe_truth) is what a reference meter on a test bench
 * would read at the terminals, computed by the source from the signal it
 * produced before the meter's anti-alias filter, ADC quantisation and
 * clipping (synthesis: exactly, from the load's phasors; replay: from the
 * recording's own samples). klefr_afe_truth_now() gives it for exactly the
 * samples filled so far (t = 0 .. samples / KLEFR_FS_HZ); a source may work
 * out the cycle in progress only when asked (truth_sync), so read it through
 * that function:
 *
 * - act_fwd_wh / act_rev_wh: the integral of v*i, split by direction per
 *   fundamental cycle of the voltage: each cycle's net energy goes to forward
 *   when >= 0, else to reverse. Cycles run from one rising zero crossing of
 *   the voltage fundamental (synthesis) or of the recorded voltage (replay) to
 *   the next; with no crossing for 0.1 s (no voltage, DC) an interval closes
 *   anyway. The cycle in progress is split by its net energy so far, so the
 *   published values always add up to everything produced.
 * - react_fwd_varh / react_rev_varh: the fundamental reactive energy
 *   (V1 I1 sin phi1 integrated, IEC 62053-24 style; positive = inductive, the
 *   current lagging), split the same way by the sign of each cycle's value.
 *   Harmonic and DC products contribute nothing.
 * - seconds, samples: the span covered (samples * KLEFR_TS_US).
 *
 * Noise and offsets of the ADC model are not part of the truth (they are the
 * meter's, not the load's); a DC component of the load is (synthesis: dc_v *
 * dc_i counts as active energy). Per-cycle splitting makes the directional
 * registers of a load whose instantaneous power changes sign within a cycle
 * (any reactive load) read only the net, as a meter's do. With
 * interharmonics (sub-harmonics, burst firing) a single cycle's fundamental
 * is not well defined: the net reactive energy is right over whole periods
 * of the combined signal, the per-direction split may then show small
 * amounts on both sides. docs/metering.md has the details.
 *
 * clipped counts ADC samples (each channel separately) that hit the ADC's
 * full scale, for every source; clipped_i is the current channel's share. */
#ifndef KLEFR_SIM_AFE_H
#define KLEFR_SIM_AFE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double act_fwd_wh, act_rev_wh;         /* integral of v*i at the terminals, Wh */
    double react_fwd_varh, react_rev_varh; /* fundamental reactive energy, varh */
    double seconds;                        /* span covered = samples / KLEFR_FS_HZ */
    uint64_t samples;                      /* ADC samples (per channel) filled */
} klefr_afe_truth;

typedef struct klefr_afe {
    /* Fill n ADC codes of each channel at KLEFR_FS_HZ. Returns how many were
     * filled: fewer than n only when a recording has ended. */
    size_t (*fill)(struct klefr_afe *self, int32_t *v, int32_t *i, size_t n);
    /* Optional (NULL: fill only): the next n codes of each channel without a
     * copy, when the source holds them in one piece: *v, *i point into its
     * own buffers and stay valid until its next call. Returns n, or 0 (and
     * hands out nothing) when it cannot: then fill. */
    size_t (*take)(struct klefr_afe *self, const int32_t **v, const int32_t **i, size_t n);
    klefr_afe_truth truth; /* updated by fill() or, when set, truth_sync() */
    void (*truth_sync)(struct klefr_afe *self); /* brings truth up to date; NULL: it is */
    uint64_t clipped;      /* ADC samples (V and I counted apart) at full scale */
    uint64_t clipped_i;    /* of which current-channel samples */
} klefr_afe;

/* The truth up to the samples filled so far. */
static inline const klefr_afe_truth *klefr_afe_truth_now(klefr_afe *afe)
{
    if (afe->truth_sync)
        afe->truth_sync(afe);
    return &afe->truth;
}

#endif
