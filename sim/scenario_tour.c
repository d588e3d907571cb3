/* Guided tours (docs/tours.md): the "tour" section of a scenario, a list of
 * steps laid one after the other in virtual time. Each step becomes a
 * caption event, its actions (presses in the --press shorthand, or event
 * objects) as events, and its checks (the LCD text it ends on, plus any
 * expectations) at its end, so a tour runs, reports and fails like any
 * scenario. The step table (klefr_scn.step) is what players and handouts show.
 *
 *   step k:  caption --lead--> action --gap--> action ... --settle--> checks
 *            t_us                                                     end_us = next step's t_us
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_priv.h"

#define MAX_STEPS 200
#define MAX_REPEAT 50
#define MAX_HOLD_US 60000000u

typedef struct {
    uint64_t start_us, lead_us, gap_us, settle_us;
} tour_timing;

static uint64_t slice_up(uint64_t us)
{
    return (us + KLEFR_SIM_SLICE_US - 1) / KLEFR_SIM_SLICE_US * KLEFR_SIM_SLICE_US;
}

/* ---- what a step does, in words (the hint) ---------------------------------- */

static const char *buttons_name(uint32_t mask)
{
    return mask == (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT) ? "L+R"
           : mask == KLEFR_BTN_LEFT                  ? "L"
                                                     : "R";
}

/* The hold a person is told: 0 for a short press, else whole seconds (3.2 -> 3). */
static double hold_named(uint64_t hold_us)
{
    return hold_us < 1000000u ? 0 : floor((double)hold_us / 1e6);
}

static void press_words(char *out, size_t n, uint32_t mask, uint64_t hold_us, int times)
{
    double h = hold_named(hold_us);
    int at = h > 0 ? snprintf(out, n, "hold %s %g s", buttons_name(mask), h)
                   : snprintf(out, n, "press %s", buttons_name(mask));
    if (times > 1 && at > 0 && (size_t)at < n)
        snprintf(out + at, n - (size_t)at, " %d times", times);
}

/* One row per event kind a step may do besides presses: what the hint says. */
typedef struct {
    const char *kind;
    const char *on, *off; /* arg != 0 / arg == 0 */
} event_words;

static const event_words words[] = {
    {"tariff_input", "switch the tariff input on (T2)", "switch the tariff input off (T1)"},
    {"tariff", "set tariff %u by command", "set tariff %u by command"},
    {"power_cut", "cut the supply", "cut the supply"},
    {"power_restore", "restore the supply", "restore the supply"},
    {"set", "change settings by command", "change settings by command"},
    {"day_reset", "reset the day counter by command", "reset the day counter by command"},
    {"eeprom_write_fail", "make the next EEPROM write fail", "make the next EEPROM write fail"},
    {"eeprom_corrupt", "damage the stored settings", "damage the stored settings"},
    {"program_fault", "damage the program memory", "damage the program memory"},
};

static void event_phrase(char *out, size_t n, const klefr_scn_event *ev)
{
    if (ev->label[0]) {
        snprintf(out, n, "%s", ev->label);
        return;
    }
    if (!strcmp(ev->kind->name, "press")) {
        press_words(out, n, ev->arg, ev->for_us, 1);
        return;
    }
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(ev->kind->name, words[k].kind)) {
            snprintf(out, n, ev->arg ? words[k].on : words[k].off, ev->arg);
            if (!strcmp(ev->kind->name, "power_cut") && ev->for_us)
                snprintf(out + strlen(out), n - strlen(out), " for %g s",
                         (double)ev->for_us / 1e6);
            return;
        }
    snprintf(out, n, "%s", ev->kind->name);
}

static void hint_add(klefr_scn_step *st, const char *phrase)
{
    size_t at = strlen(st->hint);
    snprintf(st->hint + at, sizeof st->hint - at, "%s%s", at ? ", then " : "", phrase);
}

/* ---- actions --------------------------------------------------------------- */

