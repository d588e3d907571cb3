/* klefr-sim --fleet FILE: an installation of many meters (docs/fleet.md).
 * Reads the file, builds the fleet in one world, opens a host port for
 * every line (a pty linked at <state-dir>/<line id> unless the file names
 * another), the Modbus TCP gateways, the window (one meter's panel at a
 * time, a meter list, a bus monitor), runs the loop, and on the way out
 * cuts every meter's supply (they save) and prints one JSON report with
 * every meter's registers. */
#include "fleet_cmd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "busmon.h"
#include "clock.h"
#include "fleet.h"
#include "mb_gateway.h"
#include "panel.h"
#include "panel_draw.h"
#include "ports.h"
#include "report.h"

typedef struct {
    const klefr_cli *opt;
    klefr_fleet_spec *spec;
    klefr_fleet *fleet;
    klefr_hostport **host; /* per line, then per meter's optical port */
    size_t nhost;
    klefr_mbgw **gw;       /* per line */
    klefr_busmon *mon;
    klefr_panel *panel;
    size_t shown;     /* the meter the window shows */
    size_t mon_line;  /* the line its bus monitor shows */
    int32_t *scope_v, *scope_i; /* headless --screenshot: the shown meter's scope */
    const char *port_labels[8];
    char port_text[8][160];
    int nports;
    klefr_loop loop;
    klefr_ports_warn warn;
    char state_dir[4096];
} fleet_app;

/* A meter's trace lines, with its id in front (the world prints them in
 * time order across all meters). */
typedef struct {
    const klefr_cli *opt;
    const char *id;
} trace_ctx;

static void trace_line(void *arg, const char *line)
{
    const trace_ctx *t = arg;
    bool on = !strncmp(line, "iec: ", 5)    ? t->opt->trace_iec
              : !strncmp(line, "mbus: ", 6) ? t->opt->trace_mbus
                                            : t->opt->trace_modbus;
    if (on)
        fprintf(stderr, "%s %s\n", t->id, line);
}

/* The state directory: --state-dir, else $XDG_STATE_HOME/klefr-sim/fleet-NAME
 * (NAME: the file's name without .json). */
static int state_dir(fleet_app *a, char *err, size_t errlen)
{
    klefr_cli o = *a->opt;
    char dir[4096];
    if (!o.state_dir) {
        const char *base = strrchr(o.fleet, '/') ? strrchr(o.fleet, '/') + 1 : o.fleet;
        char stem[256];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem)
            *dot = 0;
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0] == '/')
            snprintf(dir, sizeof dir, "%s/klefr-sim/fleet-%s", xdg, stem);
        else if (home && home[0] == '/')
            snprintf(dir, sizeof dir, "%s/.local/state/klefr-sim/fleet-%s", home, stem);
        else
            snprintf(dir, sizeof dir, "state/fleet-%s", stem);
        o.state_dir = dir;
    }
    return klefr_cli_state_dir(&o, a->state_dir, sizeof a->state_dir, err, errlen);
}

/* One process per fleet state directory. */
static int lock_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fleet.lock", dir);
    return klefr_cli_lock(path, dir);
}

/* The command line names the port or gateway of "the" line of a bus. */
static int override(klefr_fleet_spec *s, klefr_bus bus, const char *opt, const char *value,
                    bool gateway)
{
    if (!value)
        return 0;
    int found = -1;
    for (size_t k = 0; k < s->nlines; k++)
        if (s->lines[k].bus == bus) {
            if (found >= 0) {
                fprintf(stderr, "klefr-sim: --%s: %s has several %s lines; name each one's %s in "
                                "the file\n",
                        opt, s->file, bus == KLEFR_BUS_MBUS ? "M-bus" : "RS-485",
                        gateway ? "\"gateway\"" : "\"port\"");
                return -1;
            }
            found = (int)k;
        }
    if (found < 0) {
        fprintf(stderr, "klefr-sim: --%s: %s has no %s line\n", opt, s->file,
                bus == KLEFR_BUS_MBUS ? "M-bus" : "RS-485");
        return -1;
    }
    char **dst = gateway ? &s->lines[found].gateway : &s->lines[found].port;
    free(*dst);
    *dst = strdup(value);
    return *dst ? 0 : -1;
}

