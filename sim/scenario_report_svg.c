/* --plot: an SVG a person reads without zooming: power, voltage, current and
 * energies against time in stacked panels, supply cuts shaded, the timeline's
 * labels on top, events as vertical lines, expectations marked green (held)
 * or red (failed) in the panel of their quantity and in a lane below. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "scenario_priv.h"

#define W 1400.0
#define LEFT 90.0
#define RIGHT 30.0
#define PANEL_H 190.0
#define GAP 46.0
#define TOP 96.0
#define NPANELS 4
#define LANE_ROW 20.0 /* a row of expectations: none overlaps another */
#define LANE_ROWS 100u

typedef struct {
    FILE *f;
    double t_end;
    double y0[NPANELS], lo[NPANELS], hi[NPANELS];
} plot;

static double px(const plot *p, double t)
{
    return LEFT + (W - LEFT - RIGHT) * (p->t_end > 0 ? t / p->t_end : 0);
}

static double py(const plot *p, int k, double v)
{
    double span = p->hi[k] - p->lo[k];
    return p->y0[k] + PANEL_H - (span > 0 ? (v - p->lo[k]) / span : 0.5) * PANEL_H;
}

/* Text content: escaped; control characters (XML 1.0 has none) and bytes of
 * a character cut by a buffer left out. */
static void chars(FILE *f, const char *s)
{
    while (*s) {
        size_t n = klefr_scn_utf8_char((const unsigned char *)s);
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (n && (unsigned char)*s >= 0x20)
            fwrite(s, 1, n, f);
        s += n ? n : 1;
    }
}

static void text(FILE *f, double x, double y, const char *anchor, int size, const char *color,
                 const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" fill=\"%s\">", x,
            y, anchor, size, color);
    chars(f, s);
    fputs("</text>\n", f);
}

static double nice_step(double span, int n)
{
    double raw = span / n, mag = pow(10, floor(log10(raw)));
    double m = raw / mag;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
}

static void range(plot *p, int k, double lo, double hi)
{
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    double pad = (hi - lo) * 0.08;
    p->lo[k] = lo - pad;
    p->hi[k] = hi + pad;
}

/* Time ticks: a round step giving about 10 of them. */
static double time_step(double t_end)
{
    static const double steps[] = {0.01, 0.02, 0.05, 0.1, 0.2,   0.5,   1,     2,     5,
                                   10,   15,   30,   60,  120,   300,   600,   900,   1800,
                                   3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (t_end / steps[k] <= 12)
            return steps[k];
    return nice_step(t_end, 10);
}

/* "0", "90 s", "15min", "1h30min", "2d": a tick of the time axis. */
static void tick_label(char *buf, size_t n, double t)
{
    long s = lround(t);
    if (fabs(t - (double)s) > 1e-6)
        snprintf(buf, n, "%g s", t);
    else if (s == 0)
        snprintf(buf, n, "0");
    else if (s % 86400 == 0)
        snprintf(buf, n, "%ldd", s / 86400);
    else if (s % 3600 == 0)
        snprintf(buf, n, "%ldh", s / 3600);
    else if (s >= 3600 && s % 60 == 0)
        snprintf(buf, n, "%ldh%02ldmin", s / 3600, s / 60 % 60);
    else if (s % 60 == 0)
        snprintf(buf, n, "%ldmin", s / 60);
    else
        snprintf(buf, n, "%ld s", s);
}

static void axes(plot *p, int k, const char *title, const char *unit)
{
    FILE *f = p->f;
    double y0 = p->y0[k];
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fbfbfb\" "
               "stroke=\"#888\"/>\n",
            LEFT, y0, W - LEFT - RIGHT, PANEL_H);
    char buf[64];
    snprintf(buf, sizeof buf, "%s (%s)", title, unit);
    text(f, LEFT, y0 - 8, "start", 15, "#222", buf);
    double step = nice_step(p->hi[k] - p->lo[k], 5);
    for (double v = ceil(p->lo[k] / step) * step; v <= p->hi[k]; v += step) {
        double y = py(p, k, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n",
                LEFT, y, W - RIGHT, y);
        snprintf(buf, sizeof buf, "%.6g", fabs(v) < step / 1000 ? 0.0 : v);
        text(f, LEFT - 6, y + 4, "end", 13, "#444", buf);
    }
    double ts = time_step(p->t_end);
    for (double t = 0; t <= p->t_end + 1e-9; t += ts) {
        double x = px(p, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n",
                x, y0, x, y0 + PANEL_H);
        tick_label(buf, sizeof buf, t);
        text(f, x, y0 + PANEL_H + 16, "middle", 12, "#444", buf);
    }
}

