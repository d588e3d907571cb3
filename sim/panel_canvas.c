#include "panel_canvas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool klefr_canvas_init(klefr_canvas *c, int w, int h)
{
    memset(c, 0, sizeof *c);
    c->px = malloc((size_t)w * (size_t)h * sizeof *c->px);
    c->acc = malloc(2 * ((size_t)w + 2) * sizeof *c->acc);
    if (!c->px || !c->acc) {
        klefr_canvas_free(c);
        return false;
    }
    c->w = w;
    c->h = h;
    c->scale = 1.0f;
    return true;
}

void klefr_canvas_free(klefr_canvas *c)
{
    klefr_canvas_free_glyphs(c);
    free(c->px);
    free(c->acc);
    c->px = NULL;
    c->acc = NULL;
}

void klefr_canvas_clear(klefr_canvas *c, uint32_t argb)
{
    for (size_t k = 0; k < (size_t)c->w * (size_t)c->h; k++)
        c->px[k] = argb | 0xff000000u;
}

uint32_t klefr_rgba_mix(uint32_t a, uint32_t b, float t)
{
    uint32_t out = 0;
    for (int sh = 0; sh < 32; sh += 8) {
        float va = (float)((a >> sh) & 0xff), vb = (float)((b >> sh) & 0xff);
        out |= (uint32_t)(va + (vb - va) * t + 0.5f) << sh;
    }
    return out;
}

static inline void blend(uint32_t *p, uint32_t color, float cov)
{
    float a = cov * (float)(color >> 24) / 255.0f;
    if (a <= 0.0f)
        return;
    if (a > 1.0f)
        a = 1.0f;
    uint32_t d = *p, out = 0xff000000u;
    for (int sh = 0; sh < 24; sh += 8) {
        float vd = (float)((d >> sh) & 0xff), vs = (float)((color >> sh) & 0xff);
        out |= (uint32_t)(vd + (vs - vd) * a + 0.5f) << sh;
    }
    *p = out;
}

/* Add a horizontal span [xa, xb) of weight w to the coverage row: partial
 * end pixels go straight into area[], the run between them into the
 * running-sum deltas of cover[] (so long spans cost O(1)). */
static void span(float *area, float *cover, int x0, int x1, float xa, float xb, float w)
{
    if (xa < (float)x0)
        xa = (float)x0;
    if (xb > (float)(x1 + 1))
        xb = (float)(x1 + 1);
    if (xb <= xa)
        return;
    int ia = (int)floorf(xa), ib = (int)floorf(xb);
    if (ia == ib) {
        area[ia - x0] += (xb - xa) * w;
        return;
    }
    area[ia - x0] += ((float)(ia + 1) - xa) * w;
    cover[ia + 1 - x0] += w;
    cover[ib - x0] -= w;
    if (ib <= x1)
        area[ib - x0] += (xb - (float)ib) * w;
}

#define SUBY 5
#define MAXPTS 512

/* ---- recording ------------------------------------------------------------ */

#define FNV0 0xcbf29ce484222325ull

/* FNV-1a over 32-bit words (the recorded calls are floats and colours):
 * a fingerprint of a drawing call, not a defence against anyone. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        uint32_t w;
        memcpy(&w, b + k, 4);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

static void rec_add(klefr_cv_list *l, uint64_t hash, klefr_irect box)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        klefr_cv_item *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            l->lost = true; /* the panel then redraws everything */
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (klefr_cv_item){hash, box};
}

void klefr_cv_list_free(klefr_cv_list *l)
{
    free(l->v);
    *l = (klefr_cv_list){0};
}

void klefr_canvas_copy_rect(klefr_canvas *c, const klefr_canvas *src, klefr_irect r)
{
    for (int y = r.y0; y < r.y1; y++)
        memcpy(c->px + (size_t)y * (size_t)c->w + (size_t)r.x0,
               src->px + (size_t)y * (size_t)src->w + (size_t)r.x0,
               (size_t)(r.x1 - r.x0) * sizeof *c->px);
}

/* ---- polygons --------------------------------------------------------------- */

/* Rows ya..yb of an even-odd scanline fill with SUBY sub-scanlines and exact
 * horizontal coverage over the polygon's columns x0..x1, written only in
 * columns wa..wb: the coverage is summed from x0 whatever the clip, so a
 * clipped call paints the same values as an unclipped one. */