/* A port or gateway the file or the command line named (not a default pty). */
static bool named_ports(const klefr_fleet_spec *s)
{
    for (size_t k = 0; k < s->nlines; k++)
        if (s->lines[k].port || s->lines[k].gateway)
            return true;
    for (size_t k = 0; k < s->nmeters; k++)
        if (s->meters[k].ir_port)
            return true;
    return false;
}

static int open_ports(fleet_app *a)
{
    klefr_fleet *f = a->fleet;
    size_t nir = 0;
    for (size_t k = 0; k < f->nmeters; k++)
        nir += f->meters[k].spec->ir_port != NULL;
    a->host = calloc(f->nlines + nir + 1, sizeof *a->host);
    a->gw = calloc(f->nlines + 1, sizeof *a->gw);
    if (!a->host || !a->gw)
        return -1;
    bool check_baud = a->opt->baud_check != 0;
    for (size_t k = 0; k < f->nlines; k++) {
        const klefr_fleet_line_spec *ls = f->lines[k].spec;
        klefr_line_set_timing(f->lines[k].line, a->opt->line_timing != 0);
        klefr_hostport_opts ho = {.world = &f->world,
                                  .line = f->lines[k].line,
                                  .ref = f->lines[k].settings,
                                  .spec = ls->port,
                                  .state_dir = a->opt->ephemeral ? NULL : a->state_dir,
                                  .check_baud = check_baud,
                                  .warn = &a->warn};
        if (!(a->host[a->nhost++] = klefr_hostport_open(&ho)))
            return -1;
        if (!ls->gateway)
            continue;
        char err[400];
        uint32_t timeout = a->opt->gateway_timeout_us ? (uint32_t)(a->opt->gateway_timeout_us / 1000)
                                                      : ls->gateway_timeout_ms;
        klefr_mbgw_opts go = {.world = &f->world,
                              .line = f->lines[k].line,
                              .ref = f->lines[k].settings,
                              .listen = ls->gateway,
                              .timeout_ms = timeout,
                              .name = ls->id};
        if (!(a->gw[k] = klefr_mbgw_open(&go, err, sizeof err))) {
            fprintf(stderr, "klefr-sim: %s: gateway %s\n", ls->id, err);
            return -1;
        }
    }
    for (size_t k = 0; k < f->nmeters; k++) {
        const klefr_fleet_meter_spec *m = f->meters[k].spec;
        if (!m->ir_port)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s.ir", m->id);
        klefr_sim *s = f->meters[k].sim;
        klefr_hostport_opts ho = {.world = &f->world,
                                  .line = klefr_sim_line(s, KLEFR_PORT_IR),
                                  .ref = klefr_sim_uart_ep(s, KLEFR_PORT_IR),
                                  .name = name,
                                  .spec = m->ir_port,
                                  .state_dir = a->opt->ephemeral ? NULL : a->state_dir,
                                  .check_baud = check_baud,
                                  .warn = &a->warn};
        if (!ho.line || !(a->host[a->nhost++] = klefr_hostport_open(&ho)))
            return -1;
    }
    return 0;
}

static void close_ports(fleet_app *a)
{
    for (size_t k = 0; a->gw && k < a->fleet->nlines; k++)
        klefr_mbgw_close(a->gw[k]);
    for (size_t k = 0; k < a->nhost; k++)
        klefr_hostport_close(a->host[k]);
    free(a->gw);
    free(a->host);
    a->gw = NULL;
    a->host = NULL;
    a->nhost = 0;
}

/* ---- the window: one meter's panel, the meter list, the bus monitor ---- */

