/* The IEC 62056-21 data items: the lines of the data readout (OBIS short
 * form) and the settings the programming mode reads and writes (R1/W1 with
 * the same addresses; manufacturer codes C.90.n). One row per item; value
 * formats and choices: docs/protocols/iec62056-21.md. */
#include "proto/iec62056_map.h"

#include <string.h>

#include "klefr/meter.h"
#include "metering/metering.h"
#include "store/store.h"

/* ---- formatting without printf ---- */

/* v / 10^dec with at least int_digits digits before the point, '-' first. */
static void fixed(char *o, int64_t v, unsigned dec, unsigned int_digits)
{
    uint64_t a = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
    char d[24];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + a % 10u);
        a /= 10u;
    } while (a || n < dec + int_digits);
    if (v < 0)
        *o++ = '-';
    while (n) {
        *o++ = d[--n];
        if (n == dec && dec)
            *o++ = '.';
    }
    *o = 0;
}

static int64_t round_i(double x)
{
    return x >= 0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

static void unit(char *o, const char *u)
{
    o += strlen(o);
    *o++ = '*';
    strcpy(o, u);
}

/* Energy in micro-units as kilo-units with 3 decimals (Wh resolution), at
 * least 6 integer digits; truncated like the LCD: never shows energy that
 * has not been measured. */
static void energy(char *o, int64_t micro, const char *u)
{
    fixed(o, micro / 1000000, 3, 6);
    unit(o, u);
}

void klefr_iec_serial_text(const klefr_meter *m, char out[9])
{
    for (int i = 0; i < 8; i++)
        out[i] = (char)('0' + ((m->serial >> (28 - 4 * i)) & 0xFu) % 10u);
    out[8] = 0;
}

/* ---- parsing ---- */

/* Decimal with at most `dec` decimals, scaled by 10^dec; false if not that. */
static bool parse_fixed(const char *s, unsigned dec, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0, frac = 0;
    bool point = false;
    for (; *s; s++) {
        if (*s == '.' && !point && dec) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 12 || (point && ++frac > dec))
            return false;
        v = v * 10u + (uint64_t)(*s - '0');
    }
    if (!digits)
        return false;
    for (; frac < dec; frac++)
        v *= 10u;
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!parse_fixed(s, 0, max, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

// clang-format off
/* ---- getters ---- */
static void g_serial(const klefr_meter *m, char *o) { klefr_iec_serial_text(m, o); }
static void g_fw(const klefr_meter *m, char *o) { (void)m; fixed(o, round_i(KLEFR_SW_VERSION * 100.0), 2, 1); }
static void g_a_tot(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_fwd_uwh(&m->regs, -1), "kWh"); }
static void g_a_t1(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_fwd_uwh(&m->regs, KLEFR_T1), "kWh"); }
static void g_a_t2(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_fwd_uwh(&m->regs, KLEFR_T2), "kWh"); }
static void g_r_tot(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_rev_uwh(&m->regs, -1), "kWh"); }
static void g_r_t1(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_rev_uwh(&m->regs, KLEFR_T1), "kWh"); }
static void g_r_t2(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_act_rev_uwh(&m->regs, KLEFR_T2), "kWh"); }
static void g_abs(const klefr_meter *m, char *o)
{
    energy(o, (int64_t)(klefr_act_fwd_uwh(&m->regs, -1) + klefr_act_rev_uwh(&m->regs, -1)), "kWh");
}
/* The meter's "Total" per the calculation code (manual 7.11). */
static void g_calc_total(const klefr_meter *m, char *o) { energy(o, klefr_total_active_uwh(m, -1), "kWh"); }
static void g_q_fwd(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_react_fwd_uvarh(&m->regs, -1), "kvarh"); }
static void g_q_rev(const klefr_meter *m, char *o) { energy(o, (int64_t)klefr_react_rev_uvarh(&m->regs, -1), "kvarh"); }
static void g_day(const klefr_meter *m, char *o) { energy(o, (int64_t)m->regs.day_fwd_uwh, "kWh"); }
static void g_v(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.v_rms * 10.0), 1, 1); unit(o, "V"); }
static void g_i(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.i_rms * 100.0), 2, 1); unit(o, "A"); }
static void g_p(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.p_w), 3, 1); unit(o, "kW"); }
static void g_f(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.freq_hz * 100.0), 2, 1); unit(o, "Hz"); }
static void g_pf(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.pf * 1000.0), 3, 1); }
static void g_s(const klefr_meter *m, char *o) { fixed(o, round_i(m->meas.s_va), 3, 1); unit(o, "kVA"); }
static void g_pdc(const klefr_meter *m, char *o) { fixed(o, m->regs.power_downs, 0, 4); }
static void g_err(const klefr_meter *m, char *o) { fixed(o, m->error, 0, 2); }
static void g_calc(const klefr_meter *m, char *o) { fixed(o, m->settings.calc_code, 0, 2); }
static void g_s0(const klefr_meter *m, char *o)
{
    uint32_t c = m->settings.s0_rate_centi;
    fixed(o, c % 100u ? c : c / 100u, c % 100u ? 2 : 0, 1);
}
static void g_lcd(const klefr_meter *m, char *o) { fixed(o, m->settings.lcd_cycle_s, 0, 2); }
static void g_bl(const klefr_meter *m, char *o) { fixed(o, m->settings.backlight, 0, 1); }
static void g_mbid(const klefr_meter *m, char *o) { fixed(o, m->settings.modbus_id, 0, 3); }
static void g_mbusid(const klefr_meter *m, char *o) { fixed(o, m->settings.mbus_id, 0, 3); }
static void g_sec(const klefr_meter *m, char *o)
{
    for (int i = 0; i < 8; i++)
        o[i] = (char)('0' + ((m->settings.mbus_secondary >> (28 - 4 * i)) & 0xFu) % 10u);
    o[8] = 0;
}
static void g_baud(const klefr_meter *m, char *o) { fixed(o, m->settings.baud, 0, 1); }
static void g_parity(const klefr_meter *m, char *o)
{
    o[0] = m->settings.parity == KLEFR_PARITY_NONE ? 'N' : m->settings.parity == KLEFR_PARITY_ODD ? 'O' : 'E';
    o[1] = 0;
}
static void g_tariff(const klefr_meter *m, char *o) { fixed(o, m->tariff, 0, 1); }
static void g_pw(const klefr_meter *m, char *o) { fixed(o, m->settings.password, 0, 4); }
static void g_obis(const klefr_meter *m, char *o) { fixed(o, m->settings.obis, 0, 1); }
// clang-format on

