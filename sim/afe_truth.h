/* The truth of an analog front end (afe.h): accumulation of the energy of the
 * signal a source produced, split by direction per fundamental cycle, and
 * the same for a uniformly sampled stream (replay: the recording's own
 * samples, before the anti-alias filter). */
#ifndef KLEFR_SIM_AFE_TRUTH_H
#define KLEFR_SIM_AFE_TRUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "afe.h"
#include "klefr/config.h"

/* Closed intervals by direction, and the interval in progress (net). */
typedef struct {
    double fwd_j, rev_j;    /* active, joules */
    double qfwd_s, qrev_s;  /* fundamental reactive, var*s */
    double pend_j, pend_qs; /* the interval in progress */
} klefr_truth_acc;

/* Close the interval in progress: its net energy goes to one side. */
void klefr_truth_commit(klefr_truth_acc *a);

/* Publish a's totals for samples ADC samples into t. The open interval (plus
 * extra_qs of reactive energy known only approximately) counts on the side
 * the hints say (the sign of the last whole cycle, or of the load's mean
 * power), unless that would make the side negative: then by its own sign. */
static inline void klefr_truth_put_(double *a, double *b, double x, double hint)
{
    if (hint >= 0 ? *a + x >= 0 : *b - x < 0)
        *a += x;
    else
        *b -= x;
}

static inline void klefr_truth_publish(const klefr_truth_acc *a, double extra_qs, double hint_p,
                                       double hint_q, uint64_t samples, klefr_afe_truth *t)
{
    double fj = a->fwd_j, rj = a->rev_j, fq = a->qfwd_s, rq = a->qrev_s;
    klefr_truth_put_(&fj, &rj, a->pend_j, hint_p);
    klefr_truth_put_(&fq, &rq, a->pend_qs + extra_qs, hint_q);
    const double h = 1.0 / 3600.0;
    t->act_fwd_wh = fj * h;
    t->act_rev_wh = rj * h;
    t->react_fwd_varh = fq * h;
    t->react_rev_varh = rq * h;
    t->samples = samples;
    t->seconds = (double)samples * (1.0 / KLEFR_FS_HZ);
}

/* A uniformly sampled pair of signals (volts, amperes) at fs: integral of
 * v*i by rectangles, cycles between rising zero crossings of v (hysteresis
 * 5 % of the last interval's peak), fundamental of each whole cycle by a
 * least-squares fit of DC + a sine at the cycle's own frequency (exact for
 * the fundamental at any cycle length; the correlation runs at the previous
 * cycle's frequency and is corrected at the end). */
typedef struct {
    klefr_truth_acc acc;
    double fs, dt;
    uint64_t n;        /* samples taken */
    uint64_t n0;       /* first sample of the interval in progress */
    double x0;         /* position of the crossing that opened it; < 0: none */
    double prev_v;     /* last sample of v */
    bool armed;        /* v went below -hysteresis since the last crossing */
    double peak, hyst; /* |v| peak of the interval in progress; hysteresis in use */
    /* Correlation of the interval with e^{-j wp k}, k from its first sample. */
    double wp, step_re, step_im, rot_re, rot_im;
    double cv_re, cv_im, ci_re, ci_im, sv, si;
    double q_var;   /* fundamental reactive power of the last whole cycle */
    double last_j;  /* net active energy of the last closed interval */
    bool have_q;    /* q_var is known */
    double owed_s;  /* seconds of intervals whose reactive energy waits for a rate */
} klefr_stream_truth;

void klefr_stream_truth_init(klefr_stream_truth *t, double fs);
void klefr_stream_truth_add(klefr_stream_truth *t, double v, double i);
void klefr_stream_truth_publish(const klefr_stream_truth *t, uint64_t samples,
                                klefr_afe_truth *out);

#endif
