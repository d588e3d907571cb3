/* The panel's look: assets, the LCD glass, the meter and the side cards,
 * drawn as a static layer and dynamic parts (panel_draw.h). */
#include "panel_draw_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define jget klefr_pj_get
#define jnum klefr_pj_num
#define jcol klefr_pj_col
#define jstr klefr_pj_str
#define ST KLEFR_ST
#define DY KLEFR_DY

/* ---- assets ---------------------------------------------------------- */

const cJSON *klefr_pj_get(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

float klefr_pj_num(const cJSON *o, const char *path, float def)
{
    const cJSON *j = jget(o, path);
    return cJSON_IsNumber(j) ? (float)j->valuedouble : def;
}

uint32_t klefr_pj_col(const cJSON *o, const char *path, uint32_t def)
{
    const cJSON *j = jget(o, path);
    return cJSON_IsString(j) ? (uint32_t)strtoul(j->valuestring, NULL, 16) : def;
}

const char *klefr_pj_str(const cJSON *o, const char *path, const char *def)
{
    const cJSON *j = jget(o, path);
    return cJSON_IsString(j) ? j->valuestring : def;
}

static int poly_load(klefr_poly *p, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 3)
        return -1;
    p->xy = calloc((size_t)n * 2, sizeof *p->xy);
    if (!p->xy)
        return -1;
    p->n = n;
    for (int k = 0; k < n; k++) {
        const cJSON *pt = cJSON_GetArrayItem(arr, k);
        p->xy[2 * k] = (float)cJSON_GetArrayItem(pt, 0)->valuedouble;
        p->xy[2 * k + 1] = (float)cJSON_GetArrayItem(pt, 1)->valuedouble;
    }
    return 0;
}

static int segset_load(klefr_segset *s, const cJSON *o, const char *const *names, int n)
{
    s->w = jnum(o, "w", 0);
    s->h = jnum(o, "h", 0);
    const cJSON *segs = jget(o, "segments");
    for (int k = 0; k < n; k++)
        if (poly_load(&s->seg[k], cJSON_GetObjectItemCaseSensitive(segs, names[k])) != 0)
            return -1;
    return 0;
}

static const struct {
    const char *name;
    uint32_t bit;
} icon_bits[] = {{"T1", KLEFR_ICON_T1},     {"T2", KLEFR_ICON_T2},     {"FW", KLEFR_ICON_FW},
                 {"RV", KLEFR_ICON_RV},     {"COMM", KLEFR_ICON_COMM}, {"K", KLEFR_ICON_K},
                 {"W", KLEFR_ICON_W},       {"VAR", KLEFR_ICON_VAR},   {"H", KLEFR_ICON_H},
                 {"V", KLEFR_ICON_V},       {"A", KLEFR_ICON_A},       {"HZ", KLEFR_ICON_HZ},
                 {"NEXT", KLEFR_ICON_NEXT}, {"BACK", KLEFR_ICON_BACK}, {"LOCK", KLEFR_ICON_LOCK}};

static cJSON *read_json(const char *dir, const char *name, char *err, int errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, (size_t)errlen, "cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
    fclose(f);
    cJSON *j = NULL;
    if (buf) {
        buf[got] = 0;
        j = cJSON_Parse(buf);
        free(buf);
    }
    if (!j)
        snprintf(err, (size_t)errlen, "%s: not valid JSON", path);
    return j;
}

int klefr_panel_layout_load(klefr_panel_layout *L, const char *dir, char *err, int errlen)
{
    static const char *const n7[] = {"a", "b", "c", "d", "e", "f", "g", "dp"};
    static const char *const n14[] = {"a", "b", "c", "d", "e", "f", "g1", "g2",
                                      "h", "i", "j", "k", "l", "m", "dp"};
    memset(L, 0, sizeof *L);
    cJSON *lcd = read_json(dir, "lcd.json", err, errlen);
    if (!lcd)
        return -1;
    L->json = read_json(dir, "panel.json", err, errlen);
    if (!L->json) {
        cJSON_Delete(lcd);
        return -1;
    }
    L->glass_w = jnum(lcd, "glass.w", 300);
    L->glass_h = jnum(lcd, "glass.h", 170);
    L->glass_r = jnum(lcd, "glass.radius", 5);
    L->digits_x = jnum(lcd, "digits.x", 0);
    L->digits_y = jnum(lcd, "digits.y", 0);
    L->digits_pitch = jnum(lcd, "digits.pitch", 30);
    L->chars_x = jnum(lcd, "chars.x", 0);
    L->chars_y = jnum(lcd, "chars.y", 0);
    L->chars_pitch = jnum(lcd, "chars.pitch", 25);
    int rc = 0;
    if (segset_load(&L->digit, jget(lcd, "digit"), n7, 8) ||
        segset_load(&L->chr, jget(lcd, "char14"), n14, 15)) {
        snprintf(err, (size_t)errlen, "%s/lcd.json: bad digit or char14 segments", dir);
        rc = -1;
    }
    const cJSON *icon;
    cJSON_ArrayForEach(icon, jget(lcd, "icons"))
    {
        if (rc || L->nicons == KLEFR_PANEL_MAX_ICONS)
            break;
        klefr_lcd_icon *ic = &L->icons[L->nicons];
        const char *bit = jstr(icon, "bit", "");
        for (size_t k = 0; k < sizeof icon_bits / sizeof icon_bits[0]; k++)
            if (!strcmp(bit, icon_bits[k].name))
                ic->bit = icon_bits[k].bit;
        if (!ic->bit) {
            snprintf(err, (size_t)errlen, "%s/lcd.json: unknown icon bit '%s'", dir, bit);
            rc = -1;
            break;
        }
        snprintf(ic->text, sizeof ic->text, "%s", jstr(icon, "text", ""));
        ic->x = jnum(icon, "x", 0);
        ic->y = jnum(icon, "y", 0);
        ic->size = jnum(icon, "size", 16);
        const cJSON *p;
        cJSON_ArrayForEach(p, jget(icon, "polys"))
        {
            if (ic->npolys < KLEFR_PANEL_ICON_POLYS && poly_load(&ic->polys[ic->npolys], p) == 0)
                ic->npolys++;
        }
        L->nicons++;
    }
    cJSON_Delete(lcd);
    if (rc)
        klefr_panel_layout_free(L);
    return rc;
}

void klefr_panel_layout_free(klefr_panel_layout *L)
{
    for (int k = 0; k < 15; k++) {
        free(L->digit.seg[k].xy);
        free(L->chr.seg[k].xy);
    }
    for (int k = 0; k < L->nicons; k++)
        for (int j = 0; j < L->icons[k].npolys; j++)
            free(L->icons[k].polys[j].xy);
    cJSON_Delete(L->json);
    memset(L, 0, sizeof *L);
}

