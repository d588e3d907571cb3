/* The page table: every page of the display, in the order of the main menu
 * with each sub-menu after its main page. The automatic scroll shows the
 * scroll pages in this same order. Adding a page is one row (a new scroll
 * page takes a new, never reused, scroll bit: the mask is saved).
 * Menu map: docs/lcd-and-menus.md. */
#include "ui_priv.h"

#include <string.h>

/* ---- formatting ---- */

static int put_u64(uint64_t v, char *out) /* decimal, no padding */
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

void klefr_fmt_fixed(int64_t v, unsigned decimals, char *out)
{
    uint64_t a = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
    uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10u;
    if (v < 0)
        *out++ = '-';
    out += put_u64(a / scale, out);
    if (decimals) {
        uint64_t frac = a % scale;
        *out++ = '.';
        for (unsigned i = decimals; i-- > 0;) {
            out[i] = (char)('0' + frac % 10u);
            frac /= 10u;
        }
        out[decimals] = 0;
    }
}

void klefr_fmt_uint(uint32_t v, unsigned width, char *out)
{
    for (unsigned i = width; i-- > 0;) {
        out[i] = (char)('0' + v % 10u);
        v /= 10u;
    }
    out[width] = 0;
}

/* Energy in micro-units shown in kilo-units on 7 digits (manual 7.4):
 * 99999.99 -> 100000.0 ... 999999.9 -> 1000000. Truncated, never rounded up:
 * a register must not show energy that has not been measured yet. A positive
 * value past 9999999 also uses the sign digit; past 99999999 it rolls over. */
void klefr_fmt_energy(int64_t micro, char *out)
{
    uint64_t a = micro < 0 ? (uint64_t)(-(micro + 1)) + 1u : (uint64_t)micro;
    int64_t sign = micro < 0 ? -1 : 1;
    if (a / 10000000u <= 9999999u)
        klefr_fmt_fixed(sign * (int64_t)(a / 10000000u), 2, out);
    else if (a / 100000000u <= 9999999u)
        klefr_fmt_fixed(sign * (int64_t)(a / 100000000u), 1, out);
    else
        klefr_fmt_fixed(sign * (int64_t)((a / 1000000000u) % (micro < 0 ? 10000000u : 100000000u)),
                        0, out);
}

static int64_t round_i(double x)
{
    return x >= 0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

/* ---- page values (middle row) ---- */

// clang-format off

static void v_err(const klefr_meter *m, char *o)
{
    strcpy(o, "Err ");
    klefr_fmt_uint(m->error, 2, o + 4);
}
static void v_act(const klefr_meter *m, char *o) { klefr_fmt_energy(klefr_total_active_uwh(m, -1), o); }
static void v_act_f(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_fwd_uwh(&m->regs, -1), o); }
static void v_act_r(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_rev_uwh(&m->regs, -1), o); }
static void v_act_f1(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_fwd_uwh(&m->regs, KLEFR_T1), o); }
static void v_act_r1(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_rev_uwh(&m->regs, KLEFR_T1), o); }
static void v_act_f2(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_fwd_uwh(&m->regs, KLEFR_T2), o); }
static void v_act_r2(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_act_rev_uwh(&m->regs, KLEFR_T2), o); }
static void v_rea(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_total_react_uvarh(&m->regs, -1), o); }
static void v_rea_f(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_fwd_uvarh(&m->regs, -1), o); }
static void v_rea_r(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_rev_uvarh(&m->regs, -1), o); }
static void v_rea_f1(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_fwd_uvarh(&m->regs, KLEFR_T1), o); }
static void v_rea_r1(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_rev_uvarh(&m->regs, KLEFR_T1), o); }
static void v_rea_f2(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_fwd_uvarh(&m->regs, KLEFR_T2), o); }
static void v_rea_r2(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)klefr_react_rev_uvarh(&m->regs, KLEFR_T2), o); }
static void v_day(const klefr_meter *m, char *o) { klefr_fmt_energy((int64_t)m->regs.day_fwd_uwh, o); }
static void v_p(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.p_w), 3, o); }
static void v_q(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.q_var), 3, o); }
static void v_s(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.s_va), 3, o); }
static void v_v(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.v_rms * 10.0), 1, o); }
static void v_i(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.i_rms * 100.0), 2, o); }
static void v_f(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.freq_hz * 100.0), 2, o); }
static void v_pf(const klefr_meter *m, char *o) { klefr_fmt_fixed(round_i(m->meas.pf * 1000.0), 3, o); }
static void v_blank(const klefr_meter *m, char *o) { (void)m; o[0] = 0; }
static void v_serial(const klefr_meter *m, char *o) /* 8 BCD digits */
{
    for (int i = 0; i < 8; i++)
        o[i] = (char)('0' + ((m->serial >> (28 - 4 * i)) & 0xFu) % 10u);
    o[8] = 0;
}
static void v_sw(const klefr_meter *m, char *o) { (void)m; klefr_fmt_fixed(round_i(KLEFR_SW_VERSION * 100.0), 2, o); }
static void v_hw(const klefr_meter *m, char *o) { (void)m; klefr_fmt_fixed(round_i(KLEFR_HW_VERSION * 100.0), 2, o); }
static void v_pcnt(const klefr_meter *m, char *o) { klefr_fmt_fixed(m->regs.power_downs, 0, o); }
// clang-format on

