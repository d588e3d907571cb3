/* Serial steps of scenarios (sim/scenario_serial.c, scenario_reply.c,
 * scenario_decode_*.c): what a step sends, what the master makes of the
 * reply, when the reply expectation decides, and the master's settings
 * against the meter's. The library's sessions run end to end in
 * test_scenarios.sh; here the semantics, one at a time. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scenario.h"
#include "scenario_harness.h"
#include "scenario_priv.h"

/* Expectation k passed; else its message. */
#define ck_pass(s, k) ck_assert_msg((s)->ex[k].state == KLEFR_SCN_PASS, "ex %d: %s", k, (s)->ex[k].msg)
#define ck_fail(s, k) ck_assert_msg((s)->ex[k].state == KLEFR_SCN_FAIL, "ex %d passed: %s", k, (s)->ex[k].msg)

/* The report's record of occurrence k (a string field of its run). */
static const char *record_str(klefr_scn *s, size_t ev, const char *path0, int x, const char *key)
{
    static char out[600];
    cJSON *o = klefr_scn_serial_record(s, &s->ev[ev]);
    ck_assert_ptr_nonnull(o);
    cJSON *run = cJSON_GetObjectItem(o, "run");
    cJSON *v = x >= 0 ? cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(run, path0), x), key)
                      : cJSON_GetObjectItem(run, key);
    ck_assert_ptr_nonnull(v);
    if (cJSON_IsString(v))
        snprintf(out, sizeof out, "%s", v->valuestring);
    else
        snprintf(out, sizeof out, "%.10g", v->valuedouble);
    cJSON_Delete(o);
    return out;
}

/* The request goes on the wire as a master builds it; the reply arrives at
 * the line's pace and decodes by the manual's map. */
START_TEST(a_modbus_read_sends_the_frame_and_decodes_the_map)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": 3, \"load\": \"230V,10A,pf=1\"}],"
                          " \"events\": [{\"at\": 2, \"do\": \"modbus_read\", \"name\": \"v\","
                          "  \"register\": \"voltage\", \"count\": 4}],"
                          " \"expect\": [{\"reply\": \"v\", \"field\": \"voltage\", \"eq\": 230, \"tol\": 0.1},"
                          "  {\"reply\": \"v\", \"field\": \"0x5002\", \"eq\": 230, \"tol\": 0.1},"
                          "  {\"reply\": \"v\", \"hex\": \"01 03 08 43 6? ?? ?? 43 6? .. ?? ??\"},"
                          "  {\"reply\": \"v\", \"hex\": \"01 03 08 43 6?\"},"
                          "  {\"reply\": \"v\", \"timing\": \"first_byte\", \"eq\": 5.657, \"tol\": 0.001},"
                          "  {\"reply\": \"v\", \"timing\": \"limits\"}]}");
    for (int k = 0; k < 6; k++)
        if (k != 3)
            ck_pass(s, k);
    ck_fail(s, 3); /* a pattern covers the whole reply unless it ends with ".." */
    /* 9600 8E1: t3.5 4.011 ms + 0.5 ms, then one character (1.146 ms) */
    ck_assert_str_eq(record_str(s, 0, "exchanges", 0, "request"), "01 03 50 00 00 04 55 09");
    ck_assert_str_eq(record_str(s, 0, "exchanges", 0, "first_byte_ms"), "5.657");
    ck_assert_str_eq(record_str(s, 0, NULL, -1, "status"), "ok");
    klefr_scn_free(s);
}
END_TEST

/* A master whose settings differ from the meter's is not understood, as on
 * a wire; the same request at the meter's settings is. */
