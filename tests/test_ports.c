/* The host transports of the serial lines (sim/ports.c) with real ptys and
 * sockets, in virtual time (no sleeps): every reply byte reaches the pty
 * when its stop bit ends on the wire, not when the frame is done; a master
 * at the wrong baud is not understood; timing off answers at once; a raw TCP
 * port serves several clients; the RFC 2217 filter answers like a port
 * server; the PARMRK decoder of real ports turns markers into flags. */
#include "check_run.h"
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "ports.h"
#include "proto/modbus_rtu.h"
#include "rfc2217.h"
#include "net_port.h"
#include "serial_port.h"

static klefr_sim S;
static klefr_ports *P;
static int master = -1;
static char dir[64], link_path[128];

static const uint8_t REQ[8] = {0x01, 0x03, 0x40, 0x00, 0x00, 0x02, 0xD1, 0xCB};
static const uint8_t REPLY[9] = {0x01, 0x03, 0x04, 0x17, 0x06, 0x01, 0x02, 0x9F, 0xD7};
#define CHAR_US 1146u /* 9600 8E1 */

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

/* The sim with its Modbus port as spec (NULL: a pty at link_path). */
static void start_spec(int line_timing, const char *spec)
{
    char err[128];
    snprintf(dir, sizeof dir, "/tmp/klefr-test-ports-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(link_path, sizeof link_path, "%s/modbus", dir);
    ck_assert_int_eq(
        klefr_sim_init(&S, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    klefr_ports_opts o;
    klefr_ports_opts_init(&o);
    o.path[KLEFR_PORT_BUS] = spec ? spec : link_path;
    o.state_dir = dir;
    o.line_timing = line_timing;
    o.quiet = true;
    P = klefr_ports_open(&S, &o);
    ck_assert_ptr_nonnull(P);
}

static void start(int line_timing)
{
    start_spec(line_timing, NULL);
    ck_assert_int_eq(S.world->nfds, 4); /* ir and modbus: each a pty and a watch on its slave */
    open_master(B9600);
}

static void stop(void)
{
    if (master >= 0)
        close(master);
    master = -1;
    klefr_ports_close(P);
    klefr_sim_close(&S);
    char ir[160];
    snprintf(ir, sizeof ir, "%s/ir", dir);
    ck_assert_int_ne(access(link_path, F_OK), 0); /* links removed */
    ck_assert_int_ne(access(ir, F_OK), 0);
    rmdir(dir);
}

/* Let the sim see what the hosts wrote (as its loop would when polling). */
static void serve(void)
{
    struct pollfd pf[KLEFR_SIM_MAX_FDS];
    for (int k = 0; k < S.world->nfds; k++)
        pf[k] = (struct pollfd){.fd = S.world->fds[k].fd, .events = POLLIN};
    ck_assert_int_ge(poll(pf, (nfds_t)S.world->nfds, 1000), 1);
    int n = S.world->nfds;
    klefr_sim_fd fds[KLEFR_SIM_MAX_FDS];
    memcpy(fds, S.world->fds, (size_t)n * sizeof fds[0]);
    for (int k = 0; k < n; k++)
        if (pf[k].revents & (POLLIN | POLLHUP))
            fds[k].ready(fds[k].arg, S.t_us);
}

/* What is readable on fd within timeout_ms, until it has been quiet 20 ms. */
static ssize_t read_fd(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    size_t got = 0;
    while (got < n && poll(&pf, 1, got ? 20 : timeout_ms) == 1) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ssize_t read_reply(uint8_t *buf, size_t n, int timeout_ms)
{
    return read_fd(master, buf, n, timeout_ms);
}

/* The reply streams out byte by byte as the wire hands it over: before the
 * first stop bit ends nothing is on the pty, then one byte per character. */
START_TEST(reply_reaches_the_pty_byte_by_byte)
{
    start(1);
    klefr_sim_run_until(&S, 100000);
    uint64_t t0 = S.t_us;
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    /* request: 8 chars from t0; reply starts t3.5 + 0.5 ms after its end */
    uint64_t first = t0 + 8 * CHAR_US + klefr_mbrtu_t35_us(&(klefr_uart_cfg){9600, 8, 1, 1}) +
                     KLEFR_MBRTU_TURNAROUND_US + CHAR_US;
    uint8_t buf[64];
    klefr_sim_run_until(&S, t0 + 10000);
    klefr_sim_run_events(&S, first - 1);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 30), 0);
    klefr_sim_run_events(&S, first); /* the first byte only */
    ck_assert_uint_eq(S.meter.modbus.frames, 1);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 1);
    ck_assert_uint_eq(buf[0], REPLY[0]);
    klefr_sim_run_until(&S, t0 + 40000); /* the rest */
    ck_assert_int_eq(read_reply(buf + 1, sizeof buf - 1, 1000), 8);
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
    ck_assert_uint_gt(S.meter.modbus.rx.dropped, 0);
    ck_assert_uint_eq(S.meter.modbus.frames, 0);
    /* back at 9600 after a pause: understood */
    open_master(B9600);
    ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
    serve();
    klefr_sim_run_until(&S, S.t_us + 100000);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 9);
    stop();
}
END_TEST

