/* The meter side of the protocol slaves: their views' callbacks on klefr_meter.
 * The engines (modbus_rtu.c, ...) never see the meter; they get these
 * functions and the meter as an opaque arg. */
#include "proto/slave_views.h"

#include "klefr/meter.h"
#include "proto/iec62056_map.h"
#include "proto/mbus_data.h"
#include "proto/modbus_map.h"

static void meter_trace(void *arg, const char *line)
{
    klefr_meter_trace(arg, line);
}

/* Asked at each frame: the HAL's hook may come or go after init. */
static bool meter_tracing(void *arg)
{
    const klefr_meter *m = arg;
    return m->hal->trace != NULL;
}

/* The bus port (terminals 10/11) is Modbus on the 6924, M-bus on the 6923:
 * 8 data bits, 1 stop bit at the saved baud. */
static klefr_uart_cfg bus_cfg(const klefr_meter *m, klefr_parity parity)
{
    return (klefr_uart_cfg){.baud = m->settings.baud ? m->settings.baud : 9600,
                            .data_bits = 8,
                            .parity = parity,
                            .stop_bits = 1};
}

static void bus_write(void *arg, const uint8_t *d, size_t n, uint64_t t_us)
{
    const klefr_meter *m = arg;
    m->hal->uart_write(m->hal->arg, KLEFR_PORT_BUS, d, n, t_us);
}

static void bus_config(void *arg, const klefr_uart_cfg *cfg, uint64_t t_us)
{
    const klefr_meter *m = arg;
    m->hal->uart_config(m->hal->arg, KLEFR_PORT_BUS, cfg, t_us);
}

/* ---- Modbus RTU (6924, bus port) ---- */

static uint8_t mb_address(void *arg)
{
    const klefr_meter *m = arg;
    return m->settings.modbus_id;
}

static klefr_uart_cfg mb_uart_cfg(void *arg)
{
    const klefr_meter *m = arg;
    return bus_cfg(m, m->settings.parity);
}

static uint8_t mb_read(void *arg, uint16_t addr, uint16_t n, uint16_t *out)
{
    return klefr_mbmap_read_regs(arg, addr, n, out);
}

static uint8_t mb_write1(void *arg, uint16_t addr, uint16_t value, uint64_t t_us)
{
    return klefr_mbmap_write_regs(arg, 6, addr, 1, &value, t_us);
}

static uint8_t mb_write(void *arg, uint16_t addr, uint16_t n, const uint16_t *regs, uint64_t t_us)
{
    return klefr_mbmap_write_regs(arg, 0x10, addr, n, regs, t_us);
}

static void mb_frame_for_me(void *arg, uint64_t end_us)
{
    klefr_meter *m = arg;
    m->comm_until_us = end_us + KLEFR_MBRTU_ICON_US;
}

static const char *mb_reg_name(void *arg, uint16_t addr)
{
    (void)arg;
    return klefr_mbmap_name(addr);
}

static void mb_describe(void *arg, klefr_tbuf *b, uint16_t start, uint16_t qty, const uint8_t *data)
{
    (void)arg;
    klefr_mbmap_describe(b, start, qty, data);
}

klefr_mbrtu_view klefr_meter_modbus_view(klefr_meter *m)
{
    /* Hooks the HAL lacks stay NULL, so the engine skips them. */
    return (klefr_mbrtu_view){
        .arg = m,
        .address = mb_address,
        .uart_cfg = mb_uart_cfg,
        .read_regs = mb_read,
        .write_reg = mb_write1,
        .write_regs = mb_write,
        .uart_write = m->hal->uart_write ? bus_write : NULL,
        .uart_config = m->hal->uart_config ? bus_config : NULL,
        .frame_for_me = mb_frame_for_me,
        .trace = {meter_trace, m, meter_tracing},
        .reg_name = mb_reg_name,
        .describe = mb_describe,
    };
}

/* ---- M-bus (6923, bus port) ---- */

static uint8_t mbus_primary(void *arg)
{
    const klefr_meter *m = arg;
    return m->settings.mbus_id;
}

static uint32_t mbus_secondary(void *arg)
{
    const klefr_meter *m = arg;
    return m->settings.mbus_secondary;
}

static klefr_uart_cfg mbus_uart_cfg(void *arg)
{
    return bus_cfg(arg, KLEFR_PARITY_EVEN); /* manual 7.14: always even */
}

