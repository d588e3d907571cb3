/* The menu state machine (manual 7.6-7.17): one handler per state. Button
 * events come from buttons.c; a handler returns true when it used the event
 * (a used hold ends the press, so a 5 s hold does not also act at 3 s past
 * the state it just entered). Menu map: docs/lcd-and-menus.md. */
#include "ui_priv.h"

#include <string.h>

const char *klefr_menu_state_to_str(klefr_menu_state s)
{
    switch (s) {
    case KLEFR_MENU_AUTO:
        return "auto";
    case KLEFR_MENU_BROWSE:
        return "browse";
    case KLEFR_MENU_PASSWORD:
        return "password";
    case KLEFR_MENU_EDIT:
        return "edit";
    case KLEFR_MENU_DAY_RESET:
        return "day-reset";
    case KLEFR_MENU_MESSAGE:
        return "message";
    case KLEFR_MENU_STATE_COUNT:
        break;
    }
    return "?";
}

static void set_state(klefr_meter *m, klefr_menu_state s)
{
    if (m->ui.state == s)
        return;
    char line[48] = "ui: ";
    strcat(line, klefr_menu_state_to_str(m->ui.state));
    strcat(line, " -> ");
    strcat(line, klefr_menu_state_to_str(s));
    klefr_meter_trace(m, line);
    m->ui.state = s;
    m->ui.dirty = true;
}

static const klefr_page *cur(const klefr_meter *m)
{
    return &klefr_pages[m->ui.page];
}

/* lcd_cycle_s is 1..30: the EEPROM load, the menu and every protocol write
 * check it. */
static uint64_t cycle_us(const klefr_meter *m)
{
    return (uint64_t)m->settings.lcd_cycle_s * 1000000u;
}

/* The next page of the automatic scroll after from (wraps). */
static uint16_t next_scroll(const klefr_meter *m, uint16_t from)
{
    for (uint16_t n = 1; n <= klefr_page_count; n++) {
        uint16_t i = (uint16_t)((from + n) % klefr_page_count);
        if (klefr_page_in_scroll(m, i))
            return i;
    }
    return from;
}

static void go_auto(klefr_meter *m, uint64_t t_us)
{
    set_state(m, KLEFR_MENU_AUTO);
    m->ui.page = next_scroll(m, (uint16_t)(klefr_page_count - 1));
    m->ui.auto_next_us = t_us + cycle_us(m);
}

static void message(klefr_meter *m, const char *mid, const char *low, uint64_t t_us)
{
    strncpy(m->ui.msg_mid, mid, sizeof m->ui.msg_mid - 1);
    m->ui.msg_mid[sizeof m->ui.msg_mid - 1] = 0;
    strncpy(m->ui.msg_low, low, sizeof m->ui.msg_low - 1);
    m->ui.msg_low[sizeof m->ui.msg_low - 1] = 0;
    m->ui.msg_until_us = t_us + KLEFR_UI_MSG_US;
    set_state(m, KLEFR_MENU_MESSAGE);
}

static void page_value(const klefr_meter *m, uint16_t idx, char *out)
{
    const klefr_page *p = &klefr_pages[idx];
    if (p->value)
        p->value(m, out);
    else
        klefr_setting_text(m, p->setting, out);
}

/* ---- handlers ---- */

static bool on_browse(klefr_meter *m, klefr_button_event e, uint64_t t_us);

static bool on_auto(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    /* the first press starts button scroll at Total active energy */
    set_state(m, KLEFR_MENU_BROWSE);
    m->ui.page = klefr_page_parent(KLEFR_M_ACT);
    if (e == KLEFR_BEV_LEFT || e == KLEFR_BEV_RIGHT)
        return true;
    return on_browse(m, e, t_us);
}

static void toggle_scroll(klefr_meter *m, uint64_t t_us)
{
    const klefr_page *p = cur(m);
    char mid[20];
    page_value(m, m->ui.page, mid);
    if (p->flags & KLEFR_PG_FIXED) { /* total active energy cannot be removed */
        message(m, mid, "OK in", t_us);
        return;
    }
    uint32_t mask = klefr_scroll_mask(m) | 1u;
    mask ^= 1u << p->bit;
    m->settings.scroll_mask = mask;
    klefr_meter_settings_changed(m, t_us);
    message(m, mid, (mask >> p->bit) & 1u ? "OK in" : "OK out", t_us);
}

