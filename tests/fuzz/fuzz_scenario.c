/* libFuzzer target for the scenario parser (sim/scenario_parse.c and the
 * tables it calls): any bytes must give a scenario or one error line, never
 * a crash, a hang or a leak.
 *   clang -fsanitize=fuzzer,address: meson setup -Dfuzz=true (build with clang)
 *   otherwise fuzz_driver.c runs the same function over files (the CI smoke). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

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
    klefr_scn *s = NULL;
    char err[1024];
    err[0] = 0;
    if (klefr_scn_parse(&s, "fuzz.json", text, err, sizeof err) == 0) {
        klefr_scn_free(s);
    } else if (!err[0] || strchr(err, '\n')) {
        abort(); /* an error is exactly one line */
    }
    free(text);
    return 0;
}