START_TEST(timing_off_answers_at_once)
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

/* A long message (an IEC readout is ~600 bytes) streams: after 100
 * character times exactly 100 bytes are on the pty. */
START_TEST(long_message_streams)
{
    start(1);
    uint8_t msg[600], buf[700];
    for (size_t k = 0; k < sizeof msg; k++)
        msg[k] = (uint8_t)k;
    uint64_t t0 = S.t_us;
    klefr_line_send(klefr_sim_uart_ep(&S, KLEFR_PORT_BUS), msg, sizeof msg, t0);
    klefr_sim_run_until(&S, t0 + 100 * CHAR_US); /* whole slices: to t0 + 110 ms */
    klefr_sim_run_events(&S, t0 + 100 * CHAR_US);
    ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 100);
    klefr_sim_run_until(&S, t0 + 700000);
    ck_assert_int_eq(read_reply(buf + 100, sizeof buf - 100, 1000), 500);
    ck_assert(memcmp(buf, msg, sizeof msg) == 0);
    stop();
}
END_TEST

/* What the line sent while no master had the pty open is not there when
 * one opens it (a real port that is not open hears nothing): a master
 * opening the pty of a busy RS-485 line (a gateway polling the meters), or
 * after another master gave up on a late reply, reads only its own reply.
 * Both orders: the open seen before the request, and with it. */
START_TEST(a_master_opening_the_pty_reads_nothing_from_before)
{
    start(1);
    for (int round = 0; round < 2; round++) {
        close(master);
        master = -1;
        uint8_t stale[300], buf[400];
        memset(stale, 0x5A, sizeof stale);
        klefr_line_send(klefr_sim_uart_ep(&S, KLEFR_PORT_BUS), stale, sizeof stale, S.t_us);
        klefr_sim_run_until(&S, S.t_us + 400000); /* all on the pty, nobody reading */
        open_master(B9600);
        if (round == 0)
            serve(); /* the open, alone */
        ck_assert_int_eq(write(master, REQ, sizeof REQ), 8);
        serve();
        klefr_sim_run_until(&S, S.t_us + 100000);
        ck_assert_int_eq(read_reply(buf, sizeof buf, 1000), 9);
        ck_assert(memcmp(buf, REPLY, 9) == 0);
    }
    stop();
}
END_TEST

/* ---- raw TCP ---- */

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int bound_port(void)
{
    char label[128];
    ck_assert_int_eq(klefr_ports_label(P, KLEFR_PORT_BUS, label, sizeof label), 0);
    const char *c = strrchr(label, ':');
    ck_assert_ptr_nonnull(c);
    ck_assert(!strncmp(label, "modbus: tcp:127.0.0.1:", 22));
    return atoi(c + 1);
}

/* Port 0 picks a free port on 127.0.0.1; two clients both hear the reply
 * to what one of them sent; a fifth client is turned away. */
START_TEST(tcp_port_serves_several_clients)
{
    start_spec(1, "tcp:0");
    int port = bound_port();
    ck_assert_int_gt(port, 0);
    int c[KLEFR_PORTS_MAX_CLIENTS + 1];
    for (int k = 0; k < KLEFR_PORTS_MAX_CLIENTS; k++) {
        c[k] = tcp_connect(port);
        serve(); /* accept */
    }
    c[KLEFR_PORTS_MAX_CLIENTS] = tcp_connect(port);
    serve();
    uint8_t buf[128];
    ssize_t n = read_fd(c[KLEFR_PORTS_MAX_CLIENTS], buf, sizeof buf, 1000);
    ck_assert_int_gt(n, 0);
    ck_assert_ptr_nonnull(memmem(buf, (size_t)n, "busy", 4));
    ck_assert_int_eq(write(c[1], REQ, sizeof REQ), 8);
    serve();
    klefr_sim_run_until(&S, S.t_us + 100000);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(read_fd(c[k], buf, sizeof buf, 1000), 9);
        ck_assert(memcmp(buf, REPLY, 9) == 0);
    }
    for (int k = 0; k <= KLEFR_PORTS_MAX_CLIENTS; k++)
        close(c[k]);
    stop();
}
END_TEST

