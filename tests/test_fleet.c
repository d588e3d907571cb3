/* Fleets (sim/fleet.h): fleet files, the shared world, meters on shared
 * lines with an in-process master (selection by secondary address,
 * collisions, a meter never hearing itself), the same frames and registers
 * for the same spec and seed, the gateway's frame rules, memory per meter. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "busmon.h"
#include "fleet.h"
#include "mb_gateway.h"
#include "proto/mbus.h"
#include "proto/modbus_rtu.h"
#include "scenario_priv.h"

static klefr_fleet_spec *parse(const char *text)
{
    klefr_fleet_spec *f = NULL;
    char err[512];
    if (klefr_fleet_parse(&f, "t.json", text, err, sizeof err) != 0)
        ck_abort_msg("%s", err);
    return f;
}

static void parse_fails(const char *text, const char *want)
{
    klefr_fleet_spec *f = NULL;
    char err[512] = "";
    ck_assert_int_eq(klefr_fleet_parse(&f, "t.json", text, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(f);
}

START_TEST(counts_serials_addresses_and_defaults)
{
    klefr_fleet_spec *f = parse("{\"lines\": [{\"bus\": \"mbus\"}, {\"bus\": \"rs485\", \"id\": \"rs\"}],\n"
                                " \"meters\": [{\"id\": \"flat\", \"count\": 12, \"model\": 6923,\n"
                                "   \"serial\": \"21050195\"},\n"
                                "  {\"id\": \"drive\", \"count\": 3, \"model\": 6924,\n"
                                "   \"addresses\": \"sequential\", \"settings\": {\"modbus_id\": 5}},\n"
                                "  {\"model\": 6921}]}");
    ck_assert_uint_eq(f->nmeters, 16);
    ck_assert_str_eq(f->meters[0].id, "flat-01");
    ck_assert_str_eq(f->meters[11].id, "flat-12");
    ck_assert_uint_eq(f->meters[0].serial, 0x21050195);
    ck_assert_uint_eq(f->meters[5].serial, 0x21050200); /* decimal carry */
    ck_assert_int_eq(f->meters[0].line, 0);             /* the one M-bus line */
    ck_assert_str_eq(f->meters[12].id, "drive-01");
    ck_assert_int_eq(f->meters[12].line, 1);
    klefr_settings s;
    klefr_settings_defaults(&s, KLEFR_MODEL_6924, f->meters[14].serial);
    klefr_scn_settings_apply(&f->meters[14].settings, &s);
    ck_assert_uint_eq(s.modbus_id, 7);
    ck_assert_str_eq(f->meters[15].id, "m16");
    ck_assert_int_eq(f->meters[15].line, -1); /* a 6921 has no bus */
    /* Every meter its own seed, and the same again for the same fleet seed. */
    ck_assert_uint_ne(f->meters[0].seed, f->meters[1].seed);
    uint64_t s0 = f->meters[0].seed;
    f->seed = 2;
    klefr_fleet_spec_reseed(f);
    ck_assert_uint_ne(f->meters[0].seed, s0);
    f->seed = 1;
    klefr_fleet_spec_reseed(f);
    ck_assert_uint_eq(f->meters[0].seed, s0);
    klefr_fleet_spec_free(f);
}
END_TEST

START_TEST(errors_name_the_file_line_and_field)
{
    parse_fails("{\n\"lines\": [{\"bus\": \"mbus\"},\n {\"bus\": \"mbus\"}],\n\"meters\": [{}]}",
                "t.json:3: lines[1].id: \"mbus\" is already line 0's id");
    parse_fails("{\"lines\": [{\"bus\": \"mbus\", \"id\": \"a\"}, {\"bus\": \"mbus\", \"id\": \"b\"}],\n"
                "\"meters\": [\n{\"model\": 6923}]}",
                "t.json:3: meters[0].line: which line? (a and b are both M-bus)");
    parse_fails("{\"meters\": [{\"settings\": {\"baud\": 300}}]}",
                "t.json:1: meters[0].settings.baud: must be one of the model's rates (6924: 1200, "
                "2400, 4800, 9600; 6923: 300..9600)");
    parse_fails("{\"meters\": [{\"line\": \"x\"}]}", "t.json:1: meters[0].line: no line \"x\" in \"lines\"");
    parse_fails("{\"meters\": [{\"count\": 0}]}",
                "t.json:1: meters[0].count: 0 is out of range 1..100000");
    parse_fails("{\"lines\": [{\"bus\": \"mbus\", \"parity\": \"odd\"}], \"meters\": [{}]}",
                "t.json:1: lines[0].parity: M-bus is always even");
}
END_TEST

