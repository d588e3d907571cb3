/* The trainer overlay: caption, menu trail, the hint on the next button and
 * Back/Next, in a box over the scope in the normal layout or in the column
 * beside the large meter of the presentation layout (F11). */
#include "panel_draw_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define jnum klefr_pj_num
#define jcol klefr_pj_col

void klefr_panel_hint_text(uint8_t buttons, double hold_s, char *out, int size)
{
    const char *b = buttons == (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT) ? "L+R"
                    : buttons == KLEFR_BTN_LEFT                  ? "L"
                    : buttons == KLEFR_BTN_RIGHT                 ? "R"
                                                                 : "";
    if (!*b)
        snprintf(out, (size_t)size, "%s", "");
    else if (hold_s > 0)
        snprintf(out, (size_t)size, "hold %s %g s", b, hold_s);
    else
        snprintf(out, (size_t)size, "press %s", b);
}

/* Draw s wrapped at spaces (and at '\n') to width w, lines lh apart, at
 * most max lines; a word wider than w is cut. Returns the lines drawn. */
static int wrap(klefr_canvas *c, const klefr_font *f, float x, float y, float size, float lh,
                float w, uint32_t col, const char *s, int max)
{
    int lines = 0;
    while (s && *s && lines < max) {
        char line[256];
        size_t n = 0, fit = 0; /* fit: length up to the last break that fits */
        const char *p = s;
        while (*p && *p != '\n' && n + 1 < sizeof line) {
            line[n] = *p;
            line[n + 1] = 0;
            if (klefr_text_width(f, size, line) > w && n > 0)
                break;
            n++;
            p++;
            if (*p == ' ' || *p == '\n' || !*p)
                fit = n;
        }
        if (*p && *p != '\n' && fit > 0)
            n = fit; /* break at the last space */
        line[n] = 0;
        klefr_cv_text(c, f, x, y + (float)lines * lh, size, col, KLEFR_ALIGN_LEFT, line);
        lines++;
        s += n;
        while (*s == ' ')
            s++;
        if (*s == '\n')
            s++;
    }
    return lines;
}

static void hint_line(const klefr_panel_view *v, char *out, int size)
{
    char h[96];
    if (v->ov.hint_text && *v->ov.hint_text)
        snprintf(h, sizeof h, "%s", v->ov.hint_text);
    else
        klefr_panel_hint_text(v->ov.hint_buttons, v->ov.hint_hold_s, h, sizeof h);
    snprintf(out, (size_t)size, "%s%s", *h ? "Next: " : "", h);
}

static const char *title_of(const klefr_panel_view *v, char *buf, int size)
{
    if (v->ov.title && *v->ov.title)
        return v->ov.title;
    snprintf(buf, (size_t)size, "KLEFR %d", (int)v->model);
    return buf;
}

/* Sizes of one layout of the overlay, in layout units. */
typedef struct {
    float x, y, w, h;
    float title, text, text_lh, small;
    int text_lines;
    float trail_y, hint_y, wait_y, wait_x;
} box_geo;

static box_geo box_at(const klefr_panel_layout *L, const klefr_geo *g)
{
    const cJSON *J = L->json;
    if (g->mode == KLEFR_MODE_PRESENT) {
        float top = g->top;
        return (box_geo){.x = g->side_x,
                         .y = top + jnum(J, "present.title_y", 50),
                         .w = g->side_w,
                         .title = 34,
                         .text = 23,
                         .text_lh = 31,
                         .small = 20,
                         .text_lines = 8,
                         .trail_y = top + jnum(J, "present.trail_y", 350),
                         .hint_y = top + jnum(J, "present.hint_y", 398),
                         .wait_y = top + jnum(J, "present.nav_y", 420) + 31,
                         .wait_x = g->side_x + 306};
    }
    float x = jnum(J, "side.caption.x", 812), y = jnum(J, "side.caption.y", 18),
          w = jnum(J, "side.caption.w", 568), h = jnum(J, "side.caption.h", 470);
    return (box_geo){.x = x + 18,
                     .y = y,
                     .w = w - 36,
                     .h = h,
                     .title = 24,
                     .text = 18,
                     .text_lh = 25,
                     .small = 17,
                     .text_lines = 9,
                     .trail_y = y + h - 132,
                     .hint_y = y + h - 80,
                     .wait_y = y + h - 32,
                     .wait_x = x + 18};
}

