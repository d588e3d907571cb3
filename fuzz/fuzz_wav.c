/* Fuzz target: WAV recordings (sim/afe_replay.c): the input is the file. */
#include "fuzz_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || memcmp(data, "RIFF", 4))
        return 0; /* that is fuzz_csv's */
    replay_run(data, size, NULL);
    return 0;
}