static bool on_browse(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    const klefr_page *p = cur(m);
    switch (e) {
    case KLEFR_BEV_LEFT:
        m->ui.page = klefr_page_step(m, m->ui.page, -1);
        return true;
    case KLEFR_BEV_RIGHT:
        m->ui.page = klefr_page_step(m, m->ui.page, +1);
        return true;
    case KLEFR_BEV_RIGHT_HOLD3:
    case KLEFR_BEV_RIGHT_HOLD5: {
        uint8_t hold = e == KLEFR_BEV_RIGHT_HOLD3 ? 3 : 5;
        if (p->hold_in && p->hold_in == hold) {
            if (p->sub == KLEFR_M_PM3) { /* password first (7.10.1), from 0000 */
                klefr_edit_digits_clear(m, 4);
                set_state(m, KLEFR_MENU_PASSWORD);
            } else {
                m->ui.page = klefr_page_first(m, p->sub);
            }
            return true;
        }
        if (hold == 3 && (p->flags & KLEFR_PG_DAY)) {
            set_state(m, KLEFR_MENU_DAY_RESET);
            return true;
        }
        if (hold == 5 && p->setting && (p->menu == KLEFR_M_PM2 || p->menu == KLEFR_M_PM3)) {
            klefr_edit_begin(m, p->setting);
            set_state(m, KLEFR_MENU_EDIT);
            return true;
        }
        if (hold == 5 && p->menu != KLEFR_M_MAIN && (p->flags & KLEFR_PG_SCROLL)) {
            toggle_scroll(m, t_us);
            return true;
        }
        return false;
    }
    case KLEFR_BEV_LEFT_HOLD3:
        if (p->menu == KLEFR_M_MAIN)
            return false;
        m->ui.page = klefr_page_parent(p->menu);
        return true;
    default:
        return false;
    }
}

static bool on_password(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    klefr_ui *ui = &m->ui;
    switch (e) {
    case KLEFR_BEV_LEFT:
    case KLEFR_BEV_RIGHT:
        klefr_edit_step(m, KLEFR_SET_PASSWORD, e == KLEFR_BEV_RIGHT ? +1 : -1);
        return true;
    case KLEFR_BEV_RIGHT_HOLD3:
        if (++ui->edit_pos < ui->edit_ndig)
            return true;
        if (klefr_edit_digits_value(ui) == m->settings.password) {
            set_state(m, KLEFR_MENU_BROWSE);
            ui->page = klefr_page_first(m, KLEFR_M_PM3);
        } else {
            message(m, "Err", "PASSWORD", t_us); /* back to the Program mode 3 page */
        }
        return true;
    case KLEFR_BEV_LEFT_HOLD3:
        set_state(m, KLEFR_MENU_BROWSE);
        return true;
    default:
        return false;
    }
}

static bool on_edit(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    uint8_t setting = cur(m)->setting;
    klefr_edit_kind kind = klefr_edit_kind_of(setting);
    switch (e) {
    case KLEFR_BEV_LEFT:
    case KLEFR_BEV_RIGHT:
        klefr_edit_step(m, setting, e == KLEFR_BEV_RIGHT ? +1 : -1);
        return true;
    case KLEFR_BEV_BOTH_HOLD3: {
        if (kind == KLEFR_EDIT_DIGITS && ++m->ui.edit_pos < m->ui.edit_ndig)
            return true; /* next digit */
        char mid[20];
        if (klefr_edit_apply(m, setting, t_us)) {
            klefr_setting_text(m, setting, mid);
            message(m, mid, "OK", t_us);
        } else {
            message(m, "Err", cur(m)->label, t_us); /* out of range: unchanged */
        }
        return true;
    }
    case KLEFR_BEV_LEFT_HOLD3: /* leave without saving */
        set_state(m, KLEFR_MENU_BROWSE);
        return true;
    default:
        return false;
    }
}

static bool on_day_reset(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    switch (e) {
    case KLEFR_BEV_RIGHT_HOLD5: {
        klefr_day_counter_reset(m, t_us);
        klefr_meter_settings_changed(m, t_us);
        char mid[20];
        page_value(m, m->ui.page, mid);
        message(m, mid, "OK", t_us);
        return true;
    }
    case KLEFR_BEV_LEFT:
    case KLEFR_BEV_LEFT_HOLD3:
        set_state(m, KLEFR_MENU_BROWSE);
        return true;
    default:
        return false;
    }
}

