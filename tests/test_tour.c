/* Guided tours (sim/scenario_tour.c, docs/tours.md): how steps are laid out
 * in time, the hints derived from their presses, the checks at their ends,
 * the errors, and going back to a snapshot of the run. The library of tours
 * runs end to end in test_tours.sh. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fleet.h"
#include "scenario.h"
#include "scenario_harness.h"
#include "sim.h"

/* A 6924 from the automatic scroll into program mode 2, editing SEC. */
static const char pm2[] =
    "{\"meter\": {\"model\": 6924}, \"tour\": {\"manual\": \"7.6.2\", \"steps\": [\n"
    "{\"title\": \"Automatic scroll\", \"lcd\": \"FW kWh | 0.00 | TOTAL\"},\n"
    "{\"title\": \"To PM2\", \"do\": [\"R*6\"], \"lcd\": \"FW >> |  | PROG MODE2\"},\n"
    "{\"title\": \"Enter\", \"do\": [\"R+3.2\"], \"lcd\": \"FW << | 10 | SEC\"},\n"
    "{\"title\": \"Edit\", \"do\": [\"R+5.2\", \"R\", \"R\"], \"lcd\": \"FW | 12 | SEC\"},\n"
    "{\"title\": \"Confirm\", \"text\": \"Both 3 s.\", \"do\": [\"B+3.2\"], \"lcd\": \"FW | 12 | OK\",\n"
    " \"expect\": [{\"value\": \"settings.lcd_cycle_s\", \"eq\": 12}]}]}}";

START_TEST(steps_follow_one_another)
{
    klefr_scn *s = parse_ok(pm2);
    ck_assert_uint_eq(s->nstep, 5);
    ck_assert_str_eq(s->tour_manual, "7.6.2");
    /* step 1: caption at the start (1 s), no action: ends 0.2 s later */
    ck_assert_uint_eq(s->step[0].t_us, 1000000u);
    ck_assert_uint_eq(s->step[0].end_us, 1200000u);
    /* step 2: caption, 0.6 s lead, six presses of 0.2 s 0.5 s apart, 0.2 s settle */
    const klefr_scn_step *st = &s->step[1];
    ck_assert_uint_eq(st->t_us, 1200000u);
    ck_assert_uint_eq(st->nev, 7);
    ck_assert_str_eq(s->ev[st->first_ev].kind ? "caption" : "", "caption");
    ck_assert_str_eq(s->ev[st->first_ev].text, "To PM2");
    ck_assert_uint_eq(s->ev[st->first_ev + 1].t_us, 1800000u);
    ck_assert_uint_eq(s->ev[st->first_ev + 2].t_us, 2500000u);
    ck_assert_uint_eq(s->ev[st->first_ev + 6].t_us, 5300000u);
    ck_assert_int_eq(s->ev[st->first_ev + 6].step, 2);
    ck_assert_uint_eq(st->end_us, 5700000u);
    ck_assert_uint_eq(s->step[2].t_us, st->end_us);
    ck_assert_uint_eq(s->step[2].end_us, 5700000u + 600000u + 3200000u + 200000u);
    /* the run lasts to the last step's end; 5 LCD checks and one value */
    ck_assert_uint_eq(s->duration_us, s->step[4].end_us);
    ck_assert_uint_eq(s->nex, 6);
    ck_assert_str_eq(s->ex[s->step[4].lcd_ex].name, "step 5: Confirm");
    klefr_scn_free(s);
}
END_TEST

