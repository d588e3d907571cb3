/* The analog front end's truth (sim/afe.h): the energy of the signal each
 * source produced, against integrals the test computes itself (Simpson's
 * rule over the analytic waveform, or the closed form). */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afe_replay.h"
#include "afe_synth.h"
#include "klefr/config.h"

#define DEG (M_PI / 180.0)

static klefr_synth S;

/* Terminal signal of a load at phase th of its fundamental (the synth's
 * convention: cos, v peak at th = 0, current lagging by phi). */
static void load_at(const klefr_load *l, double th, double *v, double *i)
{
    *v = l->dc_v + sqrt(2) * l->v_rms * cos(th);
    *i = l->dc_i + sqrt(2) * l->i_rms * cos(th - l->phi_deg * DEG);
    for (unsigned k = 0; k < l->n_harm; k++) {
        const klefr_harmonic *h = &l->harm[k];
        *v += sqrt(2) * l->v_rms * h->v_pct / 100 * cos(h->order * th + h->v_phase_deg * DEG);
        *i += sqrt(2) * l->i_rms * h->i_pct / 100 * cos(h->order * th + h->i_phase_deg * DEG);
    }
}

/* Integral of v*i (J) from phase th0 over t seconds at the load's frequency. */
static double simpson(const klefr_load *l, double th0, double t)
{
    const int n = 2000000;
    double h = t / n, w = 2 * M_PI * l->freq_hz, sum = 0;
    for (int k = 0; k <= n; k++) {
        double v, i;
        load_at(l, th0 + w * h * k, &v, &i);
        sum += v * i * (k == 0 || k == n ? 1 : k % 2 ? 4 : 2);
    }
    return sum * h / 3;
}

static void fill(klefr_afe *a, size_t n, size_t chunk)
{
    int32_t v[64], i[64];
    while (n) {
        size_t m = n < chunk ? n : chunk;
        ck_assert_uint_eq(a->fill(a, v, i, m), m);
        n -= m;
    }
}

static void near(double got, double want, double tol, const char *what)
{
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.9g, want %.9g (tol %.3g)", what, got, want,
                  tol);
}

START_TEST(synth_pf_half_inductive)
{
    klefr_load l = {.v_rms = 230, .i_rms = 10, .phi_deg = 60, .freq_hz = 50};
    klefr_synth_init(&S, &l, NULL);
    fill(&S.afe, 12000, 37); /* 3 s in odd pieces */
    const klefr_afe_truth *t = klefr_afe_truth_now(&S.afe);
    ck_assert_uint_eq(t->samples, 12000);
    near(t->seconds, 3.0, 1e-12, "seconds");
    near(t->act_fwd_wh, 1150.0 * 3 / 3600, 1e-9, "active");
    near(t->act_rev_wh, 0, 1e-12, "active rev");
    near(t->react_fwd_varh, 2300 * sin(60 * DEG) * 3 / 3600, 1e-9, "reactive");
    near(t->react_rev_varh, 0, 1e-12, "reactive rev");
}
END_TEST

/* Harmonics, DC and a span that ends mid-cycle: the ripple counts. */
START_TEST(synth_harmonics_dc_partial_cycle)
{
    klefr_load l = {.v_rms = 230, .i_rms = 7, .phi_deg = 25, .freq_hz = 49.7, .dc_v = 1.5,
                    .dc_i = 0.8, .n_harm = 3};
    l.harm[0] = (klefr_harmonic){.order = 3, .v_pct = 4, .v_phase_deg = 10, .i_pct = 30,
                                 .i_phase_deg = 70};
    l.harm[1] = (klefr_harmonic){.order = 5, .v_pct = 2, .i_pct = 20, .i_phase_deg = -40};
    l.harm[2] = (klefr_harmonic){.order = 2, .i_pct = 10};
    klefr_synth_init(&S, &l, NULL);
    size_t n = 4937; /* 1.23425 s, not whole cycles */
    fill(&S.afe, n, 64);
    double want = simpson(&l, 0, n / 4000.0) / 3600;
    near(klefr_afe_truth_now(&S.afe)->act_fwd_wh - klefr_afe_truth_now(&S.afe)->act_rev_wh, want, 1e-9 * fabs(want) + 1e-9,
         "net active");
    near(klefr_afe_truth_now(&S.afe)->act_rev_wh, 0, 1e-12, "no reverse");
    double q1 = 230 * 7 * sin(25 * DEG);
    near(klefr_afe_truth_now(&S.afe)->react_fwd_varh, q1 * n / 4000.0 / 3600, 1e-9, "fundamental reactive");
}
END_TEST

