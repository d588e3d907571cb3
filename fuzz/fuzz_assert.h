/* FUZZ_ASSERT: an invariant of a fuzz target. */
#ifndef KLEFR_FUZZ_ASSERT_H
#define KLEFR_FUZZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

/* Stop with a message libFuzzer reports as a crash (and a regression test
 * replays). */
#define FUZZ_ASSERT(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed: %s: ", #cond);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
