#include "sim.h"

#include <stdlib.h>
#include <string.h>

static void hal_uart_config(void *arg, klefr_port port, const klefr_uart_cfg *cfg, uint64_t t_us)
{
    klefr_sim *s = arg;
    klefr_sim_uart *u = &s->uart[port];
    if (s->uart_ep[port]) { /* klefr_line_format() tells the settings at a time */
        klefr_line_set_format(s->uart_ep[port], cfg, t_us);
        return;
    }
    /* No line yet: keep the settings for when one is made (the latest in
     * force and one still to come). */
    if (u->pending && u->next_t <= t_us)
        u->cfg = u->next;
    if (!u->has_cfg) {
        u->cfg = *cfg;
        u->has_cfg = true;
    }
    u->next = *cfg;
    u->next_t = t_us;
    u->pending = true;
}

static void hal_uart_write(void *arg, klefr_port port, const uint8_t *data, size_t len, uint64_t t_us)
{
    klefr_sim *s = arg;
    if (s->uart_ep[port]) /* else nobody is on the line to hear it */
        klefr_line_send(s->uart_ep[port], data, len, t_us);
}

/* ---- the serial lines ---- */

static bool line_post(void *arg, uint64_t t_us, void (*fn)(void *fn_arg, uint64_t t_us),
                      void *fn_arg)
{
    return klefr_sim_post(arg, &(klefr_sim_event){
                                   .t_us = t_us, .kind = KLEFR_EV_CALL, .fn = fn, .arg = fn_arg});
}

/* The meter's UART received a character from the line. */
static void uart_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_sim_uart *u = arg;
    if (u->sim->powered)
        klefr_meter_uart_rx(&u->sim->meter, u->port, byte, flags, t_us);
}

/* The line of a port the model has, made when a master first asks for it
 * (a sim nobody talks to allocates nothing): the optical port is two light
 * paths (DUPLEX); M-bus is master voltage / slave current (DUPLEX); RS-485
 * is one shared pair (BUS). */
static void open_line(klefr_sim *s, klefr_port port)
{
    const char *bus = klefr_model_has_modbus(s->model) ? "modbus"
                      : klefr_model_has_mbus(s->model) ? "mbus"
                                                       : NULL;
    const char *name = port == KLEFR_PORT_IR ? "ir" : bus;
    if (s->line[port] || !name)
        return;
    klefr_line_kind kind = port == KLEFR_PORT_BUS && klefr_model_has_modbus(s->model)
                               ? KLEFR_LINE_BUS
                               : KLEFR_LINE_DUPLEX;
    klefr_sim_uart *u = &s->uart[port];
    u->sim = s;
    u->port = port;
    s->line[port] = klefr_line_new(name, kind, (klefr_line_clock){line_post, s});
    if (!s->line[port])
        return;
    s->uart_ep[port] = klefr_line_attach(s->line[port], "meter", KLEFR_LINE_SLAVE,
                                         u->has_cfg ? &u->cfg : NULL, uart_rx, u);
    if (!s->uart_ep[port]) {
        klefr_line_free(s->line[port]);
        s->line[port] = NULL;
        return;
    }
    if (u->pending)
        klefr_line_set_format(s->uart_ep[port], &u->next, u->next_t);
}

klefr_line *klefr_sim_line(klefr_sim *s, klefr_port port)
{
    open_line(s, port);
    return s->line[port];
}

klefr_line_ep *klefr_sim_uart_ep(klefr_sim *s, klefr_port port)
{
    open_line(s, port);
    return s->uart_ep[port];
}

static void hal_pulse(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us)
{
    klefr_sim *s = arg;
    s->out.count[out]++;
    s->out.on_until_us[out] = t_us + width_us;
    s->out.last_width_us[out] = width_us;
    if (s->on_pulse)
        s->on_pulse(s->on_pulse_arg, out, t_us, width_us);
}

static void hal_backlight(void *arg, bool on, uint64_t t_us)
{
    klefr_sim *s = arg;
    (void)t_us;
    s->out.backlight = on;
}

static void hal_lcd_update(void *arg, const klefr_lcd_fb *fb, uint64_t t_us)
{
    klefr_sim *s = arg;
    (void)t_us;
    s->out.lcd = *fb;
}

static uint32_t hal_program_crc(void *arg)
{
    klefr_sim *s = arg;
    return s->program_corrupt ? 0 : KLEFR_PROGRAM_CRC_EXPECTED;
}

