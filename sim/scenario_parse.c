/* Scenario files: JSON to a klefr_scn, every error one line naming the file,
 * the line and the field (docs/scenarios.md). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "klefr/config.h"
#include "load_spec.h"
#include "fleet.h"
#include "scenario_priv.h"

int klefr_scn_fail(klefr_scn_pctx *c, const cJSON *at, const char *path, const char *field,
                   const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = at ? klefr_json_line_of(&c->lines, at) : 0;
    char where[300];
    if (field && *path)
        snprintf(where, sizeof where, "%s.%s", path, field);
    else
        snprintf(where, sizeof where, "%s", field ? field : *path ? path : "(top level)");
    snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->s->file, line > 0 ? line : 1, where, msg);
    klefr_one_line(c->err); /* keys and values quoted may hold control characters */
    return -1;
}

static bool in_list(const char *k, const char *const *l)
{
    for (; l && *l; l++)
        if (!strcmp(k, *l))
            return true;
    return false;
}

static void join(char *out, size_t n, const char *const *a, const char *const *b)
{
    size_t at = 0;
    out[0] = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const char *const *l = pass ? b : a; l && *l; l++)
            if (at < n)
                at += (size_t)snprintf(out + at, n - at, "%s%s", at ? ", " : "", *l);
}

int klefr_scn_keys(klefr_scn_pctx *c, const cJSON *obj, const char *path, const char *const *a,
                   const char *const *b)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, obj)
    {
        if (in_list(f->string, a) || in_list(f->string, b))
            continue;
        char names[600];
        join(names, sizeof names, a, b);
        return klefr_scn_fail(c, f, path, f->string, "unknown key (expected %s)", names);
    }
    return 0;
}

int klefr_scn_time(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   uint64_t *us, bool allow_end, bool *is_end)
{
    if (is_end)
        *is_end = false;
    if (cJSON_IsNumber(j)) {
        if (!(j->valuedouble >= 0) || j->valuedouble > 1e11)
            return klefr_scn_fail(c, j, path, field, "a time must be 0 to 1e11 seconds");
        *us = (uint64_t)llround(j->valuedouble * 1e6);
        return 0;
    }
    if (cJSON_IsString(j)) {
        if (allow_end && !strcmp(j->valuestring, "end")) {
            *is_end = true;
            *us = 0;
            return 0;
        }
        if (klefr_duration_parse(j->valuestring, us) == 0 && *us <= 100000000000000000ull)
            return 0;
        return klefr_scn_fail(c, j, path, field,
                              "bad time \"%.40s\" (expected seconds or a string like \"90s\", "
                              "\"250ms\", \"15min\", \"1h30m\", \"2d\"%s)",
                              j->valuestring, allow_end ? ", or \"end\"" : "");
    }
    return klefr_scn_fail(c, j, path, field, "a time must be a number of seconds or a string "
                                             "like \"1h30m\"");
}

int klefr_scn_string(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                     const char **out)
{
    if (!cJSON_IsString(j))
        return klefr_scn_fail(c, j, path, field, "must be a string");
    *out = j->valuestring;
    return 0;
}

int klefr_scn_number(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                     double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(j))
        return klefr_scn_fail(c, j, path, field, "must be a number");
    if (!(j->valuedouble >= lo && j->valuedouble <= hi))
        return klefr_scn_fail(c, j, path, field, "%g is out of range %g..%g", j->valuedouble, lo,
                              hi);
    *out = j->valuedouble;
    return 0;
}

int klefr_scn_whole(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                    double lo, double hi, double *out)
{
    if (klefr_scn_number(c, j, path, field, lo, hi, out) < 0)
        return -1;
    if (*out != floor(*out))
        return klefr_scn_fail(c, j, path, field, "must be a whole number");
    return 0;
}

int klefr_scn_bool(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   bool *out)
{
    if (!cJSON_IsBool(j))
        return klefr_scn_fail(c, j, path, field, "must be true or false");
    *out = cJSON_IsTrue(j);
    return 0;
}

int klefr_scn_enum(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   const char *const *names, int *out)
{
    if (cJSON_IsString(j))
        for (int k = 0; names[k]; k++)
            if (!strcmp(j->valuestring, names[k])) {
                *out = k;
                return 0;
            }
    char all[400];
    join(all, sizeof all, names, NULL);
    return klefr_scn_fail(c, j, path, field, "must be one of %s", all);
}

