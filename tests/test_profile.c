/* Load profiles: parsing, file:line errors, and playback on the sim. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_synth.h"
#include "load_spec.h"
#include "profile.h"

static klefr_load base(void)
{
    klefr_load l;
    klefr_load_defaults(&l);
    return l;
}

static void parse_bad(const char *text, const char *want)
{
    klefr_profile p;
    klefr_load b = base();
    char err[512] = "";
    ck_assert_int_eq(klefr_profile_parse(&p, "day.json", text, &b, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) == err, "got '%s', want prefix '%s'", err, want);
}

static const char *day = "{\n"
                         "  \"name\": \"test day\",\n"
                         "  \"segments\": [\n"
                         "    {\"duration\": \"1h\", \"load\": \"230V,0.5A,pf=0.9L\"},\n"
                         "    {\"duration\": 1800, \"i\": 12, \"tariff_input\": true},\n"
                         "    {\"duration\": \"2min\", \"power\": false},\n"
                         "    {\"duration\": \"30s\", \"i\": -4, \"pf\": \"0.8C\", \"tariff\": 2,\n"
                         "     \"harmonics\": [{\"order\": 5, \"v_pct\": 3, \"i_pct\": 20}]}\n"
                         "  ]\n"
                         "}\n";

START_TEST(parses_segments_with_inheritance)
{
    klefr_profile p;
    klefr_load b = base();
    char err[512] = "";
    ck_assert_msg(klefr_profile_parse(&p, "day.json", day, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.name, "test day");
    ck_assert_uint_eq(p.nseg, 4);
    ck_assert_uint_eq(p.total_us, (3600 + 1800 + 120 + 30) * 1000000ull);
    ck_assert_int_eq(p.seg[0].line, 4);
    ck_assert_double_eq_tol(p.seg[0].load.i_rms, 0.5, 1e-9);
    ck_assert_double_eq_tol(p.seg[1].load.i_rms, 12, 1e-9);                       /* changed */
    ck_assert_double_eq_tol(p.seg[1].load.phi_deg, acos(0.9) * 180 / M_PI, 1e-6); /* kept */
    ck_assert_int_eq(p.seg[1].tariff_input, 1);
    ck_assert(p.seg[1].power);
    ck_assert(!p.seg[2].power);
    ck_assert(p.seg[3].power); /* a cut lasts one segment */
    ck_assert_double_eq_tol(p.seg[3].load.phi_deg, -36.869898 + 180, 1e-5); /* export, 0.8C */
    ck_assert_int_eq(p.seg[3].tariff, 2);
    ck_assert_uint_eq(p.seg[3].load.n_harm, 1);
    klefr_profile_free(&p);
}
END_TEST

/* A long profile (a day in 1 s steps is 86,400 segments): every segment
 * knows its line, and an error in the last one names its line. */