/* ---- LCD --------------------------------------------------------------- */

static void poly_at(klefr_canvas *c, const klefr_poly *p, float x, float y, float k, uint32_t color)
{
    float xy[2 * 64];
    int n = p->n > 64 ? 64 : p->n;
    for (int j = 0; j < n; j++) {
        xy[2 * j] = x + p->xy[2 * j] * k;
        xy[2 * j + 1] = y + p->xy[2 * j + 1] * k;
    }
    klefr_cv_poly(c, xy, n, color);
}

static uint32_t with_alpha(uint32_t rgb, float a)
{
    return (rgb & 0xffffffu) | (uint32_t)(a * 255.0f + 0.5f) << 24;
}

/* The glass at (x, y), scaled by k. A set bit is a dark segment; unset ones
 * stay faintly visible, as on real glass. */
static void draw_glass(klefr_canvas *c, const klefr_panel_layout *L, float x, float y, float k,
                       const klefr_lcd_fb *fb, bool backlight, bool powered)
{
    const cJSON *J = L->json;
    bool lit = backlight && powered;
    uint32_t g0 =
        lit ? jcol(J, "meter.glass_lit", 0xff6fb4f2) : jcol(J, "meter.glass_off", 0xffaab4a6);
    uint32_t g1 =
        lit ? jcol(J, "meter.glass_lit2", 0xff3f86d8) : jcol(J, "meter.glass_off2", 0xff99a596);
    uint32_t seg =
        lit ? jcol(J, "meter.seg_on_bl", 0xff0a1838) : jcol(J, "meter.seg_off_bl", 0xff101810);
    float unlit = jnum(J, "meter.unlit_alpha", 0.085f);
    klefr_cv_rrect_grad(c, x, y, L->glass_w * k, L->glass_h * k, L->glass_r * k, g0, g1);
    /* a soft sheen on the upper part of the glass */
    klefr_cv_rrect_grad(c, x + 2 * k, y + 2 * k, L->glass_w * k - 4 * k, L->glass_h * k * 0.45f,
                        L->glass_r * k, 0x16ffffffu, 0x00ffffffu);
    uint32_t on = with_alpha(seg, 0.9f), off = with_alpha(seg, unlit);
    klefr_lcd_fb blank = {0};
    if (!powered)
        fb = &blank;
    /* pass 0: the shadow a dark segment casts on the reflector behind the
     * liquid crystal (offset down-right); pass 1: the segments */
    uint32_t shadow = with_alpha(seg, lit ? jnum(J, "meter.shadow_alpha_lit", 0.07f)
                                          : jnum(J, "meter.shadow_alpha", 0.14f));
    float so = jnum(J, "meter.shadow_offset", 1.4f) * k;
    for (int pass = 0; pass < 2; pass++) {
        float dx = pass ? 0 : so;
        for (int d = 0; d < KLEFR_LCD_DIGITS; d++)
            for (int s = 0; s < 8; s++) {
                bool set = fb->digits[d] >> s & 1u;
                if (pass || set)
                    poly_at(c, &L->digit.seg[s],
                            x + dx + (L->digits_x + (float)d * L->digits_pitch) * k,
                            y + dx + L->digits_y * k, k, pass ? (set ? on : off) : shadow);
            }
        for (int d = 0; d < KLEFR_LCD_CHARS; d++)
            for (int s = 0; s < 15; s++) {
                bool set = fb->chars[d] >> s & 1u;
                if (pass || set)
                    poly_at(c, &L->chr.seg[s],
                            x + dx + (L->chars_x + (float)d * L->chars_pitch) * k,
                            y + dx + L->chars_y * k, k, pass ? (set ? on : off) : shadow);
            }
        for (int i = 0; i < L->nicons; i++) {
            const klefr_lcd_icon *ic = &L->icons[i];
            bool set = fb->icons & ic->bit;
            if (!pass && !set)
                continue;
            uint32_t col = pass ? (set ? on : off) : shadow;
            for (int j = 0; j < ic->npolys; j++)
                poly_at(c, &ic->polys[j], x + dx, y + dx, k, col);
            if (ic->text[0])
                klefr_cv_text(c, &klefr_font_bold, x + dx + ic->x * k, y + dx + ic->y * k,
                              ic->size * k, col, KLEFR_ALIGN_LEFT, ic->text);
        }
    }
}

void klefr_panel_draw_lcd(klefr_canvas *c, const klefr_panel_layout *L, const klefr_lcd_fb *fb,
                          bool backlight, bool powered)
{
    klefr_canvas_clear(c, 0xff3a3d40);
    float m = 6;
    float s = fminf((float)c->w / (L->glass_w + 2 * m), (float)c->h / (L->glass_h + 2 * m));
    c->scale = s;
    c->ox = ((float)c->w - (L->glass_w + 2 * m) * s) / 2;
    c->oy = ((float)c->h - (L->glass_h + 2 * m) * s) / 2;
    draw_glass(c, L, m, m, 1.0f, fb, backlight, powered);
}

/* ---- the meter ------------------------------------------------------------ */

static void screw(klefr_canvas *c, float x, float y, float r)
{
    klefr_cv_circle(c, x, y + 1.5f, r + 2, 0x40000000u);
    klefr_cv_circle(c, x, y, r, 0xff9ea3a8);
    klefr_cv_circle(c, x, y, r * 0.86f, 0xffc4c8cc);
    klefr_cv_line(c, x - r * 0.62f, y - r * 0.62f, x + r * 0.62f, y + r * 0.62f, r * 0.22f,
                  0xff5d6166);
    klefr_cv_line(c, x - r * 0.62f, y + r * 0.62f, x + r * 0.62f, y - r * 0.62f, r * 0.22f,
                  0xff5d6166);
}

static void terminal(klefr_canvas *c, float x, float y, float w, float h, float r,
                     const char *label, float label_size)
{
    klefr_cv_rrect(c, x - w / 2, y - h / 2, w, h, 4, 0xff2f3236);
    klefr_cv_rrect(c, x - w / 2 + 2, y - h / 2 + 2, w - 4, h - 4, 3, 0xff45494e);
    screw(c, x, y, r);
    if (label)
        klefr_cv_text(c, &klefr_font_bold, x, y - h / 2 - 8, label_size, 0xff3b3f44,
                      KLEFR_ALIGN_CENTER, label);
}

static const char *model_str(klefr_model m)
{
    switch (m) {
    case KLEFR_MODEL_6921:
        return "6921";
    case KLEFR_MODEL_6922:
        return "6922";
    case KLEFR_MODEL_6923:
        return "6923 M-bus";
    case KLEFR_MODEL_6924:
        return "6924 Modbus";
    }
    return "692x";
}

