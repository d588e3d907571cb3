/* The 6924 Modbus register map (manual A3.2), as implemented. Choices where
 * the manual is silent are in docs/protocols/modbus.md. Rows are sorted by
 * address: a new register is one row. */
#include "proto/modbus_map.h"

#include <math.h>
#include <string.h>

#include "klefr/meter.h"
#include "metering/metering.h"
#include "proto/modbus_rtu.h"

uint32_t klefr_mb_float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

float klefr_mb_bits_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t fb(double v)
{
    return klefr_mb_float_bits((float)v);
}
static double kwh(uint64_t uwh)
{
    return (double)uwh / 1e9;
}

/* 0..9999 as four BCD nibbles (the manual's "HEX" type). */
static uint16_t to_bcd(unsigned v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static bool from_bcd(uint16_t h, unsigned *v)
{
    unsigned r = 0;
    for (int s = 12; s >= 0; s -= 4) {
        unsigned d = (h >> s) & 0xFu;
        if (d > 9)
            return false;
        r = r * 10 + d;
    }
    *v = r;
    return true;
}

/* ---- identity and settings (0x4000) ---- */
static uint32_t g_serial(const klefr_meter *m)
{
    return m->serial;
}
/* Meter code: the model number in BCD (0x6924). */
static uint32_t g_meter_code(const klefr_meter *m)
{
    return to_bcd((unsigned)m->model % 10000u);
}
static uint32_t g_id(const klefr_meter *m)
{
    return m->settings.modbus_id;
}
static uint32_t g_baud(const klefr_meter *m)
{
    return m->settings.baud;
}
static uint32_t g_proto(const klefr_meter *m)
{
    (void)m;
    return fb(KLEFR_PROTO_VERSION);
}
static uint32_t g_sw(const klefr_meter *m)
{
    (void)m;
    return fb(KLEFR_SW_VERSION);
}
static uint32_t g_hw(const klefr_meter *m)
{
    (void)m;
    return fb(KLEFR_HW_VERSION);
}
/* Meter amps: the maximum current of the 5(100) A meter. */
static uint32_t g_amps(const klefr_meter *m)
{
    (void)m;
    return (uint32_t)KLEFR_IMAX_A;
}
static uint32_t g_s0(const klefr_meter *m)
{
    return fb(m->settings.s0_rate_centi / 100.0);
}
static uint32_t g_calc(const klefr_meter *m)
{
    return m->settings.calc_code;
}
static uint32_t g_lcd(const klefr_meter *m)
{
    return to_bcd(m->settings.lcd_cycle_s);
}
static uint32_t g_parity(const klefr_meter *m)
{
    switch (m->settings.parity) {
    case KLEFR_PARITY_NONE:
        return 2;
    case KLEFR_PARITY_ODD:
        return 3;
    default:
        return 1;
    }
}
/* 'F' forward, 'R' reverse, as the character code. */
static uint32_t g_dir(const klefr_meter *m)
{
    return m->meas.reverse ? 'R' : 'F';
}
static uint32_t g_error(const klefr_meter *m)
{
    return m->error;
}
static uint32_t g_pdc(const klefr_meter *m)
{
    return m->regs.power_downs > 32767u ? 32767u : m->regs.power_downs;
}
static uint32_t g_quad(const klefr_meter *m)
{
    return m->meas.valid ? m->meas.quadrant : 1u;
}
static uint32_t g_checksum(const klefr_meter *m)
{
    return m->hal->program_crc ? m->hal->program_crc(m->hal->arg) : KLEFR_PROGRAM_CRC_EXPECTED;
}

static uint8_t s_id(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    if (r[0] < 1 || r[0] > 247)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.modbus_id = (uint8_t)r[0];
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

/* 300 and 600 are three-phase only (write table); 2400 is in manual 5.5. */
static uint8_t s_baud(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    if (r[0] != 1200 && r[0] != 2400 && r[0] != 4800 && r[0] != 9600)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.baud = r[0];
    klefr_meter_settings_changed(m, t); /* the UART follows after the reply */
    return KLEFR_MBEX_NONE;
}

static uint8_t s_s0(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    float f = klefr_mb_bits_float((uint32_t)r[0] << 16 | r[1]);
    if (!(f > 0.0f && f <= 10000.0f))
        return KLEFR_MBEX_ILLEGAL_VALUE;
    uint32_t centi = (uint32_t)lround((double)f * 100.0);
    if (!klefr_s0_rate_valid(centi))
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.s0_rate_centi = centi;
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

static uint8_t s_calc(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    if (!klefr_calc_code_valid(r[0]))
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.calc_code = (uint8_t)r[0];
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

static uint8_t s_lcd(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    unsigned s;
    if (!from_bcd(r[0], &s) || s < 1 || s > 30)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.lcd_cycle_s = (uint8_t)s;
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

static uint8_t s_parity(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    static const klefr_parity codes[4] = {KLEFR_PARITY_NONE, KLEFR_PARITY_EVEN, KLEFR_PARITY_NONE,
                                          KLEFR_PARITY_ODD};
    if (r[0] < 1 || r[0] > 3)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->settings.parity = codes[r[0]];
    klefr_meter_settings_changed(m, t); /* the UART follows after the reply */
    return KLEFR_MBEX_NONE;
}

static uint8_t s_pdc(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    if (r[0] != 0)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    m->regs.power_downs = 0;
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

/* ---- instantaneous values (0x5000) ---- */
static uint32_t g_v(const klefr_meter *m)
{
    return fb(m->meas.v_rms);
}
static uint32_t g_f(const klefr_meter *m)
{
    return fb(m->meas.freq_hz);
}
static uint32_t g_i(const klefr_meter *m)
{
    return fb(m->meas.i_rms);
}
static uint32_t g_p(const klefr_meter *m)
{
    return fb(m->meas.p_w / 1000.0);
}
static uint32_t g_q(const klefr_meter *m)
{
    return fb(m->meas.q_var / 1000.0);
}
static uint32_t g_s(const klefr_meter *m)
{
    return fb(m->meas.s_va / 1000.0);
}
static uint32_t g_pf(const klefr_meter *m)
{
    return fb(m->meas.pf);
}

/* ---- energies (0x6000) ---- */
static uint32_t tot_act(const klefr_meter *m, int t)
{
    return fb((double)klefr_total_active_uwh(m, t) / 1e9);
}
static uint32_t g_tot(const klefr_meter *m)
{
    return tot_act(m, -1);
}
static uint32_t g_tot1(const klefr_meter *m)
{
    return tot_act(m, KLEFR_T1);
}
static uint32_t g_tot2(const klefr_meter *m)
{
    return tot_act(m, KLEFR_T2);
}
static uint32_t g_fwd(const klefr_meter *m)
{
    return fb(kwh(klefr_act_fwd_uwh(&m->regs, -1)));
}
static uint32_t g_fwd1(const klefr_meter *m)
{
    return fb(kwh(klefr_act_fwd_uwh(&m->regs, KLEFR_T1)));
}
static uint32_t g_fwd2(const klefr_meter *m)
{
    return fb(kwh(klefr_act_fwd_uwh(&m->regs, KLEFR_T2)));
}
static uint32_t g_rev(const klefr_meter *m)
{
    return fb(kwh(klefr_act_rev_uwh(&m->regs, -1)));
}
static uint32_t g_rev1(const klefr_meter *m)
{
    return fb(kwh(klefr_act_rev_uwh(&m->regs, KLEFR_T1)));
}
static uint32_t g_rev2(const klefr_meter *m)
{
    return fb(kwh(klefr_act_rev_uwh(&m->regs, KLEFR_T2)));
}
static uint32_t g_rt(const klefr_meter *m)
{
    return fb(kwh(klefr_total_react_uvarh(&m->regs, -1)));
}
static uint32_t g_rt1(const klefr_meter *m)
{
    return fb(kwh(klefr_total_react_uvarh(&m->regs, KLEFR_T1)));
}
static uint32_t g_rt2(const klefr_meter *m)
{
    return fb(kwh(klefr_total_react_uvarh(&m->regs, KLEFR_T2)));
}
static uint32_t g_rf(const klefr_meter *m)
{
    return fb(kwh(klefr_react_fwd_uvarh(&m->regs, -1)));
}
static uint32_t g_rf1(const klefr_meter *m)
{
    return fb(kwh(klefr_react_fwd_uvarh(&m->regs, KLEFR_T1)));
}
static uint32_t g_rf2(const klefr_meter *m)
{
    return fb(kwh(klefr_react_fwd_uvarh(&m->regs, KLEFR_T2)));
}
static uint32_t g_rr(const klefr_meter *m)
{
    return fb(kwh(klefr_react_rev_uvarh(&m->regs, -1)));
}
static uint32_t g_rr1(const klefr_meter *m)
{
    return fb(kwh(klefr_react_rev_uvarh(&m->regs, KLEFR_T1)));
}
static uint32_t g_rr2(const klefr_meter *m)
{
    return fb(kwh(klefr_react_rev_uvarh(&m->regs, KLEFR_T2)));
}
static uint32_t g_tariff(const klefr_meter *m)
{
    return m->tariff;
}
static uint32_t g_day(const klefr_meter *m)
{
    return fb(kwh(m->regs.day_fwd_uwh));
}

/* 01/02 saved, 11/12 (0x000B/0x000C) not saved. The manual prints the codes
 * like hex bytes, so 0x0011/0x0012 are accepted as "not saved" too. */
static uint8_t s_tariff(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    bool save = r[0] == 1 || r[0] == 2;
    uint8_t tariff = (uint8_t)(r[0] & 0x0Fu);
    if (r[0] == 0x0B || r[0] == 0x0C)
        tariff = (uint8_t)(r[0] - 0x0A);
    else if (!save && r[0] != 0x11 && r[0] != 0x12)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    return klefr_meter_set_tariff(m, tariff, save, t) ? KLEFR_MBEX_NONE : KLEFR_MBEX_ILLEGAL_VALUE;
}

static uint8_t s_day(klefr_meter *m, const uint16_t *r, uint64_t t)
{
    if (klefr_mb_bits_float((uint32_t)r[0] << 16 | r[1]) != 0.0f)
        return KLEFR_MBEX_ILLEGAL_VALUE;
    klefr_day_counter_reset(m, t);
    klefr_meter_settings_changed(m, t);
    return KLEFR_MBEX_NONE;
}

#define F KLEFR_MBT_FLOAT
#define S KLEFR_MBT_SIGNED
#define H KLEFR_MBT_HEX
#define A KLEFR_MBT_ASCII
/* addr, len, type, 3-phase only, getter, setter, write fc, name */
#define RO(a, l, t, g, n)                                                                          \
    {                                                                                              \
        a, l, t, false, g, NULL, 0, n                                                              \
    }
#define RW(a, l, t, g, s, fc, n)                                                                   \
    {                                                                                              \
        a, l, t, false, g, s, fc, n                                                                \
    }
#define P3(a, l, t, n)                                                                             \
    {                                                                                              \
        a, l, t, true, NULL, NULL, 0, n                                                            \
    }
#define E(a, g, n) RO(a, 2, F, g, n)

const klefr_mbreg klefr_mbmap[] = {
    RO(0x4000, 2, H, g_serial, "serial"),
    RO(0x4002, 1, H, g_meter_code, "meter_code"),
    RW(0x4003, 1, S, g_id, s_id, 6, "modbus_id"),
    RW(0x4004, 1, S, g_baud, s_baud, 6, "baud"),
    RO(0x4005, 2, F, g_proto, "protocol_version"),
    RO(0x4007, 2, F, g_sw, "software_version"),
    RO(0x4009, 2, F, g_hw, "hardware_version"),
    RO(0x400B, 1, S, g_amps, "meter_amps"),
    P3(0x400C, 1, H, "ct_ratio"),
    RW(0x400D, 2, F, g_s0, s_s0, 16, "s0_rate"),
    RW(0x400F, 1, S, g_calc, s_calc, 6, "calc_code"),
    RW(0x4010, 1, H, g_lcd, s_lcd, 6, "lcd_cycle_s"),
    RW(0x4011, 1, S, g_parity, s_parity, 6, "parity"),
    RO(0x4012, 1, A, g_dir, "current_direction"),
    P3(0x4013, 1, A, "l2_direction"),
    P3(0x4014, 1, A, "l3_direction"),
    RO(0x4015, 1, S, g_error, "error_code"),
    RW(0x4016, 1, S, g_pdc, s_pdc, 6, "power_downs"),
    RO(0x4017, 1, S, g_quad, "quadrant"),
    P3(0x4018, 1, S, "l1_quadrant"),
    P3(0x4019, 1, S, "l2_quadrant"),
    P3(0x401A, 1, S, "l3_quadrant"),
    RO(0x401B, 2, H, g_checksum, "checksum"),
    P3(0x401D, 2, H, "active_status"),
    P3(0x401F, 1, S, "ct_mode"),

    E(0x5000, g_v, "voltage"),
    E(0x5002, g_v, "l1_voltage"),
    P3(0x5004, 2, F, "l2_voltage"),
    P3(0x5006, 2, F, "l3_voltage"),
    E(0x5008, g_f, "frequency"),
    E(0x500A, g_i, "current"),
    E(0x500C, g_i, "l1_current"),
    P3(0x500E, 2, F, "l2_current"),
    P3(0x5010, 2, F, "l3_current"),
    E(0x5012, g_p, "active_power_kw"),
    P3(0x5014, 2, F, "l1_active_power"),
    P3(0x5016, 2, F, "l2_active_power"),
    P3(0x5018, 2, F, "l3_active_power"),
    E(0x501A, g_q, "reactive_power_kvar"),
    P3(0x501C, 2, F, "l1_reactive_power"),
    P3(0x501E, 2, F, "l2_reactive_power"),
    P3(0x5020, 2, F, "l3_reactive_power"),
    E(0x5022, g_s, "apparent_power_kva"),
    P3(0x5024, 2, F, "l1_apparent_power"),
    P3(0x5026, 2, F, "l2_apparent_power"),
    P3(0x5028, 2, F, "l3_apparent_power"),
    E(0x502A, g_pf, "power_factor"),
    P3(0x502C, 2, F, "l1_power_factor"),
    P3(0x502E, 2, F, "l2_power_factor"),
    P3(0x5030, 2, F, "l3_power_factor"),

    E(0x6000, g_tot, "total_kwh"),
    E(0x6002, g_tot1, "t1_total_kwh"),
    E(0x6004, g_tot2, "t2_total_kwh"),
    P3(0x6006, 2, F, "l1_total_kwh"),
    P3(0x6008, 2, F, "l2_total_kwh"),
    P3(0x600A, 2, F, "l3_total_kwh"),
    E(0x600C, g_fwd, "fwd_kwh"),
    E(0x600E, g_fwd1, "t1_fwd_kwh"),
    E(0x6010, g_fwd2, "t2_fwd_kwh"),
    P3(0x6012, 2, F, "l1_fwd_kwh"),
    P3(0x6014, 2, F, "l2_fwd_kwh"),
    P3(0x6016, 2, F, "l3_fwd_kwh"),
    E(0x6018, g_rev, "rev_kwh"),
    E(0x601A, g_rev1, "t1_rev_kwh"),
    E(0x601C, g_rev2, "t2_rev_kwh"),
    P3(0x601E, 2, F, "l1_rev_kwh"),
    P3(0x6020, 2, F, "l2_rev_kwh"),
    P3(0x6022, 2, F, "l3_rev_kwh"),
    E(0x6024, g_rt, "total_kvarh"),
    E(0x6026, g_rt1, "t1_total_kvarh"),
    E(0x6028, g_rt2, "t2_total_kvarh"),
    P3(0x602A, 2, F, "l1_total_kvarh"),
    P3(0x602C, 2, F, "l2_total_kvarh"),
    P3(0x602E, 2, F, "l3_total_kvarh"),
    E(0x6030, g_rf, "fwd_kvarh"),
    E(0x6032, g_rf1, "t1_fwd_kvarh"),
    E(0x6034, g_rf2, "t2_fwd_kvarh"),
    P3(0x6036, 2, F, "l1_fwd_kvarh"),
    P3(0x6038, 2, F, "l2_fwd_kvarh"),
    P3(0x603A, 2, F, "l3_fwd_kvarh"),
    E(0x603C, g_rr, "rev_kvarh"),
    E(0x603E, g_rr1, "t1_rev_kvarh"),
    E(0x6040, g_rr2, "t2_rev_kvarh"),
    P3(0x6042, 2, F, "l1_rev_kvarh"),
    P3(0x6044, 2, F, "l2_rev_kvarh"),
    P3(0x6046, 2, F, "l3_rev_kvarh"),
    RW(0x6048, 1, S, g_tariff, s_tariff, 6, "tariff"),
    RW(0x6049, 2, F, g_day, s_day, 16, "day_kwh"),
};

const size_t klefr_mbmap_len = sizeof klefr_mbmap / sizeof klefr_mbmap[0];

const klefr_mbreg *klefr_mbmap_find(uint16_t addr)
{
    size_t lo = 0, hi = klefr_mbmap_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const klefr_mbreg *r = &klefr_mbmap[mid];
        if (addr < r->addr)
            hi = mid;
        else if (addr >= r->addr + r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

bool klefr_mbmap_read(const klefr_meter *m, uint16_t addr, uint16_t *value)
{
    const klefr_mbreg *r = klefr_mbmap_find(addr);
    if (!r)
        return false;
    uint32_t raw = r->get ? r->get(m) : 0;
    if (r->len == 2)
        *value = addr == r->addr ? (uint16_t)(raw >> 16) : (uint16_t)raw;
    else
        *value = (uint16_t)raw;
    return true;
}

uint8_t klefr_mbmap_read_regs(const klefr_meter *m, uint16_t start, uint16_t qty, uint16_t *out)
{
    /* Row by row (the map is sorted): one getter call per row, its words as
     * klefr_mbmap_read() gives them. */
    const klefr_mbreg *r = NULL, *end = klefr_mbmap + klefr_mbmap_len;
    for (uint32_t k = 0; k < qty;) {
        uint32_t a = start + k;
        r = r && r + 1 < end && r[1].addr == a ? r + 1 : klefr_mbmap_find((uint16_t)a);
        if (!r)
            return KLEFR_MBEX_ILLEGAL_ADDRESS;
        uint32_t raw = r->get ? r->get(m) : 0;
        for (; k < qty && start + k < (uint32_t)r->addr + r->len; k++)
            out[k] = r->len == 2 && start + k == r->addr ? (uint16_t)(raw >> 16) : (uint16_t)raw;
    }
    return KLEFR_MBEX_NONE;
}

uint8_t klefr_mbmap_write_regs(klefr_meter *m, uint8_t fc, uint16_t start, uint16_t qty,
                               const uint16_t *regs, uint64_t t_us)
{
    const klefr_mbreg *r = klefr_mbmap_find(start);
    /* FC 06 only for one-register rows; FC 10 for any writable row, whole. */
    if (!r || !r->set || r->addr != start || r->len != qty || (fc == 6 && r->write_fc != 6))
        return KLEFR_MBEX_ILLEGAL_ADDRESS;
    return r->set(m, regs, t_us);
}

const char *klefr_mbmap_name(uint16_t addr)
{
    const klefr_mbreg *r = klefr_mbmap_find(addr);
    return r ? r->name : NULL;
}

/* A float with 3 decimals (no printf in the firmware). */
static void tf(klefr_tbuf *b, float f)
{
    if (f != f) {
        klefr_tb_str(b, "nan");
        return;
    }
    if (f < 0) {
        klefr_tb_str(b, "-");
        f = -f;
    }
    if (f > 1e15f) {
        klefr_tb_str(b, "inf");
        return;
    }
    uint64_t milli = (uint64_t)((double)f * 1000.0 + 0.5);
    klefr_tb_uint(b, milli / 1000u, 1);
    klefr_tb_str(b, ".");
    klefr_tb_uint(b, milli % 1000u, 3);
}

void klefr_mbmap_describe(klefr_tbuf *b, uint16_t start, uint16_t qty, const uint8_t *data)
{
    for (uint32_t a = start; a < (uint32_t)start + qty;) {
        const klefr_mbreg *r = klefr_mbmap_find((uint16_t)a);
        const uint8_t *d = data + 2 * (a - start);
        if (!r || r->addr != a || a + r->len > (uint32_t)start + qty) {
            a++;
            continue;
        }
        a += r->len;
        if (r->three_phase)
            continue;
        uint32_t raw = r->len == 2 ? (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | d[2] << 8 | d[3]
                                   : (uint32_t)d[0] << 8 | d[1];
        klefr_tb_str(b, " ");
        klefr_tb_str(b, r->name);
        klefr_tb_str(b, "=");
        switch (r->type) {
        case KLEFR_MBT_FLOAT:
            tf(b, klefr_mb_bits_float(raw));
            break;
        case KLEFR_MBT_SIGNED:
            if (raw & 0x8000u) {
                klefr_tb_str(b, "-");
                raw = 0x10000u - raw;
            }
            klefr_tb_uint(b, raw, 1);
            break;
        case KLEFR_MBT_HEX:
            klefr_tb_str(b, "0x");
            klefr_tb_hex(b, raw, r->len * 4);
            break;
        default: {
            char c[4] = {'\'', (char)(raw >= 32 && raw < 127 ? raw : '?'), '\'', 0};
            klefr_tb_str(b, c);
        }
        }
    }
}
