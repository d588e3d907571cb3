/* Runs a Check suite and turns its result into the process exit code. */
#ifndef KLEFR_TESTS_CHECK_RUN_H
#define KLEFR_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int klefr_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