static void fill_rows(klefr_canvas *c, const float *p, int n, uint32_t c0, float gy0, uint32_t c1,
                      float gy1, int x0, int x1, int ya, int yb, int wa, int wb)
{
    float xs[64];
    for (int y = ya; y <= yb; y++) {
        float *area = c->acc, *cover = c->acc + (x1 - x0 + 2);
        memset(c->acc, 0, 2 * (size_t)(x1 - x0 + 2) * sizeof *c->acc);
        bool any = false;
        for (int s = 0; s < SUBY; s++) {
            float sy = (float)y + ((float)s + 0.5f) / SUBY;
            int nx = 0;
            for (int k = 0; k < n && nx < 64; k++) {
                float ax = p[2 * k], ay = p[2 * k + 1];
                float bx = p[2 * ((k + 1) % n)], by = p[2 * ((k + 1) % n) + 1];
                if ((ay <= sy && by > sy) || (by <= sy && ay > sy)) {
                    float x = ax + (sy - ay) / (by - ay) * (bx - ax);
                    int j = nx++;
                    while (j > 0 && xs[j - 1] > x) {
                        xs[j] = xs[j - 1];
                        j--;
                    }
                    xs[j] = x;
                }
            }
            for (int k = 0; k + 1 < nx; k += 2) {
                span(area, cover, x0, x1, xs[k], xs[k + 1], 1.0f / SUBY);
                any = true;
            }
        }
        if (!any)
            continue;
        uint32_t col = c0;
        if (c0 != c1) {
            float t = gy1 > gy0 ? (((float)y + 0.5f) - gy0) / (gy1 - gy0) : 0.0f;
            col = klefr_rgba_mix(c0, c1, fminf(fmaxf(t, 0.0f), 1.0f));
        }
        uint32_t *row = c->px + (size_t)y * (size_t)c->w;
        bool opaque = (col >> 24) == 0xff;
        float run = 0;
        for (int x = x0; x <= wb; x++) {
            run += cover[x - x0];
            if (x < wa)
                continue;
            float cov = run + area[x - x0];
            if (cov > 0.998f && opaque)
                row[x] = col;
            else if (cov > 0.002f)
                blend(&row[x], col, cov > 1.0f ? 1.0f : cov);
        }
    }
}

/* Fill a polygon in pixel coordinates (gradient c0 at gy0 .. c1 at gy1), or
 * record it. */
static void fill(klefr_canvas *c, const float *p, int n, uint32_t c0, float gy0, uint32_t c1,
                 float gy1)
{
    if (n < 3)
        return;
    float minx = p[0], maxx = p[0], miny = p[1], maxy = p[1];
    for (int k = 1; k < n; k++) {
        float x = p[2 * k], y = p[2 * k + 1];
        minx = x < minx ? x : minx;
        maxx = x > maxx ? x : maxx;
        miny = y < miny ? y : miny;
        maxy = y > maxy ? y : maxy;
    }
    if (!(maxx >= 0 && maxy >= 0 && minx < (float)c->w && miny < (float)c->h))
        return; /* outside (or not a number) */
    int x0 = (int)floorf(minx), x1 = (int)floorf(maxx), y0 = (int)floorf(miny),
        y1 = (int)floorf(maxy);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > c->w - 1)
        x1 = c->w - 1;
    if (y1 > c->h - 1)
        y1 = c->h - 1;
    if (x0 > x1 || y0 > y1)
        return;
    if (c->rec) {
        uint64_t h = fnv(FNV0, p, (size_t)n * 2 * sizeof *p);
        h = fnv(h, &c0, sizeof c0);
        if (c0 != c1) {
            h = fnv(h, &c1, sizeof c1);
            h = fnv(h, &gy0, sizeof gy0);
            h = fnv(h, &gy1, sizeof gy1);
        }
        rec_add(c->rec, h, (klefr_irect){x0, y0, x1 + 1, y1 + 1});
        return;
    }
    if (!c->clip) {
        fill_rows(c, p, n, c0, gy0, c1, gy1, x0, x1, y0, y1, x0, x1);
        return;
    }
    for (int k = 0; k < c->nclip; k++) {
        const klefr_irect *r = &c->clip[k];
        int ya = y0 > r->y0 ? y0 : r->y0, yb = y1 < r->y1 - 1 ? y1 : r->y1 - 1;
        int wa = x0 > r->x0 ? x0 : r->x0, wb = x1 < r->x1 - 1 ? x1 : r->x1 - 1;
        if (ya <= yb && wa <= wb)
            fill_rows(c, p, n, c0, gy0, c1, gy1, x0, x1, ya, yb, wa, wb);
    }
}

