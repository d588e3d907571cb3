/* Scenario expectations: when (at, during, within), what (one row per kind in
 * the table below) and the comparison; checked on the running meter. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "scenario_priv.h"
#include "scenario_serial.h"

static const char *const outputs[] = {"led", "s0_fwd", "s0_rev", NULL};
static const char *const lcd_rows[] = {"text", "icons", "value", "name", NULL};

/* Digits a number needs next to a tolerance: 0.01 -> 2; none -> -1 (%.10g). */
static int decimals(double tol)
{
    if (!(tol > 0))
        return -1;
    int d = (int)ceil(-log10(tol) - 1e-9);
    return d < 0 ? 0 : d > 9 ? 9 : d;
}

/* Digits the expected value itself needs: 43.795 -> 3. */
static int own_decimals(double x)
{
    for (int d = 0; d < 9; d++)
        if (fabs(round(x * pow(10, d)) / pow(10, d) - x) <= 1e-9 * fmax(1, fabs(x)))
            return d;
    return 9;
}

/* Digits to print next to a tolerance: those of the tolerance and of the value. */
static int digits(const klefr_scn_expect *e)
{
    if (!e->has_tol || e->tol_pct)
        return -1;
    int a = decimals(e->tol), b = own_decimals(e->eq);
    return a > b ? a : b;
}

static void fmt_num(char *out, size_t n, double x, int dec)
{
    if (dec < 0)
        snprintf(out, n, "%.10g", x);
    else
        snprintf(out, n, "%.*f", dec, x);
}

static void append(char *buf, size_t n, const char *fmt, ...)
{
    size_t at = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (at < n)
        vsnprintf(buf + at, n - at, fmt, ap);
    va_end(ap);
}

/* "energy.active_fwd_kwh = 2.30 +- 0.01", "measure.v in 220..240" ... */
static void describe(klefr_scn_expect *e, const char *subject)
{
    char a[64], b[64];
    snprintf(e->what, sizeof e->what, "%s", subject);
    int dec = digits(e);
    if (e->has_re) {
        append(e->what, sizeof e->what, " ~ /%s/", e->eq_str);
    } else if (e->eq_str) {
        append(e->what, sizeof e->what, " = \"%s\"", e->eq_str);
    } else if (e->has_eq) {
        fmt_num(a, sizeof a, e->eq, dec);
        append(e->what, sizeof e->what, " = %s", a);
        if (e->has_tol) {
            fmt_num(b, sizeof b, e->tol, dec);
            append(e->what, sizeof e->what, " +- %s%s", b, e->tol_pct ? " %" : "");
        }
    } else if (e->has_min && e->has_max) {
        fmt_num(a, sizeof a, e->min, -1);
        fmt_num(b, sizeof b, e->max, -1);
        append(e->what, sizeof e->what, " in %s..%s", a, b);
    } else if (e->has_min) {
        fmt_num(a, sizeof a, e->min, -1);
        append(e->what, sizeof e->what, " >= %s", a);
    } else if (e->has_max) {
        fmt_num(a, sizeof a, e->max, -1);
        append(e->what, sizeof e->what, " <= %s", a);
    }
}

/* ---- comparisons ------------------------------------------------------------ */

enum { CMP_NUM = 1, CMP_TEXT = 2, CMP_RE = 4 };