START_TEST(hints_come_from_the_presses)
{
    klefr_scn *s = parse_ok(pm2);
    ck_assert_str_eq(s->step[0].hint, "");
    ck_assert_uint_eq(s->step[0].hint_buttons, 0);
    ck_assert_str_eq(s->step[1].hint, "press R 6 times");
    ck_assert_uint_eq(s->step[1].hint_buttons, KLEFR_BTN_RIGHT);
    ck_assert(s->step[1].hint_hold_s == 0);
    ck_assert_str_eq(s->step[2].hint, "hold R 3 s");
    ck_assert(s->step[2].hint_hold_s == 3);
    ck_assert_str_eq(s->step[3].hint, "hold R 5 s, then press R 2 times");
    ck_assert(s->step[3].hint_hold_s == 5);
    ck_assert_str_eq(s->step[4].hint, "hold L+R 3 s");
    ck_assert_uint_eq(s->step[4].hint_buttons, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    klefr_scn_free(s);
    s = parse_ok("{\"meter\": {\"model\": 6922}, \"tour\": {\"steps\": [\n"
                 "{\"title\": \"a\", \"do\": [\"L\", {\"do\": \"tariff_input\", \"on\": true},"
                 " {\"do\": \"power_cut\", \"for\": \"3s\"}, \"L+1\"], \"lcd\": \"a | b | c\"},\n"
                 "{\"title\": \"b\", \"do\": [\"R\"], \"hint\": \"Next page\", \"lcd\": \"a | b | c\"}]}}");
    ck_assert_str_eq(s->step[0].hint, "press L, then switch the tariff input on (T2), then cut "
                                      "the supply for 3 s, then hold L 1 s");
    ck_assert_uint_eq(s->step[0].hint_buttons, KLEFR_BTN_LEFT);
    ck_assert_str_eq(s->step[1].hint, "Next page");
    ck_assert_uint_eq(s->step[1].hint_buttons, KLEFR_BTN_RIGHT);
    /* the cut lasts 3 s: the next action comes 0.5 s after the supply is back */
    const klefr_scn_event *cut = &s->ev[s->step[0].first_ev + 3];
    ck_assert_str_eq(cut->kind ? "power_cut" : "", "power_cut");
    ck_assert_uint_eq(s->ev[s->step[0].first_ev + 4].t_us, cut->t_us + 3500000u);
    klefr_scn_free(s);
}
END_TEST

START_TEST(every_step_checks_its_lcd)
{
    klefr_scn *s = run_ok(pm2);
    for (size_t k = 0; k < s->nex; k++)
        ck_assert_msg(s->ex[k].state == KLEFR_SCN_PASS, "%s: %s", s->ex[k].name, s->ex[k].msg);
    klefr_scn_free(s);
    /* a step that expects another text fails with what the LCD showed */
    char *bad = strdup(pm2);
    char *at = strstr(bad, "FW << | 10 | SEC");
    memcpy(at, "FW << | 11 | SEC", 16);
    s = run_ok(bad);
    ck_assert_uint_eq(s->nfail, 1);
    const klefr_scn_expect *e = &s->ex[s->step[2].lcd_ex];
    ck_assert_int_eq(e->state, KLEFR_SCN_FAIL);
    ck_assert_str_eq(e->msg, "t=9.7 s: expect lcd.text = \"FW << | 11 | SEC\", got "
                             "\"FW << | 10 | SEC\"");
    klefr_scn_free(s);
    free(bad);
}
END_TEST

START_TEST(tour_errors_name_the_field)
{
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\",\n"
              "\"do\": [\"R+x\"]}]}}",
              "t.json:2: tour.steps[0].do[0]: bad press \"R+x\" (expected L, R or B");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\"}]}}",
              "t.json:1: tour.steps[0]: a step needs \"lcd\"");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"TOTAL\"}]}}",
              "t.json:1: tour.steps[0].lcd: must be the LCD as one line");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\", \"expect\":"
              " [{\"at\": 3, \"value\": \"error\", \"eq\": 0}]}]}}",
              "t.json:1: tour.steps[0].expect[0].at: unknown key");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\", \"do\":"
              " [{\"do\": \"caption\", \"text\": \"x\"}]}]}}",
              "t.json:1: tour.steps[0].do[0].do: a step is its own caption");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\", \"do\":"
              " [{\"at\": 1, \"do\": \"day_reset\"}]}]}}",
              "t.json:1: tour.steps[0].do[0].at: unknown key");
    parse_bad("{\"tour\": {\"steps\": []}}", "t.json:1: tour.steps: must be a list of 1 to");
    parse_bad("{\"tour\": {\"step\": []}}", "t.json:1: tour.step: unknown key");
    parse_bad("{\"tour\": {\"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\", \"do\":"
              " [\"R*0\"]}]}}", "t.json:1: tour.steps[0].do[0]: bad press \"R*0\"");
}
END_TEST