#define KWH (KLEFR_ICON_K | KLEFR_ICON_W | KLEFR_ICON_H)
#define KVARH (KLEFR_ICON_K | KLEFR_ICON_VAR | KLEFR_ICON_H)
#define NOBIT 0xFFu
#define SCR KLEFR_PG_SCROLL
#define TARIFF KLEFR_MOD_TARIFF
#define ALL KLEFR_MOD_ALL

// clang-format off
/* bit, menu, sub, hold_in, models, def_scroll, flags, setting, icons, label, name, obis, value */
const klefr_page klefr_pages[] = {
    {NOBIT, KLEFR_M_MAIN, KLEFR_M_NONE, 0, ALL, 0, KLEFR_PG_ERROR, 0, 0, "", "Error code", "F.F", v_err},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_ACT, 5, ALL, 0, 0, 0, KWH, "TOTAL", "Total active energy", "", v_act},
    {0, KLEFR_M_ACT, 0, 0, ALL, ALL, SCR | KLEFR_PG_FIXED, 0, KWH, "TOTAL", "Total active energy", "", v_act},
    {1, KLEFR_M_ACT, 0, 0, ALL, 0, SCR, 0, KWH, "FORWARD", "Total forward active energy", "1.8.0", v_act_f},
    {2, KLEFR_M_ACT, 0, 0, ALL, 0, SCR, 0, KWH, "REVERSE", "Total reverse active energy", "2.8.0", v_act_r},
    {3, KLEFR_M_ACT, 0, 0, TARIFF, TARIFF, SCR, 0, KWH, "T1 FORWARD", "T1 forward active energy", "1.8.1", v_act_f1},
    {4, KLEFR_M_ACT, 0, 0, TARIFF, 0, SCR, 0, KWH, "T1 REVERSE", "T1 reverse active energy", "2.8.1", v_act_r1},
    {5, KLEFR_M_ACT, 0, 0, TARIFF, TARIFF, SCR, 0, KWH, "T2 FORWARD", "T2 forward active energy", "1.8.2", v_act_f2},
    {6, KLEFR_M_ACT, 0, 0, TARIFF, 0, SCR, 0, KWH, "T2 REVERSE", "T2 reverse active energy", "2.8.2", v_act_r2},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_REACT, 5, ALL, 0, 0, 0, KVARH, "TOTAL", "Total reactive energy", NULL, v_rea},
    {7, KLEFR_M_REACT, 0, 0, ALL, 0, SCR, 0, KVARH, "TOTAL", "Total reactive energy", NULL, v_rea},
    {8, KLEFR_M_REACT, 0, 0, ALL, 0, SCR, 0, KVARH, "FORWARD", "Total forward reactive energy", "3.8.0", v_rea_f},
    {9, KLEFR_M_REACT, 0, 0, ALL, 0, SCR, 0, KVARH, "REVERSE", "Total reverse reactive energy", "4.8.0", v_rea_r},
    {10, KLEFR_M_REACT, 0, 0, TARIFF, 0, SCR, 0, KVARH, "T1 FORWARD", "T1 forward reactive energy", "3.8.1", v_rea_f1},
    {11, KLEFR_M_REACT, 0, 0, TARIFF, 0, SCR, 0, KVARH, "T1 REVERSE", "T1 reverse reactive energy", "4.8.1", v_rea_r1},
    {12, KLEFR_M_REACT, 0, 0, TARIFF, 0, SCR, 0, KVARH, "T2 FORWARD", "T2 forward reactive energy", "3.8.2", v_rea_f2},
    {13, KLEFR_M_REACT, 0, 0, TARIFF, 0, SCR, 0, KVARH, "T2 REVERSE", "T2 reverse reactive energy", "4.8.2", v_rea_r2},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_POWER, 5, ALL, 0, 0, 0, KLEFR_ICON_K | KLEFR_ICON_W, "POWER", "Active power", "1.7.0", v_p},
    {14, KLEFR_M_POWER, 0, 0, ALL, ALL, SCR, 0, KLEFR_ICON_K | KLEFR_ICON_W, "POWER", "Active power", "1.7.0", v_p},
    {15, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, KLEFR_ICON_V, "VOLTAGE", "Voltage", "32.7.0", v_v},
    {16, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, KLEFR_ICON_A, "CURRENT", "Current", "31.7.0", v_i},
    {17, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, KLEFR_ICON_HZ, "FREQUENCY", "Frequency", "14.7.0", v_f},
    {18, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, 0, "PF", "Power factor", "13.7.0", v_pf},
    {19, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, KLEFR_ICON_K | KLEFR_ICON_VAR, "REACTIVE", "Reactive power", NULL, v_q},
    {20, KLEFR_M_POWER, 0, 0, ALL, 0, SCR, 0, KLEFR_ICON_K | KLEFR_ICON_V | KLEFR_ICON_A, "APPARENT", "Apparent power", "9.7.0", v_s},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_NONE, 0, ALL, 0, KLEFR_PG_DAY, 0, KWH, "RESETTABLE", "Resettable kWh", NULL, v_day},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_PM1, 5, ALL, 0, 0, 0, 0, "PROG MODE1", "Program mode 1", NULL, v_blank},
    {21, KLEFR_M_PM1, 0, 0, ALL, 0, SCR, 0, 0, "SERIAL NO", "Serial number", "C.1.0", v_serial},
    {22, KLEFR_M_PM1, 0, 0, ALL, 0, SCR, 0, 0, "SW VERSION", "Software version", "0.2.0", v_sw},
    {23, KLEFR_M_PM1, 0, 0, ALL, 0, SCR, 0, 0, "HW VERSION", "Hardware version", NULL, v_hw},
    {24, KLEFR_M_PM1, 0, 0, KLEFR_MOD_6924, KLEFR_MOD_6924, SCR, KLEFR_SET_ID, 0, "MOD Id", "Modbus ID", "0.0.0", NULL},
    {24, KLEFR_M_PM1, 0, 0, KLEFR_MOD_6923, KLEFR_MOD_6923, SCR, KLEFR_SET_ID, 0, "MBUS Id", "M-bus ID", "0.0.0", NULL},
    {25, KLEFR_M_PM1, 0, 0, KLEFR_MOD_BUS, KLEFR_MOD_6924, SCR, KLEFR_SET_BAUD, 0, "M bAud", "Baud rate", NULL, NULL},
    {26, KLEFR_M_PM1, 0, 0, KLEFR_MOD_6924, 0, SCR, KLEFR_SET_PARITY, 0, "PARity", "Parity", NULL, NULL},
    {27, KLEFR_M_PM1, 0, 0, ALL, 0, SCR, 0, 0, "PCNT", "Power down counter", "C.7.0", v_pcnt},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_PM2, 3, ALL, 0, 0, 0, 0, "PROG MODE2", "Program mode 2", NULL, v_blank},
    {NOBIT, KLEFR_M_PM2, 0, 0, ALL, 0, 0, KLEFR_SET_CYCLE, 0, "SEC", "LCD cycle time", NULL, NULL},
    {NOBIT, KLEFR_M_PM2, 0, 0, ALL, 0, 0, KLEFR_SET_BACKLIGHT, 0, "bACK", "Backlight setting", NULL, NULL},
    {NOBIT, KLEFR_M_PM2, 0, 0, KLEFR_MOD_6924, 0, 0, KLEFR_SET_ID, 0, "MOD Id", "Modbus ID", NULL, NULL},
    {NOBIT, KLEFR_M_PM2, 0, 0, KLEFR_MOD_6923, 0, 0, KLEFR_SET_ID, 0, "MBUS Id", "M-bus ID", NULL, NULL},

    {NOBIT, KLEFR_M_MAIN, KLEFR_M_PM3, 3, ALL, 0, KLEFR_PG_LOCK, 0, 0, "PROG MODE3", "Program mode 3", NULL, v_blank},
    {NOBIT, KLEFR_M_PM3, 0, 0, ALL, 0, KLEFR_PG_LOCK, KLEFR_SET_S0, 0, "S0", "S0 output", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, ALL, 0, KLEFR_PG_LOCK, KLEFR_SET_CALC, 0, "CALC CODE", "Calculation code", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, KLEFR_MOD_BUS, 0, KLEFR_PG_LOCK, KLEFR_SET_BAUD, 0, "M bAud", "Baud rate", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, KLEFR_MOD_6924, 0, KLEFR_PG_LOCK, KLEFR_SET_PARITY, 0, "PARity", "Parity", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, ALL, 0, KLEFR_PG_LOCK, KLEFR_SET_PCNT, 0, "PCNT", "Power down counter", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, ALL, 0, KLEFR_PG_LOCK, KLEFR_SET_PASSWORD, 0, "PASSrd", "Password", NULL, NULL},
    {NOBIT, KLEFR_M_PM3, 0, 0, ALL, 0, KLEFR_PG_LOCK, KLEFR_SET_OBIS, 0, "OBIS", "OBIS", NULL, NULL},
};
// clang-format on