/* Found by fuzz/fuzz_fleet.c: the ids were checked pairwise, so 73,841
 * meters took seconds to parse and 100,000 minutes (libFuzzer's timeout);
 * they go through a hash set now. A repeat is still found among the most
 * meters a fleet may have, and named by its first meter. */
START_TEST(ids_checked_among_the_most_meters)
{
    klefr_fleet_spec *f = parse("{\"meters\": [{\"id\": \"x\", \"count\": 99999}, {\"id\": \"y\"}]}");
    ck_assert_uint_eq(f->nmeters, 100000);
    ck_assert_str_eq(f->meters[99998].id, "x-99999");
    klefr_fleet_spec_free(f);
    parse_fails("{\"meters\": [{\"id\": \"x\", \"count\": 99999}, {\"id\": \"x-54321\"}]}",
                "t.json:1: meters[1].id: \"x-54321\" is already the id of meter 54321");
    /* one line was leaked when a later key of it was refused (LeakSanitizer) */
    parse_fails("{\"lines\": [{\"bus\": \"rs485\", \"gateway\": \"tcp:5020\", \"gateway_timeout\": \"1ms\"}],\n"
                "\"meters\": [{\"model\": 6924}]}",
                "t.json:1: lines[0].gateway_timeout: must be 10 ms to 60 s");
}
END_TEST

/* ---- meters on a line, an in-process master ---- */

static klefr_line_capture CAP;

static klefr_fleet *open_fleet(const char *text, klefr_fleet_spec **spec)
{
    *spec = parse(text);
    char err[256];
    klefr_fleet *f = klefr_fleet_open(*spec, NULL, err, sizeof err);
    if (!f)
        ck_abort_msg("%s", err);
    for (size_t k = 0; k < f->nmeters; k++)
        f->meters[k].sim->hal.trace = NULL;
    return f;
}

static klefr_line_ep *master(klefr_fleet *f, size_t line)
{
    klefr_line_capture_clear(&CAP);
    klefr_uart_cfg fmt = {9600, 8, KLEFR_PARITY_EVEN, 1};
    return klefr_line_attach(f->lines[line].line, "master", KLEFR_LINE_MASTER, &fmt,
                             klefr_line_capture_rx, &CAP);
}

static void send_short(klefr_line_ep *m, uint8_t c, uint8_t a, uint64_t t)
{
    uint8_t b[5] = {0x10, c, a, (uint8_t)(c + a), 0x16};
    klefr_line_send(m, b, sizeof b, t);
}

/* SND_UD to 253 with CI 52: ID (BCD, LSB first, F = any digit), any
 * manufacturer, version and medium. */
static void send_select(klefr_line_ep *m, uint32_t id_mask, uint64_t t)
{
    uint8_t b[17] = {0x68, 0x0B, 0x0B, 0x68, 0x53, 0xFD, 0x52, (uint8_t)id_mask,
                     (uint8_t)(id_mask >> 8), (uint8_t)(id_mask >> 16), (uint8_t)(id_mask >> 24),
                     0xFF, 0xFF, 0xFF, 0xFF, 0, 0x16};
    b[15] = klefr_mbus_cs(b + 4, 11);
    klefr_line_send(m, b, sizeof b, t);
}

static size_t flagged(void)
{
    size_t n = 0;
    for (size_t k = 0; k < CAP.n; k++)
        n += CAP.c[k].flags != 0;
    return n;
}

static const char *TWENTY = "{\"lines\": [{\"bus\": \"mbus\"}],\n"
                            " \"site\": {\"load\": \"230V,5A,pf=0.9L,noise=0.1/0.01\", \"spread\": 0.5},\n"
                            " \"meters\": [{\"id\": \"flat\", \"count\": 20, \"model\": 6923,\n"
                            "   \"serial\": \"21050101\"}]}";

START_TEST(selection_by_secondary_address_among_twenty)
{
    klefr_fleet_spec *spec;
    klefr_fleet *f = open_fleet(TWENTY, &spec);
    klefr_line_ep *m = master(f, 0);
    klefr_world *w = &f->world;
    klefr_world_run_until(w, 200000);
    /* A wildcard that matches all 20: their E5s overlap on the line. */
    send_select(m, 0x2105FFFF, w->t_us);
    klefr_world_run_until(w, w->t_us + 200000);
    ck_assert_uint_ge(CAP.n, 1);
    ck_assert_uint_gt(flagged(), 0); /* the fight is seen */
    /* One of them: one clean E5; then REQ_UD2 to 253 gets its own telegram. */
    klefr_line_capture_clear(&CAP);
    send_select(m, 0x21050117, w->t_us);
    klefr_world_run_until(w, w->t_us + 200000);
    ck_assert_uint_eq(CAP.n, 1);
    ck_assert_uint_eq(CAP.c[0].byte, 0xE5);
    ck_assert_uint_eq(CAP.c[0].flags, 0);
    klefr_line_capture_clear(&CAP);
    send_short(m, 0x7B, 253, w->t_us);
    klefr_world_run_until(w, w->t_us + 300000);
    ck_assert_uint_eq(CAP.n, 81);
    ck_assert_uint_eq(flagged(), 0);
    ck_assert_uint_eq(CAP.c[7].byte, 0x17); /* ID 21050117, LSB first */
    ck_assert_uint_eq(CAP.c[10].byte, 0x21);
    /* Everyone heard every request; nobody took a reply for one. */
    for (size_t k = 0; k < f->nmeters; k++)
        ck_assert_uint_eq(f->meters[k].sim->meter.mbus.cs_errors, 0);
    klefr_fleet_close(f);
    klefr_fleet_spec_free(spec);
}
END_TEST

