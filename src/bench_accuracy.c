/* klefr-sim bench-accuracy (bench_accuracy.h): every point runs the whole
 * twin (AFE, sim loop, firmware) from power-up for a few simulated seconds,
 * stops it like a power cut (the meter folds the block in progress into its
 * registers) and compares the registers with the truth of the AFE (sim/afe.h),
 * the reference meter of this bench. Synthetic loads carry ADC noise and
 * offsets; the distorted currents of the influence tests (half-wave,
 * phase-fired, burst-fired) are periodic waveforms sampled at 50 kHz and
 * replayed through the front end's anti-alias filter. */
#include "bench_accuracy.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afe_replay.h"
#include "afe_synth.h"
#include "sim.h"

#define IB KLEFR_IB_A
#define IMAX KLEFR_IMAX_A
#define UN KLEFR_UN_V
#define PHI_05L 60.0
#define PHI_08C (-36.869897645844021)
#define WAVE_RATE 50000u

typedef enum { PF_1, PF_05L, PF_08C } pf_kind;
static const char *const pf_name[] = {"1", "0.5L", "0.8C"};
static const double pf_phi[] = {0, PHI_05L, PHI_08C};

/* One measured point. */
typedef struct {
    char name[64];
    char group[32];  /* "5.2", "influence", "starting", "no-load" */
    double i_a;      /* current (rms of the sine; of the reference sine for waveforms) */
    pf_kind pf;
    double registered_wh, truth_wh, error_pct;
    double registered_varh, truth_varh, reactive_error_pct; /* NAN: no reactive */
    double ref_error_pct, variation_pct; /* influence: at reference conditions, and the difference */
    double limit_pct;                    /* |error| (5.2) or |variation| (influence) allowed */
    double seconds;
    uint64_t led_pulses;
    bool pass;
    const char *note;
} point;

#define MAX_POINTS 64
static point pts[MAX_POINTS];
static int npts;

static klefr_sim sim;
static klefr_synth syn;
static klefr_replay rep;

typedef struct {
    double act_wh, react_varh; /* registered, net by direction */
    double truth_wh, truth_varh;
    uint64_t led;
} outcome;

/* Power up, run, cut the supply; registers against the AFE's truth. */
static outcome run_afe(klefr_afe *afe, double seconds)
{
    char err[128];
    outcome o = {0};
    if (klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, afe, NULL, err, sizeof err)) {
        fprintf(stderr, "klefr-sim: bench-accuracy: %s\n", err);
        exit(1);
    }
    klefr_sim_run_until(&sim, (uint64_t)llround(seconds * 1e6));
    klefr_sim_power(&sim, false);
    const klefr_regs *r = &sim.meter.regs;
    o.act_wh = ((double)klefr_act_fwd_uwh(r, -1) - (double)klefr_act_rev_uwh(r, -1)) / 1e6;
    o.react_varh = ((double)klefr_react_fwd_uvarh(r, -1) - (double)klefr_react_rev_uvarh(r, -1)) / 1e6;
    const klefr_afe_truth *tr = klefr_afe_truth_now(afe);
    o.truth_wh = tr->act_fwd_wh - tr->act_rev_wh;
    o.truth_varh = tr->react_fwd_varh - tr->react_rev_varh;
    o.led = sim.out.count[KLEFR_OUT_LED];
    return o;
}

/* A synthetic load as a bench source delivers it, with the ADC's noise and
 * offsets. */
static outcome run_load(klefr_load l, double seconds)
{
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1, .offset_v = 1500, .offset_i = -800};
    l.noise_v_rms = 0.1;
    l.noise_i_rms = 0.002;
    l.seed = 12345;
    klefr_synth_init(&syn, &l, &adc);
    return run_afe(&syn.afe, seconds);
}

static klefr_load sine(double v, double i, double phi, double f)
{
    return (klefr_load){.v_rms = v, .i_rms = i, .phi_deg = phi, .freq_hz = f};
}

static double err_pct(double got, double want)
{
    return want != 0 ? (got - want) / fabs(want) * 100 : NAN;
}