static bool on_message(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    /* a press ends the message early and acts on the page */
    set_state(m, KLEFR_MENU_BROWSE);
    return on_browse(m, e, t_us);
}

typedef bool (*handler)(klefr_meter *m, klefr_button_event e, uint64_t t_us);

static const handler handlers[KLEFR_MENU_STATE_COUNT] = {
    [KLEFR_MENU_AUTO] = on_auto,           [KLEFR_MENU_BROWSE] = on_browse,
    [KLEFR_MENU_PASSWORD] = on_password,   [KLEFR_MENU_EDIT] = on_edit,
    [KLEFR_MENU_DAY_RESET] = on_day_reset, [KLEFR_MENU_MESSAGE] = on_message,
};

bool klefr_menu_event(klefr_meter *m, klefr_button_event e, uint64_t t_us)
{
    if (e == KLEFR_BEV_NONE)
        return false;
    char line[48] = "ui: button ";
    strcat(line, klefr_button_event_to_str(e));
    klefr_meter_trace(m, line);
    m->ui.blink_us = t_us; /* a blinking value is shown right after a press */
    m->ui.dirty = true;
    return handlers[m->ui.state](m, e, t_us);
}

void klefr_menu_init(klefr_meter *m, uint64_t t_us)
{
    m->ui.state = KLEFR_MENU_AUTO;
    go_auto(m, t_us);
}

void klefr_menu_tick(klefr_meter *m, uint64_t t_us)
{
    klefr_ui *ui = &m->ui;
    if (ui->state == KLEFR_MENU_MESSAGE && t_us >= ui->msg_until_us)
        set_state(m, KLEFR_MENU_BROWSE);
    if (ui->state != KLEFR_MENU_AUTO && ui->btn.stable == 0 &&
        t_us - ui->last_press_us >= KLEFR_UI_IDLE_US) {
        go_auto(m, t_us); /* unfinished edits are dropped */
        return;
    }
    if (ui->state == KLEFR_MENU_AUTO) {
        if (!klefr_page_in_scroll(m, ui->page)) /* e.g. the error went away */
            go_auto(m, t_us);
        else if (t_us >= ui->auto_next_us) {
            ui->page = next_scroll(m, ui->page);
            ui->dirty = true;
            ui->auto_next_us = t_us + cycle_us(m);
        }
    }
}

void klefr_menu_screen(const klefr_meter *m, uint64_t t_us, klefr_screen *s)
{
    const klefr_ui *ui = &m->ui;
    const klefr_page *p = cur(m);
    memset(s, 0, sizeof *s);

    /* status icons, on every screen */
    s->icons = m->meas.reverse ? KLEFR_ICON_RV : KLEFR_ICON_FW;
    if (m->comm_until_us > t_us)
        s->icons |= KLEFR_ICON_COMM;
    if (m->tariff == 2)
        s->icons |= KLEFR_ICON_T2;
    s->icons |= p->icons;
    if (p->flags & KLEFR_PG_LOCK)
        s->icons |= KLEFR_ICON_LOCK;
    strcpy(s->low, klefr_page_lower(m, ui->page));

    switch (ui->state) {
    case KLEFR_MENU_AUTO:
        page_value(m, ui->page, s->mid);
        break;
    case KLEFR_MENU_BROWSE:
        page_value(m, ui->page, s->mid);
        if (p->hold_in) /* a sub-menu to enter */
            s->icons |= KLEFR_ICON_NEXT;
        if (p->menu != KLEFR_M_MAIN)
            s->icons |= KLEFR_ICON_BACK;
        break;
    case KLEFR_MENU_PASSWORD:
        klefr_edit_text(m, KLEFR_SET_PASSWORD, s->mid, &s->blink);
        strcpy(s->low, "PASSWORD");
        break;
    case KLEFR_MENU_EDIT:
        klefr_edit_text(m, p->setting, s->mid, &s->blink);
        strcpy(s->low, p->label);
        break;
    case KLEFR_MENU_DAY_RESET:
        page_value(m, ui->page, s->mid);
        s->blink = klefr_lcd_used_digits(s->mid);
        break;
    case KLEFR_MENU_MESSAGE:
        strcpy(s->mid, ui->msg_mid);
        strcpy(s->low, ui->msg_low);
        break;
    case KLEFR_MENU_STATE_COUNT:
        break;
    }
}
