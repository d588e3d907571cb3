/* The `reply` expectation: what a serial step got back, as a hex pattern
 * (`??` any byte, `?` any nibble, `..` any run of bytes), a decoded field
 * compared like a value, or its timing (the first or last byte after the
 * request, the protocol's limits, no reply at all). Without a time it holds
 * for every reply of the step (checked as each one comes); at a time, for
 * the last reply that had come by then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_serial.h"

typedef enum { R_HEX, R_FIELD, R_TIMING } reply_what;
typedef enum { T_FIRST, T_LAST, T_LIMITS, T_NONE } reply_timing;

struct klefr_scn_reply_spec {
    klefr_scn_serial *step;
    reply_what what;
    reply_timing timing;
    char field[40];
    klefr_scn_hexpat pat[KLEFR_SCN_REQ_MAX];
    size_t npat;
    uint64_t seen_us; /* the last reply checked (the plot marks it there) */
};

static const char *const timings[] = {"first_byte", "last_byte", "limits", "none", NULL};

const char *const klefr_scn_f_reply[] = {"reply", "hex", "field", "timing", "eq",
                                         "tol", "tol_pct", "min", "max", "match", NULL};

int klefr_scn_reply_parse(klefr_scn_pctx *c, const cJSON *o, const char *path,
                          klefr_scn_expect *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "reply");
    const char *name;
    if (klefr_scn_string(c, f, path, "reply", &name) < 0)
        return -1;
    klefr_scn_serial *st = klefr_scn_serial_find(c->s, name);
    if (!st) {
        char names[400] = "";
        size_t at = 0;
        for (const klefr_scn_serial *p = c->s->serial_steps; p && at < sizeof names; p = p->next)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", p->name);
        return klefr_scn_fail(c, f, path, "reply", "no serial step named \"%s\" (%s%s)", name,
                              at ? "steps: " : "the scenario has no serial steps", names);
    }
    static const char *const windows[] = {"during", "within"};
    for (int k = 0; k < 2; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(o, windows[k])))
            return klefr_scn_fail(c, f, path, windows[k],
                                  "a reply is checked when it comes: give \"at\", or no time "
                                  "(every reply of the step)");
    struct klefr_scn_reply_spec *sp = calloc(1, sizeof *sp);
    if (!sp)
        return klefr_scn_fail(c, o, path, NULL, "out of memory");
    e->reply = sp; /* freed with the scenario */
    e->sel = -1;
    sp->step = st;
    static const char *const whats[] = {"hex", "field", "timing"};
    int n = 0;
    for (int k = 0; k < 3; k++)
        if (cJSON_GetObjectItemCaseSensitive(o, whats[k])) {
            sp->what = (reply_what)k;
            n++;
        }
    if (n != 1)
        return klefr_scn_fail(c, o, path, NULL, "a reply expectation needs one of \"hex\", "
                                                "\"field\" or \"timing\"");
    char subject[200];
    if (sp->what == R_HEX) {
        const char *text;
        char why[120];
        f = cJSON_GetObjectItemCaseSensitive(o, "hex");
        if (klefr_scn_string(c, f, path, "hex", &text) < 0)
            return -1;
        if (klefr_scn_hex_parse(text, true, sp->pat, KLEFR_SCN_REQ_MAX, &sp->npat, why,
                                sizeof why) < 0)
            return klefr_scn_fail(c, f, path, "hex", "%s", why);
        static const char *const cmps[] = {"eq", "tol", "tol_pct", "min", "max", "match"};
        for (int k = 0; k < 6; k++)
            if ((f = cJSON_GetObjectItemCaseSensitive(o, cmps[k])))
                return klefr_scn_fail(c, f, path, cmps[k], "a hex pattern takes no comparison");
        snprintf(e->what, sizeof e->what, "reply %.60s hex %.80s", st->name, text);
        return 0;
    }
    if (sp->what == R_FIELD) {
        const char *field;
        f = cJSON_GetObjectItemCaseSensitive(o, "field");
        if (klefr_scn_string(c, f, path, "field", &field) < 0)
            return -1;
        if (!*field || strlen(field) >= sizeof sp->field)
            return klefr_scn_fail(c, f, path, "field", "must be 1 to 39 characters");
        if (st->op->has_field && !st->op->has_field(st, field))
            return klefr_scn_fail(c, f, path, "field", "the reply to %s \"%s\" has no field "
                                  "\"%s\" (docs/scenarios.md lists the fields)",
                                  st->op->kind, st->name, field);
        klefr_scn_copy_text(sp->field, sizeof sp->field, field);
        if (klefr_scn_cmp_parse(c, o, path, e,
                                KLEFR_SCN_CMP_NUM | KLEFR_SCN_CMP_TEXT | KLEFR_SCN_CMP_RE) < 0)
            return -1;
        snprintf(subject, sizeof subject, "reply %s %s", st->name, field);
        klefr_scn_describe(e, subject);
        return 0;
    }
    int t;
    f = cJSON_GetObjectItemCaseSensitive(o, "timing");
    if (klefr_scn_enum(c, f, path, "timing", timings, &t) < 0)
        return -1;
    sp->timing = (reply_timing)t;
    if (sp->timing == T_FIRST || sp->timing == T_LAST) {
        if (klefr_scn_cmp_parse(c, o, path, e, KLEFR_SCN_CMP_NUM) < 0)
            return -1;
        snprintf(subject, sizeof subject, "reply %s %s_ms", st->name, timings[t]);
        klefr_scn_describe(e, subject);
        return 0;
    }
    static const char *const cmps[] = {"eq", "tol", "tol_pct", "min", "max", "match"};
    for (int k = 0; k < 6; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(o, cmps[k])))
            return klefr_scn_fail(c, f, path, cmps[k], "\"timing\": \"%s\" takes no comparison",
                                  timings[t]);
    snprintf(e->what, sizeof e->what, "reply %s %s", st->name,
             sp->timing == T_LIMITS ? "within the protocol's timing limits" : "none");
    return 0;
}