/* ---- RFC 2217 ---- */

static bool contains(const klefr_bytes *b, const uint8_t *s, size_t n)
{
    return b->n >= n && memmem(b->p, b->n, s, n) != NULL;
}

START_TEST(rfc2217_negotiates_and_answers_settings)
{
    uint8_t o[512], d[64];
    klefr_bytes out = {o, 0, sizeof o, 0}, data = {d, 0, sizeof d, 0};
    klefr_rfc2217 t;
    klefr_uart_cfg meter = {9600, 8, KLEFR_PARITY_EVEN, 1};
    klefr_rfc2217_start(&t, &meter, &out);
    ck_assert(contains(&out, (const uint8_t[]){255, 251, 44}, 3)); /* WILL COM-PORT */
    out.n = 0;
    /* the client: WILL COM-PORT, DO ECHO; SET-BAUDRATE 2400; SET-PARITY odd;
     * data with a doubled IAC */
    const uint8_t in[] = {255, 251, 44, 255, 253, 1, 255, 250, 44, 1, 0, 0, 9, 96, 255, 240,
                          255, 250, 44, 3, 2, 255, 240, 'a', 255, 255, 'b'};
    unsigned set = klefr_rfc2217_input(&t, in, sizeof in, &data, &out);
    ck_assert_uint_eq(set, KLEFR_2217_SET_BAUD | KLEFR_2217_SET_PARITY);
    ck_assert_uint_eq(t.cfg.baud, 2400);
    ck_assert_int_eq(t.cfg.parity, KLEFR_PARITY_ODD);
    ck_assert(t.comport);
    ck_assert(contains(&out, (const uint8_t[]){255, 253, 44}, 3));  /* DO COM-PORT */
    ck_assert(contains(&out, (const uint8_t[]){255, 252, 1}, 3));   /* WONT ECHO */
    ck_assert(contains(&out, (const uint8_t[]){255, 250, 44, 101, 0, 0, 9, 96, 255, 240}, 10));
    ck_assert(contains(&out, (const uint8_t[]){255, 250, 44, 103, 2, 255, 240}, 7));
    ck_assert_uint_eq(data.n, 3);
    ck_assert(!memcmp(d, "a\xff" "b", 3));
    /* mark parity is refused: the answer is the parity in force */
    out.n = 0;
    const uint8_t mark[] = {255, 250, 44, 3, 4, 255, 240};
    ck_assert_uint_eq(klefr_rfc2217_input(&t, mark, sizeof mark, &data, &out), 0);
    ck_assert(contains(&out, (const uint8_t[]){255, 250, 44, 103, 2, 255, 240}, 7));
    /* line state: reported only when the mask asks */
    out.n = 0;
    klefr_rfc2217_linestate(&t, KLEFR_RX_ERR_FRAMING, &out);
    ck_assert_uint_eq(out.n, 0);
    const uint8_t mask[] = {255, 250, 44, 10, 0x0C, 255, 240};
    klefr_rfc2217_input(&t, mask, sizeof mask, &data, &out);
    out.n = 0;
    klefr_rfc2217_linestate(&t, KLEFR_RX_ERR_FRAMING, &out);
    ck_assert(contains(&out, (const uint8_t[]){255, 250, 44, 106, 8, 255, 240}, 7));
    out.n = 0;
    klefr_rfc2217_data((const uint8_t[]){1, 255}, 2, &out);
    ck_assert_uint_eq(out.n, 3);
}
END_TEST

/* ---- real ports: PARMRK ---- */

