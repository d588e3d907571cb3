/* Segment fonts of the glass, and the decoder back to text (klefr_lcd_text).
 *
 * Every glyph pattern is unique within its font, so decoding is exact. Letters
 * that a 7-segment digit cannot draw fall back to their other case; 'S' is
 * drawn as '5' and 'O' as '0' on 7 segments (that is what the glass shows). */
#include "ui_priv.h"

#include <string.h>

#define A KLEFR_SEG_A
#define B KLEFR_SEG_B
#define C KLEFR_SEG_C
#define D KLEFR_SEG_D
#define E KLEFR_SEG_E
#define F KLEFR_SEG_F
#define G KLEFR_SEG_G

/* One glyph of either font (seven-segment fonts use the low byte). */
typedef struct {
    char c;
    uint16_t seg;
} glyph;

typedef struct {
    const glyph *g;
    size_t n;
} font;

static const glyph font7_glyphs[] = {
    {'0', A | B | C | D | E | F},
    {'1', B | C},
    {'2', A | B | D | E | G},
    {'3', A | B | C | D | G},
    {'4', B | C | F | G},
    {'5', A | C | D | F | G},
    {'6', A | C | D | E | F | G},
    {'7', A | B | C},
    {'8', A | B | C | D | E | F | G},
    {'9', A | B | C | D | F | G},
    {'-', G},
    {'_', D},
    {'A', A | B | C | E | F | G},
    {'b', C | D | E | F | G},
    {'C', A | D | E | F},
    {'c', D | E | G},
    {'d', B | C | D | E | G},
    {'E', A | D | E | F | G},
    {'F', A | E | F | G},
    {'G', A | C | D | E | F},
    {'H', B | C | E | F | G},
    {'h', C | E | F | G},
    {'i', C},
    {'J', B | C | D | E},
    {'L', D | E | F},
    {'n', C | E | G},
    {'o', C | D | E | G},
    {'P', A | B | E | F | G},
    {'r', E | G},
    {'t', D | E | F | G},
    {'U', B | C | D | E | F},
    {'u', C | D | E},
    {'y', B | C | D | F | G},
};

#undef A
#undef B
#undef C
#undef D
#undef E
#undef F
#undef G

#define A KLEFR_SEG14_A
#define B KLEFR_SEG14_B
#define C KLEFR_SEG14_C
#define D KLEFR_SEG14_D
#define E KLEFR_SEG14_E
#define F KLEFR_SEG14_F
#define G1 KLEFR_SEG14_G1
#define G2 KLEFR_SEG14_G2
#define H KLEFR_SEG14_H
#define I KLEFR_SEG14_I
#define J KLEFR_SEG14_J
#define K KLEFR_SEG14_K
#define L KLEFR_SEG14_L
#define M KLEFR_SEG14_M

