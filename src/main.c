/* klefr-sim: the KLEFR 692x digital twin. Wires the CLI, the load source
 * (--load / --profile / --replay), the EEPROM file and the simulated meter,
 * runs the loop at the chosen speed, and on the way out cuts the supply (the
 * meter saves, like a real power cut) and prints the registers as JSON. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "afe_replay.h"
#include "afe_synth.h"
#include "bench_accuracy.h"
#include "cli.h"
#include "clock.h"
#include "fleet_cmd.h"
#include "lcd_text_out.h"
#include "load_spec.h"
#include "panel.h"
#include "ports.h"
#include "profile.h"
#include "progress.h"
#include "recorder.h"
#include "report.h"
#include "scenario_cmd.h"
#include "sim.h"
#include "tour_cmd.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Ctrl-C, kill, a closed terminal, or a reader that went away (--lcd-text |
 * head): all stop the run the same way, so the meter still saves. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: ppoll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

/* One process per EEPROM file: a second one would overwrite the first's
 * registers. The lock lives as long as the process. */
static int lock_state(const char *eeprom_path)
{
    char path[4300];
    snprintf(path, sizeof path, "%s.lock", eeprom_path);
    return klefr_cli_lock(path, eeprom_path);
}

/* Everything one run needs; static storage (klefr_sim is large). */
typedef struct {
    klefr_cli opt;
    klefr_load load;
    klefr_synth synth;
    klefr_replay replay;
    klefr_profile profile;
    klefr_profile_player player;
    klefr_sim sim;
    klefr_loop loop;
    klefr_panel *panel;
    klefr_recorder *rec;
    klefr_progress progress; /* headless runs with an end, on a terminal */
    char state_dir[4096];
    char eeprom_path[4096 + 16];
    char port_labels[KLEFR_PORT_COUNT][4200];
    const char *ports[KLEFR_PORT_COUNT];
    int nports;
    bool clip_warned;
    bool progress_on;
} app;

/* One line on stderr the first time the ADC clips (the JSON has the count,
 * the panel shows an overload). */
static void warn_clipping(app *a)
{
    const klefr_sim *s = &a->sim;
    if (a->clip_warned || !s->clip_any)
        return;
    a->clip_warned = true;
    klefr_progress_end(&a->progress); /* the line, not across the bar */
    uint64_t ci = s->afe->clipped_i, cv = s->afe->clipped - ci;
    fprintf(stderr,
            "klefr-sim: t=%.2f s: ADC overload: the %s exceeds full scale (%g V / %g A peak); "
            "the meter registers the clipped samples (clipped_samples in the report)\n",
            (double)s->clip_first_us / 1e6, cv && ci ? "voltage and current" : ci ? "current" : "voltage",
            KLEFR_V_FULL_SCALE_PEAK, KLEFR_I_FULL_SCALE_PEAK);
}

/* Once per loop iteration: the clipping warning; headless with an end in
 * sight, the progress bar on stderr (a terminal only); the window draws and
 * turns input into sim events, its speed buttons steer the loop. */
static bool loop_hook(void *arg, klefr_sim *sim, uint64_t t_us)
{
    app *a = arg;
    (void)sim;
    warn_clipping(a);
    if (a->progress_on)
        klefr_progress_update(&a->progress, t_us, a->loop.t_end_us);
    return !a->panel || klefr_panel_drive(a->panel, &a->loop);
}

/* --record: the window's load controls (the sim reports presses, tariff
 * input and supply itself). */
static void panel_input(void *arg, const klefr_panel_input *in)
{
    app *a = arg;
    if (in->kind == KLEFR_PANEL_IN_LOAD && a->rec)
        klefr_recorder_load(a->rec, &in->load, in->t_us);
}

static void trace_stderr(void *arg, const char *line)
{
    const klefr_cli *o = arg;
    /* Lines carry their module's prefix: print the ones asked for. */
    bool on = !strncmp(line, "iec: ", 5)    ? o->trace_iec
              : !strncmp(line, "mbus: ", 6) ? o->trace_mbus
                                            : o->trace_modbus;
    if (on)
        fprintf(stderr, "%s\n", line);
}

