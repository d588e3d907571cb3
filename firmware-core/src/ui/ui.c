/* STUB: replaced by the ui work. */
#include "klefr/meter.h"

#include <string.h>

void klefr_ui_init(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }
void klefr_ui_tick(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }
void klefr_ui_buttons(struct klefr_meter *m, uint8_t held, uint64_t t_us) { m->ui.held = held; (void)t_us; }
size_t klefr_lcd_text(const klefr_lcd_fb *fb, char *buf, size_t size)
{
    (void)fb;
    if (size)
        buf[0] = 0;
    return 0;
}