static void view_fill(void *arg, klefr_panel_fleet *out, uint64_t t_us)
{
    fleet_app *a = arg;
    const klefr_fleet *f = a->fleet;
    memset(out, 0, sizeof *out);
    snprintf(out->title, sizeof out->title, "%.60s: %zu meters on %zu line%s", a->spec->name,
             f->nmeters, f->nlines, f->nlines == 1 ? "" : "s");
    out->nmeters = (int)f->nmeters;
    out->shown = (int)a->shown;
    int rows = KLEFR_PANEL_FLEET_ROWS, first = (int)a->shown - rows / 2;
    if (first > (int)f->nmeters - rows)
        first = (int)f->nmeters - rows;
    out->first = first < 0 ? 0 : first;
    for (int k = 0; k < rows && out->first + k < (int)f->nmeters; k++, out->nrows++) {
        const klefr_fleet_meter *m = &f->meters[out->first + k];
        const klefr_sim *s = m->sim;
        const klefr_meter *fw = &s->meter;
        int line = m->spec->line;
        unsigned addr = klefr_model_has_mbus(s->model) ? fw->settings.mbus_id : fw->settings.modbus_id;
        double kw = s->powered && fw->meas.valid ? fw->meas.p_w / 1000 : 0;
        double kwh = (double)klefr_act_fwd_uwh(&fw->regs, -1) / 1e9;
        char where[48] = "-";
        if (line >= 0)
            snprintf(where, sizeof where, "%.12s a=%u", f->lines[line].spec->id, addr);
        snprintf(out->rows[k], sizeof out->rows[k], "%-12.12s %d %-16s %6.2f kW %9.2f kWh%s",
                 m->spec->id, (int)s->model, where, kw, kwh, s->powered ? "" : "  off");
        out->lit[k] = s->out.count[KLEFR_OUT_LED] && s->out.on_until_us[KLEFR_OUT_LED] + 17000 > t_us;
    }
    if (!f->nlines) {
        snprintf(out->mon_title, sizeof out->mon_title, "Bus monitor: no bus lines");
        return;
    }
    const klefr_fleet_line *l = &f->lines[a->mon_line];
    const klefr_busmon_frame *fr;
    uint64_t total;
    size_t n = klefr_busmon_frames(a->mon, a->mon_line, t_us, &fr, &total);
    char fmt[16];
    snprintf(fmt, sizeof fmt, "%u 8%c1", l->spec->fmt.baud, "NEO"[l->spec->fmt.parity % 3]);
    snprintf(out->mon_title, sizeof out->mon_title, "Bus monitor: %.12s (%s), %llu frames%s",
             l->spec->id, fmt, (unsigned long long)total, f->nlines > 1 ? "  [B: next line]" : "");
    size_t from = n > KLEFR_PANEL_MON_ROWS ? n - KLEFR_PANEL_MON_ROWS : 0;
    for (size_t k = from; k < n; k++, out->nmon++) {
        klefr_busmon_format(&fr[k], 5, out->mon[out->nmon], sizeof out->mon[0]);
        out->mon_bad[out->nmon] = fr[k].collided || fr[k].flagged;
    }
}

static void view_pick(void *arg, int k)
{
    fleet_app *a = arg;
    if (k < 0 || (size_t)k >= a->fleet->nmeters)
        return;
    a->shown = (size_t)k;
    klefr_fleet_meter *m = &a->fleet->meters[k];
    klefr_panel_show(a->panel, m->sim, &m->synth);
    a->loop.sim = m->sim;
}

static void view_next_line(void *arg)
{
    fleet_app *a = arg;
    if (a->fleet->nlines)
        a->mon_line = (a->mon_line + 1) % a->fleet->nlines;
}

/* The window (or, headless, the panel drawn only for --screenshot). */
static int open_panel(fleet_app *a, bool headless, char *err, size_t errlen)
{
    klefr_fleet_meter *m = &a->fleet->meters[a->shown];
    klefr_panel_opts po = {.ports = a->port_labels,
                           .nports = a->nports,
                           .synth = &m->synth,
                           .headless = headless,
                           .present = false,
                           .speed = a->opt->paused ? 0
                                    : a->loop.speed > 0 ? a->loop.speed
                                                        : KLEFR_PANEL_SPEED_MAX,
                           .width = 1560};
    a->panel = klefr_panel_open(m->sim, &po, err, (int)errlen);
    if (!a->panel)
        return -1;
    klefr_panel_fleet_src src = {view_fill, view_pick, view_next_line, a};
    klefr_panel_set_fleet(a->panel, &src);
    return 0;
}

static bool loop_hook(void *arg, klefr_sim *sim, uint64_t t_us)
{
    fleet_app *a = arg;
    (void)sim;
    (void)t_us;
    return !a->panel || klefr_panel_drive(a->panel, &a->loop);
}

