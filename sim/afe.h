/* Analog front end sources: something that fills ADC sample blocks. */
#ifndef KLEFR_SIM_AFE_H
#define KLEFR_SIM_AFE_H

#include <stddef.h>
#include <stdint.h>

typedef struct klefr_afe {
    /* Fill n ADC codes of each channel at KLEFR_FS_HZ. Returns how many were
     * filled: fewer than n only when a recording has ended. */
    size_t (*fill)(struct klefr_afe *self, int32_t *v, int32_t *i, size_t n);
} klefr_afe;

#endif
