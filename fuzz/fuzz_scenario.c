/* libFuzzer target for the scenario parser (sim/scenario_parse.c and the
 * tables it calls): any bytes must give a scenario or one error line, never
 * a crash, a hang or a leak.
 * Seeds: the library, the malformed files, every serial step kind and
 * reply form, inputs libFuzzer found (corpus/scenario); fuzz/meson.build. */
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
