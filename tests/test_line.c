/* The serial line model (sim/line.c) without a host: character timing,
 * format mismatches decoded as a UART would, collisions, who hears whom,
 * format changes at a time, the instant mode, and two firmware meters on one
 * line (a multi-drop M-bus and an RS-485 Modbus segment). Virtual time only,
 * driven by a small event queue of the test's own. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "eeprom.h"
#include "klefr/meter.h"
#include "line.h"
#include "proto/mbus.h"
#include "proto/modbus_rtu.h"
#include "proto/uart_time.h"

/* ---- a tiny event queue: the line's clock ---- */

#define QMAX 4096
typedef struct {
    uint64_t t, seq;
    void (*fn)(void *, uint64_t);
    void *arg;
} qev;
static qev Q[QMAX];
static size_t QN;
static uint64_t QSEQ, NOW;

static bool q_post(void *arg, uint64_t t, void (*fn)(void *, uint64_t), void *fn_arg)
{
    (void)arg;
    if (QN == QMAX)
        return false;
    size_t k = QN++;
    while (k > 0 && (Q[k - 1].t > t || (Q[k - 1].t == t && Q[k - 1].seq > QSEQ))) {
        Q[k] = Q[k - 1];
        k--;
    }
    Q[k] = (qev){t, QSEQ++, fn, fn_arg};
    return true;
}

static void run_until(uint64_t t)
{
    while (QN && Q[0].t <= t) {
        qev e = Q[0];
        memmove(Q, Q + 1, (QN - 1) * sizeof Q[0]);
        QN--;
        NOW = e.t;
        e.fn(e.arg, e.t);
    }
    NOW = t;
}

static const klefr_line_clock CLOCK = {q_post, NULL};

static const klefr_uart_cfg F8E1 = {9600, 8, KLEFR_PARITY_EVEN, 1};
static const klefr_uart_cfg F8O1 = {9600, 8, KLEFR_PARITY_ODD, 1};
static const klefr_uart_cfg F8N1 = {9600, 8, KLEFR_PARITY_NONE, 1};
static const klefr_uart_cfg F7E1 = {9600, 7, KLEFR_PARITY_EVEN, 1};

static klefr_line *L;
static klefr_line_capture CA, CB, CC;

static void setup(void)
{
    QN = 0;
    NOW = 0;
    klefr_line_capture_clear(&CA);
    klefr_line_capture_clear(&CB);
    klefr_line_capture_clear(&CC);
}

static void teardown(void)
{
    klefr_line_free(L);
    L = NULL;
}

/* A new line L with a master sending in format s and a meter receiving in
 * format r into CA; returns the master. */
static klefr_line_ep *master_to_meter(klefr_line_kind kind, const klefr_uart_cfg *s,
                                      const klefr_uart_cfg *r)
{
    L = klefr_line_new("t", kind, CLOCK);
    klefr_line_ep *m = klefr_line_attach(L, "master", KLEFR_LINE_MASTER, s, NULL, NULL);
    klefr_line_attach(L, "meter", KLEFR_LINE_SLAVE, r, klefr_line_capture_rx, &CA);
    return m;
}

/* Every character of c arrived without a UART error. */
static void assert_clean(const klefr_line_capture *c)
{
    for (size_t k = 0; k < c->n; k++)
        ck_assert_msg(c->c[k].flags == 0, "character %zu flagged %u", k, c->c[k].flags);
}

/* ---- timing ---- */

START_TEST(bytes_arrive_when_their_stop_bit_ends)
{
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &F8E1, &F8E1);
    uint8_t d[3] = {0x01, 0x80, 0xFF};
    ck_assert_uint_eq(klefr_line_send(m, d, 3, 1000), 1000 + 3 * 1146);
    run_until(1000 + 1146 - 1);
    ck_assert_uint_eq(CA.n, 0); /* nothing before the first stop bit ends */
    run_until(1000000);
    ck_assert_uint_eq(CA.n, 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(CA.c[k].byte, d[k]);
        ck_assert_uint_eq(CA.c[k].flags, 0);
        ck_assert_uint_eq(CA.c[k].t_us, 1000 + (uint64_t)(k + 1) * 1146);
    }
    /* A second send while the first is on the wire follows it back to back. */
    uint64_t end = klefr_line_send(m, d, 1, NOW);
    ck_assert_uint_eq(end, NOW + 1146);
    ck_assert_uint_eq(klefr_line_send(m, d, 1, NOW), end + 1146);
    ck_assert_uint_eq(klefr_line_tx_pending(m, NOW), 2);
    ck_assert_uint_eq(klefr_line_tx_end(m), end + 1146);
}
END_TEST

