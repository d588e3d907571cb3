/* Metering fidelity at the edges (issue 12): anti-aliased replay of fast
 * recordings, band-limited synthesis, ADC headroom and clipping, fundamental
 * reactive energy under harmonics and sub-harmonics, true rms with DC, and
 * nothing lost at a stop or a power cut. Every truth here is the test's own:
 * closed forms of the waveform the test generated, or its numerical integral;
 * the AFE's truth (sim/afe.h) is not used. */
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
#include "rec_files.h"
#include "sim.h"

#define TWO_PI (2 * M_PI)
#define DEG (M_PI / 180)

static klefr_sim S;
static klefr_synth Y;
static klefr_replay R;

/* ---- running the meter ------------------------------------------------------ */

typedef struct {
    double act_fwd_wh, act_rev_wh, react_fwd_varh, react_rev_varh;
    klefr_measure meas;
    uint64_t samples; /* the meter received */
    uint64_t clipped;
} result;

/* Run the meter on afe for seconds (or until a recording ends), then cut the
 * supply as klefr-sim does at a stop. */
static result run(klefr_afe *afe, double seconds)
{
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&S, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, afe, NULL, err,
                                     sizeof err),
                     0);
    klefr_sim_run_until(&S, (uint64_t)llround(seconds * 1e6));
    result r = {.meas = S.meter.meas, .clipped = afe->clipped};
    klefr_sim_power(&S, false);
    const klefr_regs *g = &S.meter.regs;
    r.act_fwd_wh = (double)klefr_act_fwd_uwh(g, -1) / 1e6;
    r.act_rev_wh = (double)klefr_act_rev_uwh(g, -1) / 1e6;
    r.react_fwd_varh = (double)klefr_react_fwd_uvarh(g, -1) / 1e6;
    r.react_rev_varh = (double)klefr_react_rev_uvarh(g, -1) / 1e6;
    r.samples = S.meter.metering.samples_done;
    return r;
}

static double pct(double got, double want)
{
    return (got - want) / want * 100;
}

static void within_pct(const char *what, double got, double want, double tol_pct)
{
    if (getenv("SHOW"))
        printf("%-40s got %.6f want %.6f (%+.4f %%)\n", what, got, want, pct(got, want));
    ck_assert_msg(fabs(pct(got, want)) <= tol_pct, "%s: got %.6f, want %.6f (%+.4f %%, limit %g %%)",
                  what, got, want, pct(got, want), tol_pct);
}

static void within_abs(const char *what, double got, double want, double tol)
{
    if (getenv("SHOW"))
        printf("%-40s got %.6f want %.6f (diff %.3g)\n", what, got, want, got - want);
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.6f, want %.6f (limit +-%g)", what, got, want,
                  tol);
}

/* ---- recordings -------------------------------------------------------------- */

/* A 64-bit float WAV (full scale 1.0 = 1 V / 1 A) of n frames at rate. */
static void write_wav(const char *path, unsigned rate, const double *v, const double *i, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t bytes = (uint32_t)n * 16;
    fwrite("RIFF", 1, 4, f), put32(f, 36 + bytes), fwrite("WAVE", 1, 4, f);
    fwrite("fmt ", 1, 4, f), put32(f, 16), put16(f, 3), put16(f, 2), put32(f, rate);
    put32(f, rate * 16), put16(f, 16), put16(f, 64);
    fwrite("data", 1, 4, f), put32(f, bytes);
    for (size_t k = 0; k < n; k++) {
        fwrite(&v[k], 8, 1, f);
        fwrite(&i[k], 8, 1, f);
    }
    fclose(f);
    FILE *j = fopen(strcat(strcpy((char[300]){0}, path), ".json"), "w");
    fputs("{\"v_scale\": 1, \"i_scale\": 1}\n", j);
    fclose(j);
}

/* Open a recording written by write_wav. */
static klefr_afe *open_wav(const char *path)
{
    char err[256];
    ck_assert_msg(klefr_replay_open(&R, path, NULL, err, sizeof err) == 0, "%s", err);
    return &R.afe;
}

