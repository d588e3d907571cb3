/* The load timeline of a scenario: segments (steps, ramps, sags and swells,
 * supply cuts, tariff), daily curves from CSV, recordings and included
 * profiles, parsed into klefr_scn_seg, and played on the run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_spec.h"
#include "profile.h"
#include "scenario_priv.h"

/* Ramps move in steps of 1/600 of the segment, 0.1 s to 10 s (a metering
 * block is 0.2 s); each step holds the value of its middle, so a ramp of
 * power puts exactly the ramp's energy at the terminals. */
#define RAMP_STEPS 600u
#define RAMP_STEP_MIN_US 100000u
#define RAMP_STEP_MAX_US 10000000u

static uint64_t ramp_step(const klefr_scn_seg *g)
{
    uint64_t st = g->dur_us / RAMP_STEPS;
    return st < RAMP_STEP_MIN_US ? RAMP_STEP_MIN_US : st > RAMP_STEP_MAX_US ? RAMP_STEP_MAX_US : st;
}

static const char *const q_names[KLEFR_SCN_Q_COUNT + 1] = {"v", "i", "p", "f", "phi", "pf", NULL};

static const char *const seg_keys[] = {
    "duration", "load",   "v",       "i",           "p",      "f",      "phi",     "pf",
    "direction", "harmonics", "ramp", "v_pct",   "power",  "tariff_input", "tariff", "curve",
    "interpolate", "replay", "rate", "v_scale", "i_scale", "profile", "label", "comment", NULL};

static klefr_scn_seg *seg_add(klefr_scn_pctx *c, const cJSON *at, const char *path)
{
    klefr_scn *s = c->s;
    if (s->nseg % 64 == 0) {
        klefr_scn_seg *n = realloc(s->seg, (s->nseg + 64) * sizeof *n);
        if (!n) {
            klefr_scn_fail(c, at, path, NULL, "out of memory");
            return NULL;
        }
        s->seg = n;
    }
    return &s->seg[s->nseg++];
}

/* Value of ramped quantity q in load l (import side, signed for export). */
static double q_of(const klefr_load *l, int q)
{
    bool exp_ = cos(l->phi_deg * M_PI / 180) < 0;
    double phi = exp_ ? l->phi_deg - 180 : l->phi_deg;
    while (phi <= -180)
        phi += 360;
    switch (q) {
    case KLEFR_SCN_Q_V:
        return l->v_rms;
    case KLEFR_SCN_Q_I:
        return exp_ ? -l->i_rms : l->i_rms;
    case KLEFR_SCN_Q_P:
        return l->v_rms * l->i_rms * cos(l->phi_deg * M_PI / 180);
    case KLEFR_SCN_Q_F:
        return l->freq_hz;
    case KLEFR_SCN_Q_PHI:
        return phi;
    default:
        return exp_ ? -cos(phi * M_PI / 180) : cos(phi * M_PI / 180);
    }
}

/* The spec that sets the ramped quantities at fraction x of the ramp. */
static void ramp_spec(const klefr_scn_seg *g, double x, char *spec, size_t n)
{
    size_t at = 0;
    const char *dir = NULL;
    /* With a current or a power moving too, their sign is the direction and
     * the power factor moves by its size: a signed one would pass through 0
     * on the way from import to export (I = P / (V pf) without bound). */
    bool by_size = g->ramp_keys & (1u << KLEFR_SCN_Q_I | 1u << KLEFR_SCN_Q_P);
    for (int q = 0; q < KLEFR_SCN_Q_COUNT; q++) {
        if (!(g->ramp_keys & (1u << q)))
            continue;
        double v = g->ramp_from[q] + (g->ramp_to[q] - g->ramp_from[q]) * x;
        if (q == KLEFR_SCN_Q_PF && by_size) {
            v = fabs(g->ramp_from[q]) + (fabs(g->ramp_to[q]) - fabs(g->ramp_from[q])) * x;
        } else if (q == KLEFR_SCN_Q_I || q == KLEFR_SCN_Q_P || q == KLEFR_SCN_Q_PF) {
            dir = v < 0 ? "export" : "import";
            v = fabs(v);
        }
        at += (size_t)snprintf(spec + at, at < n ? n - at : 0, "%s%s=%.12g", at ? "," : "",
                               q_names[q], v);
        if (q == KLEFR_SCN_Q_PF && at < n)
            at += (size_t)snprintf(spec + at, n - at, "%c", g->pf_kind);
    }
    if (dir && at < n)
        snprintf(spec + at, n - at, ",%s", dir);
}

