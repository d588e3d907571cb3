#include "sim.h"

#include <string.h>

static void hal_uart_config(void *arg, klefr_port port, const klefr_uart_cfg *cfg)
{
    klefr_sim *s = arg;
    s->uart_cfg[port] = *cfg;
}

static void hal_uart_write(void *arg, klefr_port port, const uint8_t *data, size_t len, uint64_t t_us)
{
    klefr_sim *s = arg;
    if (s->uart_tx)
        s->uart_tx(s->uart_tx_arg, port, data, len, t_us);
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

static void hal_trace(void *arg, const char *line)
{
    klefr_sim *s = arg;
    if (s->trace)
        s->trace(s->trace_arg, line);
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

void klefr_sim_power(klefr_sim *s, bool on)
{
    if (on == s->powered)
        return;
    s->powered = on;
    if (on)
        klefr_meter_init(&s->meter, &s->hal, s->model, s->serial, s->t_us);
    else
        klefr_meter_power_fail(&s->meter, s->t_us);
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

static void ev_deliver(klefr_sim *s, const klefr_sim_event *e)
{
    switch (e->kind) {
    case KLEFR_EV_UART_RX:
        if (s->powered)
            klefr_meter_uart_rx(&s->meter, (klefr_port)e->port, e->byte, e->flags, e->t_us);
        break;
    case KLEFR_EV_BUTTONS:
        if (s->powered)
            klefr_meter_buttons(&s->meter, e->byte, e->t_us);
        break;
    case KLEFR_EV_TARIFF_INPUT:
        if (s->powered)
            klefr_meter_tariff_input(&s->meter, e->byte != 0, e->t_us);
        break;
    case KLEFR_EV_POWER:
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
        ev_deliver(s, &e);
    }
}

int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg)
{
    if (s->nfds == KLEFR_SIM_MAX_FDS)
        return -1;
    s->fds[s->nfds++] = (klefr_sim_fd){fd, ready, arg};
    return 0;
}

bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us)
{
    int32_t v[KLEFR_SIM_SLICE_SAMPLES], i[KLEFR_SIM_SLICE_SAMPLES];
    while (s->t_us + KLEFR_SIM_SLICE_US <= t_end_us) {
        ev_run_due(s, s->t_us);
        size_t n = s->afe ? s->afe->fill(s->afe, v, i, KLEFR_SIM_SLICE_SAMPLES) : 0;
        if (s->afe && n == 0)
            return false;
        for (size_t k = 0; k < n; k++, s->scope_n++) { /* scope tap for the panel */
            s->scope_v[s->scope_n % KLEFR_SIM_SCOPE_N] = v[k];
            s->scope_i[s->scope_n % KLEFR_SIM_SCOPE_N] = i[k];
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
        if (n < KLEFR_SIM_SLICE_SAMPLES && s->afe)
            return false;
    }
    ev_run_due(s, s->t_us);
    return true;
}