static const glyph font14_glyphs[] = {
    {'0', A | B | C | D | E | F | J | K},
    {'1', B | C | J},
    {'2', A | B | D | E | G1 | G2},
    {'3', A | B | C | D | G2},
    {'4', B | C | F | G1 | G2},
    {'5', A | C | D | F | G1 | G2},
    {'6', A | C | D | E | F | G1 | G2},
    {'7', A | B | C},
    {'8', A | B | C | D | E | F | G1 | G2},
    {'9', A | B | C | D | F | G1 | G2},
    {'A', A | B | C | E | F | G1 | G2},
    {'B', A | B | C | D | G2 | I | L},
    {'C', A | D | E | F},
    {'D', A | B | C | D | I | L},
    {'E', A | D | E | F | G1},
    {'F', A | E | F | G1},
    {'G', A | C | D | E | F | G2},
    {'H', B | C | E | F | G1 | G2},
    {'I', A | D | I | L},
    {'J', B | C | D | E},
    {'K', E | F | G1 | J | M},
    {'L', D | E | F},
    {'M', B | C | E | F | H | J},
    {'N', B | C | E | F | H | M},
    {'O', A | B | C | D | E | F},
    {'P', A | B | E | F | G1 | G2},
    {'Q', A | B | C | D | E | F | M},
    {'R', A | B | E | F | G1 | G2 | M},
    {'S', A | C | D | G2 | H},
    {'T', A | I | L},
    {'U', B | C | D | E | F},
    {'V', E | F | J | K},
    {'W', B | C | E | F | K | M},
    {'X', H | J | K | M},
    {'Y', H | J | L},
    {'Z', A | D | J | K},
    {'b', C | D | E | F | G1 | G2},
    {'c', D | E | G1 | G2},
    {'d', B | C | D | E | G1 | G2},
    {'h', C | E | F | G1 | G2},
    {'i', L},
    {'n', C | E | G1 | G2},
    {'o', C | D | E | G1 | G2},
    {'r', E | G1},
    {'t', D | E | F | G1},
    {'u', C | D | E},
    {'y', B | C | D | F | G1 | G2},
    {'-', G1 | G2},
    {'+', G1 | G2 | I | L},
    {'/', J | K},
    {'<', J | M},
    {'>', H | K},
    {'_', D},
    {'*', G1 | G2 | H | I | J | K | L | M},
};

static const font font7 = {font7_glyphs, KLEFR_COUNT(font7_glyphs)};
static const font font14 = {font14_glyphs, KLEFR_COUNT(font14_glyphs)};

#undef A
#undef B
#undef C
#undef D
#undef E
#undef F
#undef G1
#undef G2
#undef H
#undef I
#undef J
#undef K
#undef L
#undef M

static char other_case(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

static uint16_t find(const font *f, char c)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->g[i].c == c)
            return f->g[i].seg;
    return 0;
}

/* c's glyph, or its other case's when the font lacks c. */
static uint16_t lookup(const font *f, char c)
{
    uint16_t g = find(f, c);
    return g ? g : find(f, other_case(c));
}

uint8_t klefr_glyph7(char c)
{
    if (c == 'S' || c == 's')
        c = '5';
    else if (c == 'O')
        c = '0';
    else if (c == 'v' || c == 'V')
        c = 'u';
    return (uint8_t)lookup(&font7, c);
}

uint16_t klefr_glyph14(char c)
{
    return lookup(&font14, c);
}

void klefr_glyph_row7(const char *text, uint8_t digits[KLEFR_LCD_DIGITS])
{
    uint8_t cells[KLEFR_LCD_DIGITS * 2];
    int n = 0;
    for (const char *p = text; *p && n < (int)sizeof cells; p++) {
        if (*p == '.' && n > 0 && !(cells[n - 1] & KLEFR_SEG_DP))
            cells[n - 1] |= KLEFR_SEG_DP;
        else
            cells[n++] = *p == '.' ? KLEFR_SEG_DP : klefr_glyph7(*p);
    }
    memset(digits, 0, KLEFR_LCD_DIGITS);
    /* right-aligned; a text too long keeps its rightmost cells */
    for (int i = 0; i < n && i < KLEFR_LCD_DIGITS; i++)
        digits[KLEFR_LCD_DIGITS - 1 - i] = cells[n - 1 - i];
}

void klefr_glyph_row14(const char *text, uint16_t chars[KLEFR_LCD_CHARS])
{
    int n = 0;
    memset(chars, 0, KLEFR_LCD_CHARS * sizeof chars[0]);
    for (const char *p = text; *p; p++) {
        if (*p == '.' && n > 0 && !(chars[n - 1] & KLEFR_SEG14_DP))
            chars[n - 1] |= KLEFR_SEG14_DP;
        else if (n < KLEFR_LCD_CHARS)
            chars[n++] = *p == '.' ? KLEFR_SEG14_DP : klefr_glyph14(*p);
    }
}

/* ---- decoding ---- */