static int xform(const klefr_canvas *c, const float *xy, int n, float *out)
{
    if (n > MAXPTS)
        n = MAXPTS;
    for (int k = 0; k < n; k++) {
        out[2 * k] = xy[2 * k] * c->scale + c->ox;
        out[2 * k + 1] = xy[2 * k + 1] * c->scale + c->oy;
    }
    return n;
}

void klefr_cv_poly(klefr_canvas *c, const float *xy, int n, uint32_t color)
{
    float p[2 * MAXPTS];
    n = xform(c, xy, n, p);
    fill(c, p, n, color, 0, color, 0);
}

void klefr_cv_poly_grad(klefr_canvas *c, const float *xy, int n, uint32_t c0, float y0, uint32_t c1,
                        float y1)
{
    float p[2 * MAXPTS];
    n = xform(c, xy, n, p);
    fill(c, p, n, c0, y0 * c->scale + c->oy, c1, y1 * c->scale + c->oy);
}

void klefr_cv_rect(klefr_canvas *c, float x, float y, float w, float h, uint32_t color)
{
    float p[8] = {x, y, x + w, y, x + w, y + h, x, y + h};
    klefr_cv_poly(c, p, 4, color);
}

static int rrect_pts(float *p, float x, float y, float w, float h, float r)
{
    const int seg = 8;
    if (r > w / 2)
        r = w / 2;
    if (r > h / 2)
        r = h / 2;
    const float cx[4] = {x + w - r, x + w - r, x + r, x + r};
    const float cy[4] = {y + r, y + h - r, y + h - r, y + r};
    int n = 0;
    for (int q = 0; q < 4; q++) {
        for (int k = 0; k <= seg; k++) {
            float a = (float)M_PI * (-0.5f + 0.5f * (float)q + 0.5f * (float)k / seg);
            p[2 * n] = cx[q] + r * cosf(a);
            p[2 * n + 1] = cy[q] + r * sinf(a);
            n++;
        }
    }
    return n;
}

void klefr_cv_rrect(klefr_canvas *c, float x, float y, float w, float h, float r, uint32_t color)
{
    float p[2 * 40];
    klefr_cv_poly(c, p, rrect_pts(p, x, y, w, h, r), color);
}

void klefr_cv_rrect_grad(klefr_canvas *c, float x, float y, float w, float h, float r, uint32_t c0,
                         uint32_t c1)
{
    float p[2 * 40];
    klefr_cv_poly_grad(c, p, rrect_pts(p, x, y, w, h, r), c0, y, c1, y + h);
}

void klefr_cv_circle(klefr_canvas *c, float cx, float cy, float r, uint32_t color)
{
    float p[2 * 64];
    int n = 16 + (int)(r * c->scale);
    if (n > 64)
        n = 64;
    for (int k = 0; k < n; k++) {
        float a = 2.0f * (float)M_PI * (float)k / (float)n;
        p[2 * k] = cx + r * cosf(a);
        p[2 * k + 1] = cy + r * sinf(a);
    }
    klefr_cv_poly(c, p, n, color);
}

void klefr_cv_ring(klefr_canvas *c, float cx, float cy, float r, float width, float a0, float a1,
                   uint32_t color)
{
    float p[2 * 130];
    int n = 2 + (int)(fabsf(a1 - a0) * 10.0f);
    if (n > 64)
        n = 64;
    float ro = r + width / 2, ri = r - width / 2;
    for (int k = 0; k < n; k++) {
        float a = a0 + (a1 - a0) * (float)k / (float)(n - 1);
        p[2 * k] = cx + ro * sinf(a);
        p[2 * k + 1] = cy - ro * cosf(a);
        p[2 * (2 * n - 1 - k)] = cx + ri * sinf(a);
        p[2 * (2 * n - 1 - k) + 1] = cy - ri * cosf(a);
    }
    klefr_cv_poly(c, p, 2 * n, color);
}

void klefr_cv_line(klefr_canvas *c, float x0, float y0, float x1, float y1, float width,
                   uint32_t color)
{
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    if (len < 1e-6f)
        return;
    float nx = -dy / len * width / 2, ny = dx / len * width / 2;
    float p[8] = {x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny};
    klefr_cv_poly(c, p, 4, color);
}