/* One quantity of the samples as a polyline in panel k. */
static void series(plot *p, const klefr_scn *s, int k, size_t off, bool is_double,
                   const char *color, bool dashed)
{
    FILE *f = p->f;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", color,
            dashed ? " stroke-dasharray=\"7 4\"" : "");
    for (size_t n = 0; n < s->nsamples; n++) {
        const char *base = (const char *)&s->samples[n] + off;
        double v = is_double ? *(const double *)base : *(const float *)base;
        if (!isfinite(v))
            break;
        fprintf(f, "%.1f,%.1f ", px(p, s->samples[n].t_s), py(p, k, v));
    }
    fputs("\"/>\n", f);
}

static void legend(FILE *f, double x, double y, const char *color, const char *name, bool dashed)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"3\"%s/>\n",
            x, y - 4, x + 24, y - 4, color, dashed ? " stroke-dasharray=\"7 4\"" : "");
    text(f, x + 30, y, "start", 13, "#222", name);
}

static void min_max(const klefr_scn *s, size_t off, bool is_double, double *lo, double *hi)
{
    for (size_t n = 0; n < s->nsamples; n++) {
        const char *base = (const char *)&s->samples[n] + off;
        double v = is_double ? *(const double *)base : *(const float *)base;
        if (isfinite(v)) {
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    }
}

/* Panel of a value expectation, and the value's scale there; -1 if none. */
static int panel_of(const klefr_scn_expect *e, double *scale)
{
    *scale = 1;
    if (!e->value || !e->has_eq)
        return -1;
    const char *p = e->value->path;
    if (!strcmp(p, "measure.p_w") || !strcmp(p, "measure.q_var")) {
        *scale = 0.001;
        return 0;
    }
    if (!strcmp(p, "measure.v"))
        return 1;
    if (!strcmp(p, "measure.i"))
        return 2;
    if (!strncmp(p, "energy.", 7) && e->sel < 0)
        return 3;
    return -1;
}

/* Where an expectation's mark and label go in the lane: x from x0 to x1, the
 * label on the side of the mark with room. */
typedef struct {
    double x0, x1, label_x;
    bool label_right_aligned;
} lane_item;

static lane_item lane_extent(const plot *p, const klefr_scn_expect *e)
{
    double t1 = (double)klefr_scn_expect_plot_us(e) / 1e6, t2 = (double)e->t2_us / 1e6;
    double a = px(p, t1), b = px(p, e->when == KLEFR_SCN_AT ? t1 : t2);
    size_t nchar = strlen(e->state == KLEFR_SCN_PASS ? "" : "FAILED: ");
    for (const char *c = e->what; *c; c++)
        nchar += ((unsigned char)*c & 0xC0) != 0x80;
    double w = 7.0 * (double)nchar; /* 12 px DejaVu Sans, a little wider than its mean */
    bool right = (a + b) / 2 > W / 2;
    return right ? (lane_item){a - 10 - w, b + 7, a - 10, true}
                 : (lane_item){a - 7, b + 10 + w, b + 10, false};
}

/* Rows of the lane: each expectation, in file order, in the first row where
 * it overlaps nothing (one row each used to wrap after 40 and write labels
 * over each other). row[k] for each; returns the number of rows. */
static size_t lane_layout(const plot *p, const klefr_scn *s, size_t *row)
{
    lane_item *it = malloc((s->nex + 1) * sizeof *it);
    size_t nrows = 0;
    for (size_t k = 0; k < s->nex; k++) {
        size_t r = 0;
        if (it) {
            it[k] = lane_extent(p, &s->ex[k]);
            for (bool clash = true; clash && r < LANE_ROWS; r += clash) {
                clash = false;
                for (size_t j = 0; j < k && !clash; j++)
                    clash = row[j] == r && it[k].x0 < it[j].x1 + 6 && it[j].x0 < it[k].x1 + 6;
            }
        }
        row[k] = it && r < LANE_ROWS ? r : k % LANE_ROWS; /* very many: they may meet */
        nrows = row[k] + 1 > nrows ? row[k] + 1 : nrows;
    }
    free(it);
    return nrows ? nrows : 1;
}

static void mark_expectations(plot *p, const klefr_scn *s, double lane_y, const size_t *row)
{
    FILE *f = p->f;
    for (size_t k = 0; k < s->nex; k++) {
        const klefr_scn_expect *e = &s->ex[k];
        const char *col = e->state == KLEFR_SCN_PASS ? "#1a8f3a" : "#d42020";
        double t1 = (double)klefr_scn_expect_plot_us(e) / 1e6, t2 = (double)e->t2_us / 1e6;
        double y = lane_y + 18 + (double)row[k] * LANE_ROW;
        if (e->when == KLEFR_SCN_AT) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"/>\n", px(p, t1), y,
                    col);
        } else {
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"%s\" "
                       "opacity=\"0.7\"/>\n",
                    px(p, t1), y - 5, px(p, t2) - px(p, t1) + 1, col);
        }
        char label[200];
        snprintf(label, sizeof label, "%s%s", e->state == KLEFR_SCN_PASS ? "" : "FAILED: ",
                 e->what);
        /* The label beside the mark, on the side with room. */
        lane_item it = lane_extent(p, e);
        text(f, it.label_x, y + 4, it.label_right_aligned ? "end" : "start", 12, col, label);
        double scale;
        int k2 = panel_of(e, &scale);
        if (k2 < 0)
            continue;
        double v = e->eq * scale, tol = e->has_tol ? (e->tol_pct ? fabs(e->eq) * e->tol / 100
                                                                 : e->tol) * scale : 0;
        double x1 = px(p, t1), x2 = px(p, e->when == KLEFR_SCN_AT ? t1 : t2);
        double ya = py(p, k2, v + tol), yb = py(p, k2, v - tol);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                   "stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                x1 - 5, ya - 3, x2 - x1 + 10, yb - ya + 6, col);
    }
}

