#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <sys/file.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klefr/config.h"
#include "klefr/types.h"
#include "lcd_text_out.h"
#include "load_spec.h"
#include "sim.h"
#include "ports.h"

enum {
    OPT_HELP = 'h',
    OPT_HEADLESS = 0x100,
    OPT_MODEL,
    OPT_SERIAL,
    OPT_DURATION,
    OPT_SPEED,
    OPT_LOAD,
    OPT_PROFILE,
    OPT_REPLAY,
    OPT_REPLAY_RATE,
    OPT_V_SCALE,
    OPT_I_SCALE,
    OPT_STATE_DIR,
    OPT_EPHEMERAL,
    OPT_SEED,
    OPT_LCD_TEXT,
    OPT_PRESS,
    OPT_MODBUS_PORT,
    OPT_IR_PORT,
    OPT_MBUS_PORT,
    OPT_LINE_TIMING,
    OPT_BAUD_CHECK,
    OPT_TRACE,
    OPT_SCREENSHOT,
    OPT_LAYOUT,
    OPT_FAULT,
    OPT_RECORD,
    OPT_FLEET,
    OPT_GATEWAY,
    OPT_GATEWAY_TIMEOUT,
    OPT_SHOW,
};

static const struct {
    const char *name;
    int has_arg;
    int id;
    const char *arg;
    const char *help;
} table[] = {
    {"headless", no_argument, OPT_HEADLESS, NULL,
     "no window; print the registers as JSON at the end"},
    {"model", required_argument, OPT_MODEL, "N", "6921, 6922, 6923 or 6924 (default 6924)"},
    {"serial", required_argument, OPT_SERIAL, "NNNNNNNN",
     "serial number, up to 8 digits (default 17060102)"},
    {"duration", required_argument, OPT_DURATION, "TIME",
     "simulated time to run: 90, 90s, 15min, 1h30m, 2d"},
    {"speed", required_argument, OPT_SPEED, "X|max|paused",
     "1 = real time, 10 = ten times faster, 0.25 = slow motion, max = flat out, paused (window)"},
    {"load", required_argument, OPT_LOAD, "SPEC",
     "load at the terminals, e.g. 230V,10A,pf=0.5L (docs/cli.md)"},
    {"profile", required_argument, OPT_PROFILE, "FILE", "JSON load profile (segments of loads)"},
    {"replay", required_argument, OPT_REPLAY, "FILE",
     "recorded waveforms: CSV or WAV (V and I channels)"},
    {"replay-rate", required_argument, OPT_REPLAY_RATE, "HZ",
     "sample rate of a CSV without a time column"},
    {"v-scale", required_argument, OPT_V_SCALE, "VOLTS", "WAV: volts at full scale (default 500)"},
    {"i-scale", required_argument, OPT_I_SCALE, "AMPS", "WAV: amperes at full scale (default 200)"},
    {"state-dir", required_argument, OPT_STATE_DIR, "DIR",
     "where the EEPROM file lives (default per user)"},
    {"ephemeral", no_argument, OPT_EPHEMERAL, NULL, "keep the EEPROM in memory only"},
    {"seed", required_argument, OPT_SEED, "N", "seed of the simulated noise (default 1)"},
    {"lcd-text", no_argument, OPT_LCD_TEXT, NULL, "print the LCD as text whenever it changes"},
    {"press", required_argument, OPT_PRESS, "L|R|B@T[+D],...",
     "press buttons at T s for D s (L left, R right, B both; default 0.2 s)"},
    {"modbus-port", required_argument, OPT_MODBUS_PORT, "PORT",
     "Modbus port: PATH (pty symlink, default <state-dir>/modbus), serial:DEV, tcp:[HOST:]PORT, "
     "rfc2217:[HOST:]PORT"},
    {"ir-port", required_argument, OPT_IR_PORT, "PORT",
     "optical port, as --modbus-port (default <state-dir>/ir)"},
    {"mbus-port", required_argument, OPT_MBUS_PORT, "PORT",
     "M-bus port, as --modbus-port (default <state-dir>/mbus)"},
    {"line-timing", required_argument, OPT_LINE_TIMING, "on|off",
     "bytes take their wire time at the port's baud (default on; off: at once, benchmarks)"},
    {"baud-check", required_argument, OPT_BAUD_CHECK, "on|off",
     "a master at another baud rate is not understood (default on)"},
    {"trace", required_argument, OPT_TRACE, "modbus,mbus,iec",
     "log the frames of these protocols to stderr (comma-separated)"},
    {"screenshot", required_argument, OPT_SCREENSHOT, "FILE.png",
     "save the front panel as PNG at the end of the run"},
    {"layout", required_argument, OPT_LAYOUT, "normal|present",
     "window layout; present = the meter large, captions beside it (F11)"},
    {"fault", required_argument, OPT_FAULT, "program-crc",
     "inject a fault from the start: program-crc = Err 02 (may repeat)"},
    {"record", required_argument, OPT_RECORD, "FILE.json",
     "write the presses and control changes as a scenario (docs/scenarios.md)"},
    {"fleet", required_argument, OPT_FLEET, "FILE.json",
     "run an installation of many meters on shared lines (docs/fleet.md)"},
    {"modbus-gateway", required_argument, OPT_GATEWAY, "tcp:[HOST:]PORT",
     "--fleet: a Modbus TCP gateway in front of the RS-485 line"},
    {"gateway-timeout", required_argument, OPT_GATEWAY_TIMEOUT, "TIME",
     "--fleet: the gateway's response timeout (default 500ms)"},
    {"show", required_argument, OPT_SHOW, "ID", "--fleet: the meter the window shows first"},
    {"help", no_argument, OPT_HELP, NULL, "this text"},
};
#define NOPTS (sizeof table / sizeof table[0])