void klefr_cv_polyline(klefr_canvas *c, const float *xy, int n, float width, uint32_t color)
{
    for (int k = 0; k + 1 < n; k++)
        klefr_cv_line(c, xy[2 * k], xy[2 * k + 1], xy[2 * k + 2], xy[2 * k + 3], width, color);
}

static const klefr_glyph *glyph(const klefr_font *f, char ch)
{
    unsigned u = (unsigned char)ch;
    if (u < 32 || u > 126)
        u = '?';
    return &f->glyphs[u - 32];
}

float klefr_text_width(const klefr_font *f, float size, const char *s)
{
    float w = 0;
    for (; *s; s++)
        w += (float)glyph(f, *s)->adv4 / 4.0f;
    return w * size / (float)f->px;
}

static float glyph_alpha(const klefr_glyph *g, float gx, float gy)
{
    int x = (int)floorf(gx), y = (int)floorf(gy);
    if (x < 0 || y < 0 || x >= g->w || y >= g->h)
        return 0.0f;
    return (float)(g->alpha[y * g->w + x] - 'A') / 15.0f;
}

/* Rendered glyphs, per canvas: (font, pixel size, char, quarter-pixel
 * offset) -> 8-bit coverage. Text is drawn every frame; rasterising each
 * glyph once keeps that cheap. */
#define GCACHE_N 2048
struct klefr_glyph_cache {
    struct gentry {
        const klefr_font *f;
        float k; /* exact: a glyph is only reused at the very scale it was made for */
        char ch;
        uint8_t sub;
        int ox, oy, w, h;
        uint8_t *a;
    } e[GCACHE_N];
    int used;
};

static void gcache_clear(struct klefr_glyph_cache *gc)
{
    for (int k = 0; k < GCACHE_N; k++) {
        free(gc->e[k].a);
        gc->e[k] = (struct gentry){0};
    }
    gc->used = 0;
}

void klefr_canvas_free_glyphs(klefr_canvas *c)
{
    if (c->glyphs) {
        gcache_clear(c->glyphs);
        free(c->glyphs);
        c->glyphs = NULL;
    }
}

/* Where a glyph's pixels lie from the pen (ox, oy, w, h) at scale k and
 * quarter-pixel offset sub; gx0, gy0: its exact origin. */
static void glyph_box(const klefr_glyph *g, float k, int sub, int *ox, int *oy, int *w, int *h,
                      float *gx0, float *gy0)
{
    *gx0 = (float)sub / 4.0f + (float)g->x0 * k;
    *gy0 = (float)g->y0 * k;
    *ox = (int)floorf(*gx0);
    *oy = (int)floorf(*gy0);
    *w = (int)ceilf(*gx0 + (float)g->w * k) - *ox;
    *h = (int)ceilf(*gy0 + (float)g->h * k) - *oy;
}

static const struct gentry *gcache_get(klefr_canvas *c, const klefr_font *f, float k, char ch,
                                       int sub)
{
    if (!c->glyphs && !(c->glyphs = calloc(1, sizeof *c->glyphs)))
        return NULL;
    struct klefr_glyph_cache *gc = c->glyphs;
    uint32_t kbits;
    memcpy(&kbits, &k, sizeof kbits);
    /* mixed well: sizes differ in the low bits of kbits, fonts in the pointer */
    uint64_t key = ((uint64_t)(uintptr_t)f ^ (uint64_t)kbits << 16 ^ (uint64_t)(unsigned char)ch << 8 ^
                    (uint64_t)sub) * 0x9e3779b97f4a7c15ull;
    unsigned h = (unsigned)(key >> 40) % GCACHE_N;
    for (unsigned n = 0; n < GCACHE_N; n++, h = (h + 1) % GCACHE_N) {
        struct gentry *e = &gc->e[h];
        if (e->f == f && e->k == k && e->ch == ch && e->sub == sub)
            return e;
        if (e->f)
            continue;
        if (gc->used > GCACHE_N * 3 / 4) { /* full: start again */
            gcache_clear(gc);
            return gcache_get(c, f, k, ch, sub);
        }
        const klefr_glyph *g = glyph(f, ch);
        float gx0, gy0;
        glyph_box(g, k, sub, &e->ox, &e->oy, &e->w, &e->h, &gx0, &gy0);
        e->a = calloc((size_t)(e->w > 0 ? e->w : 1) * (size_t)(e->h > 0 ? e->h : 1), 1);
        if (!e->a)
            return NULL;
        const int ss = 4;
        for (int py = 0; py < e->h; py++)
            for (int px = 0; px < e->w; px++) {
                float a = 0;
                for (int sy = 0; sy < ss; sy++)
                    for (int sx = 0; sx < ss; sx++)
                        a += glyph_alpha(g,
                                         ((float)(e->ox + px) + ((float)sx + 0.5f) / ss - gx0) / k,
                                         ((float)(e->oy + py) + ((float)sy + 0.5f) / ss - gy0) / k);
                e->a[py * e->w + px] = (uint8_t)lroundf(a / (ss * ss) * 255.0f);
            }
        e->f = f;
        e->k = k;
        e->ch = ch;
        e->sub = (uint8_t)sub;
        gc->used++;
        return e;
    }
    return NULL;
}