void klefr_scn_path(const klefr_scn *s, const char *name, char *out, size_t n)
{
    if (name[0] == '/' || !s->dir[0])
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s/%s", s->dir, name);
}

uint64_t klefr_scn_rand(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1Dull;
}

void klefr_scn_copy_text(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
    size_t len = strlen(dst), k = len;
    if (len == strlen(src))
        return;
    while (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
        k--; /* back to the last character's first byte */
    if (k > 0 && (unsigned char)dst[k - 1] >= 0xC0 && !klefr_scn_utf8_char((unsigned char *)dst + k - 1))
        dst[k - 1] = 0;
}

size_t klefr_scn_utf8_char(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] < 0xC2 || p[0] > 0xF4)
        return 0;
    size_t n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    unsigned char lo = p[0] == 0xE0 ? 0xA0 : p[0] == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = p[0] == 0xED ? 0x9F : p[0] == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi) /* overlong forms, surrogates, past U+10FFFF */
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

void klefr_scn_utf8_fix(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p;) {
        size_t n = klefr_scn_utf8_char(p);
        if (!n)
            *p = '?', n = 1;
        p += n;
    }
}

/* ---- the meter ---------------------------------------------------------- */

int klefr_scn_serial_number(klefr_scn_pctx *c, const cJSON *j, const char *path, uint32_t *bcd)
{
    char digits[16];
    if (cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble <= 99999999 &&
        j->valuedouble == floor(j->valuedouble))
        snprintf(digits, sizeof digits, "%08.0f", j->valuedouble);
    else if (cJSON_IsString(j) && strlen(j->valuestring) >= 1 && strlen(j->valuestring) <= 8 &&
             strspn(j->valuestring, "0123456789") == strlen(j->valuestring))
        snprintf(digits, sizeof digits, "%08lu", strtoul(j->valuestring, NULL, 10));
    else
        return klefr_scn_fail(c, j, path, "serial", "must be 1 to 8 decimal digits");
    *bcd = (uint32_t)strtoul(digits, NULL, 16); /* digits as BCD */
    return 0;
}

static int read_state(klefr_scn_pctx *c, const cJSON *j, const char *path)
{
    const char *dir;
    if (klefr_scn_string(c, j, path, "state_dir", &dir) < 0)
        return -1;
    char file[8300];
    klefr_scn_path(c->s, dir, file, sizeof file);
    snprintf(file + strlen(file), sizeof file - strlen(file), "/eeprom.bin");
    FILE *f = fopen(file, "rb");
    if (!f)
        return klefr_scn_fail(c, j, path, "state_dir", "%s: %s", file, strerror(errno));
    size_t got = fread(c->s->eeprom, 1, sizeof c->s->eeprom, f);
    int extra = fgetc(f);
    fclose(f);
    if (got != sizeof c->s->eeprom || extra != EOF)
        return klefr_scn_fail(c, j, path, "state_dir", "%s: not a %zu-byte EEPROM image", file,
                              sizeof c->s->eeprom);
    c->s->have_state = true;
    return 0;
}

