/* Command line of klefr-sim. One row per option in the table in cli.c:
 * to add one, add a field here, a row there and a case in klefr_cli_parse. */
#ifndef KLEFR_CLI_H
#define KLEFR_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (docs/cli.md). */
enum { KLEFR_EXIT_OK = 0, KLEFR_EXIT_RUNTIME = 1, KLEFR_EXIT_USAGE = 2 };

typedef struct {
    bool headless;
    int model;
    uint32_t serial; /* 8 decimal digits as BCD, e.g. 0x17060102 */
    char serial_text[9];
    bool have_duration;
    uint64_t duration_us;
    bool have_speed;
    double speed;            /* 0 = as fast as possible */
    bool paused;             /* --speed paused: the window opens with time stopped */
    const char *load;        /* --load SPEC */
    const char *profile;     /* --profile FILE */
    const char *replay;      /* --replay FILE */
    double replay_rate;      /* Hz, CSV without a time column */
    double v_scale, i_scale; /* WAV full scale, V / A; 0 = sidecar or default */
    const char *state_dir;   /* NULL = the default per-user directory */
    bool ephemeral;          /* no EEPROM file: nothing persists */
    uint64_t seed;
    bool lcd_text;           /* --lcd-text: print LCD changes */
    const char *press;       /* --press SPEC: queued button presses */
    const char *modbus_port; /* --modbus-port PATH or serial:DEV */
    const char *mbus_port;   /* --mbus-port PATH or serial:DEV */
    int line_timing;         /* 1 on, 0 off, -1 default (on) */
    int baud_check;          /* 1 on, 0 off */
    bool trace_modbus;       /* --trace modbus */
    const char *ir_port;     /* --ir-port PATH or serial:DEV */
    bool trace_iec;          /* --trace iec */
    bool trace_mbus;         /* --trace mbus */
    const char *screenshot;  /* --screenshot FILE.png */
    bool present;            /* --layout present: the window's presentation layout */
    unsigned faults;         /* --fault NAME: bit per klefr_sim_fault */
    const char *record;      /* --record FILE.json: the session as a scenario */
    bool have_seed;
    const char *fleet;       /* --fleet FILE.json: an installation (docs/fleet.md) */
    const char *gateway;     /* --modbus-gateway tcp:[HOST:]PORT */
    uint64_t gateway_timeout_us; /* --gateway-timeout; 0 = the file's */
    const char *show;        /* --show ID: the meter the window shows first */
} klefr_cli;

/* Returns 0 to run, 1 when --help was asked (usage printed to out), or -1
 * with a message in err (exit code 2). */
int klefr_cli_parse(klefr_cli *o, int argc, char **argv, FILE *out, char *err, size_t errlen);
void klefr_cli_usage(FILE *f);

/* A comma-separated list of words (--trace): *on[k] = true for each words[k]
 * named. Returns 0, or -1 for a word not in the NULL-terminated list. */
int klefr_cli_words(const char *list, const char *const *words, bool *const *on);

/* The state directory (the EEPROM file DIR/eeprom.bin, the port symlinks):
 * --state-dir, else $XDG_STATE_HOME/klefr-sim/MODEL-SERIAL, else
 * ~/.local/state/klefr-sim/..., else ./state/MODEL-SERIAL. Creates it.
 * Returns 0 or -1 with err. */
int klefr_cli_state_dir(const klefr_cli *o, char *dir, size_t len, char *err, size_t errlen);

/* A window can open: DISPLAY, WAYLAND_DISPLAY or SDL_VIDEODRIVER is set. */
bool klefr_have_display(void);

/* Take the lock file path for what (an EEPROM file, a fleet's directory) for
 * as long as the process lives: a second klefr-sim on the same state would
 * overwrite the first's. 0, or -1 with the message printed. */
int klefr_cli_lock(const char *path, const char *what);

/* Masters on the host run in real time: at --speed max (asked for, or the
 * default of a headless run with an end) a run whose ports were named says
 * so at the start, what = "a serial port", "a fleet's ports". */
void klefr_cli_warn_speed_max(const klefr_cli *o, const char *what);

#endif
