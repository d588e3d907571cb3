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

int main(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, boots_and_runs);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
