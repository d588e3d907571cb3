/* The scenario engine (sim/scenario*.c): what the format means when it runs.
 * Messages of malformed files and the library are tested end to end in
 * test_scenarios.sh; here the semantics: expansion of event times, windows,
 * the order of things at one time, ramps, faults. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"
#include "scenario_harness.h"

START_TEST(every_and_random_expand_deterministically)
{
    klefr_scn *s = parse_ok("{\"duration\": \"1h\", \"events\": ["
                            "{\"every\": \"10min\", \"from\": \"5min\", \"do\": \"day_reset\"},"
                            "{\"random\": 20, \"between\": [0, \"1h\"], \"do\": \"power_cut\","
                            " \"for\": [\"1s\", \"60s\"]}]}");
    ck_assert_uint_eq(s->nev, 6 + 20); /* 5, 15, ... 55 min */
    ck_assert_uint_eq(s->ev[0].t_us, 300000000u);
    ck_assert_uint_eq(s->ev[5].t_us, 3300000000u);
    uint64_t end = 0;
    for (size_t k = 6; k < s->nev; k++) { /* in order, never overlapping */
        ck_assert_uint_ge(s->ev[k].t_us, end);
        ck_assert_uint_ge(s->ev[k].for_us, 1000000u);
        ck_assert_uint_le(s->ev[k].for_us, 60000000u);
        end = s->ev[k].t_us + s->ev[k].for_us;
    }
    ck_assert_uint_le(end, 3600000000u);
    klefr_scn *again = parse_ok("{\"duration\": \"1h\", \"events\": ["
                                "{\"every\": \"10min\", \"from\": \"5min\", \"do\": \"day_reset\"},"
                                "{\"random\": 20, \"between\": [0, \"1h\"], \"do\": \"power_cut\","
                                " \"for\": [\"1s\", \"60s\"]}]}");
    for (size_t k = 0; k < s->nev; k++) {
        ck_assert_uint_eq(s->ev[k].t_us, again->ev[k].t_us);
        ck_assert_uint_eq(s->ev[k].for_us, again->ev[k].for_us);
    }
    klefr_scn_free(s);
    klefr_scn_free(again);
}
END_TEST

START_TEST(duration_defaults_to_the_latest_thing)
{
    klefr_scn *s = parse_ok("{\"timeline\": [{\"duration\": 30}],"
                            " \"events\": [{\"at\": 40, \"do\": \"press\", \"button\": \"left\","
                            " \"hold\": 5.005}],"
                            " \"expect\": [{\"value\": \"error\", \"eq\": 0}]}");
    ck_assert_uint_eq(s->duration_us, 45010000u); /* 45.005 s, up to a whole slice */
    ck_assert_uint_eq(s->ex[0].t_us, s->duration_us); /* "end" */
    klefr_scn_free(s);
    parse_bad("{\"repeat\": true, \"timeline\": [{\"duration\": 30}]}",
              "t.json:1: repeat: a repeating timeline needs a \"duration\"");
}
END_TEST

/* At one time: the events first, then the expectations, which see them. */
START_TEST(expectations_see_the_events_of_their_time)
{
    klefr_scn *s = run_ok("{\"meter\": {\"model\": 6923},"
                          " \"events\": [{\"at\": 10, \"do\": \"set\", \"settings\": {\"calc_code\": 5}},"
                          "  {\"at\": 20, \"do\": \"tariff\", \"tariff\": 2}],"
                          " \"expect\": [{\"at\": 10, \"value\": \"settings.calc_code\", \"eq\": 5},"
                          "  {\"at\": 9.99, \"value\": \"settings.calc_code\", \"eq\": 1},"
                          "  {\"at\": 20, \"value\": \"tariff\", \"eq\": 2}]}");
    ck_assert_uint_eq(s->npass, 3);
    ck_assert_uint_eq(s->nfail, 0);
    klefr_scn_free(s);
}
END_TEST

