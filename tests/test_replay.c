/* Replay of recorded waveforms: CSV and WAV files written here are replayed
 * through the AFE; the energy in the ADC codes it produced must match the
 * analytic value. Case "meter" (CK_RUN_CASE=meter) goes end to end through
 * the firmware's registers. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afe_replay.h"
#include "rec_files.h"
#include "sim.h"

static double v_at(double t)
{
    return 230 * sqrt(2) * sin(2 * M_PI * 50 * t);
}
static double i_at(double t, double phi_deg)
{
    return 10 * sqrt(2) * sin(2 * M_PI * 50 * t - phi_deg * M_PI / 180);
}

/* Active energy (J) in the codes the replay produces, and the sample count. */
static double replay_energy(klefr_replay *r, size_t *samples, size_t chunk)
{
    int32_t v[64], i[64];
    double sum = 0;
    size_t total = 0, got;
    do {
        got = r->afe.fill(&r->afe, v, i, chunk);
        for (size_t k = 0; k < got; k++)
            sum += (double)v[k] * (double)i[k];
        total += got;
    } while (got == chunk);
    *samples = total;
    double lsb_v = KLEFR_V_FULL_SCALE_PEAK / KLEFR_ADC_FULL_SCALE;
    double lsb_i = KLEFR_I_FULL_SCALE_PEAK / KLEFR_ADC_FULL_SCALE;
    return sum * lsb_v * lsb_i / KLEFR_FS_HZ;
}

static void assert_close(double got, double want, double rel)
{
    if (getenv("SHOW"))
        printf("rel err %.2e\n", (got - want) / want);
    ck_assert_msg(fabs(got - want) <= rel * fabs(want), "got %.6f, want %.6f (+-%.2f %%)", got,
                  want, rel * 100);
}

static void write_csv(const char *path, double rate, double seconds, double phi, bool time_col)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "# test recording\n%s\n", time_col ? "time,v,i" : "v;i");
    long n = lround(rate * seconds);
    for (long k = 0; k < n; k++) {
        double t = (double)k / rate;
        if (time_col)
            fprintf(f, "%.9f,%.6f,%.6f\n", t, v_at(t), i_at(t, phi));
        else
            fprintf(f, "%.6f;%.6f\n", v_at(t), i_at(t, phi));
    }
    fclose(f);
}

/* bits 16/24/32 PCM, or 32 float when is_float; full scale = vs volts / is amps. */
static void write_wav(const char *path, unsigned rate, double seconds, int bits, bool is_float,
                      double vs, double is)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint32_t n = (uint32_t)lround(rate * seconds), bps = (uint32_t)bits / 8;
    fwrite("RIFF", 1, 4, f), put32(f, 36 + n * 2 * bps), fwrite("WAVE", 1, 4, f);
    fwrite("fmt ", 1, 4, f), put32(f, 16), put16(f, is_float ? 3 : 1), put16(f, 2), put32(f, rate);
    put32(f, rate * 2 * bps), put16(f, 2 * bps), put16(f, (unsigned)bits);
    fwrite("data", 1, 4, f), put32(f, n * 2 * bps);
    for (uint32_t k = 0; k < n; k++) {
        double t = (double)k / rate, x[2] = {v_at(t) / vs, i_at(t, 0) / is};
        for (int c = 0; c < 2; c++) {
            if (is_float) {
                float fl = (float)x[c];
                uint32_t u;
                memcpy(&u, &fl, 4);
                put32(f, u);
            } else {
                double full = ldexp(1, bits - 1);
                int64_t code = llround(x[c] * full);
                for (uint32_t b = 0; b < bps; b++)
                    fputc((int)((uint64_t)code >> (8 * b) & 0xFF), f);
            }
        }
    }
    fclose(f);
}

START_TEST(csv_with_time_column_8k)
{
    write_csv(file("rec.csv"), 8000, 1.0, 0, true);
    klefr_replay r;
    char err[256] = "";
    ck_assert_msg(klefr_replay_open(&r, file("rec.csv"), NULL, err, sizeof err) == 0, "%s", err);
    size_t n;
    double e = replay_energy(&r, &n, 40);
    ck_assert_uint_eq(n, 4000); /* 0 .. 0.99975 s at 4 kHz */
    assert_close(e, 2300.0 * n / KLEFR_FS_HZ, 0.002);
    klefr_replay_close(&r);
}
END_TEST

/* Uneven sample times (a logger with jitter): linear interpolation. The
 * expected energy is the analytic v*i at the ADC's own sample instants. */
START_TEST(csv_uneven_times)
{
    FILE *f = fopen(file("rec.csv"), "w");
    double t = 0;
    for (int k = 0; t <= 1.0; k++, t += k % 2 ? 90e-6 : 130e-6)
        fprintf(f, "%.9f %.6f %.6f\n", t, v_at(t), i_at(t, 0));
    fclose(f);
    klefr_replay r;
    char err[256] = "";
    ck_assert_msg(klefr_replay_open(&r, file("rec.csv"), NULL, err, sizeof err) == 0, "%s", err);
    size_t n;
    double e = replay_energy(&r, &n, 64);
    ck_assert_uint_ge(n, 3999); /* up to the last point, about 1 s */
    double want = 0;
    for (size_t k = 0; k < n; k++)
        want += v_at((double)k / KLEFR_FS_HZ) * i_at((double)k / KLEFR_FS_HZ, 0) / KLEFR_FS_HZ;
    assert_close(e, want, 0.002);
    klefr_replay_close(&r);
}
END_TEST

