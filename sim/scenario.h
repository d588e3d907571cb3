/* Scenarios (docs/scenarios.md): a meter, a load timeline, timed events and
 * expectations, read from JSON, run headless on a klefr_sim, with results a
 * report can print. The engine is split by what each part does:
 *   scenario_parse.c     JSON -> klefr_scn, "file:line: path.to.field: message"
 *   scenario_settings.c  the settings and registers table
 *   scenario_timeline.c  segments, ramps, sags, curves, replays: parse and play
 *   scenario_events.c    one row per event kind
 *   scenario_values.c    one row per value path (energy.*, measure.*, ...)
 *   scenario_expect.c    one row per expectation kind
 *   scenario_run.c       the run on the sim's event heap
 *   scenario_report_*.c  JSON, JUnit XML, SVG plot */
#ifndef KLEFR_SIM_SCENARIO_H
#define KLEFR_SIM_SCENARIO_H

#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afe_replay.h"
#include "afe_synth.h"
#include "clock.h"
#include "klefr/types.h"

typedef struct klefr_scn_event_kind klefr_scn_event_kind;
struct klefr_fleet_spec;
typedef struct klefr_scn_expect_kind klefr_scn_expect_kind;
typedef struct klefr_scn_value klefr_scn_value;
struct klefr_sim;

#define KLEFR_SCN_TEXT 96 /* labels, names */

/* Settings as a scenario states them: which ones (bit per row of the
 * settings table) and their raw values (the klefr_settings field's units). */
#define KLEFR_SCN_SETTINGS_MAX 16
typedef struct {
    uint32_t mask;
    uint32_t raw[KLEFR_SCN_SETTINGS_MAX];
} klefr_scn_settings;

/* Ramped quantities (bits of klefr_scn_seg.ramp_keys). */
enum { KLEFR_SCN_Q_V, KLEFR_SCN_Q_I, KLEFR_SCN_Q_P, KLEFR_SCN_Q_F, KLEFR_SCN_Q_PHI, KLEFR_SCN_Q_PF,
       KLEFR_SCN_Q_COUNT };

typedef struct {
    uint64_t start_us, dur_us;
    klefr_load load;       /* at the start (steps applied) */
    klefr_load end;        /* at the end (ramp targets applied); = load without a ramp */
    uint8_t ramp_keys;     /* bits KLEFR_SCN_Q_* */
    double ramp_from[KLEFR_SCN_Q_COUNT], ramp_to[KLEFR_SCN_Q_COUNT];
    char pf_kind;          /* 'L' or 'C': a pf ramp keeps the start's kind */
    double v_pct;          /* sag/swell for this segment; 0 = none */
    bool power;            /* supply on */
    int tariff_input;      /* -1 unchanged, 0 T1, 1 T2 */
    int tariff;            /* 0 unchanged, 1 or 2 by command */
    int replay;            /* index into klefr_scn.replay, -1 = synthetic */
    int line;
    char label[KLEFR_SCN_TEXT];
} klefr_scn_seg;

typedef struct {
    char path[4096];
    klefr_replay_opts opts;
} klefr_scn_replay_src;

/* One occurrence of an event (every/random are expanded when parsed). */
typedef struct {
    const klefr_scn_event_kind *kind;
    uint64_t t_us;
    uint64_t for_us;   /* power_cut: restore after (0 = stays cut); press: hold */
    uint32_t arg;      /* button mask, level, tariff, mode, copy ... (per kind) */
    bool save;         /* tariff: saved */
    klefr_scn_settings set;
    char *text;        /* caption */
    struct klefr_scn_serial *serial_step; /* shared by the occurrences, owned by klefr_scn */
    int line;
    int index;         /* position in the file's "events" list */
    int meter;         /* which of the scenario's meters (0 with one meter) */
    int step;          /* the tour step (1-based) that does it; 0 = none */
    char label[KLEFR_SCN_TEXT];
} klefr_scn_event;

typedef enum { KLEFR_SCN_AT, KLEFR_SCN_DURING, KLEFR_SCN_WITHIN } klefr_scn_when;
typedef enum { KLEFR_SCN_PENDING, KLEFR_SCN_PASS, KLEFR_SCN_FAIL } klefr_scn_state;

