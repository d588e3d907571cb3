/* Truth accumulation of the analog front end (afe.h, afe_truth.h). */
#include "afe_truth.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#include "klefr/config.h"

#define TWO_PI 6.283185307179586
/* An interval closes after this long without a rising crossing (no voltage). */
#define TRUTH_MAX_INTERVAL_S 0.1

void klefr_truth_commit(klefr_truth_acc *a)
{
    if (a->pend_j >= 0)
        a->fwd_j += a->pend_j;
    else
        a->rev_j -= a->pend_j;
    if (a->pend_qs >= 0)
        a->qfwd_s += a->pend_qs;
    else
        a->qrev_s -= a->pend_qs;
    a->pend_j = a->pend_qs = 0;
}

/* ---- sampled streams ------------------------------------------------------ */

static void corr_reset(klefr_stream_truth *t)
{
    t->rot_re = 1.0;
    t->rot_im = 0.0;
    t->cv_re = t->cv_im = t->ci_re = t->ci_im = t->sv = t->si = 0.0;
    t->step_re = cos(t->wp);
    t->step_im = -sin(t->wp);
}

void klefr_stream_truth_init(klefr_stream_truth *t, double fs)
{
    memset(t, 0, sizeof *t);
    t->fs = fs;
    t->dt = 1.0 / fs;
    t->x0 = -1.0;
    t->hyst = 1e-6;
    t->wp = TWO_PI * KLEFR_FN_HZ / fs;
    corr_reset(t);
}

/* sum_{k<m} e^{j phi k} */
static double complex geo(double phi, double m)
{
    double complex d = 1.0 - cexp(I * phi);
    if (cabs(d) < 1e-12)
        return m;
    return (1.0 - cexp(I * phi * m)) / d;
}

/* Fit x_k = Re(X e^{j wc k}) + D (k = 0..m-1) to the correlation C at wp and
 * the sum S, for two signals at once (same matrix). */
static void fit2(double wc, double wp, double m, const double complex C[2], const double S[2],
                 double complex X[2])
{
    double complex A = geo(wc - wp, m), B = geo(-(wc + wp), m), E = geo(-wp, m),
                   Ec = geo(wc, m);
    /* unknowns p = Re X, q = Im X, D */
    double M[3][3] = {
        {0.5 * creal(A + B), -0.5 * cimag(A - B), creal(E)},
        {0.5 * cimag(A + B), 0.5 * creal(A - B), cimag(E)},
        {creal(Ec), -cimag(Ec), m},
    };
    double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                 M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                 M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
    for (int c = 0; c < 2; c++) {
        double r[3] = {creal(C[c]), cimag(C[c]), S[c]};
        if (fabs(det) < 1e-300) {
            X[c] = 0;
            continue;
        }
        /* Cramer for p and q. */
        double dp = r[0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                    M[0][1] * (r[1] * M[2][2] - M[1][2] * r[2]) +
                    M[0][2] * (r[1] * M[2][1] - M[1][1] * r[2]);
        double dq = M[0][0] * (r[1] * M[2][2] - M[1][2] * r[2]) -
                    r[0] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                    M[0][2] * (M[1][0] * r[2] - r[1] * M[2][0]);
        X[c] = dp / det + I * (dq / det);
    }
}

/* Close the interval of samples n0..n-1; x_end = interpolated crossing that
 * ends it, or < 0 when it ends without one. */
static void interval_close(klefr_stream_truth *t, double x_end)
{
    double m = (double)(t->n - t->n0);
    double dur = m * t->dt;
    bool cycle = t->x0 >= 0 && x_end >= 0 && x_end > t->x0;
    if (cycle) {
        double wc = TWO_PI / (x_end - t->x0);
        double complex C[2] = {t->cv_re + I * t->cv_im, t->ci_re + I * t->ci_im}, X[2];
        double S[2] = {t->sv, t->si};
        fit2(wc, t->wp, m, C, S, X);
        t->q_var = 0.5 * cimag(X[0] * conj(X[1]));
        t->have_q = true;
        t->acc.pend_qs += t->q_var * (dur + t->owed_s);
        t->owed_s = 0;
        t->wp = wc;
    } else if (x_end < 0) {
        t->have_q = false; /* no voltage cycle: no fundamental */
    } else if (t->n0 == 0) {
        t->owed_s += dur; /* the partial interval before the first crossing */
    }
    t->last_j = t->acc.pend_j;
    klefr_truth_commit(&t->acc);
    t->n0 = t->n;
    t->x0 = x_end;
    t->hyst = t->peak > 0 ? 0.05 * t->peak : 1e-6;
    t->peak = 0;
    corr_reset(t);
}

void klefr_stream_truth_add(klefr_stream_truth *t, double v, double i)
{
    if (v >= 0) {
        if (t->armed) {
            t->armed = false;
            double f = t->prev_v / (t->prev_v - v); /* in (0, 1] */
            interval_close(t, (double)(t->n - 1) + f);
        }
    } else if (v < -t->hyst) {
        t->armed = true;
    }
    if ((double)(t->n - t->n0) >= TRUTH_MAX_INTERVAL_S * t->fs) {
        interval_close(t, -1.0);
        t->armed = false;
    }
    t->prev_v = v;
    double a = fabs(v);
    if (a > t->peak)
        t->peak = a;
    t->acc.pend_j += v * i * t->dt;
    t->cv_re += v * t->rot_re;
    t->cv_im += v * t->rot_im;
    t->ci_re += i * t->rot_re;
    t->ci_im += i * t->rot_im;
    t->sv += v;
    t->si += i;
    double r = t->rot_re * t->step_re - t->rot_im * t->step_im;
    t->rot_im = t->rot_re * t->step_im + t->rot_im * t->step_re;
    t->rot_re = r;
    t->n++;
}

void klefr_stream_truth_publish(const klefr_stream_truth *t, uint64_t samples,
                                klefr_afe_truth *out)
{
    /* The cycle in progress: its reactive energy at the last cycle's rate. */
    double extra = t->have_q ? t->q_var * ((double)(t->n - t->n0) * t->dt + t->owed_s) : 0.0;
    klefr_truth_publish(&t->acc, extra, t->last_j, t->q_var, samples, out);
}