static int parse_cmp(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e,
                     int allowed)
{
    const cJSON *f;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "eq"))) {
        if (cJSON_IsString(f) && (allowed & CMP_TEXT)) {
            if (!(e->eq_str = strdup(f->valuestring)))
                return klefr_scn_fail(c, f, path, "eq", "out of memory");
        } else if (cJSON_IsNumber(f) && (allowed & CMP_NUM)) {
            e->has_eq = true;
            e->eq = f->valuedouble;
        } else {
            return klefr_scn_fail(c, f, path, "eq", "must be %s",
                                  (allowed & CMP_NUM) ? "a number" : "a string");
        }
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "match"))) {
        if (!(allowed & CMP_RE) || !cJSON_IsString(f))
            return klefr_scn_fail(c, f, path, "match", "must be a regular expression string");
        /* Before anything is kept: "eq" may hold a copy already (a fuzzed
         * scenario with both leaked it when the second replaced it). */
        if (cJSON_GetObjectItemCaseSensitive(o, "eq"))
            return klefr_scn_fail(c, f, path, "match", "give \"eq\" or \"match\", not both");
        int rc = regcomp(&e->re, f->valuestring, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[160];
            regerror(rc, &e->re, why, sizeof why);
            return klefr_scn_fail(c, f, path, "match", "bad regular expression: %s", why);
        }
        e->has_re = true;
        if (!(e->eq_str = strdup(f->valuestring)))
            return klefr_scn_fail(c, f, path, "match", "out of memory");
    }
    static const char *const nums[] = {"tol", "tol_pct", "min", "max"};
    for (int k = 0; k < 4; k++) {
        if (!(f = cJSON_GetObjectItemCaseSensitive(o, nums[k])))
            continue;
        double x;
        if (klefr_scn_number(c, f, path, nums[k], k < 2 ? 0 : -1e300, 1e300, &x) < 0)
            return -1;
        if (k < 2) {
            if (!e->has_eq)
                return klefr_scn_fail(c, f, path, nums[k], "a tolerance needs a number \"eq\"");
            if (e->has_tol)
                return klefr_scn_fail(c, f, path, nums[k], "give \"tol\" or \"tol_pct\", not both");
            e->has_tol = true;
            e->tol = x;
            e->tol_pct = k == 1;
        } else {
            if (e->has_eq || e->eq_str)
                return klefr_scn_fail(c, f, path, nums[k], "give \"eq\" or \"min\"/\"max\", not both");
            *(k == 2 ? &e->min : &e->max) = x;
            *(k == 2 ? &e->has_min : &e->has_max) = true;
        }
    }
    if (e->has_min && e->has_max && e->max < e->min)
        return klefr_scn_fail(c, o, path, "max", "is below \"min\"");
    if (!e->has_eq && !e->eq_str && !e->has_re && !e->has_min && !e->has_max)
        return klefr_scn_fail(c, o, path, NULL, "nothing to compare: give %s",
                              (allowed & CMP_RE)    ? "\"eq\" or \"match\""
                              : (allowed & CMP_TEXT) ? "\"eq\""
                                                     : "\"eq\" (with \"tol\" or \"tol_pct\"), "
                                                       "\"min\" or \"max\"");
    return 0;
}

static bool cmp_num(const klefr_scn_expect *e, double x)
{
    if (isnan(x))
        return false;
    if (e->has_eq) {
        double tol = !e->has_tol ? 0 : e->tol_pct ? fabs(e->eq) * e->tol / 100 : e->tol;
        return fabs(x - e->eq) <= tol * (1 + 1e-12) + 1e-12 * fabs(e->eq);
    }
    return (!e->has_min || x >= e->min) && (!e->has_max || x <= e->max);
}

static void got_num(klefr_scn_expect *e, double x)
{
    e->got_is_str = false;
    e->got = x;
    int dec = digits(e);
    char want[64];
    fmt_num(e->got_str, sizeof e->got_str, x, dec);
    fmt_num(want, sizeof want, e->eq, dec);
    /* Never print "expect 2.30, got 2.30": show the digits that differ. */
    for (int d = dec + 1; dec >= 0 && d <= 12 && !strcmp(want, e->got_str); d++) {
        fmt_num(e->got_str, sizeof e->got_str, x, d);
        fmt_num(want, sizeof want, e->eq, d);
    }
}

static bool cmp_text(klefr_scn_expect *e, const char *s)
{
    e->got_is_str = true;
    snprintf(e->got_str, sizeof e->got_str, "\"%s\"", s);
    if (e->has_re)
        return regexec(&e->re, s, 0, NULL, 0) == 0;
    return !strcmp(s, e->eq_str);
}

/* ---- kinds ------------------------------------------------------------------- */

static int x_value(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "value");
    bool is_num;
    if (!cJSON_IsString(f) || !(e->value = klefr_scn_value_find(f->valuestring, &e->sel, &is_num)))
        return klefr_scn_fail(c, f, path, "value", "unknown value (expected %s)",
                              klefr_scn_value_names());
    if (parse_cmp(c, o, path, e, is_num ? CMP_NUM : CMP_TEXT) < 0)
        return -1;
    describe(e, f->valuestring);
    return 0;
}

static bool h_value(klefr_scn_play *r, klefr_scn_expect *e)
{
    double x = 0;
    const char *s = NULL;
    if (e->value->get(r, e->value->arg, e->sel, &x, &s)) {
        got_num(e, x);
        return cmp_num(e, x);
    }
    return cmp_text(e, s ? s : "");
}

