/* Buttons, menus and the LCD driver (manual 7.4-7.17, 8.1). */
#ifndef KLEFR_UI_H
#define KLEFR_UI_H

#include <stddef.h>
#include <stdint.h>

#include "klefr/lcd.h"
#include "klefr/types.h"

struct klefr_meter;

typedef struct {
    klefr_lcd_fb fb;     /* what the LCD controller shows */
    uint8_t held;        /* buttons held */
    uint16_t page;       /* TODO(ui): menu state */
    uint64_t last_draw_us;
} klefr_ui;

void klefr_ui_init(struct klefr_meter *m, uint64_t t_us);
void klefr_ui_tick(struct klefr_meter *m, uint64_t t_us);
void klefr_ui_buttons(struct klefr_meter *m, uint8_t held, uint64_t t_us);

/* Decode a segment framebuffer back into text, three lines separated by
 * '\n' (icons as words in the first line). Returns the length written. */
size_t klefr_lcd_text(const klefr_lcd_fb *fb, char *buf, size_t size);

#endif