/* {"fleet": name, "t_s", "end", "meters": [{"id", "line", registers...}]} */
static int print_report(fleet_app *a, const char *end)
{
    klefr_fleet *f = a->fleet;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return -1;
    cJSON_AddStringToObject(j, "fleet", a->spec->name); /* first: a person reads the head */
    cJSON_AddNumberToObject(j, "t_s", (double)f->world.t_us / 1e6);
    cJSON_AddStringToObject(j, "end", end);
    cJSON *ms = cJSON_AddArrayToObject(j, "meters");
    if (!ms) {
        cJSON_Delete(j);
        return -1;
    }
    for (size_t k = 0; k < f->nmeters; k++) {
        const klefr_fleet_meter_spec *m = f->meters[k].spec;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(ms, o)) {
            cJSON_Delete(o);
            cJSON_Delete(j);
            return -1;
        }
        cJSON_AddStringToObject(o, "id", m->id);
        if (m->line >= 0)
            cJSON_AddStringToObject(o, "line", a->spec->lines[m->line].id);
        else
            cJSON_AddNullToObject(o, "line");
        if (!klefr_report_add(o, f->meters[k].sim, end)) {
            cJSON_Delete(j);
            return -1;
        }
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return 0;
}

int klefr_fleet_main(const klefr_cli *opt, const volatile sig_atomic_t *stop)
{
    fleet_app a = {.opt = opt};
    char err[1024];
    if (klefr_fleet_load(&a.spec, opt->fleet, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return KLEFR_EXIT_USAGE;
    }
    if (opt->have_seed)
        a.spec->seed = opt->seed;
    klefr_fleet_spec_reseed(a.spec);
    if (override(a.spec, KLEFR_BUS_MBUS, "mbus-port", opt->mbus_port, false) ||
        override(a.spec, KLEFR_BUS_RS485, "modbus-port", opt->modbus_port, false) ||
        override(a.spec, KLEFR_BUS_RS485, "modbus-gateway", opt->gateway, true)) {
        klefr_fleet_spec_free(a.spec);
        return KLEFR_EXIT_USAGE;
    }
    bool headless = opt->headless;
    if (!headless && !klefr_have_display()) {
        if (opt->paused) {
            fprintf(stderr, "klefr-sim: --speed paused: no display to show the paused window on\n");
            klefr_fleet_spec_free(a.spec);
            return KLEFR_EXIT_USAGE;
        }
        fprintf(stderr, "klefr-sim: no display: running headless\n");
        headless = true;
    }
    int rc = KLEFR_EXIT_RUNTIME;
    if (!opt->ephemeral && (state_dir(&a, err, sizeof err) < 0 || lock_dir(a.state_dir) < 0)) {
        if (err[0])
            fprintf(stderr, "klefr-sim: %s\n", err);
        klefr_fleet_spec_free(a.spec);
        return KLEFR_EXIT_RUNTIME;
    }
    uint64_t t0 = klefr_wall_ns();
    a.fleet = klefr_fleet_open(a.spec, opt->ephemeral ? NULL : a.state_dir, err, sizeof err);
    if (!a.fleet) {
        fprintf(stderr, "klefr-sim: %s: %s\n", opt->fleet, err);
        klefr_fleet_spec_free(a.spec);
        return KLEFR_EXIT_RUNTIME;
    }
    double start_ms = (double)(klefr_wall_ns() - t0) / 1e6;
    fprintf(stderr, "fleet %s: %zu meters on %zu line%s, started in %.1f ms\n", a.spec->name,
            a.fleet->nmeters, a.fleet->nlines, a.fleet->nlines == 1 ? "" : "s", start_ms);
    trace_ctx *tr = NULL;
    bool tracing = opt->trace_modbus || opt->trace_mbus || opt->trace_iec;
    if (tracing && !(tr = calloc(a.fleet->nmeters, sizeof *tr)))
        goto out;
    for (size_t k = 0; k < a.fleet->nmeters; k++) {
        klefr_sim *s = a.fleet->meters[k].sim;
        if (tracing) {
            tr[k] = (trace_ctx){opt, a.fleet->meters[k].spec->id};
            s->trace = trace_line;
            s->trace_arg = &tr[k];
        } else {
            s->hal.trace = NULL; /* the firmware formats trace lines only when this is set */
        }
    }
    uint64_t end = opt->have_duration ? opt->duration_us
                   : a.spec->have_duration ? a.spec->duration_us
                                           : KLEFR_LOOP_FOREVER;
    if (end != KLEFR_LOOP_FOREVER)
        end -= end % KLEFR_SIM_SLICE_US;
    a.loop = (klefr_loop){.world = &a.fleet->world,
                          .sim = a.fleet->nmeters ? a.fleet->meters[0].sim : NULL,
                          .speed = opt->have_speed ? opt->speed
                                                   : (headless && end != KLEFR_LOOP_FOREVER ? 0 : 1),
                          .t_end_us = end,
                          .stop = stop,
                          .hook = loop_hook};
    a.loop.hook_arg = &a;
    /* As for one meter (main.c): at max, asked for or the default, ports the
     * file or the command line named are warned of now, the default ptys when
     * a master first talks. */
    a.warn.speed = &a.loop.speed;
    if (a.loop.speed == 0 && named_ports(a.spec)) {
        klefr_cli_warn_speed_max(opt, "a fleet's ports");
        a.warn.speed = NULL; /* said once */
    }
    if (open_ports(&a) < 0)
        goto out;
    if (!(a.mon = klefr_busmon_new(a.fleet)))
        goto out;
    if (opt->show) {
        int k = klefr_fleet_find(a.fleet, opt->show);
        if (k < 0) {
            fprintf(stderr, "klefr-sim: --show %s: no such meter in %s\n", opt->show, opt->fleet);
            rc = KLEFR_EXIT_USAGE;
            goto out;
        }
        a.shown = (size_t)k;
        a.loop.sim = a.fleet->meters[k].sim;
        int line = a.fleet->meters[k].spec->line;
        a.mon_line = line >= 0 ? (size_t)line : 0;
    }
    for (size_t k = 0; k < a.nhost && a.nports < 8; k++)
        if (klefr_hostport_label(a.host[k], a.port_text[a.nports], sizeof a.port_text[0]) == 0) {
            a.port_labels[a.nports] = a.port_text[a.nports];
            a.nports++;
        }
    if (opt->screenshot && headless) { /* the scope the picture will show */
        a.scope_v = calloc(KLEFR_SIM_SCOPE_N, sizeof *a.scope_v);
        a.scope_i = calloc(KLEFR_SIM_SCOPE_N, sizeof *a.scope_i);
        if (a.scope_v && a.scope_i)
            klefr_sim_set_scope(a.fleet->meters[a.shown].sim, a.scope_v, a.scope_i);
    }
    if (!headless) {
        a.loop.paused = opt->paused;
        if (open_panel(&a, false, err, sizeof err) < 0) {
            fprintf(stderr, "klefr-sim: panel: %s (try --headless)\n", err);
            goto out;
        }
    }
    klefr_loop_result res = klefr_loop_run(&a.loop);
    bool shot_failed = false;
    if (opt->screenshot) { /* headless: the panel drawn once, now */
        if (!a.panel && open_panel(&a, true, err, sizeof err) < 0)
            a.panel = NULL;
        shot_failed = !a.panel || klefr_panel_screenshot(a.panel, opt->screenshot, headless ? 1970 : 0,
                                                         headless ? 960 : 0) != 0;
        if (shot_failed)
            fprintf(stderr, "klefr-sim: --screenshot %s: %s\n", opt->screenshot,
                    a.panel ? "cannot write the file" : err);
    }
    klefr_panel_close(a.panel);
    a.panel = NULL;
    klefr_fleet_power_off(a.fleet); /* a clean stop is a power cut: every meter saves */
    close_ports(&a);
    bool saved = true; /* every meter's EEPROM file (a full disk: exit 1) */
    for (size_t k = 0; k < a.fleet->nmeters; k++)
        saved &= klefr_report_saved(&a.fleet->meters[k].sim->eeprom);
    rc = print_report(&a, klefr_loop_result_to_str(res)) == 0 && fflush(stdout) == 0 &&
                 !shot_failed && saved
             ? KLEFR_EXIT_OK
             : KLEFR_EXIT_RUNTIME;
out:
    klefr_panel_close(a.panel);
    close_ports(&a);
    klefr_busmon_free(a.mon);
    klefr_fleet_close(a.fleet); /* prints the trace lines still held */
    free(tr);
    klefr_fleet_spec_free(a.spec);
    free(a.scope_v);
    free(a.scope_i);
    return rc;
}