typedef struct {
    float mx, my, mw, mh; /* housing */
    float lx, ly;         /* LCD glass */
    float ledx, ledy, ledr;
} meter_geo;

static meter_geo meter_at(const klefr_panel_layout *L)
{
    const cJSON *J = L->json;
    meter_geo m = {.mx = jnum(J, "meter.x", 0),
                   .my = jnum(J, "meter.y", 0),
                   .mw = jnum(J, "meter.w", 358),
                   .mh = jnum(J, "meter.h", 925)};
    m.lx = m.mx + jnum(J, "meter.lcd.x", 29);
    m.ly = m.my + jnum(J, "meter.lcd.y", 300);
    m.ledx = m.mx + jnum(J, "meter.led.x", 60);
    m.ledy = m.my + jnum(J, "meter.led.y", 520);
    m.ledr = jnum(J, "meter.led.r", 9);
    return m;
}

static void draw_button(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                        int which)
{
    const cJSON *J = L->json;
    const cJSON *b = cJSON_GetArrayItem(jget(J, "meter.buttons"), which);
    float x = jnum(J, "meter.x", 0) + jnum(b, "x", 0), y = jnum(J, "meter.y", 0) + jnum(b, "y", 0);
    float r = jnum(b, "r", 20), ring = jnum(b, "ring", 32);
    bool held = v->held & (which ? KLEFR_BTN_RIGHT : KLEFR_BTN_LEFT);
    bool hover = v->hover == (which ? KLEFR_CTL_BTN_RIGHT : KLEFR_CTL_BTN_LEFT);
    /* the hold ring: a track with marks at 3 s and 5 s, filling while held */
    klefr_cv_ring(c, x, y, ring, 5, 0, 2 * (float)M_PI, 0x22000000u);
    double t = held ? v->hold_s[which] : 0;
    if (held) {
        uint32_t col = t >= 5 ? 0xff2fa84f : t >= 3 ? 0xffe59a1c : 0xff3f86d8;
        float frac = (float)fmin(t / 5.0, 1.0); /* full ring = 5 s */
        klefr_cv_ring(c, x, y, ring, 5, 0, frac * 2 * (float)M_PI, col);
        char s[16];
        snprintf(s, sizeof s, "%.1f s", t);
        klefr_cv_text(c, &klefr_font_bold, x, y + ring + 22, 15, 0xff2b2f36, KLEFR_ALIGN_CENTER, s);
    }
    for (int k = 3; k <= 5; k += 2) {
        float a = (float)k / 5.0f * 2 * (float)M_PI;
        bool passed = held && t >= k;
        klefr_cv_line(c, x + (ring - 6) * sinf(a), y - (ring - 6) * cosf(a),
                      x + (ring + 6) * sinf(a), y - (ring + 6) * cosf(a), 2.2f,
                      passed ? 0xff1d6b33 : 0xff6a6f75);
        char s[4];
        snprintf(s, sizeof s, "%ds", k);
        klefr_cv_text(c, &klefr_font_regular, x + (ring + 13) * sinf(a),
                      y - (ring + 13) * cosf(a) + 5, 12, 0xff5a5f66, KLEFR_ALIGN_CENTER, s);
    }
    /* the button a trainer's hint names next: an orange ring round the cap */
    if (v->ov.hint_buttons & (which ? KLEFR_BTN_RIGHT : KLEFR_BTN_LEFT))
        klefr_cv_ring(c, x, y, r + 5.5f, 3.5f, 0, 2 * (float)M_PI,
                      jcol(J, "meter.hint_color", 0xffff8a00));
    /* the key cap */
    klefr_cv_circle(c, x, y + 2.5f, r + 1.5f, 0x50000000u);
    uint32_t top = held ? 0xff8d949c : hover ? 0xffc7ccd1 : 0xffb9bfc5;
    uint32_t bot = held ? 0xff9aa1a8 : 0xff8f969d;
    klefr_cv_rrect_grad(c, x - r, y - r + (held ? 1.5f : 0), 2 * r, 2 * r, r, top, bot);
    float tri = r * 0.42f, dir = which ? 1.0f : -1.0f, oy = held ? 1.5f : 0;
    float p[6] = {x + dir * tri,        y + oy,      x - dir * tri * 0.7f, y - tri + oy,
                  x - dir * tri * 0.7f, y + tri + oy};
    klefr_cv_poly(c, p, 3, 0xff3b3f44);
}