/* Samples a recording of n frames at rate gives the meter: 0 .. last time. */
static uint64_t adc_samples(size_t n, double rate)
{
    return (uint64_t)floor((double)(n - 1) / rate * KLEFR_FS_HZ + 1e-9) + 1;
}

/* A band-limited periodic signal: DC + sum over h of a_h cos(h th) + b_h sin(h th). */
#define HMAX 500
typedef struct {
    double dc, a[HMAX + 1], b[HMAX + 1];
    int hmax;
} series;

static double series_at(const series *s, double th)
{
    double x = s->dc;
    for (int h = 1; h <= s->hmax; h++)
        if (s->a[h] != 0 || s->b[h] != 0)
            x += s->a[h] * cos(h * th) + s->b[h] * sin(h * th);
    return x;
}

/* Mean power of v*i and fundamental reactive power (lagging current > 0),
 * from the coefficients (peak values). */
static double series_p(const series *v, const series *i)
{
    double p = v->dc * i->dc;
    int hm = v->hmax < i->hmax ? v->hmax : i->hmax;
    for (int h = 1; h <= hm; h++)
        p += (v->a[h] * i->a[h] + v->b[h] * i->b[h]) / 2;
    return p;
}

static double series_q1(const series *v, const series *i)
{
    /* x = a cos + b sin = Re(X e^{j th}) with X = a - j b; Q = Im(V conj I) / 2. */
    return (v->a[1] * i->b[1] - v->b[1] * i->a[1]) / 2;
}

/* Coefficients of a waveform by numerical integration over one period
 * (th = 0 .. 2 pi), Simpson's rule with m intervals. */
static void series_of(double (*fn)(double th, const void *arg), const void *arg, int hmax, int m,
                      series *s)
{
    memset(s, 0, sizeof *s);
    s->hmax = hmax;
    double step = TWO_PI / m;
    for (int k = 0; k <= m; k++) {
        double th = k * step, w = (k == 0 || k == m ? 1 : k % 2 ? 4 : 2) * step / 3;
        double x = fn(th, arg) * w;
        s->dc += x / TWO_PI;
        for (int h = 1; h <= hmax; h++) {
            s->a[h] += x * cos(h * th) / M_PI;
            s->b[h] += x * sin(h * th) / M_PI;
        }
    }
}

/* ---- the phase-angle dimmer at 50 kHz --------------------------------------- */

/* A resistive load behind a dimmer firing at alpha in each half cycle:
 * i = Ipk sin(th) where (th mod pi) >= alpha. Fourier coefficients in closed
 * form (odd harmonics only, by half-wave symmetry). */
static void dimmer_series(double ipk, double alpha, int hmax, series *s)
{
    memset(s, 0, sizeof *s);
    s->hmax = hmax;
    for (int h = 1; h <= hmax; h += 2) {
        double a, b; /* (2/pi) Ipk int_alpha^pi sin(th) {cos, sin}(h th) dth */
        if (h == 1) {
            a = -0.5 * sin(alpha) * sin(alpha);
            b = 0.5 * ((M_PI - alpha) + sin(2 * alpha) / 2);
        } else {
            double p = 1 + h, q = 1 - h;
            a = 0.5 * ((-cos(p * M_PI) / p - cos(q * M_PI) / q) - (-cos(p * alpha) / p - cos(q * alpha) / q));
            b = 0.5 * ((sin(q * M_PI) / q - sin(p * M_PI) / p) - (sin(q * alpha) / q - sin(p * alpha) / p));
        }
        s->a[h] = 2 / M_PI * ipk * a;
        s->b[h] = 2 / M_PI * ipk * b;
    }
}

/* One recording per sub-sample offset of the ADC grid against the firing
 * edge (the recorder started at phase th0): exactly 50.000 Hz, so the 4 kHz
 * grid stays locked to the edge, where an ADC without anti-alias filter
 * registers +-1..3 %. Truth: V1 I1 cos phi1 and V1 I1 sin phi1 in closed form. */