START_TEST(seven_bit_format_carries_seven_bits)
{
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &F7E1, &F7E1);
    uint8_t d[2] = {'/' | 0x80, '?'};
    klefr_line_send(m, d, 2, 0);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 2);
    ck_assert_uint_eq(CA.c[0].byte, '/');
    ck_assert_uint_eq(CA.c[1].byte, '?');
    ck_assert_uint_eq(CA.c[1].t_us, 2 * klefr_uart_char_us(&F7E1)); /* 10 bits */
}
END_TEST

/* ---- formats that differ ---- */

START_TEST(receiver_at_another_parity_gets_parity_errors)
{
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &F8O1, &F8E1);
    uint8_t d[4] = {0x00, 0x01, 0x03, 0xFE};
    klefr_line_send(m, d, 4, 0);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 4);
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(CA.c[k].byte, d[k]); /* the data bits are right */
        ck_assert_uint_eq(CA.c[k].flags, KLEFR_RX_ERR_PARITY);
    }
}
END_TEST

/* A receiver at twice the sender's baud: 00 at 4800 8N1 is ten half-bits
 * of 0 then stop; the 9600 receiver samples 0 everywhere, including its stop
 * bit: one 00 with a framing error, and nothing more (no falling edge until
 * the sender's stop bit has come and gone). */
START_TEST(receiver_at_double_baud_sees_a_framing_error)
{
    klefr_uart_cfg slow = {4800, 8, KLEFR_PARITY_NONE, 1};
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &slow, &F8N1);
    uint8_t z = 0;
    klefr_line_send(m, &z, 1, 0);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 1);
    ck_assert_uint_eq(CA.c[0].byte, 0);
    ck_assert_uint_eq(CA.c[0].flags, KLEFR_RX_ERR_FRAMING);
    ck_assert_uint_eq(CA.c[0].t_us, klefr_uart_char_us(&F8N1)); /* its own frame's end */
}
END_TEST

/* A whole Modbus request at 4800 to a 9600 receiver: garbled, and never
 * the request itself. */
START_TEST(wrong_baud_request_is_garbled)
{
    klefr_uart_cfg slow = {4800, 8, KLEFR_PARITY_EVEN, 1};
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_BUS, &slow, &F8E1);
    const uint8_t req[8] = {0x01, 0x03, 0x40, 0x00, 0x00, 0x02, 0xD1, 0xCB};
    klefr_line_send(m, req, 8, 0);
    run_until(1000000);
    ck_assert_uint_gt(CA.n, 0);
    size_t errors = 0;
    bool same = CA.n == 8;
    for (size_t k = 0; k < CA.n; k++) {
        errors += CA.c[k].flags != 0;
        if (k < 8 && CA.c[k].byte != req[k])
            same = false;
    }
    ck_assert_uint_gt(errors, 0);
    ck_assert(!same);
}
END_TEST

/* 7E1 on the wire, an 8N1 receiver: the parity bit arrives as bit 7 ('/'
 * has five ones: even parity 1, so 0xAF), a real 8N1 UART's view. */
START_TEST(eight_bit_receiver_on_a_seven_bit_line)
{
    L = klefr_line_new("t", KLEFR_LINE_DUPLEX, CLOCK);
    klefr_line_ep *m = klefr_line_attach(L, "meter", KLEFR_LINE_SLAVE, &F7E1, NULL, NULL);
    klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8N1, klefr_line_capture_rx, &CA);
    uint8_t d[2] = {'/', 'A'}; /* 'A' 0x41: two ones, parity 0 */
    klefr_line_send(m, d, 2, 0);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 2);
    ck_assert_uint_eq(CA.c[0].byte, 0xAF);
    ck_assert_uint_eq(CA.c[0].flags, 0);
    ck_assert_uint_eq(CA.c[1].byte, 0x41);
}
END_TEST