typedef struct {
    const klefr_scn_expect_kind *kind;
    klefr_scn_when when;
    uint64_t t_us, t2_us;   /* at: t_us; windows: [t_us, t2_us] */
    bool t_end, t2_end;     /* "end" (resolved once the duration is known) */
    /* subject */
    const klefr_scn_value *value;
    int sel;                /* tariff of a value, output, LCD row, energy */
    /* comparison */
    bool has_eq, has_tol, tol_pct, has_min, has_max, has_re;
    double eq, tol, min, max;
    char *eq_str;
    regex_t re;
    struct klefr_scn_reply_spec *reply; /* reply expectations (scenario_reply.c) */
    int line;
    int meter;              /* which of the scenario's meters (0 with one meter) */
    char name[160];         /* JUnit name (given or built) */
    char what[160];         /* "energy.active_fwd_kwh = 2.30 +- 0.01" */
    char label[KLEFR_SCN_TEXT];
    /* result */
    klefr_scn_state state;
    uint64_t at_us;         /* when it was decided (first failure in a window) */
    bool got_is_str;
    double got;
    char got_str[160];
    char msg[512];          /* the failure line without "FILE: " */
    /* window accumulators */
    uint64_t count;
    double acc_min, acc_max;
    double reg0, truth0;
} klefr_scn_expect;

/* One step of a guided tour (docs/tours.md): a caption, the actions it
 * demonstrates (their events are in klefr_scn.ev), a hint on the button to
 * press, and the LCD text it ends on (an expectation at end_us). */
typedef struct {
    char *title, *text;
    char hint[160];        /* "press R 6 times, then hold R 3 s": given or derived */
    uint8_t hint_buttons;  /* KLEFR_BTN_* of the first press; 0 = no button */
    double hint_hold_s;    /* its hold to name: 0 a short press, else whole seconds */
    char *lcd;             /* "icons | value | name" at end_us */
    uint64_t t_us;         /* the caption shows (the step starts) */
    uint64_t end_us;       /* actions over, the LCD settled: the step's checks */
    size_t first_ev, nev;  /* its events in klefr_scn.ev: the caption, then the actions */
    size_t lcd_ex;         /* its LCD check in klefr_scn.ex */
    int line;
} klefr_scn_step;

/* A point of the run, kept for the plot. */
typedef struct {
    double t_s;
    float v, i, p_kw, q_kvar;
    double e_kwh[4]; /* active fwd, rev, reactive fwd, rev (registers) */
    double truth_kwh[4];
    bool powered;
} klefr_scn_sample;

typedef struct klefr_scn {
    char file[4096];
    char dir[4096];            /* for paths in the file */
    char *input;               /* the file's text */
    char name[160];
    char *description;
    /* "meters": an installation (sim/fleet.h); NULL: the one meter below */
    struct klefr_fleet_spec *fleet;
    /* the meter */
    char meter_id[64];
    klefr_model model;
    uint32_t serial;           /* BCD */
    uint64_t seed;
    klefr_load base;           /* before the first segment */
    bool have_settings, have_regs, have_state;
    klefr_scn_settings settings;
    klefr_regs regs;
    uint32_t regs_mask;        /* which register fields were given */
    uint8_t eeprom[2048];      /* state_dir image */
    /* what happens */
    klefr_scn_seg *seg;
    size_t nseg;
    bool repeat;
    uint64_t timeline_us;      /* one pass */
    klefr_scn_replay_src *replay;
    size_t nreplay;
    klefr_scn_event *ev;
    size_t nev;
    struct klefr_scn_serial *serial_steps; /* in file order (scenario_serial.c) */
    klefr_scn_expect *ex;
    size_t nex;
    uint64_t duration_us;
    bool have_duration;
    /* a guided tour (the "tour" section); nstep = 0 for other scenarios */
    klefr_scn_step *step;
    size_t nstep;
    char tour_manual[32];      /* the manual's section it follows, "7.10.1" */
    size_t tour_meter;         /* the meter it shows ("tour.meter" of an installation; 0) */

    /* results of the run */
    bool ran;
    size_t npass, nfail;
    klefr_scn_sample *samples;
    size_t nsamples;
    double final_truth_kwh[4]; /* NAN when the AFE has no truth */
    double final_reg_kwh[4];   /* registered during the run (end - start) */
    double start_reg_kwh[4];   /* the registers at power-up (settings, state_dir) */
    char *final_json;          /* the registers, as the headless output */
    double wall_s;             /* set by the caller: kept out of everything but the report's "wall" */
} klefr_scn;

/* Meter k's id and model ("" and the scenario's model with one meter). */
const char *klefr_scn_meter_id(const klefr_scn *s, size_t k);
size_t klefr_scn_meter_count(const klefr_scn *s);
klefr_model klefr_scn_meter_model(const klefr_scn *s, size_t k);