/* Blend glyph e at pen column ip, baseline base, inside r (pixels). */
static void glyph_blit(klefr_canvas *c, const struct gentry *e, int ip, int base, uint32_t color,
                       klefr_irect r)
{
    int gx0 = ip + e->ox, gy0 = base + e->oy;
    int xa = gx0 > r.x0 ? gx0 : r.x0, xb = gx0 + e->w < r.x1 ? gx0 + e->w : r.x1;
    int ya = gy0 > r.y0 ? gy0 : r.y0, yb = gy0 + e->h < r.y1 ? gy0 + e->h : r.y1;
    for (int yy = ya; yy < yb; yy++)
        for (int xx = xa; xx < xb; xx++) {
            uint8_t a = e->a[(yy - gy0) * e->w + (xx - gx0)];
            if (a)
                blend(&c->px[(size_t)yy * (size_t)c->w + (size_t)xx], color, (float)a / 255.0f);
        }
}

float klefr_cv_text(klefr_canvas *c, const klefr_font *f, float x, float y, float size,
                    uint32_t color, int align, const char *s)
{
    float tw = klefr_text_width(f, size, s);
    if (align == KLEFR_ALIGN_CENTER)
        x -= tw / 2;
    else if (align == KLEFR_ALIGN_RIGHT)
        x -= tw;
    float k = size / (float)f->px * c->scale; /* pixels per glyph pixel */
    float pen = x * c->scale + c->ox;
    int base = (int)lroundf(y * c->scale + c->oy);
    const klefr_irect whole = {0, 0, c->w, c->h};
    uint64_t h = FNV0;
    klefr_irect box = {c->w, c->h, 0, 0};
    if (c->rec) {
        h = fnv(h, &f, sizeof f);
        h = fnv(h, &k, sizeof k);
        h = fnv(h, &color, sizeof color);
        h = fnv(h, &base, sizeof base);
    }
    for (; *s; s++) {
        int ip = (int)floorf(pen), sub = (int)((pen - (float)ip) * 4.0f) & 3;
        if (c->rec) { /* the box from the metrics: no glyph is made to record it */
            h = fnv(h, s, 1);
            h = fnv(h, &ip, sizeof ip);
            h = fnv(h, &sub, sizeof sub);
            int ox, oy, gw, gh;
            float gx0, gy0;
            glyph_box(glyph(f, *s), k, sub, &ox, &oy, &gw, &gh, &gx0, &gy0);
            int bx0 = ip + ox, by0 = base + oy;
            if (gw > 0 && gh > 0) {
                box.x0 = bx0 < box.x0 ? bx0 : box.x0;
                box.y0 = by0 < box.y0 ? by0 : box.y0;
                box.x1 = bx0 + gw > box.x1 ? bx0 + gw : box.x1;
                box.y1 = by0 + gh > box.y1 ? by0 + gh : box.y1;
            }
        } else {
            const struct gentry *e = gcache_get(c, f, k, *s, sub);
            if (e && !c->clip) {
                glyph_blit(c, e, ip, base, color, whole);
            } else if (e) {
                for (int j = 0; j < c->nclip; j++)
                    glyph_blit(c, e, ip, base, color, c->clip[j]);
            }
        }
        pen += (float)glyph(f, *s)->adv4 / 4.0f * k;
    }
    if (c->rec) {
        box.x0 = box.x0 < 0 ? 0 : box.x0;
        box.y0 = box.y0 < 0 ? 0 : box.y0;
        box.x1 = box.x1 > c->w ? c->w : box.x1;
        box.y1 = box.y1 > c->h ? c->h : box.y1;
        if (box.x0 < box.x1 && box.y0 < box.y1)
            rec_add(c->rec, h, box);
    }
    return tw;
}