/* "during" fails at the first slice that breaks it; "within" passes at the first that holds. */
START_TEST(windows_decide_at_the_right_slice)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": 10, \"load\": \"230V,1A\"},"
                          "  {\"duration\": 10, \"power\": false}, {\"duration\": 10}],"
                          " \"expect\": ["
                          "  {\"during\": [5, 25], \"value\": \"powered\", \"eq\": 1},"
                          "  {\"within\": [5, 25], \"value\": \"powered\", \"eq\": 0},"
                          "  {\"during\": [21, 29], \"value\": \"powered\", \"eq\": 1},"
                          "  {\"within\": [21, 29], \"value\": \"powered\", \"eq\": 0}]}");
    ck_assert_int_eq(s->ex[0].state, KLEFR_SCN_FAIL);
    ck_assert_uint_eq(s->ex[0].at_us, 10000000u);
    ck_assert_str_eq(s->ex[0].msg, "t=10 s: expect powered = 1 during 5..25 s, got 0");
    ck_assert_int_eq(s->ex[1].state, KLEFR_SCN_PASS);
    ck_assert_uint_eq(s->ex[1].at_us, 10000000u);
    ck_assert_int_eq(s->ex[2].state, KLEFR_SCN_PASS);
    ck_assert_int_eq(s->ex[3].state, KLEFR_SCN_FAIL);
    ck_assert_uint_eq(s->ex[3].at_us, 29000000u);
    klefr_scn_free(s);
}
END_TEST

/* A power ramp puts exactly its energy at the terminals; the meter registers it
 * (a second without load after it: the truth at the registers' last block end
 * is then all of it). */
START_TEST(a_power_ramp_registers_its_energy)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": \"1h\", \"load\": \"230V,0A,pf=1\","
                          " \"ramp\": {\"p\": 2000}}, {\"duration\": 1, \"p\": 0}],"
                          " \"expect\": [{\"value\": \"energy.active_fwd_kwh\", \"eq\": 1.0,"
                          " \"tol_pct\": 0.05}, {\"accuracy\": \"active_fwd_kwh\", \"tol_pct\": 0.05},"
                          " {\"at\": \"30min\", \"value\": \"measure.p_w\", \"eq\": 1000, \"tol_pct\": 0.5}]}");
    ck_assert_double_eq_tol(s->final_truth_kwh[0], 1.0, 1e-6);
    ck_assert_uint_eq(s->npass, 3);
    klefr_scn_free(s);
}
END_TEST

/* A failed write shows Err 01 at the periodic save, not before. */
START_TEST(a_failed_eeprom_write_is_err01_at_the_next_save)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": \"20min\", \"load\": \"230V,5A\"}],"
                          " \"events\": [{\"at\": 60, \"do\": \"eeprom_write_fail\"}],"
                          " \"expect\": [{\"at\": \"14min59s\", \"value\": \"error\", \"eq\": 0},"
                          "  {\"at\": \"15min01s\", \"value\": \"error\", \"eq\": 1}]}");
    ck_assert_uint_eq(s->npass, 2);
    klefr_scn_free(s);
}
END_TEST

/* Pulses count by the time they start, in their window only. */
START_TEST(pulses_count_in_their_window)
{
    /* 3.6 kW: one LED pulse (0.1 Wh) every 0.1 s, one S0 pulse (1 Wh) every second. */
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": 120, \"load\": \"3600W,230V,pf=1\"}],"
                          " \"expect\": [{\"during\": [60, 70], \"pulses\": \"led\", \"eq\": 100, \"tol\": 1},"
                          "  {\"during\": [60, 70], \"pulses\": \"s0_fwd\", \"eq\": 10, \"tol\": 1},"
                          "  {\"at\": 100, \"pulses\": \"s0_rev\", \"eq\": 0}]}");
    ck_assert_uint_eq(s->npass, 3);
    ck_assert_uint_ge(s->ex[0].count, 99);
    klefr_scn_free(s);
}
END_TEST

