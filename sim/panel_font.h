/* Embedded anti-aliased bitmap fonts for the panel (generated, see
 * scripts/gen_panel_font.py): deterministic text in reference images. */
#ifndef KLEFR_PANEL_FONT_H
#define KLEFR_PANEL_FONT_H

typedef struct {
    short adv4;   /* advance in quarter pixels */
    short x0, y0; /* bitmap offset from the pen (y0 from the baseline, negative = up) */
    short w, h;
    const char *alpha; /* w*h chars, 'A' + alpha 0..15 */
} klefr_glyph;

typedef struct {
    int px; /* nominal pixel size the bitmaps were rendered at */
    int ascent, descent;
    const klefr_glyph *glyphs; /* 32..126 */
} klefr_font;

extern const klefr_font klefr_font_regular;
extern const klefr_font klefr_font_bold;

#endif