START_TEST(csv_rate_pf_half)
{
    write_csv(file("rec.csv"), 8000, 1.0, 60, false);
    klefr_replay r;
    char err[256] = "";
    klefr_replay_opts o = {.rate_hz = 8000};
    ck_assert_msg(klefr_replay_open(&r, file("rec.csv"), &o, err, sizeof err) == 0, "%s", err);
    size_t n;
    double e = replay_energy(&r, &n, 64);
    ck_assert_uint_eq(n, 4000);
    assert_close(e, 1150.0 * n / KLEFR_FS_HZ, 0.002);
    klefr_replay_close(&r);
}
END_TEST

START_TEST(csv_needs_rate_without_time)
{
    write_csv(file("rec.csv"), 8000, 0.01, 0, false);
    klefr_replay r;
    char err[256] = "";
    ck_assert_int_eq(klefr_replay_open(&r, file("rec.csv"), NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "rec.csv:3: no time column") != NULL, "%s", err);
}
END_TEST

START_TEST(wav_24bit_44k1)
{
    write_wav(file("rec.wav"), 44100, 1.0, 24, false, 500, 200);
    klefr_replay r;
    char err[256] = "";
    klefr_replay_opts o = {.v_scale = 500, .i_scale = 200};
    ck_assert_msg(klefr_replay_open(&r, file("rec.wav"), &o, err, sizeof err) == 0, "%s", err);
    ck_assert_double_eq(r.src_rate_hz, 44100);
    size_t n;
    double e = replay_energy(&r, &n, 64);
    ck_assert_uint_eq(n, 4000);
    assert_close(e, 2300.0 * n / KLEFR_FS_HZ, 0.002);
    klefr_replay_close(&r);
}
END_TEST

START_TEST(wav_32bit_pcm_options_win_over_sidecar)
{
    write_wav(file("rec.wav"), 8000, 1.0, 32, false, 400, 40);
    FILE *f = fopen(file("rec.wav.json"), "w");
    fputs("{\"v_scale\": 1, \"i_scale\": 1}\n", f);
    fclose(f);
    klefr_replay r;
    char err[256] = "";
    klefr_replay_opts o = {.v_scale = 400, .i_scale = 40};
    ck_assert_msg(klefr_replay_open(&r, file("rec.wav"), &o, err, sizeof err) == 0, "%s", err);
    size_t n;
    double e = replay_energy(&r, &n, 64);
    ck_assert_uint_eq(n, 4000);
    assert_close(e, 2300.0 * n / KLEFR_FS_HZ, 0.002);
    klefr_replay_close(&r);
}
END_TEST