START_TEST(dimmer_50k_any_offset)
{
    const unsigned rate = 50000;
    const double vpk = 230 * sqrt(2), ipk = 20 * sqrt(2), alpha = 100 * DEG, secs = 2.5;
    series vs = {.hmax = 1}, is;
    vs.b[1] = vpk;
    dimmer_series(ipk, alpha, 499, &is); /* the recorder's own band: below 25 kHz */
    double p = series_p(&vs, &is), q = series_q1(&vs, &is);
    ck_assert_double_gt(q, 0.3 * p); /* the dimmer's fundamental lags */
    size_t n = (size_t)(rate * secs);
    static double v[50000 * 3], i[50000 * 3], pv[1000], pi_[1000];
    const double offsets[] = {0.0, 0.13, 0.5, 0.77}; /* of a 250 us ADC sample */
    for (unsigned o = 0; o < 4; o++) {
        double th0 = TWO_PI * 50 * offsets[o] / KLEFR_FS_HZ;
        for (int k = 0; k < 1000; k++) { /* one period at 50 kHz */
            double th = th0 + TWO_PI * k / 1000;
            pv[k] = series_at(&vs, th);
            pi_[k] = series_at(&is, th);
        }
        for (size_t k = 0; k < n; k++)
            v[k] = pv[k % 1000], i[k] = pi_[k % 1000];
        write_wav(file("dimmer.wav"), rate, v, i, n);
        result r = run(open_wav(file("dimmer.wav")), 10);
        klefr_replay_close(&R);
        ck_assert_uint_eq(r.samples, adc_samples(n, rate));
        double hours = (double)r.samples / KLEFR_FS_HZ / 3600;
        char what[64];
        snprintf(what, sizeof what, "dimmer offset %.2f active", offsets[o]);
        within_pct(what, r.act_fwd_wh, p * hours, 0.1);
        snprintf(what, sizeof what, "dimmer offset %.2f reactive", offsets[o]);
        within_pct(what, r.react_fwd_varh, q * hours, 0.5);
        ck_assert_double_eq(r.act_rev_wh, 0);
    }
}
END_TEST

/* ---- the PC supply at 6.4 kHz ------------------------------------------------- */

/* Capacitor-input rectifier: current pulses of width w centred shortly before
 * each voltage peak (cos^2 shape), the voltage flat-topped (3rd, 5th). */
typedef struct {
    double ipk, centre, width;
} pulse_arg;

static double pc_current(double th, const void *arg)
{
    const pulse_arg *a = arg;
    for (int half = 0; half < 2; half++) {
        double d = remainder(th - a->centre - half * M_PI, TWO_PI);
        if (fabs(d) < a->width / 2) {
            double x = cos(M_PI * d / a->width);
            return (half ? -1 : 1) * a->ipk * x * x;
        }
    }
    return 0;
}

START_TEST(pc_supply_6k4)
{
    const unsigned rate = 6400; /* 128 samples a period */
    pulse_arg pa = {.ipk = 14, .centre = M_PI / 2 - 18 * DEG, .width = 62 * DEG};
    series vs = {.hmax = 5}, is;
    vs.b[1] = 230 * sqrt(2);
    vs.b[3] = -0.03 * vs.b[1]; /* flat top */
    vs.b[5] = 0.015 * vs.b[1];
    series_of(pc_current, &pa, 63, 1 << 16, &is); /* the recorder's band: below 3.2 kHz */
    double p = series_p(&vs, &is), q = series_q1(&vs, &is);
    double i1 = hypot(is.a[1], is.b[1]) / sqrt(2);
    ck_assert_double_lt(q, -0.1 * p); /* pulses ahead of the peak: capacitive */
    size_t n = rate * 3;
    static double v[6400 * 3], i[6400 * 3];
    for (size_t k = 0; k < n; k++) {
        double th = TWO_PI * 50 * k / rate;
        v[k] = series_at(&vs, th);
        i[k] = series_at(&is, th);
    }
    write_wav(file("pc.wav"), rate, v, i, n);
    result r = run(open_wav(file("pc.wav")), 10);
    klefr_replay_close(&R);
    double hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("PC supply active", r.act_fwd_wh, p * hours, 0.1);
    within_pct("PC supply reactive (fundamental)", r.react_rev_varh, -q * hours, 0.5);
    ck_assert_double_eq(r.react_fwd_varh, 0);
    /* Measurements: true rms of the recording, PF = P / (V I). */
    double irms = 0;
    for (int k = 0; k < 128; k++)
        irms += i[k] * i[k] / 128;
    irms = sqrt(irms);
    within_pct("PC supply Irms", r.meas.i_rms, irms, 0.1);
    within_pct("PC supply PF", r.meas.pf, p / (r.meas.v_rms * irms), 0.2);
    within_pct("PC supply Q", r.meas.q_var, q, 0.5);
    ck_assert_uint_eq(r.meas.quadrant, 4);
    ck_assert_double_gt(irms, 1.3 * i1); /* a spiky current indeed */
}
END_TEST