START_TEST(a_master_with_other_settings_gets_no_reply)
{
    klefr_scn *s = run_ok("{\"events\": ["
                          "  {\"at\": 1, \"do\": \"modbus_read\", \"name\": \"odd\", \"register\": \"serial\", \"parity\": \"odd\"},"
                          "  {\"at\": 2, \"do\": \"modbus_read\", \"name\": \"n\", \"register\": \"serial\", \"parity\": \"none\"},"
                          "  {\"at\": 3, \"do\": \"modbus_read\", \"name\": \"slow\", \"register\": \"serial\", \"baud\": 2400},"
                          "  {\"at\": 4, \"do\": \"modbus_read\", \"name\": \"ok\", \"register\": \"serial\", \"baud\": 9600, \"parity\": \"even\"},"
                          "  {\"at\": 5, \"do\": \"iec_readout\", \"name\": \"iec8n1\", \"data_bits\": 8, \"parity\": \"none\"}],"
                          " \"expect\": [{\"reply\": \"odd\", \"timing\": \"none\"},"
                          "  {\"reply\": \"n\", \"timing\": \"none\"},"
                          "  {\"reply\": \"slow\", \"timing\": \"none\"},"
                          "  {\"reply\": \"ok\", \"field\": \"serial\", \"eq\": 17060102},"
                          "  {\"reply\": \"odd\", \"field\": \"status\", \"eq\": \"none\"},"
                          "  {\"reply\": \"iec8n1\", \"field\": \"status\", \"eq\": \"none\"}]}");
    for (int k = 0; k < 6; k++)
        ck_pass(s, k);
    klefr_scn_free(s);
}
END_TEST

/* Without a time a reply expectation holds for every reply of its step:
 * it fails at the first reply that breaks it, with that reply's time; at a
 * time it sees the last reply that had come by then. */
START_TEST(every_reply_is_checked_when_it_comes)
{
    klefr_scn *s = run_ok("{\"timeline\": [{\"duration\": 35, \"load\": \"230V,10A\"},"
                          "  {\"duration\": 30, \"v\": 200}],"
                          " \"events\": [{\"every\": 10, \"from\": 5, \"do\": \"modbus_read\","
                          "  \"name\": \"v\", \"register\": \"voltage\"}],"
                          " \"expect\": [{\"reply\": \"v\", \"field\": \"voltage\", \"eq\": 230, \"tol\": 1},"
                          "  {\"at\": 30, \"reply\": \"v\", \"field\": \"voltage\", \"eq\": 230, \"tol\": 1},"
                          "  {\"at\": 50, \"reply\": \"v\", \"field\": \"voltage\", \"eq\": 200, \"tol\": 1},"
                          "  {\"reply\": \"v\", \"timing\": \"limits\"}]}");
    ck_fail(s, 0);
    /* the reply to the read at 45 s: 8 + 9 characters at 9600 8E1 and 4.5 ms */
    ck_assert_uint_eq(s->ex[0].at_us, 45023993u);
    ck_assert_str_eq(s->ex[0].msg, "t=45.023993 s: expect reply v voltage = 230 +- 1, got 200");
    ck_pass(s, 1);
    ck_pass(s, 2);
    ck_pass(s, 3);
    ck_assert_uint_eq(s->ex[3].count, 6); /* 5, 15, ... 55 s */
    klefr_scn_free(s);
}
END_TEST

/* Steps on one port run one after the other; the run lasts long enough for
 * the last reply; a step without supply gets no reply. */
START_TEST(steps_queue_on_a_port_and_the_run_waits_for_the_reply)
{
    klefr_scn *s = run_ok("{\"meter\": {\"model\": 6923},"
                          " \"events\": [{\"at\": 1, \"do\": \"mbus_req_ud2\", \"name\": \"a\", \"baud\": 9600},"
                          "  {\"at\": 1, \"do\": \"mbus_req_ud2\", \"name\": \"b\"},"
                          "  {\"at\": 3, \"do\": \"power_cut\", \"for\": 2},"
                          "  {\"at\": 4, \"do\": \"mbus_snd_nke\", \"name\": \"dead\"}],"
                          " \"expect\": [{\"reply\": \"a\", \"field\": \"access\", \"eq\": 0},"
                          "  {\"reply\": \"b\", \"field\": \"access\", \"eq\": 1},"
                          "  {\"reply\": \"dead\", \"timing\": \"none\"}]}");
    for (int k = 0; k < 3; k++)
        ck_pass(s, k);
    ck_assert_uint_gt(s->duration_us, 5000000u); /* past 4 s + the master's 0.6 s wait */
    /* b waited for a's reply: 81 bytes at 9600 after 3.1 ms */
    double a_done = strtod(record_str(s, 0, NULL, -1, "done_s"), NULL);
    double b_start = strtod(record_str(s, 1, NULL, -1, "start_s"), NULL);
    ck_assert_double_eq_tol(b_start, a_done, 1e-9);
    ck_assert_double_gt(a_done, 1.09);
    klefr_scn_free(s);
}
END_TEST

