/* libFuzzer target for the fleet file parser (sim/fleet_parse.c and the
 * scenario helpers it shares): any bytes must give a fleet or one error
 * line, never a crash, a hang or a leak.
 *   clang -fsanitize=fuzzer,address: CC=clang meson setup build-fuzz
 *   otherwise fuzz_driver.c runs the same function over files (the CI smoke). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    klefr_fleet_spec *f = NULL;
    char err[1024];
    err[0] = 0;
    if (klefr_fleet_parse(&f, "fuzz.json", text, err, sizeof err) == 0) {
        klefr_fleet_spec_free(f);
    } else if (!err[0] || strchr(err, '\n')) {
        abort(); /* an error is exactly one line */
    }
    free(text);
    return 0;
}
