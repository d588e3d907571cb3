/* The meter: boot, dispatch of inputs to the modules, power fail. */
#include "klefr/meter.h"

#include <string.h>

#include "proto/slave_views.h"

bool klefr_model_valid(int model)
{
    return model >= KLEFR_MODEL_6921 && model <= KLEFR_MODEL_6924;
}

bool klefr_model_has_modbus(klefr_model model) { return model == KLEFR_MODEL_6924; }
bool klefr_model_has_mbus(klefr_model model) { return model == KLEFR_MODEL_6923; }
bool klefr_model_has_tariff_input(klefr_model model) { return model == KLEFR_MODEL_6922; }
bool klefr_model_has_tariffs(klefr_model model) { return model != KLEFR_MODEL_6921; }

bool klefr_u32_in(uint32_t v, const uint32_t *list, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (list[k] == v)
            return true;
    return false;
}

void klefr_meter_trace(const klefr_meter *m, const char *line)
{
    if (m->hal->trace)
        m->hal->trace(m->hal->arg, line);
}

void klefr_meter_init(klefr_meter *m, const klefr_hal *hal, klefr_model model, uint32_t serial,
                      uint64_t t_us)
{
    memset(m, 0, sizeof *m);
    m->hal = hal;
    m->model = model;
    m->serial = serial;
    m->powered = true;

    /* Both copies corrupt (Err 01): nothing is written until a real save,
     * and no power-down is guessed. */
    if (klefr_store_load(m, t_us) < 0)
        m->error = KLEFR_ERR_EEPROM;
    else
        klefr_store_power_up(m, t_us);
    if (hal->program_crc && hal->program_crc(hal->arg) != KLEFR_PROGRAM_CRC_EXPECTED)
        m->error = KLEFR_ERR_PROGRAM;
    m->tariff = m->settings.tariff;

    klefr_metering_init(m, t_us);
    if (klefr_model_has_modbus(model)) {
        klefr_mbrtu_view mb = klefr_meter_modbus_view(m);
        klefr_mbrtu_init(&m->modbus, &mb, t_us);
    }
    klefr_iec_view iec = klefr_meter_iec_view(m);
    klefr_iec_init(&m->iec, &iec, t_us);
    if (klefr_model_has_mbus(model)) {
        klefr_mbus_view mb = klefr_meter_mbus_view(m);
        klefr_mbus_init(&m->mbus, &mb, t_us);
    }
    klefr_ui_init(m, t_us);
}

void klefr_meter_adc(klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us)
{
    if (!m->powered)
        return;
    klefr_metering_adc(m, v, i, n, t_us);
}

void klefr_meter_tick(klefr_meter *m, uint64_t t_us)
{
    if (!m->powered)
        return;
    if (klefr_model_has_modbus(m->model))
        klefr_mbrtu_tick(&m->modbus, t_us);
    klefr_iec_tick(&m->iec, t_us);
    if (klefr_model_has_mbus(m->model))
        klefr_mbus_tick(&m->mbus, t_us);
    klefr_ui_tick(m, t_us);
    klefr_store_tick(m, t_us);
}

void klefr_meter_uart_rx(klefr_meter *m, klefr_port port, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    if (!m->powered)
        return;
    if (port == KLEFR_PORT_BUS && klefr_model_has_modbus(m->model))
        klefr_mbrtu_rx(&m->modbus, byte, flags, t_us);
    if (port == KLEFR_PORT_IR)
        klefr_iec_rx(&m->iec, byte, flags, t_us);
    if (port == KLEFR_PORT_BUS && klefr_model_has_mbus(m->model))
        klefr_mbus_rx(&m->mbus, byte, flags, t_us);
}

void klefr_meter_buttons(klefr_meter *m, uint8_t held, uint64_t t_us)
{
    if (!m->powered)
        return;
    klefr_ui_buttons(m, held, t_us);
}

void klefr_meter_tariff_input(klefr_meter *m, bool t2, uint64_t t_us)
{
    (void)t_us; /* the tariff applies from the block in progress (docs/metering.md) */
    if (!m->powered || !klefr_model_has_tariff_input(m->model))
        return;
    /* The input level selects the tariff whenever it changes; a command may
     * override it until the next change (docs/architecture.md). */
    if (t2 != m->tariff_input)
        m->tariff = t2 ? 2 : 1;
    m->tariff_input = t2;
}

/* A single-tariff meter refuses T2: its energy would go to registers it never
 * shows. */
bool klefr_meter_set_tariff(klefr_meter *m, uint8_t tariff, bool save, uint64_t t_us)
{
    if (tariff != 1 && (tariff != 2 || !klefr_model_has_tariffs(m->model)))
        return false;
    m->tariff = tariff;
    if (save && m->settings.tariff != tariff) {
        m->settings.tariff = tariff;
        klefr_meter_settings_changed(m, t_us);
    }
    return true;
}

void klefr_meter_settings_changed(klefr_meter *m, uint64_t t_us)
{
    /* Whoever changed them (menu, IR, the bus itself), the bus UART follows
     * the settings once no reply is on the line. */
    klefr_mbrtu_settings_changed(&m->modbus);
    klefr_mbus_settings_changed(&m->mbus);
    /* Stored at once; with the supply up a failed write is a failing EEPROM,
     * as at the periodic save (manual 8.1: Err 01). */
    if (klefr_store_save(m, t_us) != 0 && m->error == KLEFR_ERR_NONE)
        m->error = KLEFR_ERR_EEPROM;
}

void klefr_meter_power_fail(klefr_meter *m, uint64_t t_us)
{
    if (!m->powered)
        return;
    /* What was measured since the last block end goes in before the save. */
    klefr_metering_flush(m, t_us);
    m->regs.power_downs++;
    klefr_store_save_power_fail(m, t_us);
    m->powered = false;
}
