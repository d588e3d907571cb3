/* Where things are on the panel: fitting the layout to the window (full,
 * meter only, presentation), the rectangles of the controls, hit tests. */
#include "panel_draw_priv.h"

#include <math.h>
#include <string.h>

const char *klefr_ctl_to_str(klefr_ctl c)
{
    static const char *const names[KLEFR_CTL_COUNT] = {
        "none",     "btn_left",  "btn_right",   "i_down",        "i_up",       "pf_down",
        "pf_up",    "v_down",    "v_up",        "f_down",        "f_up",       "dir",
        "tariff",   "power",     "speed_pause", "speed_quarter", "speed_half", "speed_1",
        "speed_10", "speed_100", "speed_max",   "shot",          "back",       "next",
        "fleet_line"};
    if (c >= KLEFR_CTL_FLEET_ROW0 && c < KLEFR_CTL_FLEET_ROW_END)
        return "fleet_row";
    return (unsigned)c < KLEFR_CTL_COUNT && names[c] ? names[c] : "?";
}

double klefr_ctl_speed(klefr_ctl c)
{
    static const double speeds[] = {0, 0.25, 0.5, 1, 10, 100, KLEFR_SPEED_MAX};
    if (c < KLEFR_CTL_SPEED_PAUSE || c > KLEFR_CTL_SPEED_MAX)
        return -2;
    return speeds[c - KLEFR_CTL_SPEED_PAUSE];
}

#define J(path, def) klefr_pj_num(L->json, path, def)

klefr_geo klefr_panel_fit(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    klefr_geo g = {.mode = KLEFR_MODE_FULL};
    float X = 0, Y = 0, W = J("size.w", 1400), H = J("size.h", 960);
    float mX = J("meter_only.x", 0), mY = J("meter_only.y", 0), mW = J("meter_only.w", 438),
          mH = J("meter_only.h", 960);
    if (v->present) {
        /* The front of the meter (LCD, LED, buttons) as high as the window
         * allows, the column beside it at least present.min_side wide. */
        float side = J("present.min_side", 660), margin = J("present.margin", 30);
        float pY = J("present.y", 130), pH = J("present.h", 600);
        c->scale = fminf((float)c->h / pH, (float)c->w / (mW + side));
        c->ox = -mX * c->scale;
        c->oy = ((float)c->h - pH * c->scale) / 2 - pY * c->scale;
        g.mode = KLEFR_MODE_PRESENT;
        g.side_x = mX + mW + margin / 3;
        g.side_w = ((float)c->w - c->ox) / c->scale - g.side_x - margin;
        g.top = pY;
        return g;
    }
    if ((float)c->w < (float)c->h * J("meter_only.below_aspect", 0)) {
        X = mX;
        Y = mY;
        W = mW;
        H = mH;
        g.mode = KLEFR_MODE_METER;
    }
    if (v->fleet && g.mode == KLEFR_MODE_FULL) { /* the installation's column on the right */
        g.fleet_x = W + 10;
        W += KLEFR_FLEET_COL_W + 10;
    }
    c->scale = fminf((float)c->w / W, (float)c->h / H);
    c->ox = ((float)c->w - W * c->scale) / 2 - X * c->scale;
    c->oy = ((float)c->h - H * c->scale) / 2 - Y * c->scale;
    return g;
}

bool klefr_caption_boxed(const klefr_geo *g, const klefr_panel_view *v)
{
    return g->mode == KLEFR_MODE_FULL && v->ov.show;
}

/* The presentation column: Back/Next under the hint, the speed row at the
 * bottom. */
static klefr_rect present_rect(const klefr_panel_layout *L, const klefr_geo *g,
                               const klefr_panel_view *v, klefr_ctl id)
{
    float x = g->side_x, w = g->side_w;
    if (id == KLEFR_CTL_BACK || id == KLEFR_CTL_NEXT) {
        if (!v->ov.nav)
            return (klefr_rect){0};
        float y = g->top + J("present.nav_y", 420);
        return id == KLEFR_CTL_BACK ? (klefr_rect){x, y, 120, 48, false}
                                    : (klefr_rect){x + 136, y, 150, 48, false};
    }
    if (id >= KLEFR_CTL_SPEED_PAUSE && id <= KLEFR_CTL_SPEED_MAX) {
        int k = id - KLEFR_CTL_SPEED_PAUSE, n = KLEFR_CTL_SPEED_MAX - KLEFR_CTL_SPEED_PAUSE + 1;
        float pitch = fminf(w / (float)n, 110);
        return (klefr_rect){x + (float)k * pitch, g->top + J("present.speed_y", 552), pitch - 8, 40,
                            false};
    }
    return (klefr_rect){0};
}

