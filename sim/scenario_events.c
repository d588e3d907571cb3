/* Scenario events: when (at, every, random) and what (one row per kind in
 * the table below: its own fields, how they are read, what it does). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "scenario_priv.h"
#include "scenario_serial.h"

#define MAX_OCCURRENCES 100000u

/* ---- per kind: parse ----------------------------------------------------- */

static int p_press(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    static const char *const names[] = {"left", "right", "both", NULL};
    static const uint32_t masks[] = {KLEFR_BTN_LEFT, KLEFR_BTN_RIGHT,
                                     KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT};
    int k;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "button");
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "a press needs a \"button\" (left, right, both)");
    if (klefr_scn_enum(c, f, path, "button", names, &k) < 0)
        return -1;
    ev->arg = masks[k];
    ev->for_us = 200000; /* a short press */
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "hold"))) {
        if (klefr_scn_time(c, f, path, "hold", &ev->for_us, false, NULL) < 0)
            return -1;
        if (ev->for_us == 0)
            return klefr_scn_fail(c, f, path, "hold", "must be longer than 0");
    }
    return 0;
}

static int p_tariff_input(klefr_scn_pctx *c, const cJSON *o, const char *path,
                          klefr_scn_event *ev)
{
    bool on;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "on");
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "needs \"on\": true (T2) or false (T1)");
    if (klefr_scn_bool(c, f, path, "on", &on) < 0)
        return -1;
    ev->arg = on;
    return 0;
}

static int p_tariff(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "tariff");
    if (!f || !cJSON_IsNumber(f) || (f->valuedouble != 1 && f->valuedouble != 2))
        return klefr_scn_fail(c, f ? f : o, path, "tariff", "must be 1 or 2");
    if (!klefr_model_has_tariffs(c->s->model) && f->valueint == 2)
        return klefr_scn_fail(c, f, path, "tariff", "the 6921 has one tariff");
    if (c->s->model == KLEFR_MODEL_6921)
        return klefr_scn_fail(c, o, path, "do", "the 6921 takes no tariff command");
    ev->arg = (uint32_t)f->valueint;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "save")) &&
        klefr_scn_bool(c, f, path, "save", &ev->save) < 0)
        return -1;
    return 0;
}

static int p_power_cut(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "for");
    if (!f)
        return 0;
    if (cJSON_IsArray(f)) { /* [min, max]: drawn per occurrence (when expanding) */
        uint64_t a, b;
        if (cJSON_GetArraySize(f) != 2)
            return klefr_scn_fail(c, f, path, "for", "must be a time or [min, max]");
        if (klefr_scn_time(c, f->child, path, "for[0]", &a, false, NULL) < 0 ||
            klefr_scn_time(c, f->child->next, path, "for[1]", &b, false, NULL) < 0)
            return -1;
        if (b < a)
            return klefr_scn_fail(c, f, path, "for", "[min, max] with max < min");
        ev->for_us = a;
        ev->arg = (uint32_t)((b - a) / 1000u); /* spread in ms */
        if ((b - a) / 1000u > UINT32_MAX)
            return klefr_scn_fail(c, f, path, "for", "range too wide");
        return 0;
    }
    return klefr_scn_time(c, f, path, "for", &ev->for_us, false, NULL);
}

static int p_set(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "settings");
    char sub[160];
    snprintf(sub, sizeof sub, "%s.settings", path);
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "\"set\" needs \"settings\"");
    return klefr_scn_settings_parse(c, f, sub, &ev->set);
}

static int p_write_fail(klefr_scn_pctx *c, const cJSON *o, const char *path,
                        klefr_scn_event *ev)
{
    static const char *const modes[] = {"once", "worn_out", NULL};
    int k = 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "mode");
    if (f && klefr_scn_enum(c, f, path, "mode", modes, &k) < 0)
        return -1;
    ev->arg = (uint32_t)k;
    return 0;
}