/* The follow mask: a pty-like endpoint takes parity and data bits from the
 * meter; after the meter changes its settings at a time, so does it. */
START_TEST(format_change_at_a_time_and_follow)
{
    L = klefr_line_new("t", KLEFR_LINE_BUS, CLOCK);
    klefr_line_ep *meter = klefr_line_attach(L, "meter", KLEFR_LINE_SLAVE, &F8E1,
                                             klefr_line_capture_rx, &CA);
    klefr_line_ep *host = klefr_line_attach(L, "pty", KLEFR_LINE_MASTER, &F8N1,
                                            klefr_line_capture_rx, &CB);
    klefr_line_follow(host, meter, KLEFR_LINE_FOLLOW_PARITY | KLEFR_LINE_FOLLOW_DATA_BITS);
    ck_assert_int_eq(klefr_line_format(host, 0).parity, KLEFR_PARITY_EVEN);
    /* the meter replies, and switches to 4800 8O1 when the reply has ended */
    uint8_t r[2] = {0x12, 0x34};
    uint64_t end = klefr_line_send(meter, r, 2, 0);
    klefr_uart_cfg slow = {4800, 8, KLEFR_PARITY_ODD, 1};
    klefr_line_set_format(meter, &slow, end);
    ck_assert_uint_eq(klefr_line_format(meter, end - 1).baud, 9600);
    ck_assert_uint_eq(klefr_line_format(meter, end).baud, 4800);
    ck_assert_int_eq(klefr_line_format(host, end).parity, KLEFR_PARITY_ODD);
    run_until(end);
    ck_assert_uint_eq(CB.n, 2);
    ck_assert_uint_eq(CB.c[1].flags, 0);
    /* the host sends at once at 4800 (its own baud now) and is understood */
    klefr_uart_cfg host_fmt = {4800, 8, KLEFR_PARITY_NONE, 1};
    klefr_line_set_format(host, &host_fmt, end);
    klefr_line_send(host, r, 2, end);
    run_until(end + 100000);
    ck_assert_uint_eq(CA.n, 2);
    ck_assert_uint_eq(CA.c[0].byte, 0x12);
    ck_assert_uint_eq(CA.c[0].flags, 0);
    ck_assert_uint_eq(CA.c[1].t_us, end + 2 * klefr_uart_char_us(&slow));
}
END_TEST

/* ---- who hears whom, collisions ---- */

/* A new line L of kind with a master (capturing into CA) and two slaves
 * (into CB, CC), all 8E1; *s1 gets the first slave. */
static klefr_line_ep *master_and_two_slaves(klefr_line_kind kind, klefr_line_ep **s1)
{
    L = klefr_line_new("t", kind, CLOCK);
    klefr_line_ep *m = klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8E1, klefr_line_capture_rx, &CA);
    *s1 = klefr_line_attach(L, "s1", KLEFR_LINE_SLAVE, &F8E1, klefr_line_capture_rx, &CB);
    klefr_line_attach(L, "s2", KLEFR_LINE_SLAVE, &F8E1, klefr_line_capture_rx, &CC);
    return m;
}

START_TEST(bus_everyone_hears_everyone_else_never_itself)
{
    klefr_line_ep *s1;
    klefr_line_ep *m = master_and_two_slaves(KLEFR_LINE_BUS, &s1);
    uint8_t a = 0xA5, b = 0x5A;
    klefr_line_send(m, &a, 1, 0);
    run_until(10000);
    ck_assert_uint_eq(CA.n, 0);
    ck_assert_uint_eq(CB.n, 1);
    ck_assert_uint_eq(CC.n, 1);
    klefr_line_send(s1, &b, 1, NOW);
    run_until(20000);
    ck_assert_uint_eq(CA.n, 1); /* the master hears s1 */
    ck_assert_uint_eq(CB.n, 1); /* s1 does not hear itself */
    ck_assert_uint_eq(CC.n, 2); /* s2 hears s1 on RS-485 */
    ck_assert_uint_eq(CC.c[1].byte, 0x5A);
}
END_TEST