START_TEST(errors_name_the_field)
{
    parse_bad("{\"expect\": [{\"value\": \"error\", \"eq\": 0, \"tol_pct\": -1}]}",
              "t.json:1: expect[0].tol_pct: -1 is out of range 0..1e+300");
    parse_bad("{\"expect\": [{\"value\": \"error\", \"lcd\": \"name\", \"eq\": 0}]}",
              "t.json:1: expect[0].lcd: one subject per expectation");
    parse_bad("{\"events\": [{\"at\": 1, \"every\": 2, \"do\": \"day_reset\"}]}",
              "t.json:1: events[0]: give exactly one of \"at\", \"every\" or \"random\"");
    parse_bad("{\n\"meter\": {\"registers\": {\"active_fwd_kwh\": {\"t3\": 1}}}}",
              "t.json:2: meter.registers.active_fwd_kwh.t3: unknown key (expected t1, t2)");
    parse_bad("[1, 2]", "t.json:1: (top level): a scenario is a JSON object");
    parse_bad("{\"timeline\": [{\"duration\": 1,\n \"ramp\": {\"pf\": 0, \"p\": 100}}]}",
              "t.json:2: timeline[0].ramp: a power needs a voltage and a power factor above 0");
    /* counts, seeds and addresses are whole (the schema says integer; 1.5 was taken as 1) */
    parse_bad("{\"meter\": {\"seed\": 1.5}}", "t.json:1: meter.seed: must be a whole number");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"r\","
              " \"register\": \"0x5000\", \"count\": 7.5}]}",
              "t.json:1: events[0].count: must be a whole number");
}
END_TEST

/* A meter that starts with registers set: the truth counts from there (the
 * expectation, the report's table, the plot's dashed lines). */
START_TEST(accuracy_counts_from_the_registers_at_power_up)
{
    klefr_scn *s = run_ok("{\"meter\": {\"registers\": {\"active_fwd_kwh\": 100}},"
                          " \"timeline\": [{\"duration\": \"30min\", \"load\": \"230V,10A,pf=1\"},"
                          " {\"duration\": 1, \"i\": 0}],"
                          " \"expect\": [{\"accuracy\": \"active_fwd_kwh\", \"tol_pct\": 0.1},"
                          "  {\"during\": [\"10min\", \"20min\"], \"accuracy\": \"active_fwd_kwh\","
                          "   \"tol_pct\": 0.1}]}");
    ck_assert_uint_eq(s->npass, 2);
    ck_assert_double_eq_tol(s->start_reg_kwh[0], 100, 1e-9);
    ck_assert_double_eq_tol(s->final_reg_kwh[0], 1.15, 0.002); /* gained, not 101.15 */
    ck_assert_double_eq_tol(s->final_truth_kwh[0], 1.15, 1e-6);
    ck_assert_double_eq_tol(s->samples[s->nsamples - 1].truth_kwh[0], 101.15, 0.002);
    klefr_scn_free(s);
}
END_TEST

/* A ramp of power and power factor together: the power's sign is the
 * direction, the power factor moves by its size (never through 0, where
 * I = P / (V pf) would pass 100 A). */
START_TEST(a_ramp_of_power_and_pf_keeps_the_power_direction)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": 60, \"load\": \"230V,8A,pf=0.9C\","
                          "  \"direction\": \"export\"},"
                          "  {\"duration\": \"10min\", \"ramp\": {\"p\": -3000, \"pf\": 0.5}},"
                          "  {\"duration\": \"10min\", \"ramp\": {\"p\": 3000, \"pf\": 1}}],"
                          " \"expect\": [{\"at\": \"11min\", \"value\": \"measure.p_w\", \"eq\": -3000,"
                          "   \"tol\": 15},"
                          "  {\"at\": \"11min\", \"value\": \"measure.pf\", \"eq\": -0.5, \"tol\": 0.01},"
                          "  {\"during\": [0, \"11min\"], \"value\": \"measure.i\", \"max\": 26.5},"
                          "  {\"during\": [0, \"21min\"], \"value\": \"measure.i\", \"max\": 27},"
                          "  {\"at\": \"11min\", \"value\": \"energy.active_fwd_kwh\", \"eq\": 0},"
                          "  {\"value\": \"measure.p_w\", \"eq\": 3000, \"tol\": 15},"
                          "  {\"accuracy\": \"reactive_fwd_kvarh\", \"tol_pct\": 0.5},"
                          "  {\"accuracy\": \"reactive_rev_kvarh\", \"tol_pct\": 0.5}]}");
    for (size_t k = 0; k < s->nex; k++)
        ck_assert_msg(s->ex[k].state == KLEFR_SCN_PASS, "%s", s->ex[k].msg);
    klefr_scn_free(s);
}
END_TEST

