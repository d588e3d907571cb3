/* Panel in a real X11 window (run under xvfb-run): xdotool presses the right
 * button with the mouse, the press reaches the firmware as a
 * KLEFR_EV_BUTTONS event, the release too; a press the simulation delivers
 * (--press) animates the button; Space is Next while a tour's Back/Next is
 * set and F11 switches to the presentation layout; a session pressed with
 * xdotool is recorded as a scenario whose presses and times are there.
 * Skips (77) without xdotool. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afe_synth.h"
#include "panel.h"
#include "panel_draw.h"
#include "panel_harness.h"
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

static klefr_panel *open_window(void)
{
    klefr_panel *p = harness_open(&sim, &synth, "x11", KLEFR_MODEL_6924, 840, 576);
    for (double t0 = wall(); wall() - t0 < 0.5;) /* map and draw the window */
        klefr_panel_frame(p, 10);
    return p;
}

START_TEST(xdotool_presses_right_button)
{
    klefr_panel *p = open_window();
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

static void xdo(const char *fmt, int a, int b)
{
    char cmd[300], args[200];
    snprintf(args, sizeof args, fmt, a, b);
    snprintf(cmd, sizeof cmd,
             "xdotool search --sync --onlyvisible --name 'KLEFR 6924' %s >/dev/null", args);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

/* Pump the window for s seconds of wall time. */
static void pump(klefr_panel *p, double s)
{
    for (double t0 = wall(); wall() - t0 < s;)
        ck_assert(klefr_panel_frame(p, 10));
}

/* A press posted as --press does: the button on screen is held and its
 * ring fills, in the window's own frames. */
START_TEST(scripted_press_animates_in_the_window)
{
    klefr_panel *p = open_window();
    klefr_sim_event e = {.t_us = 1000000, .kind = KLEFR_EV_BUTTONS, .byte = KLEFR_BTN_LEFT};
    ck_assert(klefr_sim_post(&sim, &e));
    e = (klefr_sim_event){.t_us = 4500000, .kind = KLEFR_EV_BUTTONS, .byte = 0};
    ck_assert(klefr_sim_post(&sim, &e));
    int w, h;
    pump(p, 0.1);
    const uint32_t *px = klefr_panel_pixels(p, &w, &h);
    ck_assert_ptr_nonnull(px);
    uint32_t *before = malloc((size_t)w * h * 4);
    memcpy(before, px, (size_t)w * h * 4);
    klefr_sim_run_until(&sim, 4000000);
    pump(p, 0.1);
    double hold[2];
    ck_assert_uint_eq(klefr_panel_buttons_shown(p, hold), KLEFR_BTN_LEFT);
    ck_assert_double_eq_tol(hold[0], 3.0, 0.011);
    px = klefr_panel_pixels(p, &w, &h);
    int x, y;
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_LEFT, &x, &y));
    long changed = 0;
    for (int yy = y - 40; yy <= y + 40; yy++)
        for (int xx = x - 40; xx <= x + 40; xx++)
            changed += px[(size_t)yy * w + xx] != before[(size_t)yy * w + xx];
    ck_assert_int_gt(changed, 300); /* cap pressed, ring filled */
    free(before);
    klefr_panel_close(p);
}
END_TEST

static int nexts;

static void on_nav(void *arg, klefr_panel_nav nav)
{
    (void)arg;
    nexts += nav == KLEFR_PANEL_NEXT;
}

/* With a tour's Back/Next set, Space from the keyboard is Next; F11 makes
 * the meter larger (the presentation layout). */