/* ---- trace lines in time order ---- */

static uint64_t sim_now(const klefr_sim *s)
{
    return s->t_us > s->ev_done_us ? s->t_us : s->ev_done_us;
}

/* The time a line carries (" t=S.UUUUUU" at its end); false if none. */
static bool line_time(const char *line, uint64_t *t_us)
{
    const char *p = strstr(line, " t=");
    for (const char *q = p; q; q = strstr(q + 1, " t="))
        p = q;
    if (!p)
        return false;
    char *end;
    unsigned long long sec = strtoull(p + 3, &end, 10);
    if (*end != '.')
        return false;
    unsigned long long us = strtoull(end + 1, &end, 10);
    *t_us = (uint64_t)sec * 1000000u + us;
    return true;
}

static void hal_trace(void *arg, const char *line)
{
    klefr_sim *s = arg;
    uint64_t t;
    if (!s->trace)
        return;
    if (!line_time(line, &t)) { /* no time (the boot's store lines): no order to keep */
        s->trace(s->trace_arg, line);
        return;
    }
    if (s->trace_n == s->trace_cap) {
        size_t cap = s->trace_cap ? s->trace_cap * 2 : 64;
        klefr_sim_trace_line *q = realloc(s->trace_q, cap * sizeof *q);
        if (!q) { /* no room to hold it: print it now rather than lose it */
            s->trace(s->trace_arg, line);
            return;
        }
        s->trace_q = q;
        s->trace_cap = cap;
    }
    char *text = strdup(line);
    if (!text) {
        s->trace(s->trace_arg, line);
        return;
    }
    klefr_sim_trace_line tl = {t, s->trace_seq++, text};
    size_t k = s->trace_n++;
    while (k > 0 && s->trace_q[k - 1].t_us > tl.t_us) { /* mostly in order already */
        s->trace_q[k] = s->trace_q[k - 1];
        k--;
    }
    s->trace_q[k] = tl;
}

void klefr_sim_trace_flush(klefr_sim *s, uint64_t t_us)
{
    size_t k = 0;
    while (k < s->trace_n && s->trace_q[k].t_us <= t_us) {
        if (s->trace)
            s->trace(s->trace_arg, s->trace_q[k].text);
        free(s->trace_q[k].text);
        k++;
    }
    if (k) /* (trace_q is NULL before the first line) */
        memmove(s->trace_q, s->trace_q + k, (s->trace_n - k) * sizeof s->trace_q[0]);
    s->trace_n -= k;
}

static void trace_due(klefr_sim *s)
{
    if (s->trace_n && sim_now(s) >= KLEFR_SIM_TRACE_HOLD_US)
        klefr_sim_trace_flush(s, sim_now(s) - KLEFR_SIM_TRACE_HOLD_US);
}

static int hal_nvm_read(void *arg, uint32_t addr, void *buf, uint32_t len)
{
    klefr_sim *s = arg;
    return klefr_eeprom_read(&s->eeprom, addr, buf, len);
}

static int hal_nvm_write(void *arg, uint32_t addr, const void *buf, uint32_t len)
{
    klefr_sim *s = arg;
    return klefr_eeprom_write(&s->eeprom, addr, buf, len);
}

int klefr_sim_init(klefr_sim *s, klefr_model model, uint32_t serial, klefr_afe *afe,
                   const char *eeprom_path, char *err, int errlen)
{
    memset(s, 0, sizeof *s);
    s->model = model;
    s->serial = serial;
    s->afe = afe;
    if (klefr_eeprom_open(&s->eeprom, eeprom_path, err, errlen) != 0)
        return -1;
    s->hal = (klefr_hal){.arg = s,
                         .nvm_read = hal_nvm_read,
                         .nvm_write = hal_nvm_write,
                         .uart_config = hal_uart_config,
                         .uart_write = hal_uart_write,
                         .pulse = hal_pulse,
                         .backlight = hal_backlight,
                         .lcd_update = hal_lcd_update,
                         .program_crc = hal_program_crc,
                         .trace = hal_trace};
    klefr_sim_power(s, true);
    return 0;
}

void klefr_sim_close(klefr_sim *s)
{
    klefr_sim_trace_flush(s, UINT64_MAX);
    free(s->trace_q);
    s->trace_q = NULL;
    s->trace_cap = 0;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        klefr_line_free(s->line[k]);
        s->line[k] = NULL;
        s->uart_ep[k] = NULL;
    }
}