static int x_lcd(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "lcd");
    if (klefr_scn_enum(c, f, path, "lcd", lcd_rows, &e->sel) < 0 ||
        parse_cmp(c, o, path, e, CMP_TEXT | CMP_RE) < 0)
        return -1;
    char subject[32];
    snprintf(subject, sizeof subject, "lcd.%s", lcd_rows[e->sel]);
    describe(e, subject);
    return 0;
}

/* The LCD as text: the three rows of klefr_lcd_text, or all of them as
 * --lcd-text prints them ("icons | value | name"). A dead meter shows nothing. */
static void lcd_row(const klefr_sim *sim, int row, char *out, size_t n)
{
    char text[160] = "";
    if (sim->powered)
        klefr_lcd_text(&sim->out.lcd, text, sizeof text);
    char *line[3] = {text, "", ""};
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = 0;
        line[1] = nl + 1;
        if ((nl = strchr(line[1], '\n'))) {
            *nl = 0;
            line[2] = nl + 1;
        }
    }
    if (row == 0)
        snprintf(out, n, "%s | %s | %s", line[0], line[1], line[2]);
    else
        snprintf(out, n, "%s", line[row - 1]);
}

void klefr_scn_lcd(const klefr_sim *sim, char *out, size_t n)
{
    lcd_row(sim, 0, out, n);
}

static bool h_lcd(klefr_scn_play *r, klefr_scn_expect *e)
{
    char s[160];
    lcd_row(r->sim, e->sel, s, sizeof s);
    return cmp_text(e, s);
}

static int x_pulses(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, e->kind->key);
    if (klefr_scn_enum(c, f, path, e->kind->key, outputs, &e->sel) < 0 ||
        parse_cmp(c, o, path, e, CMP_NUM) < 0)
        return -1;
    char subject[48];
    snprintf(subject, sizeof subject, "%s.%s", e->kind->key, outputs[e->sel]);
    describe(e, subject);
    return 0;
}

static bool h_pulses(klefr_scn_play *r, klefr_scn_expect *e)
{
    (void)r;
    got_num(e, (double)e->count);
    return cmp_num(e, (double)e->count);
}

/* Every pulse's width must pass: the narrowest and the widest do. */
static bool h_width(klefr_scn_play *r, klefr_scn_expect *e)
{
    (void)r;
    if (!e->count) {
        e->got_is_str = true;
        snprintf(e->got_str, sizeof e->got_str, "no pulse");
        return false;
    }
    bool lo = cmp_num(e, e->acc_min), hi = cmp_num(e, e->acc_max);
    got_num(e, lo ? e->acc_max : e->acc_min);
    if (e->acc_min != e->acc_max && (!lo || !hi)) {
        char a[64], b[64];
        fmt_num(a, sizeof a, e->acc_min, 3);
        fmt_num(b, sizeof b, e->acc_max, 3);
        snprintf(e->got_str, sizeof e->got_str, "%s..%s", a, b);
    }
    return lo && hi;
}

static int x_accuracy(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "accuracy");
    if (klefr_scn_enum(c, f, path, "accuracy", klefr_scn_energy_names, &e->sel) < 0)
        return -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "tol_pct");
    if (!t)
        return klefr_scn_fail(c, o, path, NULL, "\"accuracy\" needs \"tol_pct\"");
    if (klefr_scn_number(c, t, path, "tol_pct", 0, 1e6, &e->tol) < 0)
        return -1;
    e->has_tol = e->tol_pct = true;
    snprintf(e->what, sizeof e->what, "accuracy %s within %.10g %%",
             klefr_scn_energy_names[e->sel], e->tol);
    return 0;
}

static bool h_accuracy(klefr_scn_play *r, klefr_scn_expect *e)
{
    double reg = klefr_scn_energy_kwh(r->sim, e->sel) - e->reg0;
    double truth = r->truth_kwh[e->sel] - e->truth0;
    e->got_is_str = true;
    if (isnan(truth)) {
        snprintf(e->got_str, sizeof e->got_str, "no truth for this timeline");
        return false;
    }
    double err = truth != 0 ? (reg - truth) / fabs(truth) * 100 : reg == 0 ? 0 : INFINITY;
    e->got = err;
    snprintf(e->got_str, sizeof e->got_str, "%+.4f %% (registered %.6f, truth %.6f)", err, reg,
             truth);
    return fabs(err) <= e->tol;
}