/* ---- synthesis: band-limited, headroom, clipping ------------------------------ */

static result run_load(const klefr_load *l, double seconds)
{
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    klefr_synth_init(&Y, l, &adc);
    return run(&Y.afe, seconds);
}

/* A current harmonic above the ADC's Nyquist frequency is filtered, not
 * folded: without the filter the 45th (2250 Hz) lands on 1750 Hz, the 35th,
 * where the voltage has a harmonic, and shows as 46 W that are not there. */
START_TEST(synth_band_limited)
{
    klefr_load l = {.v_rms = 230, .i_rms = 10, .freq_hz = 50, .n_harm = 2};
    l.harm[0] = (klefr_harmonic){.order = 35, .v_pct = 5};
    l.harm[1] = (klefr_harmonic){.order = 45, .i_pct = 40};
    result r = run_load(&l, 3);
    double hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("45th harmonic filtered: active", r.act_fwd_wh, 2300 * hours, 0.01);
    /* And what the ADC delivers has nothing at 1750 Hz. */
    klefr_synth_init(&Y, &l, NULL);
    static int32_t v[4000], i[4000];
    Y.afe.fill(&Y.afe, v, i, 4000);
    double re = 0, im = 0;
    for (int k = 0; k < 4000; k++) {
        re += i[k] * cos(TWO_PI * 1750 * k / 4000.0);
        im += i[k] * sin(TWO_PI * 1750 * k / 4000.0);
    }
    double amp = 2 * hypot(re, im) / 4000 / KLEFR_ADC_FULL_SCALE * KLEFR_I_FULL_SCALE_PEAK;
    ck_assert_double_lt(amp, 1e-4 * 4 * sqrt(2)); /* < 1e-4 of the 4 A harmonic */
}
END_TEST

/* Rectifier load: odd harmonics in phase at the voltage peak, crest factor
 * about 2.95. At 100 A rms it fits the ADC (400 A peak); at 150 A rms it
 * clips: counted, and the meter registers what the clipped samples hold. */
static klefr_load rectifier(double i_total_rms)
{
    static const double pct_[] = {80, 60, 40, 20, 10};
    klefr_load l = {.v_rms = 230, .freq_hz = 50, .n_harm = 5};
    double sum2 = 1;
    for (int k = 0; k < 5; k++) {
        l.harm[k] = (klefr_harmonic){.order = 3 + 2 * (unsigned)k, .i_pct = pct_[k]};
        sum2 += pct_[k] * pct_[k] / 1e4;
    }
    l.i_rms = i_total_rms / sqrt(sum2);
    return l;
}

static double rectifier_i(const klefr_load *l, double th)
{
    double i = cos(th);
    for (unsigned k = 0; k < l->n_harm; k++)
        i += l->harm[k].i_pct / 100 * cos(l->harm[k].order * th);
    return sqrt(2) * l->i_rms * i;
}

