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

bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us)
{
    int32_t v[KLEFR_SIM_SLICE_SAMPLES], i[KLEFR_SIM_SLICE_SAMPLES];
    while (s->t_us + KLEFR_SIM_SLICE_US <= t_end_us) {
        size_t n = s->afe ? s->afe->fill(s->afe, v, i, KLEFR_SIM_SLICE_SAMPLES) : 0;
        if (s->afe && n == 0)
            return false;
        if (s->powered && n)
            klefr_meter_adc(&s->meter, v, i, n, s->t_us);
        s->t_us += KLEFR_SIM_SLICE_US;
        if (s->powered)
            klefr_meter_tick(&s->meter, s->t_us);
        if (n < KLEFR_SIM_SLICE_SAMPLES && s->afe)
            return false;
    }
    return true;
}
