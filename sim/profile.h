/* Load profiles: a list of segments (duration + load + supply + tariff)
 * replayed on the simulated meter, e.g. a household's day.
 *
 * File format (JSON, docs/cli.md):
 *   { "name": "...", "repeat": false,
 *     "segments": [ { "duration": "7h", "load": "230V,0.3A,pf=0.9L" },
 *                   { "duration": 1800, "i": 12, "pf": "0.95L", "tariff_input": true },
 *                   { "duration": "2min", "power": false } ] }
 * A bare array of segments is accepted too. Each segment starts from the
 * previous one's load and changes what it names; the supply is on unless the
 * segment says "power": false; the tariff input keeps its last level. Unknown keys are errors, so
 * a typo is caught. The top-level object is where later scenario features
 * (timed events, expectations) go; "events" and "expect" are reserved. */
#ifndef KLEFR_SIM_PROFILE_H
#define KLEFR_SIM_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "afe_synth.h"
#include "sim.h"

typedef struct {
    uint64_t duration_us;
    klefr_load load;  /* at the terminals during the segment */
    bool power;       /* supply present (false = power cut) */
    int tariff_input; /* 6922 tariff input: -1 unchanged, 0 = T1, 1 = T2 */
    int tariff;       /* 0 unchanged, 1 or 2: set by command, not saved (6923/6924) */
    int line;         /* where the segment starts in the file */
} klefr_segment;

typedef struct {
    char name[128];
    klefr_segment *seg;
    size_t nseg;
    bool repeat;       /* start over after the last segment */
    uint64_t total_us; /* one pass */
} klefr_profile;

/* Read a profile file / parse text (name is used in messages). Loads start
 * from base (the --load or defaults). Returns 0, or -1 with
 * "file:line: message" in err. */
int klefr_profile_load(klefr_profile *p, const char *path, const klefr_load *base, char *err,
                       size_t errlen);
int klefr_profile_parse(klefr_profile *p, const char *name, const char *text,
                        const klefr_load *base, char *err, size_t errlen);
void klefr_profile_free(klefr_profile *p);

/* A JSON field that is a load item (load, v, i, p, f, phi, pf, direction,
 * harmonics) as --load spec text. Returns 0, 1 when f is not a load field, or
 * -1 with why (no file or line) and the offending node in *bad. Scenarios
 * share it, so a segment means the same in both. */
int klefr_load_field_spec(const cJSON *f, char *spec, size_t len, char *why, size_t whylen,
                          const cJSON **bad);

/* Plays a profile on a sim: applies segment k at its start time through a
 * KLEFR_EV_CALL event, which schedules the next one. */
typedef struct {
    const klefr_profile *p;
    klefr_sim *sim;
    klefr_synth *synth;
    size_t index;     /* segment playing now */
    uint64_t next_us; /* start of the next segment */
    bool done;        /* past the last segment (no repeat): the last one holds */
    int tariff_input; /* level now, re-applied after a power-up */
    /* Changes each segment's load before the synth gets it (a fleet's meter
     * draws its share of the site's current, with its own noise seed);
     * NULL: as the file says. */
    void (*adjust)(void *arg, klefr_load *l);
    void *adjust_arg;
} klefr_profile_player;

/* Apply segment 0 now (sim->t_us) and schedule the rest. */
void klefr_profile_start(klefr_profile_player *pl, const klefr_profile *p, klefr_sim *sim,
                         klefr_synth *synth);
/* The same with each segment's load passed through adjust first. */
void klefr_profile_start_adjusted(klefr_profile_player *pl, const klefr_profile *p, klefr_sim *sim,
                                  klefr_synth *synth, void (*adjust)(void *arg, klefr_load *l),
                                  void *adjust_arg);

#endif
