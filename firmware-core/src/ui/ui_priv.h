/* Internals of the ui module shared by its files (not for other modules). */
#ifndef KLEFR_UI_PRIV_H
#define KLEFR_UI_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "klefr/meter.h"

/* ---- glyphs.c: segment fonts ---- */
uint8_t klefr_glyph7(char c);
uint16_t klefr_glyph14(char c);
/* Text to a row; '.' lights the point of the previous cell. The middle row is
 * right-aligned, the lower row left-aligned. */
void klefr_glyph_row7(const char *text, uint8_t digits[KLEFR_LCD_DIGITS]);
void klefr_glyph_row14(const char *text, uint16_t chars[KLEFR_LCD_CHARS]);

/* ---- lcd.c: what one screen shows, and the driver ---- */
typedef struct {
    uint32_t icons;
    char mid[20];  /* middle row text */
    char low[24];  /* lower row text */
    uint8_t blink; /* middle digits (bit i = digit i) blanked in the off phase */
} klefr_screen;

/* Render the screen into the fb; calls hal->lcd_update when it changed. */
void klefr_lcd_show(struct klefr_meter *m, const klefr_screen *s, uint64_t t_us);
/* Bits of the middle row that hold the (right-aligned) text. */
uint8_t klefr_lcd_used_digits(const char *text);

/* ---- pages.c: the page table ---- */
enum {
    KLEFR_M_MAIN = 0,
    KLEFR_M_ACT,   /* sub-menu of total active energy */
    KLEFR_M_REACT, /* sub-menu of total reactive energy */
    KLEFR_M_POWER, /* sub-menu of active power */
    KLEFR_M_PM1,   /* program mode 1: identity */
    KLEFR_M_PM2,   /* program mode 2: display and address */
    KLEFR_M_PM3,   /* program mode 3: password protected */
    KLEFR_M_NONE
};

/* Models a page exists on. */
#define KLEFR_MOD_6921 0x1u
#define KLEFR_MOD_6922 0x2u
#define KLEFR_MOD_6923 0x4u
#define KLEFR_MOD_6924 0x8u
#define KLEFR_MOD_ALL 0xFu
#define KLEFR_MOD_TARIFF (KLEFR_MOD_6922 | KLEFR_MOD_6923 | KLEFR_MOD_6924)
#define KLEFR_MOD_BUS (KLEFR_MOD_6923 | KLEFR_MOD_6924)

/* Page flags. */
#define KLEFR_PG_SCROLL 0x01u /* may be added to the automatic scroll */
#define KLEFR_PG_FIXED 0x02u  /* always in the automatic scroll */
#define KLEFR_PG_ERROR 0x04u  /* shown only while m->error is set */
#define KLEFR_PG_LOCK 0x08u   /* lock icon (program mode 3) */
#define KLEFR_PG_DAY 0x10u    /* the resettable day counter (7.9) */

/* Editable settings (edit.c). */
enum {
    KLEFR_SET_NONE = 0,
    KLEFR_SET_CYCLE,
    KLEFR_SET_BACKLIGHT,
    KLEFR_SET_ID,
    KLEFR_SET_S0,
    KLEFR_SET_CALC,
    KLEFR_SET_BAUD,
    KLEFR_SET_PARITY,
    KLEFR_SET_PCNT,
    KLEFR_SET_PASSWORD,
    KLEFR_SET_OBIS,
    KLEFR_SET_COUNT
};

typedef struct {
    uint8_t bit;        /* scroll_mask bit (stable, saved in the EEPROM) */
    uint8_t menu;       /* list the page is in */
    uint8_t sub;        /* main pages: the menu a hold enters */
    uint8_t hold_in;    /* 3 or 5: the right-button hold that enters sub */
    uint8_t models;     /* KLEFR_MOD_* */
    uint8_t def_scroll; /* models where the page is in the factory scroll */
    uint8_t flags;      /* KLEFR_PG_* */
    uint8_t setting;    /* KLEFR_SET_* edited from this page */
    uint32_t icons;     /* unit icons */
    const char *label;  /* lower row */
    const char *name;   /* in words, as the manual names it (klefr_ui_trail) */
    const char *obis;   /* lower row in OBIS mode, NULL = label */
    void (*value)(const struct klefr_meter *m, char *out); /* middle row */
} klefr_page;