static const char *const f_value[] = {"value", "eq", "tol", "tol_pct", "min", "max", NULL};
static const char *const f_lcd[] = {"lcd", "eq", "match", NULL};
static const char *const f_pulses[] = {"pulses", "eq", "tol", "tol_pct", "min", "max", NULL};
static const char *const f_width[] = {"pulse_width_ms", "eq", "tol", "min", "max", NULL};
static const char *const f_acc[] = {"accuracy", "tol_pct", NULL};

static const klefr_scn_expect_kind kinds[] = {
    {"value", f_value, x_value, h_value, false},
    {"lcd", f_lcd, x_lcd, h_lcd, false},
    {"pulses", f_pulses, x_pulses, h_pulses, true},
    {"pulse_width_ms", f_width, x_pulses, h_width, true},
    {"accuracy", f_acc, x_accuracy, h_accuracy, true},
    {"reply", klefr_scn_f_reply, klefr_scn_reply_parse, klefr_scn_reply_holds, false},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* ---- parsing ------------------------------------------------------------------ */

static const char *const common[] = {"at", "during", "within", "name", "label", "comment",
                                     "meter", NULL};

static int parse_when(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e)
{
    static const char *const w[] = {"at", "during", "within"};
    const cJSON *f = NULL;
    int n = 0;
    for (int k = 0; k < 3; k++)
        if (cJSON_GetObjectItemCaseSensitive(o, w[k])) {
            f = cJSON_GetObjectItemCaseSensitive(o, w[k]);
            e->when = (klefr_scn_when)k;
            n++;
        }
    if (n > 1)
        return klefr_scn_fail(c, o, path, NULL, "give one of \"at\", \"during\", \"within\"");
    if (n == 0) {
        e->when = KLEFR_SCN_AT;
        e->t_end = true;
        return 0;
    }
    if (e->when == KLEFR_SCN_AT)
        return klefr_scn_time(c, f, path, "at", &e->t_us, true, &e->t_end);
    const char *key = w[e->when];
    if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2)
        return klefr_scn_fail(c, f, path, key, "must be [from, to]");
    char k0[16], k1[16];
    snprintf(k0, sizeof k0, "%s[0]", key);
    snprintf(k1, sizeof k1, "%s[1]", key);
    if (klefr_scn_time(c, f->child, path, k0, &e->t_us, true, &e->t_end) < 0 ||
        klefr_scn_time(c, f->child->next, path, k1, &e->t2_us, true, &e->t2_end) < 0)
        return -1;
    if (e->t_end)
        return klefr_scn_fail(c, f->child, path, k0, "a window cannot start at the end");
    if (!e->t2_end && e->t2_us < e->t_us)
        return klefr_scn_fail(c, f, path, key, "ends before it starts");
    return 0;
}

klefr_scn_expect *klefr_scn_expect_new(klefr_scn_pctx *c, const cJSON *at, const char *path)
{
    klefr_scn *s = c->s;
    if (s->nex % 64 == 0) {
        klefr_scn_expect *n = realloc(s->ex, (s->nex + 64) * sizeof *n);
        if (!n) {
            klefr_scn_fail(c, at, path, NULL, "out of memory");
            return NULL;
        }
        s->ex = n;
    }
    klefr_scn_expect *e = &s->ex[s->nex++];
    memset(e, 0, sizeof *e);
    e->line = klefr_json_line_of(&c->lines, at);
    return e;
}

/* Whose, in an installation: "flat-03: energy.active_fwd_kwh >= 1". */
static void name_meter(const klefr_scn *s, klefr_scn_expect *e)
{
    const char *id = klefr_scn_meter_id(s, (size_t)e->meter);
    char what[sizeof e->what + KLEFR_SCN_TEXT];
    snprintf(what, sizeof what, "%s: %s", id, e->what);
    klefr_scn_copy_text(e->what, sizeof e->what, what);
    if (e->name[0])
        append(e->name, sizeof e->name, " [%s]", id);
}

/* One expectation of object o for the scenario's meter number meter; named:
 * its text says whose (an installation's). */