static size_t mbus_user_data(void *arg, uint8_t access, uint8_t *out)
{
    return klefr_mbus_user_data(arg, access, out);
}

static bool mbus_write(void *arg, const uint8_t *d, size_t n, uint64_t t_us)
{
    return klefr_mbus_write(arg, d, n, t_us);
}

static void mbus_set_baud(void *arg, uint32_t baud, uint64_t t_us)
{
    klefr_meter *m = arg;
    if (baud != m->settings.baud) { /* the same baud again saves nothing */
        m->settings.baud = baud;
        klefr_meter_settings_changed(m, t_us);
    }
}

static void mbus_frame_for_me(void *arg, uint64_t end_us)
{
    klefr_meter *m = arg;
    m->comm_until_us = end_us + KLEFR_MBUS_ICON_US;
}

static const char *mbus_record_name(void *arg, const uint8_t *d, size_t n)
{
    (void)arg;
    return klefr_mbus_record_name(d, n);
}

static void mbus_describe(void *arg, klefr_tbuf *b, const uint8_t *ud, size_t n)
{
    (void)arg;
    klefr_mbus_describe(b, ud, n);
}

klefr_mbus_view klefr_meter_mbus_view(klefr_meter *m)
{
    /* A single-telegram meter has nothing to reset at CI 50: app_reset NULL. */
    return (klefr_mbus_view){
        .arg = m,
        .primary = mbus_primary,
        .secondary = mbus_secondary,
        .uart_cfg = mbus_uart_cfg,
        .user_data = mbus_user_data,
        .write = mbus_write,
        .set_baud = mbus_set_baud,
        .app_reset = NULL,
        .uart_write = m->hal->uart_write ? bus_write : NULL,
        .uart_config = m->hal->uart_config ? bus_config : NULL,
        .frame_for_me = mbus_frame_for_me,
        .trace = {meter_trace, m, meter_tracing},
        .record_name = mbus_record_name,
        .describe = mbus_describe,
    };
}

/* ---- IEC 62056-21 (every model, optical port) ---- */

static void iec_address(void *arg, char out[9])
{
    klefr_iec_serial_text(arg, out);
}

static uint32_t iec_password(void *arg)
{
    const klefr_meter *m = arg;
    return m->settings.password;
}

static bool iec_readout(void *arg, size_t *pos, const char **code, char *value)
{
    return klefr_iec_readout_line(arg, pos, code, value);
}

static bool iec_read(void *arg, const char *addr, size_t alen, bool logged_in, char *value)
{
    return klefr_iec_read(arg, addr, alen, logged_in, value);
}

static bool iec_write(void *arg, const char *addr, size_t alen, const char *value, uint64_t t_us,
                      const char **name)
{
    return klefr_iec_write(arg, addr, alen, value, t_us, name);
}

static void ir_write(void *arg, const uint8_t *d, size_t n, uint64_t t_us)
{
    const klefr_meter *m = arg;
    m->hal->uart_write(m->hal->arg, KLEFR_PORT_IR, d, n, t_us);
}

static void ir_config(void *arg, const klefr_uart_cfg *cfg, uint64_t t_us)
{
    const klefr_meter *m = arg;
    m->hal->uart_config(m->hal->arg, KLEFR_PORT_IR, cfg, t_us);
}

static void iec_frame_for_me(void *arg, uint64_t end_us)
{
    klefr_meter *m = arg;
    m->comm_until_us = end_us + KLEFR_IEC_ICON_US;
}

klefr_iec_view klefr_meter_iec_view(klefr_meter *m)
{
    static const char *const idents[] = {"KLEFR6921", "KLEFR6922", "KLEFR6923", "KLEFR6924"};
    unsigned k = (unsigned)m->model - KLEFR_MODEL_6921;
    return (klefr_iec_view){
        .arg = m,
        .ident = idents[k < 4 ? k : 0],
        .address = iec_address,
        .password = iec_password,
        .readout = iec_readout,
        .read = iec_read,
        .write = iec_write,
        .uart_write = m->hal->uart_write ? ir_write : NULL,
        .uart_config = m->hal->uart_config ? ir_config : NULL,
        .frame_for_me = iec_frame_for_me,
        .trace = {meter_trace, m, meter_tracing},
    };
}
