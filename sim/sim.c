#include "sim.h"

#include <stdio.h>
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
        klefr_line_send(s->uart_ep[port], data, len, t_us + s->tx_delay_us);
}

/* ---- the serial lines ---- */

static bool line_post(void *arg, uint64_t t_us, void (*fn)(void *fn_arg, uint64_t t_us),
                      void *fn_arg)
{
    return klefr_world_post(arg, &(klefr_sim_event){
                                     .t_us = t_us, .kind = KLEFR_EV_CALL, .fn = fn, .arg = fn_arg});
}

klefr_line_clock klefr_world_line_clock(klefr_world *w)
{
    return (klefr_line_clock){line_post, w};
}

/* The meter's UART received a character from the line. */
static void uart_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_sim_uart *u = arg;
    if (u->sim->powered)
        klefr_meter_uart_rx(&u->sim->meter, u->port, byte, flags, t_us);
}

/* The meter's UART on a line, with the settings the firmware gave it so far. */
static int attach_uart(klefr_sim *s, klefr_port port, klefr_line *line, const char *name)
{
    klefr_sim_uart *u = &s->uart[port];
    u->sim = s;
    u->port = port;
    s->uart_ep[port] =
        klefr_line_attach(line, name, KLEFR_LINE_SLAVE, u->has_cfg ? &u->cfg : NULL, uart_rx, u);
    if (!s->uart_ep[port])
        return -1;
    if (u->pending)
        klefr_line_set_format(s->uart_ep[port], &u->next, u->next_t);
    return 0;
}

bool klefr_sim_has_port(klefr_model model, klefr_port port)
{
    return port == KLEFR_PORT_IR ||
           (port == KLEFR_PORT_BUS && (klefr_model_has_modbus(model) || klefr_model_has_mbus(model)));
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
    s->line[port] = klefr_line_new(name, kind, klefr_world_line_clock(s->world));
    if (!s->line[port])
        return;
    if (attach_uart(s, port, s->line[port], "meter")) {
        klefr_line_free(s->line[port]);
        s->line[port] = NULL;
    }
}

int klefr_sim_join_line(klefr_sim *s, klefr_port port, klefr_line *line, const char *name)
{
    if (s->line[port] || !klefr_sim_has_port(s->model, port))
        return -1;
    if (attach_uart(s, port, line, name))
        return -1;
    s->line[port] = line;
    s->line_shared[port] = true;
    return 0;
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

/* ---- trace lines, in time order through the world ---- */

static void hal_trace(void *arg, const char *line)
{
    klefr_sim *s = arg;
    if (s->trace)
        klefr_world_trace(s->world, s->trace, s->trace_arg, line);
}

void klefr_sim_trace_flush(klefr_sim *s, uint64_t t_us)
{
    klefr_world_trace_flush(s->world, t_us);
}

static int hal_nvm_read(void *arg, uint32_t addr, void *buf, uint32_t len)
{
    klefr_sim *s = arg;
    return klefr_eeprom_read(&s->eeprom, addr, buf, len);
}

#define NVM_PAGE 64u
_Static_assert(KLEFR_NVM_SIZE / NVM_PAGE <= 32, "nvm_written has a bit a page");

static int hal_nvm_write(void *arg, uint32_t addr, const void *buf, uint32_t len)
{
    klefr_sim *s = arg;
    for (uint32_t p = addr / NVM_PAGE; len && p * NVM_PAGE < addr + len && p < 32; p++)
        s->nvm_written |= 1u << p;
    return klefr_eeprom_write(&s->eeprom, addr, buf, len);
}

static bool blank(const uint8_t *mem, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (mem[k] != 0xFF)
            return false;
    return true;
}

/* Everything but the world and the scope: a meter in a shared world may
 * be an allocation that ends before klefr_sim_alone. */
static int init_meter(klefr_sim *s, klefr_world *w, klefr_model model, uint32_t serial,
                      klefr_afe *afe, const char *eeprom_path, const uint8_t *factory, char *err,
                      int errlen)
{
    memset(s, 0, KLEFR_SIM_SHARED_SIZE);
    s->world = w;
    s->model = model;
    s->serial = serial;
    s->afe = afe;
    s->t_us = w->t_us;
    if (klefr_eeprom_open(&s->eeprom, eeprom_path, err, errlen) != 0)
        return -1;
    if (factory && blank(s->eeprom.mem, sizeof s->eeprom.mem))
        memcpy(s->eeprom.mem, factory, sizeof s->eeprom.mem);
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
    if (klefr_world_add(w, s) != 0) {
        snprintf(err, (size_t)errlen, "out of memory");
        return -1;
    }
    klefr_sim_power(s, true);
    return 0;
}

int klefr_sim_init(klefr_sim *s, klefr_model model, uint32_t serial, klefr_afe *afe,
                   const char *eeprom_path, char *err, int errlen)
{
    klefr_world_init(&s->alone.world);
    int rc = init_meter(s, &s->alone.world, model, serial, afe, eeprom_path, NULL, err, errlen);
    klefr_sim_set_scope(s, s->alone.scope_v, s->alone.scope_i);
    return rc;
}

int klefr_sim_init_in(klefr_sim *s, klefr_world *w, klefr_model model, uint32_t serial,
                      klefr_afe *afe, const char *eeprom_path, const uint8_t *factory, char *err,
                      int errlen)
{
    return init_meter(s, w, model, serial, afe, eeprom_path, factory, err, errlen);
}

static bool alone(const klefr_sim *s)
{
    return s->world == &s->alone.world;
}

void klefr_sim_unboot(klefr_sim *s)
{
    for (uint32_t p = 0; p < KLEFR_NVM_SIZE / NVM_PAGE; p++)
        if (s->nvm_written >> p & 1u)
            memset(s->eeprom.mem + p * NVM_PAGE, 0xFF, NVM_PAGE);
    s->nvm_written = 0;
}

void klefr_sim_close(klefr_sim *s)
{
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        if (s->line_shared[k])
            klefr_line_detach(s->uart_ep[k]);
        else
            klefr_line_free(s->line[k]);
        s->line[k] = NULL;
        s->uart_ep[k] = NULL;
        s->line_shared[k] = false;
    }
    if (alone(s))
        klefr_world_free(&s->alone.world); /* prints the trace lines still held */
}

