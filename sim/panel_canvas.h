/* A tiny anti-aliased software rasteriser for the panel: polygons, circles,
 * lines and text into an ARGB8888 pixel buffer. Pure C (no SDL), so the
 * panel draws the same pixels with any SDL renderer, and tests and
 * screenshots need no display. */
#ifndef KLEFR_PANEL_CANVAS_H
#define KLEFR_PANEL_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

#include "panel_font.h"

/* A pixel rectangle [x0, x1) x [y0, y1). */
typedef struct {
    int x0, y0, x1, y1;
} klefr_irect;

/* What one drawing call would paint: a hash of everything that decides its
 * pixels (transformed geometry, colours, text, font, size) and a box that
 * holds every pixel it may touch. Two frames whose calls record the same
 * items draw the same pixels: the panel redraws only where items changed. */
typedef struct {
    uint64_t hash;
    klefr_irect box;
} klefr_cv_item;

typedef struct {
    klefr_cv_item *v;
    int n, cap;
    bool lost; /* out of memory: items are missing */
} klefr_cv_list;

typedef struct {
    int w, h;
    uint32_t *px; /* w*h pixels 0xAARRGGBB, A always 0xff */
    float *acc;   /* scratch coverage rows, 2*(w+2) */
    /* Transform from layout units to pixels: px = u * scale + off. */
    float scale, ox, oy;
    struct klefr_glyph_cache *glyphs; /* rendered glyphs, made on first use */
    /* Recording: when set, drawing calls append an item here and paint
     * nothing. */
    klefr_cv_list *rec;
    /* Clipping: when set, calls paint only inside these nclip disjoint
     * rectangles, with the same pixel values as an unclipped call. */
    const klefr_irect *clip;
    int nclip;
} klefr_canvas;

bool klefr_canvas_init(klefr_canvas *c, int w, int h);
void klefr_canvas_free(klefr_canvas *c); /* also frees the glyph cache */
void klefr_canvas_free_glyphs(klefr_canvas *c);
void klefr_canvas_clear(klefr_canvas *c, uint32_t argb);
/* Copy rectangle r of src (same size) into c. */
void klefr_canvas_copy_rect(klefr_canvas *c, const klefr_canvas *src, klefr_irect r);

void klefr_cv_list_free(klefr_cv_list *l);

/* Colours carry alpha: 0xAARRGGBB with AA < ff blends. */
uint32_t klefr_rgba_mix(uint32_t a, uint32_t b, float t); /* a..b */

/* All coordinates below are layout units (transformed). */
void klefr_cv_poly(klefr_canvas *c, const float *xy, int n, uint32_t color);
/* Vertical gradient: c0 at y0, c1 at y1 (layout units). */
void klefr_cv_poly_grad(klefr_canvas *c, const float *xy, int n, uint32_t c0, float y0, uint32_t c1,
                        float y1);
void klefr_cv_rect(klefr_canvas *c, float x, float y, float w, float h, uint32_t color);
void klefr_cv_rrect(klefr_canvas *c, float x, float y, float w, float h, float r, uint32_t color);
void klefr_cv_rrect_grad(klefr_canvas *c, float x, float y, float w, float h, float r, uint32_t c0,
                         uint32_t c1);
void klefr_cv_circle(klefr_canvas *c, float cx, float cy, float r, uint32_t color);
void klefr_cv_ring(klefr_canvas *c, float cx, float cy, float r, float width, float a0, float a1,
                   uint32_t color); /* arc from a0 to a1 radians, clockwise from 12 o'clock */
void klefr_cv_line(klefr_canvas *c, float x0, float y0, float x1, float y1, float width,
                   uint32_t color);
void klefr_cv_polyline(klefr_canvas *c, const float *xy, int n, float width, uint32_t color);

enum { KLEFR_ALIGN_LEFT = 0, KLEFR_ALIGN_CENTER = 1, KLEFR_ALIGN_RIGHT = 2 };
/* Text at a baseline; returns its width in layout units. */
float klefr_cv_text(klefr_canvas *c, const klefr_font *f, float x, float y, float size,
                    uint32_t color, int align, const char *s);
float klefr_text_width(const klefr_font *f, float size, const char *s);

#endif