klefr_rect klefr_ctl_rect(const klefr_panel_layout *L, const klefr_geo *g,
                          const klefr_panel_view *v, klefr_ctl id)
{
    float cx = J("side.controls.x", 0), cy = J("side.controls.y", 0);
    if (id == KLEFR_CTL_BTN_LEFT || id == KLEFR_CTL_BTN_RIGHT) {
        const cJSON *b = cJSON_GetArrayItem(klefr_pj_get(L->json, "meter.buttons"),
                                            id == KLEFR_CTL_BTN_LEFT ? 0 : 1);
        float r = klefr_pj_num(b, "r", 20);
        return (klefr_rect){J("meter.x", 0) + klefr_pj_num(b, "x", 0) - r,
                            J("meter.y", 0) + klefr_pj_num(b, "y", 0) - r, 2 * r, 2 * r, true};
    }
    if (g->mode == KLEFR_MODE_METER)
        return (klefr_rect){0};
    if (g->mode == KLEFR_MODE_PRESENT)
        return present_rect(L, g, v, id);
    switch (id) {
    case KLEFR_CTL_I_DOWN:
    case KLEFR_CTL_V_DOWN:
        return (klefr_rect){cx + 170, cy + (id == KLEFR_CTL_I_DOWN ? 52 : 110), 44, 40, false};
    case KLEFR_CTL_I_UP:
    case KLEFR_CTL_V_UP:
        return (klefr_rect){cx + 370, cy + (id == KLEFR_CTL_I_UP ? 52 : 110), 44, 40, false};
    case KLEFR_CTL_PF_DOWN:
    case KLEFR_CTL_F_DOWN:
        return (klefr_rect){cx + 640, cy + (id == KLEFR_CTL_PF_DOWN ? 52 : 110), 44, 40, false};
    case KLEFR_CTL_PF_UP:
    case KLEFR_CTL_F_UP:
        return (klefr_rect){cx + 840, cy + (id == KLEFR_CTL_PF_UP ? 52 : 110), 44, 40, false};
    case KLEFR_CTL_DIR:
        return (klefr_rect){cx + 24, cy + 172, 280, 44, false};
    case KLEFR_CTL_TARIFF:
        return (klefr_rect){cx + 324, cy + 172, 280, 44, false};
    case KLEFR_CTL_POWER:
        return (klefr_rect){cx + 624, cy + 172, 260, 44, false};
    case KLEFR_CTL_SPEED_PAUSE:
    case KLEFR_CTL_SPEED_QUARTER:
    case KLEFR_CTL_SPEED_HALF:
    case KLEFR_CTL_SPEED_1:
    case KLEFR_CTL_SPEED_10:
    case KLEFR_CTL_SPEED_100:
    case KLEFR_CTL_SPEED_MAX:
        return (klefr_rect){cx + 170 + (float)(id - KLEFR_CTL_SPEED_PAUSE) * 102, cy + 234, 94,
                            44, false};
    case KLEFR_CTL_SHOT:
        return (klefr_rect){J("side.status.x", 0) + J("side.status.w", 0) - 170,
                            J("side.status.y", 0) + 30, 150, 44, false};
    case KLEFR_CTL_BACK:
    case KLEFR_CTL_NEXT: {
        if (!klefr_caption_boxed(g, v) || !v->ov.nav)
            return (klefr_rect){0};
        float x = J("side.caption.x", 0), y = J("side.caption.y", 0), w = J("side.caption.w", 0),
              h = J("side.caption.h", 0);
        return id == KLEFR_CTL_BACK ? (klefr_rect){x + w - 262, y + h - 60, 116, 44, false}
                                    : (klefr_rect){x + w - 136, y + h - 60, 120, 44, false};
    }
    default:
        return klefr_fleet_ctl_rect(g, v, id);
    }
}

klefr_ctl klefr_panel_hit(const klefr_canvas *c, const klefr_panel_layout *L,
                          const klefr_panel_view *v, float px, float py)
{
    klefr_canvas t = *c;
    klefr_geo g = klefr_panel_fit(&t, L, v);
    float ux = (px - t.ox) / t.scale, uy = (py - t.oy) / t.scale;
    for (int id = 1; id < KLEFR_CTL_COUNT; id++) {
        klefr_rect r = klefr_ctl_rect(L, &g, v, (klefr_ctl)id);
        if (r.w <= 0 || (!v->has_load && id >= KLEFR_CTL_I_DOWN && id <= KLEFR_CTL_DIR))
            continue;
        if (r.round) {
            float dx = ux - (r.x + r.w / 2), dy = uy - (r.y + r.h / 2), rr = r.w / 2 + 6;
            if (dx * dx + dy * dy <= rr * rr)
                return (klefr_ctl)id;
        } else if (ux >= r.x && ux < r.x + r.w && uy >= r.y && uy < r.y + r.h) {
            return (klefr_ctl)id;
        }
    }
    return KLEFR_CTL_NONE;
}

bool klefr_panel_ctl_center(const klefr_canvas *c, const klefr_panel_layout *L,
                            const klefr_panel_view *v, klefr_ctl id, float *px, float *py)
{
    klefr_canvas t = *c;
    klefr_geo g = klefr_panel_fit(&t, L, v);
    klefr_rect r = klefr_ctl_rect(L, &g, v, id);
    if (r.w <= 0)
        return false;
    *px = (r.x + r.w / 2) * t.scale + t.ox;
    *py = (r.y + r.h / 2) * t.scale + t.oy;
    return true;
}
