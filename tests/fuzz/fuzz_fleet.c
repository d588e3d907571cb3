/* libFuzzer target for the fleet file parser (sim/fleet_parse.c and the
 * scenario helpers it shares): any bytes must give a fleet or one error
 * line, never a crash, a hang or a leak.
 *   clang -fsanitize=fuzzer,address: CC=clang meson setup build-fuzz
 *   otherwise fuzz_driver.c runs the same function over files (the CI smoke). */
#include "fleet.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(void **out, const char *text, char *err, size_t errlen)
{
    return klefr_fleet_parse((klefr_fleet_spec **)out, "fuzz.json", text, err, errlen);
}

static void spec_free(void *f)
{
    klefr_fleet_spec_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return klefr_fuzz_text(data, size, parse, spec_free);
}