START_TEST(rectifier_headroom_and_clipping)
{
    klefr_load l = rectifier(100);
    double peak = rectifier_i(&l, 0);
    ck_assert_double_gt(peak / 100, 2.8); /* crest factor */
    ck_assert_double_lt(peak, KLEFR_I_FULL_SCALE_PEAK);
    result r = run_load(&l, 3);
    double hours = (double)r.samples / KLEFR_FS_HZ / 3600, p = 230 * l.i_rms;
    ck_assert_uint_eq(r.clipped, 0);
    within_pct("rectifier 100 A rms: active", r.act_fwd_wh, p * hours, 0.1);
    within_abs("rectifier 100 A rms: reactive (S1 x 1e-4)", r.react_fwd_varh + r.react_rev_varh, 0,
               1e-4 * p * hours);
    within_pct("rectifier 100 A rms: Irms", r.meas.i_rms, 100, 0.1);

    /* 35 kW sine (152 A) is above Imax: registers, no clipping. */
    klefr_load big = {.v_rms = 230, .i_rms = 35000.0 / 230, .freq_hz = 50};
    r = run_load(&big, 3);
    ck_assert_uint_eq(r.clipped, 0);
    within_pct("35 kW sine", r.act_fwd_wh, 35000.0 * r.samples / KLEFR_FS_HZ / 3600, 0.1);

    /* 150 A rms: the peaks clip. Expected registration: the ADC's grid
     * (80 samples a period at exactly 50 Hz) with the current clipped at full
     * scale, numerically. */
    l = rectifier(150);
    r = run_load(&l, 3);
    ck_assert_uint_gt(r.clipped, 0);
    double clip_p = 0, true_p = 230 * l.i_rms;
    unsigned clipped_per_period = 0;
    const double fs_i = KLEFR_I_FULL_SCALE_PEAK * (1 - 1.0 / KLEFR_ADC_FULL_SCALE);
    for (int k = 0; k < 80; k++) {
        double th = TWO_PI * k / 80, i = rectifier_i(&l, th);
        if (fabs(i) > fs_i)
            clipped_per_period++;
        i = fmax(-KLEFR_I_FULL_SCALE_PEAK, fmin(fs_i, i));
        clip_p += 230 * sqrt(2) * cos(th) * i / 80;
    }
    hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("rectifier 150 A rms clipped: as the ADC saw it", r.act_fwd_wh, clip_p * hours, 0.1);
    ck_assert_double_lt(pct(r.act_fwd_wh, true_p * hours), -1.0); /* and that is short of the truth */
    ck_assert_uint_eq(r.clipped, (uint64_t)clipped_per_period * r.samples / 80);
}
END_TEST

/* ---- fundamental reactive energy ------------------------------------------------- */

/* Harmonic active power is not reactive power. S1 = 2300 VA; "reads 0" =
 * within 1e-4 S1. */