/* The bus monitor: twenty replies at once are one garbled frame (not a
 * frame per character), a reply from one meter a frame of its own. */
START_TEST(bus_monitor_shows_a_collision_as_one_frame)
{
    klefr_fleet_spec *spec;
    klefr_fleet *f = open_fleet(TWENTY, &spec);
    klefr_busmon *mon = klefr_busmon_new(f);
    ck_assert_ptr_nonnull(mon);
    klefr_line_ep *m = master(f, 0);
    klefr_world *w = &f->world;
    klefr_world_run_until(w, 200000);
    send_short(m, 0x7B, 0, w->t_us); /* all twenty at 0 answer */
    klefr_world_run_until(w, w->t_us + 300000);
    send_select(m, 0x21050117, w->t_us); /* one E5 */
    klefr_world_run_until(w, w->t_us + 300000);
    const klefr_busmon_frame *fr;
    uint64_t total;
    size_t n = klefr_busmon_frames(mon, 0, w->t_us, &fr, &total);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(fr[0].sender, "master");
    ck_assert_str_eq(fr[0].text, "REQ_UD2 a=0");
    ck_assert(fr[1].collided);
    ck_assert_str_eq(fr[1].text, "garbled: senders at once (collision)");
    ck_assert_uint_eq(fr[1].sender[strlen(fr[1].sender) - 1], '+');
    ck_assert_uint_ge(fr[1].n, 81); /* the telegrams on top of each other, and their offsets */
    ck_assert_str_eq(fr[2].text, "SND_UD a=253 select id=21050117 man=FFFF ver=FF med=FF");
    ck_assert_str_eq(fr[3].sender, "flat-17");
    ck_assert_str_eq(fr[3].text, "ACK (E5)");
    klefr_busmon_free(mon);
    klefr_fleet_close(f);
    klefr_fleet_spec_free(spec);
}
END_TEST

/* RS-485: every meter hears the others' replies, never its own. */
START_TEST(rs485_meter_never_hears_itself)
{
    klefr_fleet_spec *spec;
    klefr_fleet *f = open_fleet("{\"lines\": [{\"bus\": \"rs485\"}],\n"
                                " \"meters\": [{\"id\": \"d\", \"count\": 3, \"model\": 6924,\n"
                                "   \"addresses\": \"sequential\"}]}",
                                &spec);
    klefr_line_ep *m = master(f, 0);
    klefr_world *w = &f->world;
    klefr_world_run_until(w, 100000);
    uint8_t req[8] = {2, 3, 0x40, 0x00, 0x00, 0x02};
    uint16_t crc = klefr_crc16_modbus(req, 6);
    req[6] = (uint8_t)crc;
    req[7] = (uint8_t)(crc >> 8);
    klefr_line_send(m, req, 8, w->t_us);
    klefr_world_run_until(w, w->t_us + 100000);
    ck_assert_uint_eq(CAP.n, 9); /* 02 03 04 serial CRC */
    ck_assert_uint_eq(CAP.c[3].byte, 0x17);
    klefr_line_stats s1 = klefr_line_ep_stats(f->meters[0].sim->uart_ep[KLEFR_PORT_BUS]);
    klefr_line_stats s2 = klefr_line_ep_stats(f->meters[1].sim->uart_ep[KLEFR_PORT_BUS]);
    ck_assert_uint_eq(s1.rx_chars, 8 + 9); /* the request and meter 2's reply */
    ck_assert_uint_eq(s2.rx_chars, 8);     /* the request only */
    ck_assert_uint_eq(s2.tx_chars, 9);
    klefr_fleet_close(f);
    klefr_fleet_spec_free(spec);
}
END_TEST

/* The same spec and seed: the same characters at the same times, the same
 * registers. */
typedef struct {
    klefr_line_rxchar c[512];
    size_t n;
    uint64_t fwd[20];
} run_result;