/* "R", "L+0.3", "B+3.2", "R*6", "R+3.2*4": buttons, hold (s), repeats. */
static bool press_parse(const char *s, uint32_t *mask, uint64_t *hold_us, int *times)
{
    switch (s[0]) {
    case 'L': *mask = KLEFR_BTN_LEFT; break;
    case 'R': *mask = KLEFR_BTN_RIGHT; break;
    case 'B': *mask = KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT; break;
    default: return false;
    }
    const char *p = s + 1;
    *hold_us = 200000u;
    *times = 1;
    if (*p == '+') {
        char *end;
        double h = strtod(p + 1, &end);
        if (end == p + 1 || !(h > 0 && h <= MAX_HOLD_US / 1e6) || strchr("eEnNiIxX", p[1]))
            return false;
        *hold_us = (uint64_t)llround(h * 1e6);
        p = end;
    }
    if (*p == '*') {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end == p + 1 || n < 1 || n > MAX_REPEAT || p[1] == '+' || p[1] == '-')
            return false;
        *times = (int)n;
        p = end;
    }
    return *p == 0;
}

/* Like actions in a row make one phrase of the hint: "press R 6 times". */
typedef struct {
    char single[96]; /* the phrase for one */
    klefr_scn_event ev;
    int count;
} hint_run;

static void hint_flush(klefr_scn_step *st, hint_run *h)
{
    if (!h->count)
        return;
    char phrase[128];
    if (h->count > 1 && !strcmp(h->ev.kind->name, "press") && !h->ev.label[0])
        press_words(phrase, sizeof phrase, h->ev.arg, h->ev.for_us, h->count);
    else if (h->count > 1)
        snprintf(phrase, sizeof phrase, "%s (%d times)", h->single, h->count);
    else
        snprintf(phrase, sizeof phrase, "%s", h->single);
    hint_add(st, phrase);
    h->count = 0;
}

static void hint_event(klefr_scn_step *st, hint_run *h, const klefr_scn_event *ev, int n)
{
    char phrase[96];
    event_phrase(phrase, sizeof phrase, ev);
    if (h->count && !strcmp(phrase, h->single)) {
        h->count += n;
        return;
    }
    hint_flush(st, h);
    snprintf(h->single, sizeof h->single, "%s", phrase);
    h->ev = *ev;
    h->count = n;
}

/* The step's actions from *t_us on; *t_us = the end of the last one. */
static int do_actions(klefr_scn_pctx *c, const cJSON *list, const char *path, int step_no,
                      klefr_scn_step *st, const tour_timing *tm, uint64_t *t_us)
{
    if (!cJSON_IsArray(list))
        return klefr_scn_fail(c, list, path, "do", "must be a list of presses (\"R\", "
                              "\"R+3.2\", \"B+3.2\", \"R*6\") or event objects");
    klefr_scn *s = c->s;
    uint64_t t = *t_us, end = *t_us;
    int idx = 0;
    hint_run h = {.count = 0};
    const cJSON *a;
    cJSON_ArrayForEach(a, list)
    {
        char sub[96];
        snprintf(sub, sizeof sub, "%s.do[%d]", path, idx);
        if (idx++)
            t = slice_up(end + tm->gap_us);
        size_t ev0 = s->nev;
        if (cJSON_IsString(a)) {
            uint32_t mask;
            uint64_t hold;
            int times;
            if (!press_parse(a->valuestring, &mask, &hold, &times))
                return klefr_scn_fail(c, a, sub, NULL,
                                      "bad press \"%.20s\" (expected L, R or B, then +HOLD in "
                                      "seconds and *COUNT: \"R\", \"R+3.2\", \"B+3.2\", \"R*6\")",
                                      a->valuestring);
            klefr_scn_event tpl = {.kind = klefr_scn_event_kind_find("press"), .arg = mask,
                                   .for_us = hold, .line = klefr_json_line_of(&c->lines, a),
                                   .index = -1, .meter = (int)s->tour_meter, .step = step_no};
            for (int k = 0; k < times; k++) {
                if (k)
                    t = slice_up(end + tm->gap_us);
                if (klefr_scn_event_add(c, a, sub, &tpl, t) < 0)
                    return -1;
                end = t + hold;
            }
        } else if (cJSON_IsObject(a)) {
            if (klefr_scn_event_step(c, a, sub, t, step_no, &end) < 0)
                return -1;
        } else {
            return klefr_scn_fail(c, a, sub, NULL, "must be a press (\"R+3.2\") or an event "
                                  "object ({\"do\": \"power_cut\", \"for\": \"3s\"})");
        }
        const klefr_scn_event *ev = &s->ev[ev0];
        if (ev0 == st->first_ev + 1 && !strcmp(ev->kind->name, "press")) {
            st->hint_buttons = (uint8_t)ev->arg;
            st->hint_hold_s = hold_named(ev->for_us);
        }
        hint_event(st, &h, ev, (int)(s->nev - ev0));
    }
    hint_flush(st, &h);
    *t_us = end;
    return 0;
}