/* Export and capacitive: the other registers. Pure reactive at 45 Hz: the
 * instantaneous power changes sign twice a cycle, the net per cycle is 0. */
START_TEST(synth_directions)
{
    klefr_load l = {.v_rms = 230, .i_rms = 10, .phi_deg = -120, .freq_hz = 50};
    klefr_synth_init(&S, &l, NULL);
    fill(&S.afe, 8000, 40);
    near(klefr_afe_truth_now(&S.afe)->act_rev_wh, 1150.0 * 2 / 3600, 1e-9, "export");
    near(klefr_afe_truth_now(&S.afe)->act_fwd_wh, 0, 1e-12, "no import");
    near(klefr_afe_truth_now(&S.afe)->react_rev_varh, 2300 * sin(120 * DEG) * 2 / 3600, 1e-9, "capacitive");
    l = (klefr_load){.v_rms = 230, .i_rms = 10, .phi_deg = 90, .freq_hz = 45};
    klefr_synth_init(&S, &l, NULL);
    fill(&S.afe, 8000, 40);
    /* At most the ripple of the cycle in progress (V I / (2 w) = 4 J). */
    ck_assert_double_le(klefr_afe_truth_now(&S.afe)->act_fwd_wh + klefr_afe_truth_now(&S.afe)->act_rev_wh, 2300 / (2 * M_PI * 45) / 3600 * 1.01);
    near(klefr_afe_truth_now(&S.afe)->react_fwd_varh, 2300.0 * 2 / 3600, 1e-9, "pure reactive");
}
END_TEST

/* A load change mid-cycle (frequency, current, phase): the truth follows the
 * waveform piece by piece, with the phase continuous. */
START_TEST(synth_set_load)
{
    klefr_load a = {.v_rms = 230, .i_rms = 10, .phi_deg = 30, .freq_hz = 50};
    klefr_load b = {.v_rms = 220, .i_rms = 40, .phi_deg = -10, .freq_hz = 51.3, .n_harm = 1};
    b.harm[0] = (klefr_harmonic){.order = 7, .v_pct = 3, .i_pct = 25, .i_phase_deg = 45};
    klefr_synth_init(&S, &a, NULL);
    fill(&S.afe, 1013, 40);
    klefr_synth_set_load(&S, &b);
    fill(&S.afe, 2999, 40);
    double t1 = 1013 / 4000.0, t2 = 2999 / 4000.0;
    double th1 = 2 * M_PI * 50 * t1;
    double want = (simpson(&a, 0, t1) + simpson(&b, th1, t2)) / 3600;
    near(klefr_afe_truth_now(&S.afe)->act_fwd_wh, want, 1e-9 * want, "active");
    double q = (2300 * sin(30 * DEG) * t1 + 8800 * sin(-10 * DEG) * t2) / 3600;
    near(klefr_afe_truth_now(&S.afe)->react_fwd_varh - klefr_afe_truth_now(&S.afe)->react_rev_varh, q, 1e-9, "reactive net");
    ck_assert_uint_eq(klefr_afe_truth_now(&S.afe)->samples, 4012);
}
END_TEST

/* Clipping is counted for synthetic loads: every sample whose code would
 * pass full scale, channel by channel. */
START_TEST(synth_counts_clipped_samples)
{
    klefr_load l = {.v_rms = 230, .i_rms = 2, .freq_hz = 50};
    klefr_synth_init(&S, &l, NULL);
    fill(&S.afe, 4000, 40);
    ck_assert_uint_eq(S.afe.clipped, 0);
    double fs_i = KLEFR_I_FULL_SCALE_PEAK, want = 0;
    l.i_rms = fs_i / sqrt(2) * 1.2; /* peak 20 % over full scale */
    klefr_synth_init(&S, &l, NULL);
    fill(&S.afe, 4000, 40);
    for (int k = 0; k < 4000; k++) {
        double code = sqrt(2) * l.i_rms * cos(2 * M_PI * 50 * k / 4000.0) / fs_i * 8388608.0;
        want += code > 8388607.0 || code < -8388608.0;
    }
    ck_assert_double_eq_tol((double)S.afe.clipped, want, 2);
    ck_assert_uint_eq(S.afe.clipped_i, S.afe.clipped);
    /* The truth is the unclipped signal's. */
    near(klefr_afe_truth_now(&S.afe)->act_fwd_wh, 230 * l.i_rms / 3600, 1e-9, "truth above full scale");
}
END_TEST

/* afe.take hands out the very samples fill does (in place, across segment
 * boundaries and a load change), with the same clip counts and truth; it
 * refuses more than it can give in one piece and then hands out nothing. */