static int parse_ramp(klefr_scn_pctx *c, const cJSON *j, const char *path, klefr_scn_seg *g)
{
    char sub[200];
    snprintf(sub, sizeof sub, "%s.ramp", path);
    if (!cJSON_IsObject(j) || !j->child)
        return klefr_scn_fail(c, j, path, "ramp",
                              "must be an object of end values, e.g. {\"i\": 32}");
    if (klefr_scn_keys(c, j, sub, q_names, NULL) < 0)
        return -1;
    const cJSON *f;
    double phi = g->load.phi_deg;
    g->pf_kind = sin(phi * M_PI / 180) * cos(phi * M_PI / 180) < 0 ? 'C' : 'L';
    cJSON_ArrayForEach(f, j)
    {
        int q = 0;
        while (strcmp(q_names[q], f->string))
            q++;
        if (!cJSON_IsNumber(f))
            return klefr_scn_fail(c, f, sub, f->string, "must be a number");
        g->ramp_keys |= (uint8_t)(1u << q);
        g->ramp_from[q] = q_of(&g->load, q);
        g->ramp_to[q] = f->valuedouble;
    }
    char spec[300], msg[256];
    ramp_spec(g, 1.0, spec, sizeof spec);
    g->end = g->load;
    if (klefr_load_spec_parse(spec, &g->end, msg, sizeof msg) < 0)
        return klefr_scn_fail(c, j, path, "ramp", "%s", msg);
    return 0;
}

static int seg_duration(klefr_scn_pctx *c, const cJSON *js, const char *path, klefr_scn_seg *g,
                        bool required)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(js, "duration");
    if (!d) {
        if (required)
            return klefr_scn_fail(c, js, path, NULL, "a segment needs a \"duration\"");
        return 1;
    }
    return klefr_scn_time(c, d, path, "duration", &g->dur_us, false, NULL);
}

/* ---- daily curves --------------------------------------------------------- */

typedef struct {
    double t, x, pf, v;
    bool have_pf, have_v;
} curve_row;

static bool curve_time(const char *s, double *t)
{
    int h, m;
    double sec = 0;
    char tail;
    if (sscanf(s, "%d:%d:%lf%c", &h, &m, &sec, &tail) == 3 ||
        sscanf(s, "%d:%d%c", &h, &m, &tail) == 2) {
        if (h < 0 || m < 0 || m > 59 || sec < 0 || sec >= 60)
            return false;
        *t = h * 3600.0 + m * 60.0 + sec;
        return true;
    }
    char *e;
    *t = strtod(s, &e);
    return e != s && !*e && isfinite(*t) && *t >= 0;
}

/* A pf cell: 0.9, -0.9 (export), 0.9L, 0.8C -> spec text. */
static bool curve_pf(const char *s, char *out, size_t n, double *pf)
{
    char *e;
    *pf = strtod(s, &e);
    if (e == s || !(fabs(*pf) <= 1) || (*e && strcmp(e, "L") && strcmp(e, "C") &&
                                        strcmp(e, "l") && strcmp(e, "c")))
        return false;
    snprintf(out, n, "%s", s);
    return true;
}

static int curve_fail(klefr_scn_pctx *c, const char *file, int line, const char *fmt,
                      const char *cell)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, cell);
    snprintf(c->err, c->errlen, "%s:%d: %s", file, line, msg);
    return -1;
}

