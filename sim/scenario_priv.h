/* Inside the scenario engine: the parse context, the tables of event kinds,
 * expectation kinds, value paths and settings, and the run state they act on. */
#ifndef KLEFR_SIM_SCENARIO_PRIV_H
#define KLEFR_SIM_SCENARIO_PRIV_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "json_pos.h"
#include "scenario.h"
#include "sim.h"

/* ---- parsing ------------------------------------------------------------ */

typedef struct klefr_scn_pctx {
    klefr_scn *s;
    klefr_json_lines lines;
    char *err;
    size_t errlen;
    uint64_t rng; /* random event times, drawn in file order */
    bool in_tour; /* a tour's steps: what names no meter is for the tour's meter */
} klefr_scn_pctx;

/* "file:line: path.field: message"; field may be NULL (the path itself).
 * Returns -1. */
int klefr_scn_fail(klefr_scn_pctx *c, const cJSON *at, const char *path, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Every key of obj must be in one of the NULL-terminated lists (b may be NULL). */
int klefr_scn_keys(klefr_scn_pctx *c, const cJSON *obj, const char *path,
                   const char *const *a, const char *const *b);

/* A time: seconds or "1h30m"; "end" when allow_end (then *is_end). */
int klefr_scn_time(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   uint64_t *us, bool allow_end, bool *is_end);
int klefr_scn_string(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                     const char **out);
int klefr_scn_number(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                     double lo, double hi, double *out);
/* A whole number in lo..hi (a count, a seed, an address: 1.5 is an error, not 1). */
int klefr_scn_whole(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                    double lo, double hi, double *out);
int klefr_scn_bool(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   bool *out);
/* One of the NULL-terminated names; *out = its index. */
int klefr_scn_enum(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *field,
                   const char *const *names, int *out);
/* The meters an event or expectation is for: its "meter" (f, NULL when
 * absent) names one; none names every meter of the scenario (in a tour's
 * steps: the tour's meter). Sets
 * [*first, *end). */
int klefr_scn_meters_of(klefr_scn_pctx *c, const cJSON *f, const char *path, size_t *first,
                        size_t *end);
/* A serial number: 1 to 8 decimal digits (string or number) -> BCD. */
int klefr_scn_serial_number(klefr_scn_pctx *c, const cJSON *j, const char *path, uint32_t *bcd);
/* A file named in the scenario, relative to the scenario's folder. */
void klefr_scn_path(const klefr_scn *s, const char *name, char *out, size_t n);
uint64_t klefr_scn_rand(uint64_t *state); /* xorshift64* */
/* src into dst[n], cut (if it must be) between UTF-8 characters. */
void klefr_scn_copy_text(char *dst, size_t n, const char *src);
/* Length of the UTF-8 character at p, 0 if the bytes there are not one. */
size_t klefr_scn_utf8_char(const unsigned char *p);
/* Every byte that does not belong to a whole UTF-8 character becomes '?'
 * (a text cut by a fixed buffer, before it goes into a report). */
void klefr_scn_utf8_fix(char *s);

/* ---- tables ----------------------------------------------------------- */

/* settings (scenario_settings.c) */
int klefr_scn_settings_parse(klefr_scn_pctx *c, const cJSON *j, const char *path,
                             klefr_scn_settings *out);
void klefr_scn_settings_apply(const klefr_scn_settings *in, klefr_settings *s);
int klefr_scn_registers_parse(klefr_scn_pctx *c, const cJSON *j, const char *path);
/* settings.NAME as a value: number, or text for the text-valued ones. */
int klefr_scn_setting_find(const char *name);
bool klefr_scn_setting_get(int row, const klefr_settings *s, double *num, const char **text);

/* timeline (scenario_timeline.c) */
int klefr_scn_timeline_parse(klefr_scn_pctx *c, const cJSON *j);

/* events (scenario_events.c) */
struct klefr_scn_play;
struct klefr_scn_event_kind {
    const char *name;
    const char *const *fields; /* its own keys besides the common ones */
    int (*parse)(klefr_scn_pctx *c, const cJSON *obj, const char *path, klefr_scn_event *ev);
    void (*act)(struct klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us);
};
int klefr_scn_events_parse(klefr_scn_pctx *c, const cJSON *j);
const klefr_scn_event_kind *klefr_scn_event_kind_find(const char *name);
/* Add one occurrence of tpl at t_us (a [min, max] cut length drawn now). */
int klefr_scn_event_add(klefr_scn_pctx *c, const cJSON *o, const char *path,
                        const klefr_scn_event *tpl, uint64_t t_us);
/* A tour step's event object (no "at": it happens at t_us); *end_us = when
 * it is over (a press released, the supply back). */
int klefr_scn_event_step(klefr_scn_pctx *c, const cJSON *o, const char *path, uint64_t t_us,
                         int step, uint64_t *end_us);
/* Latest time an event still does something (release, restore). */
uint64_t klefr_scn_event_end(const klefr_scn_event *ev);
/* Second action of an event (release, restore) at t_us + for_us. */
void klefr_scn_event_after(struct klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us);

/* tours (scenario_tour.c): steps to captions, events and expectations */
int klefr_scn_tour_parse(klefr_scn_pctx *c, const cJSON *j);

/* values (scenario_values.c) */
struct klefr_scn_value {
    const char *path; /* "energy.active_fwd_kwh", "measure.v", "settings.*" ... */
    const char *unit;
    int arg;
    /* Now: true with *num, or false with *str (text values). sel: the
     * tariff of an energy (-1 both), the row of a setting. */
    bool (*get)(const struct klefr_scn_play *r, int arg, int sel, double *num, const char **str);
};
/* Look up a path; NULL if unknown. *sel as above, *is_num: number or text. */
const klefr_scn_value *klefr_scn_value_find(const char *path, int *sel, bool *is_num);
/* The known paths, for messages. */
const char *klefr_scn_value_names(void);
/* Registered energy n (0 active fwd, 1 active rev, 2 reactive fwd, 3 reactive rev), kWh. */
double klefr_scn_energy_kwh(const klefr_sim *sim, int n);
extern const char *const klefr_scn_energy_names[5]; /* "active_fwd_kwh" ... NULL */

/* expectations (scenario_expect.c) */
struct klefr_scn_expect_kind {
    const char *key; /* the subject key naming the kind */
    const char *const *fields;
    int (*parse)(klefr_scn_pctx *c, const cJSON *obj, const char *path, klefr_scn_expect *e);
    /* Evaluate now: true when it holds; got/got_str filled. */
    bool (*holds)(struct klefr_scn_play *r, klefr_scn_expect *e);
    bool counts;   /* accumulates over the window (pulses): decided at its end */
};
int klefr_scn_expects_parse(klefr_scn_pctx *c, const cJSON *j);
/* A new expectation at the end of s->ex (zeroed, line of at); NULL on failure. */
klefr_scn_expect *klefr_scn_expect_new(klefr_scn_pctx *c, const cJSON *at, const char *path);
/* One expectation object; timed = false refuses "at", "during", "within"
 * (the caller sets the time). *out is the expectation, also on failure. */
int klefr_scn_expect_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, bool timed,
                           klefr_scn_expect **out);