START_TEST(duplex_slaves_hear_only_masters)
{
    klefr_line_ep *s1;
    klefr_line_ep *m = master_and_two_slaves(KLEFR_LINE_DUPLEX, &s1);
    uint8_t a = 0x10, b = 0xE5;
    klefr_line_send(s1, &b, 1, 0);
    /* a master sending while a slave does: two channels, no collision */
    klefr_line_send(m, &a, 1, 0);
    run_until(10000);
    ck_assert_uint_eq(CA.n, 1);
    ck_assert_uint_eq(CA.c[0].byte, 0xE5);
    ck_assert_uint_eq(CA.c[0].flags, 0);
    ck_assert_uint_eq(CB.n, 1);
    ck_assert_uint_eq(CC.n, 1); /* s2 hears the master, not s1 */
    ck_assert_uint_eq(CC.c[0].byte, 0x10);
}
END_TEST

static klefr_line_char MON[64];
static size_t NMON;
static void monitor(void *arg, const klefr_line_char *c)
{
    (void)arg;
    if (NMON < 64)
        MON[NMON++] = *c;
}

/* Two slaves answering at the same time: the master gets the wired-AND of
 * their bits with framing errors, and the monitor shows the collision. */
START_TEST(two_slaves_at_once_collide)
{
    L = klefr_line_new("t", KLEFR_LINE_DUPLEX, CLOCK);
    NMON = 0;
    klefr_line_set_monitor(L, monitor, NULL);
    klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8E1, klefr_line_capture_rx, &CA);
    klefr_line_ep *s1 = klefr_line_attach(L, "s1", KLEFR_LINE_SLAVE, &F8E1, NULL, NULL);
    klefr_line_ep *s2 = klefr_line_attach(L, "s2", KLEFR_LINE_SLAVE, &F8E1, NULL, NULL);
    uint8_t a[2] = {0x68, 0x0F}, b[2] = {0x68, 0xF1};
    klefr_line_send(s1, a, 2, 1000);
    klefr_line_send(s2, b, 2, 1000);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 2);
    ck_assert_uint_eq(CA.c[0].byte, 0x68);
    ck_assert_uint_eq(CA.c[0].flags & KLEFR_RX_ERR_FRAMING, KLEFR_RX_ERR_FRAMING);
    ck_assert_uint_eq(CA.c[1].byte, 0x0F & 0xF1);
    ck_assert_uint_ne(CA.c[1].flags, 0);
    ck_assert_uint_eq(klefr_line_ep_stats(s1).collisions, 2);
    ck_assert_uint_eq(NMON, 4);
    ck_assert(MON[0].collided && MON[3].collided);
    ck_assert_uint_eq(MON[0].t0_us, 1000);
    /* Offset by half a character: still garbled, still flagged. */
    klefr_line_capture_clear(&CA);
    klefr_line_send(s1, a, 2, NOW + 1000);
    klefr_line_send(s2, b, 2, NOW + 1000 + 573);
    run_until(NOW + 100000);
    ck_assert_uint_gt(CA.n, 0);
    for (size_t k = 0; k < CA.n; k++)
        ck_assert_uint_ne(CA.c[k].flags, 0);
}
END_TEST

/* A real UART's errors (send_flagged) reach every receiver. */
START_TEST(flagged_bytes_keep_their_flags)
{
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &F8E1, &F8E1);
    uint8_t d[2] = {1, 2}, f[2] = {0, KLEFR_RX_ERR_PARITY};
    klefr_line_send_flagged(m, d, f, 2, 0);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 2);
    ck_assert_uint_eq(CA.c[0].flags, 0);
    ck_assert_uint_eq(CA.c[1].flags, KLEFR_RX_ERR_PARITY);
}
END_TEST

START_TEST(detached_senders_bytes_reach_nobody)
{
    klefr_line_ep *m = master_to_meter(KLEFR_LINE_DUPLEX, &F8E1, &F8E1);
    uint8_t d[4] = {1, 2, 3, 4};
    klefr_line_send(m, d, 4, 0);
    run_until(2 * 1146);
    klefr_line_detach(m);
    run_until(100000);
    ck_assert_uint_eq(CA.n, 2);
}
END_TEST

/* ---- timing off ---- */