static void run_twenty(run_result *r)
{
    klefr_fleet_spec *spec;
    klefr_fleet *f = open_fleet(TWENTY, &spec);
    klefr_line_ep *m = master(f, 0);
    klefr_world *w = &f->world;
    klefr_world_run_until(w, 1000000);
    for (uint32_t k = 1; k <= 3; k++) { /* select meter 0k, read it */
        send_select(m, 0x21050100 + k, w->t_us);
        klefr_world_run_until(w, w->t_us + 100000);
        send_short(m, 0x7B, 253, w->t_us);
        klefr_world_run_until(w, w->t_us + 300000);
    }
    send_short(m, 0x5B, 0, w->t_us); /* everyone at 0: a collision */
    klefr_world_run_until(w, w->t_us + 60000000);
    r->n = CAP.n < 512 ? CAP.n : 512;
    memcpy(r->c, CAP.c, r->n * sizeof r->c[0]);
    for (size_t k = 0; k < 20; k++)
        r->fwd[k] = f->meters[k].sim->meter.regs.act_fwd_uwh[0];
    klefr_fleet_close(f);
    klefr_fleet_spec_free(spec);
}

START_TEST(same_spec_same_frames_and_registers)
{
    static run_result a, b;
    run_twenty(&a);
    run_twenty(&b);
    ck_assert_uint_gt(a.n, 3 * 82);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert(!memcmp(a.c, b.c, a.n * sizeof a.c[0]));
    ck_assert(!memcmp(a.fwd, b.fwd, sizeof a.fwd));
    /* the spread: each meter its own energy */
    for (size_t k = 1; k < 20; k++)
        ck_assert_uint_ne(a.fwd[k], a.fwd[0]);
}
END_TEST

/* ---- the gateway's frame rules ---- */

START_TEST(gateway_frame_rules)
{
    const uint8_t mbap[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x05, 0x03, 0x50, 0x00, 0x00, 0x02};
    ck_assert_int_eq(klefr_mbap_frame_len(mbap, 5), 0);
    ck_assert_int_eq(klefr_mbap_frame_len(mbap, 11), 0);
    ck_assert_int_eq(klefr_mbap_frame_len(mbap, 12), 12);
    const uint8_t bad_pid[] = {0, 1, 0, 1, 0, 6};
    ck_assert_int_eq(klefr_mbap_frame_len(bad_pid, 6), -1);
    const uint8_t bad_len[] = {0, 1, 0, 0, 1, 0};
    ck_assert_int_eq(klefr_mbap_frame_len(bad_len, 6), -1);
    const uint8_t read_reply[] = {5, 3, 4};
    ck_assert_uint_eq(klefr_rtu_reply_len(read_reply, 2), 0);
    ck_assert_uint_eq(klefr_rtu_reply_len(read_reply, 3), 9);
    const uint8_t exc[] = {5, 0x83};
    ck_assert_uint_eq(klefr_rtu_reply_len(exc, 2), 5);
    const uint8_t write_echo[] = {5, 6};
    ck_assert_uint_eq(klefr_rtu_reply_len(write_echo, 2), 8);
}
END_TEST

/* A meter in a fleet is its state, not a world: a bound that catches a
 * regression back to a world per meter (docs/performance.md has the figure:
 * about 32 KB since the DSP keeps its window x rotor table, 8 KB, and the
 * generator its segment, 7 KB; a world would be over 300 KB). */
START_TEST(memory_per_meter_stays_small)
{
    ck_assert_uint_lt(klefr_fleet_meter_bytes(), 48 * 1024);
    /* and hundreds of them start */
    klefr_fleet_spec *spec;
    klefr_fleet *f = open_fleet("{\"lines\": [{\"bus\": \"mbus\"}], \"meters\": [{\"count\": 300, "
                                "\"model\": 6923}]}",
                                &spec);
    ck_assert_uint_eq(f->nmeters, 300);
    ck_assert(klefr_world_run_until(&f->world, 100000));
    ck_assert_uint_eq(f->meters[299].sim->t_us, 100000);
    klefr_fleet_close(f);
    klefr_fleet_spec_free(spec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fleet");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, counts_serials_addresses_and_defaults);
    tcase_add_test(tc, errors_name_the_file_line_and_field);
    tcase_add_test(tc, ids_checked_among_the_most_meters);
    tcase_add_test(tc, selection_by_secondary_address_among_twenty);
    tcase_add_test(tc, rs485_meter_never_hears_itself);
    tcase_add_test(tc, bus_monitor_shows_a_collision_as_one_frame);
    tcase_add_test(tc, same_spec_same_frames_and_registers);
    tcase_add_test(tc, gateway_frame_rules);
    tcase_add_test(tc, memory_per_meter_stays_small);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