/* The master alternates the FCB after each good RSP_UD and starts again
 * with 1 after SND_NKE; a repeated FCB is a repeat (same access number). */
START_TEST(the_mbus_master_alternates_the_fcb)
{
    klefr_scn *s = run_ok("{\"meter\": {\"model\": 6923},"
                          " \"events\": [{\"at\": 1, \"do\": \"mbus_req_ud2\", \"name\": \"r1\"},"
                          "  {\"at\": 2, \"do\": \"mbus_req_ud2\", \"name\": \"r2\"},"
                          "  {\"at\": 3, \"do\": \"mbus_req_ud2\", \"name\": \"again\", \"fcb\": false},"
                          "  {\"at\": 4, \"do\": \"mbus_snd_nke\", \"name\": \"nke\"},"
                          "  {\"at\": 5, \"do\": \"mbus_req_ud2\", \"name\": \"r3\"}],"
                          " \"expect\": [{\"reply\": \"r1\", \"hex\": \"68 4B 4B 68 08 00 72 02 01 06 17 CD 25 01 02 00 ..\"},"
                          "  {\"reply\": \"r2\", \"field\": \"access\", \"eq\": 1},"
                          "  {\"reply\": \"again\", \"field\": \"access\", \"eq\": 1},"
                          "  {\"reply\": \"nke\", \"field\": \"status\", \"eq\": \"ack\"},"
                          "  {\"reply\": \"r3\", \"field\": \"access\", \"eq\": 2}]}");
    for (int k = 0; k < 5; k++)
        ck_pass(s, k);
    ck_assert_str_eq(record_str(s, 0, "exchanges", 0, "request"), "10 7B 00 7B 16");
    ck_assert_str_eq(record_str(s, 1, "exchanges", 0, "request"), "10 5B 00 5B 16");
    ck_assert_str_eq(record_str(s, 2, "exchanges", 0, "request"), "10 5B 00 5B 16");
    ck_assert_str_eq(record_str(s, 4, "exchanges", 0, "request"), "10 7B 00 7B 16");
    klefr_scn_free(s);
}
END_TEST

/* A readout session: sign-on at 300 baud, the option select, the data at
 * the new baud; the master decodes every line and checks the BCC. */
START_TEST(an_iec_readout_changes_over_and_decodes_every_line)
{
    klefr_scn *s = run_ok("{\"meter\": {\"model\": 6921, \"registers\": {\"active_fwd_kwh\": 12.345}},"
                          " \"events\": [{\"at\": 1, \"do\": \"iec_readout\", \"name\": \"r\", \"session_baud\": 4800}],"
                          " \"expect\": [{\"reply\": \"r\", \"field\": \"1.8.0\", \"eq\": 12.345},"
                          "  {\"reply\": \"r\", \"field\": \"1.8.0\", \"eq\": \"000012.345*kWh\"},"
                          "  {\"reply\": \"r\", \"field\": \"ident\", \"eq\": \"KLF5KLEFR6921\"},"
                          "  {\"reply\": \"r\", \"field\": \"bcc\", \"eq\": \"ok\"},"
                          "  {\"reply\": \"r\", \"field\": \"1.8.1\", \"eq\": 0},"
                          "  {\"reply\": \"r\", \"timing\": \"limits\"}]}");
    for (int k = 0; k < 6; k++)
        if (k != 4)
            ck_pass(s, k);
    ck_fail(s, 4); /* the 6921 has one tariff: no 1.8.1 line */
    ck_assert_str_eq(record_str(s, 0, "exchanges", 1, "request"), "06 30 34 30 0D 0A");
    klefr_scn_free(s);
}
END_TEST

