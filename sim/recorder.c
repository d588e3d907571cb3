/* --record: a session written as a scenario file (recorder.h). */
#include "recorder.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_spec.h"
#include "scenario.h"

#define LCD_AFTER_US 250000u /* the LCD is read this long after a release */

typedef enum { R_PRESS, R_TARIFF, R_CUT, R_RESTORE, R_LCD, R_LOAD } rkind;

typedef struct {
    rkind kind;
    uint64_t t_us;
    uint64_t hold_us;  /* R_PRESS */
    uint8_t buttons;   /* R_PRESS: all buttons of the press */
    bool chord;        /* R_PRESS: the buttons did not go down and up together */
    bool on;           /* R_TARIFF */
    char lcd[160];     /* R_LCD */
    klefr_load load;   /* R_LOAD */
} ritem;

struct klefr_recorder {
    klefr_sim *sim;
    FILE *f;
    char path[4096];
    klefr_load load0;
    klefr_settings set0;
    klefr_regs regs0;
    ritem *items;
    size_t n, cap;
    bool lost; /* out of memory: items are missing */
    /* the press in progress */
    uint8_t level, combo;
    uint64_t press_us;
    bool chord;
};

static ritem *add(klefr_recorder *r, rkind kind, uint64_t t_us)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        ritem *v = realloc(r->items, cap * sizeof *v);
        if (!v) {
            r->lost = true;
            return NULL;
        }
        r->items = v;
        r->cap = cap;
    }
    ritem *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->t_us = t_us;
    return it;
}

static void read_lcd(void *arg, uint64_t t_us)
{
    klefr_recorder *r = arg;
    ritem *it = add(r, R_LCD, t_us);
    static const klefr_lcd_fb blank; /* a meter without supply shows nothing */
    if (it)
        klefr_lcd_text_line(r->sim->powered ? &r->sim->out.lcd : &blank, it->lcd, sizeof it->lcd);
}

static void end_press(klefr_recorder *r, uint64_t t_us)
{
    ritem *it = add(r, R_PRESS, r->press_us);
    if (it) {
        it->hold_us = t_us - r->press_us;
        it->buttons = r->combo;
        it->chord = r->chord;
    }
}

static void tap(void *arg, const klefr_sim_event *e)
{
    klefr_recorder *r = arg;
    ritem *it;
    switch (e->kind) {
    case KLEFR_EV_BUTTONS:
        if (!r->level && e->byte) { /* a press starts */
            r->press_us = e->t_us;
            r->combo = e->byte;
            r->chord = false;
        } else if (r->level && e->byte) { /* the other button too, or one let go */
            r->combo |= e->byte;
            r->chord = true;
        } else if (r->level && !e->byte) {
            end_press(r, e->t_us);
            klefr_sim_event ev = {.t_us = e->t_us + LCD_AFTER_US,
                                  .kind = KLEFR_EV_CALL,
                                  .fn = read_lcd,
                                  .arg = r};
            klefr_sim_post(r->sim, &ev);
        }
        r->level = e->byte;
        break;
    case KLEFR_EV_TARIFF_INPUT:
        if ((it = add(r, R_TARIFF, e->t_us)))
            it->on = e->byte != 0;
        break;
    case KLEFR_EV_POWER:
        add(r, e->byte ? R_RESTORE : R_CUT, e->t_us);
        break;
    default:
        break;
    }
}

klefr_recorder *klefr_recorder_start(klefr_sim *sim, const klefr_load *load, const char *path,
                                     char *err, size_t errlen)
{
    klefr_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->f = fopen(path, "w");
    if (!r->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->sim = sim;
    r->load0 = *load;
    r->set0 = sim->meter.settings;
    r->regs0 = sim->meter.regs;
    sim->input_tap = tap;
    sim->input_tap_arg = r;
    return r;
}

void klefr_recorder_load(klefr_recorder *r, const klefr_load *load, uint64_t t_us)
{
    ritem *it = add(r, R_LOAD, t_us);
    if (it)
        it->load = *load;
}

/* ---- writing ----------------------------------------------------------------- */

static double sec(uint64_t us)
{
    return (double)us / 1e6;
}

/* Seconds with every microsecond (the scenario reads them back exactly). */
static cJSON *time_json(uint64_t us)
{
    char b[32];
    snprintf(b, sizeof b, "%.6f", sec(us));
    return cJSON_CreateRaw(b);
}

static cJSON *kwh(const uint64_t v[KLEFR_TARIFFS])
{
    cJSON *o = cJSON_CreateObject();
    char b[40];
    snprintf(b, sizeof b, "%.9f", (double)v[0] / 1e9);
    cJSON_AddRawToObject(o, "t1", b);
    snprintf(b, sizeof b, "%.9f", (double)v[1] / 1e9);
    cJSON_AddRawToObject(o, "t2", b);
    return o;
}

/* Settings that differ from the model's factory ones, by the scenario's names. */
static cJSON *settings_json(const klefr_recorder *r)
{
    klefr_settings d;
    klefr_settings_defaults(&d, r->sim->model, r->sim->serial);
    return klefr_scn_settings_json(&r->set0, &d);
}

static cJSON *registers_json(const klefr_regs *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "active_fwd_kwh", kwh(g->act_fwd_uwh));
    cJSON_AddItemToObject(o, "active_rev_kwh", kwh(g->act_rev_uwh));
    cJSON_AddItemToObject(o, "reactive_fwd_kvarh", kwh(g->react_fwd_uvarh));
    cJSON_AddItemToObject(o, "reactive_rev_kvarh", kwh(g->react_rev_uvarh));
    char b[40];
    snprintf(b, sizeof b, "%.9f", (double)g->day_fwd_uwh / 1e9);
    cJSON_AddRawToObject(o, "day_fwd_kwh", b);
    cJSON_AddNumberToObject(o, "power_downs", g->power_downs);
    return o;
}