static void meter_static(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    const cJSON *J = L->json;
    meter_geo g = meter_at(L);
    float mx = g.mx, my = g.my, mw = g.mw, mh = g.mh, lx = g.lx, ly = g.ly, ledx = g.ledx,
          ledy = g.ledy, ledr = g.ledr;
    uint32_t body = jcol(J, "meter.body", 0xffe4e5e0),
             shade = jcol(J, "meter.body_shade", 0xffc9cac4);
    float fy = my + jnum(J, "meter.front_y", 240), fh = jnum(J, "meter.front_h", 450);
    /* shadow, DIN rail behind, body */
    klefr_cv_rect(c, mx - 30, my + mh / 2 - 175, mw + 60, 350, 0xff8c9096);
    klefr_cv_rect(c, mx - 30, my + mh / 2 - 175, mw + 60, 16, 0xffa9adb2);
    klefr_cv_rect(c, mx - 30, my + mh / 2 + 159, mw + 60, 16, 0xff6f7378);
    klefr_cv_rrect(c, mx + 6, my + 10, mw, mh, jnum(J, "meter.radius", 14), 0x55000000u);
    klefr_cv_rrect_grad(c, mx, my, mw, mh, jnum(J, "meter.radius", 14), body, shade);
    /* the raised front (45 mm DIN profile) */
    klefr_cv_rect(c, mx, fy - 6, mw, 6, 0x22000000u);
    klefr_cv_rect(c, mx, fy + fh, mw, 8, 0x30000000u);
    klefr_cv_rrect_grad(c, mx + 8, fy, mw - 16, fh, 8, jcol(J, "meter.front", 0xffeeefeb), body);
    /* terminals: small row (bus, tariff input, S0) and the main clamps */
    const cJSON *ts = jget(J, "meter.terminals_small");
    float tsy = my + jnum(ts, "y", 70), tsx = mx + jnum(ts, "x0", 32), tsp = jnum(ts, "pitch", 42);
    const cJSON *lab;
    int k = 0;
    cJSON_ArrayForEach(lab, jget(ts, "labels"))
    {
        terminal(c, tsx + (float)k * tsp, tsy, tsp - 6, 44, 10, lab->valuestring, 15);
        k++;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, jget(J, "meter.terminals_top")) terminal(
        c, mx + jnum(t, "x", 0), my + jnum(t, "y", 0), 120, 84, 24, jstr(t, "label", ""), 18);
    cJSON_ArrayForEach(t, jget(J, "meter.terminals_bottom")) terminal(
        c, mx + jnum(t, "x", 0), my + jnum(t, "y", 0), 120, 84, 24, jstr(t, "label", ""), 18);
    for (int o = 0; o < 2; o++) {
        const cJSON *s = cJSON_GetArrayItem(jget(J, "meter.s0"), o);
        float x = mx + jnum(s, "x", 0), y = my + jnum(s, "y", 0);
        klefr_cv_circle(c, x - 27, y - 4, 5.5f, 0xff5d6166);
        klefr_cv_text(c, &klefr_font_bold, x - 19, y + 1, 12, 0xff3b3f44, KLEFR_ALIGN_LEFT,
                      jstr(s, "label", ""));
    }
    /* brand and model */
    klefr_cv_text(c, &klefr_font_bold, mx + 30, fy + 40, 30, 0xff1f4e8c, KLEFR_ALIGN_LEFT, "KLEFR");
    klefr_cv_text(c, &klefr_font_bold, mx + mw - 30, fy + 38, 17, 0xff3b3f44, KLEFR_ALIGN_RIGHT,
                  model_str(v->model));
    /* the LCD in its bezel */
    klefr_cv_rrect(c, lx - 9, ly - 9, L->glass_w + 18, L->glass_h + 18, 9,
                   jcol(J, "meter.lcd_bezel", 0xff3a3d40));
    klefr_cv_rrect(c, lx - 3, ly - 3, L->glass_w + 6, L->glass_h + 6, 6, 0xff202326);
    /* red pulse LED and its rate, the IR port */
    klefr_cv_circle(c, ledx, ledy, ledr + 3, 0xff8a8f95);
    klefr_cv_text(c, &klefr_font_regular, ledx + ledr + 10, ledy + 6, 15, 0xff3b3f44,
                  KLEFR_ALIGN_LEFT, jstr(J, "meter.led.label", "10000 imp/kWh"));
    float irx = mx + jnum(J, "meter.ir.x", 296), iry = my + jnum(J, "meter.ir.y", 522),
          irr = jnum(J, "meter.ir.r", 16);
    klefr_cv_circle(c, irx, iry, irr + 4, 0xff9ea3a8);
    klefr_cv_circle(c, irx, iry, irr, 0xff1b1d22);
    klefr_cv_circle(c, irx - irr * 0.35f, iry - irr * 0.35f, irr * 0.25f, 0x30ffffffu);
    klefr_cv_text(c, &klefr_font_regular, irx, iry + irr + 18, 12, 0xff5a5f66, KLEFR_ALIGN_CENTER,
                  "IR");
    /* ratings */
    klefr_cv_text(c, &klefr_font_regular, mx + mw / 2, fy + fh - 14, 14, 0xff3b3f44,
                  KLEFR_ALIGN_CENTER, "230 V  5(100) A  50 Hz  class B");
    /* DIN rail clip */
    klefr_cv_rrect(c, mx + mw / 2 - 40, my + mh - 40, 80, 26, 5, 0xffcfd1cc);
    klefr_cv_rect(c, mx + mw / 2 - 16, my + mh - 33, 32, 6, 0xff8f949a);
}

/* S0 outputs: indicator lamps (not on a real meter's front) */
static void meter_s0(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    const cJSON *J = L->json;
    meter_geo g = meter_at(L);
    for (int o = 0; o < 2; o++) {
        const cJSON *s = cJSON_GetArrayItem(jget(J, "meter.s0"), o);
        float x = g.mx + jnum(s, "x", 0), y = g.my + jnum(s, "y", 0);
        bool on = v->powered && v->out_on[o == 0 ? KLEFR_OUT_S0_FWD : KLEFR_OUT_S0_REV];
        klefr_cv_circle(c, x - 27, y - 4, 4, on ? 0xff39e36a : 0xff2d4a35);
        if (on)
            klefr_cv_circle(c, x - 27, y - 4, 9, 0x5539e36a);
    }
}

static void meter_glass(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    meter_geo g = meter_at(L);
    draw_glass(c, L, g.lx, g.ly, 1.0f, &v->lcd, v->backlight, v->powered);
    if (v->backlight && v->powered) /* glow spilling onto the bezel */
        klefr_cv_rrect(c, g.lx - 9, g.ly - 9, L->glass_w + 18, L->glass_h + 18, 9, 0x183f86d8u);
}

static void meter_led(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    meter_geo g = meter_at(L);
    bool led = v->powered && v->out_on[KLEFR_OUT_LED];
    klefr_cv_circle(c, g.ledx, g.ledy, g.ledr, led ? 0xffff2a1a : 0xff6b1f1a);
    if (led) {
        klefr_cv_circle(c, g.ledx, g.ledy, g.ledr * 2.6f, 0x40ff3020u);
        klefr_cv_circle(c, g.ledx - 2, g.ledy - 2, g.ledr * 0.4f, 0xc0ffd0c0u);
    }
}

/* ---- side panel ------------------------------------------------------------ */

void klefr_card(klefr_canvas *c, const klefr_panel_layout *L, const char *key, const char *title,
                int layer)
{
    if (!(layer & ST))
        return;
    char p[64];
    snprintf(p, sizeof p, "side.%s.x", key);
    float x = jnum(L->json, p, 0);
    snprintf(p, sizeof p, "side.%s.y", key);
    float y = jnum(L->json, p, 0);
    snprintf(p, sizeof p, "side.%s.w", key);
    float w = jnum(L->json, p, 0);
    snprintf(p, sizeof p, "side.%s.h", key);
    float h = jnum(L->json, p, 0);
    klefr_cv_rrect(c, x, y, w, h, 10, jcol(L->json, "side.card", 0xff363b44));
    klefr_cv_text(c, &klefr_font_bold, x + 16, y + 28, 17, jcol(L->json, "side.dim", 0xff9aa3ad),
                  KLEFR_ALIGN_LEFT, title);
}

static void row(klefr_canvas *c, const klefr_panel_layout *L, float x, float y, float w,
                const char *label, const char *value, const char *unit)
{
    klefr_cv_text(c, &klefr_font_regular, x, y, 17, jcol(L->json, "side.dim", 0xff9aa3ad),
                  KLEFR_ALIGN_LEFT, label);
    klefr_cv_text(c, &klefr_font_bold, x + w - 62, y, 18, jcol(L->json, "side.text", 0xffe8eaed),
                  KLEFR_ALIGN_RIGHT, value);
    klefr_cv_text(c, &klefr_font_regular, x + w - 56, y, 16, jcol(L->json, "side.dim", 0xff9aa3ad),
                  KLEFR_ALIGN_LEFT, unit);
}