/* The EEPROM file could not be saved (disk full, I/O error): the host's
 * failure, said at once; the meter runs on (its EEPROM is fine). */
static void eeprom_host_error(void *arg, const char *path, int err)
{
    const klefr_eeprom *e = arg;
    if (e->host_failures == 1)
        fprintf(stderr, "klefr-sim: %s: cannot save the EEPROM file: %s (the meter runs on; its "
                        "registers are not on disk)\n",
                path, strerror(err));
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "klefr-sim: %s\n(try klefr-sim --help)\n", msg);
    return KLEFR_EXIT_USAGE;
}

static int input_error(const char *msg)
{
    fprintf(stderr, "klefr-sim: %s\n", msg);
    return KLEFR_EXIT_USAGE;
}

/* The load source: synthesis of --load / --profile, or a recording. */
static int setup_source(app *a, klefr_afe **afe)
{
    char err[512];
    klefr_load_defaults(&a->load);
    a->load.seed = a->opt.seed;
    /* A window with nothing asked for shows the meter at its basic current
     * (5 A), so the LED flashes and the registers count; headless: no load. */
    if (!a->opt.headless && !a->opt.load && !a->opt.profile && !a->opt.replay)
        a->load.i_rms = KLEFR_IB_A;
    if (a->opt.load && klefr_load_spec_parse(a->opt.load, &a->load, err, sizeof err) < 0) {
        char msg[700];
        snprintf(msg, sizeof msg, "--load '%s': %s", a->opt.load, err);
        return input_error(msg);
    }
    if (a->opt.profile &&
        klefr_profile_load(&a->profile, a->opt.profile, &a->load, err, sizeof err) < 0)
        return input_error(err);
    if (a->opt.replay) {
        klefr_replay_opts ro = {
            .rate_hz = a->opt.replay_rate, .v_scale = a->opt.v_scale, .i_scale = a->opt.i_scale};
        if (klefr_replay_open(&a->replay, a->opt.replay, &ro, err, sizeof err) < 0)
            return input_error(err);
        *afe = &a->replay.afe;
        return 0;
    }
    /* A nominal ADC: no gain or offset error (calibration is not simulated here). */
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    klefr_synth_init(&a->synth, &a->load, &adc);
    *afe = &a->synth.afe;
    return 0;
}

/* How long: --duration, else one pass of the profile, else until the
 * recording ends or a signal comes. */
static uint64_t run_end(const app *a)
{
    uint64_t end = KLEFR_LOOP_FOREVER;
    if (a->opt.have_duration)
        end = a->opt.duration_us;
    else if (a->opt.profile && !a->profile.repeat)
        end = a->profile.total_us;
    if (end != KLEFR_LOOP_FOREVER)
        end -= end % KLEFR_SIM_SLICE_US; /* whole slices */
    return end;
}