static point *add(const char *group, const char *name, double i, pf_kind pf, const outcome *o,
                  double seconds, double limit)
{
    point *p = &pts[npts++];
    *p = (point){.i_a = i, .pf = pf, .seconds = seconds, .limit_pct = limit};
    snprintf(p->group, sizeof p->group, "%s", group);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->registered_wh = o->act_wh;
    p->truth_wh = o->truth_wh;
    p->error_pct = err_pct(o->act_wh, o->truth_wh);
    p->registered_varh = o->react_varh;
    p->truth_varh = o->truth_varh;
    p->reactive_error_pct = fabs(o->truth_varh) > 1e-9 ? err_pct(o->react_varh, o->truth_varh) : NAN;
    p->ref_error_pct = p->variation_pct = NAN;
    p->led_pulses = o->led;
    p->pass = fabs(p->error_pct) <= limit;
    return p;
}

/* ---- the manual's 5.2 table --------------------------------------------------- */

static void basic_errors(double secs)
{
    static const double mult[] = {0.05, 0.1, 0.2, 0.5, 1, 2, 5, 0.5 * IMAX / IB, IMAX / IB};
    for (int pf = PF_1; pf <= PF_08C; pf++)
        for (unsigned k = 0; k < sizeof mult / sizeof mult[0]; k++) {
            double m = mult[k];
            /* 5.2: PF 1 from 0.05 Ib; PF 0.5L / 0.8C from 0.1 Ib. */
            if (pf != PF_1 && m < 0.1)
                continue;
            double limit = pf == PF_1 ? (m < 0.1 ? 1.5 : 1.0) : (m < 0.2 ? 1.5 : 1.0);
            char name[64];
            if (m == IMAX / IB)
                snprintf(name, sizeof name, "Imax PF %s", pf_name[pf]);
            else if (m == 0.5 * IMAX / IB)
                snprintf(name, sizeof name, "0.5 Imax PF %s", pf_name[pf]);
            else
                snprintf(name, sizeof name, "%g Ib PF %s", m, pf_name[pf]);
            outcome o = run_load(sine(UN, m * IB, pf_phi[pf], KLEFR_FN_HZ), secs);
            add("5.2", name, m * IB, (pf_kind)pf, &o, secs, limit);
        }
}

/* ---- influence tests -------------------------------------------------------------- */

/* The same current and PF at reference conditions (Un, 50 Hz, sine). */
static double reference_error(double i, pf_kind pf, double secs)
{
    outcome o = run_load(sine(UN, i, pf_phi[pf], KLEFR_FN_HZ), secs);
    return err_pct(o.act_wh, o.truth_wh);
}

static void influence(const char *name, double i, pf_kind pf, const outcome *o, double secs,
                      double limit, double ref_err, const char *note)
{
    point *p = add("influence", name, i, pf, o, secs, limit);
    p->ref_error_pct = ref_err;
    p->variation_pct = p->error_pct - ref_err;
    p->pass = fabs(p->variation_pct) <= limit;
    p->note = note;
}

/* A periodic current waveform at 50 kHz against a 230 V sine, n cycles a
 * period; gate(k_cycle, th) says whether the current of sin(th) flows. */
static outcome run_wave(double ipk, int cycles, bool (*gate)(int cycle, double th), double secs)
{
    size_t n = (size_t)cycles * WAVE_RATE / 50;
    double *v = malloc(n * sizeof *v), *i = malloc(n * sizeof *i);
    if (!v || !i) {
        fprintf(stderr, "klefr-sim: bench-accuracy: out of memory\n");
        exit(1);
    }
    for (size_t k = 0; k < n; k++) {
        double th = 2 * M_PI * 50.0 * (double)k / WAVE_RATE;
        int cycle = (int)(k / (WAVE_RATE / 50));
        double ph = fmod(th, 2 * M_PI);
        v[k] = UN * sqrt(2) * sin(th);
        i[k] = gate(cycle, ph) ? ipk * sin(th) : 0;
    }
    if (klefr_replay_open_periodic(&rep, v, i, n, WAVE_RATE) < 0) {
        fprintf(stderr, "klefr-sim: bench-accuracy: out of memory\n");
        exit(1);
    }
    free(v);
    free(i);
    outcome o = run_afe(&rep.afe, secs);
    klefr_replay_close(&rep);
    return o;
}

static bool half_wave(int cycle, double th)
{
    (void)cycle;
    return th < M_PI;
}

static bool phase_fired_90(int cycle, double th)
{
    (void)cycle;
    return fmod(th, M_PI) >= M_PI / 2;
}

static bool burst_2on_2off(int cycle, double th)
{
    (void)th;
    return cycle % 4 < 2;
}

