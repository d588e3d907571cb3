/* The panel's frame, kept between frames and redrawn only where it changed:
 * a cached static layer, and for each dynamic part the list of drawing
 * calls it made last time (klefr_cv_item). A new frame records the calls
 * without painting, compares them with the last ones, and repaints only the
 * rectangles where calls changed: the static layer copied back, then every
 * call that touches them, clipped. The pixels equal a full redraw's.
 * Plain C (no SDL): sim/panel.c presents the rectangles. */
#ifndef KLEFR_PANEL_FRAME_H
#define KLEFR_PANEL_FRAME_H

#include "panel_draw.h"

#define KLEFR_FRAME_MAX_RECTS 24

typedef struct {
    klefr_canvas cv; /* what the window shows */
    klefr_canvas bg; /* the static layer */
    bool valid;      /* cv and the lists hold a frame */
    uint32_t bg_key;
    klefr_cv_list lists[2][KLEFR_PART_COUNT];
    int cur;
    /* where the last klefr_frame_render() repainted (disjoint) */
    klefr_irect rect[KLEFR_FRAME_MAX_RECTS];
    int nrect;
    bool whole; /* ... or all of it */
} klefr_frame;

/* Size the frame (a new size redraws everything). false: out of memory. */
bool klefr_frame_size(klefr_frame *f, int w, int h);
/* Bring cv up to date with view v. Returns false when nothing changed;
 * else rect/nrect (or whole) say what to present. */
bool klefr_frame_render(klefr_frame *f, const klefr_panel_layout *L, const klefr_panel_view *v);
/* Forget the frame: the next render draws everything. */
void klefr_frame_invalidate(klefr_frame *f);
void klefr_frame_free(klefr_frame *f);

#endif