START_TEST(wav_float_with_sidecar_scale)
{
    write_wav(file("rec.wav"), 8000, 1.0, 32, true, 400, 50);
    FILE *f = fopen(file("rec.wav.json"), "w");
    fputs("{\"v_scale\": 400, \"i_scale\": 50}\n", f);
    fclose(f);
    klefr_replay r;
    char err[256] = "";
    ck_assert_msg(klefr_replay_open(&r, file("rec.wav"), NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_double_eq(r.v_scale, 400);
    ck_assert_double_eq(r.i_scale, 50);
    size_t n;
    double e = replay_energy(&r, &n, 64);
    assert_close(e, 2300.0 * n / KLEFR_FS_HZ, 0.002);
    klefr_replay_close(&r);
}
END_TEST

/* A sidecar mistake is an input error with file:line, not a silent default. */
static void sidecar_bad(const char *text, const char *want)
{
    FILE *f = fopen(file("rec.wav.json"), "w");
    fputs(text, f);
    fclose(f);
    klefr_replay r;
    char err[512] = "", path[600];
    ck_assert_int_eq(klefr_replay_open(&r, file("rec.wav"), NULL, err, sizeof err), -1);
    snprintf(path, sizeof path, "%s%s", file("rec.wav.json"), want);
    ck_assert_msg(strstr(err, path) == err, "got '%s', want prefix '%s'", err, path);
}

START_TEST(wav_sidecar_errors_name_file_and_line)
{
    write_wav(file("rec.wav"), 8000, 0.1, 16, false, 400, 50);
    sidecar_bad("{\n  \"v_scale\": 400,\n  \"i_scal\": 50\n}\n", ":3: unknown key \"i_scal\"");
    sidecar_bad("{\n  \"v_scale\": 400,\n  \"i_scale\": -5\n}\n", ":3: v_scale and i_scale");
    sidecar_bad("{\n  \"v_scale\": 400,\n  \"i_scale\" 50\n}\n", ":3: not valid JSON");
    sidecar_bad("[400, 50]\n", ":1: expected {");
    unlink(file("rec.wav.json"));
}
END_TEST

START_TEST(wav_16bit_ends_with_short_fill)
{
    write_wav(file("rec.wav"), 16000, 0.5, 16, false, 500, 20);
    klefr_replay r;
    char err[256] = "";
    klefr_replay_opts o = {.v_scale = 500, .i_scale = 20};
    ck_assert_msg(klefr_replay_open(&r, file("rec.wav"), &o, err, sizeof err) == 0, "%s", err);
    size_t n;
    double e = replay_energy(&r, &n, 30); /* 2000 = 66 x 30 + 20: the last fill is short */
    ck_assert_uint_eq(n, 2000);
    assert_close(e, 2300.0 * n / KLEFR_FS_HZ, 0.002);
    int32_t v[4], i[4];
    ck_assert_uint_eq(r.afe.fill(&r.afe, v, i, 4), 0); /* stays ended */
    klefr_replay_close(&r);
}
END_TEST

static void expect_error(const char *name, const char *content, const klefr_replay_opts *o,
                         const char *want)
{
    FILE *f = fopen(file(name), "w");
    fputs(content, f);
    fclose(f);
    klefr_replay r;
    char err[256] = "";
    ck_assert_int_eq(klefr_replay_open(&r, file(name), o, err, sizeof err), -1);
    char full[300];
    snprintf(full, sizeof full, "%s%s", file(name), want);
    ck_assert_msg(strstr(err, full) == err, "got '%s', want prefix '%s'", err, full);
}

START_TEST(bad_files_give_file_line)
{
    expect_error("a.csv", "time,v,i\n0,1,2\n0.001,1,2\n0.002,x,2\n", NULL,
                 ":4: column 2: 'x' is not a number");
    expect_error("b.csv", "# c\n0,1,2\n0.001,1\n", NULL, ":3: expected 3 values, found 2");
    expect_error("c.csv", "0,1,2\n0.001,1,2\n0.001,1,2\n", NULL, ":3: time 0.001 is not after");
    expect_error("d.csv", "time,volts,i\n", NULL, ":1: unknown column 'volts'");
    expect_error("e.csv", "0,1,2\n", NULL, ":1: need at least 2 samples");
    expect_error("f.wav", "RIFF\x24\x01\x01\x01WAVEjunk", NULL, ": no data chunk");
    expect_error("g.csv", "", NULL, ":1: need at least 2 samples");
    klefr_replay r;
    char err[256];
    ck_assert_int_eq(klefr_replay_open(&r, file("missing.csv"), NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(wav_mono_refused)
{
    FILE *f = fopen(file("m.wav"), "wb");
    fwrite("RIFF", 1, 4, f), put32(f, 40), fwrite("WAVE", 1, 4, f);
    fwrite("fmt ", 1, 4, f), put32(f, 16), put16(f, 1), put16(f, 1), put32(f, 8000);
    put32(f, 16000), put16(f, 2), put16(f, 16);
    fwrite("data", 1, 4, f), put32(f, 4), put32(f, 0);
    fclose(f);
    klefr_replay r;
    char err[256];
    ck_assert_int_eq(klefr_replay_open(&r, file("m.wav"), NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "1 channels; expected 2") != NULL, "%s", err);
}
END_TEST

/* End to end: 60 s of 230 V 10 A PF 1 through the firmware -> ~38.33 Wh. */
START_TEST(meter_registers_match)
{
    write_wav(file("rec.wav"), 4000, 60.5, 32, true, 500, 200);
    static klefr_replay r;
    static klefr_sim sim;
    char err[256] = "";
    ck_assert_msg(klefr_replay_open(&r, file("rec.wav"), NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &r.afe, NULL, err, sizeof err),
        0);
    ck_assert(klefr_sim_run_until(&sim, 60000000));
    double wh = (double)klefr_act_fwd_uwh(&sim.meter.regs, -1) / 1e6;
    assert_close(wh, 2300.0 * 60 / 3600, 0.01);
    ck_assert_uint_eq(klefr_act_rev_uwh(&sim.meter.regs, -1), 0);
    klefr_replay_close(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, csv_with_time_column_8k);
    tcase_add_test(tc, csv_uneven_times);
    tcase_add_test(tc, csv_rate_pf_half);
    tcase_add_test(tc, csv_needs_rate_without_time);
    tcase_add_test(tc, wav_24bit_44k1);
    tcase_add_test(tc, wav_32bit_pcm_options_win_over_sidecar);
    tcase_add_test(tc, wav_float_with_sidecar_scale);
    tcase_add_test(tc, wav_sidecar_errors_name_file_and_line);
    tcase_add_test(tc, wav_16bit_ends_with_short_fill);
    tcase_add_test(tc, bad_files_give_file_line);
    tcase_add_test(tc, wav_mono_refused);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("meter");
    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_set_timeout(tm, 60);
    tcase_add_test(tm, meter_registers_match);
    suite_add_tcase(s, tm);
    return klefr_check_run(s);
}
