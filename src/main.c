/* klefr-sim: the KLEFR 692x digital twin. SKELETON: the runtime work fills
 * in load profiles, replay, speed control, ports and the panel. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "afe_synth.h"
#include "panel.h"
#include "sim.h"

/* PANEL: the window loop. A simple real-time pacing until the runtime branch's
 * paced loop takes over (it calls klefr_panel_frame once per iteration and
 * reads klefr_panel_speed). Closing the window ends the run. */
static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int run_panel(klefr_sim *sim, klefr_synth *synth, double duration_s, const char *shot)
{
    char err[256];
    klefr_panel_opts po = {.synth = synth, .speed = 1.0};
    klefr_panel *p = klefr_panel_open(sim, &po, err, sizeof err);
    if (!p) {
        fprintf(stderr, "klefr-sim: panel: %s (try --headless)\n", err);
        return 1;
    }
    uint64_t wall0 = wall_us(), sim0 = sim->t_us;
    double speed = klefr_panel_speed(p);
    while (klefr_panel_frame(p, 100)) {
        double sp = klefr_panel_speed(p);
        uint64_t now = wall_us();
        if (sp != speed) {
            wall0 = now;
            sim0 = sim->t_us;
            speed = sp;
        }
        if (sp < 0) { /* max: as much meter time as fits in ~15 ms */
            while (wall_us() - now < 15000)
                klefr_sim_run_until(sim, sim->t_us + 100000);
        } else if (sp > 0) {
            klefr_sim_run_until(sim, sim0 + (uint64_t)((double)(now - wall0) * sp));
            nanosleep(&(struct timespec){0, 3000000}, NULL);
        }
        if (duration_s > 0 && (double)sim->t_us >= duration_s * 1e6)
            break;
    }
    if (shot && klefr_panel_screenshot(p, shot, 0, 0) != 0)
        fprintf(stderr, "klefr-sim: cannot write %s\n", shot);
    klefr_panel_close(p);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim [--headless] [--model 6921|6922|6923|6924] [--duration SECONDS]\n"
               "                 [--screenshot FILE.png]\n"
               "With a display klefr-sim opens the front panel (keys: see sim/panel.h) and runs\n"
               "until the window is closed; --screenshot saves the panel as PNG at the end.\n");
}

int main(int argc, char **argv)
{
    int model = 6924;
    double duration_s = 1.0;
    bool duration_set = false, headless = false;
    const char *shot = NULL;
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"headless", no_argument, 0, 'H'},
                                         {"screenshot", required_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = atoi(optarg); break;
        case 'd': duration_s = atof(optarg); duration_set = true; break;
        case 'H': headless = true; break;
        case 'S': shot = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!klefr_model_valid(model)) {
        fprintf(stderr, "klefr-sim: --model %d: expected 6921, 6922, 6923 or 6924\n", model);
        return 2;
    }
    static klefr_sim sim;
    char err[256];
    /* PANEL: a load for the panel's controls (230 V, 5 A, PF 1) */
    static klefr_synth synth;
    bool panel = !headless && (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY") || getenv("SDL_VIDEODRIVER"));
    klefr_synth_init(&synth, &(klefr_load){.v_rms = 230, .i_rms = 5, .freq_hz = 50}, NULL);
    if (klefr_sim_init(&sim, (klefr_model)model, KLEFR_DEFAULT_SERIAL, panel || shot ? &synth.afe : NULL, NULL, err,
                       sizeof err)) {
        fprintf(stderr, "klefr-sim: %s\n", err);
        return 1;
    }
    if (panel) {
        if (run_panel(&sim, &synth, duration_set ? duration_s : 0, shot) != 0)
            return 1;
    } else {
        klefr_sim_run_until(&sim, (uint64_t)(duration_s * 1e6));
        klefr_panel *p = shot ? klefr_panel_open(&sim, &(klefr_panel_opts){.synth = &synth, .headless = true}, err,
                                                 sizeof err)
                              : NULL;
        if (shot && (!p || klefr_panel_screenshot(p, shot, 0, 0) != 0)) {
            fprintf(stderr, "klefr-sim: --screenshot %s: %s\n", shot, p ? "cannot write" : err);
            return 1;
        }
        klefr_panel_close(p);
    }
    klefr_sim_power(&sim, false);
    printf("{\"model\": %d, \"t_s\": %.3f}\n", model, (double)sim.t_us / 1e6);
    return 0;
}
