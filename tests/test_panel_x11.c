/* Panel in a real X11 window (run under xvfb-run): xdotool presses the right
 * button with the mouse, the press reaches the firmware as a
 * KLEFR_EV_BUTTONS event, the release too. Skips (77) without xdotool. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afe_synth.h"
#include "panel.h"
#include "panel_draw.h"
#include "sim.h"

static klefr_sim sim;
static klefr_synth synth;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Pump the window until the panel holds `want` (or 5 s pass). */
static bool pump_until(klefr_panel *p, uint8_t want)
{
    for (double t0 = wall(); wall() - t0 < 5.0;) {
        ck_assert(klefr_panel_frame(p, 10));
        if (klefr_panel_held(p) == want)
            return true;
    }
    return false;
}

/* Press the mouse on window point (x, y) of the panel. */
static void mouse_down_at(int x, int y)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "xdotool search --sync --onlyvisible --name 'KLEFR 6924' mousemove --window %%1 %d %d "
             "mousedown 1",
             x, y);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(xdotool_presses_right_button)
{
    setenv("SDL_VIDEODRIVER", "x11", 1);
    char err[256];
    klefr_synth_init(&synth, &(klefr_load){.v_rms = 230, .i_rms = 5, .freq_hz = 50}, NULL);
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &synth.afe, NULL,
                                    err, sizeof err),
                     0);
    klefr_panel *p = klefr_panel_open(
        &sim, &(klefr_panel_opts){.synth = &synth, .speed = 1, .width = 840, .height = 576}, err,
        sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    for (double t0 = wall(); wall() - t0 < 0.5;) /* map and draw the window */
        klefr_panel_frame(p, 10);
    klefr_sim_run_until(&sim, 1000000);
    int x, y;
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_RIGHT, &x, &y));
    /* a short press (0.2 s of meter time): the LCD shows the next page */
    klefr_lcd_fb before = sim.out.lcd;
    mouse_down_at(x, y);
    ck_assert_msg(pump_until(p, KLEFR_BTN_RIGHT), "the press did not reach the panel");
    klefr_sim_run_until(&sim, sim.t_us + 200000);
    ck_assert_int_eq(system("xdotool mouseup 1"), 0);
    ck_assert_msg(pump_until(p, 0), "the release did not reach the panel");
    klefr_sim_run_until(&sim, sim.t_us + 1000000);
    ck_assert_msg(memcmp(&before, &sim.out.lcd, sizeof before) != 0,
                  "the LCD did not change after a click");
    mouse_down_at(x, y);
    ck_assert_msg(pump_until(p, KLEFR_BTN_RIGHT), "the press did not reach the panel");
    uint64_t t_press = sim.t_us;
    klefr_sim_run_until(&sim, t_press + 3000000); /* hold 3 s of meter time */
    ck_assert_uint_eq(sim.meter.ui.held, KLEFR_BTN_RIGHT);
    ck_assert_int_eq(system("xdotool mouseup 1"), 0);
    ck_assert_msg(pump_until(p, 0), "the release did not reach the panel");
    klefr_sim_run_until(&sim, sim.t_us + 100000);
    ck_assert_uint_eq(sim.meter.ui.held, 0);
    klefr_panel_close(p);
}
END_TEST

int main(void)
{
    if (system("command -v xdotool >/dev/null 2>&1") != 0 || !getenv("DISPLAY")) {
        fprintf(stderr, "skipped: needs xdotool and an X display (xvfb-run)\n");
        return 77;
    }
    Suite *s = suite_create("panel-x11");
    TCase *tc = tcase_create("window");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, xdotool_presses_right_button);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