/* Rows of the curve as segments: ramps (linear) or steps between rows. */
static int parse_curve(klefr_scn_pctx *c, const cJSON *js, const char *path, klefr_load *prev,
                       const char *name, bool step, const char *label)
{
    char file[8300];
    klefr_scn_path(c->s, name, file, sizeof file);
    char why[300];
    char *text = klefr_text_file_read(file, why, sizeof why);
    if (!text)
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(js, "curve"), path, "curve",
                              "%s", why);
    int col_t = -1, col_x = -1, col_pf = -1, col_v = -1, ncol = 0, line = 0;
    bool is_p = false;
    curve_row last = {0};
    int nrows = 0, rc = 0;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln && rc == 0; ln = strtok_r(NULL, "\n", &save)) {
        line++;
        /* strtok_r skips empty lines: count the ones it jumped over */
        for (const char *q = ln - 1; q > text && *q == '\n' && q[-1] == '\n'; q--)
            line++;
        ln[strcspn(ln, "\r#")] = 0;
        if (!ln[strspn(ln, " \t,;")])
            continue;
        char *cell[8];
        int n = 0;
        for (char *s2 = NULL, *tok = strtok_r(ln, ",; \t", &s2); tok;
             tok = strtok_r(NULL, ",; \t", &s2))
            if (n < 8)
                cell[n++] = tok;
        if (col_t < 0) { /* the header */
            for (int k = 0; k < n; k++) {
                if (!strcmp(cell[k], "time") || !strcmp(cell[k], "t"))
                    col_t = k;
                else if (!strcmp(cell[k], "p") || !strcmp(cell[k], "i")) {
                    col_x = k;
                    is_p = cell[k][0] == 'p';
                } else if (!strcmp(cell[k], "pf"))
                    col_pf = k;
                else if (!strcmp(cell[k], "v"))
                    col_v = k;
                else
                    rc = curve_fail(c, file, line,
                                    "unknown column '%s' (expected time, p or i, pf, v)", cell[k]);
            }
            if (rc == 0 && (col_t < 0 || col_x < 0))
                rc = curve_fail(c, file, line, "%sthe header must name time and p or i",
                                "");
            ncol = n;
            continue;
        }
        if (n != ncol) {
            char want[32];
            snprintf(want, sizeof want, "%d", ncol);
            rc = curve_fail(c, file, line, "expected %s values", want);
            break;
        }
        curve_row row = {0};
        char pfspec[32] = "";
        char *e;
        if (!curve_time(cell[col_t], &row.t)) {
            rc = curve_fail(c, file, line, "'%s' is not a time (seconds or HH:MM[:SS])",
                            cell[col_t]);
            break;
        }
        row.x = strtod(cell[col_x], &e);
        if (e == cell[col_x] || *e || !isfinite(row.x)) {
            rc = curve_fail(c, file, line, "'%s' is not a number", cell[col_x]);
            break;
        }
        if (col_pf >= 0) {
            if (!curve_pf(cell[col_pf], pfspec, sizeof pfspec, &row.pf)) {
                rc = curve_fail(c, file, line, "'%s' is not a power factor (0.9, -0.9, 0.8C)",
                                cell[col_pf]);
                break;
            }
            row.have_pf = true;
        }
        if (col_v >= 0) {
            row.v = strtod(cell[col_v], &e);
            if (e == cell[col_v] || *e || !(row.v >= 0)) {
                rc = curve_fail(c, file, line, "'%s' is not a voltage", cell[col_v]);
                break;
            }
            row.have_v = true;
        }
        if (nrows > 0 && !(row.t > last.t)) {
            rc = curve_fail(c, file, line, "time '%s' is not after the previous row", cell[col_t]);
            break;
        }
        /* The row's load, as a spec on top of the previous one. */
        char spec[200], msg[256];
        snprintf(spec, sizeof spec, "%s%s%s%s=%.12g%s%s", row.have_v ? "v=" : "",
                 row.have_v ? cell[col_v] : "", row.have_v ? "," : "", is_p ? "p" : "i", row.x,
                 row.have_pf ? ",pf=" : "", pfspec);
        if (row.x >= 0 && !row.have_pf)
            snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",import");
        klefr_load at = *prev;
        if (klefr_load_spec_parse(spec, &at, msg, sizeof msg) < 0) {
            rc = curve_fail(c, file, line, "%s", msg);
            break;
        }
        if (nrows == 0 && row.t > 0) { /* before the first row: the previous load holds */
            klefr_scn_seg *g = seg_add(c, js, path);
            if (!g) {
                rc = -1;
                break;
            }
            *g = (klefr_scn_seg){.dur_us = (uint64_t)llround(row.t * 1e6), .load = *prev,
                                 .end = *prev, .power = true, .tariff_input = -1, .replay = -1,
                                 .line = klefr_json_line_of(&c->lines, js)};
            klefr_scn_copy_text(g->label, sizeof g->label, label);
        }
        if (nrows > 0) {
            klefr_scn_seg *g = seg_add(c, js, path);
            if (!g) {
                rc = -1;
                break;
            }
            uint64_t d = (uint64_t)llround((row.t - last.t) * 1e6);
            *g = (klefr_scn_seg){.dur_us = d, .load = *prev, .end = *prev, .power = true,
                                 .tariff_input = -1, .replay = -1,
                                 .line = klefr_json_line_of(&c->lines, js)};
            klefr_scn_copy_text(g->label, sizeof g->label, label);
            if (!step) { /* ramp from the previous row's load to this row's */
                int qx = is_p ? KLEFR_SCN_Q_P : KLEFR_SCN_Q_I;
                int qs[3] = {qx, row.have_pf ? KLEFR_SCN_Q_PF : -1, row.have_v ? KLEFR_SCN_Q_V : -1};
                double phi = prev->phi_deg;
                g->pf_kind = sin(phi * M_PI / 180) * cos(phi * M_PI / 180) < 0 ? 'C' : 'L';
                for (int k = 0; k < 3; k++)
                    if (qs[k] >= 0) {
                        g->ramp_keys |= (uint8_t)(1u << qs[k]);
                        g->ramp_from[qs[k]] = q_of(prev, qs[k]);
                        g->ramp_to[qs[k]] = q_of(&at, qs[k]);
                    }
                g->end = at;
            }
        }
        *prev = at;
        last = row;
        nrows++;
    }
    free(text);
    if (rc == 0 && nrows < 1) {
        snprintf(c->err, c->errlen, "%s:%d: the curve has no rows", file, line > 0 ? line : 1);
        rc = -1;
    }
    if (rc == 0 && step) { /* the last row holds for a moment: its own step */
        klefr_scn_seg *g = seg_add(c, js, path);
        if (!g)
            return -1;
        *g = (klefr_scn_seg){.dur_us = 0, .load = *prev, .end = *prev, .power = true,
                             .tariff_input = -1, .replay = -1,
                             .line = klefr_json_line_of(&c->lines, js)};
        klefr_scn_copy_text(g->label, sizeof g->label, label);
    }
    return rc;
}