static void draw_readings(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                          int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.readings.x", 0) + 18, y = jnum(J, "side.readings.y", 0) + 58,
          w = jnum(J, "side.readings.w", 360) - 36;
    klefr_card(c, L, "readings", "Readings", layer);
    if (!(layer & DY))
        return;
    const klefr_meter *m = v->m;
    bool ok = m && v->powered && m->meas.valid;
    char b[48];
    const float dy = 22.0f;
    if (v->overload) /* ADC clipping: the load is beyond the meter's range */
        klefr_cv_text(c, &klefr_font_bold, x + w, y - 30, 16, 0xffff5a4e, KLEFR_ALIGN_RIGHT,
                      "ADC OVERLOAD");
#define VAL(fmt, x_) (ok ? (snprintf(b, sizeof b, fmt, x_), b) : "--")
    row(c, L, x, y, w, "Voltage", VAL("%.1f", m->meas.v_rms), "V");
    row(c, L, x, y += dy, w, "Current", VAL("%.3f", m->meas.i_rms), "A");
    row(c, L, x, y += dy, w, "Frequency", VAL("%.2f", m->meas.freq_hz), "Hz");
    row(c, L, x, y += dy, w, "Active power P", VAL("%.1f", m->meas.p_w), "W");
    row(c, L, x, y += dy, w, "Reactive power Q", VAL("%.1f", m->meas.q_var), "var");
    row(c, L, x, y += dy, w, "Apparent power S", VAL("%.1f", m->meas.s_va), "VA");
    if (ok)
        snprintf(b, sizeof b, "%.3f %s", m->meas.pf,
                 fabsf(m->meas.q_var) < 0.5f                 ? ""
                 : (m->meas.q_var > 0) == (m->meas.p_w >= 0) ? "L"
                                                             : "C");
    row(c, L, x, y += dy, w, "Power factor", ok ? b : "--", "");
    row(c, L, x, y += dy, w, "Quadrant", VAL("Q%u", (unsigned)m->meas.quadrant), "");
    if (m && v->powered)
        snprintf(b, sizeof b, "T%u%s", (unsigned)m->tariff,
                 v->model == KLEFR_MODEL_6922 ? (v->t2_input ? " (in: T2)" : " (in: T1)") : "");
    row(c, L, x, y += dy, w, "Tariff", m && v->powered ? b : "--", "");
    y += 8;
    klefr_cv_line(c, x, y, x + w, y, 1, 0xff4a505a);
    y += 6;
    const klefr_regs *r = m ? &m->regs : NULL;
#define KWH(v_) (r ? (snprintf(b, sizeof b, "%.2f", (double)(v_) / 1e9), b) : "--")
    row(c, L, x, y += dy, w, "Import T1", KWH(r->act_fwd_uwh[0]), "kWh");
    row(c, L, x, y += dy, w, "Import T2", KWH(r->act_fwd_uwh[1]), "kWh");
    row(c, L, x, y += dy, w, "Import total", KWH(r->act_fwd_uwh[0] + r->act_fwd_uwh[1]), "kWh");
    row(c, L, x, y += dy, w, "Export total", KWH(r->act_rev_uwh[0] + r->act_rev_uwh[1]), "kWh");
    row(c, L, x, y += dy, w, "Reactive Q+", KWH(r->react_fwd_uvarh[0] + r->react_fwd_uvarh[1]),
        "kvarh");
    row(c, L, x, y += dy, w, "Reactive Q-", KWH(r->react_rev_uvarh[0] + r->react_rev_uvarh[1]),
        "kvarh");
    y += 8;
    klefr_cv_line(c, x, y, x + w, y, 1, 0xff4a505a);
    y += 6;
    snprintf(b, sizeof b, "%llu", (unsigned long long)v->out_count[KLEFR_OUT_LED]);
    row(c, L, x, y += dy, w, "LED pulses", b, "imp");
    snprintf(b, sizeof b, "%llu / %llu", (unsigned long long)v->out_count[KLEFR_OUT_S0_FWD],
             (unsigned long long)v->out_count[KLEFR_OUT_S0_REV]);
    row(c, L, x, y += dy, w, "S0 FW / RV", b, "imp");
    row(c, L, x, y += dy, w, "Power downs",
        r ? (snprintf(b, sizeof b, "%u", (unsigned)r->power_downs), b) : "--", "");
#undef VAL
#undef KWH
}

static double nice_range(double peak)
{
    static const double steps[] = {1, 2, 5};
    for (double dec = 0.01; dec < 1e7; dec *= 10)
        for (int k = 0; k < 3; k++)
            if (steps[k] * dec >= peak)
                return steps[k] * dec;
    return peak;
}

static void grid(klefr_canvas *c, float x, float y, float w, float h, int nx, int ny)
{
    klefr_cv_rect(c, x, y, w, h, 0xff23272e);
    for (int k = 1; k < nx; k++)
        klefr_cv_line(c, x + w * (float)k / (float)nx, y, x + w * (float)k / (float)nx, y + h, 1,
                      0xff343a44);
    for (int k = 1; k < ny; k++)
        klefr_cv_line(c, x, y + h * (float)k / (float)ny, x + w, y + h * (float)k / (float)ny, 1,
                      k * 2 == ny ? 0xff4a525e : 0xff343a44);
}