START_TEST(harmonic_power_is_not_reactive)
{
    /* Resistive load with a 2nd harmonic in V and I, in phase. */
    klefr_load l = {.v_rms = 230, .i_rms = 10, .freq_hz = 50, .n_harm = 1};
    l.harm[0] = (klefr_harmonic){.order = 2, .v_pct = 5, .i_pct = 40};
    result r = run_load(&l, 3);
    double hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("2nd harmonic: active (incl. 46 W harmonic)", r.act_fwd_wh, (2300 + 46) * hours, 0.01);
    within_abs("2nd harmonic: reactive", r.react_fwd_varh + r.react_rev_varh, 0, 1e-4 * 2300 * hours);
    within_abs("2nd harmonic: Q", r.meas.q_var, 0, 0.23);
    ck_assert_uint_eq(r.meas.quadrant, 1);

    /* PF 1 fundamental, 7th harmonic with current 45 deg behind: the 7th
     * carries reactive power of its own, the fundamental none. */
    l.harm[0] = (klefr_harmonic){.order = 7, .v_pct = 5, .i_pct = 30, .i_phase_deg = -45};
    r = run_load(&l, 3);
    within_abs("7th at 45 deg: reactive", r.react_fwd_varh + r.react_rev_varh, 0,
               1e-4 * 2300 * hours);
    within_abs("7th at 45 deg: Q", r.meas.q_var, 0, 0.23);
    within_pct("7th at 45 deg: active", r.act_fwd_wh,
               (2300 + 11.5 * 3 * cos(45 * DEG)) * hours, 0.01);

    /* SMPS-like: leading fundamental plus strong odd harmonics. */
    klefr_load s = {.v_rms = 230, .i_rms = 6, .phi_deg = -25, .freq_hz = 50, .n_harm = 4};
    s.harm[0] = (klefr_harmonic){.order = 3, .v_pct = 3, .i_pct = 85, .i_phase_deg = 160};
    s.harm[1] = (klefr_harmonic){.order = 5, .v_pct = 2, .i_pct = 60, .i_phase_deg = -20};
    s.harm[2] = (klefr_harmonic){.order = 7, .i_pct = 35, .i_phase_deg = 100};
    s.harm[3] = (klefr_harmonic){.order = 9, .i_pct = 15, .i_phase_deg = -110};
    r = run_load(&s, 3);
    double q1 = 230 * 6 * sin(-25 * DEG);
    within_pct("SMPS: fundamental reactive", r.react_rev_varh, -q1 * hours, 0.5);
    ck_assert_double_eq(r.react_fwd_varh, 0);
    within_pct("SMPS: Q", r.meas.q_var, q1, 0.5);
    ck_assert_uint_eq(r.meas.quadrant, 4);
}
END_TEST

/* A 7 Hz sub-harmonic in voltage and current, in phase: 9.2 W of active
 * power at 7 Hz, and no reactive power at all. A periodic recording (1 s, the
 * common period of 7 and 50 Hz) made by the test at 10 kHz. */
START_TEST(subharmonic_is_not_reactive)
{
    enum { RATE = 10000 };
    static double v[RATE], i[RATE];
    for (int k = 0; k < RATE; k++) {
        double t = (double)k / RATE;
        v[k] = sqrt(2) * (230 * sin(TWO_PI * 50 * t) + 4.6 * sin(TWO_PI * 7 * t));
        i[k] = sqrt(2) * (10 * sin(TWO_PI * 50 * t) + 2 * sin(TWO_PI * 7 * t));
    }
    ck_assert_int_eq(klefr_replay_open_periodic(&R, v, i, RATE, RATE), 0);
    result r = run(&R.afe, 5);
    klefr_replay_close(&R);
    double hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("7 Hz: active", r.act_fwd_wh, (2300 + 9.2) * hours, 0.1);
    within_abs("7 Hz: reactive", r.react_fwd_varh + r.react_rev_varh, 0, 1e-4 * 2300 * hours);
    within_abs("7 Hz: Q", r.meas.q_var, 0, 0.23);
}
END_TEST

/* ---- true rms -------------------------------------------------------------------- */

/* Half-wave rectified current of 100 A peak (a resistive load behind a diode):
 * Irms = 50 A, P = V I1 = 230 x 35.36 W, PF = 0.707. */
START_TEST(half_wave_true_rms)
{
    enum { RATE = 20000, PER = RATE / 50 };
    static double v[PER], i[PER];
    for (int k = 0; k < PER; k++) {
        double th = TWO_PI * k / PER;
        v[k] = 230 * sqrt(2) * sin(th);
        /* band-limited: DC + fundamental + even harmonics up to 9 kHz */
        double x = 1 / M_PI + 0.5 * sin(th);
        for (int h = 2; h <= 180; h += 2)
            x -= 2 / M_PI * cos(h * th) / (h * h - 1.0);
        i[k] = 100 * x;
    }
    ck_assert_int_eq(klefr_replay_open_periodic(&R, v, i, PER, RATE), 0);
    result r = run(&R.afe, 4);
    klefr_replay_close(&R);
    double p = 230 * 100 / 2 / sqrt(2), hours = (double)r.samples / KLEFR_FS_HZ / 3600;
    within_pct("half wave: Irms", r.meas.i_rms, 50.0, 0.1);
    within_pct("half wave: PF", r.meas.pf, p / (230 * 50.0), 0.1);
    within_pct("half wave: P", r.meas.p_w, p, 0.1);
    within_pct("half wave: active energy", r.act_fwd_wh, p * hours, 0.1);
}
END_TEST