int klefr_scn_report_svg(const klefr_scn *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    plot p = {.f = f, .t_end = (double)s->duration_us / 1e6};
    for (int k = 0; k < NPANELS; k++)
        p.y0[k] = TOP + k * (PANEL_H + GAP);
    double lane_y = p.y0[NPANELS - 1] + PANEL_H + GAP;
    size_t *row = calloc(s->nex + 1, sizeof *row);
    if (!row) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    double lane_h = 16 + LANE_ROW * (double)lane_layout(&p, s, row);
    double h = lane_y + lane_h + 20;
    const size_t o_p = offsetof(klefr_scn_sample, p_kw), o_q = offsetof(klefr_scn_sample, q_kvar),
                 o_v = offsetof(klefr_scn_sample, v), o_i = offsetof(klefr_scn_sample, i),
                 o_e = offsetof(klefr_scn_sample, e_kwh), o_t = offsetof(klefr_scn_sample, truth_kwh);
    double lo = 0, hi = 0;
    min_max(s, o_p, false, &lo, &hi);
    min_max(s, o_q, false, &lo, &hi);
    range(&p, 0, lo, hi + (hi - lo) * 0.12); /* room for the timeline's labels */
    lo = 0, hi = 250;
    min_max(s, o_v, false, &lo, &hi);
    range(&p, 1, lo, hi);
    lo = 0, hi = 1;
    min_max(s, o_i, false, &lo, &hi);
    range(&p, 2, lo, hi);
    lo = 0, hi = 0;
    for (int k = 0; k < 4; k++) {
        min_max(s, o_e + k * sizeof(double), true, &lo, &hi);
        min_max(s, o_t + k * sizeof(double), true, &lo, &hi);
    }
    range(&p, 3, lo, hi);

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, h, W, h);
    char buf[300];
    snprintf(buf, sizeof buf, "%s  (KLEFR %d, %s: %zu of %zu expectations held)", s->name,
             s->model, s->ran && !s->nfail ? "pass" : "FAIL", s->npass, s->nex);
    text(f, LEFT, 30, "start", 20, s->ran && !s->nfail ? "#111" : "#b00000", buf);
    if (s->description) {
        klefr_scn_copy_text(buf, 161, s->description);
        if (strlen(s->description) > 160)
            strcat(buf, "...");
        text(f, LEFT, 52, "start", 13, "#444", buf);
    }
    axes(&p, 0, "Power", "kW, kvar");
    axes(&p, 1, "Voltage", "V");
    axes(&p, 2, "Current", "A");
    axes(&p, 3, "Energy registers", "kWh, kvarh; truth dashed");
    /* Supply cuts, shaded over every panel. */
    for (size_t n = 0; n + 1 < s->nsamples; n++) {
        if (s->samples[n].powered)
            continue;
        double x1 = px(&p, s->samples[n].t_s), x2 = px(&p, s->samples[n + 1].t_s);
        for (int k = 0; k < NPANELS; k++)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"#ffcccc\" opacity=\"0.6\"/>\n",
                    x1, p.y0[k], x2 - x1 + 0.5, PANEL_H);
    }
    /* The timeline's labelled segments above the first panel. */
    double last_end = -1e9; /* where the last label drawn ends */
    for (size_t k = 0; k < s->nseg; k++) {
        const klefr_scn_seg *g = &s->seg[k];
        double x = px(&p, (double)g->start_us / 1e6);
        double x_end = k + 1 < s->nseg ? px(&p, (double)s->seg[k + 1].start_us / 1e6) : W - RIGHT;
        /* Inside the top of the power panel: a tick and the label, when there is room:
         * at its tick, or after the label before it if that is still over the
         * segment (a long segment right after short ones keeps its label;
         * ~7 px a character). */
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", x,
                TOP, x, TOP + 18);
        double lx = x + 4 > last_end + 12 ? x + 4 : last_end + 12, w = 0;
        for (const char *c = g->label; *c; c++)
            w += (*c & 0xC0) != 0x80 ? 7 : 0;
        bool own = lx == x + 4; /* at its tick it may run on over the next segment */
        if (g->label[0] && lx + w <= (own || x_end > W - RIGHT ? W - RIGHT : x_end) &&
            (k == 0 || strcmp(g->label, s->seg[k - 1].label))) {
            text(f, lx, TOP + 14, "start", 12, "#555", g->label);
            last_end = lx + w;
        }
    }
    /* Events: a line through the panels; labels in the lane when few. */
    for (size_t k = 0; k < s->nev; k++) {
        const klefr_scn_event *ev = &s->ev[k];
        double x = px(&p, (double)ev->t_us / 1e6);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#7a5cc0\" "
                   "stroke-dasharray=\"3 3\" opacity=\"0.7\"/>\n",
                x, TOP, x, lane_y);
        if (s->nev <= 30) {
            snprintf(buf, sizeof buf, "%s", ev->text ? ev->text : ev->label[0] ? ev->label
                                                                                 : ev->kind->name);
            fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" font-size=\"12\" "
                       "fill=\"#5a3ca0\">",
                    x + 4, p.y0[0] + PANEL_H - 4);
            chars(f, buf);
            fputs("</text>\n", f);
        }
    }
    series(&p, s, 0, o_p, false, "#1f5fbf", false);
    series(&p, s, 0, o_q, false, "#e08a00", false);
    series(&p, s, 1, o_v, false, "#138a4a", false);
    series(&p, s, 2, o_i, false, "#8a2be2", false);
    static const char *const ecol[4] = {"#1f5fbf", "#c03030", "#e08a00", "#6a6a6a"};
    for (int k = 0; k < 4; k++) {
        series(&p, s, 3, o_e + k * sizeof(double), true, ecol[k], false);
        series(&p, s, 3, o_t + k * sizeof(double), true, ecol[k], true);
    }
    legend(f, W - 330, p.y0[0] - 8, "#1f5fbf", "P (kW)", false);
    legend(f, W - 200, p.y0[0] - 8, "#e08a00", "Q (kvar)", false);
    static const char *const ename[4] = {"active fwd", "active rev", "reactive fwd", "reactive rev"};
    for (int k = 0; k < 4; k++)
        legend(f, W - 620 + k * 150, p.y0[3] - 8, ecol[k], ename[k], false);
    text(f, LEFT, lane_y - 8, "start", 15, "#222",
         "Expectations (green: held, red: failed) and events (dashed violet)");
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#888\"/>\n",
            LEFT, lane_y, W - LEFT - RIGHT, lane_h);
    mark_expectations(&p, s, lane_y, row);
    free(row);
    fputs("</svg>\n", f);
    return klefr_scn_fclose(f);
}