const uint16_t klefr_page_count = sizeof klefr_pages / sizeof klefr_pages[0];

static uint8_t model_bit(klefr_model model)
{
    switch (model) {
    case KLEFR_MODEL_6921:
        return KLEFR_MOD_6921;
    case KLEFR_MODEL_6922:
        return KLEFR_MOD_6922;
    case KLEFR_MODEL_6923:
        return KLEFR_MOD_6923;
    case KLEFR_MODEL_6924:
        return KLEFR_MOD_6924;
    }
    return 0;
}

bool klefr_page_visible(const klefr_meter *m, uint16_t idx)
{
    const klefr_page *p = &klefr_pages[idx];
    if (!(p->models & model_bit(m->model)))
        return false;
    if ((p->flags & KLEFR_PG_ERROR) && m->error == KLEFR_ERR_NONE)
        return false;
    return true;
}

/* Bit 0 (total active energy) is always set in a mask the user made; a mask
 * without it (a fresh EEPROM: 0) means the factory set of the model. */
uint32_t klefr_scroll_mask(const klefr_meter *m)
{
    return (m->settings.scroll_mask & 1u) ? m->settings.scroll_mask : m->ui.factory_mask;
}

uint32_t klefr_factory_scroll_mask(const klefr_meter *m)
{
    uint32_t mask = 1u;
    for (uint16_t i = 0; i < klefr_page_count; i++)
        if (klefr_pages[i].bit != NOBIT && (klefr_pages[i].def_scroll & model_bit(m->model)))
            mask |= 1u << klefr_pages[i].bit;
    return mask;
}