struct klefr_sim_copy {
    klefr_sim sim;
    klefr_sim_event *ev; /* the queue, wherever it lived */
    size_t nev;
};

klefr_sim_copy *klefr_sim_copy_save(const klefr_sim *s)
{
    if (!alone(s))
        return NULL;
    klefr_sim_copy *c = malloc(sizeof *c);
    const klefr_world *w = &s->alone.world;
    klefr_sim_event *ev = malloc((w->nev ? w->nev : 1) * sizeof *ev);
    if (!c || !ev) {
        free(c);
        free(ev);
        return NULL;
    }
    memcpy(&c->sim, s, sizeof c->sim);
    memcpy(ev, w->ev, w->nev * sizeof *ev);
    c->ev = ev;
    c->nev = w->nev;
    return c;
}

void klefr_sim_copy_restore(klefr_sim *s, const klefr_sim_copy *c)
{
    klefr_world *w = &s->alone.world;
    klefr_world live = *w; /* what stays: fds, trace lines waiting, the heap arrays */
    bool ev_inline = w->ev == w->ev_inline, fds_inline = w->fds == w->fds_inline;
    memcpy(s, &c->sim, sizeof *s);
    w->fds = fds_inline ? w->fds_inline : live.fds;
    w->nfds = live.nfds;
    w->fds_cap = live.fds_cap;
    w->io = live.io;
    memcpy(w->fds_inline, live.fds_inline, sizeof w->fds_inline);
    w->trace_q = live.trace_q;
    w->trace_n = live.trace_n;
    w->trace_cap = live.trace_cap;
    w->trace_seq = live.trace_seq;
    /* The events: into the inline array, or the heap array there is now. */
    klefr_sim_event *heap = ev_inline ? NULL : live.ev;
    size_t cap = heap ? live.ev_cap : 0;
    if (c->nev <= KLEFR_WORLD_INLINE_EVENTS) {
        free(heap);
        w->ev = w->ev_inline;
        w->ev_cap = KLEFR_WORLD_INLINE_EVENTS;
    } else {
        if (cap < c->nev) {
            klefr_sim_event *n = realloc(heap, c->nev * sizeof *n);
            if (!n) { /* keep what fits: a tour's Back loses events rather than crash */
                free(heap);
                w->ev = w->ev_inline;
                w->ev_cap = KLEFR_WORLD_INLINE_EVENTS;
                w->nev = KLEFR_WORLD_INLINE_EVENTS;
                memcpy(w->ev, c->ev, w->nev * sizeof *w->ev);
                return;
            }
            heap = n;
            cap = c->nev;
        }
        w->ev = heap;
        w->ev_cap = cap;
    }
    memcpy(w->ev, c->ev, c->nev * sizeof *w->ev);
    w->nev = c->nev;
}