/* ---- setters: validate, store, persist ---- */
static klefr_iec_wres saved(klefr_meter *m, uint64_t t)
{
    klefr_meter_settings_changed(m, t);
    return KLEFR_IEC_W_OK;
}

static klefr_iec_wres s_calc(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 99, &x) || !klefr_calc_code_valid(x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.calc_code = (uint8_t)x;
    return saved(m, t);
}

static klefr_iec_wres s_s0(klefr_meter *m, const char *v, uint64_t t)
{
    uint64_t c;
    if (!parse_fixed(v, 2, 1000000u, &c) || !klefr_s0_rate_valid((uint32_t)c))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.s0_rate_centi = (uint32_t)c;
    return saved(m, t);
}

static klefr_iec_wres s_lcd(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 30, &x) || x < 1)
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.lcd_cycle_s = (uint8_t)x;
    return saved(m, t);
}

static klefr_iec_wres s_bl(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, KLEFR_BL_OFF, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.backlight = (uint8_t)x;
    return saved(m, t);
}

static klefr_iec_wres s_mbid(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 247, &x) || x < 1)
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.modbus_id = (uint8_t)x;
    return saved(m, t);
}

static klefr_iec_wres s_mbusid(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 250, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.mbus_id = (uint8_t)x;
    return saved(m, t);
}