START_TEST(timing_off_delivers_at_once)
{
    L = klefr_line_new("t", KLEFR_LINE_BUS, CLOCK);
    klefr_line_set_timing(L, false);
    klefr_line_ep *m = klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8E1, NULL, NULL);
    klefr_line_attach(L, "a", KLEFR_LINE_SLAVE, &F8E1, klefr_line_capture_rx, &CA);
    klefr_line_attach(L, "b", KLEFR_LINE_SLAVE, &F8O1, klefr_line_capture_rx, &CB);
    uint8_t d[2] = {7, 8};
    klefr_line_send(m, d, 2, 5000);
    ck_assert_uint_eq(CA.n, 2); /* no event needed */
    ck_assert_uint_eq(CA.c[1].t_us, 5000);
    ck_assert_uint_eq(CA.c[1].flags, 0);
    ck_assert_uint_eq(CB.c[0].flags, KLEFR_RX_ERR_PARITY);
    ck_assert_uint_eq(QN, 0);
}
END_TEST

/* ---- firmware meters on one line ---- */

typedef struct {
    klefr_meter m;
    klefr_hal hal;
    klefr_eeprom ee;
    klefr_line_ep *ep;
} node;

static node N[2];

static int n_read(void *arg, uint32_t a, void *b, uint32_t l)
{
    return klefr_eeprom_read(&((node *)arg)->ee, a, b, l);
}
static int n_write(void *arg, uint32_t a, const void *b, uint32_t l)
{
    return klefr_eeprom_write(&((node *)arg)->ee, a, b, l);
}
static void n_uart_write(void *arg, klefr_port p, const uint8_t *d, size_t n, uint64_t t)
{
    if (p == KLEFR_PORT_BUS)
        klefr_line_send(((node *)arg)->ep, d, n, t);
}
static void n_uart_config(void *arg, klefr_port p, const klefr_uart_cfg *c, uint64_t t)
{
    node *nd = arg;
    if (p == KLEFR_PORT_BUS && nd->ep)
        klefr_line_set_format(nd->ep, c, t);
}
static void n_rx(void *arg, uint8_t b, uint8_t f, uint64_t t)
{
    klefr_meter_uart_rx(&((node *)arg)->m, KLEFR_PORT_BUS, b, f, t);
}
static void n_tick(void *arg, uint64_t t)
{
    for (int k = 0; k < 2; k++)
        klefr_meter_tick(&N[k].m, t);
    q_post(NULL, t + 10000, n_tick, arg);
}

/* Two meters of model on line L, serials s0 and s1 (BCD). */
static void two_meters(klefr_model model, klefr_line_kind kind, uint32_t s0, uint32_t s1)
{
    L = klefr_line_new("bus", kind, CLOCK);
    uint32_t serial[2] = {s0, s1};
    for (int k = 0; k < 2; k++) {
        node *nd = &N[k];
        memset(nd, 0, sizeof *nd);
        klefr_eeprom_open(&nd->ee, NULL, NULL, 0);
        nd->hal = (klefr_hal){.arg = nd,
                              .nvm_read = n_read,
                              .nvm_write = n_write,
                              .uart_write = n_uart_write,
                              .uart_config = n_uart_config};
        nd->ep = klefr_line_attach(L, k ? "meter2" : "meter1", KLEFR_LINE_SLAVE, NULL, n_rx, nd);
        klefr_meter_init(&nd->m, &nd->hal, model, serial[k], 0);
    }
    q_post(NULL, 10000, n_tick, NULL);
}

static void mbus_short(klefr_line_ep *m, uint8_t c, uint8_t a, uint64_t t)
{
    uint8_t f[5] = {0x10, c, a, (uint8_t)(c + a), 0x16};
    klefr_line_send(m, f, 5, t);
}

/* M-bus: both meters at primary address 0. A REQ_UD2 to 0 makes both
 * answer: the master gets a collision. Selected by secondary address, one
 * answers, cleanly, and a meter never takes its own reply for a request. */