/* "lcd": "text" = text at t_us (a tour step's end). */
int klefr_scn_expect_lcd(klefr_scn_pctx *c, const cJSON *at, const char *path, const char *text,
                         uint64_t t_us, klefr_scn_expect **out);
void klefr_scn_expect_check(struct klefr_scn_play *r, klefr_scn_expect *e, uint64_t t_us);
void klefr_scn_expect_window_open(struct klefr_scn_play *r, klefr_scn_expect *e);
void klefr_scn_expect_window_close(struct klefr_scn_play *r, klefr_scn_expect *e, uint64_t t_us);
void klefr_scn_expect_pulse(struct klefr_scn_play *r, klefr_output out, uint64_t t_us,
                            uint32_t width_us);

/* For kinds in other files (scenario_reply.c): the comparisons of the kinds
 * above. allowed: KLEFR_SCN_CMP_* bits. */
enum { KLEFR_SCN_CMP_NUM = 1, KLEFR_SCN_CMP_TEXT = 2, KLEFR_SCN_CMP_RE = 4 };
int klefr_scn_cmp_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_expect *e,
                        int allowed);
bool klefr_scn_cmp_num(klefr_scn_expect *e, double x); /* and sets got */
bool klefr_scn_cmp_text(klefr_scn_expect *e, const char *s);
void klefr_scn_describe(klefr_scn_expect *e, const char *subject);
/* Where a plot marks an expectation: its time, or for a reply checked on
 * every reply of its step, the last of them (scenario_reply.c). */
