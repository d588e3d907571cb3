/* An installation's column beside the meter panel (klefr-sim --fleet): the
 * meter list (click a row, or Tab / Shift+Tab, to show that meter) and the
 * bus monitor of one line (its title, or B, for the next line). One drawing
 * call per row, so a new frame on the bus or a blinking LED repaints only
 * its row (panel_frame.c). */
#include <stdio.h>

#include "panel_draw_priv.h"

#define ROW_H 18.0f
#define LIST_Y 20.0f
#define LIST_H 470.0f
#define MON_Y (LIST_Y + LIST_H + 16)
#define MON_H (960.0f - MON_Y - 20)

/* The column's card at y (the static layer), and the text colours; false
 * when there is nothing (more) to draw: no installation, or the static
 * layer only. */
static bool card(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                 const klefr_geo *g, float y, float h, int layer, uint32_t col[2])
{
    if (!v->fleet || g->fleet_x <= 0)
        return false;
    if (layer & KLEFR_ST)
        klefr_cv_rrect(c, g->fleet_x, y, KLEFR_FLEET_COL_W, h, 10,
                       klefr_pj_col(L->json, "side.card", 0xff363b44));
    col[0] = klefr_pj_col(L->json, "side.dim", 0xff9aa3ad);
    col[1] = klefr_pj_col(L->json, "side.text", 0xffe8eaed);
    return (layer & KLEFR_DY) != 0;
}

klefr_rect klefr_fleet_ctl_rect(const klefr_geo *g, const klefr_panel_view *v, klefr_ctl id)
{
    if (!v->fleet || g->fleet_x <= 0)
        return (klefr_rect){0};
    float x = g->fleet_x;
    if (id == KLEFR_CTL_FLEET_LINE)
        return (klefr_rect){x, MON_Y, KLEFR_FLEET_COL_W, 40, false};
    int row = (int)id - KLEFR_CTL_FLEET_ROW0;
    if (row < 0 || row >= v->fleet->nrows)
        return (klefr_rect){0};
    return (klefr_rect){x + 8, LIST_Y + 44 + (float)row * ROW_H - 14, KLEFR_FLEET_COL_W - 16, ROW_H,
                        false};
}

void klefr_fleet_draw_list(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                           const klefr_geo *g, int layer)
{
    uint32_t col[2];
    if (!card(c, L, v, g, LIST_Y, LIST_H, layer, col))
        return;
    const klefr_panel_fleet *f = v->fleet;
    float x = g->fleet_x;
    uint32_t dim = col[0], txt = col[1];
    klefr_cv_text(c, &klefr_font_bold, x + 16, LIST_Y + 26, 16, dim, KLEFR_ALIGN_LEFT, f->title);
    for (int k = 0; k < f->nrows; k++) {
        float y = LIST_Y + 44 + (float)k * ROW_H;
        bool shown = f->first + k == f->shown;
        bool hover = v->hover == (klefr_ctl)(KLEFR_CTL_FLEET_ROW0 + k);
        if (shown || hover)
            klefr_cv_rrect(c, x + 8, y - 14, KLEFR_FLEET_COL_W - 16, ROW_H, 4,
                           shown ? 0xff2f5d8aU : 0xff454b55U);
        /* the meter's red LED, lit while a pulse is on */
        klefr_cv_rrect(c, x + 14, y - 9, 8, 8, 4, f->lit[k] ? 0xffff3030U : 0xff5a3030U);
        klefr_cv_text(c, shown ? &klefr_font_bold : &klefr_font_regular, x + 30, y, 14, txt,
                      KLEFR_ALIGN_LEFT, f->rows[k]);
    }
    if (f->nmeters > f->nrows) {
        char more[64];
        snprintf(more, sizeof more, "%d-%d of %d  (Tab / Shift+Tab)", f->first + 1,
                 f->first + f->nrows, f->nmeters);
        klefr_cv_text(c, &klefr_font_regular, x + KLEFR_FLEET_COL_W - 16, LIST_Y + 26, 13, dim,
                      KLEFR_ALIGN_RIGHT, more);
    }
}

void klefr_fleet_draw_monitor(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v, const klefr_geo *g, int layer)
{
    uint32_t col[2];
    if (!card(c, L, v, g, MON_Y, MON_H, layer, col))
        return;
    const klefr_panel_fleet *f = v->fleet;
    float x = g->fleet_x;
    uint32_t dim = col[0], txt = col[1];
    bool hover = v->hover == KLEFR_CTL_FLEET_LINE;
    klefr_cv_text(c, &klefr_font_bold, x + 16, MON_Y + 26, 16, hover ? txt : dim, KLEFR_ALIGN_LEFT,
                  f->mon_title);
    for (int k = 0; k < f->nmon; k++)
        klefr_cv_text(c, &klefr_font_regular, x + 12, MON_Y + 50 + (float)k * 17, 12,
                      f->mon_bad[k] ? 0xffff8a65U : txt, KLEFR_ALIGN_LEFT, f->mon[k]);
}