/* ---- replays and included profiles -------------------------------------- */

static int parse_replay(klefr_scn_pctx *c, const cJSON *js, const char *path, klefr_scn_seg *g)
{
    klefr_scn *s = c->s;
    const char *name;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(js, "replay");
    if (klefr_scn_string(c, f, path, "replay", &name) < 0)
        return -1;
    klefr_scn_replay_src src = {0};
    klefr_scn_path(s, name, src.path, sizeof src.path);
    static const char *const opt[] = {"rate", "v_scale", "i_scale"};
    double *dst[] = {&src.opts.rate_hz, &src.opts.v_scale, &src.opts.i_scale};
    for (int k = 0; k < 3; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(js, opt[k])) &&
            klefr_scn_number(c, f, path, opt[k], 1e-9, 1e9, dst[k]) < 0)
            return -1;
    /* Check the whole recording now, so a bad line stops the run before it starts. */
    klefr_replay *rp = calloc(1, sizeof *rp);
    if (!rp)
        return klefr_scn_fail(c, js, path, "replay", "out of memory");
    int rc = klefr_replay_open(rp, src.path, &src.opts, c->err, c->errlen);
    double len_s = rp->duration_s;
    if (rc == 0)
        klefr_replay_close(rp);
    free(rp);
    if (rc < 0)
        return -1;
    uint64_t len_us = (uint64_t)(len_s * 1e6);
    int d = seg_duration(c, js, path, g, false);
    if (d < 0)
        return -1;
    if (d == 1)
        g->dur_us = len_us;
    else if (g->dur_us > len_us)
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(js, "duration"), path,
                              "duration", "longer than the recording (%.3f s)", len_s);
    klefr_scn_replay_src *n = realloc(s->replay, (s->nreplay + 1) * sizeof *n);
    if (!n)
        return klefr_scn_fail(c, js, path, "replay", "out of memory");
    s->replay = n;
    s->replay[s->nreplay] = src;
    g->replay = (int)s->nreplay++;
    return 0;
}