static int p_corrupt(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "copy");
    ev->arg = 3; /* both: bit per copy */
    if (!f)
        return 0;
    if (cJSON_IsNumber(f) && (f->valuedouble == 0 || f->valuedouble == 1))
        ev->arg = 1u << f->valueint;
    else if (!cJSON_IsString(f) || strcmp(f->valuestring, "both"))
        return klefr_scn_fail(c, f, path, "copy", "must be 0, 1 or \"both\"");
    return 0;
}

static int p_caption(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    const char *t;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "text");
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "a caption needs \"text\"");
    if (klefr_scn_string(c, f, path, "text", &t) < 0)
        return -1;
    ev->text = strdup(t);
    return ev->text ? 0 : klefr_scn_fail(c, f, path, "text", "out of memory");
}

static int p_none(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *ev)
{
    (void)c, (void)o, (void)path, (void)ev;
    return 0;
}

/* ---- per kind: act ------------------------------------------------------- */

static klefr_meter *live(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    if (r->sim->powered)
        return &r->sim->meter;
    klefr_scn_trace(r, "t=%.3f s: %s: no supply, nothing happens", (double)t_us / 1e6,
                    ev->kind->name);
    return NULL;
}

/* Presses and the tariff input set the sim's levels (a window draws the
 * buttons from them), which tell the firmware when it is powered. */
static void a_press(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    live(r, ev, t_us); /* only traces a press without supply */
    klefr_sim_buttons(r->sim, (uint8_t)ev->arg, t_us);
}

static void a_tariff_input(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    r->tariff_input = (int)ev->arg;
    klefr_sim_tariff_input(r->sim, ev->arg != 0, t_us);
}

static void a_tariff(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    klefr_meter *m = live(r, ev, t_us);
    if (m)
        klefr_meter_set_tariff(m, (uint8_t)ev->arg, ev->save, t_us);
}

static void a_power_cut(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)ev;
    r->ev_cut = true;
    klefr_scn_terminals(r, t_us);
}

static void a_power_restore(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)ev;
    r->ev_cut = false;
    r->tl_power = true; /* also ends a cut of the timeline's segment */
    klefr_scn_terminals(r, t_us);
}

static void a_set(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    klefr_meter *m = live(r, ev, t_us);
    if (!m)
        return;
    klefr_scn_settings_apply(&ev->set, &m->settings);
    klefr_meter_settings_changed(m, t_us);
}

static void a_day_reset(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    klefr_meter *m = live(r, ev, t_us);
    if (m)
        klefr_day_counter_reset(m, t_us);
}

static void a_write_fail(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)t_us;
    if (ev->arg == 0) {
        r->sim->eeprom.cut_after_pages = 0; /* the next write writes nothing and fails */
        r->sim->eeprom.torn_bytes = 0;
    } else {
        r->sim->eeprom.worn_out = true;
    }
}

static void a_corrupt(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)t_us;
    /* A flipped byte in the payload: the copy's CRC no longer checks (docs/nvm.md). */
    for (unsigned k = 0; k < KLEFR_STORE_COPIES; k++)
        if (ev->arg & (1u << k))
            r->sim->eeprom.mem[k * KLEFR_STORE_SLOT_SIZE + KLEFR_STORE_HEADER_LEN + 26] ^= 0x5A;
}

static void a_program_fault(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)ev, (void)t_us;
    r->sim->program_corrupt = true;
}

static void a_none(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    (void)r, (void)ev, (void)t_us;
}

/* ---- the table ------------------------------------------------------------- */

static const char *const f_press[] = {"button", "hold", NULL};
static const char *const f_on[] = {"on", NULL};
static const char *const f_tariff[] = {"tariff", "save", NULL};
static const char *const f_for[] = {"for", NULL};
static const char *const f_set[] = {"settings", NULL};
static const char *const f_mode[] = {"mode", NULL};
static const char *const f_copy[] = {"copy", NULL};
static const char *const f_text[] = {"text", NULL};