/* Accuracy of short runs: the registers take a block (10 cycles, 0.2 s) at its
 * end, so the truth they are held to is the truth up to that block end. A run
 * or window ending anywhere in a block reads the metering's error (well
 * within 0.1 %), not the block still in progress (up to 3.7 % of 5 s). */
START_TEST(accuracy_of_short_runs_ignores_the_block_in_progress)
{
    static const char *const ends[] = {"5", "5.1", "5.19", "100"};
    for (size_t k = 0; k < sizeof ends / sizeof *ends; k++) {
        char text[600];
        snprintf(text, sizeof text,
                 "{\"timeline\": [{\"duration\": 2, \"load\": \"230V,5A,pf=0.8L\"},"
                 " {\"duration\": 1, \"power\": false}, {\"duration\": %s, \"i\": 10}],"
                 " \"expect\": [{\"accuracy\": \"active_fwd_kwh\", \"tol_pct\": 0.1},"
                 "  {\"accuracy\": \"reactive_fwd_kvarh\", \"tol_pct\": 0.1},"
                 "  {\"during\": [0.5, 1.95], \"accuracy\": \"active_fwd_kwh\", \"tol_pct\": 0.1}]}",
                 ends[k]);
        klefr_scn *s = run_ok(text);
        for (size_t j = 0; j < s->nex; j++)
            ck_assert_msg(s->ex[j].state == KLEFR_SCN_PASS, "run of 3 + %s s: %s", ends[k],
                          s->ex[j].msg);
        klefr_scn_free(s);
    }
}
END_TEST

/* A run stopped early (a signal): a window that held so far fails, and its
 * line says why, not "got" a value that satisfies it. */
START_TEST(a_stopped_run_says_not_reached)
{
    klefr_scn *s = parse_ok("{\"duration\": \"1h\", \"timeline\": [{\"duration\": \"1h\","
                            " \"load\": \"230V,1A\"}],"
                            " \"expect\": [{\"during\": [0, \"1h\"], \"value\": \"measure.v\", \"min\": 0}]}");
    static volatile sig_atomic_t stop = 1;
    klefr_scn_run_opts o = {.stop = &stop};
    char err[512] = "";
    ck_assert_int_eq(klefr_scn_run(s, &o, err, sizeof err), 0);
    ck_assert_int_eq(s->ex[0].state, KLEFR_SCN_FAIL);
    ck_assert_msg(strstr(s->ex[0].msg, "expect measure.v >= 0: not reached (signal)"), "%s",
                  s->ex[0].msg);
    klefr_scn_free(s);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_and_random_expand_deterministically);
    tcase_add_test(tc, duration_defaults_to_the_latest_thing);
    tcase_add_test(tc, expectations_see_the_events_of_their_time);
    tcase_add_test(tc, windows_decide_at_the_right_slice);
    tcase_add_test(tc, a_power_ramp_registers_its_energy);
    tcase_add_test(tc, a_failed_eeprom_write_is_err01_at_the_next_save);
    tcase_add_test(tc, pulses_count_in_their_window);
    tcase_add_test(tc, errors_name_the_field);
    tcase_add_test(tc, accuracy_counts_from_the_registers_at_power_up);
    tcase_add_test(tc, a_ramp_of_power_and_pf_keeps_the_power_direction);
    tcase_add_test(tc, a_stopped_run_says_not_reached);
    tcase_add_test(tc, accuracy_of_short_runs_ignores_the_block_in_progress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return klefr_check_run(scenario_suite());
}
