/* The LCD controller's segment memory, as the glass is wired.
 *
 * Three rows (manual 7.5):
 *   upper  - icons: tariff, energy flow, communication, unit
 *   middle - 8 seven-segment digits with decimal points (the value; digit 0 is
 *            the leftmost and carries a minus sign or a letter when needed)
 *   lower  - 10 fourteen-segment characters with decimal points (page name or
 *            OBIS code)
 * A set bit is a dark (visible) segment. The panel in sim/ draws exactly these
 * bits using the geometry in assets/, so any text shown is what the glyph map
 * of firmware-core/src/ui/ puts here. */
#ifndef KLEFR_LCD_H
#define KLEFR_LCD_H

#include <stdint.h>

#define KLEFR_LCD_DIGITS 8
#define KLEFR_LCD_CHARS 10

/* Seven-segment bits of a middle-row digit. */
enum {
    KLEFR_SEG_A = 1u << 0, /* top */
    KLEFR_SEG_B = 1u << 1, /* upper right */
    KLEFR_SEG_C = 1u << 2, /* lower right */
    KLEFR_SEG_D = 1u << 3, /* bottom */
    KLEFR_SEG_E = 1u << 4, /* lower left */
    KLEFR_SEG_F = 1u << 5, /* upper left */
    KLEFR_SEG_G = 1u << 6, /* middle */
    KLEFR_SEG_DP = 1u << 7 /* decimal point after the digit */
};

/* Fourteen-segment bits of a lower-row character (plus its point). */
enum {
    KLEFR_SEG14_A = 1u << 0,   /* top */
    KLEFR_SEG14_B = 1u << 1,   /* upper right */
    KLEFR_SEG14_C = 1u << 2,   /* lower right */
    KLEFR_SEG14_D = 1u << 3,   /* bottom */
    KLEFR_SEG14_E = 1u << 4,   /* lower left */
    KLEFR_SEG14_F = 1u << 5,   /* upper left */
    KLEFR_SEG14_G1 = 1u << 6,  /* middle left */
    KLEFR_SEG14_G2 = 1u << 7,  /* middle right */
    KLEFR_SEG14_H = 1u << 8,   /* diagonal upper left */
    KLEFR_SEG14_I = 1u << 9,   /* vertical upper centre */
    KLEFR_SEG14_J = 1u << 10,  /* diagonal upper right */
    KLEFR_SEG14_K = 1u << 11,  /* diagonal lower left */
    KLEFR_SEG14_L = 1u << 12,  /* vertical lower centre */
    KLEFR_SEG14_M = 1u << 13,  /* diagonal lower right */
    KLEFR_SEG14_DP = 1u << 14  /* point after the character */
};

/* Upper-row icons. Units are composed: kWh = K|W|H, kvarh = K|VAR|H,
 * kVA = K|V|A, Hz alone. */
enum {
    KLEFR_ICON_T1 = 1u << 0,
    KLEFR_ICON_T2 = 1u << 1,
    KLEFR_ICON_FW = 1u << 2,     /* energy flow forward (import) */
    KLEFR_ICON_RV = 1u << 3,     /* energy flow reverse (export) */
    KLEFR_ICON_COMM = 1u << 4,   /* communication in progress */
    KLEFR_ICON_K = 1u << 5,
    KLEFR_ICON_W = 1u << 6,
    KLEFR_ICON_VAR = 1u << 7,
    KLEFR_ICON_H = 1u << 8,
    KLEFR_ICON_V = 1u << 9,
    KLEFR_ICON_A = 1u << 10,
    KLEFR_ICON_HZ = 1u << 11,
    KLEFR_ICON_NEXT = 1u << 12,  /* ">>" entering a sub-menu */
    KLEFR_ICON_BACK = 1u << 13,  /* "<<" leaving a sub-menu */
    KLEFR_ICON_LOCK = 1u << 14,  /* program mode 3 (password) */
    KLEFR_ICON_COUNT_ = 15
};

typedef struct klefr_lcd_fb {
    uint8_t digits[KLEFR_LCD_DIGITS]; /* KLEFR_SEG_* bits */
    uint16_t chars[KLEFR_LCD_CHARS];  /* KLEFR_SEG14_* bits */
    uint32_t icons;                   /* KLEFR_ICON_* bits */
} klefr_lcd_fb;

#endif