START_TEST(space_is_next_and_f11_presents)
{
    klefr_panel *p = open_window();
    nexts = 0;
    klefr_panel_set_nav(p, on_nav, NULL);
    klefr_panel_set_caption(p, "Step 1", "Press Space.");
    klefr_panel_wait_next(p);
    xdo("windowfocus --sync %%1 key space", 0, 0);
    for (double t0 = wall(); wall() - t0 < 5 && nexts == 0;)
        ck_assert(klefr_panel_frame(p, 10));
    ck_assert_int_eq(nexts, 1);
    ck_assert(!klefr_panel_waiting(p));
    int l0, r0, l1, r1, y;
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_LEFT, &l0, &y));
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_RIGHT, &r0, &y));
    xdo("windowfocus --sync %%1 key F11", 0, 0);
    pump(p, 0.3);
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_LEFT, &l1, &y));
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_RIGHT, &r1, &y));
    ck_assert_int_gt(r1 - l1, (r0 - l0) * 5 / 4);
    klefr_panel_close(p);
}
END_TEST

/* A session pressed with xdotool, recorded: the file parses back with the
 * presses, their meter times and hold times, the load step and an LCD
 * check after each release. */
START_TEST(xdotool_session_is_recorded)
{
    klefr_panel *p = open_window();
    char path[] = "/tmp/klefr-x11-rec-XXXXXX";
    klefr_recorder *rec = harness_record(&sim, &synth, p, path);
    int x, y;
    klefr_sim_run_until(&sim, 1000000);
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_RIGHT, &x, &y));
    mouse_down_at(x, y);
    ck_assert(pump_until(p, KLEFR_BTN_RIGHT));
    uint64_t t1 = sim.t_us;
    klefr_sim_run_until(&sim, t1 + 300000);
    ck_assert_int_eq(system("xdotool mouseup 1"), 0);
    ck_assert(pump_until(p, 0));
    klefr_sim_run_until(&sim, sim.t_us + 500000);
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_I_UP, &x, &y));
    xdo("mousemove --window %%1 %d %d click 1", x, y);
    pump(p, 0.3);
    klefr_sim_run_until(&sim, sim.t_us + 500000);
    uint64_t t_load = sim.t_us;
    ck_assert(synth.load.i_rms == 10);
    ck_assert(klefr_panel_control_pos(p, KLEFR_CTL_BTN_RIGHT, &x, &y));
    mouse_down_at(x, y);
    ck_assert(pump_until(p, KLEFR_BTN_RIGHT));
    uint64_t t2 = sim.t_us;
    klefr_sim_run_until(&sim, t2 + 5200000); /* a 5.2 s hold: into the sub-menu */
    ck_assert_int_eq(system("xdotool mouseup 1"), 0);
    ck_assert(pump_until(p, 0));
    klefr_sim_run_until(&sim, sim.t_us + 1000000);
    cJSON *root = harness_recorded(rec, path);
    klefr_panel_close(p);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "events");
    ck_assert_int_eq(cJSON_GetArraySize(ev), 2);
    const cJSON *e0 = cJSON_GetArrayItem(ev, 0), *e1 = cJSON_GetArrayItem(ev, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "do")->valuestring, "press");
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "button")->valuestring, "right");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e0, "at")->valuedouble, (double)t1 / 1e6, 1e-9);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e0, "hold")->valuedouble, 0.3, 1e-9);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e1, "at")->valuedouble, (double)t2 / 1e6, 1e-9);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e1, "hold")->valuedouble, 5.2, 1e-9);
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(root, "timeline");
    ck_assert_int_eq(cJSON_GetArraySize(tl), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(tl, 1), "load")->valuestring,
                     "v=230,i=10,phi=0,f=50,import");
    ck_assert(cJSON_GetObjectItem(cJSON_GetArrayItem(tl, 0), "duration")->valuedouble <=
              (double)t_load / 1e6);
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "expect");
    ck_assert_int_eq(cJSON_GetArraySize(ex), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ex, 1), "eq")->valuestring,
                     "FW << kWh | 0.00 | TOTAL");
    cJSON_Delete(root);
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
    tcase_add_test(tc, scripted_press_animates_in_the_window);
    tcase_add_test(tc, space_is_next_and_f11_presents);
    tcase_add_test(tc, xdotool_session_is_recorded);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