static void influence_tests(double secs)
{
    /* Voltage and frequency at Ib, PF 1 and 0.5L. */
    for (int pf = PF_1; pf <= PF_05L; pf++) {
        double ref = reference_error(IB, (pf_kind)pf, secs);
        char name[64];
        static const double vs[] = {0.9, 1.1};
        for (int k = 0; k < 2; k++) {
            outcome o = run_load(sine(vs[k] * UN, IB, pf_phi[pf], KLEFR_FN_HZ), secs);
            snprintf(name, sizeof name, "voltage %g Un, Ib PF %s", vs[k], pf_name[pf]);
            influence(name, IB, (pf_kind)pf, &o, secs, pf == PF_1 ? 0.7 : 1.0, ref, NULL);
        }
        static const double fs[] = {49, 51};
        for (int k = 0; k < 2; k++) {
            outcome o = run_load(sine(UN, IB, pf_phi[pf], fs[k]), secs);
            snprintf(name, sizeof name, "frequency %g Hz, Ib PF %s", fs[k], pf_name[pf]);
            influence(name, IB, (pf_kind)pf, &o, secs, pf == PF_1 ? 0.5 : 0.7, ref, NULL);
        }
        static const double fw[] = {45, 55};
        for (int k = 0; k < 2; k++) {
            outcome o = run_load(sine(UN, IB, pf_phi[pf], fw[k]), secs);
            snprintf(name, sizeof name, "frequency %g Hz, Ib PF %s", fw[k], pf_name[pf]);
            influence(name, IB, (pf_kind)pf, &o, secs, 1.0, ref,
                      "manual 5: 50 Hz +-10 %; limit: the class B basic error");
        }
    }
    /* 5th harmonic: 10 % in V, 40 % in I, at 0.5 Imax PF 1. */
    {
        double i = 0.5 * IMAX, ref = reference_error(i, PF_1, secs);
        klefr_load l = sine(UN, i, 0, KLEFR_FN_HZ);
        l.n_harm = 1;
        l.harm[0] = (klefr_harmonic){.order = 5, .v_pct = 10, .i_pct = 40};
        outcome o = run_load(l, secs);
        influence("5th harmonic 10 % V / 40 % I, 0.5 Imax", i, PF_1, &o, secs, 0.8, ref, NULL);
    }
    /* DC and even harmonics: half-wave rectified, peak Imax (the half of a
     * sine of Imax / sqrt 2). Reference: that sine. */
    {
        double i = IMAX / sqrt(2), ref = reference_error(i, PF_1, secs);
        outcome o = run_wave(IMAX, 1, half_wave, secs);
        influence("DC and even harmonics: half-wave, Imax peak", i, PF_1, &o, secs, 3.0, ref,
                  "reference: the full sine of the same peak");
    }
    /* Odd harmonics: phase fired at 90 deg, peak of a 2 Ib sine. */
    {
        double i = 2 * IB, ref = reference_error(i, PF_1, secs);
        outcome o = run_wave(i * sqrt(2), 1, phase_fired_90, secs);
        influence("odd harmonics: phase-fired 90 deg, 2 Ib peak", i, PF_1, &o, secs, 3.0, ref,
                  "reference: the full sine of the same peak");
    }
    /* Sub-harmonics: burst firing, 2 cycles on, 2 off, peak of a 2 Ib sine. */
    {
        double i = 2 * IB, ref = reference_error(i, PF_1, secs);
        outcome o = run_wave(i * sqrt(2), 4, burst_2on_2off, secs);
        influence("sub-harmonics: burst 2 on / 2 off, 2 Ib peak", i, PF_1, &o, secs, 3.0, ref,
                  "reference: the full sine of the same peak");
    }
}

/* Starting: 0.004 Ib at PF 1 must register. No-load: 115 % Un, no current,
 * for 600e6 / (k m Un Imax) minutes (IEC 62053-21, class 1): at most one
 * pulse of the test output. */
static void starting_and_no_load(double secs)
{
    /* Long enough for a pulse of the test output (78 s at 4.6 W). */
    double i = 0.004 * IB, t = fmax(secs, 120);
    outcome o = run_load(sine(UN, i, 0, KLEFR_FN_HZ), t);
    point *p = add("starting", "starting current 0.004 Ib PF 1", i, PF_1, &o, t, 1.5);
    p->note = "registers, pulses; limit shown: the 0.05 Ib error";
    p->pass = o.led >= 1 && fabs(p->error_pct) <= 1.5;

    double minutes = 600e6 / ((double)KLEFR_LED_IMP_PER_KWH * 1 * UN * IMAX);
    double s = ceil(minutes * 60);
    klefr_load l = sine(1.15 * UN, 0, 0, KLEFR_FN_HZ);
    o = run_load(l, s);
    p = add("no-load", "no-load 1.15 Un, no current", 0, PF_1, &o, s, 0);
    p->error_pct = NAN;
    p->note = "at most 1 LED pulse";
    p->pass = o.led <= 1;
}

