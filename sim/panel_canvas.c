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

/* Even-odd scanline fill in pixel coordinates with SUBY sub-scanlines and
 * exact horizontal coverage. */
static void fill(klefr_canvas *c, const float *p, int n, uint32_t c0, float gy0, uint32_t c1,
                 float gy1)
{
    if (n < 3)
        return;
    float minx = p[0], maxx = p[0], miny = p[1], maxy = p[1];
    for (int k = 1; k < n; k++) {
        minx = fminf(minx, p[2 * k]);
        maxx = fmaxf(maxx, p[2 * k]);
        miny = fminf(miny, p[2 * k + 1]);
        maxy = fmaxf(maxy, p[2 * k + 1]);
    }
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
    float xs[64];
    for (int y = y0; y <= y1; y++) {
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
        for (int x = x0; x <= x1; x++) {
            run += cover[x - x0];
            float cov = run + area[x - x0];
            if (cov > 0.998f && opaque)
                row[x] = col;
            else if (cov > 0.002f)
                blend(&row[x], col, cov > 1.0f ? 1.0f : cov);
        }
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
        int k64;
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

static const struct gentry *gcache_get(klefr_canvas *c, const klefr_font *f, float k, char ch,
                                       int sub)
{
    if (!c->glyphs && !(c->glyphs = calloc(1, sizeof *c->glyphs)))
        return NULL;
    struct klefr_glyph_cache *gc = c->glyphs;
    int k64 = (int)lroundf(k * 64.0f);
    unsigned h = ((unsigned)(uintptr_t)f * 31u + (unsigned)k64 * 131u + (unsigned char)ch * 7u +
                  (unsigned)sub) %
                 GCACHE_N;
    for (unsigned n = 0; n < GCACHE_N; n++, h = (h + 1) % GCACHE_N) {
        struct gentry *e = &gc->e[h];
        if (e->f == f && e->k64 == k64 && e->ch == ch && e->sub == sub)
            return e;
        if (e->f)
            continue;
        if (gc->used > GCACHE_N * 3 / 4) { /* full: start again */
            gcache_clear(gc);
            return gcache_get(c, f, k, ch, sub);
        }
        const klefr_glyph *g = glyph(f, ch);
        float gx0 = (float)sub / 4.0f + (float)g->x0 * k, gy0 = (float)g->y0 * k;
        e->ox = (int)floorf(gx0);
        e->oy = (int)floorf(gy0);
        e->w = (int)ceilf(gx0 + (float)g->w * k) - e->ox;
        e->h = (int)ceilf(gy0 + (float)g->h * k) - e->oy;
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
        e->k64 = k64;
        e->ch = ch;
        e->sub = (uint8_t)sub;
        gc->used++;
        return e;
    }
    return NULL;
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
    for (; *s; s++) {
        int ip = (int)floorf(pen), sub = (int)((pen - (float)ip) * 4.0f) & 3;
        const struct gentry *e = gcache_get(c, f, k, *s, sub);
        if (e) {
            for (int py = 0; py < e->h; py++) {
                int yy = base + e->oy + py;
                if (yy < 0 || yy >= c->h)
                    continue;
                for (int px = 0; px < e->w; px++) {
                    int xx = ip + e->ox + px;
                    uint8_t a = e->a[py * e->w + px];
                    if (a && xx >= 0 && xx < c->w)
                        blend(&c->px[(size_t)yy * (size_t)c->w + (size_t)xx], color,
                              (float)a / 255.0f);
                }
            }
        }
        pen += (float)glyph(f, *s)->adv4 / 4.0f * k;
    }
    return tw;
}