static void draw_scope(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                       int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.scope.x", 0) + 16, y = jnum(J, "side.scope.y", 0) + 42,
          w = jnum(J, "side.scope.w", 500) - 32, h = jnum(J, "side.scope.h", 250) - 58;
    klefr_card(c, L, "scope", "Scope (ADC, 40 ms)", layer);
    if (layer & ST)
        grid(c, x, y, w, h, 8, 4);
    if (!(layer & DY))
        return;
    enum { SHOW = 160 }; /* 40 ms at 4 kHz */
    if (!v->powered) /* the samples of a cut supply are zeros (sim.c): flat lines */
        klefr_cv_text(c, &klefr_font_bold, x + w / 2, y + h / 4, 22,
                      jcol(J, "side.alarm", 0xffe0604a), KLEFR_ALIGN_CENTER, "SUPPLY CUT");
    if (!v->scope_v || v->scope_n < 2 * SHOW || v->scope_cap < 2 * SHOW)
        return;
    /* trigger on the last rising zero crossing of V that leaves SHOW samples */
    uint64_t end = v->scope_n - SHOW,
             start = v->scope_n > v->scope_cap ? v->scope_n - v->scope_cap : 0;
    uint64_t trig = end;
    for (uint64_t n = end; n > start + 1; n--) {
        if (v->scope_v[(n - 1) % v->scope_cap] < 0 && v->scope_v[n % v->scope_cap] >= 0) {
            trig = n;
            break;
        }
    }
    double ipeak = 0;
    for (unsigned k = 0; k < SHOW; k++)
        ipeak = fmax(ipeak, fabs(v->scope_i[(trig + k) % v->scope_cap] / KLEFR_ADC_FULL_SCALE *
                                 KLEFR_I_FULL_SCALE_PEAK));
    double irange = nice_range(fmax(ipeak * 1.05, 0.01)), vrange = 400;
    float pv[2 * SHOW], pi[2 * SHOW];
    for (unsigned k = 0; k < SHOW; k++) {
        float px = x + w * (float)k / (SHOW - 1);
        double vv =
            v->scope_v[(trig + k) % v->scope_cap] / KLEFR_ADC_FULL_SCALE * KLEFR_V_FULL_SCALE_PEAK;
        double ii =
            v->scope_i[(trig + k) % v->scope_cap] / KLEFR_ADC_FULL_SCALE * KLEFR_I_FULL_SCALE_PEAK;
        pv[2 * k] = pi[2 * k] = px;
        pv[2 * k + 1] = y + h / 2 - (float)(vv / vrange) * h / 2;
        pi[2 * k + 1] = y + h / 2 - (float)(ii / irange) * h / 2;
    }
    klefr_cv_polyline(c, pv, SHOW, 2.2f, jcol(J, "side.v_color", 0xfff2c14e));
    klefr_cv_polyline(c, pi, SHOW, 2.2f, jcol(J, "side.i_color", 0xff5ad1a0));
    char b[48];
    snprintf(b, sizeof b, "V  %.0f V/div", vrange / 2);
    klefr_cv_text(c, &klefr_font_bold, x + w - 140, y - 14, 15, jcol(J, "side.v_color", 0),
                  KLEFR_ALIGN_RIGHT, b);
    snprintf(b, sizeof b, "I  %g A/div", irange / 2);
    klefr_cv_text(c, &klefr_font_bold, x + w, y - 14, 15, jcol(J, "side.i_color", 0),
                  KLEFR_ALIGN_RIGHT, b);
}

static void arrow(klefr_canvas *c, float x0, float y0, float x1, float y1, float wd, uint32_t col)
{
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    if (len < 2)
        return;
    float ux = dx / len, uy = dy / len, hl = fminf(14, len * 0.4f);
    klefr_cv_line(c, x0, y0, x1 - ux * hl * 0.8f, y1 - uy * hl * 0.8f, wd, col);
    float p[6] = {x1,
                  y1,
                  x1 - ux * hl - uy * hl * 0.45f,
                  y1 - uy * hl + ux * hl * 0.45f,
                  x1 - ux * hl + uy * hl * 0.45f,
                  y1 - uy * hl - ux * hl * 0.45f};
    klefr_cv_poly(c, p, 3, col);
}

static void draw_phasor(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                        int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.phasor.x", 0), y = jnum(J, "side.phasor.y", 0),
          w = jnum(J, "side.phasor.w", 250), h = jnum(J, "side.phasor.h", 208);
    klefr_card(c, L, "phasor", "Phasors", layer);
    float cx = x + w / 2, cy = y + 36 + (h - 36) / 2, r = fminf(w, h - 36) / 2 - 16;
    if (layer & ST) {
        klefr_cv_ring(c, cx, cy, r, 1.2f, 0, 2 * (float)M_PI, 0xff4a525e);
        klefr_cv_ring(c, cx, cy, r / 2, 1, 0, 2 * (float)M_PI, 0xff3d444e);
        klefr_cv_line(c, cx - r - 6, cy, cx + r + 6, cy, 1, 0xff4a525e);
        klefr_cv_line(c, cx, cy - r - 6, cx, cy + r + 6, 1, 0xff4a525e);
        klefr_cv_text(c, &klefr_font_regular, cx + r + 4, cy - 6, 12, 0xff7d8793, KLEFR_ALIGN_RIGHT,
                      "P");
        klefr_cv_text(c, &klefr_font_regular, cx + 6, cy - r + 10, 12, 0xff7d8793, KLEFR_ALIGN_LEFT,
                      "Q");
    }
    if (!(layer & DY))
        return;
    const klefr_meter *m = v->m;
    unsigned q = m && v->powered && m->meas.valid ? m->meas.quadrant : 0;
    static const float qx[4] = {1, -1, -1, 1}, qy[4] = {-1, -1, 1, 1};
    for (unsigned k = 0; k < 4; k++) {
        char s[4];
        snprintf(s, sizeof s, "Q%u", k + 1);
        klefr_cv_text(c, &klefr_font_bold, cx + qx[k] * r * 0.72f, cy + qy[k] * r * 0.72f + 6, 14,
                      q == k + 1 ? jcol(J, "side.accent", 0) : 0xff5f6874, KLEFR_ALIGN_CENTER, s);
    }
    if (!v->powered) {
        klefr_cv_text(c, &klefr_font_bold, cx, cy - r / 2, 18, jcol(J, "side.alarm", 0xffe0604a),
                      KLEFR_ALIGN_CENTER, "SUPPLY CUT");
        return;
    }
    arrow(c, cx, cy, cx + r * 0.92f, cy, 2.6f, jcol(J, "side.v_color", 0));
    if (q) {
        double phi = atan2(m->meas.q_var, m->meas.p_w);
        double irange = nice_range(fmax(m->meas.i_rms * 1.05, 0.01));
        float len = (float)fmin(m->meas.i_rms / irange, 1.0) * r * 0.92f;
        if (len > 3)
            arrow(c, cx, cy, cx + len * (float)cos(phi), cy - len * (float)sin(phi), 2.6f,
                  jcol(J, "side.i_color", 0));
        char s[32];
        snprintf(s, sizeof s, "%.1f deg", phi * 180 / M_PI);
        klefr_cv_text(c, &klefr_font_regular, x + w - 14, y + 27, 14, 0xffb7c0ca, KLEFR_ALIGN_RIGHT,
                      s);
    }
}