static int parse_meter(klefr_scn_pctx *c, const cJSON *m)
{
    static const char *const keys[] = {"id", "model", "serial", "seed", "load", "settings",
                                       "registers", "state_dir", "comment", NULL};
    const char *path = "meter";
    klefr_scn *s = c->s;
    if (!cJSON_IsObject(m))
        return klefr_scn_fail(c, m, "", "meter", "must be an object");
    if (klefr_scn_keys(c, m, path, keys, NULL) < 0)
        return -1;
    const cJSON *f;
    /* The model first: settings depend on it. */
    if ((f = cJSON_GetObjectItemCaseSensitive(m, "model"))) {
        if (!cJSON_IsNumber(f) || !klefr_model_valid(f->valueint) ||
            f->valuedouble != f->valueint)
            return klefr_scn_fail(c, f, path, "model", "must be 6921, 6922, 6923 or 6924");
        s->model = (klefr_model)f->valueint;
    }
    cJSON_ArrayForEach(f, m)
    {
        const char *k = f->string, *str;
        double x;
        if (!strcmp(k, "id")) {
            if (klefr_scn_string(c, f, path, k, &str) < 0)
                return -1;
            klefr_scn_copy_text(s->meter_id, sizeof s->meter_id, str);
        } else if (!strcmp(k, "serial")) {
            if (klefr_scn_serial_number(c, f, path, &s->serial) < 0)
                return -1;
        } else if (!strcmp(k, "seed")) {
            if (klefr_scn_whole(c, f, path, k, 0, 9007199254740992.0, &x) < 0)
                return -1;
            s->seed = (uint64_t)x;
        } else if (!strcmp(k, "load")) {
            char msg[256];
            if (klefr_scn_string(c, f, path, k, &str) < 0)
                return -1;
            if (klefr_load_spec_parse(str, &s->base, msg, sizeof msg) < 0)
                return klefr_scn_fail(c, f, path, k, "%s", msg);
        } else if (!strcmp(k, "state_dir")) {
            if (read_state(c, f, path) < 0)
                return -1;
        }
    }
    /* Settings and registers after the serial (the secondary address defaults to it). */
    if ((f = cJSON_GetObjectItemCaseSensitive(m, "settings"))) {
        if (klefr_scn_settings_parse(c, f, "meter.settings", &s->settings) < 0)
            return -1;
        s->have_settings = true;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(m, "registers"))) {
        if (klefr_scn_registers_parse(c, f, "meter.registers") < 0)
            return -1;
        s->have_regs = true;
    }
    if (s->have_state && (s->have_settings || s->have_regs))
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(m, "state_dir"), path,
                              "state_dir", "excludes \"settings\" and \"registers\" (the "
                                           "image holds both)");
    return 0;
}

/* ---- the file ----------------------------------------------------------- */

static uint64_t slices_up(uint64_t us)
{
    return (us + KLEFR_SIM_SLICE_US - 1) / KLEFR_SIM_SLICE_US * KLEFR_SIM_SLICE_US;
}

/* The run's length, then "end" in expectations, and nothing after the end. */
static int resolve_times(klefr_scn_pctx *c, const cJSON *root)
{
    klefr_scn *s = c->s;
    uint64_t last = s->repeat ? 0 : s->timeline_us;
    for (size_t k = 0; k < s->nev; k++) {
        uint64_t e = klefr_scn_event_end(&s->ev[k]);
        last = e > last ? e : last;
    }
    for (size_t k = 0; k < s->nex; k++) {
        const klefr_scn_expect *e = &s->ex[k];
        uint64_t t = e->when == KLEFR_SCN_AT ? (e->t_end ? 0 : e->t_us) : e->t2_end ? e->t_us : e->t2_us;
        last = t > last ? t : last;
    }
    if (!s->have_duration) {
        uint64_t steps = klefr_scn_serials_end(s); /* room for the serial steps' replies */
        last = steps > last ? steps : last;
        if (s->repeat)
            return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(root, "repeat"), "",
                                  "repeat", "a repeating timeline needs a \"duration\"");
        s->duration_us = last;
    } else if (last > s->duration_us) {
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(root, "duration"), "",
                              "duration",
                              "%.10g s is shorter than the last event or expectation (%.10g s)",
                              (double)s->duration_us / 1e6, (double)last / 1e6);
    }
    s->duration_us = slices_up(s->duration_us);
    if (s->duration_us == 0)
        s->duration_us = KLEFR_SIM_SLICE_US;
    for (size_t k = 0; k < s->nex; k++) {
        klefr_scn_expect *e = &s->ex[k];
        if (e->t_end)
            e->t_us = s->duration_us;
        if (e->t2_end)
            e->t2_us = s->duration_us;
    }
    return 0;
}

/* ---- installations: "meters" (sim/fleet.h) --------------------------------- */

int klefr_scn_meters_of(klefr_scn_pctx *c, const cJSON *f, const char *path, size_t *first,
                        size_t *end)
{
    const klefr_scn *s = c->s;
    size_t n = klefr_scn_meter_count(s);
    *first = 0;
    *end = n;
    if (!f && c->in_tour) {
        *first = s->tour_meter;
        *end = *first + 1;
    }
    if (!f)
        return 0;
    const char *id;
    if (klefr_scn_string(c, f, path, "meter", &id) < 0)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (!strcmp(id, klefr_scn_meter_id(s, k)) && *id) {
            *first = k;
            *end = k + 1;
            return 0;
        }
    if (!s->fleet)
        return klefr_scn_fail(c, f, path, "meter", "no meter \"%s\" (the meter's \"id\" is \"%s\")",
                              id, s->meter_id);
    return klefr_scn_fail(c, f, path, "meter", "no meter \"%s\" in \"meters\"", id);
}