static int parse_profile(klefr_scn_pctx *c, const cJSON *js, const char *path, klefr_load *prev,
                         const char *label)
{
    const char *name;
    if (klefr_scn_string(c, cJSON_GetObjectItemCaseSensitive(js, "profile"), path, "profile",
                         &name) < 0)
        return -1;
    char file[8300];
    klefr_scn_path(c->s, name, file, sizeof file);
    klefr_profile p;
    if (klefr_profile_load(&p, file, prev, c->err, c->errlen) < 0)
        return -1;
    int rc = 0;
    if (p.repeat)
        rc = klefr_scn_fail(c, js, path, "profile",
                            "%s repeats; use the scenario's \"repeat\" instead", file);
    for (size_t k = 0; rc == 0 && k < p.nseg; k++) {
        klefr_scn_seg *g = seg_add(c, js, path);
        if (!g) {
            rc = -1;
            break;
        }
        const klefr_segment *ps = &p.seg[k];
        *g = (klefr_scn_seg){.dur_us = ps->duration_us, .load = ps->load, .end = ps->load,
                             .power = ps->power, .tariff_input = ps->tariff_input,
                             .tariff = ps->tariff, .replay = -1,
                             .line = klefr_json_line_of(&c->lines, js)};
        snprintf(g->label, sizeof g->label, "%s%s%s:%d", label, *label ? " " : "", name,
                 ps->line);
        *prev = ps->load;
    }
    klefr_profile_free(&p);
    return rc;
}

/* ---- segments --------------------------------------------------------------- */

