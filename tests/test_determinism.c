/* The same in-process master exchanges, run headless as fast as possible and
 * with the window (SDL offscreen driver) paced in wall time, give the same
 * characters on the lines at the same virtual times and the same trace: the
 * paced loop hands events over as wall time passes, but in the same order
 * against the ADC blocks and ticks as the flat-out loop. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_synth.h"
#include "load_spec.h"
#include "clock.h"
#include "line.h"
#include "panel.h"
#include "proto/modbus_rtu.h"
#include "sim.h"

#define LOG_MAX 4096

typedef struct {
    char line[16];
    uint8_t byte;
    bool collided;
    uint64_t t0, t1;
} wire_char;

typedef struct {
    wire_char c[LOG_MAX];
    size_t n;
    klefr_line_capture bus, ir;
    char trace[1 << 16];
    size_t trace_n;
} record;

static klefr_sim S;
static klefr_synth SYN;
static record *REC;
static klefr_line_ep *BUS_M, *IR_M;

static void on_wire(void *arg, const klefr_line_char *c)
{
    if (REC->n == LOG_MAX)
        return;
    wire_char *w = &REC->c[REC->n++];
    snprintf(w->line, sizeof w->line, "%s/%s", (const char *)arg, c->sender);
    w->byte = c->byte;
    w->collided = c->collided;
    w->t0 = c->t0_us;
    w->t1 = c->t1_us;
}

static void on_trace(void *arg, const char *line)
{
    (void)arg;
    size_t n = strlen(line);
    if (REC->trace_n + n + 2 < sizeof REC->trace) {
        memcpy(REC->trace + REC->trace_n, line, n);
        REC->trace_n += n;
        REC->trace[REC->trace_n++] = '\n';
    }
}

static void modbus_send(const uint8_t *pdu, size_t n, uint64_t t)
{
    uint8_t f[32];
    memcpy(f, pdu, n);
    uint16_t crc = klefr_crc16_modbus(f, n);
    f[n] = (uint8_t)crc;
    f[n + 1] = (uint8_t)(crc >> 8);
    klefr_line_send(BUS_M, f, n + 2, t);
}

/* The master's steps, at fixed virtual times (KLEFR_EV_CALL). */
static void step_read(void *arg, uint64_t t)
{
    (void)arg;
    modbus_send((const uint8_t[]){1, 3, 0x50, 0x00, 0x00, 44}, 6, t);
}

static void step_baud(void *arg, uint64_t t)
{
    (void)arg;
    modbus_send((const uint8_t[]){1, 6, 0x40, 0x04, 0x12, 0xC0}, 6, t); /* 4800 */
}

static void step_read_4800(void *arg, uint64_t t)
{
    (void)arg;
    klefr_uart_cfg f = {4800, 8, KLEFR_PARITY_EVEN, 1};
    klefr_line_set_format(BUS_M, &f, t);
    modbus_send((const uint8_t[]){1, 4, 0x60, 0x00, 0x00, 20}, 6, t);
}

/* The total energy every 61 ms: some reads fall right where a metering
 * block ends, so a reply shows whether the request ran before or after the
 * slice's ADC block in both runs. */
static void step_energy(void *arg, uint64_t t)
{
    (void)arg;
    modbus_send((const uint8_t[]){1, 4, 0x60, 0x00, 0x00, 2}, 6, t);
    if (t + 61000 < 2400000)
        klefr_sim_post(&S, &(klefr_sim_event){.t_us = t + 61000, .kind = KLEFR_EV_CALL, .fn = step_energy});
}

static void step_sign_on(void *arg, uint64_t t)
{
    (void)arg;
    klefr_line_send(IR_M, (const uint8_t *)"/?!\r\n", 5, t);
}

static void step_option(void *arg, uint64_t t)
{
    (void)arg;
    klefr_line_send(IR_M, (const uint8_t *)"\x06" "050\r\n", 6, t);
    klefr_uart_cfg f = {9600, 7, KLEFR_PARITY_EVEN, 1};
    klefr_line_set_format(IR_M, &f, klefr_line_tx_end(IR_M));
}

static void post(uint64_t t, void (*fn)(void *, uint64_t))
{
    ck_assert(klefr_sim_post(&S, &(klefr_sim_event){.t_us = t, .kind = KLEFR_EV_CALL, .fn = fn}));
}