extern const klefr_page klefr_pages[];
extern const uint16_t klefr_page_count;

bool klefr_page_visible(const struct klefr_meter *m, uint16_t idx);
bool klefr_page_in_scroll(const struct klefr_meter *m, uint16_t idx);
/* Effective scroll mask: the saved one, or the model's factory set. */
uint32_t klefr_scroll_mask(const struct klefr_meter *m);
/* The model's default pages in the automatic scroll (bit 0 always set). */
uint32_t klefr_factory_scroll_mask(const struct klefr_meter *m);
/* Next/previous visible page of the same menu (wraps); first of a menu. */
uint16_t klefr_page_step(const struct klefr_meter *m, uint16_t idx, int dir);
uint16_t klefr_page_first(const struct klefr_meter *m, uint8_t menu);
/* The main page whose sub-menu is menu. */
uint16_t klefr_page_parent(uint8_t menu);
/* Lower row of a page (name, or OBIS code in OBIS mode). */
const char *klefr_page_lower(const struct klefr_meter *m, uint16_t idx);

/* Formatting without printf. */
void klefr_fmt_energy(int64_t micro, char *out);               /* kWh/kvarh auto-range */
void klefr_fmt_fixed(int64_t v, unsigned decimals, char *out); /* v / 10^decimals */
void klefr_fmt_uint(uint32_t v, unsigned width, char *out);    /* zero padded */

/* ---- edit.c: program mode settings ---- */
typedef enum { KLEFR_EDIT_CHOICE, KLEFR_EDIT_DIGITS, KLEFR_EDIT_ACTION } klefr_edit_kind;

klefr_edit_kind klefr_edit_kind_of(uint8_t setting);
/* Begin editing: fills ui edit fields from the current setting. */
void klefr_edit_begin(struct klefr_meter *m, uint8_t setting);
/* Short press: dir +1 (right) / -1 (left) on the choice or current digit. */
void klefr_edit_step(struct klefr_meter *m, uint8_t setting, int dir);
/* Text of the value being edited and which digits blink. */
void klefr_edit_text(const struct klefr_meter *m, uint8_t setting, char *out, uint8_t *blink);
/* Start entering ndig digits from all zeros (the program mode 3 password). */
void klefr_edit_digits_clear(struct klefr_meter *m, uint8_t ndig);
/* The number the digits entered so far make. */
uint32_t klefr_edit_digits_value(const klefr_ui *ui);
/* Store the edited value. Returns false when it is out of range. */
bool klefr_edit_apply(struct klefr_meter *m, uint8_t setting, uint64_t t_us);
/* Middle row text of a setting's current value (pages.c uses it). */
void klefr_setting_text(const struct klefr_meter *m, uint8_t setting, char *out);

/* ---- buttons.c ---- */
void klefr_buttons_input(klefr_buttons *b, uint8_t held, uint64_t t_us);
/* Advance to t_us; returns the next event (NONE when nothing happened). */
klefr_button_event klefr_buttons_poll(klefr_buttons *b, uint64_t t_us);
const char *klefr_button_event_to_str(klefr_button_event e);

/* ---- menu.c ---- */
void klefr_menu_init(struct klefr_meter *m, uint64_t t_us);
/* Returns true when the event was used (a used hold ends the press). */
bool klefr_menu_event(struct klefr_meter *m, klefr_button_event e, uint64_t t_us);
void klefr_menu_tick(struct klefr_meter *m, uint64_t t_us);
void klefr_menu_screen(const struct klefr_meter *m, uint64_t t_us, klefr_screen *s);

#endif