static int parse_segment(klefr_scn_pctx *c, const cJSON *js, const char *path, klefr_load *prev)
{
    if (!cJSON_IsObject(js))
        return klefr_scn_fail(c, js, path, NULL, "a segment must be an object");
    if (klefr_scn_keys(c, js, path, seg_keys, NULL) < 0)
        return -1;
    const char *label = "";
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(js, "label");
    if (f && klefr_scn_string(c, f, path, "label", &label) < 0)
        return -1;
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(js, "curve");
    const cJSON *replay = cJSON_GetObjectItemCaseSensitive(js, "replay");
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(js, "profile");
    if (!!curve + !!replay + !!profile > 1)
        return klefr_scn_fail(c, js, path, NULL,
                              "\"curve\", \"replay\" and \"profile\" exclude each other");
    /* Only a curve takes "interpolate", only a replay its options. */
    static const char *const only_curve[] = {"interpolate", NULL};
    static const char *const only_replay[] = {"rate", "v_scale", "i_scale", NULL};
    for (f = js->child; f; f = f->next) {
        bool c1 = f->string && !strcmp(f->string, only_curve[0]);
        bool r1 = false;
        for (int k = 0; only_replay[k]; k++)
            r1 |= !strcmp(f->string, only_replay[k]);
        if ((c1 && !curve) || (r1 && !replay))
            return klefr_scn_fail(c, f, path, f->string, "only for a %s segment",
                                  c1 ? "\"curve\"" : "\"replay\"");
    }
    if (curve || profile) {
        static const char *const allowed[] = {"curve", "interpolate", "profile", "label",
                                              "comment", NULL};
        for (f = js->child; f; f = f->next) {
            bool ok = false;
            for (int k = 0; allowed[k]; k++)
                ok |= !strcmp(f->string, allowed[k]);
            if (!ok)
                return klefr_scn_fail(c, f, path, f->string,
                                      "not allowed in a \"%s\" segment (it sets the load itself)",
                                      curve ? "curve" : "profile");
        }
        if (profile)
            return parse_profile(c, js, path, prev, label);
        const char *name;
        int interp = 0;
        static const char *const modes[] = {"linear", "step", NULL};
        if (klefr_scn_string(c, curve, path, "curve", &name) < 0)
            return -1;
        if ((f = cJSON_GetObjectItemCaseSensitive(js, "interpolate")) &&
            klefr_scn_enum(c, f, path, "interpolate", modes, &interp) < 0)
            return -1;
        return parse_curve(c, js, path, prev, name, interp == 1, label);
    }
    klefr_scn_seg *g = seg_add(c, js, path);
    if (!g)
        return -1;
    *g = (klefr_scn_seg){.load = *prev, .power = true, .tariff_input = -1, .replay = -1,
                         .line = klefr_json_line_of(&c->lines, js)};
    klefr_scn_copy_text(g->label, sizeof g->label, label);
    if (replay) {
        if (parse_replay(c, js, path, g) < 0)
            return -1;
    } else if (seg_duration(c, js, path, g, true) < 0) {
        return -1;
    }
    /* "load" first, then the single fields on top of it, in file order. */
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(f, js)
        {
            if ((pass == 0) != !strcmp(f->string, "load"))
                continue;
            char spec[600], why[256];
            const cJSON *bad;
            int r = klefr_load_field_spec(f, spec, sizeof spec, why, sizeof why, &bad);
            if (r < 0)
                return klefr_scn_fail(c, bad, path, f->string, "%s", why);
            if (r == 1)
                continue;
            if (!strcmp(f->string, "harmonics") && !spec[0]) {
                g->load.n_harm = 0; /* "harmonics": [] = a clean sine */
                continue;
            }
            if (klefr_load_spec_parse(spec, &g->load, why, sizeof why) < 0)
                return klefr_scn_fail(c, f, path, f->string, "%s", why);
        }
    }
    g->end = g->load;
    bool b;
    double x;
    if ((f = cJSON_GetObjectItemCaseSensitive(js, "power"))) {
        if (klefr_scn_bool(c, f, path, "power", &g->power) < 0)
            return -1;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(js, "tariff_input"))) {
        if (klefr_scn_bool(c, f, path, "tariff_input", &b) < 0)
            return -1;
        g->tariff_input = b;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(js, "tariff"))) {
        if (!cJSON_IsNumber(f) || (f->valuedouble != 1 && f->valuedouble != 2))
            return klefr_scn_fail(c, f, path, "tariff", "must be 1 or 2");
        if (f->valuedouble == 2 && !klefr_model_has_tariffs(c->s->model))
            return klefr_scn_fail(c, f, path, "tariff", "the 6921 has one tariff");
        g->tariff = f->valueint;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(js, "v_pct"))) {
        if (klefr_scn_number(c, f, path, "v_pct", 0, 200, &x) < 0)
            return -1;
        g->v_pct = x > 0 ? x : 1e-9; /* 0 % is a sag to nothing, not "none" */
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(js, "ramp"))) {
        if (g->replay >= 0)
            return klefr_scn_fail(c, f, path, "ramp", "a recording cannot ramp");
        if (parse_ramp(c, f, path, g) < 0)
            return -1;
    }
    *prev = g->end;
    return 0;
}

int klefr_scn_timeline_parse(klefr_scn_pctx *c, const cJSON *j)
{
    klefr_scn *s = c->s;
    if (!cJSON_IsArray(j))
        return klefr_scn_fail(c, j, "", "timeline", "must be a list of segments");
    klefr_load prev = s->base;
    int k = 0;
    const cJSON *js;
    cJSON_ArrayForEach(js, j)
    {
        char path[48];
        snprintf(path, sizeof path, "timeline[%d]", k++);
        if (parse_segment(c, js, path, &prev) < 0)
            return -1;
    }
    uint64_t t = 0;
    for (size_t n = 0; n < s->nseg; n++) {
        s->seg[n].start_us = t;
        t += s->seg[n].dur_us;
    }
    s->timeline_us = t;
    return 0;
}

/* ---- playing ------------------------------------------------------------ */

static void ramp_to(klefr_scn_play *r, const klefr_scn_seg *g, double x, uint64_t t_us)
{
    char spec[300], msg[128];
    klefr_load l = g->load;
    ramp_spec(g, x, spec, sizeof spec);
    if (klefr_load_spec_parse(spec, &l, msg, sizeof msg) == 0) /* checked at both ends */
        r->load = l;
    klefr_scn_terminals(r, t_us);
}

