/* Fuzz target: scenario files, JSON (sim/scenario_parse.c and the parsers it
 * calls). Accepted or refused, never a crash, a hang or UB; a refusal says
 * "s.json:LINE[:COL]: ..." (an included file's name where the fault is
 * there). The scenario is not run. */
#include "data.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    klefr_scn *s = NULL;
    char err[512] = "";
    if (klefr_scn_parse(&s, "s.json", text, err, sizeof err) == 0)
        klefr_scn_free(s);
    else
        FUZZ_ASSERT(err[0] && strchr(err, ':'), "message '%s'", err);
    free(text);
    return 0;
}