static int parse_one(klefr_scn_pctx *c, const cJSON *o, const char *path, bool timed,
                     size_t meter, bool named, klefr_scn_expect **out)
{
    klefr_scn *s = c->s;
    klefr_scn_expect *e = klefr_scn_expect_new(c, o, path);
    if (!e)
        return -1;
    *out = e;
    e->meter = (int)meter;
    for (size_t k = 0; k < NKINDS; k++)
        if (cJSON_GetObjectItemCaseSensitive(o, kinds[k].key)) {
            if (e->kind)
                return klefr_scn_fail(c, o, path, kinds[k].key, "one subject per "
                                      "expectation (\"%s\" is here too)", e->kind->key);
            e->kind = &kinds[k];
        }
    if (!e->kind)
        return klefr_scn_fail(c, o, path, NULL, "an expectation needs one of \"value\", "
                              "\"lcd\", \"pulses\", \"pulse_width_ms\", \"accuracy\", "
                              "\"reply\"");
    if (klefr_scn_keys(c, o, path, timed ? common : common + 3, e->kind->fields) < 0)
        return -1;
    const cJSON *f;
    klefr_model model = s->model;
    s->model = klefr_scn_meter_model(s, meter); /* settings are the model's */
    int rc = e->kind->parse(c, o, path, e);
    s->model = model;
    if (rc < 0 || parse_when(c, o, path, e) < 0)
        return -1;
    const char *str;
    static const char *const texts[] = {"name", "label", "comment"};
    for (int k = 0; k < 3; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(o, texts[k])) &&
            klefr_scn_string(c, f, path, texts[k], &str) < 0)
            return -1;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "label")))
        klefr_scn_copy_text(e->label, sizeof e->label, f->valuestring);
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "name")))
        klefr_scn_copy_text(e->name, sizeof e->name, f->valuestring);
    if (named)
        name_meter(s, e);
    return 0;
}

int klefr_scn_expect_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, bool timed,
                           klefr_scn_expect **out)
{
    if (!cJSON_IsObject(o))
        return klefr_scn_fail(c, o, path, NULL, "an expectation must be an object");
    /* For the meter named, or one each for every meter of an installation. */
    size_t first, end;
    if (klefr_scn_meters_of(c, cJSON_GetObjectItemCaseSensitive(o, "meter"), path, &first,
                            &end) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "reply"))
        end = first + 1; /* a serial step's reply is the master's: one check */
    for (size_t m = first; m < end; m++) /* *out: the last (s->ex may move) */
        if (parse_one(c, o, path, timed, m, c->s->fleet != NULL, out) < 0)
            return -1;
    return 0;
}

int klefr_scn_expects_parse(klefr_scn_pctx *c, const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return klefr_scn_fail(c, j, "", "expect", "must be a list of expectations");
    int idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        char path[48];
        klefr_scn_expect *e;
        snprintf(path, sizeof path, "expect[%d]", idx++);
        if (klefr_scn_expect_parse(c, o, path, true, &e) < 0)
            return -1;
    }
    return 0;
}

int klefr_scn_expect_lcd(klefr_scn_pctx *c, const cJSON *at, const char *path, const char *text,
                         uint64_t t_us, klefr_scn_expect **out)
{
    klefr_scn_expect *e = klefr_scn_expect_new(c, at, path);
    if (!e)
        return -1;
    *e = (klefr_scn_expect){.kind = &kinds[1], .when = KLEFR_SCN_AT, .t_us = t_us,
                            .sel = 0, .line = e->line, .eq_str = strdup(text),
                            .meter = (int)c->s->tour_meter};
    *out = e;
    if (!e->eq_str)
        return klefr_scn_fail(c, at, path, NULL, "out of memory");
    describe(e, "lcd.text");
    if (c->s->fleet)
        name_meter(c->s, e);
    return 0;
}

/* ---- checking ------------------------------------------------------------------ */

static void window_text(const klefr_scn_expect *e, char *out, size_t n)
{
    if (e->when == KLEFR_SCN_AT)
        out[0] = 0;
    else
        snprintf(out, n, " %s %.10g..%.10g s", e->when == KLEFR_SCN_DURING ? "during" : "within",
                 (double)e->t_us / 1e6, (double)e->t2_us / 1e6);
}