START_TEST(parmrk_markers_become_flags)
{
    klefr_parmrk st = {0};
    const uint8_t in[] = {0x41, 0xFF, 0xFF, 0xFF, 0x00, 0x42, 0xFF, 0x00, 0x00, 0x43, 0xFF};
    uint8_t out[16], fl[16];
    size_t n = klefr_parmrk_decode(&st, in, sizeof in, out, fl, KLEFR_RX_ERR_PARITY);
    ck_assert_uint_eq(n, 5);
    const uint8_t want[] = {0x41, 0xFF, 0x42, 0x00, 0x43};
    const uint8_t wantf[] = {0, 0, KLEFR_RX_ERR_PARITY, KLEFR_RX_ERR_FRAMING, 0};
    ck_assert(!memcmp(out, want, 5));
    ck_assert(!memcmp(fl, wantf, 5));
    /* a marker split across two reads */
    n = klefr_parmrk_decode(&st, (const uint8_t[]){0x00, 0x44}, 2, out, fl, KLEFR_RX_ERR_FRAMING);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0], 0x44);
    ck_assert_uint_eq(fl[0], KLEFR_RX_ERR_FRAMING);
}
END_TEST

/* On a real tty (a pty here: the only one a test machine has) the kernel
 * escapes a received FF as FF FF once INPCK + PARMRK are on; the decoder
 * gives one FF back. (A pty cannot produce a parity error: that marker is
 * covered by the test above.) */
/* A pty pair: *m the master's side, the slave (raw, non-blocking) returned,
 * as a real port's fd. */
static int raw_pty(int *m)
{
    *m = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(*m, 0);
    ck_assert_int_eq(grantpt(*m) | unlockpt(*m), 0);
    int s = open(ptsname(*m), O_RDWR | O_NOCTTY | O_NONBLOCK);
    ck_assert_int_ge(s, 0);
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    return s;
}

START_TEST(parmrk_on_a_pty)
{
    int m, s = raw_pty(&m);
    struct termios t;
    ck_assert_int_eq(klefr_serial_mark_errors(s), 0);
    tcgetattr(s, &t);
    ck_assert(t.c_iflag & INPCK);
    ck_assert(t.c_iflag & PARMRK);
    ck_assert_int_eq(write(m, "\x31\xff\x32", 3), 3);
    klefr_serial ser = {.fd = s, .applied = {9600, 8, KLEFR_PARITY_NONE, 1}};
    uint8_t d[16], f[16];
    int n = 0;
    struct pollfd pf = {.fd = s, .events = POLLIN};
    while (n < 3 && poll(&pf, 1, 1000) == 1) {
        int r = klefr_serial_read(&ser, d + n, f + n, sizeof d - (size_t)n);
        ck_assert_int_ge(r, 0);
        n += r;
    }
    ck_assert_int_eq(n, 3);
    ck_assert(!memcmp(d, "\x31\xff\x32", 3));
    ck_assert(!f[0] && !f[1] && !f[2]);
    close(s);
    close(m);
}
END_TEST

/* An FF at the end of one read waits for the next byte to know whether it
 * is a marker; when it is not (bytes that came before PARMRK was on), both
 * come out with the next read: one character more than that read's bytes.
 * klefr_serial_read must leave room for it (it wrote cap + 1). */
START_TEST(parmrk_read_stays_within_cap)
{
    int m, s = raw_pty(&m); /* no PARMRK: an FF comes as it is */
    klefr_serial ser = {.fd = s, .applied = {9600, 8, KLEFR_PARITY_NONE, 1}};
    struct pollfd pf = {.fd = s, .events = POLLIN};
    uint8_t d[32], f[32], got[32];
    size_t n = 0;
    ck_assert_int_eq(write(m, "\xff", 1), 1);
    ck_assert_int_eq(poll(&pf, 1, 2000), 1);
    ck_assert_int_eq(klefr_serial_read(&ser, d, f, 8), 0); /* the FF is held */
    ck_assert_int_eq(write(m, "ABCDEFGHIJ", 10), 10);
    while (n < 11 && poll(&pf, 1, 2000) == 1) {
        memset(d, 0xEE, sizeof d);
        int r = klefr_serial_read(&ser, d, f, 8);
        ck_assert_int_ge(r, 0);
        ck_assert_int_le(r, 8);
        ck_assert_uint_eq(d[8], 0xEE); /* nothing written past cap */
        memcpy(got + n, d, (size_t)r);
        n += (size_t)r;
    }
    ck_assert_uint_eq(n, 11);
    ck_assert(!memcmp(got, "\xff" "ABCDEFGHIJ", 11));
    close(s);
    close(m);
}
END_TEST

/* ---- random input to the parsers of host input ---- */

