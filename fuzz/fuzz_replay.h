/* Shared by fuzz_csv.c and fuzz_wav.c: open the input as a recording, play
 * up to 64k samples. An accepted recording has a finite duration and gives
 * codes in the ADC's range; a refused one a message naming the file. */
#ifndef KLEFR_FUZZ_REPLAY_H
#define KLEFR_FUZZ_REPLAY_H

#include "afe_replay.h"
#include "data.h"

static void replay_run(const uint8_t *data, size_t size, const klefr_replay_opts *o)
{
    char path[64];
    int fd = fuzz_file(data, size, path);
    static klefr_replay r;
    char err[512] = "";
    if (klefr_replay_open(&r, path, o, err, sizeof err) == 0) {
        FUZZ_ASSERT(isfinite(r.duration_s) && r.duration_s >= 0, "duration %g", r.duration_s);
        int32_t v[256], i[256];
        size_t got, total = 0;
        do {
            got = r.afe.fill(&r.afe, v, i, 256);
            for (size_t k = 0; k < got; k++)
                FUZZ_ASSERT(v[k] >= -8388608 && v[k] < 8388608 && i[k] >= -8388608 &&
                                i[k] < 8388608,
                            "code out of range");
            total += got;
        } while (got == 256 && total < 65536);
        klefr_replay_close(&r);
    } else {
        FUZZ_ASSERT(!strncmp(err, path, strlen(path)) || !strncmp(err, "--replay-rate", 13),
                    "message '%s'", err);
    }
    close(fd);
}

#endif