void klefr_sim_copy_free(klefr_sim_copy *c)
{
    if (!c)
        return;
    free(c->ev);
    free(c);
}

void klefr_sim_set_scope(klefr_sim *s, int32_t *v, int32_t *i)
{
    s->scope_v = v && i ? v : NULL;
    s->scope_i = v && i ? i : NULL;
    if (s->scope_v) {
        memset(v, 0, KLEFR_SIM_SCOPE_N * sizeof *v);
        memset(i, 0, KLEFR_SIM_SCOPE_N * sizeof *i);
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
        if (s->powered && s->t_us == 0 && s->scope_n == 0) {
            klefr_sim_unboot(s);
            klefr_meter_init(&s->meter, &s->hal, s->model, s->serial, s->t_us);
        }
        break;
    case KLEFR_FAULT_COUNT:
        break;
    }
}

bool klefr_sim_post(klefr_sim *s, const klefr_sim_event *ev)
{
    klefr_sim_event e = *ev;
    e.sim = s;
    return klefr_world_post(s->world, &e);
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

void klefr_sim_deliver(klefr_sim *s, const klefr_sim_event *e)
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

void klefr_sim_run_events(klefr_sim *s, uint64_t t_us)
{
    klefr_world_run_events(s->world, t_us);
}

int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg)
{
    return klefr_world_add_fd(s->world, fd, ready, arg);
}

void klefr_sim_remove_fd(klefr_sim *s, int fd)
{
    klefr_world_remove_fd(s->world, fd);
}

bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us)
{
    return klefr_world_run_until(s->world, t_end_us);
}

/* m samples into the scope ring at index at (no wrap). */
static inline void scope_put(klefr_sim *s, size_t at, const int32_t *v, const int32_t *i, size_t m)
{
    if (s->powered) {
        memcpy(s->scope_v + at, v, m * sizeof *v);
        memcpy(s->scope_i + at, i, m * sizeof *i);
    } else {
        memset(s->scope_v + at, 0, m * sizeof *v);
        memset(s->scope_i + at, 0, m * sizeof *i);
    }
}

klefr_sim_slice_result klefr_sim_slice(klefr_sim *s, uint64_t t0_us)
{
    int32_t vb[KLEFR_SIM_SLICE_SAMPLES], ib[KLEFR_SIM_SLICE_SAMPLES];
    const int32_t *v = vb, *i = ib;
    s->t_us = t0_us;
    size_t n = 0;
    if (s->afe) { /* the source's own buffers when it can, else a copy */
        if (s->afe->take)
            n = s->afe->take(s->afe, &v, &i, KLEFR_SIM_SLICE_SAMPLES);
        if (!n) {
            v = vb, i = ib;
            n = s->afe->fill(s->afe, vb, ib, KLEFR_SIM_SLICE_SAMPLES);
        }
    }
    if (s->afe && n == 0)
        return KLEFR_SLICE_NOTHING;
    /* scope tap for the panel: a cut supply reads nothing */
    size_t at0 = s->scope_n % KLEFR_SIM_SCOPE_N;
    if (s->scope_v && n == KLEFR_SIM_SLICE_SAMPLES && at0 + n <= KLEFR_SIM_SCOPE_N)
        scope_put(s, at0, v, i, KLEFR_SIM_SLICE_SAMPLES); /* a constant size: vector moves */
    else if (s->scope_v)
        for (size_t k = 0; k < n;) { /* by runs up to the ring's end */
            size_t at = (s->scope_n + k) % KLEFR_SIM_SCOPE_N, m = KLEFR_SIM_SCOPE_N - at;
            m = n - k < m ? n - k : m;
            scope_put(s, at, v + k, i + k, m);
            k += m;
        }
    s->scope_n += n;
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
    return n < KLEFR_SIM_SLICE_SAMPLES && s->afe ? KLEFR_SLICE_ENDED : KLEFR_SLICE_RAN;
}