/* ---- output ----------------------------------------------------------------------- */

static const char *fmt_pct(char *b, size_t n, double x)
{
    if (isnan(x))
        snprintf(b, n, "-");
    else
        snprintf(b, n, "%+.4f", x);
    return b;
}

static void write_md(FILE *f)
{
    char a[32], b[32], c[32], d[32];
    fprintf(f, "### Manual 5.2, class B (active energy)\n\n");
    fprintf(f, "| point | I (A) | registered (Wh) | truth (Wh) | error %% | limit %% | reactive error %% | |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 0; k < npts; k++) {
        const point *p = &pts[k];
        if (strcmp(p->group, "5.2"))
            continue;
        fprintf(f, "| %s | %g | %.6f | %.6f | %s | +-%g | %s | %s |\n", p->name, p->i_a,
                p->registered_wh, p->truth_wh, fmt_pct(a, sizeof a, p->error_pct), p->limit_pct,
                fmt_pct(b, sizeof b, p->reactive_error_pct), p->pass ? "ok" : "**FAIL**");
    }
    fprintf(f, "\n### Influence quantities (IEC 62053-21 class 1 limits of variation)\n\n");
    fprintf(f, "| test | I (A) | PF | registered (Wh) | truth (Wh) | error %% | at reference %% | "
               "variation %% | limit %% | |\n");
    fprintf(f, "|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int k = 0; k < npts; k++) {
        const point *p = &pts[k];
        if (strcmp(p->group, "influence"))
            continue;
        fprintf(f, "| %s | %.3g | %s | %.6f | %.6f | %s | %s | %s | +-%g | %s |\n", p->name,
                p->i_a, pf_name[p->pf], p->registered_wh, p->truth_wh,
                fmt_pct(a, sizeof a, p->error_pct), fmt_pct(b, sizeof b, p->ref_error_pct),
                fmt_pct(c, sizeof c, p->variation_pct), p->limit_pct, p->pass ? "ok" : "**FAIL**");
    }
    fprintf(f, "\n### Starting and no-load\n\n| test | duration (s) | registered (Wh) | truth (Wh) | "
               "error %% | LED pulses | requirement | |\n|---|---:|---:|---:|---:|---:|---|---|\n");
    for (int k = 0; k < npts; k++) {
        const point *p = &pts[k];
        if (strcmp(p->group, "starting") && strcmp(p->group, "no-load"))
            continue;
        fprintf(f, "| %s | %.0f | %.6f | %.6f | %s | %llu | %s | %s |\n", p->name, p->seconds,
                p->registered_wh, p->truth_wh, fmt_pct(d, sizeof d, p->error_pct),
                (unsigned long long)p->led_pulses, p->note, p->pass ? "ok" : "**FAIL**");
    }
}

static void json_num(cJSON *o, const char *k, double x)
{
    if (isnan(x))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, x);
}

static char *make_json(bool pass, double secs)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(j, "meter");
    cJSON_AddNumberToObject(m, "model", KLEFR_MODEL_6924);
    cJSON_AddStringToObject(m, "class", "B");
    cJSON_AddNumberToObject(m, "un_v", UN);
    cJSON_AddNumberToObject(m, "ib_a", IB);
    cJSON_AddNumberToObject(m, "imax_a", IMAX);
    cJSON_AddNumberToObject(m, "fn_hz", KLEFR_FN_HZ);
    cJSON_AddNumberToObject(j, "seconds_per_point", secs);
    cJSON_AddStringToObject(j, "reference",
                            "the AFE's truth: integral of v*i at the terminals (sim/afe.h)");
    cJSON *a = cJSON_AddArrayToObject(j, "points");
    for (int k = 0; k < npts; k++) {
        const point *p = &pts[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "group", p->group);
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddNumberToObject(o, "i_a", p->i_a);
        cJSON_AddStringToObject(o, "pf", pf_name[p->pf]);
        cJSON_AddNumberToObject(o, "seconds", p->seconds);
        cJSON_AddNumberToObject(o, "registered_wh", p->registered_wh);
        cJSON_AddNumberToObject(o, "truth_wh", p->truth_wh);
        json_num(o, "error_pct", p->error_pct);
        cJSON_AddNumberToObject(o, "registered_varh", p->registered_varh);
        cJSON_AddNumberToObject(o, "truth_varh", p->truth_varh);
        json_num(o, "reactive_error_pct", p->reactive_error_pct);
        json_num(o, "reference_error_pct", p->ref_error_pct);
        json_num(o, "variation_pct", p->variation_pct);
        cJSON_AddNumberToObject(o, "limit_pct", p->limit_pct);
        cJSON_AddNumberToObject(o, "led_pulses", (double)p->led_pulses);
        if (p->note)
            cJSON_AddStringToObject(o, "note", p->note);
        cJSON_AddBoolToObject(o, "pass", p->pass);
        cJSON_AddItemToArray(a, o);
    }
    cJSON_AddBoolToObject(j, "pass", pass);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