void klefr_cli_usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim [OPTION]...\n"
               "A digital twin of the KLEFR 692x single-phase energy meter.\n\n");
    char left[NOPTS][48];
    int width = 0;
    for (size_t k = 0; k < NOPTS; k++) {
        int n = snprintf(left[k], sizeof left[k], "--%s%s%s", table[k].name,
                         table[k].arg ? " " : "", table[k].arg ? table[k].arg : "");
        width = n > width ? n : width;
    }
    for (size_t k = 0; k < NOPTS; k++)
        fprintf(f, "  %-*s  %s\n", width, left[k], table[k].help);
    fprintf(f, "\nklefr-sim bench-accuracy [--out DIR]: the meter test bench report (--help).\n"
               "Exit status: 0 ok, 1 runtime failure, 2 bad usage or input. See docs/cli.md.\n");
}

static int fail(char *err, size_t errlen, const char *opt, const char *arg, const char *why)
{
    snprintf(err, errlen, "--%s '%s': %s", opt, arg, why);
    return -1;
}

static bool positive(const char *s, double *x)
{
    char *e;
    *x = strtod(s, &e);
    return e != s && !*e && isfinite(*x) && *x > 0;
}

/* A fleet's meters come from its file: the options of one meter do not
 * apply, and the fleet options need --fleet. */
static int check_fleet(const klefr_cli *o, char *err, size_t errlen)
{
    const struct {
        bool given, fleet_only;
        const char *name;
    } opts[] = {{o->model != KLEFR_MODEL_6924, false, "model"},
                {o->serial != KLEFR_DEFAULT_SERIAL, false, "serial"},
                {o->load, false, "load"},
                {o->profile, false, "profile"},
                {o->replay, false, "replay"},
                {o->press, false, "press"},
                {o->lcd_text, false, "lcd-text"},
                {o->record, false, "record"},
                {o->faults, false, "fault"},
                {o->ir_port, false, "ir-port"},
                {o->gateway, true, "modbus-gateway"},
                {o->gateway_timeout_us, true, "gateway-timeout"},
                {o->show, true, "show"}};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (!opts[k].given || opts[k].fleet_only == (o->fleet != NULL))
            continue;
        if (opts[k].fleet_only)
            snprintf(err, errlen, "--%s needs --fleet", opts[k].name);
        else
            snprintf(err, errlen, "--%s is for one meter; a fleet's meters are in its file "
                                  "(docs/fleet.md)", opts[k].name);
        return -1;
    }
    return 0;
}

