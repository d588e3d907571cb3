/* Virtual clock pacing and the main loop (no assertions on wall timing). */
#include "check_run.h"
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "afe_synth.h"
#include "clock.h"
#include "load_spec.h"

START_TEST(clock_maps_wall_to_virtual)
{
    klefr_clock c;
    klefr_clock_anchor(&c, 10.0, 1000000000u, 5000000u);
    ck_assert_uint_eq(klefr_clock_virt_us(&c, 2000000000u),
                      15000000u);                                     /* 1 s wall = 10 s virtual */
    ck_assert_uint_eq(klefr_clock_virt_us(&c, 500000000u), 5000000u); /* before the anchor */
    ck_assert_uint_eq(klefr_clock_wall_ns(&c, 6000000u),
                      1100000000u); /* 1 s virtual = 0.1 s wall */
    klefr_clock_anchor(&c, 1.0, 0, 0);
    ck_assert_uint_eq(klefr_clock_virt_us(&c, 10000000u), 10000u);
}
END_TEST

static klefr_sim sim;
static klefr_synth synth;

static void boot(void)
{
    klefr_load l;
    klefr_load_defaults(&l);
    klefr_synth_init(&synth, &l, &(klefr_adc_model){.gain_v = 1, .gain_i = 1});
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &synth.afe, NULL,
                                    err, sizeof err),
                     0);
}

static unsigned hooks;
static uint64_t last_hook_t;
static bool count_hook(void *arg, klefr_sim *s, uint64_t t_us)
{
    (void)arg;
    ck_assert_uint_eq(t_us, s->t_us);
    ck_assert_uint_ge(t_us, last_hook_t);
    last_hook_t = t_us;
    hooks++;
    return true;
}

START_TEST(max_mode_runs_to_the_end)
{
    boot();
    hooks = 0, last_hook_t = 0;
    klefr_loop l = {.sim = &sim, .speed = 0, .t_end_us = 5500000, .hook = count_hook};
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_END);
    ck_assert_uint_eq(sim.t_us, 5500000);
    ck_assert_uint_eq(hooks, 6); /* one per chunk of 1 s virtual */
}
END_TEST

START_TEST(paced_mode_reaches_the_end_and_calls_the_hook)
{
    boot();
    hooks = 0, last_hook_t = 0;
    klefr_loop l = {.sim = &sim, .speed = 50, .t_end_us = 1000000, .hook = count_hook};
    uint64_t t0 = klefr_wall_ns();
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_END);
    double wall_s = (double)(klefr_wall_ns() - t0) / 1e9;
    /* A figure, not an assertion: the hook rate depends on the host. */
    printf("paced x50: 1 s virtual in %.3f s wall, hook %.0f times per wall second\n", wall_s,
           hooks / wall_s);
    ck_assert_uint_eq(sim.t_us, 1000000);
    ck_assert_uint_ge(hooks, 2);
}
END_TEST

static int rd;
static uint64_t ready_t;
static unsigned readies;
static void on_ready(void *arg, uint64_t t_us)
{
    (void)arg;
    char b[16];
    ck_assert_int_gt(read(rd, b, sizeof b), 0);
    ready_t = t_us;
    readies++;
}

static bool quit_after_ready(void *arg, klefr_sim *s, uint64_t t_us)
{
    (void)arg, (void)s, (void)t_us;
    return readies == 0;
}

START_TEST(paced_mode_polls_fds)
{
    boot();
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    rd = p[0];
    readies = 0;
    ck_assert_int_eq(klefr_sim_add_fd(&sim, rd, on_ready, NULL), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    klefr_loop l = {.sim = &sim, .speed = 1, .t_end_us = 600000000, .hook = quit_after_ready};
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_QUIT);
    ck_assert_uint_eq(readies, 1);
    ck_assert_uint_ge(ready_t, sim.t_us); /* stamped with the virtual "now" */
    close(p[0]), close(p[1]);
}
END_TEST

/* The panel slows the loop from a fast speed to 1x: a byte that arrives
 * right then is stamped at the sim's present, not where the old fast clock
 * would have been (seconds ahead: the meter would answer that much later). */
static int wr;
static uint64_t ready_sim_t;
static void on_ready_at(void *arg, uint64_t t_us)
{
    on_ready(arg, t_us);
    ready_sim_t = sim.t_us;
}

static bool slow_down_then_send(void *arg, klefr_sim *s, uint64_t t_us)
{
    klefr_loop *l = arg;
    (void)s, (void)t_us;
    if (l->speed != 1) {
        l->speed = 1;
        ck_assert_int_eq(write(wr, "x", 1), 1);
    }
    return readies == 0;
}

START_TEST(input_after_a_speed_change_is_stamped_now)
{
    boot();
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    rd = p[0];
    wr = p[1];
    readies = 0;
    ck_assert_int_eq(klefr_sim_add_fd(&sim, rd, on_ready_at, NULL), 0);
    klefr_loop l = {.sim = &sim, .speed = 1e6, .t_end_us = KLEFR_LOOP_FOREVER,
                    .hook = slow_down_then_send};
    l.hook_arg = &l;
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_QUIT);
    ck_assert_uint_eq(readies, 1);
    ck_assert_uint_ge(ready_t, ready_sim_t);
    ck_assert_uint_le(ready_t, ready_sim_t + KLEFR_SIM_SLICE_US);
    close(p[0]), close(p[1]);
}
END_TEST

START_TEST(stop_flag_stops_both_modes)
{
    boot();
    static volatile sig_atomic_t stop = 1;
    klefr_loop l = {.sim = &sim, .speed = 0, .t_end_us = KLEFR_LOOP_FOREVER, .stop = &stop};
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_STOPPED);
    l.speed = 1;
    ck_assert_int_eq(klefr_loop_run(&l), KLEFR_LOOP_STOPPED);
    ck_assert_uint_eq(sim.t_us, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, clock_maps_wall_to_virtual);
    tcase_add_test(tc, max_mode_runs_to_the_end);
    tcase_add_test(tc, paced_mode_reaches_the_end_and_calls_the_hook);
    tcase_add_test(tc, paced_mode_polls_fds);
    tcase_add_test(tc, input_after_a_speed_change_is_stamped_now);
    tcase_add_test(tc, stop_flag_stops_both_modes);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