/* ---- steps ------------------------------------------------------------------ */

static int text_field(klefr_scn_pctx *c, const cJSON *o, const char *path, const char *key,
                      bool required, char **out)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *str;
    if (!f) {
        if (required)
            return klefr_scn_fail(c, o, path, NULL, "a step needs \"%s\"", key);
        return 0;
    }
    if (klefr_scn_string(c, f, path, key, &str) < 0)
        return -1;
    if (!(*out = strdup(str)))
        return klefr_scn_fail(c, f, path, key, "out of memory");
    return 0;
}

/* "icons | value | name", as --lcd-text prints it: two separators. */
static bool lcd_text_ok(const char *t)
{
    const char *a = strstr(t, " | ");
    return a && strstr(a + 3, " | ") && !strstr(strstr(a + 3, " | ") + 3, " | ") &&
           !strchr(t, '\n');
}

static int parse_step(klefr_scn_pctx *c, const cJSON *o, const char *path, int no,
                      const tour_timing *tm, uint64_t *t_us)
{
    static const char *const keys[] = {"title", "text", "do", "hint", "lcd", "wait", "expect",
                                       "comment", NULL};
    klefr_scn *s = c->s;
    if (!cJSON_IsObject(o))
        return klefr_scn_fail(c, o, path, NULL, "a step must be an object");
    if (klefr_scn_keys(c, o, path, keys, NULL) < 0)
        return -1;
    klefr_scn_step *st = &s->step[s->nstep++];
    memset(st, 0, sizeof *st);
    st->line = klefr_json_line_of(&c->lines, o);
    st->t_us = *t_us;
    st->first_ev = s->nev;
    if (text_field(c, o, path, "title", true, &st->title) < 0 ||
        text_field(c, o, path, "text", false, &st->text) < 0 ||
        text_field(c, o, path, "lcd", true, &st->lcd) < 0)
        return -1;
    const cJSON *f;
    if (!lcd_text_ok(st->lcd))
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(o, "lcd"), path, "lcd",
                              "must be the LCD as one line, \"icons | value | name\" (as "
                              "--lcd-text prints it: \"FW kWh | 0.00 | TOTAL\")");
    /* The caption: the plot and the report show the title. */
    klefr_scn_event cap = {.kind = klefr_scn_event_kind_find("caption"), .line = st->line,
                           .index = -1, .meter = (int)s->tour_meter, .step = no,
                           .text = st->title};
    snprintf(cap.label, sizeof cap.label, "step %d", no);
    if (klefr_scn_event_add(c, o, path, &cap, st->t_us) < 0)
        return -1;
    uint64_t t = st->t_us;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "do"))) {
        t = slice_up(t + tm->lead_us);
        if (do_actions(c, f, path, no, st, tm, &t) < 0)
            return -1;
    }
    uint64_t settle = tm->settle_us;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "wait")) &&
        klefr_scn_time(c, f, path, "wait", &settle, false, NULL) < 0)
        return -1;
    st->end_us = slice_up(t + settle);
    if (st->end_us == st->t_us)
        st->end_us += KLEFR_SIM_SLICE_US; /* every step lasts a moment */
    st->nev = s->nev - st->first_ev;
    const char *hint;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "hint"))) {
        if (klefr_scn_string(c, f, path, "hint", &hint) < 0)
            return -1;
        klefr_scn_copy_text(st->hint, sizeof st->hint, hint);
    }
    /* The checks at its end: the LCD, and what else the step states. */
    char sub[96];
    snprintf(sub, sizeof sub, "%s.lcd", path);
    klefr_scn_expect *e;
    if (klefr_scn_expect_lcd(c, cJSON_GetObjectItemCaseSensitive(o, "lcd"), sub, st->lcd,
                             st->end_us, &e) < 0)
        return -1;
    snprintf(e->name, sizeof e->name, "step %d: %.140s", no, st->title);
    st->lcd_ex = (size_t)(e - s->ex);
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "expect"))) {
        if (!cJSON_IsArray(f))
            return klefr_scn_fail(c, f, path, "expect", "must be a list of expectations");
        int idx = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, f)
        {
            snprintf(sub, sizeof sub, "%s.expect[%d]", path, idx++);
            if (klefr_scn_expect_parse(c, x, sub, false, &e) < 0)
                return -1;
            e->t_end = false;
            e->t_us = st->end_us;
            if (e->kind->counts && strcmp(e->kind->key, "accuracy"))
                return klefr_scn_fail(c, x, sub, NULL, "pulse counts need a window: put them "
                                      "in the scenario's \"expect\"");
        }
    }
    *t_us = st->end_us;
    return 0;
}