static const klefr_scn_event_kind kinds[] = {
    {"press", f_press, p_press, a_press},
    {"tariff_input", f_on, p_tariff_input, a_tariff_input},
    {"tariff", f_tariff, p_tariff, a_tariff},
    {"power_cut", f_for, p_power_cut, a_power_cut},
    {"power_restore", NULL, p_none, a_power_restore},
    {"set", f_set, p_set, a_set},
    {"day_reset", NULL, p_none, a_day_reset},
    {"eeprom_write_fail", f_mode, p_write_fail, a_write_fail},
    {"eeprom_corrupt", f_copy, p_corrupt, a_corrupt},
    {"program_fault", NULL, p_none, a_program_fault},
    {"caption", f_text, p_caption, a_none},
    /* serial steps (scenario_serial.c, scenario_decode_*.c) */
    {"send", klefr_scn_f_send, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"modbus_read", klefr_scn_f_modbus_read, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"modbus_write", klefr_scn_f_modbus_write, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"mbus_req_ud2", klefr_scn_f_mbus_req_ud2, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"mbus_snd_nke", klefr_scn_f_mbus_snd_nke, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"mbus_select", klefr_scn_f_mbus_select, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"mbus_write", klefr_scn_f_mbus_write, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"iec_sign_on", klefr_scn_f_iec_sign_on, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"iec_readout", klefr_scn_f_iec_readout, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"iec_r1", klefr_scn_f_iec_r1, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"iec_w1", klefr_scn_f_iec_w1, klefr_scn_serial_parse, klefr_scn_serial_act},
    {"iec_b0", klefr_scn_f_iec_b0, klefr_scn_serial_parse, klefr_scn_serial_act},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* The second half of an event: release a button, restore the supply. */
void klefr_scn_event_after(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    if (ev->kind->act == a_press) {
        /* the level too: a window draws it, and a power-up reads it */
        klefr_sim_buttons(r->sim, 0, t_us);
    } else if (ev->kind->act == a_power_cut) {
        r->ev_cut = false;
        klefr_scn_terminals(r, t_us);
    }
}

uint64_t klefr_scn_event_end(const klefr_scn_event *ev)
{
    bool two = ev->kind->act == a_press || ev->kind->act == a_power_cut;
    return ev->t_us + (two ? ev->for_us : 0);
}

/* ---- when ------------------------------------------------------------------ */

static const char *const common[] = {"at", "every", "from", "to", "random", "between",
                                     "do", "label", "comment", "meter", NULL};

static int add(klefr_scn_pctx *c, const cJSON *o, const char *path, const klefr_scn_event *tpl,
               uint64_t t_us, uint32_t spread_ms)
{
    klefr_scn *s = c->s;
    if (s->nev >= MAX_OCCURRENCES)
        return klefr_scn_fail(c, o, path, NULL, "more than %u event occurrences",
                              MAX_OCCURRENCES);
    if (s->nev % 256 == 0) {
        klefr_scn_event *n = realloc(s->ev, (s->nev + 256) * sizeof *n);
        if (!n)
            return klefr_scn_fail(c, o, path, NULL, "out of memory");
        s->ev = n;
    }
    klefr_scn_event *ev = &s->ev[s->nev];
    *ev = *tpl;
    ev->t_us = t_us;
    if (spread_ms)
        ev->for_us += klefr_scn_rand(&c->rng) % ((uint64_t)spread_ms + 1) * 1000u;
    if (tpl->text && !(ev->text = strdup(tpl->text)))
        return klefr_scn_fail(c, o, path, NULL, "out of memory");
    s->nev++;
    return 0;
}

static int expand(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_event *tpl)
{
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(o, "every");
    const cJSON *random = cJSON_GetObjectItemCaseSensitive(o, "random");
    uint32_t spread = tpl->kind->act == a_power_cut ? tpl->arg : 0;
    if (!!at + !!every + !!random != 1)
        return klefr_scn_fail(c, o, path, NULL,
                              "give exactly one of \"at\", \"every\" or \"random\"");
    static const char *const with_every[] = {"from", "to"};
    for (int k = 0; k < 2; k++)
        if (!every && cJSON_GetObjectItemCaseSensitive(o, with_every[k]))
            return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(o, with_every[k]), path,
                                  with_every[k], "only with \"every\"");
    if (!random && cJSON_GetObjectItemCaseSensitive(o, "between"))
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(o, "between"), path,
                              "between", "only with \"random\"");
    if (at) {
        uint64_t t;
        if (klefr_scn_time(c, at, path, "at", &t, false, NULL) < 0)
            return -1;
        return add(c, o, path, tpl, t, spread);
    }
    klefr_scn *s = c->s;
    if (every) {
        uint64_t period, from = 0, to;
        bool to_end = true;
        const cJSON *f;
        if (klefr_scn_time(c, every, path, "every", &period, false, NULL) < 0)
            return -1;
        if (period < 10000)
            return klefr_scn_fail(c, every, path, "every", "must be at least 10 ms");
        if ((f = cJSON_GetObjectItemCaseSensitive(o, "from")) &&
            klefr_scn_time(c, f, path, "from", &from, false, NULL) < 0)
            return -1;
        if ((f = cJSON_GetObjectItemCaseSensitive(o, "to")) &&
            klefr_scn_time(c, f, path, "to", &to, true, &to_end) < 0)
            return -1;
        if (to_end) {
            if (!s->have_duration && (s->repeat || !s->nseg))
                return klefr_scn_fail(c, every, path, "every",
                                      "needs \"to\", a timeline or a \"duration\" to end");
            to = s->have_duration ? s->duration_us : s->timeline_us;
            if (to > 0)
                to--; /* nothing at the very end: the run is over */
        }
        for (uint64_t t = from; t <= to; t += period)
            if (add(c, o, path, tpl, t, spread) < 0)
                return -1;
        return 0;
    }
    double n;
    const cJSON *between = cJSON_GetObjectItemCaseSensitive(o, "between");
    if (klefr_scn_whole(c, random, path, "random", 1, MAX_OCCURRENCES, &n) < 0)
        return -1;
    if (!cJSON_IsArray(between) || cJSON_GetArraySize(between) != 2)
        return klefr_scn_fail(c, between ? between : o, path, "between",
                              "\"random\" needs \"between\": [from, to]");
    uint64_t a, b;
    if (klefr_scn_time(c, between->child, path, "between[0]", &a, false, NULL) < 0 ||
        klefr_scn_time(c, between->child->next, path, "between[1]", &b, false, NULL) < 0)
        return -1;
    if (b <= a)
        return klefr_scn_fail(c, between, path, "between", "to must be after from");
    /* One occurrence in each of n equal parts of the window, at a random
     * whole millisecond that leaves room for its own length: random times
     * that never overlap (a cut is over before the next one starts). */
    uint64_t part = (b - a) / (uint64_t)n;
    uint64_t longest = klefr_scn_event_end(tpl) - tpl->t_us + (uint64_t)spread * 1000u;
    if (part <= longest)
        return klefr_scn_fail(c, between, path, "between",
                              "too short for %.0f occurrences of up to %.10g s each", n,
                              (double)longest / 1e6);
    for (size_t k = 0; k < (size_t)n; k++) {
        klefr_scn_event one = *tpl;
        if (spread)
            one.for_us += klefr_scn_rand(&c->rng) % ((uint64_t)spread + 1) * 1000u;
        uint64_t room_ms = (part - (klefr_scn_event_end(&one) - one.t_us)) / 1000u;
        uint64_t t = a + k * part + klefr_scn_rand(&c->rng) % room_ms * 1000u;
        if (add(c, o, path, &one, t, 0) < 0)
            return -1;
    }
    return 0;
}