/* 5 A at PF 1 with 2 A DC: Irms = sqrt(25 + 4) = 5.385 A; P unchanged. */
START_TEST(dc_in_current_true_rms)
{
    klefr_load l = {.v_rms = 230, .i_rms = 5, .freq_hz = 50, .dc_i = 2};
    result r = run_load(&l, 3);
    within_pct("DC 2 A on 5 A: Irms", r.meas.i_rms, sqrt(29.0), 0.05);
    within_pct("DC 2 A on 5 A: PF", r.meas.pf, 1150 / (230 * sqrt(29.0)), 0.05);
    within_pct("DC 2 A on 5 A: active", r.act_fwd_wh, 1150.0 * r.samples / KLEFR_FS_HZ / 3600, 0.01);
}
END_TEST

/* ---- nothing lost at a stop or a power cut ------------------------------------- */

/* A 3 s recording: the meter registers the energy of every sample it
 * received, the first partial cycle and the block in progress at the end
 * included. Truth: the recording's own integral over the span received, in
 * closed form, and the same sum over the ADC codes the meter got. */
static double rec_v(double t)
{
    return 230 * sqrt(2) * sin(TWO_PI * 50 * t + 0.3);
}
static double rec_i(double t)
{
    return 12 * sqrt(2) * (sin(TWO_PI * 50 * t + 0.3 - 36.87 * DEG) + 0.2 * sin(3 * (TWO_PI * 50 * t + 0.3)));
}

/* Integral of rec_v * rec_i over [0, t] (J), by Simpson with 1 us steps. */
static double rec_energy(double t)
{
    long m = (long)(t * 1e6) & ~1L;
    double h = t / m, sum = 0;
    for (long k = 0; k <= m; k++)
        sum += rec_v(k * h) * rec_i(k * h) * (k == 0 || k == m ? 1 : k % 2 ? 4 : 2);
    return sum * h / 3;
}

/* An AFE in front of another that sums the energy of the codes it passes. */
typedef struct {
    klefr_afe afe;
    klefr_afe *in;
    double code_j;
} tap;

static size_t tap_fill(klefr_afe *a, int32_t *v, int32_t *i, size_t n)
{
    tap *t = (tap *)a;
    size_t got = t->in->fill(t->in, v, i, n);
    const double k = KLEFR_V_FULL_SCALE_PEAK * KLEFR_I_FULL_SCALE_PEAK /
                     (KLEFR_ADC_FULL_SCALE * KLEFR_ADC_FULL_SCALE * KLEFR_FS_HZ);
    for (size_t j = 0; j < got; j++)
        t->code_j += (double)v[j] * i[j] * k;
    a->clipped = t->in->clipped;
    return got;
}

START_TEST(short_recording_nothing_lost)
{
    const unsigned rate = 8000;
    size_t n = rate * 3;
    static double v[8000 * 3], i[8000 * 3];
    for (size_t k = 0; k < n; k++)
        v[k] = rec_v((double)k / rate), i[k] = rec_i((double)k / rate);
    write_wav(file("short.wav"), rate, v, i, n);
    static tap t;
    t = (tap){.afe.fill = tap_fill, .in = open_wav(file("short.wav"))};
    result r = run(&t.afe, 10);
    klefr_replay_close(&R);
    ck_assert_uint_eq(r.samples, adc_samples(n, rate));
    double span = (double)r.samples / KLEFR_FS_HZ;
    within_pct("3 s replay vs the codes received", r.act_fwd_wh, t.code_j / 3600, 0.01);
    within_pct("3 s replay vs the recording over the span", r.act_fwd_wh, rec_energy(span) / 3600,
               0.01);
}
END_TEST