/* A tour of an installation ("meters") shows, presses and checks the meter
 * "tour.meter" names (default: the first); a step's event or expectation
 * naming no meter is for that meter too, one naming another is for it. */
static const char installation[] =
    "{\"lines\": [{\"bus\": \"mbus\"}], \"meters\": [{\"id\": \"flat\", \"count\": 3, \"model\": 6923}],\n"
    " \"tour\": {\"meter\": \"flat-02\", \"steps\": [\n"
    "{\"title\": \"Scroll\", \"lcd\": \"FW kWh | 0.00 | TOTAL\"},\n"
    "{\"title\": \"Next\", \"do\": [\"R\"], \"lcd\": \"FW >> kWh | 0.00 | TOTAL\"},\n"
    "{\"title\": \"Cut flat-03\", \"do\": [\"R\", {\"do\": \"power_cut\", \"meter\": \"flat-03\"}],\n"
    " \"lcd\": \"FW >> kvarh | 0.00 | TOTAL\",\n"
    " \"expect\": [{\"value\": \"power_downs\", \"eq\": 0},\n"
    "            {\"value\": \"power_downs\", \"eq\": 1, \"meter\": \"flat-03\"}]}]},\n"
    " \"expect\": [{\"at\": \"end\", \"lcd\": \"name\", \"eq\": \"TOTAL\", \"meter\": \"flat-01\"},\n"
    "            {\"at\": \"end\", \"lcd\": \"icons\", \"eq\": \"FW kWh\", \"meter\": \"flat-01\"}]}";

START_TEST(a_tour_of_an_installation_shows_the_meter_it_names)
{
    klefr_scn *s = run_ok(installation);
    ck_assert_uint_eq(s->tour_meter, 1);
    for (size_t k = 0; k < s->nex; k++)
        ck_assert_msg(s->ex[k].state == KLEFR_SCN_PASS, "%s: %s", s->ex[k].name, s->ex[k].msg);
    /* 3 LCD checks, the step's 2 expectations (not one per meter), 2 of flat-01 */
    ck_assert_uint_eq(s->nex, 7);
    ck_assert_str_eq(s->ex[s->step[1].lcd_ex].what, "flat-02: lcd.text = \"FW >> kWh | 0.00 | TOTAL\"");
    ck_assert_int_eq(s->ev[s->step[1].first_ev + 1].meter, 1); /* the press */
    klefr_scn_free(s);
    /* the player's meter */
    s = parse_ok(installation);
    klefr_scn_run_opts o = {0};
    char err[256];
    klefr_scn_runner *r;
    ck_assert_int_eq(klefr_scn_runner_open(s, &o, &r, err, sizeof err), 0);
    ck_assert_int_eq(klefr_scn_runner_to(r, s->step[1].end_us), KLEFR_LOOP_END);
    ck_assert_uint_eq(klefr_scn_runner_sim(r)->meter.serial, s->fleet->meters[1].serial);
    ck_assert_uint_ne(s->fleet->meters[1].serial, s->fleet->meters[0].serial);
    klefr_scn_runner_free(r);
    klefr_scn_free(s);
    /* without "meter": the first */
    char *first = strdup(installation);
    char *at = strstr(first, "\"meter\": \"flat-02\", ");
    memset(at, ' ', strlen("\"meter\": \"flat-02\", "));
    s = run_ok(first);
    ck_assert_uint_eq(s->tour_meter, 0);
    ck_assert_uint_eq(s->nfail, 1); /* flat-01 was pressed: its page is no longer kWh */
    klefr_scn_free(s);
    free(first);
    parse_bad("{\"lines\": [{\"bus\": \"mbus\"}], \"meters\": [{\"count\": 2}],\n"
              "\"tour\": {\"meter\": \"m3\", \"steps\": [{\"title\": \"a\", \"lcd\": \"a | b | c\"}]}}",
              "t.json:2: tour.meter: no meter \"m3\" in \"meters\"");
}
END_TEST