void klefr_caption_draw(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                        const klefr_geo *g, int layer)
{
    const cJSON *J = L->json;
    box_geo b = box_at(L, g);
    uint32_t txt = jcol(J, "side.text", 0xffe8eaed), dim = jcol(J, "side.dim", 0xff9aa3ad),
             accent = jcol(J, "side.accent", 0xff6fb4f2), hint = jcol(J, "meter.hint_color", 0xffff8a00);
    if (layer & KLEFR_ST) {
        if (g->mode == KLEFR_MODE_FULL) {
            float x = jnum(J, "side.caption.x", 812), y = jnum(J, "side.caption.y", 18),
                  w = jnum(J, "side.caption.w", 568), h = jnum(J, "side.caption.h", 470);
            klefr_cv_rrect(c, x, y, w, h, 10, jcol(J, "side.caption_card", 0xff2f3a4a));
            klefr_cv_rect(c, x, y + 14, 5, h - 28, accent);
        }
    }
    if (!(layer & KLEFR_DY))
        return;
    char buf[256];
    bool present = g->mode == KLEFR_MODE_PRESENT;
    float ty = b.y + (present ? 0 : 40);
    klefr_cv_text(c, &klefr_font_bold, b.x, ty, b.title, txt, KLEFR_ALIGN_LEFT,
                  title_of(v, buf, sizeof buf));
    const char *text = v->ov.text;
    if (present && !(text && *text) && !(v->ov.title && *v->ov.title))
        text = "Click a button on the meter for a short press, or hold it: the ring round it "
               "fills in 5 s, with marks at 3 s and 5 s.\nF11 goes back to the full panel; I "
               "shows a few readings here.";
    wrap(c, &klefr_font_regular, b.x, ty + b.text_lh * (present ? 1.6f : 1.35f), b.text,
         b.text_lh, b.w, present && text == v->ov.text ? txt : dim, text, b.text_lines);
    if (v->ov.trail && *v->ov.trail) {
        snprintf(buf, sizeof buf, "Menu: %s", v->ov.trail);
        wrap(c, &klefr_font_regular, b.x, b.trail_y, b.small, b.small * 1.3f, b.w, accent, buf,
             2);
    }
    hint_line(v, buf, sizeof buf);
    if (*buf)
        wrap(c, &klefr_font_bold, b.x, b.hint_y, b.small * 1.3f, b.small * 1.6f, b.w, hint, buf,
             1);
    if (v->ov.nav) {
        klefr_button_box(c, L, v, g, KLEFR_CTL_BACK, "Back", false, true);
        klefr_button_box(c, L, v, g, KLEFR_CTL_NEXT, "Next", v->ov.waiting, true);
    }
    if (v->ov.waiting)
        klefr_cv_text(c, &klefr_font_regular, b.wait_x, b.wait_y, b.small * 0.85f, dim,
                      KLEFR_ALIGN_LEFT, "paused: Space or Next goes on");
}

/* A few readings under the caption (key I in the presentation layout). */
void klefr_present_readings(klefr_canvas *c, const klefr_panel_layout *L,
                            const klefr_panel_view *v, const klefr_geo *g)
{
    const cJSON *J = L->json;
    uint32_t txt = jcol(J, "side.text", 0xffe8eaed), dim = jcol(J, "side.dim", 0xff9aa3ad);
    const klefr_meter *m = v->m;
    bool ok = m && v->powered && m->meas.valid;
    char val[6][40];
    static const char *const label[6] = {"P", "V", "I", "Import", "Export", "Tariff"};
    for (int k = 0; k < 6; k++)
        snprintf(val[k], sizeof val[k], "--");
    if (ok) {
        snprintf(val[0], sizeof val[0], "%.1f W", m->meas.p_w);
        snprintf(val[1], sizeof val[1], "%.1f V", m->meas.v_rms);
        snprintf(val[2], sizeof val[2], "%.3f A", m->meas.i_rms);
    }
    if (m) {
        const klefr_regs *r = &m->regs;
        snprintf(val[3], sizeof val[3], "%.2f kWh",
                 (double)(r->act_fwd_uwh[0] + r->act_fwd_uwh[1]) / 1e9);
        snprintf(val[4], sizeof val[4], "%.2f kWh",
                 (double)(r->act_rev_uwh[0] + r->act_rev_uwh[1]) / 1e9);
        if (v->powered)
            snprintf(val[5], sizeof val[5], "T%u", (unsigned)m->tariff);
    }
    float y0 = g->top + jnum(J, "present.readings_y", 512), colw = g->side_w / 3;
    for (int k = 0; k < 6; k++) { /* two rows of three */
        float x = g->side_x + (float)(k % 3) * colw, y = y0 + (float)(k / 3) * 24;
        klefr_cv_text(c, &klefr_font_regular, x, y, 16, dim, KLEFR_ALIGN_LEFT, label[k]);
        klefr_cv_text(c, &klefr_font_bold, x + colw - 20, y, 17, txt, KLEFR_ALIGN_RIGHT, val[k]);
    }
}