size_t klefr_scn_meter_count(const klefr_scn *s)
{
    return s->fleet ? s->fleet->nmeters : 1;
}

const char *klefr_scn_meter_id(const klefr_scn *s, size_t k)
{
    return s->fleet ? s->fleet->meters[k].id : s->meter_id;
}

klefr_model klefr_scn_meter_model(const klefr_scn *s, size_t k)
{
    return s->fleet ? s->fleet->meters[k].model : s->model;
}

/* A scenario's meters draw shares of its timeline (the site's load), run
 * headless, without host ports. */
static int parse_fleet(klefr_scn_pctx *c, const cJSON *root)
{
    klefr_scn *s = c->s;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "meter");
    if (f)
        return klefr_scn_fail(c, f, "", "meter", "\"meter\" and \"meters\" exclude each other");
    const cJSON *site = cJSON_GetObjectItemCaseSensitive(root, "site");
    static const char *const site_keys[] = {"spread", "comment", NULL};
    if (site && cJSON_IsObject(site) && klefr_scn_keys(c, site, "site", site_keys, NULL) < 0)
        return -1; /* the timeline is the site's load */
    if (!(s->fleet = calloc(1, sizeof *s->fleet)))
        return klefr_scn_fail(c, root, "", "meters", "out of memory");
    klefr_fleet_spec_init(s->fleet, s->file);
    s->fleet->seed = s->seed;
    if (klefr_fleet_parse_into(c, root, s->fleet) < 0)
        return -1;
    klefr_fleet_spec_reseed(s->fleet);
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(root, "lines");
    for (size_t k = 0; k < s->fleet->nlines; k++) {
        const klefr_fleet_line_spec *l = &s->fleet->lines[k];
        if (l->port || l->gateway)
            return klefr_scn_fail(c, cJSON_GetArrayItem(lines, (int)k), "lines", l->port ? "port" : "gateway",
                                  "a scenario runs without host ports (klefr-sim --fleet has them)");
    }
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "meters");
    const cJSON *o;
    cJSON_ArrayForEach(o, ms)
    {
        static const char *const own[] = {"load", "profile", "ir_port"};
        for (int k = 0; k < 3; k++)
            if ((f = cJSON_GetObjectItemCaseSensitive(o, own[k])))
                return klefr_scn_fail(c, f, "meters", own[k],
                                      "a scenario's meters draw a \"share\" of its timeline");
    }
    s->model = s->fleet->meters[0].model;
    s->serial = s->fleet->meters[0].serial;
    return 0;
}

