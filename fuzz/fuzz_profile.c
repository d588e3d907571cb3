/* Fuzz target: load profiles, JSON (sim/profile.c, sim/json_pos.c). An
 * accepted profile: segments whose loads are in range and synthesise
 * (data.h), a total that is the sum of the segments and at most
 * KLEFR_DURATION_MAX_US; a refused one: one line "name:line: message". */
#include "data.h"
#include "load_spec.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = klefr_fuzz_cstr(data, size);
    FUZZ_ASSERT(text, "out of memory");
    klefr_profile p;
    klefr_load base;
    klefr_load_defaults(&base);
    char err[512] = "";
    if (klefr_profile_parse(&p, "p.json", text, &base, err, sizeof err) == 0) {
        FUZZ_ASSERT(p.nseg > 0, "no segments");
        uint64_t sum = 0;
        for (size_t k = 0; k < p.nseg; k++) {
            FUZZ_ASSERT(p.seg[k].duration_us <= KLEFR_DURATION_MAX_US - sum, "total wraps");
            sum += p.seg[k].duration_us;
            FUZZ_ASSERT(p.seg[k].line >= 1, "segment line %d", p.seg[k].line);
            if (k < 16)
                check_load(&p.seg[k].load);
        }
        FUZZ_ASSERT(sum == p.total_us, "total");
        klefr_profile_free(&p);
    } else {
        FUZZ_ASSERT(!strncmp(err, "p.json:", 7) && !strchr(err, '\n'), "message '%s'", err);
    }
    free(text);
    return 0;
}