int klefr_cli_parse(klefr_cli *o, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
    *o = (klefr_cli){.model = KLEFR_MODEL_6924,
                     .serial = KLEFR_DEFAULT_SERIAL,
                     .seed = 1,
                     .line_timing = -1,
                     .baud_check = 1};
    snprintf(o->serial_text, sizeof o->serial_text, "%08x", (unsigned)KLEFR_DEFAULT_SERIAL);
    struct option opts[NOPTS + 1];
    for (size_t k = 0; k < NOPTS; k++)
        opts[k] = (struct option){table[k].name, table[k].has_arg, NULL, table[k].id};
    opts[NOPTS] = (struct option){0, 0, 0, 0};
    optind = 1;
    opterr = 0;
    int c, idx;
    while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
        const char *name = NULL;
        for (size_t k = 0; k < NOPTS; k++)
            if (table[k].id == c)
                name = table[k].name;
        char *e;
        double x;
        switch (c) {
        case OPT_HELP:
            klefr_cli_usage(out);
            return 1;
        case OPT_HEADLESS:
            o->headless = true;
            break;
        case OPT_MODEL:
            o->model = (int)strtol(optarg, &e, 10);
            if (e == optarg || *e || !klefr_model_valid(o->model))
                return fail(err, errlen, name, optarg, "expected 6921, 6922, 6923 or 6924");
            break;
        case OPT_SERIAL: {
            size_t n = strlen(optarg);
            if (n == 0 || n > 8 || strspn(optarg, "0123456789") != n)
                return fail(err, errlen, name, optarg, "expected 1 to 8 decimal digits");
            snprintf(o->serial_text, sizeof o->serial_text, "%08lu", strtoul(optarg, NULL, 10));
            o->serial = (uint32_t)strtoul(o->serial_text, NULL, 16); /* digits as BCD */
            break;
        }
        case OPT_DURATION:
            if (klefr_duration_parse(optarg, &o->duration_us) < 0)
                return fail(err, errlen, name, optarg,
                            "expected a time like 90, 90s, 15min, 1h30m, 2d");
            o->have_duration = true;
            break;
        case OPT_SPEED:
            o->paused = !strcmp(optarg, "paused");
            if (!strcmp(optarg, "max"))
                o->speed = 0;
            else if (o->paused)
                o->speed = 1; /* what the window's play resumes at */
            else if (!positive(optarg, &o->speed) || o->speed > 1e6)
                return fail(err, errlen, name, optarg,
                            "expected max, paused or a ratio > 0 (1 = real time)");
            o->have_speed = true;
            break;
        case OPT_LOAD:
            o->load = optarg;
            break;
        case OPT_PROFILE:
            o->profile = optarg;
            break;
        case OPT_REPLAY:
            o->replay = optarg;
            break;
        case OPT_REPLAY_RATE:
        case OPT_V_SCALE:
        case OPT_I_SCALE:
            if (!positive(optarg, &x))
                return fail(err, errlen, name, optarg, "expected a number > 0");
            *(c == OPT_REPLAY_RATE ? &o->replay_rate
              : c == OPT_V_SCALE   ? &o->v_scale
                                   : &o->i_scale) = x;
            break;
        case OPT_STATE_DIR:
            if (!*optarg)
                return fail(err, errlen, name, optarg, "empty directory name");
            o->state_dir = optarg;
            break;
        case OPT_EPHEMERAL:
            o->ephemeral = true;
            break;
        case OPT_LCD_TEXT:
            o->lcd_text = true;
            break;
        case OPT_PRESS:
            if (klefr_press_post(NULL, optarg) < 0)
                return fail(err, errlen, name, optarg, "expected L|R|B@SECONDS[+HELD],...");
            o->press = optarg;
            break;
        case OPT_MODBUS_PORT:
        case OPT_IR_PORT:
        case OPT_MBUS_PORT: {
            char why[300];
            if (klefr_ports_check_spec(optarg, why, sizeof why))
                return fail(err, errlen, name, optarg, why);
            *(c == OPT_MODBUS_PORT ? &o->modbus_port
              : c == OPT_IR_PORT   ? &o->ir_port
                                   : &o->mbus_port) = optarg;
            break;
        }
        case OPT_LINE_TIMING:
        case OPT_BAUD_CHECK: {
            int on = !strcmp(optarg, "on") ? 1 : !strcmp(optarg, "off") ? 0 : -1;
            if (on < 0)
                return fail(err, errlen, name, optarg, "expected on or off");
            *(c == OPT_LINE_TIMING ? &o->line_timing : &o->baud_check) = on;
            break;
        }
        case OPT_SCREENSHOT:
            o->screenshot = optarg;
            break;
        case OPT_LAYOUT:
            if (strcmp(optarg, "normal") && strcmp(optarg, "present"))
                return fail(err, errlen, name, optarg, "expected normal or present");
            o->present = !strcmp(optarg, "present");
            break;
        case OPT_RECORD:
            if (!*optarg)
                return fail(err, errlen, name, optarg, "empty file name");
            o->record = optarg;
            break;
        case OPT_FAULT: {
            int f = klefr_sim_fault_parse(optarg);
            if (f < 0)
                return fail(err, errlen, name, optarg, "expected program-crc");
            o->faults |= 1u << f;
            break;
        }
        case OPT_TRACE: {
            static const char *const words[] = {"modbus", "mbus", "iec", NULL};
            bool *on[] = {&o->trace_modbus, &o->trace_mbus, &o->trace_iec};
            if (klefr_cli_words(optarg, words, on) < 0)
                return fail(err, errlen, name, optarg, "expected modbus, mbus or iec (comma-separated)");
            break;
        }
        case OPT_FLEET:
        case OPT_SHOW:
            if (!*optarg)
                return fail(err, errlen, name, optarg, "empty");
            *(c == OPT_FLEET ? &o->fleet : &o->show) = optarg;
            break;
        case OPT_GATEWAY: {
            char why[300];
            if (strncmp(optarg, "tcp:", 4))
                return fail(err, errlen, name, optarg, "expected tcp:[HOST:]PORT");
            if (klefr_ports_check_spec(optarg, why, sizeof why))
                return fail(err, errlen, name, optarg, why);
            o->gateway = optarg;
            break;
        }
        case OPT_GATEWAY_TIMEOUT:
            if (klefr_duration_parse(optarg, &o->gateway_timeout_us) < 0 ||
                o->gateway_timeout_us < 10000 || o->gateway_timeout_us > 60000000)
                return fail(err, errlen, name, optarg, "expected a time from 10ms to 60s");
            break;
        case OPT_SEED:
            o->have_seed = true;
            errno = 0;
            o->seed = strtoull(optarg, &e, 0);
            if (e == optarg || *e || errno || optarg[0] == '-')
                return fail(err, errlen, name, optarg, "expected an unsigned integer");
            break;
        case ':':
            snprintf(err, errlen, "%s: needs an argument", argv[optind - 1]);
            return -1;
        default:
            snprintf(err, errlen, "%s: unknown option", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "'%s': unexpected argument", argv[optind]);
        return -1;
    }
    if (o->load && o->replay) {
        snprintf(err, errlen, "--load and --replay exclude each other (the recording is the load)");
        return -1;
    }
    if (o->profile && o->replay) {
        snprintf(err, errlen, "--profile and --replay exclude each other");
        return -1;
    }
    if (o->record && (o->profile || o->replay)) {
        snprintf(err, errlen, "--record and --%s exclude each other (the recording would miss the "
                              "load the %s plays)",
                 o->profile ? "profile" : "replay", o->profile ? "profile" : "recording");
        return -1;
    }
    if (o->paused && o->headless) {
        snprintf(err, errlen, "--speed paused needs the window (--headless runs cannot pause)");
        return -1;
    }
    if (o->ephemeral && o->state_dir) {
        snprintf(err, errlen, "--ephemeral and --state-dir exclude each other");
        return -1;
    }
    return check_fleet(o, err, errlen);
}