/* The kind, its fields, label and comment of one event object (not when),
 * for the scenario's meter number meter. */
static int parse_what(klefr_scn_pctx *c, const cJSON *o, const char *path,
                      const char *const *keys, size_t meter, klefr_scn_event *tpl)
{
    *tpl = (klefr_scn_event){.kind = NULL};
    if (!cJSON_IsObject(o))
        return klefr_scn_fail(c, o, path, NULL, "an event must be an object");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "do");
    char names[400] = "";
    for (size_t k = 0, at = 0; k < NKINDS; k++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
                               kinds[k].name);
    if (!d)
        return klefr_scn_fail(c, o, path, NULL, "an event needs \"do\" (%s)", names);
    const klefr_scn_event_kind *kind =
        cJSON_IsString(d) ? klefr_scn_event_kind_find(d->valuestring) : NULL;
    if (!kind)
        return klefr_scn_fail(c, d, path, "do", "unknown event (expected %s)", names);
    if (klefr_scn_keys(c, o, path, keys, kind->fields) < 0)
        return -1;
    const cJSON *f;
    *tpl = (klefr_scn_event){.kind = kind, .line = klefr_json_line_of(&c->lines, o),
                             .meter = (int)meter};
    const char *label;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "label"))) {
        if (klefr_scn_string(c, f, path, "label", &label) < 0)
            return -1;
        klefr_scn_copy_text(tpl->label, sizeof tpl->label, label);
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "comment")) &&
        klefr_scn_string(c, f, path, "comment", &label) < 0)
        return -1;
    klefr_model model = c->s->model;
    c->s->model = klefr_scn_meter_model(c->s, meter); /* settings are the model's */
    int rc = kind->parse(c, o, path, tpl);
    c->s->model = model;
    return rc;
}