START_TEST(bad_steps_are_refused_with_the_field)
{
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"},"
              " {\"at\": 2, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"}]}",
              "t.json:1: events[1].name: \"a\" already names the step at line 1");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_write\", \"name\": \"a\", \"register\": \"s0_rate\","
              " \"value\": 10, \"function\": 6}]}",
              "t.json:1: events[0].function: function 6 writes one register (this is 2)");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_write\", \"name\": \"a\", \"register\": \"lcd_cycle_s\","
              " \"value\": 2.5}]}",
              "t.json:1: events[0].value: lcd_cycle_s (hex) takes whole numbers 0..9999");
    parse_bad("{\"meter\": {\"model\": 6923}, \"events\": [{\"at\": 1, \"do\": \"mbus_select\", \"name\": \"a\","
              " \"id\": \"1706XXXX\"}]}",
              "t.json:1: events[0].id: must be 8 digits, F for a wildcard digit");
    parse_bad("{\"meter\": {\"model\": 6923}, \"events\": [{\"at\": 1, \"do\": \"mbus_write\", \"name\": \"a\","
              " \"set\": \"tariff\"}]}",
              "t.json:1: events[0]: writing tariff needs a \"value\"");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"iec_w1\", \"name\": \"a\", \"code\": \"C.90.1\"}]}",
              "t.json:1: events[0]: iec_w1 needs a \"value\"");
    parse_bad("{\"meter\": {\"model\": 6921}, \"events\": [{\"at\": 1, \"do\": \"send\", \"name\": \"a\","
              " \"port\": \"bus\", \"hex\": \"01\"}]}",
              "t.json:1: events[0].port: the 6921 has no bus port (only the optical port \"ir\")");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"iec_r1\", \"name\": \"a\", \"code\": \"C.90.1\", \"port\": \"bus\"}]}",
              "t.json:1: events[0].port: iec_r1 goes on the iec port, not \"bus\"");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"send\", \"name\": \"a\", \"port\": \"ir\", \"hex\": \"01\","
              " \"crc\": true}]}",
              "t.json:1: events[0].crc: only on a Modbus port");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"}],"
              " \"expect\": [{\"during\": [0, 2], \"reply\": \"a\", \"timing\": \"none\"}]}",
              "t.json:1: expect[0].during: a reply is checked when it comes");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"}],"
              " \"expect\": [{\"reply\": \"a\", \"timing\": \"limits\", \"max\": 3}]}",
              "t.json:1: expect[0].max: \"timing\": \"limits\" takes no comparison");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"}],"
              " \"expect\": [{\"reply\": \"a\", \"timing\": \"first_byte\"}]}",
              "t.json:1: expect[0]: nothing to compare");
    parse_bad("{\"events\": [{\"at\": 1, \"do\": \"modbus_read\", \"name\": \"a\", \"register\": \"serial\"}],"
              " \"expect\": [{\"reply\": \"a\", \"hex\": \"01 ..\", \"field\": \"serial\", \"eq\": 1}]}",
              "t.json:1: expect[0]: a reply expectation needs one of \"hex\", \"field\" or \"timing\"");
}
END_TEST

static Suite *serial_suite(void)
{
    Suite *s = suite_create("scenario-serial");
    TCase *tc = tcase_create("steps");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_modbus_read_sends_the_frame_and_decodes_the_map);
    tcase_add_test(tc, a_master_with_other_settings_gets_no_reply);
    tcase_add_test(tc, every_reply_is_checked_when_it_comes);
    tcase_add_test(tc, steps_queue_on_a_port_and_the_run_waits_for_the_reply);
    tcase_add_test(tc, the_mbus_master_alternates_the_fcb);
    tcase_add_test(tc, an_iec_readout_changes_over_and_decodes_every_line);
    tcase_add_test(tc, bad_steps_are_refused_with_the_field);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return klefr_check_run(serial_suite());
}
