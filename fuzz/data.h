/* Shared by the file-parser fuzz targets: input as text (fuzz_text.h) or as
 * a file (a memfd, so the parsers' own open/stat/seek run), and the check
 * that a load the parsers accept stays in range and synthesises. */
#ifndef KLEFR_FUZZ_DATA_H
#define KLEFR_FUZZ_DATA_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "afe_synth.h"
#include "klefr/config.h"
#include "fuzz_assert.h"
#include "fuzz_text.h"


/* data as a file; path gets its name. Returns the fd to close. */
static inline int fuzz_file(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("fuzz", 0);
    FUZZ_ASSERT(fd >= 0, "memfd_create");
    FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size, "write");
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* A load accepted by a parser: within the grammar's ranges, and its samples
 * are finite ADC codes (UBSan checks the conversions). */
static inline void check_load(const klefr_load *l)
{
    FUZZ_ASSERT(l->v_rms >= 0 && l->v_rms <= 1000, "v %g", l->v_rms);
    FUZZ_ASSERT(l->i_rms >= 0 && l->i_rms <= 1000, "i %g", l->i_rms);
    FUZZ_ASSERT(l->freq_hz >= 1 && l->freq_hz <= 1000, "f %g", l->freq_hz);
    FUZZ_ASSERT(l->phi_deg > -180 && l->phi_deg <= 180, "phi %g", l->phi_deg);
    FUZZ_ASSERT(l->n_harm <= KLEFR_MAX_HARMONICS, "%u harmonics", l->n_harm);
    for (unsigned k = 0; k < l->n_harm; k++) {
        const klefr_harmonic *h = &l->harm[k];
        FUZZ_ASSERT(h->order >= 2 && h->order <= 40, "order %u", h->order);
        FUZZ_ASSERT(h->v_pct >= 0 && h->v_pct <= 100 && h->i_pct >= 0 && h->i_pct <= 100,
                    "harmonic %%");
        FUZZ_ASSERT(fabs(h->v_phase_deg) <= 360 && fabs(h->i_phase_deg) <= 360, "phase");
    }
    FUZZ_ASSERT(l->noise_v_rms >= 0 && l->noise_v_rms <= 1000 && l->noise_i_rms >= 0 &&
                    l->noise_i_rms <= 1000,
                "noise");
    FUZZ_ASSERT(fabs(l->dc_v) <= 1000 && fabs(l->dc_i) <= 1000, "dc");
    static klefr_synth s;
    klefr_synth_init(&s, l, NULL);
    int32_t v[300], i[300];
    FUZZ_ASSERT(s.afe.fill(&s.afe, v, i, 300) == 300, "fill");
    FUZZ_ASSERT(isfinite(klefr_load_active_w(l)) && isfinite(klefr_load_reactive_var(l)), "P, Q");
}

#endif
