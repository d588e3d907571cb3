/* Synthetic analog front end: a load described by its phasors, turned into
 * 24-bit ADC codes without calling sin() per sample. */
#ifndef KLEFR_SIM_AFE_SYNTH_H
#define KLEFR_SIM_AFE_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "afe.h"
#include "afe_kernel.h"
#include "afe_truth.h"

#define KLEFR_MAX_HARMONICS 8

/* Harmonic h: v_h(t) = sqrt2 V1 v_pct/100 cos(h wt + v_phase), likewise i_h
 * with i_pct of I1 and i_phase; phases are in the harmonic's own angle, from
 * the voltage fundamental's positive peak. P_h = V_h I_h cos(v_phase - i_phase),
 * Q_h = V_h I_h sin(v_phase - i_phase). */
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

/* Samples a take may ask for at most (afe.h; a slice is 40). */
#define KLEFR_SYNTH_LEAD 64u

typedef struct klefr_synth {
    klefr_afe afe; /* first: a klefr_synth * is a klefr_afe * */
    klefr_load load;
    klefr_adc_model adc;
    /* Generator state. Samples are made a segment (KLEFR_SEG) at a time into
     * buf_v, buf_i (afe_kernel.h): each component starts a segment from its
     * rotor e^{j h theta} and continues by a recurrence; the rotors go from
     * segment to segment by a complex multiply and are reset from the exact
     * phase every KLEFR_SYNTH_RESYNC segments and at every load change. */
    uint64_t n;          /* samples handed out */
    double theta;        /* fundamental phase at the segment's first sample, [0, 2pi) */
    double dtheta;       /* per sample */
    unsigned ncomp;      /* 1 + n_harm */
    double rot_re[1 + KLEFR_MAX_HARMONICS], rot_im[1 + KLEFR_MAX_HARMONICS];   /* at theta */
    double step_re[1 + KLEFR_MAX_HARMONICS], step_im[1 + KLEFR_MAX_HARMONICS]; /* e^{j h dtheta} */
    double seg_re[1 + KLEFR_MAX_HARMONICS], seg_im[1 + KLEFR_MAX_HARMONICS];   /* e^{j h SEG dtheta} */
    klefr_seg_in seg_in; /* the kernel's input: tables set with the load, phasors per segment */
    /* code = Re(c * rotor) = cr*re - ci*im, ADC gain and scaling folded in */
    double cv_re[1 + KLEFR_MAX_HARMONICS], cv_im[1 + KLEFR_MAX_HARMONICS];
    double ci_re[1 + KLEFR_MAX_HARMONICS], ci_im[1 + KLEFR_MAX_HARMONICS];
    double dc_v_code, dc_i_code;     /* DC offsets incl. ADC offset, codes */
    double noise_v_code, noise_i_code; /* noise rms, codes */
    uint64_t rng;                    /* xorshift64* state */
    bool may_clip;                   /* the load can exceed the ADC's full scale: count */
    /* The segment's codes at [KLEFR_SYNTH_LEAD, KLEFR_SYNTH_LEAD + KLEFR_SEG);
     * before it, the previous segment's last samples when a take spans the
     * two (afe.take: one piece without a copy of the whole). */
    int32_t buf_v[KLEFR_SYNTH_LEAD + KLEFR_SEG], buf_i[KLEFR_SYNTH_LEAD + KLEFR_SEG];
    uint8_t seg_clip[KLEFR_SEG];     /* when may_clip: which went past full scale */
    unsigned seg_pos;                /* handed out of it so far */
    unsigned seg_count;              /* segments since the rotors were reset */
    bool truth_stale;                /* afe.truth is behind the samples handed out */

    /* Truth (afe.h), exact: the terminal signal is v = Dv + sum Re(a_c e^{j h_c th}),
     * i = Di + sum Re(b_c e^{j h_c th}) (th = fundamental phase, rotors as above).
     * Energy from th1 to th2 = (P (th2 - th1) + F(th2) - F(th1)) / w with P the
     * mean power and F the antiderivative of the ripple: F = sum Re(k1_c r_c)
     * + sum Re(kp_cd r_c r_d) + sum Re(km_cd r_c conj(r_d)) (h_c != h_d). */
    double tr_k1[1 + KLEFR_MAX_HARMONICS][2];
    double tr_kp[1 + KLEFR_MAX_HARMONICS][1 + KLEFR_MAX_HARMONICS][2];
    double tr_km[1 + KLEFR_MAX_HARMONICS][1 + KLEFR_MAX_HARMONICS][2];
    double tr_p, tr_q1;      /* mean power W, fundamental reactive var */
    double tr_p0;            /* instantaneous power when the frequency is 0 */
    double tr_fb;            /* F at a cycle boundary (rising zero crossing of the fundamental) */
    double tr_ph;            /* fundamental phase since the last boundary, rad */
    double tr_ph_ref, tr_f_ref; /* phase and F where the open interval was last rebased */
    uint64_t tr_idle;        /* samples since the last commit at frequency 0 */
    klefr_truth_acc tr;
} klefr_synth;

#define KLEFR_SYNTH_RESYNC 64u

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc);
/* Change the load from the next sample on, keeping the waveform continuous. */
void klefr_synth_set_load(klefr_synth *s, const klefr_load *load);

/* Analytic true values of a load (sum over harmonics). */
double klefr_load_active_w(const klefr_load *l);
double klefr_load_reactive_var(const klefr_load *l);

#endif