/* Exactly 8 decimal digits, stored as BCD like the serial. */
static klefr_iec_wres s_sec(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t bcd = 0;
    if (strlen(v) != 8)
        return KLEFR_IEC_W_BAD_VALUE;
    for (int i = 0; i < 8; i++) {
        if (v[i] < '0' || v[i] > '9')
            return KLEFR_IEC_W_BAD_VALUE;
        bcd = bcd << 4 | (uint32_t)(v[i] - '0');
    }
    m->settings.mbus_secondary = bcd;
    return saved(m, t);
}

static klefr_iec_wres s_baud(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 115200, &x) || !klefr_baud_valid(m->model, x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.baud = x;
    return saved(m, t);
}

static klefr_iec_wres s_parity(klefr_meter *m, const char *v, uint64_t t)
{
    klefr_parity p;
    if (!strcmp(v, "N"))
        p = KLEFR_PARITY_NONE;
    else if (!strcmp(v, "E"))
        p = KLEFR_PARITY_EVEN;
    else if (!strcmp(v, "O"))
        p = KLEFR_PARITY_ODD;
    else
        return KLEFR_IEC_W_BAD_VALUE;
    if (!klefr_parity_valid(m->model, p))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.parity = p;
    return saved(m, t);
}

/* 1/2 saved, 11/12 active but not saved (like Modbus 6048). */
static klefr_iec_wres s_tariff(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 12, &x) || (x != 1 && x != 2 && x != 11 && x != 12))
        return KLEFR_IEC_W_BAD_VALUE;
    return klefr_meter_set_tariff(m, (uint8_t)(x % 10u), x < 10, t) ? KLEFR_IEC_W_OK
                                                                    : KLEFR_IEC_W_BAD_VALUE;
}