/* ---- checking --------------------------------------------------------------------- */

static bool match(const klefr_scn_hexpat *p, size_t np, const uint8_t *b, size_t nb)
{
    for (; np; p++, np--) {
        if (p->run) {
            for (size_t k = 0; k <= nb; k++)
                if (match(p + 1, np - 1, b + k, nb - k))
                    return true;
            return false;
        }
        if (!nb || (b[0] & p->mask) != p->val)
            return false;
        b++, nb--;
    }
    return nb == 0;
}

static void got(klefr_scn_expect *e, const char *fmt, const char *a, const char *b)
{
    e->got_is_str = true;
    snprintf(e->got_str, sizeof e->got_str, fmt, a, b);
}

static bool timing_holds(klefr_scn_expect *e, const klefr_scn_xrec *rec)
{
    const struct klefr_scn_reply_spec *sp = e->reply;
    bool ok = true, have = false;
    double worst = 0;
    char text[160] = "";
    for (int k = 0; k < rec->nx; k++) {
        const klefr_scn_xchg *x = &rec->x[k];
        if (sp->timing == T_NONE) {
            if (x->nrep && k == rec->nx - 1) {
                char hex[100];
                klefr_scn_hex_text(x->rep, x->nrep, hex, sizeof hex);
                snprintf(text, sizeof text, "a reply after %.3f ms: %s",
                         (double)(x->first_us - x->req_t1) / 1000, hex);
                got(e, "%s%s", text, "");
                return false;
            }
            continue;
        }
        if (!x->nrep) {
            snprintf(text, sizeof text, "no reply to request %d (%s)", k + 1, rec->why);
            got(e, "%s%s", text, "");
            return false;
        }
        if (sp->timing == T_LIMITS) {
            uint64_t start = x->first_us - x->char_us - x->req_t1;
            if (start < x->lim_min || start > x->lim_max || x->max_gap_us > x->lim_gap) {
                snprintf(text, sizeof text,
                         "request %d: reply started after %.3f ms (limits %.3f..%.3f ms), "
                         "largest gap %.3f ms (limit %.3f ms)",
                         k + 1, start / 1e3, x->lim_min / 1e3, x->lim_max / 1e3,
                         x->max_gap_us / 1e3, x->lim_gap / 1e3);
                got(e, "%s%s", text, "");
                return false;
            }
            if (!have || start / 1e3 > worst)
                snprintf(text, sizeof text, "started after %.3f ms (limits %.3f..%.3f ms)",
                         start / 1e3, x->lim_min / 1e3, x->lim_max / 1e3);
            worst = have && worst > start / 1e3 ? worst : start / 1e3;
            have = true;
            continue;
        }
        double ms = (double)((sp->timing == T_FIRST ? x->first_us : x->last_us) - x->req_t1) / 1e3;
        bool one = klefr_scn_cmp_num(e, ms);
        if (!one && ok) { /* report the first that breaks it */
            ok = false;
            worst = ms;
        } else if (ok && (!have || ms > worst)) {
            worst = ms;
        }
        have = true;
    }
    if (sp->timing == T_NONE) {
        got(e, "%s%s", "no reply", "");
        return true;
    }
    if (!have) {
        got(e, "%s%s", "no request was sent", "");
        return false;
    }
    if (sp->timing == T_LIMITS) {
        got(e, "%s%s", text, "");
        return true;
    }
    klefr_scn_cmp_num(e, worst); /* got = the value that decided */
    return ok;
}