void klefr_sim_power(klefr_sim *s, bool on)
{
    if (on == s->powered)
        return;
    s->powered = on;
    if (on) {
        klefr_meter_init(&s->meter, &s->hal, s->model, s->serial, s->t_us);
        /* the firmware reads the levels that are there as it starts */
        if (s->tariff_input)
            klefr_meter_tariff_input(&s->meter, true, s->t_us);
        if (s->buttons)
            klefr_meter_buttons(&s->meter, s->buttons, s->t_us);
    } else {
        klefr_meter_power_fail(&s->meter, s->t_us);
    }
}

size_t klefr_lcd_text_line(const klefr_lcd_fb *fb, char *buf, size_t size)
{
    char text[160];
    klefr_lcd_text(fb, text, sizeof text);
    size_t o = 0;
    for (const char *p = text; *p && o + 4 < size; p++) {
        if (*p == '\n') {
            memcpy(buf + o, " | ", 3);
            o += 3;
        } else {
            buf[o++] = *p;
        }
    }
    if (size)
        buf[o < size ? o : size - 1] = 0;
    return o;
}

const char *klefr_sim_fault_to_str(klefr_sim_fault f)
{
    switch (f) {
    case KLEFR_FAULT_PROGRAM_CRC:
        return "program-crc";
    case KLEFR_FAULT_COUNT:
        break;
    }
    return "?";
}

int klefr_sim_fault_parse(const char *s)
{
    for (int f = 0; f < KLEFR_FAULT_COUNT; f++)
        if (!strcmp(s, klefr_sim_fault_to_str((klefr_sim_fault)f)))
            return f;
    return -1;
}

void klefr_sim_inject(klefr_sim *s, klefr_sim_fault f)
{
    switch (f) {
    case KLEFR_FAULT_PROGRAM_CRC:
        s->program_corrupt = true;
        if (s->powered && s->t_us == 0 && s->scope_n == 0)
            klefr_meter_init(&s->meter, &s->hal, s->model, s->serial, s->t_us);
        break;
    case KLEFR_FAULT_COUNT:
        break;
    }
}

static bool ev_before(const klefr_sim_event *a, const klefr_sim_event *b)
{
    return a->t_us != b->t_us ? a->t_us < b->t_us : a->seq < b->seq;
}

bool klefr_sim_post(klefr_sim *s, const klefr_sim_event *ev)
{
    size_t cap = KLEFR_SIM_MAX_EVENTS - (ev->kind == KLEFR_EV_CALL ? 0 : KLEFR_SIM_CALL_RESERVE);
    if (s->nev >= cap)
        return false;
    size_t k = s->nev++;
    s->ev[k] = *ev;
    s->ev[k].seq = s->ev_seq++;
    while (k > 0 && ev_before(&s->ev[k], &s->ev[(k - 1) / 2])) {
        klefr_sim_event tmp = s->ev[k];
        s->ev[k] = s->ev[(k - 1) / 2];
        s->ev[(k - 1) / 2] = tmp;
        k = (k - 1) / 2;
    }
    return true;
}

static klefr_sim_event ev_pop(klefr_sim *s)
{
    klefr_sim_event top = s->ev[0];
    s->ev[0] = s->ev[--s->nev];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < s->nev && ev_before(&s->ev[l], &s->ev[m]))
            m = l;
        if (r < s->nev && ev_before(&s->ev[r], &s->ev[m]))
            m = r;
        if (m == k)
            break;
        klefr_sim_event tmp = s->ev[k];
        s->ev[k] = s->ev[m];
        s->ev[m] = tmp;
        k = m;
    }
    return top;
}

static void tap(klefr_sim *s, klefr_sim_event_kind kind, uint8_t byte, uint64_t t_us)
{
    if (s->input_tap) {
        klefr_sim_event e = {.t_us = t_us, .kind = kind, .byte = byte};
        s->input_tap(s->input_tap_arg, &e);
    }
}

void klefr_sim_buttons(klefr_sim *s, uint8_t held, uint64_t t_us)
{
    tap(s, KLEFR_EV_BUTTONS, held, t_us);
    for (int b = 0; b < 2; b++)
        if ((held >> b & 1u) && !(s->buttons >> b & 1u))
            s->button_down_us[b] = t_us;
    s->buttons = held;
    if (s->powered)
        klefr_meter_buttons(&s->meter, held, t_us);
}

