/* Synthetic analog front end: a load described by its phasors, turned into
 * 24-bit ADC codes without calling sin() per sample. */
#ifndef KLEFR_SIM_AFE_SYNTH_H
#define KLEFR_SIM_AFE_SYNTH_H

#include <stdint.h>

#include "afe.h"

#define KLEFR_MAX_HARMONICS 8

typedef struct {
    unsigned order;      /* 2..40 */
    double v_pct;        /* amplitude, % of the fundamental */
    double v_phase_deg;  /* phase relative to the fundamental's */
    double i_pct;
    double i_phase_deg;
} klefr_harmonic;

/* A load as seen at the terminals. */
typedef struct {
    double v_rms;         /* fundamental voltage, V */
    double i_rms;         /* fundamental current, A */
    double phi_deg;       /* current lags voltage by phi: +60 = PF 0.5 inductive,
                             -36.87 = PF 0.8 capacitive, 180 = export at PF 1 */
    double freq_hz;
    klefr_harmonic harm[KLEFR_MAX_HARMONICS];
    unsigned n_harm;
    double noise_v_rms;   /* white noise added, V rms */
    double noise_i_rms;   /* A rms */
    uint64_t seed;        /* noise seed: same seed, same samples */
    double dc_v;          /* DC offset, V */
    double dc_i;          /* A */
} klefr_load;

/* ADC model: gain errors (1.0 = nominal) and offsets in codes. */
typedef struct {
    double gain_v, gain_i;
    int32_t offset_v, offset_i;
} klefr_adc_model;

typedef struct klefr_synth {
    klefr_afe afe; /* first: a klefr_synth * is a klefr_afe * */
    klefr_load load;
    klefr_adc_model adc;
    /* TODO(metering): generator state (phasor recurrence, noise PRNG) */
    uint64_t n;
} klefr_synth;

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc);
/* Change the load from the next sample on, keeping the waveform continuous. */
void klefr_synth_set_load(klefr_synth *s, const klefr_load *load);

/* Analytic true values of a load (sum over harmonics). */
double klefr_load_active_w(const klefr_load *l);
double klefr_load_reactive_var(const klefr_load *l);

#endif
