/* Fuzz target: CSV recordings (sim/afe_replay.c). The first byte picks the
 * --replay-rate (none, 100 Hz, 4 kHz, 1 MHz); the rest is the file. */
#include "fuzz_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double rates[] = {0, 100, 4000, 1e6};
    if (size < 1 || (size >= 5 && !memcmp(data + 1, "RIFF", 4)))
        return 0; /* that is fuzz_wav's */
    klefr_replay_opts o = {.rate_hz = rates[data[0] % 4]};
    replay_run(data + 1, size - 1, &o);
    return 0;
}