int main(int argc, char **argv)
{
    static app a;
    char err[512];
    if (argc > 1 && !strcmp(argv[1], "scenario"))
        return klefr_scenario_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "tour"))
        return klefr_tour_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "bench-accuracy"))
        return klefr_bench_accuracy_main(argc - 1, argv + 1);
    int rc = klefr_cli_parse(&a.opt, argc, argv, stdout, err, sizeof err);
    if (rc != 0)
        return rc > 0 ? KLEFR_EXIT_OK : usage_error(err);
    if (a.opt.fleet) { /* an installation: src/fleet_cmd.c */
        catch_signals();
        return klefr_fleet_main(&a.opt, &stop_requested);
    }

    if (!a.opt.headless && !klefr_have_display()) {
        if (a.opt.paused)
            return usage_error("--speed paused: no display to show the paused window on");
        fprintf(stderr, "klefr-sim: no display: running headless\n");
        a.opt.headless = true;
    }

    klefr_afe *afe = NULL;
    if ((rc = setup_source(&a, &afe)) != 0)
        return rc;

    if (!a.opt.ephemeral) {
        if (klefr_cli_state_dir(&a.opt, a.state_dir, sizeof a.state_dir, err, sizeof err) < 0) {
            fprintf(stderr, "klefr-sim: %s\n", err);
            return KLEFR_EXIT_RUNTIME;
        }
        snprintf(a.eeprom_path, sizeof a.eeprom_path, "%s/eeprom.bin", a.state_dir);
        if (lock_state(a.eeprom_path) < 0)
            return KLEFR_EXIT_RUNTIME;
    }
    if (klefr_sim_init(&a.sim, (klefr_model)a.opt.model, a.opt.serial, afe,
                       a.opt.ephemeral ? NULL : a.eeprom_path, err, sizeof err) != 0) {
        fprintf(stderr, "klefr-sim: %s\n", err);
        return KLEFR_EXIT_RUNTIME;
    }
    a.sim.eeprom.host_error = eeprom_host_error;
    a.sim.eeprom.host_error_arg = &a.sim.eeprom;
    if (a.sim.eeprom.host_failures) /* the power-up save */
        eeprom_host_error(&a.sim.eeprom, a.sim.eeprom.path, a.sim.eeprom.host_errno);
    for (int f = 0; f < KLEFR_FAULT_COUNT; f++) /* before anything runs: the meter boots with it */
        if (a.opt.faults >> f & 1u)
            klefr_sim_inject(&a.sim, (klefr_sim_fault)f);
    if (a.opt.press && klefr_press_post(&a.sim, a.opt.press) < 0) { /* checked by the CLI */
        fprintf(stderr, "klefr-sim: --press: too many presses for the event queue\n");
        return KLEFR_EXIT_RUNTIME;
    }
    if (a.opt.lcd_text && klefr_lcd_text_follow(&a.sim, stdout) < 0) {
        fprintf(stderr, "klefr-sim: --lcd-text: out of memory\n");
        return KLEFR_EXIT_RUNTIME;
    }
    if (a.opt.profile)
        klefr_profile_start(&a.player, &a.profile, &a.sim, &a.synth);
    if (a.opt.record &&
        !(a.rec = klefr_recorder_start(&a.sim, &a.synth.load,
                                       a.opt.record, err, sizeof err))) {
        fprintf(stderr, "klefr-sim: --record %s\n", err);
        return KLEFR_EXIT_RUNTIME;
    }

    /* Speed: as asked; else flat out when headless with an end in sight,
     * real time otherwise. */
    bool bounded = run_end(&a) != KLEFR_LOOP_FOREVER || a.opt.replay;
    a.loop =
        (klefr_loop){.sim = &a.sim,
                     .speed = a.opt.have_speed ? a.opt.speed : (a.opt.headless && bounded ? 0 : 1),
                     .t_end_us = run_end(&a),
                     .stop = &stop_requested};
    /* Serial ports: one pty (or real port) per protocol port, polled by the loop. */
    klefr_ports_opts popts;
    klefr_ports_opts_init(&popts);
    popts.path[KLEFR_PORT_BUS] = a.opt.model == KLEFR_MODEL_6923 ? a.opt.mbus_port : a.opt.modbus_port;
    popts.path[KLEFR_PORT_IR] = a.opt.ir_port;
    popts.state_dir = a.opt.ephemeral ? NULL : a.state_dir;
    popts.line_timing = a.opt.line_timing;
    popts.check_baud = a.opt.baud_check != 0;
    popts.speed = &a.loop.speed;
    /* Asked for, or the default of a headless run with an end. */
    if (a.loop.speed == 0 && (popts.path[KLEFR_PORT_BUS] || popts.path[KLEFR_PORT_IR])) {
        klefr_cli_warn_speed_max(&a.opt, "a serial port");
        popts.speed = NULL; /* said once */
    }
    if (a.opt.trace_modbus || a.opt.trace_mbus || a.opt.trace_iec) {
        a.sim.trace = trace_stderr;
        a.sim.trace_arg = &a.opt;
    } else {
        a.sim.hal.trace = NULL; /* the firmware formats trace lines only when this is set */
    }
    catch_signals(); /* from here on a stop must remove the port symlinks */
    klefr_ports *ports = klefr_ports_open(&a.sim, &popts);
    if (!ports)
        return KLEFR_EXIT_RUNTIME;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++)
        if (klefr_ports_label(ports, (klefr_port)k, a.port_labels[a.nports], sizeof a.port_labels[0]) == 0) {
            a.ports[a.nports] = a.port_labels[a.nports];
            a.nports++;
        }

    /* The window (the display was checked above). Headless, the panel is
     * only drawn for --screenshot after the run, when time stands still. */
    klefr_panel_opts po = {.ports = a.ports,
                           .nports = a.nports,
                           .synth = a.opt.replay ? NULL : &a.synth,
                           .headless = a.opt.headless,
                           .present = a.opt.present};
    if (!a.opt.headless) {
        po.speed = a.opt.paused ? 0 : a.loop.speed > 0 ? a.loop.speed : KLEFR_PANEL_SPEED_MAX;
        a.loop.paused = a.opt.paused;
        a.panel = klefr_panel_open(&a.sim, &po, err, sizeof err);
        if (!a.panel) {
            fprintf(stderr, "klefr-sim: panel: %s (try --headless)\n", err);
            klefr_ports_close(ports); /* removes the port symlinks */
            return KLEFR_EXIT_RUNTIME;
        }
        klefr_panel_on_input(a.panel, panel_input, &a);
    }
    a.loop.hook = loop_hook; /* headless too: the clipping warning, the progress bar */
    a.loop.hook_arg = &a;
    if (!a.panel && a.loop.t_end_us != KLEFR_LOOP_FOREVER && !a.opt.lcd_text) {
        klefr_progress_start(&a.progress, stderr, "klefr-sim", a.sim.t_us);
        a.progress_on = true;
    }
    uint64_t wall0 = klefr_wall_ns(), virt0 = a.sim.t_us;
    klefr_loop_result res = klefr_loop_run(&a.loop);
    klefr_progress_end(&a.progress);
    /* Headless only: the window shows the speed reached as it goes, and its
     * pause and speed buttons would make one figure for the run meaningless. */
    if (a.loop.reanchors && !a.panel) {
        double wall_s = (double)(klefr_wall_ns() - wall0) / 1e9;
        double got = wall_s > 0 ? (double)(a.sim.t_us - virt0) / 1e6 / wall_s : 0.0;
        fprintf(stderr,
                "klefr-sim: the host could not keep up with --speed %g: ran at about %.*f\n",
                a.loop.speed, got < 10 ? 2 : 0, got);
    }
    warn_clipping(&a);

    bool rec_failed = a.rec && klefr_recorder_finish(a.rec, err, sizeof err) != 0;
    if (rec_failed)
        fprintf(stderr, "klefr-sim: --record %s\n", err);
    a.rec = NULL;
    bool shot_failed = false; /* reported, and exit 1 once the registers are out */
    if (a.opt.screenshot) {
        if (!a.panel)
            a.panel = klefr_panel_open(&a.sim, &po, err, sizeof err);
        shot_failed = !a.panel || klefr_panel_screenshot(a.panel, a.opt.screenshot, 0, 0) != 0;
        if (shot_failed)
            fprintf(stderr, "klefr-sim: --screenshot %s: %s\n", a.opt.screenshot,
                    a.panel ? "cannot write the file" : err);
    }
    klefr_panel_close(a.panel);

    /* A clean stop is a power cut: the meter saves its registers. */
    klefr_sim_power(&a.sim, false);
    klefr_ports_close(ports);
    klefr_sim_close(&a.sim); /* prints the trace lines still held */

    char *json = klefr_report_json(&a.sim, klefr_loop_result_to_str(res));
    if (!json) {
        fprintf(stderr, "klefr-sim: out of memory\n");
        return KLEFR_EXIT_RUNTIME;
    }
    puts(json);
    free(json);
    bool written = fflush(stdout) == 0 && !ferror(stdout);
    klefr_replay_close(&a.replay);
    klefr_profile_free(&a.profile);
    if (!written) {
        fprintf(stderr, "klefr-sim: stdout: %s\n", strerror(errno));
        return KLEFR_EXIT_RUNTIME;
    }
    bool saved = klefr_report_saved(&a.sim.eeprom);
    return shot_failed || rec_failed || !saved ? KLEFR_EXIT_RUNTIME : KLEFR_EXIT_OK;
}