/* Back in a player: the run from a snapshot is the run from the start. */
START_TEST(a_snapshot_replays_the_same_run)
{
    klefr_scn *s = parse_ok(pm2);
    klefr_scn_run_opts o = {0};
    char err[256];
    klefr_scn_runner *r;
    ck_assert_int_eq(klefr_scn_runner_open(s, &o, &r, err, sizeof err), 0);
    ck_assert_int_eq(klefr_scn_runner_to(r, s->step[3].t_us), KLEFR_LOOP_END);
    klefr_scn_snapshot *snap = klefr_scn_runner_save(r);
    ck_assert_ptr_nonnull(snap);
    ck_assert_int_eq(klefr_scn_runner_to(r, s->step[3].end_us), KLEFR_LOOP_END);
    static klefr_sim first;
    memcpy(&first, klefr_scn_runner_sim(r), sizeof first);
    size_t pass = s->npass;
    char lcd1[160], lcd2[160];
    klefr_scn_lcd(&first, lcd1, sizeof lcd1);
    /* back to the step's start: its check is pending again */
    klefr_scn_runner_restore(r, snap);
    ck_assert_uint_eq(klefr_scn_runner_sim(r)->t_us, s->step[3].t_us);
    ck_assert_int_eq(s->ex[s->step[3].lcd_ex].state, KLEFR_SCN_PENDING);
    ck_assert_uint_lt(s->npass, pass);
    ck_assert_int_eq(klefr_scn_runner_to(r, s->step[3].end_us), KLEFR_LOOP_END);
    const klefr_sim *again = klefr_scn_runner_sim(r);
    klefr_scn_lcd(again, lcd2, sizeof lcd2);
    ck_assert_str_eq(lcd1, "FW | 12 | SEC");
    ck_assert_str_eq(lcd2, lcd1);
    ck_assert_uint_eq(s->npass, pass);
    ck_assert_int_eq(memcmp(&again->meter.regs, &first.meter.regs, sizeof first.meter.regs), 0);
    ck_assert_int_eq(memcmp(&again->meter.meas, &first.meter.meas, sizeof first.meter.meas), 0);
    ck_assert_int_eq(again->meter.ui.state, first.meter.ui.state);
    ck_assert_int_eq(again->meter.ui.page, first.meter.ui.page);
    ck_assert_int_eq(memcmp(&again->eeprom, &first.eeprom, sizeof first.eeprom), 0);
    ck_assert_int_eq(memcmp(&again->out, &first.out, sizeof first.out), 0);
    /* and the rest of the tour passes */
    ck_assert_int_eq(klefr_scn_runner_to(r, s->duration_us), KLEFR_LOOP_END);
    ck_assert_int_eq(klefr_scn_runner_finish(r, KLEFR_LOOP_END, err, sizeof err), 0);
    ck_assert_uint_eq(s->nfail, 0);
    ck_assert_uint_eq(s->npass, s->nex);
    klefr_scn_snapshot_free(snap);
    klefr_scn_runner_free(r);
    klefr_scn_free(s);
}
END_TEST

static Suite *tour_suite(void)
{
    Suite *s = suite_create("tour");
    TCase *tc = tcase_create("format");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, steps_follow_one_another);
    tcase_add_test(tc, hints_come_from_the_presses);
    tcase_add_test(tc, every_step_checks_its_lcd);
    tcase_add_test(tc, tour_errors_name_the_field);
    tcase_add_test(tc, a_snapshot_replays_the_same_run);
    tcase_add_test(tc, a_tour_of_an_installation_shows_the_meter_it_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return klefr_check_run(tour_suite());
}
