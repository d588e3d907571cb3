/* Settings edited in program modes 2 and 3 (manual 7.6.2, 7.8, 7.10-7.17):
 * a choice from a list, a number entered digit by digit, or an action. */
#include "ui_priv.h"

#include <string.h>

static const uint32_t backlight_v[] = {KLEFR_BL_BUTTON, KLEFR_BL_ON, KLEFR_BL_OFF};
static const char *const backlight_t[] = {"button", "on", "oFF"};
static const uint32_t parity_v[] = {KLEFR_PARITY_EVEN, KLEFR_PARITY_NONE, KLEFR_PARITY_ODD};
/* "even" on seven segments: the v is drawn like a u */
static const char *const parity_t[] = {"EuEn", "nonE", "odd"};
static const uint32_t onoff_v[] = {0, 1};
static const char *const onoff_t[] = {"oFF", "on"};

typedef struct {
    const uint32_t *v;
    uint8_t n;
} choices;

#define LIST(a) ((choices){a, (uint8_t)KLEFR_COUNT(a)})

static choices choices_of(const klefr_meter *m, uint8_t setting)
{
    switch (setting) {
    case KLEFR_SET_BACKLIGHT:
        return LIST(backlight_v);
    case KLEFR_SET_S0:
        return LIST(klefr_s0_rates_centi);
    case KLEFR_SET_CALC:
        return LIST(klefr_calc_codes);
    case KLEFR_SET_BAUD: {
        size_t n;
        const uint32_t *b = klefr_bauds(m->model, &n);
        return (choices){b, (uint8_t)n};
    }
    case KLEFR_SET_PARITY:
        return LIST(parity_v);
    case KLEFR_SET_OBIS:
        return LIST(onoff_v);
    case KLEFR_SET_CYCLE:
        return (choices){NULL, 30}; /* 1..30 s */
    default:
        return (choices){NULL, 0};
    }
}

static uint32_t choice_value(choices c, uint8_t idx)
{
    return c.v ? c.v[idx] : (uint32_t)idx + 1u;
}

static uint32_t current(const klefr_meter *m, uint8_t setting)
{
    const klefr_settings *s = &m->settings;
    switch (setting) {
    case KLEFR_SET_CYCLE:
        return s->lcd_cycle_s;
    case KLEFR_SET_BACKLIGHT:
        return s->backlight;
    case KLEFR_SET_ID:
        return klefr_model_has_mbus(m->model) ? s->mbus_id : s->modbus_id;
    case KLEFR_SET_S0:
        return s->s0_rate_centi;
    case KLEFR_SET_CALC:
        return s->calc_code;
    case KLEFR_SET_BAUD:
        return s->baud;
    case KLEFR_SET_PARITY:
        return klefr_model_has_mbus(m->model) ? KLEFR_PARITY_EVEN : s->parity;
    case KLEFR_SET_PCNT:
        return m->regs.power_downs;
    case KLEFR_SET_PASSWORD:
        return s->password;
    case KLEFR_SET_OBIS:
        return s->obis;
    }
    return 0;
}

/* Text of one value of a setting, as the middle row shows it. */
static void value_text(uint8_t setting, uint32_t v, char *out)
{
    switch (setting) {
    case KLEFR_SET_BACKLIGHT:
        strcpy(out, backlight_t[v <= KLEFR_BL_OFF ? v : 0]);
        return;
    case KLEFR_SET_PARITY:
        strcpy(out, parity_t[v == KLEFR_PARITY_NONE ? 1 : v == KLEFR_PARITY_ODD ? 2 : 0]);
        return;
    case KLEFR_SET_OBIS:
        strcpy(out, onoff_t[v ? 1 : 0]);
        return;
    case KLEFR_SET_CALC:
        strcpy(out, "C-");
        klefr_fmt_uint(v, 2, out + 2);
        return;
    case KLEFR_SET_ID:
        klefr_fmt_uint(v, 3, out);
        return;
    case KLEFR_SET_PASSWORD:
        klefr_fmt_uint(v, 4, out);
        return;
    case KLEFR_SET_S0: /* imp/kWh x 100: 10000, 2000, ... 0.1, 0.01 */
        if (v % 100u == 0)
            klefr_fmt_fixed(v / 100u, 0, out);
        else if (v % 10u == 0)
            klefr_fmt_fixed(v / 10u, 1, out);
        else
            klefr_fmt_fixed(v, 2, out);
        return;
    default:
        klefr_fmt_fixed(v, 0, out);
        return;
    }
}

void klefr_setting_text(const klefr_meter *m, uint8_t setting, char *out)
{
    value_text(setting, current(m, setting), out);
}