typedef struct {
    char *buf;
    size_t size;
    size_t len;
} text_out;

static void put(text_out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void puts_(text_out *o, const char *s)
{
    while (*s)
        put(o, *s++);
}

/* The character of a cell's segments (its point bit dp ignored). */
static char decode(const font *f, uint16_t seg, uint16_t dp)
{
    seg &= (uint16_t)~dp;
    if (!seg)
        return ' ';
    for (size_t i = 0; i < f->n; i++)
        if (f->g[i].seg == seg)
            return f->g[i].c;
    return '?';
}

/* Append a row of cells, trimmed of blank cells at both ends. */
static void put_row(text_out *o, const char *cells, const bool *dp, int n)
{
    int first = 0, last = n - 1;
    while (first < n && cells[first] == ' ' && !dp[first])
        first++;
    while (last >= first && cells[last] == ' ' && !dp[last])
        last--;
    for (int i = first; i <= last; i++) {
        put(o, cells[i]);
        if (dp[i])
            put(o, '.');
    }
}

static void put_icons(text_out *o, uint32_t ic)
{
    bool any = false;
#define WORD(s)                                                                                    \
    do {                                                                                           \
        if (any)                                                                                   \
            put(o, ' ');                                                                           \
        puts_(o, s);                                                                               \
        any = true;                                                                                \
    } while (0)
    if (ic & KLEFR_ICON_FW)
        WORD("FW");
    if (ic & KLEFR_ICON_RV)
        WORD("RV");
    if (ic & KLEFR_ICON_COMM)
        WORD("COMM");
    if (ic & KLEFR_ICON_NEXT)
        WORD(">>");
    if (ic & KLEFR_ICON_BACK)
        WORD("<<");
    if (ic & KLEFR_ICON_LOCK)
        WORD("LOCK");
    /* the unit is composed from its parts: kWh, kvarh, kW, kvar, kVA, V, A */
    char unit[8];
    size_t u = 0;
    if (ic & KLEFR_ICON_K)
        unit[u++] = 'k';
    if (ic & KLEFR_ICON_W)
        unit[u++] = 'W';
    if (ic & KLEFR_ICON_VAR) {
        unit[u++] = 'v';
        unit[u++] = 'a';
        unit[u++] = 'r';
    }
    if (ic & KLEFR_ICON_V)
        unit[u++] = 'V';
    if (ic & KLEFR_ICON_A)
        unit[u++] = 'A';
    if (ic & KLEFR_ICON_H)
        unit[u++] = 'h';
    unit[u] = 0;
    if (u)
        WORD(unit);
    if (ic & KLEFR_ICON_HZ)
        WORD("Hz");
    if (ic & KLEFR_ICON_T1)
        WORD("T1");
    if (ic & KLEFR_ICON_T2)
        WORD("T2");
#undef WORD
}

size_t klefr_lcd_text(const klefr_lcd_fb *fb, char *buf, size_t size)
{
    text_out o = {buf, size, 0};
    char cells[KLEFR_LCD_CHARS];
    bool dp[KLEFR_LCD_CHARS];

    put_icons(&o, fb->icons);
    put(&o, '\n');
    for (int i = 0; i < KLEFR_LCD_DIGITS; i++) {
        cells[i] = decode(&font7, fb->digits[i], KLEFR_SEG_DP);
        dp[i] = (fb->digits[i] & KLEFR_SEG_DP) != 0;
    }
    put_row(&o, cells, dp, KLEFR_LCD_DIGITS);
    put(&o, '\n');
    for (int i = 0; i < KLEFR_LCD_CHARS; i++) {
        cells[i] = decode(&font14, fb->chars[i], KLEFR_SEG14_DP);
        dp[i] = (fb->chars[i] & KLEFR_SEG14_DP) != 0;
    }
    put_row(&o, cells, dp, KLEFR_LCD_CHARS);
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return o.len < size ? o.len : (size ? size - 1 : 0);
}