/* 4 digits (manual 7.16). */
static klefr_iec_wres s_pw(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (strlen(v) != 4 || !parse_uint(v, 9999, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.password = (uint16_t)x;
    return saved(m, t);
}

static klefr_iec_wres s_obis(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 1, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->settings.obis = x != 0;
    return saved(m, t);
}

/* Counters: only a reset (value 0) can be written. */
static klefr_iec_wres s_day(klefr_meter *m, const char *v, uint64_t t)
{
    uint64_t x;
    if (!parse_fixed(v, 3, 0, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    klefr_day_counter_reset(m, t);
    return saved(m, t);
}

static klefr_iec_wres s_pdc(klefr_meter *m, const char *v, uint64_t t)
{
    uint32_t x;
    if (!parse_uint(v, 0, &x))
        return KLEFR_IEC_W_BAD_VALUE;
    m->regs.power_downs = 0;
    return saved(m, t);
}

#define RD KLEFR_IEC_F_READOUT
#define TF KLEFR_IEC_F_TARIFF

/* code, flags, get, set, name. Readout order = table order. */
const klefr_iec_item klefr_iec_items[] = {
    {"0.0.0", RD, g_serial, NULL, "meter address"},
    {"C.1.0", RD, g_serial, NULL, "serial number"},
    {"0.2.0", RD, g_fw, NULL, "firmware version"},
    {"1.8.0", RD, g_a_tot, NULL, "import active energy"},
    {"1.8.1", RD | TF, g_a_t1, NULL, "import active energy T1"},
    {"1.8.2", RD | TF, g_a_t2, NULL, "import active energy T2"},
    {"2.8.0", RD, g_r_tot, NULL, "export active energy"},
    {"2.8.1", RD | TF, g_r_t1, NULL, "export active energy T1"},
    {"2.8.2", RD | TF, g_r_t2, NULL, "export active energy T2"},
    {"15.8.0", RD, g_abs, NULL, "import + export active energy"},
    {"16.8.0", RD, g_calc_total, NULL, "total active energy per calc code"},
    {"3.8.0", RD, g_q_fwd, NULL, "reactive energy Q+"},
    {"4.8.0", RD, g_q_rev, NULL, "reactive energy Q-"},
    {"32.7.0", RD, g_v, NULL, "voltage"},
    {"31.7.0", RD, g_i, NULL, "current"},
    {"21.7.0", RD, g_p, NULL, "active power L1"},
    {"1.7.0", RD, g_p, NULL, "active power"},
    {"14.7.0", RD, g_f, NULL, "frequency"},
    {"13.7.0", RD, g_pf, NULL, "power factor"},
    {"9.7.0", RD, g_s, NULL, "apparent power"},
    {"C.7.0", RD, g_pdc, s_pdc, "power downs"},
    {"F.F", RD, g_err, NULL, "error register"},
    /* Settings: programming mode only (manufacturer codes). */
    {"C.90.1", 0, g_calc, s_calc, "calc code"},
    {"C.90.2", 0, g_s0, s_s0, "S0 rate"},
    {"C.90.3", 0, g_lcd, s_lcd, "LCD cycle time"},
    {"C.90.4", 0, g_bl, s_bl, "backlight"},
    {"C.90.5", 0, g_mbid, s_mbid, "Modbus ID"},
    {"C.90.6", 0, g_mbusid, s_mbusid, "M-bus primary address"},
    {"C.90.7", 0, g_sec, s_sec, "M-bus secondary address"},
    {"C.90.8", 0, g_baud, s_baud, "bus baud"},
    {"C.90.9", 0, g_parity, s_parity, "bus parity"},
    {"C.90.10", 0, g_tariff, s_tariff, "tariff"},
    {"C.90.11", KLEFR_IEC_F_LOGIN, g_pw, s_pw, "password"},
    {"C.90.12", 0, g_obis, s_obis, "OBIS display"},
    {"C.90.13", 0, g_day, s_day, "day counter"},
};

const size_t klefr_iec_items_len = sizeof klefr_iec_items / sizeof klefr_iec_items[0];

bool klefr_iec_item_on_model(const klefr_meter *m, const klefr_iec_item *it)
{
    if ((it->flags & KLEFR_IEC_F_TARIFF) && !klefr_model_has_tariffs(m->model))
        return false;
    if (it->set == s_mbid)
        return klefr_model_has_modbus(m->model);
    if (it->set == s_mbusid || it->set == s_sec)
        return klefr_model_has_mbus(m->model);
    if (it->set == s_baud || it->set == s_parity)
        return klefr_model_has_modbus(m->model) || klefr_model_has_mbus(m->model);
    return true;
}

const klefr_iec_item *klefr_iec_find(const klefr_meter *m, const char *code, size_t len)
{
    for (size_t k = 0; k < klefr_iec_items_len; k++) {
        const klefr_iec_item *it = &klefr_iec_items[k];
        if (strlen(it->code) == len && !memcmp(it->code, code, len) &&
            klefr_iec_item_on_model(m, it))
            return it;
    }
    return NULL;
}

bool klefr_iec_readout_line(const klefr_meter *m, size_t *pos, const char **code, char *value)
{
    for (; *pos < klefr_iec_items_len; ++*pos) {
        const klefr_iec_item *it = &klefr_iec_items[*pos];
        if (!(it->flags & KLEFR_IEC_F_READOUT) || !klefr_iec_item_on_model(m, it))
            continue;
        ++*pos;
        *code = it->code;
        it->get(m, value);
        return true;
    }
    return false;
}

bool klefr_iec_read(const klefr_meter *m, const char *addr, size_t alen, bool logged_in,
                    char *value)
{
    const klefr_iec_item *it = klefr_iec_find(m, addr, alen);
    if (!it || ((it->flags & KLEFR_IEC_F_LOGIN) && !logged_in))
        return false;
    it->get(m, value);
    return true;
}

bool klefr_iec_write(klefr_meter *m, const char *addr, size_t alen, const char *value,
                     uint64_t t_us, const char **name)
{
    const klefr_iec_item *it = klefr_iec_find(m, addr, alen);
    if (!it || !it->set || it->set(m, value, t_us) != KLEFR_IEC_W_OK)
        return false;
    *name = it->name;
    return true;
}
