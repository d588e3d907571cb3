/* LCD driver: writes the controller's segment memory the way the real meter's
 * LCD controller is fed: the whole frame is rebuilt from the screen, and only
 * a changed frame is sent (hal->lcd_update). Blinking is done here by blanking
 * the blinking digits in the off half of each period. */
#include "ui_priv.h"

#include <string.h>

uint8_t klefr_lcd_used_digits(const char *text)
{
    uint8_t d[KLEFR_LCD_DIGITS];
    uint8_t mask = 0;
    klefr_glyph_row7(text, d);
    for (int i = 0; i < KLEFR_LCD_DIGITS; i++)
        if (d[i])
            mask |= (uint8_t)(1u << i);
    return mask;
}

void klefr_lcd_show(struct klefr_meter *m, const klefr_screen *s, uint64_t t_us)
{
    klefr_ui *ui = &m->ui;
    if (!ui->lcd_valid || memcmp(s->mid, ui->lcd_mid, sizeof ui->lcd_mid) != 0) {
        memcpy(ui->lcd_mid, s->mid, sizeof ui->lcd_mid);
        memset(ui->lcd_digits, 0, sizeof ui->lcd_digits);
        klefr_glyph_row7(s->mid, ui->lcd_digits);
    }
    if (!ui->lcd_valid || memcmp(s->low, ui->lcd_low, sizeof ui->lcd_low) != 0) {
        memcpy(ui->lcd_low, s->low, sizeof ui->lcd_low);
        memset(ui->lcd_chars, 0, sizeof ui->lcd_chars);
        klefr_glyph_row14(s->low, ui->lcd_chars);
    }
    ui->lcd_valid = true;
    klefr_lcd_fb fb;
    memset(&fb, 0, sizeof fb);
    fb.icons = s->icons;
    memcpy(fb.digits, ui->lcd_digits, sizeof fb.digits);
    memcpy(fb.chars, ui->lcd_chars, sizeof fb.chars);

    bool off_phase = ((t_us - m->ui.blink_us) / KLEFR_UI_BLINK_US) & 1u;
    if (off_phase)
        for (int i = 0; i < KLEFR_LCD_DIGITS; i++)
            if (s->blink & (1u << i))
                fb.digits[i] = 0;

    if (memcmp(&fb, &m->ui.fb, sizeof fb) == 0)
        return;
    m->ui.fb = fb;
    if (m->hal && m->hal->lcd_update)
        m->hal->lcd_update(m->hal->arg, &m->ui.fb, t_us);
}