static int parse_root(klefr_scn_pctx *c, const cJSON *root)
{
    static const char *const keys[] = {"$schema", "name",     "description", "comment", "meter",
                                       "meters",  "lines",    "site",        "seed",    "timeline",
                                       "repeat",  "duration", "events",      "expect",  "tour",
                                       NULL};
    klefr_scn *s = c->s;
    if (!cJSON_IsObject(root))
        return klefr_scn_fail(c, root, "", NULL,
                              "a scenario is a JSON object (docs/scenarios.md)");
    if (klefr_scn_keys(c, root, "", keys, NULL) < 0)
        return -1;
    const cJSON *f;
    const char *str;
    bool fleet = cJSON_GetObjectItemCaseSensitive(root, "meters") != NULL;
    static const char *const with_meters[] = {"lines", "site", "seed"};
    for (int k = 0; k < 3; k++)
        if (!fleet && (f = cJSON_GetObjectItemCaseSensitive(root, with_meters[k])))
            return klefr_scn_fail(c, f, "", with_meters[k], "goes with \"meters\" (docs/fleet.md)");
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "seed"))) {
        double x;
        if (klefr_scn_whole(c, f, "", "seed", 0, 9007199254740992.0, &x) < 0)
            return -1;
        s->seed = (uint64_t)x;
    }
    if (fleet && parse_fleet(c, root) < 0)
        return -1;
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "meter")) && parse_meter(c, f) < 0)
        return -1;
    s->base.seed = s->seed; /* the timeline's loads start from it */
    c->rng = s->seed ? s->seed : 1;
    cJSON_ArrayForEach(f, root)
    {
        const char *k = f->string;
        if (!strcmp(k, "$schema") || !strcmp(k, "comment")) {
            if (klefr_scn_string(c, f, "", k, &str) < 0)
                return -1;
        } else if (!strcmp(k, "name")) {
            if (klefr_scn_string(c, f, "", k, &str) < 0)
                return -1;
            klefr_scn_copy_text(s->name, sizeof s->name, str);
        } else if (!strcmp(k, "description")) {
            if (klefr_scn_string(c, f, "", k, &str) < 0)
                return -1;
            s->description = strdup(str);
        } else if (!strcmp(k, "repeat")) {
            if (klefr_scn_bool(c, f, "", k, &s->repeat) < 0)
                return -1;
        } else if (!strcmp(k, "duration")) {
            if (klefr_scn_time(c, f, "", k, &s->duration_us, false, NULL) < 0)
                return -1;
            s->have_duration = true;
        }
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "timeline")) &&
        klefr_scn_timeline_parse(c, f) < 0)
        return -1;
    if (s->fleet && s->nreplay)
        return klefr_scn_fail(c, f, "", "timeline",
                              "a recording is one meter's waveform: not with \"meters\"");
    if (s->repeat && s->timeline_us < KLEFR_SIM_SLICE_US)
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(root, "repeat"), "", "repeat",
                              "a repeating timeline must last at least 10 ms");
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "events")) &&
        klefr_scn_events_parse(c, f) < 0)
        return -1;
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "expect")) &&
        klefr_scn_expects_parse(c, f) < 0)
        return -1;
    if ((f = cJSON_GetObjectItemCaseSensitive(root, "tour")) && klefr_scn_tour_parse(c, f) < 0)
        return -1;
    return resolve_times(c, root);
}

/* "file:line:col: not valid JSON ..." at the token cJSON stopped on. */
static void syntax_error(const char *name, const char *text, char *err, size_t errlen)
{
    const char *at = cJSON_GetErrorPtr();
    size_t len = strlen(text);
    if (!at || at < text || at > text + len)
        at = text + len;
    /* cJSON points at the bad token or just past it: step back over blanks. */
    const char *p = at;
    while (p > text && (!*p || strchr(" \t\r\n", *p)) && strchr(" \t\r\n", p[-1]))
        p--;
    if (p > text && (!*p || strchr(" \t\r\n", *p)))
        p--;
    int line = 1, col = 1;
    for (const char *q = text; q < p; q++) {
        col = *q == '\n' ? 1 : col + 1;
        line += *q == '\n';
    }
    const char *from = p;
    while (from > text && p - from < 24 && from[-1] != '\n')
        from--;
    bool at_end = !at[strspn(at, " \t\r\n")];
    if (!text[strspn(text, " \t\r\n")])
        snprintf(err, errlen, "%s:%d:%d: not valid JSON (empty)", name, line, col);
    else if (at_end)
        snprintf(err, errlen, "%s:%d:%d: not valid JSON (unexpected end after '%.*s')", name,
                 line, col, (int)(p + 1 - from), from);
    else
        snprintf(err, errlen, "%s:%d:%d: not valid JSON at '%.*s'", name, line, col,
                 (int)(p + 1 - from), from);
}

/* What cJSON lets through but JSON refuses, and the reports (XML, SVG, JSON)
 * could not carry: bytes that are not UTF-8, a control character in a string
 * or between tokens. "file:line:col: not valid JSON (...)". */
static int strict_text(const char *name, const char *text, char *err, size_t errlen)
{
    int line = 1, col = 1;
    bool in_str = false;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        size_t n = klefr_scn_utf8_char(p);
        const char *why = !n                                        ? "not UTF-8 text"
                          : *p < 0x20 && (in_str || !strchr("\t\n\r", *p)) ? "a control character"
                                                                          : NULL;
        if (why) {
            snprintf(err, errlen, "%s:%d:%d: not valid JSON (%s, byte 0x%02X%s)", name, line,
                     col, why, *p, in_str && n ? "; in a string write it as \\u00XX" : "");
            return -1;
        }
        if (in_str && *p == '\\' && p[1] >= 0x20 && p[1] < 0x80) { /* an escape: \" does not end it */
            p += 2, col += 2;
            continue;
        }
        in_str ^= *p == '"';
        line += *p == '\n';
        col = *p == '\n' ? 1 : col + 1;
        p += n;
    }
    return 0;
}