static bool panel_hook(void *arg, klefr_sim *sim, uint64_t t_us)
{
    (void)sim;
    (void)t_us;
    return klefr_panel_frame(arg, 0);
}

static void run(record *r, bool windowed)
{
    char err[256];
    REC = r;
    memset(r, 0, sizeof *r);
    klefr_load load;
    klefr_load_defaults(&load);
    load.i_rms = 10;
    load.freq_hz = 49.7; /* metering blocks drift against the 10 ms slices */
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    klefr_synth_init(&SYN, &load, &adc);
    ck_assert_int_eq(
        klefr_sim_init(&S, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &SYN.afe, NULL, err, sizeof err), 0);
    S.trace = on_trace;
    klefr_line_set_monitor(klefr_sim_line(&S, KLEFR_PORT_BUS), on_wire, "bus");
    klefr_line_set_monitor(klefr_sim_line(&S, KLEFR_PORT_IR), on_wire, "ir");
    klefr_uart_cfg f8e1 = {9600, 8, KLEFR_PARITY_EVEN, 1}, f7e1 = {300, 7, KLEFR_PARITY_EVEN, 1};
    BUS_M = klefr_line_attach(klefr_sim_line(&S, KLEFR_PORT_BUS), "master", KLEFR_LINE_MASTER,
                              &f8e1, klefr_line_capture_rx, &r->bus);
    IR_M = klefr_line_attach(klefr_sim_line(&S, KLEFR_PORT_IR), "master", KLEFR_LINE_MASTER, &f7e1,
                             klefr_line_capture_rx, &r->ir);
    post(300123, step_read);
    post(450000, step_baud);
    post(472847, step_read_4800); /* when the echo's last stop bit ends: at once at 4800 */
    post(700000, step_energy);
    post(250000, step_sign_on);
    post(1200000, step_option);
    klefr_panel *panel = NULL;
    klefr_loop l = {.sim = &S, .speed = 0, .t_end_us = 2600000};
    if (windowed) {
        klefr_panel_opts po = {.synth = &SYN, .speed = 4};
        panel = klefr_panel_open(&S, &po, err, sizeof err);
        ck_assert_msg(panel != NULL, "panel: %s", err);
        l.speed = 4;
        l.hook = panel_hook;
        l.hook_arg = panel;
    }
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_END);
    klefr_panel_close(panel);
    klefr_sim_close(&S); /* the held trace lines */
}

START_TEST(headless_and_windowed_runs_agree)
{
    record *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    run(a, false);
    run(b, true);
    /* the exchanges happened: a read, the baud write, the read at 4800, an
     * identification and a readout */
    ck_assert_uint_eq(a->bus.n, 93 + 8 + 45 + 28 * 9);
    ck_assert_uint_gt(a->ir.n, 300);
    for (size_t k = 0; k < a->bus.n; k++)
        ck_assert_uint_eq(a->bus.c[k].flags, 0);
    ck_assert_uint_eq(a->n, b->n);
    for (size_t k = 0; k < a->n; k++) {
        ck_assert_str_eq(a->c[k].line, b->c[k].line);
        ck_assert_uint_eq(a->c[k].byte, b->c[k].byte);
        ck_assert_uint_eq(a->c[k].t0, b->c[k].t0);
        ck_assert_uint_eq(a->c[k].t1, b->c[k].t1);
    }
    ck_assert_uint_eq(a->bus.n, b->bus.n);
    ck_assert(!memcmp(a->bus.c, b->bus.c, a->bus.n * sizeof a->bus.c[0]));
    ck_assert_uint_eq(a->ir.n, b->ir.n);
    ck_assert(!memcmp(a->ir.c, b->ir.c, a->ir.n * sizeof a->ir.c[0]));
    ck_assert_uint_gt(a->trace_n, 1000);
    ck_assert_uint_eq(a->trace_n, b->trace_n);
    ck_assert(!memcmp(a->trace, b->trace, a->trace_n));
    /* trace times never go backwards */
    uint64_t last = 0;
    for (const char *p = a->trace; (p = strstr(p, " t=")) != NULL; p += 3) {
        unsigned long s, us;
        ck_assert_int_eq(sscanf(p, " t=%lu.%lu", &s, &us), 2);
        uint64_t t = (uint64_t)s * 1000000u + us;
        ck_assert_uint_ge(t, last);
        last = t;
    }
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("determinism");
    TCase *tc = tcase_create("line");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, headless_and_windowed_runs_agree);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
