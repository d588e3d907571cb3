/* libFuzzer target for the scenario parser (sim/scenario_parse.c and the
 * tables it calls): any bytes must give a scenario or one error line, never
 * a crash, a hang or a leak.
 *   clang -fsanitize=fuzzer,address: meson setup -Dfuzz=true (build with clang)
 *   otherwise fuzz_driver.c runs the same function over files (the CI smoke). */
#include "fuzz_text.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(void **out, const char *text, char *err, size_t errlen)
{
    return klefr_scn_parse((klefr_scn **)out, "fuzz.json", text, err, errlen);
}

static void scn_free(void *s)
{
    klefr_scn_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return klefr_fuzz_text(data, size, parse, scn_free);
}