/* Read and check a scenario file. Returns 0, or -1 with one line in err:
 * "file:line:col: not valid JSON ..." or "file:line: path.to.field: message". */
int klefr_scn_load(klefr_scn **out, const char *path, char *err, size_t errlen);
/* The same from text; name is used in messages and to resolve relative paths. */
int klefr_scn_parse(klefr_scn **out, const char *name, const char *text, char *err,
                    size_t errlen);
void klefr_scn_free(klefr_scn *s);

typedef struct {
    /* Trace lines (protocol frames, and events/checks with trace_events). */
    void (*trace)(void *arg, const char *line);
    void *trace_arg;
    bool trace_frames, trace_events;
    /* Called about once per simulated second with the virtual time. */
    void (*progress)(void *arg, uint64_t t_us, uint64_t end_us);
    void *progress_arg;
    const volatile sig_atomic_t *stop; /* nonzero: stop (pending expectations fail) */
    /* Called with the sim at the end of the run, before it is freed (the
     * caller turns the registers into its output format). */
    void (*final)(void *arg, klefr_scn *s, const struct klefr_sim *sim);
    void *final_arg;
    /* The same for a scenario with "meters": every meter, with its id (final
     * is then not called). */
    void (*final_fleet)(void *arg, klefr_scn *s, const struct klefr_sim *const *sims,
                        const char *const *ids, size_t n);
} klefr_scn_run_opts;

/* Run the scenario; results go into s (state of every expectation, samples,
 * final registers). Returns 0 (see s->nfail), or -1 with a message in err
 * for a host failure (out of memory, a file that went away). */
int klefr_scn_run(klefr_scn *s, const klefr_scn_run_opts *o, char *err, size_t errlen);

/* The same run taken piece by piece (tour players, handouts): open, run to
 * the times wanted (a snapshot saved on the way can be gone back to), finish.
 * klefr_scn_run is open, to the end, finish. */
typedef struct klefr_scn_runner klefr_scn_runner;
typedef struct klefr_scn_snapshot klefr_scn_snapshot;
int klefr_scn_runner_open(klefr_scn *s, const klefr_scn_run_opts *o, klefr_scn_runner **out,
                          char *err, size_t errlen);
/* The meter being run, and the synthetic load at its terminals (a window
 * shows them; a caller may also drive the sim with its own paced loop, never
 * past s->duration_us). */
struct klefr_sim *klefr_scn_runner_sim(klefr_scn_runner *r);
klefr_synth *klefr_scn_runner_synth(klefr_scn_runner *r);
/* Run flat out until t_us (at most the scenario's duration): the events and
 * checks at t_us are done when it returns. */
klefr_loop_result klefr_scn_runner_to(klefr_scn_runner *r, uint64_t t_us);
/* End of the run (res: how the loop ended): pending checks decided, final
 * registers. 0, or -1 with err (a host failure during the run). */
int klefr_scn_runner_finish(klefr_scn_runner *r, klefr_loop_result res, char *err,
                            size_t errlen);
void klefr_scn_runner_free(klefr_scn_runner *r);
/* A copy of the whole run now (meter, load, checks), to go back to: NULL when
 * out of memory or the scenario replays a recording (it streams). */
klefr_scn_snapshot *klefr_scn_runner_save(const klefr_scn_runner *r);
void klefr_scn_runner_restore(klefr_scn_runner *r, const klefr_scn_snapshot *snap);
void klefr_scn_snapshot_free(klefr_scn_snapshot *snap);

/* The LCD as the "lcd": "text" expectations see it: "FW kWh | 0.00 | TOTAL"
 * (a meter without supply shows " |  | "). */
void klefr_scn_lcd(const struct klefr_sim *sim, char *out, size_t n);

/* "FILE: t=12.5 s: expect ..., got ..." into buf for a failed expectation. */
void klefr_scn_failure_line(const klefr_scn *s, const klefr_scn_expect *e, char *buf, size_t n);

/* Reports (scenario_report_*.c). Return 0, or -1 with errno set (write failed). */
int klefr_scn_report_json(klefr_scn *const *s, size_t n, const char *path, const char *started);
int klefr_scn_report_junit(klefr_scn *const *s, size_t n, const char *path);
int klefr_scn_report_svg(const klefr_scn *s, const char *path);

/* Settings as meter.settings states them (scenario_settings.c's table): the
 * ones of s that differ from base (NULL: all of them). A cJSON object, NULL
 * when out of memory. */
struct cJSON *klefr_scn_settings_json(const klefr_settings *s, const klefr_settings *base);

#endif