static void apply(klefr_scn_play *r, const klefr_scn_seg *g, uint64_t t_us)
{
    klefr_sim *sim = r->sim;
    r->load = g->load;
    r->tl_power = g->power;
    r->v_pct = g->v_pct;
    if (g->tariff_input >= 0)
        r->tariff_input = g->tariff_input;
    klefr_scn_replay_close(r);
    if (g->replay >= 0) {
        const klefr_scn_replay_src *src = &r->s->replay[g->replay];
        r->replaying = klefr_replay_open(&r->replay, src->path, &src->opts, r->err,
                                         sizeof r->err) == 0;
    }
    klefr_scn_terminals(r, t_us);
    if (sim->powered) {
        if (g->tariff_input >= 0)
            klefr_meter_tariff_input(&sim->meter, g->tariff_input != 0, t_us);
        if (g->tariff)
            klefr_meter_set_tariff(&sim->meter, (uint8_t)g->tariff, false, t_us);
    }
    klefr_scn_trace(r, "t=%.3f s: timeline: %s%s(line %d)", (double)t_us / 1e6, g->label,
                    *g->label ? " " : "", g->line);
}

/* Step of a ramp starting at t (inside segment g that started at start):
 * the value of the step's middle; the next step's time. */
static uint64_t ramp_step_at(klefr_scn_play *r, const klefr_scn_seg *g, uint64_t start,
                             uint64_t t_us)
{
    uint64_t end = start + g->dur_us, next = t_us + ramp_step(g);
    next = next < end ? next : end;
    ramp_to(r, g, g->dur_us ? (double)((t_us + next) / 2 - start) / (double)g->dur_us : 1.0, t_us);
    return next < end ? next : UINT64_MAX;
}

static void enter(klefr_scn_play *r, const klefr_scn_seg *g, uint64_t t_us)
{
    apply(r, g, t_us);
    r->tl_ramp_next = g->ramp_keys ? ramp_step_at(r, g, t_us, t_us) : UINT64_MAX;
}

void klefr_scn_timeline_start(klefr_scn_play *r)
{
    r->tl_k = 0;
    r->tl_pass_us = 0;
    r->tl_done = r->s->nseg == 0;
    r->tl_ramp_next = UINT64_MAX;
    if (!r->tl_done)
        enter(r, &r->s->seg[0], 0);
}

static uint64_t seg_end(const klefr_scn_play *r)
{
    const klefr_scn_seg *g = &r->s->seg[r->tl_k];
    return r->tl_pass_us + g->start_us + g->dur_us;
}

uint64_t klefr_scn_timeline_next(const klefr_scn_play *r)
{
    if (r->tl_done)
        return UINT64_MAX;
    uint64_t e = seg_end(r);
    return r->tl_ramp_next < e ? r->tl_ramp_next : e;
}

void klefr_scn_timeline_due(klefr_scn_play *r, uint64_t t_us)
{
    const klefr_scn *s = r->s;
    while (!r->tl_done && t_us >= klefr_scn_timeline_next(r)) {
        const klefr_scn_seg *g = &s->seg[r->tl_k];
        uint64_t start = r->tl_pass_us + g->start_us, end = seg_end(r);
        if (r->tl_ramp_next < end) { /* a ramp step inside the segment */
            r->tl_ramp_next = ramp_step_at(r, g, start, r->tl_ramp_next);
            continue;
        }
        if (g->ramp_keys) /* the ramp's last step lands exactly on its end value */
            ramp_to(r, g, 1.0, end);
        if (r->tl_k + 1 < s->nseg) {
            r->tl_k++;
        } else if (s->repeat) {
            r->tl_k = 0;
            r->tl_pass_us += s->timeline_us;
        } else {
            r->tl_done = true;
            if (r->replaying) { /* the last load holds; a recording has ended */
                klefr_scn_replay_close(r);
                klefr_scn_terminals(r, end);
            }
            break;
        }
        enter(r, &s->seg[r->tl_k], end);
    }
}
