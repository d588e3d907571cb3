/* An installation of many meters in one shared world (sim/world.h): M-bus
 * and RS-485 lines shared by the meters on them, each meter with its own
 * firmware context, AFE (its own load or profile, or a seeded share of the
 * site's), EEPROM file and outputs. docs/fleet.md has the file format.
 *
 *   fleet file ──parse──> klefr_fleet_spec ──klefr_fleet_open──> klefr_fleet
 *                                                                  world
 *                                                                  lines[] (+ host ports, gateways:
 *                                                                           the caller's, src/)
 *                                                                  meters[] (klefr_sim each)
 *
 * The same spec comes from a fleet file (klefr-sim --fleet) or from a
 * scenario's "meters" list. Deterministic: the same spec and seed give the
 * same frames and registers. */
#ifndef KLEFR_SIM_FLEET_H
#define KLEFR_SIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afe_synth.h"
#include "profile.h"
#include "scenario.h"
#include "sim.h"

#define KLEFR_FLEET_ID 32      /* ids of lines and meters, with the NUL */
#define KLEFR_FLEET_MAX_METERS 100000
#define KLEFR_FLEET_MAX_LINES 64

/* The two kinds of bus a meter's terminals 10/11 join. */
typedef enum { KLEFR_BUS_MBUS, KLEFR_BUS_RS485 } klefr_bus;

const char *klefr_bus_to_str(klefr_bus b);

/* Where a meter's load comes from. */
typedef enum {
    KLEFR_FLEET_LOAD_SITE,    /* the site's load or profile, current x share x (1 + spread u) */
    KLEFR_FLEET_LOAD_OWN,     /* its own --load spec */
    KLEFR_FLEET_LOAD_PROFILE  /* its own profile file */
} klefr_fleet_load_kind;

typedef struct {
    char id[KLEFR_FLEET_ID];
    klefr_bus bus;
    klefr_uart_cfg fmt;  /* the line's settings: the meters' factory baud/parity, the host port's */
    char *port;          /* host transport (ports.h spec); NULL: a pty at <state-dir>/<id> */
    char *gateway;       /* RS-485: a Modbus TCP gateway "tcp:[HOST:]PORT"; NULL: none */
    uint32_t gateway_timeout_ms;
    int src_line;        /* where it is in the file */
} klefr_fleet_line_spec;

typedef struct {
    char id[KLEFR_FLEET_ID];
    klefr_model model;
    uint32_t serial;     /* BCD */
    uint64_t seed;       /* noise, spread and reply time of this meter */
    bool seed_given;     /* in the file; else drawn from the fleet's seed */
    int line;            /* index into lines; -1: on no bus */
    klefr_scn_settings settings;   /* at first power-up (a blank EEPROM) */
    klefr_regs regs;
    uint32_t regs_mask;
    klefr_fleet_load_kind load_kind;
    klefr_load load;     /* LOAD_OWN */
    int profile;         /* LOAD_PROFILE: index into profiles */
    double share;        /* LOAD_SITE: fraction of the site's current (default 1) */
    char *ir_port;       /* a host port on its optical port; NULL: none */
    int src_line;
} klefr_fleet_meter_spec;

typedef struct klefr_fleet_spec {
    char file[4096];
    char name[128];
    char *description;
    uint64_t seed;
    klefr_fleet_line_spec *lines;
    size_t nlines;
    klefr_fleet_meter_spec *meters;
    size_t nmeters;
    /* the site */
    klefr_load site_load;
    int site_profile;    /* index into profiles, -1: the constant site_load */
    double spread;       /* each share x (1 + spread u), u uniform in [-1, 1] per meter */
    klefr_profile *profiles;
    size_t nprofiles;
    bool have_duration;
    uint64_t duration_us;
} klefr_fleet_spec;

/* Read a fleet file. 0, or -1 with one line "file:line: path.field:
 * message" (or "file:line:col: not valid JSON ...") in err. */
