/* Buttons, menus and the LCD driver (manual 7.4-7.17, 8.1).
 * Menu map and choices: docs/lcd-and-menus.md. */
#ifndef KLEFR_UI_H
#define KLEFR_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/lcd.h"
#include "klefr/types.h"

struct klefr_meter;

/* Button timing (manual 7.6-7.17). */
#define KLEFR_BTN_DEBOUNCE_US 30000u    /* a level must be stable this long */
#define KLEFR_BTN_HOLD3_US 3000000u     /* "hold for 3 seconds" */
#define KLEFR_BTN_HOLD5_US 5000000u     /* "hold for 5 seconds" */
#define KLEFR_UI_IDLE_US 30000000u      /* back to automatic scroll (7.7) */
#define KLEFR_UI_MSG_US 2000000u        /* how long "OK" stays */
#define KLEFR_UI_BLINK_US 500000u       /* half period of a blinking value */
#define KLEFR_UI_REFRESH_US 100000u     /* live values redrawn this often */
#define KLEFR_UI_BACKLIGHT_US 60000000u /* button mode: lit after a press */

/* What the buttons did, classified from the debounced levels and the time. */
typedef enum {
    KLEFR_BEV_NONE = 0,
    KLEFR_BEV_LEFT, /* short press (released before 3 s) */
    KLEFR_BEV_RIGHT,
    KLEFR_BEV_LEFT_HOLD3, /* still held at 3 s */
    KLEFR_BEV_RIGHT_HOLD3,
    KLEFR_BEV_LEFT_HOLD5, /* still held at 5 s */
    KLEFR_BEV_RIGHT_HOLD5,
    KLEFR_BEV_BOTH_HOLD3, /* both held together for 3 s */
} klefr_button_event;

typedef struct {
    uint8_t raw;       /* last level reported */
    uint64_t raw_us;   /* when it changed */
    uint8_t stable;    /* debounced level */
    uint8_t combo;     /* all buttons seen in this press */
    uint64_t press_us; /* start of this press (or of both held) */
    uint8_t fired;     /* hold events already sent: 3 or 5 */
    bool swallow;      /* the menu used a hold: ignore the rest of the press */
} klefr_buttons;

typedef enum {
    KLEFR_MENU_AUTO = 0,  /* automatic scroll */
    KLEFR_MENU_BROWSE,    /* button scroll in the main menu or a sub-menu */
    KLEFR_MENU_PASSWORD,  /* entering the program mode 3 password */
    KLEFR_MENU_EDIT,      /* a setting's value blinks */
    KLEFR_MENU_DAY_RESET, /* the day counter blinks, right 5 s resets */
    KLEFR_MENU_MESSAGE,   /* "OK", "OK in", "Err" for a moment */
    KLEFR_MENU_STATE_COUNT
} klefr_menu_state;

typedef struct {
    klefr_lcd_fb fb;       /* what the LCD controller shows */
    /* The rows' text last turned into segments, and those segments: a
     * redraw with the same text (most: 10 a second) skips the glyphs. */
    char lcd_mid[20], lcd_low[24];
    uint8_t lcd_digits[KLEFR_LCD_DIGITS];
    uint16_t lcd_chars[KLEFR_LCD_CHARS];
    bool lcd_valid;
    uint8_t held;          /* buttons held (raw levels) */
    uint16_t page;         /* row of the page table shown */
    uint64_t next_draw_us; /* next periodic redraw */
    bool dirty;            /* redraw at the next tick (a press, a new page) */

    klefr_buttons btn;
    klefr_menu_state state;
    uint64_t last_press_us; /* for the 30 s return to automatic scroll */
    uint64_t auto_next_us;  /* next automatic page change */
    uint64_t blink_us;      /* blink phase origin (reset by every press) */
    uint64_t msg_until_us;
    char msg_mid[12]; /* message state: middle and lower rows */
    char msg_low[12];

    /* editing: a choice index, or digits entered one by one */
    uint8_t edit_idx;
    uint8_t edit_pos;
    uint8_t edit_ndig;
    uint8_t edit_dig[4];

    bool backlight; /* output state last sent */
    bool backlight_known;
    uint64_t backlight_until_us;
    uint32_t factory_mask; /* the model's default scroll pages (computed at init) */
} klefr_ui;

void klefr_ui_init(struct klefr_meter *m, uint64_t t_us);
void klefr_ui_tick(struct klefr_meter *m, uint64_t t_us);
void klefr_ui_buttons(struct klefr_meter *m, uint8_t held, uint64_t t_us);

const char *klefr_menu_state_to_str(klefr_menu_state s);

/* Where the menu is, in words (trail.c): "Automatic scroll > Total active
 * energy", "Program mode 3 > S0 output > editing". NUL-terminated, cut to
 * size; returns the length written. */
size_t klefr_ui_trail(const struct klefr_meter *m, char *buf, size_t size);

/* Decode a segment framebuffer back into text, three lines separated by
 * '\n' (icons as words in the first line). Returns the length written. */
size_t klefr_lcd_text(const klefr_lcd_fb *fb, char *buf, size_t size);

#endif