/* Error against current (log axis) per power factor, with the class B
 * limits; below, the same points on a scale that shows them. */
static void write_svg(FILE *f)
{
    const double W = 780, H = 620, L = 90, R = 150, x0 = L, x1 = W - R;
    const double lo = log10(0.2), hi = log10(120);
    static const char *col[] = {"#1f77b4", "#d62728", "#2ca02c"};
    double zmax = 0;
    for (int k = 0; k < npts; k++)
        if (!strcmp(pts[k].group, "5.2") && isfinite(pts[k].error_pct))
            zmax = fmax(zmax, fabs(pts[k].error_pct));
    double zr = zmax > 0 ? pow(10, ceil(log10(zmax * 1.2))) : 0.01;
    if (zmax * 1.2 < zr / 2)
        zr /= 2;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H);
    fprintf(f, "<text x=\"%g\" y=\"22\" font-size=\"15\" font-weight=\"bold\">KLEFR 692x: active "
               "energy error against current (manual 5.2, class B)</text>\n", L);
    for (int panel = 0; panel < 2; panel++) {
        double top = panel ? 350 : 50, h = 230, yr = panel ? zr : 2.0;
#define XP(i) (x0 + (log10(i) - lo) / (hi - lo) * (x1 - x0))
#define YP(e) (top + h / 2 - (e) / yr * (h / 2))
        fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#888\"/>\n",
                x0, top, x1 - x0, h);
        for (int t = -2; t <= 2; t++) {
            double e = yr * t / 2;
            fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                       "<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%+g</text>\n",
                    x0, YP(e), x1, YP(e), x0 - 6, YP(e) + 4, e);
        }
        static const double ticks[] = {0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100};
        for (unsigned t = 0; t < sizeof ticks / sizeof ticks[0]; t++)
            fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#eee\"/>"
                       "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%g</text>\n",
                    XP(ticks[t]), top, XP(ticks[t]), top + h, XP(ticks[t]), top + h + 16, ticks[t]);
        fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">current (A), Ib = %g A, Imax = %g A</text>\n",
                (x0 + x1) / 2, top + h + 32, IB, IMAX);
        fprintf(f, "<text x=\"14\" y=\"%g\" transform=\"rotate(-90 14 %g)\" text-anchor=\"middle\">error %% "
                   "(%s)</text>\n", top + h / 2, top + h / 2, panel ? "zoomed" : "with the class B limits");
        if (!panel) { /* limits: PF 1 (solid), PF 0.5L / 0.8C (dashed) */
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                fprintf(f, "<polyline fill=\"none\" stroke=\"#999\" stroke-width=\"1.5\" points=\"%g,%g %g,%g %g,%g %g,%g\"/>\n",
                        XP(0.25), YP(sgn * 1.5), XP(0.5), YP(sgn * 1.5), XP(0.5), YP(sgn * 1.0), XP(100), YP(sgn * 1.0));
                fprintf(f, "<polyline fill=\"none\" stroke=\"#999\" stroke-dasharray=\"5,4\" points=\"%g,%g %g,%g %g,%g %g,%g\"/>\n",
                        XP(0.5), YP(sgn * 1.5), XP(1), YP(sgn * 1.5), XP(1), YP(sgn * 1.0), XP(100), YP(sgn * 1.0));
            }
        }
        for (int pf = PF_1; pf <= PF_08C; pf++) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col[pf]);
            for (int k = 0; k < npts; k++)
                if (!strcmp(pts[k].group, "5.2") && pts[k].pf == (pf_kind)pf)
                    fprintf(f, "%.1f,%.1f ", XP(pts[k].i_a), YP(fmax(-yr, fmin(yr, pts[k].error_pct))));
            fprintf(f, "\"/>\n");
            for (int k = 0; k < npts; k++)
                if (!strcmp(pts[k].group, "5.2") && pts[k].pf == (pf_kind)pf)
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", XP(pts[k].i_a),
                            YP(fmax(-yr, fmin(yr, pts[k].error_pct))), col[pf]);
        }
