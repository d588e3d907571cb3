/* Settings defaults and the EEPROM image: versioned, CRC-protected, two
 * copies written alternately so a power cut during a write loses nothing. */
#ifndef KLEFR_STORE_H
#define KLEFR_STORE_H

#include <stdint.h>

#include "klefr/types.h"

struct klefr_meter;

typedef struct {
    uint32_t seq;          /* sequence number of the newest valid copy */
    uint64_t last_save_us; /* time of the last save */
} klefr_store;

void klefr_settings_defaults(klefr_settings *s, klefr_model model, uint32_t serial);

/* Load the newest valid copy into m->settings and m->regs. Returns 0 when a
 * copy was valid, 1 for a blank EEPROM (defaults used), negative when the
 * EEPROM holds only corrupt copies (defaults used, Err 01). */
int klefr_store_load(struct klefr_meter *m, uint64_t t_us);

/* Write m->settings and m->regs to the older copy. Returns 0 or negative. */
int klefr_store_save(struct klefr_meter *m, uint64_t t_us);

/* Periodic save every KLEFR_SAVE_INTERVAL_S. */
void klefr_store_tick(struct klefr_meter *m, uint64_t t_us);

/* CRC-32 (IEEE, reflected 0xEDB88320) used for the image. */
uint32_t klefr_crc32(const void *data, uint32_t len);

#endif