static void draw_trend(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                       int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.trend.x", 0) + 14, y = jnum(J, "side.trend.y", 0) + 40,
          w = jnum(J, "side.trend.w", 300) - 28, h = jnum(J, "side.trend.h", 208) - 54;
    klefr_card(c, L, "trend", "Power trend", layer);
    if (layer & ST)
        grid(c, x, y, w, h, 6, 4);
    if (!(layer & DY))
        return;
    unsigned n = v->trend_n < v->trend_cap ? v->trend_n : v->trend_cap;
    if (!v->trend_p || n < 2)
        return;
    double peak = 1;
    for (unsigned k = 0; k < n; k++) {
        unsigned idx = (v->trend_n - n + k) % v->trend_cap;
        peak = fmax(peak, fmax(fabs(v->trend_p[idx]), fabs(v->trend_q[idx])));
    }
    double range = nice_range(peak * 1.05);
    float pp[2 * 512], pq[2 * 512];
    if (n > 512)
        n = 512;
    for (unsigned k = 0; k < n; k++) {
        unsigned idx = (v->trend_n - n + k) % v->trend_cap;
        float px = x + w - w * (float)(n - 1 - k) / (float)(v->trend_cap - 1);
        pp[2 * k] = pq[2 * k] = px;
        pp[2 * k + 1] = y + h / 2 - (float)(v->trend_p[idx] / range) * h / 2;
        pq[2 * k + 1] = y + h / 2 - (float)(v->trend_q[idx] / range) * h / 2;
    }
    klefr_cv_polyline(c, pq, (int)n, 1.8f, jcol(J, "side.q_color", 0));
    klefr_cv_polyline(c, pp, (int)n, 2.2f, jcol(J, "side.p_color", 0));
    char b[64];
    snprintf(b, sizeof b, "P  Q   +-%g %s", range >= 1000 ? range / 1000 : range,
             range >= 1000 ? "kW" : "W");
    klefr_cv_text(c, &klefr_font_regular, x, y + h + 16, 13, 0xffb7c0ca, KLEFR_ALIGN_LEFT, b);
    snprintf(b, sizeof b, "%.0f s", v->trend_dt_s * (double)(v->trend_cap - 1));
    klefr_cv_text(c, &klefr_font_regular, x + w, y + h + 16, 13, 0xff7d8793, KLEFR_ALIGN_RIGHT, b);
}

void klefr_button_box(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                      const klefr_geo *g, klefr_ctl id, const char *label, bool active,
                      bool enabled)
{
    klefr_rect r = klefr_ctl_rect(L, g, v, id);
    if (r.w <= 0)
        return;
    uint32_t bg = !enabled           ? 0xff30343b
                  : active           ? 0xff3f86d8
                  : v->pressed == id ? 0xff5a6270
                  : v->hover == id   ? 0xff4f5663
                                     : 0xff454b56;
    float size = fminf(17, r.h * 0.4f);
    klefr_cv_rrect(c, r.x, r.y, r.w, r.h, 7, bg);
    klefr_cv_text(c, &klefr_font_bold, r.x + r.w / 2, r.y + r.h / 2 + size * 0.35f, size,
                  enabled ? 0xffffffff : 0xff6b727d, KLEFR_ALIGN_CENTER, label);
}

/* The labels of the speed controls, KLEFR_CTL_SPEED_PAUSE on. */
static const char *const speed_labels[] = {"Pause", "0.25x", "0.5x", "1x", "10x", "100x", "Max"};

static void speed_row(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                      const klefr_geo *g)
{
    for (int k = KLEFR_CTL_SPEED_PAUSE; k <= KLEFR_CTL_SPEED_MAX; k++)
        klefr_button_box(c, L, v, g, (klefr_ctl)k, speed_labels[k - KLEFR_CTL_SPEED_PAUSE],
                         v->speed == klefr_ctl_speed((klefr_ctl)k), true);
}

void klefr_present_speed(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                         const klefr_geo *g)
{
    speed_row(c, L, v, g);
}

static void draw_controls(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                          const klefr_geo *g, int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.controls.x", 0), y = jnum(J, "side.controls.y", 0);
    uint32_t dim = jcol(J, "side.dim", 0xff9aa3ad), txt = jcol(J, "side.text", 0xffffffff);
    klefr_card(c, L, "controls", v->has_load ? "Load and supply" : "Supply (no synthetic load attached)",
         layer);
    const klefr_load *ld = &v->load;
    bool exp = v->has_load && fabs(ld->phi_deg) > 90;
    double phi = exp ? (ld->phi_deg > 0 ? ld->phi_deg - 180 : ld->phi_deg + 180) : ld->phi_deg;
    double pf = cos(phi * M_PI / 180);
    char b[48];
    struct {
        const char *label;
        klefr_ctl down, up;
        float lx;
        float ly;
    } rows[] = {{"Current", KLEFR_CTL_I_DOWN, KLEFR_CTL_I_UP, 24, 78},
                {"Power factor", KLEFR_CTL_PF_DOWN, KLEFR_CTL_PF_UP, 494, 78},
                {"Voltage", KLEFR_CTL_V_DOWN, KLEFR_CTL_V_UP, 24, 136},
                {"Frequency", KLEFR_CTL_F_DOWN, KLEFR_CTL_F_UP, 494, 136}};
    if (layer & ST) {
        for (int k = 0; k < 4; k++)
            klefr_cv_text(c, &klefr_font_regular, x + rows[k].lx, y + rows[k].ly, 17, dim,
                          KLEFR_ALIGN_LEFT, rows[k].label);
        klefr_cv_text(c, &klefr_font_regular, x + 24, y + 262, 17, dim, KLEFR_ALIGN_LEFT, "Speed");
        klefr_cv_text(c, &klefr_font_regular, x + 24, y + 302, 14, dim, KLEFR_ALIGN_LEFT,
                      "Keys: Left / Right = meter buttons (hold); Space, Down or right click = "
                      "both; +/- current; [ ] PF;");
        klefr_cv_text(c, &klefr_font_regular, x + 24, y + 321, 14, dim, KLEFR_ALIGN_LEFT,
                      "E import/export; V / shift+V voltage; , . frequency; T tariff; P supply; "
                      "0-4, 8, 9 speed; F11 present; M caption; F12 screenshot");
    }
    if (!(layer & DY))
        return;
    for (int k = 0; k < 4; k++) {
        klefr_button_box(c, L, v, g, rows[k].down, "-", false, v->has_load);
        klefr_button_box(c, L, v, g, rows[k].up, "+", false, v->has_load);
        klefr_rect rd = klefr_ctl_rect(L, g, v, rows[k].down), ru = klefr_ctl_rect(L, g, v, rows[k].up);
        const char *s = "--";
        if (v->has_load) {
            switch (k) {
            case 0:
                snprintf(b, sizeof b, ld->i_rms < 1 ? "%.3f A" : "%.1f A", ld->i_rms);
                break;
            case 1:
                snprintf(b, sizeof b, fabs(phi) < 0.01 ? "%.2f" : "%.2f %s", pf,
                         phi > 0 ? "ind (L)" : "cap (C)");
                break;
            case 2:
                snprintf(b, sizeof b, "%.0f V", ld->v_rms);
                break;
            default:
                snprintf(b, sizeof b, "%.2f Hz", ld->freq_hz);
                break;
            }
            s = b;
        }
        klefr_cv_text(c, &klefr_font_bold, (rd.x + rd.w + ru.x) / 2, rd.y + 27, 18, txt,
                      KLEFR_ALIGN_CENTER, s);
    }
    klefr_button_box(c, L, v, g, KLEFR_CTL_DIR, exp ? "Flow: EXPORT" : "Flow: import", exp,
                     v->has_load);
    bool has_ti = v->model == KLEFR_MODEL_6922;
    klefr_button_box(c, L, v, g, KLEFR_CTL_TARIFF,
               !has_ti       ? "Tariff input (6922)"
               : v->t2_input ? "Tariff input: T2"
                             : "Tariff input: T1",
               has_ti && v->t2_input, has_ti);
    klefr_button_box(c, L, v, g, KLEFR_CTL_POWER,
                     v->powered ? "Supply ON (cut)" : "Supply OFF (restore)", !v->powered, true);
    speed_row(c, L, v, g);
}

