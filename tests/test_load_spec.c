/* The --load grammar and durations. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load_spec.h"

static klefr_load parse_ok(const char *spec)
{
    klefr_load l;
    klefr_load_defaults(&l);
    char err[256] = "";
    ck_assert_msg(klefr_load_spec_parse(spec, &l, err, sizeof err) == 0, "%s: %s", spec, err);
    return l;
}

static void parse_bad(const char *spec, const char *want)
{
    klefr_load l;
    klefr_load_defaults(&l);
    char err[256] = "";
    ck_assert_int_eq(klefr_load_spec_parse(spec, &l, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "%s: got '%s', want '%s'", spec, err, want);
}

#define ck_near(a, b) ck_assert_double_eq_tol((a), (b), 1e-6)

START_TEST(basic_import)
{
    klefr_load l = parse_ok("230V,10A,pf=1");
    ck_near(l.v_rms, 230);
    ck_near(l.i_rms, 10);
    ck_near(l.phi_deg, 0);
    ck_near(l.freq_hz, 50);
}
END_TEST

START_TEST(power_factors)
{
    ck_near(parse_ok("230V,5A,pf=0.5L").phi_deg, 60);
    ck_near(parse_ok("pf=0.5").phi_deg, 60); /* no suffix: inductive */
    ck_near(parse_ok("pf=0.8C").phi_deg, -acos(0.8) * 180 / M_PI);
    ck_near(parse_ok("phi=30").phi_deg, 30);
    ck_near(parse_ok("10A phi=-90").phi_deg, -90);
}
END_TEST

START_TEST(export_forms)
{
    ck_near(fabs(parse_ok("230V,10A,export").phi_deg), 180);
    klefr_load l = parse_ok("-10A");
    ck_near(l.i_rms, 10);
    ck_near(fabs(l.phi_deg), 180);
    ck_near(parse_ok("10A,pf=0.5L,export").phi_deg, -120); /* 60 + 180 */
    ck_near(fabs(parse_ok("10A,pf=-1").phi_deg), 180);
    ck_near(fabs(parse_ok("-10A,export").phi_deg), 180); /* not a double flip */
}
END_TEST

START_TEST(frequency_power_harmonics)
{
    ck_near(parse_ok("f=49.5").freq_hz, 49.5);
    ck_near(parse_ok("50.5Hz").freq_hz, 50.5);
    ck_near(parse_ok("230V,2300W").i_rms, 10);
    ck_near(parse_ok("230V,2.3kW,pf=0.5").i_rms, 20);
    ck_near(parse_ok("250mA").i_rms, 0.25);
    klefr_load l = parse_ok("230V,10A,h5=10%/40%,h3=2/5@10/20");
    ck_assert_uint_eq(l.n_harm, 2);
    ck_assert_uint_eq(l.harm[0].order, 5);
    ck_near(l.harm[0].v_pct, 10);
    ck_near(l.harm[0].i_pct, 40);
    ck_near(l.harm[1].i_phase_deg, 20);
    l = parse_ok("noise=0.5/0.01,dc=1/0.1");
    ck_near(l.noise_v_rms, 0.5);
    ck_near(l.dc_i, 0.1);
}
END_TEST

START_TEST(changes_on_top)
{
    klefr_load l = parse_ok("230V,10A,pf=0.5L,export");
    char err[128];
    ck_assert_int_eq(klefr_load_spec_parse("5A", &l, err, sizeof err), 0);
    ck_near(l.i_rms, 5);
    ck_near(l.v_rms, 230);
    ck_near(l.phi_deg, -120); /* still export at PF 0.5L */
    ck_assert_int_eq(klefr_load_spec_parse("import", &l, err, sizeof err), 0);
    ck_near(l.phi_deg, 60);
    ck_assert_int_eq(klefr_load_spec_parse("h3=1/2,h5=3/4", &l, err, sizeof err), 0);
    ck_assert_int_eq(klefr_load_spec_parse("h7=5/6", &l, err, sizeof err), 0);
    ck_assert_uint_eq(l.n_harm, 1); /* named harmonics replace the list */
    ck_assert_uint_eq(l.harm[0].order, 7);
}
END_TEST

START_TEST(bad_specs)
{
    parse_bad("230X", "'230X': unknown unit");
    parse_bad("230", "needs a unit");
    parse_bad("pf=2", "power factor must be -1..1");
    parse_bad("pf=0.5Q", "expected pf=NUMBER[L|C]");
    parse_bad("h1=10/40", "harmonic order must be 2..40");
    parse_bad("h5=10", "expected hN=V%/I%");
    parse_bad("10A,bogus", "'bogus'");
    parse_bad("x=3", "unknown key");
    parse_bad("", "empty load spec");
    parse_bad("2000V", "out of range");
    parse_bad("f=0", "out of range");
    parse_bad("2300W,pf=0", "power factor above 0");
}
END_TEST

START_TEST(durations)
{
    uint64_t us;
    ck_assert_int_eq(klefr_duration_parse("90", &us), 0);
    ck_assert_uint_eq(us, 90000000);
    ck_assert_int_eq(klefr_duration_parse("1h30m", &us), 0);
    ck_assert_uint_eq(us, 5400000000ull);
    ck_assert_int_eq(klefr_duration_parse("1.5h", &us), 0);
    ck_assert_uint_eq(us, 5400000000ull);
    ck_assert_int_eq(klefr_duration_parse("250ms", &us), 0);
    ck_assert_uint_eq(us, 250000);
    ck_assert_int_eq(klefr_duration_parse("15min", &us), 0);
    ck_assert_uint_eq(us, 900000000);
    ck_assert_int_eq(klefr_duration_parse("2d", &us), 0);
    ck_assert_uint_eq(us, 172800000000ull);
    ck_assert_int_eq(klefr_duration_parse("1x", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("1h30", &us), -1); /* not 3630 s */
    ck_assert_int_eq(klefr_duration_parse("-5", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("h", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("5 1", &us), -1);
    /* strtod's extras are not durations; units go from large to small, once each */
    ck_assert_int_eq(klefr_duration_parse("0x10", &us), -1);
    ck_assert_int_eq(klefr_duration_parse(" 5s", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("+5s", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("30min+1s", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("1h1h", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("30s1h", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("1m1min", &us), -1);
    ck_assert_int_eq(klefr_duration_parse("1d2h3m4s5ms", &us), 0);
    ck_assert_uint_eq(us, 93784005000ull);
    ck_assert_int_eq(klefr_duration_parse(".5s", &us), 0);
    ck_assert_uint_eq(us, 500000);
    ck_assert_int_eq(klefr_duration_parse("1e3s", &us), 0);
    ck_assert_uint_eq(us, 1000000000ull);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("load_spec");
    TCase *tc = tcase_create("grammar");
    tcase_add_test(tc, basic_import);
    tcase_add_test(tc, power_factors);
    tcase_add_test(tc, export_forms);
    tcase_add_test(tc, frequency_power_harmonics);
    tcase_add_test(tc, changes_on_top);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, durations);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