uint64_t klefr_scn_expect_plot_us(const klefr_scn_expect *e);
/* Decide an expectation now (pass or fail) at t_us. */
void klefr_scn_expect_decide(struct klefr_scn_play *r, klefr_scn_expect *e, bool ok,
                             uint64_t t_us);

/* serial steps (scenario_serial.c) */
struct klefr_scn_serial;
/* The latest the serial steps may still run (the default duration). */
uint64_t klefr_scn_serials_end(const klefr_scn *s);
void klefr_scn_serials_free(klefr_scn *s);
/* The record of an occurrence's run, for the report (a new object, or NULL). */
cJSON *klefr_scn_serial_record(const klefr_scn *s, const klefr_scn_event *ev);
void klefr_scn_serial_start(struct klefr_scn_play *r);
void klefr_scn_serial_stop(struct klefr_scn_play *r);

/* Close a report file: 0, or -1 with errno (a write or the close failed). */
int klefr_scn_fclose(FILE *f);

/* ---- the run ----------------------------------------------------------- */

/* Fills of the AFE (a 10 ms slice each) whose truth is kept: more than the
 * longest the meter holds samples back (two blocks of 2048 samples). */
#define KLEFR_SCN_TRUTH_MARKS 128u
typedef struct {
    uint64_t samples; /* at the end of a fill */
    double kwh[4];    /* the truth then, kWh / kvarh */
} klefr_scn_truth_mark;

typedef struct klefr_scn_play {
    klefr_scn *s;
    klefr_sim *sim;
    size_t meter;      /* which of the scenario's meters */
    double i_scale;    /* its share of the timeline's current (1 with one meter) */
    bool own_seed;     /* a fleet's meter: its noise seed, not the timeline's */
    uint64_t seed;
    klefr_synth synth;
    struct {
        klefr_afe afe; /* first: the sim's AFE */
        struct klefr_scn_play *run;
    } mux;             /* the synth, or a recording during a replay segment */
    klefr_replay replay;
    bool replaying;
    klefr_afe_truth replayed; /* truth of the recordings played and closed so far */
    const klefr_scn_run_opts *o;
    /* what is at the terminals */
    klefr_load load;   /* the timeline's load now */
    bool tl_power;     /* the timeline's supply */
    bool ev_cut;       /* an event cut the supply */
    int tariff_input;  /* last level, re-applied after power-up */
    double v_pct;
    /* timeline playback */
    size_t tl_k;          /* segment playing */
    uint64_t tl_pass_us;  /* start of this pass (repeat) */
    uint64_t tl_ramp_next;
    bool tl_done;
    /* truth: of the samples the registers hold (the meter adds a block at
     * its end), from the truth at the end of each of the last fills */
    double truth_kwh[4];
    klefr_scn_truth_mark truth_mark[KLEFR_SCN_TRUTH_MARKS];
    uint64_t ntruth_mark; /* fills so far (+1: the start) */
    double start_kwh[4]; /* the registers the meter powered up with: the truth starts there */
    /* windows being watched every slice */
    klefr_scn_expect **watch;
    size_t nwatch;
    bool watching;
    struct klefr_scn_masters *masters; /* the in-process masters of serial steps */
    char err[256]; /* a host failure during the run */
} klefr_scn_play;

/* The terminals changed (load, supply, tariff input): apply to the AFE and meter. */
void klefr_scn_terminals(klefr_scn_play *r, uint64_t t_us);
/* Stop the recording playing (its truth is kept). */
void klefr_scn_replay_close(klefr_scn_play *r);
void klefr_scn_trace(klefr_scn_play *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Timeline playback: segment 0 now; then whatever is due at t (boundaries,
 * ramp steps); next = when something is due again (UINT64_MAX: never). */
void klefr_scn_timeline_start(klefr_scn_play *r);
void klefr_scn_timeline_due(klefr_scn_play *r, uint64_t t_us);
uint64_t klefr_scn_timeline_next(const klefr_scn_play *r);

#endif
