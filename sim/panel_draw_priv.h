/* Internals shared by the panel's drawing files (panel_draw.c: assets,
 * meter and side cards; panel_geom.c: where things are; panel_caption.c:
 * the trainer overlay and the presentation layout). Not for other modules. */
#ifndef KLEFR_PANEL_DRAW_PRIV_H
#define KLEFR_PANEL_DRAW_PRIV_H

#include <cjson/cJSON.h>

#include "panel_draw.h"
#include "panel_font.h"

/* assets/panel.json by dotted path, with defaults */
const cJSON *klefr_pj_get(const cJSON *o, const char *path);
float klefr_pj_num(const cJSON *o, const char *path, float def);
uint32_t klefr_pj_col(const cJSON *o, const char *path, uint32_t def);
const char *klefr_pj_str(const cJSON *o, const char *path, const char *def);

/* What a draw call paints: the static layer (ST) is cached by panel.c, the
 * dynamic parts (DY) are drawn over it. */
enum { KLEFR_ST = 1, KLEFR_DY = 2 };

/* Which layout the canvas shows. */
typedef enum {
    KLEFR_MODE_FULL,    /* meter, readings, scope, controls, ... */
    KLEFR_MODE_METER,   /* a tall narrow window: only the meter, larger */
    KLEFR_MODE_PRESENT, /* the meter large, the caption column beside it */
} klefr_mode;

typedef struct {
    klefr_mode mode;
    float side_x, side_w; /* presentation: the caption column, layout units */
    float top;            /* presentation: layout y at the window's top edge */
    float fleet_x;        /* an installation's column, right of the panel (0: none) */
} klefr_geo;

/* Fit the layout into the canvas: sets its transform. */
klefr_geo klefr_panel_fit(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v);

typedef struct {
    float x, y, w, h;
    bool round;
} klefr_rect;

/* Where control id is in layout units; w = 0 when this layout and view do
 * not show it. */
klefr_rect klefr_ctl_rect(const klefr_panel_layout *L, const klefr_geo *g,
                          const klefr_panel_view *v, klefr_ctl id);

/* Is the caption box over the scope, phasor and trend (normal layout)? */
bool klefr_caption_boxed(const klefr_geo *g, const klefr_panel_view *v);

/* A rounded button with a centred label; active = highlighted (the speed
 * in force, an input that is on). */
void klefr_button_box(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                      const klefr_geo *g, klefr_ctl id, const char *label, bool active,
                      bool enabled);
/* A card with its title: side.KEY.{x,y,w,h} in panel.json. */
void klefr_card(klefr_canvas *c, const klefr_panel_layout *L, const char *key, const char *title,
                int layer);

/* panel_fleet.c: an installation's column (meter list, bus monitor). */
#define KLEFR_FLEET_COL_W 560.0f
void klefr_fleet_draw_list(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                           const klefr_geo *g, int layer);
void klefr_fleet_draw_monitor(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v, const klefr_geo *g, int layer);
klefr_rect klefr_fleet_ctl_rect(const klefr_geo *g, const klefr_panel_view *v, klefr_ctl id);

/* panel_caption.c */
void klefr_caption_draw(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                        const klefr_geo *g, int layer);
/* Presentation layout: the compact readings and the speed row. */
void klefr_present_readings(klefr_canvas *c, const klefr_panel_layout *L,
                            const klefr_panel_view *v, const klefr_geo *g);
void klefr_present_speed(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                         const klefr_geo *g);

#endif
