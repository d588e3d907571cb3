/* Helpers of the scenario engine's test suites: parse a scenario from text
 * (it must parse, or fail with a message starting as given), run it. */
#ifndef KLEFR_TESTS_SCENARIO_HARNESS_H
#define KLEFR_TESTS_SCENARIO_HARNESS_H

#include <check.h>
#include <string.h>

#include "scenario.h"

static inline klefr_scn *parse_ok(const char *text)
{
    klefr_scn *s = NULL;
    char err[512] = "";
    ck_assert_msg(klefr_scn_parse(&s, "t.json", text, err, sizeof err) == 0, "%s", err);
    return s;
}

static inline void parse_bad(const char *text, const char *want)
{
    klefr_scn *s = NULL;
    char err[512] = "";
    ck_assert_int_eq(klefr_scn_parse(&s, "t.json", text, err, sizeof err), -1);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, want) == err, "got '%s', want prefix '%s'", err, want);
}

static inline klefr_scn *run_ok(const char *text)
{
    klefr_scn *s = parse_ok(text);
    klefr_scn_run_opts o = {0};
    char err[512] = "";
    ck_assert_msg(klefr_scn_run(s, &o, err, sizeof err) == 0, "%s", err);
    ck_assert(s->ran);
    return s;
}

#endif