klefr_edit_kind klefr_edit_kind_of(uint8_t setting)
{
    switch (setting) {
    case KLEFR_SET_ID:
    case KLEFR_SET_PASSWORD:
        return KLEFR_EDIT_DIGITS;
    case KLEFR_SET_PCNT:
        return KLEFR_EDIT_ACTION;
    default:
        return KLEFR_EDIT_CHOICE;
    }
}

void klefr_edit_digits_clear(klefr_meter *m, uint8_t ndig)
{
    klefr_ui *ui = &m->ui;
    memset(ui->edit_dig, 0, sizeof ui->edit_dig);
    ui->edit_ndig = ndig;
    ui->edit_pos = 0;
}

void klefr_edit_begin(klefr_meter *m, uint8_t setting)
{
    klefr_ui *ui = &m->ui;
    uint32_t v = current(m, setting);
    ui->edit_idx = 0;
    ui->edit_pos = 0;
    ui->edit_ndig = 0;
    if (klefr_edit_kind_of(setting) == KLEFR_EDIT_DIGITS) {
        ui->edit_ndig = setting == KLEFR_SET_ID ? 3 : 4;
        uint32_t d = v;
        for (int i = ui->edit_ndig; i-- > 0; d /= 10u)
            ui->edit_dig[i] = (uint8_t)(d % 10u);
        return;
    }
    choices c = choices_of(m, setting);
    for (uint8_t i = 0; i < c.n; i++)
        if (choice_value(c, i) == v)
            ui->edit_idx = i;
}

void klefr_edit_step(klefr_meter *m, uint8_t setting, int dir)
{
    klefr_ui *ui = &m->ui;
    if (klefr_edit_kind_of(setting) == KLEFR_EDIT_DIGITS) {
        uint8_t *d = &ui->edit_dig[ui->edit_pos];
        *d = (uint8_t)((*d + 10 + dir) % 10);
        return;
    }
    choices c = choices_of(m, setting);
    if (c.n)
        ui->edit_idx = (uint8_t)((ui->edit_idx + c.n + dir) % c.n);
}

void klefr_edit_text(const klefr_meter *m, uint8_t setting, char *out, uint8_t *blink)
{
    const klefr_ui *ui = &m->ui;
    switch (klefr_edit_kind_of(setting)) {
    case KLEFR_EDIT_DIGITS:
        for (int i = 0; i < ui->edit_ndig; i++)
            out[i] = (char)('0' + ui->edit_dig[i]);
        out[ui->edit_ndig] = 0;
        *blink = (uint8_t)(1u << (KLEFR_LCD_DIGITS - ui->edit_ndig + ui->edit_pos));
        return;
    case KLEFR_EDIT_ACTION:
        klefr_setting_text(m, setting, out);
        break;
    case KLEFR_EDIT_CHOICE:
        value_text(setting, choice_value(choices_of(m, setting), ui->edit_idx), out);
        break;
    }
    *blink = klefr_lcd_used_digits(out);
}

uint32_t klefr_edit_digits_value(const klefr_ui *ui)
{
    uint32_t v = 0;
    for (int i = 0; i < ui->edit_ndig; i++)
        v = v * 10u + ui->edit_dig[i];
    return v;
}

bool klefr_edit_apply(klefr_meter *m, uint8_t setting, uint64_t t_us)
{
    klefr_settings *s = &m->settings;
    uint32_t v = klefr_edit_kind_of(setting) == KLEFR_EDIT_DIGITS
                     ? klefr_edit_digits_value(&m->ui)
                     : choice_value(choices_of(m, setting), m->ui.edit_idx);
    switch (setting) {
    case KLEFR_SET_CYCLE:
        s->lcd_cycle_s = (uint8_t)v;
        break;
    case KLEFR_SET_BACKLIGHT:
        s->backlight = (uint8_t)v;
        break;
    case KLEFR_SET_S0:
        s->s0_rate_centi = v;
        break;
    case KLEFR_SET_CALC:
        s->calc_code = (uint8_t)v;
        break;
    case KLEFR_SET_BAUD:
        s->baud = v;
        break;
    case KLEFR_SET_PARITY:
        s->parity = (klefr_parity)v;
        break;
    case KLEFR_SET_OBIS:
        s->obis = v != 0;
        break;
    case KLEFR_SET_PASSWORD:
        s->password = (uint16_t)v;
        break;
    case KLEFR_SET_PCNT:
        m->regs.power_downs = 0;
        break;
    case KLEFR_SET_ID:
        if (klefr_model_has_mbus(m->model)) {
            if (v > 250)
                return false;
            s->mbus_id = (uint8_t)v;
        } else {
            if (v < 1 || v > 247)
                return false;
            s->modbus_id = (uint8_t)v;
        }
        break;
    default:
        return false;
    }
    klefr_meter_settings_changed(m, t_us);
    return true;
}