#undef XP
#undef YP
    }
    for (int pf = PF_1; pf <= PF_08C; pf++)
        fprintf(f, "<rect x=\"%g\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/><text x=\"%g\" y=\"%d\">PF %s</text>\n",
                x1 + 16, 84 + 20 * pf, col[pf], x1 + 36, 90 + 20 * pf, pf_name[pf]);
    fprintf(f, "<line x1=\"%g\" y1=\"150\" x2=\"%g\" y2=\"150\" stroke=\"#999\"/><text x=\"%g\" y=\"154\">limit PF 1</text>\n"
               "<line x1=\"%g\" y1=\"170\" x2=\"%g\" y2=\"170\" stroke=\"#999\" stroke-dasharray=\"5,4\"/><text x=\"%g\" y=\"174\">limit 0.5L/0.8C</text>\n",
            x1 + 16, x1 + 30, x1 + 36, x1 + 16, x1 + 30, x1 + 36);
    fprintf(f, "</svg>\n");
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "klefr-sim: bench-accuracy: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return 0;
}

/* Run f(FILE *) into a string (the SVG and Markdown writers). */
static char *to_text(void (*fn)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fn(m);
    fclose(m);
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim bench-accuracy [--out DIR] [--json FILE] [--svg FILE] [--seconds S]\n"
               "The meter test bench: manual 5.2 and the EN 50470-3 / IEC 62053-21 influence tests on\n"
               "the whole twin, against the truth of the analog front end. Markdown on stdout;\n"
               "--out DIR writes DIR/accuracy.md, .json and .svg. --seconds: per point (default 5).\n"
               "Exit status: 0 every point within its limit, 1 not (or a file not written), 2 usage.\n");
}

int klefr_bench_accuracy_main(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"json", required_argument, 0, 'j'},
                                         {"svg", required_argument, 0, 's'},
                                         {"seconds", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *json_path = NULL, *svg_path = NULL;
    double secs = 5;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 's':
            svg_path = optarg;
            break;
        case 't': {
            char *e;
            secs = strtod(optarg, &e);
            if (e == optarg || *e || !(secs >= 1 && secs <= 3600)) {
                fprintf(stderr, "klefr-sim: bench-accuracy: --seconds '%s': 1..3600\n", optarg);
                return 2;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "klefr-sim: bench-accuracy: %s: %s\n", argv[optind - 1],
                    c == ':' ? "needs an argument" : "unknown option");
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "klefr-sim: bench-accuracy: '%s': unexpected argument\n", argv[optind]);
        return 2;
    }
    npts = 0;
    basic_errors(secs);
    influence_tests(secs);
    starting_and_no_load(secs);
    bool pass = true;
    for (int k = 0; k < npts; k++)
        pass = pass && pts[k].pass;

    char *md = to_text(write_md), *svg = to_text(write_svg), *js = make_json(pass, secs);
    if (!md || !svg || !js) {
        fprintf(stderr, "klefr-sim: bench-accuracy: out of memory\n");
        return 1;
    }
    fputs(md, stdout);
    printf("\n%s\n", pass ? "All points within their limits." : "**Points outside their limits.**");
    int rc = pass ? 0 : 1;
    char path[4200];
    if (out) {
        if (mkdir(out, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "klefr-sim: bench-accuracy: %s: %s\n", out, strerror(errno));
            rc = 1;
        } else {
            snprintf(path, sizeof path, "%s/accuracy.md", out);
            rc |= write_file(path, md) ? 1 : 0;
            snprintf(path, sizeof path, "%s/accuracy.json", out);
            rc |= write_file(path, js) ? 1 : 0;
            snprintf(path, sizeof path, "%s/accuracy.svg", out);
            rc |= write_file(path, svg) ? 1 : 0;
        }
    }
    if (json_path && write_file(json_path, js))
        rc = 1;
    if (svg_path && write_file(svg_path, svg))
        rc = 1;
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = 1;
    free(md);
    free(svg);
    free(js);
    return rc;
}