void klefr_sim_tariff_input(klefr_sim *s, bool t2, uint64_t t_us)
{
    tap(s, KLEFR_EV_TARIFF_INPUT, t2, t_us);
    s->tariff_input = t2;
    if (s->powered)
        klefr_meter_tariff_input(&s->meter, t2, t_us);
}

static void ev_deliver(klefr_sim *s, const klefr_sim_event *e)
{
    switch (e->kind) {
    case KLEFR_EV_UART_RX:
        if (s->powered)
            klefr_meter_uart_rx(&s->meter, (klefr_port)e->port, e->byte, e->flags, e->t_us);
        break;
    case KLEFR_EV_BUTTONS:
        klefr_sim_buttons(s, e->byte, e->t_us);
        break;
    case KLEFR_EV_TARIFF_INPUT:
        klefr_sim_tariff_input(s, e->byte != 0, e->t_us);
        break;
    case KLEFR_EV_POWER:
        tap(s, KLEFR_EV_POWER, e->byte, e->t_us);
        klefr_sim_power(s, e->byte != 0);
        break;
    case KLEFR_EV_CALL:
        e->fn(e->arg, e->t_us);
        break;
    }
}

/* Deliver every event due at or before t_us. */
static void ev_run_due(klefr_sim *s, uint64_t t_us)
{
    while (s->nev && s->ev[0].t_us <= t_us) {
        klefr_sim_event e = ev_pop(s);
        if (e.t_us > s->ev_done_us)
            s->ev_done_us = e.t_us;
        ev_deliver(s, &e);
    }
}

void klefr_sim_run_events(klefr_sim *s, uint64_t t_us)
{
    uint64_t last = s->t_us + KLEFR_SIM_SLICE_US - 1; /* the slice's work comes after */
    ev_run_due(s, t_us < last ? t_us : last);
    trace_due(s);
}

int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg)
{
    if (s->nfds == KLEFR_SIM_MAX_FDS)
        return -1;
    s->fds[s->nfds++] = (klefr_sim_fd){fd, ready, arg};
    return 0;
}

void klefr_sim_remove_fd(klefr_sim *s, int fd)
{
    for (int i = 0; i < s->nfds; i++)
        if (s->fds[i].fd == fd) {
            memmove(s->fds + i, s->fds + i + 1, (size_t)(s->nfds - i - 1) * sizeof s->fds[0]);
            s->nfds--;
            return;
        }
}

bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us)
{
    int32_t v[KLEFR_SIM_SLICE_SAMPLES], i[KLEFR_SIM_SLICE_SAMPLES];
    while (s->t_us + KLEFR_SIM_SLICE_US <= t_end_us) {
        /* the events inside this slice first, then its ADC block and tick */
        ev_run_due(s, s->t_us + KLEFR_SIM_SLICE_US - 1);
        size_t n = s->afe ? s->afe->fill(s->afe, v, i, KLEFR_SIM_SLICE_SAMPLES) : 0;
        if (s->afe && n == 0)
            return false;
        /* scope tap for the panel: a cut supply reads nothing */
        for (size_t k = 0; k < n;) {
            size_t at = s->scope_n % KLEFR_SIM_SCOPE_N, m = KLEFR_SIM_SCOPE_N - at;
            m = n - k < m ? n - k : m;
            if (s->powered) {
                memcpy(s->scope_v + at, v + k, m * sizeof *v);
                memcpy(s->scope_i + at, i + k, m * sizeof *i);
            } else {
                memset(s->scope_v + at, 0, m * sizeof *v);
                memset(s->scope_i + at, 0, m * sizeof *i);
            }
            k += m;
            s->scope_n += m;
        }
        if (s->afe && s->afe->clipped != s->clip_seen) {
            s->clip_seen = s->afe->clipped;
            if (!s->clip_any)
                s->clip_first_us = s->t_us;
            s->clip_any = true;
            s->clip_last_us = s->t_us;
        }
        if (s->powered && n)
            klefr_meter_adc(&s->meter, v, i, n, s->t_us);
        s->t_us += KLEFR_SIM_SLICE_US;
        if (s->powered)
            klefr_meter_tick(&s->meter, s->t_us);
        trace_due(s);
        if (n < KLEFR_SIM_SLICE_SAMPLES && s->afe)
            return false;
    }
    ev_run_due(s, s->t_us);
    trace_due(s);
    return true;
}