static const char *button_name(uint8_t b)
{
    return b == (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT) ? "both"
           : b == KLEFR_BTN_LEFT                  ? "left"
                                                  : "right";
}

/* The loads the controls set, as timeline segments between the changes. */
static cJSON *timeline_json(const klefr_recorder *r, uint64_t end_us)
{
    cJSON *tl = cJSON_CreateArray();
    uint64_t from = 0;
    const klefr_load *cur = NULL;
    char spec[600];
    for (size_t k = 0; k <= r->n; k++) {
        if (k < r->n && r->items[k].kind != R_LOAD)
            continue;
        uint64_t to = k < r->n ? r->items[k].t_us : end_us;
        if (to > from) {
            cJSON *seg = cJSON_CreateObject();
            cJSON_AddItemToObject(seg, "duration", time_json(to - from));
            if (cur) {
                klefr_load_spec_format(cur, spec, sizeof spec);
                cJSON_AddStringToObject(seg, "load", spec);
                cJSON_AddStringToObject(seg, "label", "set in the window");
            } else {
                cJSON_AddStringToObject(seg, "label", "the load at the start");
            }
            cJSON_AddItemToArray(tl, seg);
            from = to;
        }
        if (k < r->n)
            cur = &r->items[k].load;
    }
    return tl;
}

static cJSON *scenario_json(const klefr_recorder *r, uint64_t end_us)
{
    cJSON *root = cJSON_CreateObject();
    int presses = 0, lcds = 0;
    for (size_t k = 0; k < r->n; k++) {
        presses += r->items[k].kind == R_PRESS;
        lcds += r->items[k].kind == R_LCD;
    }
    char b[600];
    cJSON_AddStringToObject(root, "name", "recorded session");
    snprintf(b, sizeof b,
             "Recorded with klefr-sim --record: %d button presses and what else the window "
             "changed, over %.2f s of meter time. Playing it back (klefr-sim scenario FILE) "
             "checks the LCD 0.25 s after each release (%d checks).",
             presses, sec(end_us), lcds);
    cJSON_AddStringToObject(root, "description", b);
    cJSON *m = cJSON_AddObjectToObject(root, "meter");
    cJSON_AddNumberToObject(m, "model", r->sim->model);
    snprintf(b, sizeof b, "%08x", (unsigned)r->sim->serial);
    cJSON_AddStringToObject(m, "serial", b);
    cJSON_AddNumberToObject(m, "seed", (double)r->load0.seed);
    klefr_load_spec_format(&r->load0, b, sizeof b);
    cJSON_AddStringToObject(m, "load", b);
    cJSON *set = settings_json(r);
    if (set && set->child)
        cJSON_AddItemToObject(m, "settings", set);
    else
        cJSON_Delete(set);
    cJSON_AddItemToObject(m, "registers", registers_json(&r->regs0));
    cJSON_AddItemToObject(root, "timeline", timeline_json(r, end_us));
    cJSON_AddItemToObject(root, "duration", time_json(end_us));
    cJSON *ev = cJSON_AddArrayToObject(root, "events");
    cJSON *ex = cJSON_AddArrayToObject(root, "expect");
    for (size_t k = 0; k < r->n; k++) {
        const ritem *it = &r->items[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "at", time_json(it->t_us));
        switch (it->kind) {
        case R_PRESS:
            cJSON_AddStringToObject(o, "do", "press");
            cJSON_AddStringToObject(o, "button", button_name(it->buttons));
            /* a press within one instant: 1 us, which the debounce ignores alike */
            cJSON_AddItemToObject(o, "hold", time_json(it->hold_us ? it->hold_us : 1));
            if (it->chord)
                cJSON_AddStringToObject(o, "comment", "the buttons went down one after the other; "
                                                      "played back as both together");
            break;
        case R_TARIFF:
            cJSON_AddStringToObject(o, "do", "tariff_input");
            cJSON_AddBoolToObject(o, "on", it->on);
            break;
        case R_CUT:
            cJSON_AddStringToObject(o, "do", "power_cut");
            break;
        case R_RESTORE:
            cJSON_AddStringToObject(o, "do", "power_restore");
            break;
        case R_LCD:
            cJSON_AddStringToObject(o, "lcd", "text");
            cJSON_AddStringToObject(o, "eq", it->lcd);
            cJSON_AddItemToArray(ex, o);
            continue;
        case R_LOAD:
            cJSON_Delete(o);
            continue;
        }
        cJSON_AddItemToArray(ev, o);
    }
    return root;
}

int klefr_recorder_finish(klefr_recorder *r, char *err, size_t errlen)
{
    klefr_sim *s = r->sim;
    uint64_t end = s->t_us;
    if (r->level) /* still held: released at the end */
        end_press(r, end);
    s->input_tap = NULL;
    klefr_world_cancel(s->world, r); /* LCD reads still queued must not reach a freed r */
    int rc = 0;
    cJSON *root = scenario_json(r, end);
    char *text = root ? cJSON_Print(root) : NULL;
    if (!text || r->lost) {
        snprintf(err, errlen, "%s: out of memory", r->path);
        rc = -1;
    } else if (fputs(text, r->f) < 0 || fputc('\n', r->f) < 0 || fflush(r->f) != 0 ||
               ferror(r->f)) {
        snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
        rc = -1;
    }
    if (fclose(r->f) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
        rc = -1;
    }
    free(text);
    cJSON_Delete(root);
    free(r->items);
    free(r);
    return rc;
}
