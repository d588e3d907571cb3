/* Smoke: the simulated meter boots, runs and powers down. */
#include "check_run.h"
#include <check.h>
#include <stdlib.h>

#include "sim.h"

START_TEST(boots_and_runs)
{
    static klefr_sim sim;
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    ck_assert(klefr_sim_run_until(&sim, 1000000));
    ck_assert_uint_eq(sim.t_us, 1000000);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    ck_assert_uint_eq(sim.meter.settings.modbus_id, 1);
}
END_TEST

/* Appendix 1: the 6922's tariff input selects T2 while voltage is present; a
 * command overrides it until the input changes again; other models have no
 * input (docs/manual-choices.md). */
START_TEST(tariff_input_and_command)
{
    static klefr_sim sim;
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    klefr_meter *m = &sim.meter;
    ck_assert_uint_eq(m->tariff, 1);
    klefr_meter_tariff_input(m, true, 1000);
    ck_assert_uint_eq(m->tariff, 2);
    ck_assert(klefr_meter_set_tariff(m, 1, false, 2000)); /* command: T1, not saved */
    ck_assert_uint_eq(m->tariff, 1);
    klefr_meter_tariff_input(m, true, 3000); /* same level: no change */
    ck_assert_uint_eq(m->tariff, 1);
    klefr_meter_tariff_input(m, false, 4000);
    klefr_meter_tariff_input(m, true, 5000);
    ck_assert_uint_eq(m->tariff, 2);
    ck_assert(!klefr_meter_set_tariff(m, 3, true, 6000));

    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    klefr_meter_tariff_input(&sim.meter, true, 1000);
    ck_assert_uint_eq(sim.meter.tariff, 1);
}
END_TEST

/* The single-tariff 6921 has no T2: a command cannot select it, and a saved
 * T2 (an image from another model) loads as T1. */
START_TEST(single_tariff_6921_refuses_t2)
{
    static klefr_sim sim;
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    klefr_meter *m = &sim.meter;
    ck_assert(!klefr_meter_set_tariff(m, 2, true, 1000));
    ck_assert(!klefr_meter_set_tariff(m, 2, false, 1000));
    ck_assert_uint_eq(m->tariff, 1);
    ck_assert_uint_eq(m->settings.tariff, 1);
    ck_assert(klefr_meter_set_tariff(m, 1, true, 2000));

    klefr_settings s;
    klefr_settings_defaults(&s, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL);
    s.tariff = 2;
    ck_assert_int_eq(klefr_settings_validate(&s, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL), 1);
    ck_assert_uint_eq(s.tariff, 1);
    s.tariff = 2;
    ck_assert_int_eq(klefr_settings_validate(&s, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL), 0);
}
END_TEST

static void count_call(void *arg, uint64_t t_us)
{
    (void)t_us;
    (*(int *)arg)++;
}

/* A flood of input fills the queue, but the sim's own scheduled calls
 * (profile boundaries, --lcd-text) still get in and run. */
START_TEST(input_flood_leaves_room_for_calls)
{
    static klefr_sim sim;
    char err[128];
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err), 0);
    size_t posted = 0;
    klefr_sim_event rx = {.t_us = 20000, .kind = KLEFR_EV_UART_RX, .port = KLEFR_PORT_BUS};
    while (klefr_sim_post(&sim, &rx))
        posted++;
    ck_assert_uint_lt(posted, KLEFR_SIM_MAX_EVENTS);
    int calls = 0;
    klefr_sim_event call = {.t_us = 30000, .kind = KLEFR_EV_CALL, .fn = count_call, .arg = &calls};
    ck_assert(klefr_sim_post(&sim, &call));
    ck_assert(klefr_sim_run_until(&sim, 50000));
    ck_assert_int_eq(calls, 1);
    ck_assert_uint_eq(sim.world->nev, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, boots_and_runs);
    tcase_add_test(tc, tariff_input_and_command);
    tcase_add_test(tc, single_tariff_6921_refuses_t2);
    tcase_add_test(tc, input_flood_leaves_room_for_calls);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
