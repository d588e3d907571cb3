/* The ui module's entry points: buttons in, menu, LCD and backlight out. */
#include "ui_priv.h"

#include <string.h>

static void backlight(klefr_meter *m, uint64_t t_us)
{
    klefr_ui *ui = &m->ui;
    bool on;
    switch (m->settings.backlight) {
    case KLEFR_BL_ON:
        on = true;
        break;
    case KLEFR_BL_OFF:
        on = false;
        break;
    default:
        on = t_us < ui->backlight_until_us;
        break; /* button mode */
    }
    if (ui->backlight_known && on == ui->backlight)
        return;
    ui->backlight = on;
    ui->backlight_known = true;
    if (m->hal && m->hal->backlight)
        m->hal->backlight(m->hal->arg, on, t_us);
}

static void redraw(klefr_meter *m, uint64_t t_us)
{
    klefr_screen s;
    klefr_menu_screen(m, t_us, &s);
    klefr_lcd_show(m, &s, t_us);
    m->ui.dirty = false;
    m->ui.next_draw_us = t_us + KLEFR_UI_REFRESH_US;
}

/* Deliver every button event due by t_us to the menu. */
static void run_buttons(klefr_meter *m, uint64_t t_us)
{
    klefr_button_event e;
    while ((e = klefr_buttons_poll(&m->ui.btn, t_us)) != KLEFR_BEV_NONE)
        if (klefr_menu_event(m, e, t_us) && e != KLEFR_BEV_LEFT && e != KLEFR_BEV_RIGHT)
            m->ui.btn.swallow = true;
}

void klefr_ui_init(klefr_meter *m, uint64_t t_us)
{
    memset(&m->ui, 0, sizeof m->ui);
    memset(&m->ui.fb, 0xFF, sizeof m->ui.fb); /* forces the first lcd_update */
    m->ui.last_press_us = t_us;
    m->ui.factory_mask = klefr_factory_scroll_mask(m);
    klefr_menu_init(m, t_us);
    backlight(m, t_us);
    redraw(m, t_us);
}

void klefr_ui_tick(klefr_meter *m, uint64_t t_us)
{
    run_buttons(m, t_us);
    klefr_menu_tick(m, t_us);
    backlight(m, t_us);
    /* like the meter's display refresh: values every 100 ms, a press at once */
    if (m->ui.dirty || t_us >= m->ui.next_draw_us)
        redraw(m, t_us);
}

void klefr_ui_buttons(klefr_meter *m, uint8_t held, uint64_t t_us)
{
    klefr_ui *ui = &m->ui;
    run_buttons(m, t_us); /* events due before this change */
    if (held & ~ui->held)
        ui->backlight_until_us = t_us + KLEFR_UI_BACKLIGHT_US;
    ui->held = held;
    ui->last_press_us = t_us;
    klefr_buttons_input(&ui->btn, held, t_us);
    backlight(m, t_us);
}