START_TEST(two_mbus_meters_collide_then_select_one)
{
    two_meters(KLEFR_MODEL_6923, KLEFR_LINE_DUPLEX, 0x17060102, 0x17060103);
    klefr_line_ep *m = klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8E1,
                                         klefr_line_capture_rx, &CA);
    run_until(500000);
    mbus_short(m, 0x5B, 0, NOW);
    run_until(NOW + 300000);
    ck_assert_uint_gt(CA.n, 80);
    size_t bad = 0;
    for (size_t k = 0; k < CA.n; k++)
        bad += CA.c[k].flags != 0;
    ck_assert_uint_eq(bad, CA.n); /* every byte overlapped the other meter's */
    ck_assert_uint_eq(N[0].m.mbus.frames, 1);
    ck_assert_uint_eq(N[1].m.mbus.frames, 1);
    /* select 17060103 (ID LSB first, manufacturer, version, medium wildcards) */
    klefr_line_capture_clear(&CA);
    uint8_t sel[17] = {0x68, 0x0B, 0x0B, 0x68, 0x53, 0xFD, 0x52, 0x03, 0x01, 0x06, 0x17,
                       0xFF, 0xFF, 0xFF, 0xFF, 0,    0x16};
    uint8_t cs = 0;
    for (int k = 4; k < 15; k++)
        cs = (uint8_t)(cs + sel[k]);
    sel[15] = cs;
    klefr_line_send(m, sel, 17, NOW);
    run_until(NOW + 100000);
    ck_assert_uint_eq(CA.n, 1);
    ck_assert_uint_eq(CA.c[0].byte, 0xE5);
    ck_assert_uint_eq(CA.c[0].flags, 0);
    klefr_line_capture_clear(&CA);
    mbus_short(m, 0x7B, 0xFD, NOW);
    run_until(NOW + 300000);
    ck_assert_uint_gt(CA.n, 80);
    assert_clean(&CA);
    ck_assert_uint_eq(CA.c[7].byte, 0x03);
    ck_assert_uint_eq(CA.c[8].byte, 0x01);
    ck_assert_uint_eq(N[0].m.mbus.rx.dropped, 0);
}
END_TEST

/* RS-485: meters 1 and 2. The master reads meter 2; meter 1 hears the
 * request and the reply, answers neither; the reply is clean and starts
 * t3.5 + turnaround after the request's last stop bit. */
START_TEST(two_modbus_meters_on_rs485)
{
    two_meters(KLEFR_MODEL_6924, KLEFR_LINE_BUS, 0x17060102, 0x17060103);
    N[1].m.settings.modbus_id = 2;
    klefr_line_ep *m = klefr_line_attach(L, "master", KLEFR_LINE_MASTER, &F8E1,
                                         klefr_line_capture_rx, &CA);
    run_until(500000);
    uint8_t req[8] = {0x02, 0x03, 0x40, 0x00, 0x00, 0x02};
    uint16_t crc = klefr_crc16_modbus(req, 6);
    req[6] = (uint8_t)crc;
    req[7] = (uint8_t)(crc >> 8);
    uint64_t end = klefr_line_send(m, req, 8, NOW);
    run_until(NOW + 200000);
    ck_assert_uint_eq(CA.n, 9);
    assert_clean(&CA);
    ck_assert_uint_eq(CA.c[0].byte, 0x02);
    ck_assert_uint_eq(CA.c[3].byte, 0x17);
    ck_assert_uint_eq(CA.c[6].byte, 0x03);
    ck_assert_uint_eq(CA.c[0].t_us,
                      end + klefr_mbrtu_t35_us(&F8E1) + KLEFR_MBRTU_TURNAROUND_US + 1146);
    ck_assert_uint_eq(N[0].m.modbus.frames, 0);
    ck_assert_uint_eq(N[1].m.modbus.frames, 1);
}
END_TEST

/* ---- random lines: robustness and determinism ---- */

static uint64_t RNG;
static uint32_t rnd(uint32_t n)
{
    RNG ^= RNG << 13;
    RNG ^= RNG >> 7;
    RNG ^= RNG << 17;
    return (uint32_t)(RNG % n);
}

static klefr_uart_cfg rnd_fmt(void)
{
    static const uint32_t bauds[] = {300, 1200, 2400, 4800, 9600, 19200};
    return (klefr_uart_cfg){bauds[rnd(6)], (uint8_t)(7 + rnd(2)), (klefr_parity)rnd(3),
                            (uint8_t)(1 + rnd(2))};
}

typedef struct {
    klefr_line_capture cap;
    uint64_t last_t;
    bool backwards;
} rec;
static rec R[4];

static void rec_rx(void *arg, uint8_t b, uint8_t f, uint64_t t)
{
    rec *r = arg;
    if (t < r->last_t)
        r->backwards = true;
    r->last_t = t;
    klefr_line_capture_rx(&r->cap, b, f, t);
}