/* A key given twice in one object: cJSON would read the first and drop the
 * second without a word. The second, in file order, is the error, named by
 * its path. */
static int no_duplicates(klefr_scn_pctx *c, const cJSON *j, char *path, size_t len)
{
    size_t at = strlen(path);
    const cJSON *first = NULL;
    bool oom = false;
    const cJSON *b = klefr_json_repeat(j, &first, &oom);
    if (oom)
        return klefr_scn_fail(c, j, path, NULL, "out of memory");
    if (b)
        return klefr_scn_fail(c, b, path, b->string, "given twice (first on line %d)",
                              klefr_json_line_of(&c->lines, first));
    int i = 0;
    for (const cJSON *f = j->child; f; f = f->next, i++) {
        if (!f->child)
            continue;
        if (cJSON_IsObject(j))
            snprintf(path + at, len - at, "%s%.60s", at ? "." : "", f->string ? f->string : "");
        else
            snprintf(path + at, len - at, "[%d]", i);
        if (no_duplicates(c, f, path, len) < 0)
            return -1;
        path[at] = 0;
    }
    return 0;
}

int klefr_scn_parse(klefr_scn **out, const char *name, const char *text, char *err,
                    size_t errlen)
{
    *out = NULL;
    klefr_scn *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    klefr_scn_copy_text(s->file, sizeof s->file, name);
    klefr_scn_copy_text(s->dir, sizeof s->dir, name);
    char *slash = strrchr(s->dir, '/');
    if (slash)
        *slash = 0;
    else
        s->dir[0] = 0;
    const char *base = slash ? strrchr(name, '/') + 1 : name;
    klefr_scn_copy_text(s->name, sizeof s->name, base);
    s->model = KLEFR_MODEL_6924;
    s->serial = KLEFR_DEFAULT_SERIAL;
    s->seed = 1;
    klefr_load_defaults(&s->base);
    s->input = strdup(text);
    const char *end = NULL;
    cJSON *root = s->input ? cJSON_ParseWithOpts(text, &end, true) : NULL;
    if (!root) {
        syntax_error(name, text, err, errlen);
        klefr_scn_free(s);
        return -1;
    }
    if (strict_text(name, text, err, errlen) < 0) {
        cJSON_Delete(root);
        klefr_scn_free(s);
        return -1;
    }
    klefr_scn_pctx c = {.s = s, .err = err, .errlen = errlen};
    char path[600] = "";
    int rc = klefr_json_lines_init(&c.lines, root, text);
    if (rc == 0)
        rc = no_duplicates(&c, root, path, sizeof path);
    else
        snprintf(err, errlen, "%s: out of memory", name);
    if (rc == 0)
        rc = parse_root(&c, root);
    klefr_json_lines_free(&c.lines);
    cJSON_Delete(root);
    if (rc < 0) {
        klefr_scn_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int klefr_scn_load(klefr_scn **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        return -1;
    }
    char *text = klefr_text_file_read(path, err, errlen);
    if (!text)
        return -1;
    int rc = klefr_scn_parse(out, path, text, err, errlen);
    free(text);
    return rc;
}

void klefr_scn_free(klefr_scn *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < s->nev; k++)
        free(s->ev[k].text);
    for (size_t k = 0; k < s->nex; k++) {
        free(s->ex[k].eq_str);
        if (s->ex[k].has_re)
            regfree(&s->ex[k].re);
    }
    for (size_t k = 0; k < s->nex; k++)
        free(s->ex[k].reply);
    klefr_scn_serials_free(s);
    for (size_t k = 0; k < s->nstep; k++) {
        free(s->step[k].title);
        free(s->step[k].text);
        free(s->step[k].lcd);
    }
    free(s->step);
    free(s->ev);
    free(s->ex);
    free(s->seg);
    free(s->replay);
    free(s->samples);
    free(s->final_json);
    free(s->description);
    free(s->input);
    klefr_fleet_spec_free(s->fleet);
    free(s);
}