/* A power cut in the middle of a block: what was measured up to the cut is
 * registered before the save (the EEPROM image holds it too). */
START_TEST(power_cut_keeps_the_block_in_progress)
{
    klefr_load l = {.v_rms = 230, .i_rms = 10, .phi_deg = 30, .freq_hz = 50};
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    klefr_synth_init(&Y, &l, &adc);
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&S, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &Y.afe, NULL, err,
                                     sizeof err),
                     0);
    klefr_sim_run_until(&S, 1130000); /* 56.5 cycles: mid-cycle, mid-block */
    klefr_sim_power(&S, false);
    double want = 2300 * cos(30 * DEG) * 1.13 / 3600; /* plus the ripple of the last half cycle */
    double ripple = 2300 / (2 * TWO_PI * 50) / 3600;
    (void)ripple; /* 1.13 s is whole half cycles: the ripple sums to 0 */
    within_abs("power cut: active", (double)klefr_act_fwd_uwh(&S.meter.regs, -1) / 1e6, want,
               1e-4 * want);
    within_pct("power cut: reactive", (double)klefr_react_fwd_uvarh(&S.meter.regs, -1) / 1e6,
               1150 * 1.13 / 3600, 0.5);
    ck_assert_uint_eq(S.meter.metering.samples_done, 4520);
    /* The saved image has it: power up again and read. */
    uint64_t e = klefr_act_fwd_uwh(&S.meter.regs, -1);
    klefr_sim_power(&S, true);
    ck_assert_uint_eq(klefr_act_fwd_uwh(&S.meter.regs, -1), e);
}
END_TEST

/* A stop or a cut before the first whole block (10 cycles after the first
 * crossing, about 215 ms after power-up: a short run, a supply back for a
 * moment): the power-up piece is less than a cycle, so its own means are not
 * its DC (they took 0.26 mWh off at 2 kW), and the reactive energy of the
 * cycles measured so far counts (it was dropped). A DC current (no energy of
 * its own) makes the DC matter. Truth in closed form: v = V sqrt2 cos wt,
 * i = I sqrt2 cos(wt - phi) + 2 A; over whole half cycles the ripple and
 * the DC term integrate to 0, leaving V I cos(phi) t and Q1 = V I sin(phi). */
START_TEST(cut_before_the_first_whole_block)
{
    const double stops[] = {0.05, 0.1, 0.2};
    for (unsigned k = 0; k < 3; k++) {
        klefr_load l = {.v_rms = 230, .i_rms = 10, .phi_deg = 30, .freq_hz = 50, .dc_i = 2};
        result r = run_load(&l, stops[k]);
        ck_assert_uint_eq(r.samples, (uint64_t)llround(stops[k] * KLEFR_FS_HZ));
        double hours = stops[k] / 3600;
        char what[64];
        snprintf(what, sizeof what, "cut at %.2f s: active", stops[k]);
        within_pct(what, r.act_fwd_wh, 2300 * cos(30 * DEG) * hours, 0.01);
        snprintf(what, sizeof what, "cut at %.2f s: reactive", stops[k]);
        within_pct(what, r.react_fwd_varh, 1150 * hours, 0.5);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fidelity");
    TCase *tc = tcase_create("fidelity");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, dimmer_50k_any_offset);
    tcase_add_test(tc, pc_supply_6k4);
    tcase_add_test(tc, synth_band_limited);
    tcase_add_test(tc, rectifier_headroom_and_clipping);
    tcase_add_test(tc, harmonic_power_is_not_reactive);
    tcase_add_test(tc, subharmonic_is_not_reactive);
    tcase_add_test(tc, half_wave_true_rms);
    tcase_add_test(tc, dc_in_current_true_rms);
    tcase_add_test(tc, short_recording_nothing_lost);
    tcase_add_test(tc, power_cut_keeps_the_block_in_progress);
    tcase_add_test(tc, cut_before_the_first_whole_block);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