START_TEST(synth_take_is_fill)
{
    static klefr_synth T;
    klefr_load l = {.v_rms = 230, .i_rms = 300, .phi_deg = 25, .freq_hz = 50, .n_harm = 1,
                    .noise_v_rms = 0.2, .noise_i_rms = 0.01, .seed = 7, .dc_i = 0.3};
    l.harm[0] = (klefr_harmonic){.order = 3, .v_pct = 2, .i_pct = 30, .i_phase_deg = 40};
    klefr_synth_init(&S, &l, NULL);
    klefr_synth_init(&T, &l, NULL);
    ck_assert_ptr_nonnull(T.afe.take);
    const int32_t *tv = NULL, *ti = NULL;
    ck_assert_uint_eq(T.afe.take(&T.afe, &tv, &ti, KLEFR_SYNTH_LEAD + 1), 0);
    ck_assert_uint_eq(T.n, 0);
    static const size_t sizes[] = {40, 37, 64, 1, 40, 13, 40, 40, 63, 2};
    int32_t v[64], i[64];
    for (size_t k = 0, done = 0; k < 400; k++) {
        size_t m = sizes[k % (sizeof sizes / sizeof sizes[0])];
        if (k == 200) { /* a load change mid-segment, on both */
            l.i_rms = 20, l.freq_hz = 50.7;
            klefr_synth_set_load(&S, &l);
            klefr_synth_set_load(&T, &l);
        }
        ck_assert_uint_eq(S.afe.fill(&S.afe, v, i, m), m);
        ck_assert_uint_eq(T.afe.take(&T.afe, &tv, &ti, m), m);
        ck_assert_msg(!memcmp(v, tv, m * sizeof *v) && !memcmp(i, ti, m * sizeof *i),
                      "samples %zu..%zu differ", done, done + m);
        done += m;
    }
    ck_assert_uint_gt(S.afe.clipped_i, 0); /* the first load's peak passes full scale */
    ck_assert_uint_eq(T.afe.clipped, S.afe.clipped);
    ck_assert_uint_eq(T.afe.clipped_i, S.afe.clipped_i);
    ck_assert(!memcmp(klefr_afe_truth_now(&S.afe), klefr_afe_truth_now(&T.afe),
                      sizeof(klefr_afe_truth)));
}
END_TEST

/* Replay: the recording's own integral and fundamental reactive power. */
START_TEST(replay_truth)
{
    char dir[] = "/tmp/klefr-truth-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.csv", dir);
    FILE *f = fopen(path, "w");
    const double fs = 10000;
    for (int k = 0; k < 20000; k++) { /* 2 s at 10 kHz, 49.9 Hz, PF 0.8 capacitive + 3rd */
        double th = 2 * M_PI * 49.9 * k / fs;
        double v = 230 * sqrt(2) * sin(th);
        double i = 5 * sqrt(2) * (sin(th + 36.87 * DEG) + 0.3 * sin(3 * th + 1.0));
        fprintf(f, "%.9g,%.9g\n", v, i);
    }
    fclose(f);
    klefr_replay r;
    char err[256];
    klefr_replay_opts o = {.rate_hz = fs};
    ck_assert_msg(klefr_replay_open(&r, path, &o, err, sizeof err) == 0, "%s", err);
    int32_t v[40], i[40];
    size_t n = 0, got;
    while ((got = r.afe.fill(&r.afe, v, i, 40)) > 0)
        n += got;
    double t = n / 4000.0;
    near(klefr_afe_truth_now(&r.afe)->seconds, t, 1e-12, "seconds");
    double p = 230 * 5 * 0.8, q = -230 * 5 * 0.6;
    near(klefr_afe_truth_now(&r.afe)->act_fwd_wh, p * t / 3600, 1e-3 * p * t / 3600, "active");
    near(klefr_afe_truth_now(&r.afe)->react_rev_varh, -q * t / 3600, 1e-3 * -q * t / 3600, "reactive");
    near(klefr_afe_truth_now(&r.afe)->react_fwd_varh, 0, 1e-9, "no inductive");
    klefr_replay_close(&r);
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("afe-truth");
    TCase *tc = tcase_create("truth");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, synth_pf_half_inductive);
    tcase_add_test(tc, synth_harmonics_dc_partial_cycle);
    tcase_add_test(tc, synth_directions);
    tcase_add_test(tc, synth_set_load);
    tcase_add_test(tc, synth_counts_clipped_samples);
    tcase_add_test(tc, synth_take_is_fill);
    tcase_add_test(tc, replay_truth);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