int klefr_fleet_load(klefr_fleet_spec **out, const char *path, char *err, size_t errlen);
/* The same from text (name: messages and relative paths). */
int klefr_fleet_parse(klefr_fleet_spec **out, const char *name, const char *text, char *err,
                      size_t errlen);
void klefr_fleet_spec_free(klefr_fleet_spec *f);
/* An empty spec (defaults) for a file called name; what _clear frees. */
void klefr_fleet_spec_init(klefr_fleet_spec *f, const char *name);
void klefr_fleet_spec_clear(klefr_fleet_spec *f);
/* Give a meter spec a setting (scenario settings table: "mbus_id", "baud",
 * ...; raw: the klefr_settings field's value). false for an unknown name. */
bool klefr_fleet_meter_setting(klefr_fleet_meter_spec *m, const char *name, uint32_t raw);
/* The seeds of meters without their own, from f->seed (after changing it). */
void klefr_fleet_spec_reseed(klefr_fleet_spec *f);

/* Parse "lines", the site's "load"/"profile"/"spread" and "meters" of obj
 * (a fleet file's root, or a scenario's) into f, with the scenario parser's
 * context (messages, settings table, relative paths). Used by both. */
struct klefr_scn_pctx;
int klefr_fleet_parse_into(struct klefr_scn_pctx *c, const struct cJSON *obj,
                           klefr_fleet_spec *f);

/* ---- running ---- */

typedef struct {
    klefr_sim *sim;      /* KLEFR_SIM_SHARED_SIZE bytes */
    klefr_synth synth;
    klefr_profile_player player;
    const klefr_fleet_meter_spec *spec;
    double scale; /* its current / the site's (LOAD_SITE) */
} klefr_fleet_meter;

typedef struct {
    const klefr_fleet_line_spec *spec;
    klefr_line *line;
    klefr_line_ep *settings; /* an endpoint holding the line's settings (never sends or listens):
                                host ports follow it */
} klefr_fleet_line;

typedef struct klefr_fleet {
    const klefr_fleet_spec *spec;
    klefr_world world;
    klefr_fleet_line *lines;
    size_t nlines;
    klefr_fleet_meter *meters;
    size_t nmeters;
} klefr_fleet;

/* Build the world: lines, then every meter (state_dir NULL: EEPROMs in
 * RAM; else DIR/<meter id>/eeprom.bin, created as needed). A meter whose
 * EEPROM is blank powers up from the spec's settings and registers (as
 * programmed at the factory); one with a saved image keeps what it saved
 * (an address set by the installer stays). NULL with a message in err. */
klefr_fleet *klefr_fleet_open(const klefr_fleet_spec *spec, const char *state_dir, char *err,
                              size_t errlen);
/* The same with each meter's AFE from afe(arg, k) (a scenario's timeline
 * feeds them): the fleet's own synths and profiles stay idle. */
typedef struct klefr_afe *(*klefr_fleet_afe_fn)(void *arg, size_t k);
klefr_fleet *klefr_fleet_open_with(const klefr_fleet_spec *spec, const char *state_dir,
                                   klefr_fleet_afe_fn afe, void *afe_arg, char *err, size_t errlen);
/* The load a meter starts with (its own, its profile's first segment, or
 * its share of the site's: current x *scale), with its noise seed. */
void klefr_fleet_meter_load(const klefr_fleet_spec *spec, size_t k, double *scale, klefr_load *out);
/* Cut every meter's supply (they save, as at a power cut). */
void klefr_fleet_power_off(klefr_fleet *f);
void klefr_fleet_close(klefr_fleet *f);

/* Meter by id, -1 if none. */
int klefr_fleet_find(const klefr_fleet *f, const char *id);

/* Bytes of memory one meter takes (its klefr_sim, AFE, profile player and
 * its endpoint on a line), for the record. */
size_t klefr_fleet_meter_bytes(void);

/* The reply-time spread of a fleet's meters (klefr_sim.tx_delay_us): 0 ..
 * this, drawn from each meter's seed. */
#define KLEFR_FLEET_REPLY_SPREAD_US 3000u

#endif