static bool holds_on(klefr_scn_expect *e, const klefr_scn_xrec *rec)
{
    const struct klefr_scn_reply_spec *sp = e->reply;
    if (sp->what == R_TIMING)
        return timing_holds(e, rec);
    if (sp->what == R_HEX) {
        const klefr_scn_xchg *x = klefr_scn_xrec_last(rec);
        if (!x || !x->nrep) {
            got(e, "no reply (%s)%s", rec->why, "");
            return false;
        }
        char hex[150];
        klefr_scn_hex_text(x->rep, x->nrep, hex, sizeof hex);
        got(e, "%s%s", hex, "");
        return match(sp->pat, sp->npat, x->rep, x->nrep);
    }
    const klefr_scn_field *f = klefr_scn_field_find(rec, sp->field);
    if (!f) {
        char why[80];
        snprintf(why, sizeof why, "%s%s%.60s", klefr_scn_status_to_str(rec->status),
                 rec->why[0] ? ": " : "", rec->why);
        got(e, "no field \"%s\" in the reply (%s)", sp->field, why);
        return false;
    }
    if (e->eq_str || e->has_re)
        return klefr_scn_cmp_text(e, f->text);
    if (!f->has_num) {
        got(e, "\"%s\" (not a number)%s", f->text, "");
        return false;
    }
    return klefr_scn_cmp_num(e, f->num);
}

bool klefr_scn_reply_holds(klefr_scn_play *r, klefr_scn_expect *e)
{
    (void)r;
    const klefr_scn_serial *st = e->reply->step;
    if (e->t_end && st->busy) {
        got(e, "step \"%s\" still running when the run ended%s", st->name, "");
        return false;
    }
    if (!st->has_last) {
        got(e, "step \"%s\" %s", st->name, e->t_end ? "never ran" : "had not finished by then");
        return false;
    }
    return holds_on(e, &st->last);
}

void klefr_scn_reply_done(klefr_scn_play *r, klefr_scn_serial *st, uint64_t t_us)
{
    klefr_scn *s = r->s;
    for (size_t k = 0; k < s->nex; k++) {
        klefr_scn_expect *e = &s->ex[k];
        if (!e->reply || e->reply->step != st || e->state != KLEFR_SCN_PENDING || !e->t_end)
            continue;
        e->reply->seen_us = t_us;
        if (holds_on(e, &st->last))
            e->count++; /* decided at the end, once every reply has come */
        else
            klefr_scn_expect_decide(r, e, false, t_us);
    }
}

uint64_t klefr_scn_expect_plot_us(const klefr_scn_expect *e)
{
    return e->reply && e->t_end && e->reply->seen_us ? e->reply->seen_us : e->t_us;
}

void klefr_scn_replies_start(klefr_scn *s)
{
    for (size_t k = 0; k < s->nex; k++)
        if (s->ex[k].reply)
            s->ex[k].reply->seen_us = 0;
}
