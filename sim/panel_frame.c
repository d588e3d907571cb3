/* The panel's frame, redrawn where it changed (panel_frame.h). */
#include "panel_frame.h"

#include <string.h>

bool klefr_frame_size(klefr_frame *f, int w, int h)
{
    if (f->cv.px && f->cv.w == w && f->cv.h == h)
        return true;
    klefr_canvas_free(&f->cv);
    klefr_canvas_free(&f->bg);
    f->valid = false;
    if (!klefr_canvas_init(&f->cv, w, h) || !klefr_canvas_init(&f->bg, w, h)) {
        klefr_canvas_free(&f->cv);
        klefr_canvas_free(&f->bg);
        return false;
    }
    return true;
}

void klefr_frame_invalidate(klefr_frame *f)
{
    f->valid = false;
}

void klefr_frame_free(klefr_frame *f)
{
    klefr_canvas_free(&f->cv);
    klefr_canvas_free(&f->bg);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < KLEFR_PART_COUNT; j++)
            klefr_cv_list_free(&f->lists[k][j]);
    memset(f, 0, sizeof *f);
}

static bool overlap(klefr_irect a, klefr_irect b, int slack)
{
    return a.x0 < b.x1 + slack && b.x0 < a.x1 + slack && a.y0 < b.y1 + slack &&
           b.y0 < a.y1 + slack;
}

static klefr_irect unite(klefr_irect a, klefr_irect b)
{
    return (klefr_irect){a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0,
                         a.x1 > b.x1 ? a.x1 : b.x1, a.y1 > b.y1 ? a.y1 : b.y1};
}

/* Add r to the set of disjoint rectangles, merging it with the ones it
 * overlaps (or nearly: a few pixels between two rectangles cost less than
 * presenting them apart). A full set becomes its bounding box. */
static void add_rect(klefr_frame *f, klefr_irect r)
{
    if (r.x0 >= r.x1 || r.y0 >= r.y1)
        return;
    for (int k = 0; k < f->nrect;) {
        if (overlap(f->rect[k], r, 8)) {
            r = unite(r, f->rect[k]);
            f->rect[k] = f->rect[--f->nrect];
            k = 0; /* the bigger r may now meet one checked before */
        } else {
            k++;
        }
    }
    if (f->nrect == KLEFR_FRAME_MAX_RECTS) {
        for (int k = 0; k < f->nrect; k++)
            r = unite(r, f->rect[k]);
        f->nrect = 0;
    }
    f->rect[f->nrect++] = r;
}

static bool same(const klefr_cv_item *a, const klefr_cv_item *b)
{
    return a->hash == b->hash && !memcmp(&a->box, &b->box, sizeof a->box);
}

/* Rectangles where the calls of one part differ from last time. */
static void diff(klefr_frame *f, const klefr_cv_list *was, const klefr_cv_list *now)
{
    int n = was->n > now->n ? was->n : now->n;
    for (int k = 0; k < n; k++) {
        if (k < was->n && k < now->n && same(&was->v[k], &now->v[k]))
            continue;
        if (k < was->n)
            add_rect(f, was->v[k].box);
        if (k < now->n)
            add_rect(f, now->v[k].box);
    }
}

static bool touches(const klefr_frame *f, const klefr_cv_list *l)
{
    for (int k = 0; k < l->n; k++)
        for (int j = 0; j < f->nrect; j++)
            if (overlap(l->v[k].box, f->rect[j], 0))
                return true;
    return false;
}

bool klefr_frame_render(klefr_frame *f, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    klefr_cv_list *now = f->lists[f->cur], *was = f->lists[!f->cur];
    bool lost = false;
    for (int k = 0; k < KLEFR_PART_COUNT; k++) { /* record, paint nothing */
        now[k].n = 0;
        now[k].lost = false;
        f->cv.rec = &now[k];
        klefr_panel_draw_part(&f->cv, L, v, (klefr_panel_part)k);
        lost |= now[k].lost;
    }
    f->cv.rec = NULL;
    f->cur = !f->cur;
    f->nrect = 0;
    f->whole = false;
    uint32_t key = klefr_panel_static_key(v);
    if (!f->valid || lost || key != f->bg_key) {
        klefr_panel_draw_static(&f->bg, L, v);
        f->bg_key = key;
        memcpy(f->cv.px, f->bg.px, (size_t)f->cv.w * (size_t)f->cv.h * sizeof *f->cv.px);
        klefr_panel_draw_dynamic(&f->cv, L, v);
        f->valid = !lost;
        f->whole = true;
        return true;
    }
    for (int k = 0; k < KLEFR_PART_COUNT; k++)
        diff(f, &was[k], &now[k]);
    if (f->nrect == 0)
        return false;
    for (int j = 0; j < f->nrect; j++) {
        klefr_irect *r = &f->rect[j]; /* boxes may reach past the edges */
        r->x0 = r->x0 < 0 ? 0 : r->x0;
        r->y0 = r->y0 < 0 ? 0 : r->y0;
        r->x1 = r->x1 > f->cv.w ? f->cv.w : r->x1;
        r->y1 = r->y1 > f->cv.h ? f->cv.h : r->y1;
        klefr_canvas_copy_rect(&f->cv, &f->bg, *r);
    }
    f->cv.clip = f->rect;
    f->cv.nclip = f->nrect;
    for (int k = 0; k < KLEFR_PART_COUNT; k++)
        if (touches(f, &now[k]))
            klefr_panel_draw_part(&f->cv, L, v, (klefr_panel_part)k);
    f->cv.clip = NULL;
    f->cv.nclip = 0;
    return true;
}