int klefr_scn_tour_parse(klefr_scn_pctx *c, const cJSON *j)
{
    static const char *const keys[] = {"manual", "start", "lead", "gap", "settle", "steps",
                                       "meter", "comment", NULL};
    klefr_scn *s = c->s;
    if (!cJSON_IsObject(j))
        return klefr_scn_fail(c, j, "", "tour", "must be an object with \"steps\"");
    if (klefr_scn_keys(c, j, "tour", keys, NULL) < 0)
        return -1;
    tour_timing tm = {.start_us = 1000000u, .lead_us = 600000u, .gap_us = 500000u,
                      .settle_us = 200000u};
    static const char *const times[] = {"start", "lead", "gap", "settle"};
    uint64_t *dst[] = {&tm.start_us, &tm.lead_us, &tm.gap_us, &tm.settle_us};
    const cJSON *f;
    for (int k = 0; k < 4; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(j, times[k])) &&
            klefr_scn_time(c, f, "tour", times[k], dst[k], false, NULL) < 0)
            return -1;
    const char *str;
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "manual"))) {
        if (klefr_scn_string(c, f, "tour", "manual", &str) < 0)
            return -1;
        klefr_scn_copy_text(s->tour_manual, sizeof s->tour_manual, str);
    }
    /* The meter it shows, presses and checks (of an installation: the one
     * named, else the first); a step's event or expectation may name another. */
    size_t end;
    if ((f = cJSON_GetObjectItemCaseSensitive(j, "meter")) &&
        klefr_scn_meters_of(c, f, "tour", &s->tour_meter, &end) < 0)
        return -1;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps");
    if (!steps)
        return klefr_scn_fail(c, j, "", "tour", "a tour needs \"steps\"");
    int n = cJSON_GetArraySize(steps);
    if (!cJSON_IsArray(steps) || n < 1 || n > MAX_STEPS)
        return klefr_scn_fail(c, steps, "tour", "steps", "must be a list of 1 to %d steps",
                              MAX_STEPS);
    if (!(s->step = calloc((size_t)n, sizeof *s->step)))
        return klefr_scn_fail(c, steps, "tour", "steps", "out of memory");
    uint64_t t = slice_up(tm.start_us);
    int idx = 0;
    const cJSON *o;
    c->in_tour = true;
    cJSON_ArrayForEach(o, steps)
    {
        char path[48];
        snprintf(path, sizeof path, "tour.steps[%d]", idx++);
        if (parse_step(c, o, path, idx, &tm, &t) < 0)
            return -1;
    }
    c->in_tour = false;
    return 0;
}