/* Four endpoints with random formats send random bytes at random times and
 * change formats now and then; returns the characters sent. */
static size_t random_run(uint64_t seed)
{
    RNG = seed;
    QN = 0;
    NOW = 0;
    memset(R, 0, sizeof R);
    L = klefr_line_new("r", rnd(2) ? KLEFR_LINE_BUS : KLEFR_LINE_DUPLEX, CLOCK);
    klefr_line_ep *e[4];
    for (int k = 0; k < 4; k++) {
        klefr_uart_cfg f = rnd_fmt();
        e[k] = klefr_line_attach(L, "e", k ? KLEFR_LINE_SLAVE : KLEFR_LINE_MASTER, &f, rec_rx, &R[k]);
    }
    size_t sent = 0;
    for (int step = 0; step < 60; step++) {
        run_until(NOW + rnd(40000));
        klefr_line_ep *ep = e[rnd(4)];
        if (rnd(5) == 0) {
            klefr_uart_cfg f = rnd_fmt();
            klefr_line_set_format(ep, &f, NOW + rnd(20000));
            continue;
        }
        uint8_t d[16];
        size_t n = 1 + rnd(16);
        for (size_t k = 0; k < n; k++)
            d[k] = (uint8_t)rnd(256);
        klefr_line_send(ep, d, n, NOW + rnd(5000));
        sent += n;
    }
    /* until the line is quiet: every wake-up has a character behind it */
    for (int k = 0; QN && k < 100000; k++)
        run_until(Q[0].t);
    return sent;
}

START_TEST(random_lines_are_sane_and_repeatable)
{
    static rec first[4];
    for (uint64_t seed = 1; seed <= 40; seed++) {
        size_t sent = random_run(seed * 0x9E3779B97F4A7C15u);
        size_t got = 0;
        for (int k = 0; k < 4; k++) {
            ck_assert_msg(!R[k].backwards, "seed %llu: times went backwards", (unsigned long long)seed);
            got += R[k].cap.n;
        }
        /* a character has at most 6 falling edges: so many receptions at most */
        ck_assert_uint_le(got, 6 * 3 * sent);
        ck_assert_msg(QN == 0, "seed %llu: %zu events left, first at %llu, now %llu", (unsigned long long)seed, QN, (unsigned long long)(QN ? Q[0].t : 0), (unsigned long long)NOW); /* the line is quiet */
        memcpy(first, R, sizeof R);
        klefr_line_free(L);
        random_run(seed * 0x9E3779B97F4A7C15u);
        for (int k = 0; k < 4; k++) {
            ck_assert_uint_eq(R[k].cap.n, first[k].cap.n);
            ck_assert(!memcmp(R[k].cap.c, first[k].cap.c, R[k].cap.n * sizeof R[k].cap.c[0]));
        }
        klefr_line_free(L);
        L = NULL;
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("line");
    TCase *tc = tcase_create("wire");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bytes_arrive_when_their_stop_bit_ends);
    tcase_add_test(tc, seven_bit_format_carries_seven_bits);
    tcase_add_test(tc, receiver_at_another_parity_gets_parity_errors);
    tcase_add_test(tc, receiver_at_double_baud_sees_a_framing_error);
    tcase_add_test(tc, wrong_baud_request_is_garbled);
    tcase_add_test(tc, eight_bit_receiver_on_a_seven_bit_line);
    tcase_add_test(tc, format_change_at_a_time_and_follow);
    tcase_add_test(tc, bus_everyone_hears_everyone_else_never_itself);
    tcase_add_test(tc, duplex_slaves_hear_only_masters);
    tcase_add_test(tc, two_slaves_at_once_collide);
    tcase_add_test(tc, flagged_bytes_keep_their_flags);
    tcase_add_test(tc, detached_senders_bytes_reach_nobody);
    tcase_add_test(tc, timing_off_delivers_at_once);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("meters");
    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_add_test(tm, two_mbus_meters_collide_then_select_one);
    tcase_add_test(tm, two_modbus_meters_on_rs485);
    suite_add_tcase(s, tm);
    TCase *tr = tcase_create("random");
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_add_test(tr, random_lines_are_sane_and_repeatable);
    suite_add_tcase(s, tr);
    return klefr_check_run(s);
}