int klefr_scn_events_parse(klefr_scn_pctx *c, const cJSON *j)
{
    if (!cJSON_IsArray(j))
        return klefr_scn_fail(c, j, "", "events", "must be a list of events");
    int idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        char path[48];
        snprintf(path, sizeof path, "events[%d]", idx);
        /* For the meter named, or every meter of the installation. */
        size_t first, end;
        const cJSON *mf = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "meter") : NULL;
        if (klefr_scn_meters_of(c, mf, path, &first, &end) < 0)
            return -1;
        int rc = 0;
        for (size_t m = first; m < end && rc == 0; m++) {
            klefr_scn_event tpl;
            rc = parse_what(c, o, path, common, m, &tpl);
            if (rc == 0 && tpl.serial_step && c->s->fleet && !mf) { /* one master, one line */
                free(tpl.text);
                return klefr_scn_fail(c, o, path, "meter", "a serial step is the master's on "
                                      "one line: name a meter on it");
            }
            tpl.index = idx;
            if (rc == 0)
                rc = expand(c, o, path, &tpl);
            free(tpl.text);
        }
        if (rc < 0)
            return -1;
        idx++;
    }
    return 0;
}

const klefr_scn_event_kind *klefr_scn_event_kind_find(const char *name)
{
    for (size_t k = 0; k < NKINDS; k++)
        if (!strcmp(name, kinds[k].name))
            return &kinds[k];
    return NULL;
}

int klefr_scn_event_add(klefr_scn_pctx *c, const cJSON *o, const char *path,
                        const klefr_scn_event *tpl, uint64_t t_us)
{
    uint32_t spread = tpl->kind->act == a_power_cut ? tpl->arg : 0;
    return add(c, o, path, tpl, t_us, spread);
}

int klefr_scn_event_step(klefr_scn_pctx *c, const cJSON *o, const char *path, uint64_t t_us,
                         int step, uint64_t *end_us)
{
    static const char *const keys[] = {"do", "label", "comment", "meter", NULL};
    klefr_scn_event tpl;
    size_t first, end; /* a step is for one meter: the one named, else the tour's */
    if (klefr_scn_meters_of(c, cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "meter")
                                                 : NULL,
                            path, &first, &end) < 0)
        return -1;
    int rc = parse_what(c, o, path, keys, first, &tpl);
    if (rc == 0 && tpl.kind->act == a_none)
        rc = klefr_scn_fail(c, o, path, "do", "a step is its own caption");
    tpl.step = step;
    tpl.index = -1;
    if (rc == 0)
        rc = klefr_scn_event_add(c, o, path, &tpl, t_us);
    free(tpl.text);
    if (rc == 0)
        *end_us = klefr_scn_event_end(&c->s->ev[c->s->nev - 1]);
    return rc;
}