int klefr_cli_words(const char *list, const char *const *words, bool *const *on)
{
    for (const char *w = list; *w;) {
        size_t n = strcspn(w, ","), k = 0;
        while (words[k] && (strlen(words[k]) != n || strncmp(w, words[k], n)))
            k++;
        if (!words[k])
            return -1;
        *on[k] = true;
        w += n + (w[n] == ',');
    }
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int r = mkdir(path, 0777);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

int klefr_cli_state_dir(const klefr_cli *o, char *dir, size_t len, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (o->state_dir)
        n = snprintf(dir, len, "%s", o->state_dir);
    else if (xdg && xdg[0] == '/')
        n = snprintf(dir, len, "%s/klefr-sim/%d-%s", xdg, o->model, o->serial_text);
    else if (home && home[0] == '/')
        n = snprintf(dir, len, "%s/.local/state/klefr-sim/%d-%s", home, o->model, o->serial_text);
    else
        n = snprintf(dir, len, "state/%d-%s", o->model, o->serial_text);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "state directory %.64s...: path too long", dir);
        return -1;
    }
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = 0;
    if (mkdirs(dir) != 0) {
        snprintf(err, errlen, "state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) != 0) {
        snprintf(err, errlen, "state directory %s: not a writable directory", dir);
        return -1;
    }
    return 0;
}

bool klefr_have_display(void)
{
    const char *v[] = {"DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (getenv(v[k]) && *getenv(v[k]))
            return true;
    return false;
}

int klefr_cli_lock(const char *path, const char *what)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "klefr-sim: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "klefr-sim: %s is in use by another klefr-sim (%s)\n", what,
                strerror(errno));
        close(fd);
        return -1;
    }
    return 0;
}

void klefr_cli_warn_speed_max(const klefr_cli *o, const char *what)
{
    fprintf(stderr, "klefr-sim: --speed max%s with %s: the line keeps its timing in virtual time, "
                    "but a master on the host runs in real time and will time out; use --speed 1 "
                    "to talk to it\n",
            o->have_speed ? "" : " (the default of a headless run with an end)", what);
}
