/* The simulated serial line (sim/ports.c) on a real pty: bytes reach the
 * meter at the virtual times a 9600-baud wire would deliver them, the reply
 * leaves when its last byte would have, a master at the wrong baud is not
 * understood, and fast mode answers at once. Virtual time only: no sleeps. */
#include "check_run.h"
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ports.h"

static klefr_sim S;
static klefr_ports *P;
static int master = -1;
static char dir[64], link_path[128];

static const uint8_t REQ[8] = {0x01, 0x03, 0x40, 0x00, 0x00, 0x02, 0xD1, 0xCB};
static const uint8_t REPLY[9] = {0x01, 0x03, 0x04, 0x17, 0x06, 0x01, 0x02, 0x9F, 0xD7};

static void open_master(speed_t speed)
{
    if (master >= 0)
        close(master);
    master = open(link_path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    ck_assert_int_ge(master, 0);
    struct termios t;
    ck_assert_int_eq(tcgetattr(master, &t), 0);
    cfmakeraw(&t);
    cfsetispeed(&t, speed);
    cfsetospeed(&t, speed);
    ck_assert_int_eq(tcsetattr(master, TCSANOW, &t), 0);
}

static void start(int line_timing)
{
    char err[128];
    snprintf(dir, sizeof dir, "/tmp/klefr-test-ports-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(link_path, sizeof link_path, "%s/modbus", dir);
    ck_assert_int_eq(
        klefr_sim_init(&S, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    klefr_ports_opts o;
    klefr_ports_opts_init(&o);
    o.path[KLEFR_PORT_BUS] = link_path;
    o.state_dir = dir;
    o.line_timing = line_timing;
    o.quiet = true;
    P = klefr_ports_open(&S, &o);
    ck_assert_ptr_nonnull(P);
    ck_assert_int_eq(S.nfds, 2); /* ir and modbus */
    open_master(B9600);
}

static void stop(void)
{
    close(master);
    master = -1;
    klefr_ports_close(P);
    char ir[160];
    snprintf(ir, sizeof ir, "%s/ir", dir);
    ck_assert_int_ne(access(link_path, F_OK), 0); /* links removed */
    ck_assert_int_ne(access(ir, F_OK), 0);
    rmdir(dir);
}

/* Let the sim see what the master wrote (as its loop would when polling). */
static void serve(void)
{
    struct pollfd pf[KLEFR_SIM_MAX_FDS];
    for (int k = 0; k < S.nfds; k++)
        pf[k] = (struct pollfd){.fd = S.fds[k].fd, .events = POLLIN};
    ck_assert_int_ge(poll(pf, (nfds_t)S.nfds, 1000), 1);
    for (int k = 0; k < S.nfds; k++)
        if (pf[k].revents & POLLIN)
            S.fds[k].ready(S.fds[k].arg, S.t_us);
}

/* What arrives within timeout_ms, read until the pty has been quiet for
 * 20 ms: the kernel passes written bytes on to our side in pieces, later. */
static ssize_t read_reply(uint8_t *buf, size_t n, int timeout_ms)
{
    struct pollfd pf = {.fd = master, .events = POLLIN};
    size_t got = 0;
    while (got < n && poll(&pf, 1, got ? 20 : timeout_ms) == 1) {
        ssize_t r = read(master, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

START_TEST(line_timing_at_9600)
{
    start(1);
    klefr_sim_run_until(&S, 100000);
    uint64_t t0 = S.t_us;
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    /* 8 byte events, one character (11 bits at 9600 = 1146 us) apart */
    ck_assert_uint_eq(S.nev, 8);
    uint64_t last = 0;
    for (size_t k = 0; k < S.nev; k++)
        if (S.ev[k].t_us > last)
            last = S.ev[k].t_us;
    ck_assert_uint_eq(last, t0 + 8 * 1146);
    /* reply: starts t3.5 + 0.5 ms after the request, 9 chars long:
     * ends at t0 + 9168 + 4511 + 10314 = t0 + 23993 us */
    uint8_t buf[64];
    klefr_sim_run_until(&S, t0 + 20000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 50), 0);
    klefr_sim_run_until(&S, t0 + 40000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 9);
    ck_assert(memcmp(buf, REPLY, 9) == 0);
    stop();
}
END_TEST

START_TEST(master_at_wrong_baud_is_not_understood)
{
    start(1);
    open_master(B4800);
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    klefr_sim_run_until(&S, S.t_us + 200000);
    uint8_t buf[64];
    ck_assert_int_eq(read_reply(buf, sizeof buf, 50), 0);
    ck_assert_uint_eq(S.meter.modbus.rx.dropped, 8);
    /* back at 9600 after a pause: understood */
    open_master(B9600);
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    klefr_sim_run_until(&S, S.t_us + 100000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 9);
    stop();
}
END_TEST

START_TEST(fast_mode_answers_at_once)
{
    start(0);
    uint64_t t0 = S.t_us;
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    uint8_t buf[64];
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 9);
    ck_assert(memcmp(buf, REPLY, 9) == 0);
    ck_assert_uint_eq(S.t_us, t0); /* no virtual time needed */
    stop();
}
END_TEST

/* A message longer than any bus frame (an IEC readout is ~600 bytes) goes
 * out whole with line timing, when its last byte has left the wire. */
START_TEST(long_message_with_line_timing)
{
    start(1);
    uint8_t msg[600], buf[700];
    for (size_t k = 0; k < sizeof msg; k++)
        msg[k] = (uint8_t)k;
    uint64_t t0 = S.t_us;
    S.uart_tx(S.uart_tx_arg, KLEFR_PORT_BUS, msg, sizeof msg, t0);
    /* 600 chars at 9600 8E1 = 600 * 1146 us = 687.6 ms */
    klefr_sim_run_until(&S, t0 + 680000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 50), 0);
    klefr_sim_run_until(&S, t0 + 700000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), (ssize_t)sizeof msg);
    ck_assert(memcmp(buf, msg, sizeof msg) == 0);
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ports");
    TCase *tc = tcase_create("pty");
    tcase_add_test(tc, line_timing_at_9600);
    tcase_add_test(tc, master_at_wrong_baud_is_not_understood);
    tcase_add_test(tc, fast_mode_answers_at_once);
    tcase_add_test(tc, long_message_with_line_timing);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
