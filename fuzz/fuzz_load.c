/* Fuzz target: the --load grammar and durations (sim/load_spec.c). An
 * accepted spec gives a load in range that synthesises (data.h); a refused
 * one a message; a duration at most KLEFR_DURATION_MAX_US. */
#include "data.h"
#include "load_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = klefr_fuzz_cstr(data, size);
    FUZZ_ASSERT(text, "out of memory");
    klefr_load l;
    klefr_load_defaults(&l);
    char err[512] = "";
    if (klefr_load_spec_parse(text, &l, err, sizeof err) == 0) {
        check_load(&l);
        /* and again on top of itself, as profiles do */
        if (klefr_load_spec_parse(text, &l, err, sizeof err) == 0)
            check_load(&l);
    } else {
        FUZZ_ASSERT(err[0], "a refusal without a message");
    }
    uint64_t us;
    if (klefr_duration_parse(text, &us) == 0)
        FUZZ_ASSERT(us <= KLEFR_DURATION_MAX_US, "duration %llu", (unsigned long long)us);
    free(text);
    return 0;
}