static uint64_t RNG = 88172645463325252u;
static uint32_t rnd(uint32_t n)
{
    RNG ^= RNG << 13;
    RNG ^= RNG >> 7;
    RNG ^= RNG << 17;
    return (uint32_t)(RNG % n);
}

/* Bytes a telnet parser finds interesting, often. */
static uint8_t rnd_telnet_byte(void)
{
    static const uint8_t hot[] = {255, 250, 240, 251, 252, 253, 254, 44, 0, 1, 2, 3, 4, 5, 10, 12};
    return rnd(2) ? hot[rnd(sizeof hot)] : (uint8_t)rnd(256);
}

START_TEST(rfc2217_takes_any_bytes)
{
    for (int run = 0; run < 3000; run++) {
        uint8_t o[96], d[64], in[300];
        klefr_bytes out = {o, 0, sizeof o, 0}, data = {d, 0, sizeof d, 0};
        klefr_rfc2217 t;
        klefr_rfc2217_start(&t, &(klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1}, &out);
        size_t n = rnd(sizeof in);
        for (size_t k = 0; k < n; k++)
            in[k] = rnd_telnet_byte();
        for (size_t k = 0; k < n;) { /* in pieces, as TCP delivers */
            size_t m = 1 + rnd(40);
            if (m > n - k)
                m = n - k;
            out.n = data.n = 0;
            klefr_rfc2217_input(&t, in + k, m, &data, &out);
            ck_assert_uint_le(data.n + data.lost, m);
            k += m;
        }
        ck_assert(t.cfg.baud >= 50 && t.cfg.baud <= 4000000);
        ck_assert(t.cfg.data_bits >= 5 && t.cfg.data_bits <= 8);
        ck_assert(t.cfg.parity <= KLEFR_PARITY_ODD);
        ck_assert(t.cfg.stop_bits == 1 || t.cfg.stop_bits == 2);
    }
}
END_TEST

START_TEST(parmrk_and_addresses_take_any_bytes)
{
    for (int run = 0; run < 3000; run++) {
        klefr_parmrk st = {0};
        uint8_t in[64], out[64], fl[64];
        size_t n = rnd(sizeof in);
        for (size_t k = 0; k < n; k++)
            in[k] = rnd(2) ? (uint8_t)(rnd(2) ? 0xFF : 0x00) : (uint8_t)rnd(256);
        size_t m = klefr_parmrk_decode(&st, in, n, out, fl, KLEFR_RX_ERR_PARITY);
        ck_assert_uint_le(m, n + 1); /* FF then a non-marker: both */
        for (size_t k = 0; k < m; k++)
            ck_assert(fl[k] == 0 || fl[k] == KLEFR_RX_ERR_PARITY || fl[k] == KLEFR_RX_ERR_FRAMING);
        char spec[24], err[128], host[32], port[16];
        static const char alpha[] = "0123456789:[].a-";
        size_t sl = rnd(sizeof spec);
        for (size_t k = 0; k < sl; k++)
            spec[k] = alpha[rnd(sizeof alpha - 1)];
        spec[sl] = 0;
        if (klefr_net_parse(spec, host, sizeof host, port, sizeof port, err, sizeof err) == 0)
            ck_assert(atoi(port) >= 0 && atoi(port) <= 65535 && host[0]);
        else
            ck_assert(err[0]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ports");
    TCase *tc = tcase_create("pty");
    tcase_add_test(tc, reply_reaches_the_pty_byte_by_byte);
    tcase_add_test(tc, master_at_wrong_baud_is_not_understood);
    tcase_add_test(tc, timing_off_answers_at_once);
    tcase_add_test(tc, long_message_streams);
    tcase_add_test(tc, a_master_opening_the_pty_reads_nothing_from_before);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("net");
    tcase_add_test(tn, tcp_port_serves_several_clients);
    tcase_add_test(tn, rfc2217_negotiates_and_answers_settings);
    suite_add_tcase(s, tn);
    TCase *ts = tcase_create("serial");
    tcase_add_test(ts, parmrk_markers_become_flags);
    tcase_add_test(ts, parmrk_on_a_pty);
    tcase_add_test(ts, parmrk_read_stays_within_cap);
    suite_add_tcase(s, ts);
    TCase *tr = tcase_create("random");
    tcase_add_test(tr, rfc2217_takes_any_bytes);
    tcase_add_test(tr, parmrk_and_addresses_take_any_bytes);
    suite_add_tcase(s, tr);
    return klefr_check_run(s);
}