static void decide(klefr_scn_play *r, klefr_scn_expect *e, bool ok, uint64_t t_us)
{
    e->state = ok ? KLEFR_SCN_PASS : KLEFR_SCN_FAIL;
    e->at_us = t_us;
    char win[96];
    window_text(e, win, sizeof win);
    snprintf(e->msg, sizeof e->msg, "t=%.10g s: expect %s%s, got %s", (double)t_us / 1e6,
             e->what, win, e->got_str);
    if (ok)
        r->s->npass++;
    else
        r->s->nfail++;
    klefr_scn_trace(r, "%s: line %d: %s", ok ? "pass" : "FAIL", e->line, e->msg);
}

/* An "at" check of a plain kind, or a watched window's slice. */
void klefr_scn_expect_check(klefr_scn_play *r, klefr_scn_expect *e, uint64_t t_us)
{
    if (e->state != KLEFR_SCN_PENDING)
        return;
    bool ok = e->kind->holds(r, e);
    if (e->when == KLEFR_SCN_AT)
        decide(r, e, ok, t_us);
    else if (e->when == KLEFR_SCN_DURING && !ok)
        decide(r, e, false, t_us);
    else if (e->when == KLEFR_SCN_WITHIN && ok)
        decide(r, e, true, t_us);
}

void klefr_scn_expect_window_open(klefr_scn_play *r, klefr_scn_expect *e)
{
    e->count = 0;
    e->acc_min = INFINITY;
    e->acc_max = -INFINITY;
    e->reg0 = klefr_scn_energy_kwh(r->sim, e->sel >= 0 && e->sel < 4 ? e->sel : 0);
    e->truth0 = r->truth_kwh[e->sel >= 0 && e->sel < 4 ? e->sel : 0];
    if (e->kind->holds == h_accuracy && e->when == KLEFR_SCN_AT) { /* since the start of the run */
        e->reg0 = r->start_kwh[e->sel >= 0 && e->sel < 4 ? e->sel : 0];
        e->truth0 = 0;
    }
}

/* End of a window (or of the run, for pulse counts): decide what is pending. */
void klefr_scn_expect_window_close(klefr_scn_play *r, klefr_scn_expect *e, uint64_t t_us)
{
    if (e->state != KLEFR_SCN_PENDING)
        return;
    bool ok = e->kind->holds(r, e);
    if (e->when == KLEFR_SCN_DURING && !e->kind->counts)
        ok = true; /* held at every slice so far (the last one was just checked) */
    decide(r, e, ok, t_us);
}

void klefr_scn_expect_pulse(klefr_scn_play *r, klefr_output out, uint64_t t_us, uint32_t width_us)
{
    const klefr_scn *s = r->s;
    for (size_t k = 0; k < s->nex; k++) {
        klefr_scn_expect *e = &s->ex[k];
        if (!e->kind->counts || e->kind->holds == h_accuracy || e->sel != (int)out ||
            e->state != KLEFR_SCN_PENDING || e->meter != (int)r->meter)
            continue;
        uint64_t from = e->when == KLEFR_SCN_AT ? 0 : e->t_us;
        uint64_t to = e->when == KLEFR_SCN_AT ? e->t_us : e->t2_us;
        if (t_us < from || t_us >= to)
            continue;
        e->count++;
        double w = width_us / 1000.0;
        e->acc_min = w < e->acc_min ? w : e->acc_min;
        e->acc_max = w > e->acc_max ? w : e->acc_max;
    }
}

void klefr_scn_failure_line(const klefr_scn *s, const klefr_scn_expect *e, char *buf, size_t n)
{
    snprintf(buf, n, "%s: %s", s->file, e->msg);
}

/* ---- for kinds in other files ------------------------------------------------- */

_Static_assert((int)CMP_NUM == (int)KLEFR_SCN_CMP_NUM && (int)CMP_TEXT == (int)KLEFR_SCN_CMP_TEXT &&
                   (int)CMP_RE == (int)KLEFR_SCN_CMP_RE,
               "comparison bits");

int klefr_scn_cmp_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e,
                        int allowed)
{
    return parse_cmp(c, o, path, e, allowed);
}

bool klefr_scn_cmp_num(klefr_scn_expect *e, double x)
{
    got_num(e, x);
    return cmp_num(e, x);
}

bool klefr_scn_cmp_text(klefr_scn_expect *e, const char *s)
{
    return cmp_text(e, s);
}

void klefr_scn_describe(klefr_scn_expect *e, const char *subject)
{
    describe(e, subject);
}

void klefr_scn_expect_decide(klefr_scn_play *r, klefr_scn_expect *e, bool ok, uint64_t t_us)
{
    decide(r, e, ok, t_us);
}