bool klefr_page_in_scroll(const klefr_meter *m, uint16_t idx)
{
    const klefr_page *p = &klefr_pages[idx];
    if (!klefr_page_visible(m, idx))
        return false;
    if (p->flags & (KLEFR_PG_ERROR | KLEFR_PG_FIXED))
        return true;
    return (p->flags & KLEFR_PG_SCROLL) && ((klefr_scroll_mask(m) >> p->bit) & 1u);
}

uint16_t klefr_page_step(const klefr_meter *m, uint16_t idx, int dir)
{
    uint8_t menu = klefr_pages[idx].menu;
    uint16_t i = idx;
    for (uint16_t n = 0; n < klefr_page_count; n++) {
        i = (uint16_t)((i + klefr_page_count + dir) % klefr_page_count);
        if (klefr_pages[i].menu == menu && klefr_page_visible(m, i))
            return i;
    }
    return idx;
}

uint16_t klefr_page_first(const klefr_meter *m, uint8_t menu)
{
    for (uint16_t i = 0; i < klefr_page_count; i++)
        if (klefr_pages[i].menu == menu && klefr_page_visible(m, i))
            return i;
    return 0;
}

uint16_t klefr_page_parent(uint8_t menu)
{
    for (uint16_t i = 0; i < klefr_page_count; i++)
        if (klefr_pages[i].menu == KLEFR_M_MAIN && klefr_pages[i].sub == menu)
            return i;
    return 0;
}

/* OBIS of total active energy follows the calculation code (7.11). */
static const char *total_obis(const klefr_meter *m)
{
    switch (m->settings.calc_code) {
    case 4:
        return "2.8.0";
    case 5:
        return "15.8.0";
    case 6:
    case 9:
    case 10:
        return "16.8.0";
    default:
        return "1.8.0";
    }
}

const char *klefr_page_lower(const klefr_meter *m, uint16_t idx)
{
    const klefr_page *p = &klefr_pages[idx];
    if (!m->settings.obis || !p->obis)
        return p->label;
    return p->obis[0] ? p->obis : total_obis(m);
}