START_TEST(long_profile_keeps_every_line)
{
    enum { N = 20000 };
    size_t cap = (size_t)N * 48 + 64, at = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    at += (size_t)snprintf(text + at, cap - at, "[\n");
    for (int k = 0; k < N; k++)
        at += (size_t)snprintf(text + at, cap - at, "{\"duration\": 1, \"i\": %d}%s\n", k % 50,
                               k + 1 < N ? "," : "");
    snprintf(text + at, cap - at, "]\n");
    klefr_profile p;
    klefr_load b = base();
    char err[512] = "";
    ck_assert_msg(klefr_profile_parse(&p, "day.json", text, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.nseg, N);
    for (int k = 0; k < N; k += 997)
        ck_assert_int_eq(p.seg[k].line, k + 2);
    ck_assert_int_eq(p.seg[N - 1].line, N + 1);
    klefr_profile_free(&p);
    char *last = strrchr(text, '{');
    memcpy(last, "{\"durat\":", 9); /* an unknown key on the last segment */
    ck_assert_int_eq(klefr_profile_parse(&p, "day.json", text, &b, err, sizeof err), -1);
    char want[64];
    snprintf(want, sizeof want, "day.json:%d: ", N + 1);
    ck_assert_msg(strstr(err, want) == err, "got '%s', want prefix '%s'", err, want);
    free(text);
}
END_TEST

START_TEST(errors_name_file_and_line)
{
    parse_bad("{\"segments\": [\n  {\"duration\": 10,\n   \"lod\": \"5A\"}\n]}",
              "day.json:3: unknown key \"lod\"");
    parse_bad("{\"segments\": [\n  {\"duration\": 10}\n  {\"duration\": 10}\n]}",
              "day.json:3: not valid JSON");
    parse_bad("[\n {\"duration\": 10},\n {\"duration\": 5, \"load\": \"230V,10X\"}\n]",
              "day.json:3: '10X': unknown unit");
    parse_bad("[\n {\"duration\": \"1 hour\"}\n]", "day.json:2: \"duration\" must be");
    parse_bad("[\n {\"i\": 3}\n]", "day.json:2: segment without \"duration\"");
    parse_bad("{\n \"segments\": []\n}", "day.json:2: the profile has no segments");
    parse_bad("{\n \"name\": \"x\"\n}", "day.json:1: no \"segments\" list");
    parse_bad("[\n {\"duration\": 1,\n  \"tariff\": 3}]", "day.json:3: \"tariff\" must be 1 or 2");
    parse_bad("[{\"duration\": 1,\n \"pf\": \"0.8X\"}]", "day.json:2: 'pf=0.8X'");
    parse_bad("", "day.json:1: not valid JSON");
    parse_bad("[\n {\"duration\": 1},\n]\n", "day.json:3: not valid JSON at ']'");
    parse_bad("[\n {\"duration\": 1,\n  \"i\": 2,}\n]\n", "day.json:3: not valid JSON");
    parse_bad("[\n {\"duration\": 1,\n  \"i\": 2\n", "day.json:3: not valid JSON (unexpected end");
    parse_bad("{\"events\": []}", "day.json:1: \"events\" is reserved");
}
END_TEST

START_TEST(playback_changes_load_power_and_tariff)
{
    static const char *text = "{\"segments\": ["
                              "{\"duration\": 2, \"load\": \"230V,1A\"},"
                              "{\"duration\": 1, \"i\": 5, \"tariff_input\": true},"
                              "{\"duration\": 1, \"power\": false},"
                              "{\"duration\": 1, \"power\": true, \"i\": 7}]}";
    klefr_profile p;
    klefr_load b = base();
    char err[256] = "";
    ck_assert_msg(klefr_profile_parse(&p, "t.json", text, &b, err, sizeof err) == 0, "%s", err);
    static klefr_synth synth;
    static klefr_sim sim;
    klefr_synth_init(&synth, &b, &(klefr_adc_model){.gain_v = 1, .gain_i = 1});
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL, &synth.afe, NULL,
                                    err, sizeof err),
                     0);
    klefr_profile_player pl;
    klefr_profile_start(&pl, &p, &sim, &synth);
    ck_assert_double_eq_tol(synth.load.i_rms, 1, 1e-9);
    ck_assert(klefr_sim_run_until(&sim, 2500000));
    ck_assert_double_eq_tol(synth.load.i_rms, 5, 1e-9);
    ck_assert_uint_eq(sim.meter.tariff, 2); /* tariff input = T2 on the 6922 */
    ck_assert(klefr_sim_run_until(&sim, 3500000));
    ck_assert(!sim.powered);
    ck_assert_uint_eq(sim.meter.regs.power_downs, 1);
    ck_assert(klefr_sim_run_until(&sim, 4500000));
    ck_assert(sim.powered);
    ck_assert_double_eq_tol(synth.load.i_rms, 7, 1e-9);
    ck_assert_uint_eq(sim.meter.tariff, 2); /* the input level is seen again after power-up */
    ck_assert(klefr_sim_run_until(&sim, 9000000));
    ck_assert(pl.done);
    ck_assert_double_eq_tol(synth.load.i_rms, 7, 1e-9); /* the last segment holds */
    klefr_profile_free(&p);
}
END_TEST

/* The tariff command exists on the bus models only. */
START_TEST(tariff_command_on_bus_models_only)
{
    static const klefr_model models[] = {KLEFR_MODEL_6921, KLEFR_MODEL_6924};
    static const unsigned want[] = {1, 2};
    for (int k = 0; k < 2; k++) {
        klefr_profile p;
        klefr_load b = base();
        char err[256] = "";
        ck_assert_int_eq(klefr_profile_parse(&p, "t.json", "[{\"duration\": 1, \"tariff\": 2}]", &b,
                                             err, sizeof err),
                         0);
        static klefr_synth synth;
        static klefr_sim sim;
        klefr_synth_init(&synth, &b, &(klefr_adc_model){.gain_v = 1, .gain_i = 1});
        ck_assert_int_eq(klefr_sim_init(&sim, models[k], KLEFR_DEFAULT_SERIAL, &synth.afe, NULL,
                                        err, sizeof err),
                         0);
        klefr_profile_player pl;
        klefr_profile_start(&pl, &p, &sim, &synth);
        ck_assert(klefr_sim_run_until(&sim, 100000));
        ck_assert_uint_eq(sim.meter.tariff, want[k]);
        klefr_profile_free(&p);
    }
}
END_TEST

START_TEST(example_profile_loads)
{
    klefr_profile p;
    klefr_load b = base();
    char err[512] = "";
    ck_assert_msg(
        klefr_profile_load(&p, SCENARIOS_DIR "/profiles/household-day.json", &b, err, sizeof err) == 0, "%s",
        err);
    ck_assert_uint_eq(p.total_us, 86400000000ull); /* a whole day */
    klefr_profile_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_add_test(tc, parses_segments_with_inheritance);
    tcase_add_test(tc, errors_name_file_and_line);
    tcase_add_test(tc, long_profile_keeps_every_line);
    tcase_add_test(tc, playback_changes_load_power_and_tariff);
    tcase_add_test(tc, tariff_command_on_bus_models_only);
    tcase_add_test(tc, example_profile_loads);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