static void draw_status(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                        const klefr_geo *g, int layer)
{
    const cJSON *J = L->json;
    float x = jnum(J, "side.status.x", 0), y = jnum(J, "side.status.y", 0);
    uint32_t dim = jcol(J, "side.dim", 0xff9aa3ad), txt = jcol(J, "side.text", 0xffffffff);
    klefr_card(c, L, "status", "Meter time", layer);
    if (!(layer & DY))
        return;
    char b[160];
    unsigned long long t = (unsigned long long)v->t_s;
    snprintf(b, sizeof b, "%llu d %02llu:%02llu:%02llu", t / 86400, t / 3600 % 24, t / 60 % 60,
             t % 60);
    klefr_cv_text(c, &klefr_font_bold, x + 16, y + 62, 22, txt, KLEFR_ALIGN_LEFT, b);
    if (v->speed == 0)
        snprintf(b, sizeof b, "paused");
    else if (v->speed < 0)
        snprintf(b, sizeof b, "max speed (%.0fx)", v->actual_speed);
    else
        snprintf(b, sizeof b, "%gx (actual %.1fx)", v->speed, v->actual_speed);
    klefr_cv_text(c, &klefr_font_regular, x + 16, y + 88, 16, dim, KLEFR_ALIGN_LEFT, b);
    float px = x + 300;
    klefr_cv_text(c, &klefr_font_bold, px, y + 28, 17, dim, KLEFR_ALIGN_LEFT, "Serial ports");
    if (v->nports == 0)
        klefr_cv_text(c, &klefr_font_regular, px, y + 56, 16, txt, KLEFR_ALIGN_LEFT, "none");
    for (int k = 0; k < v->nports && k < 3; k++)
        klefr_cv_text(c, &klefr_font_regular, px, y + 56 + (float)k * 22, 16, txt, KLEFR_ALIGN_LEFT,
                      v->ports[k]);
    klefr_button_box(c, L, v, g, KLEFR_CTL_SHOT, "Screenshot", false, true);
}

static void draw_static_layer(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v, const klefr_geo *g)
{
    klefr_canvas_clear(c, jcol(L->json, "background", 0xff2b2f36));
    meter_static(c, L, v);
    if (g->mode == KLEFR_MODE_METER)
        return;
    if (g->mode == KLEFR_MODE_PRESENT) {
        klefr_caption_draw(c, L, v, g, ST);
        return;
    }
    draw_readings(c, L, v, ST);
    if (klefr_caption_boxed(g, v)) {
        klefr_caption_draw(c, L, v, g, ST);
    } else {
        draw_scope(c, L, v, ST);
        draw_phasor(c, L, v, ST);
        draw_trend(c, L, v, ST);
    }
    draw_controls(c, L, v, g, ST);
    draw_status(c, L, v, g, ST);
    klefr_fleet_draw_list(c, L, v, g, ST);
    klefr_fleet_draw_monitor(c, L, v, g, ST);
}

static void draw_part(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                      const klefr_geo *g, klefr_panel_part part)
{
    bool full = g->mode == KLEFR_MODE_FULL, boxed = klefr_caption_boxed(g, v);
    bool present = g->mode == KLEFR_MODE_PRESENT;
    switch (part) {
    case KLEFR_PART_S0:
        meter_s0(c, L, v);
        break;
    case KLEFR_PART_GLASS:
        meter_glass(c, L, v);
        break;
    case KLEFR_PART_LED:
        meter_led(c, L, v);
        break;
    case KLEFR_PART_BUTTONS:
        draw_button(c, L, v, 0);
        draw_button(c, L, v, 1);
        break;
    case KLEFR_PART_READINGS:
        if (full)
            draw_readings(c, L, v, DY);
        else if (present && v->show_readings)
            klefr_present_readings(c, L, v, g);
        break;
    case KLEFR_PART_SCOPE:
        if (full && !boxed)
            draw_scope(c, L, v, DY);
        break;
    case KLEFR_PART_PHASOR:
        if (full && !boxed)
            draw_phasor(c, L, v, DY);
        break;
    case KLEFR_PART_TREND:
        if (full && !boxed)
            draw_trend(c, L, v, DY);
        break;
    case KLEFR_PART_CONTROLS:
        if (full)
            draw_controls(c, L, v, g, DY);
        else if (present)
            klefr_present_speed(c, L, v, g);
        break;
    case KLEFR_PART_STATUS:
        if (full)
            draw_status(c, L, v, g, DY);
        break;
    case KLEFR_PART_CAPTION:
        if (boxed || present)
            klefr_caption_draw(c, L, v, g, DY);
        break;
    case KLEFR_PART_FLEET:
        klefr_fleet_draw_list(c, L, v, g, DY);
        break;
    case KLEFR_PART_BUSMON:
        klefr_fleet_draw_monitor(c, L, v, g, DY);
        break;
    case KLEFR_PART_COUNT:
        break;
    }
}

void klefr_panel_draw(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v)
{
    klefr_panel_draw_static(c, L, v);
    klefr_panel_draw_dynamic(c, L, v);
}

void klefr_panel_draw_static(klefr_canvas *c, const klefr_panel_layout *L,
                             const klefr_panel_view *v)
{
    klefr_geo g = klefr_panel_fit(c, L, v);
    draw_static_layer(c, L, v, &g);
}

void klefr_panel_draw_part(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                           klefr_panel_part part)
{
    klefr_geo g = klefr_panel_fit(c, L, v);
    draw_part(c, L, v, &g, part);
}

void klefr_panel_draw_dynamic(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v)
{
    klefr_geo g = klefr_panel_fit(c, L, v);
    for (int k = 0; k < KLEFR_PART_COUNT; k++)
        draw_part(c, L, v, &g, (klefr_panel_part)k);
}

uint32_t klefr_panel_static_key(const klefr_panel_view *v)
{
    return (uint32_t)v->model | (uint32_t)v->has_load << 16 | (uint32_t)v->present << 17 |
           (uint32_t)v->ov.show << 18 | (uint32_t)(v->fleet != NULL) << 19;
}
