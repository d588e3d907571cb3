/* A file-backed EEPROM: the whole memory in RAM, written to its file
 * atomically (temporary file + rename) after every write. */
#ifndef KLEFR_SIM_EEPROM_H
#define KLEFR_SIM_EEPROM_H

#include <stdbool.h>
#include <stdint.h>

#include "klefr/config.h"

typedef struct {
    uint8_t mem[KLEFR_NVM_SIZE];
    char path[4096]; /* empty: RAM only */
    uint64_t bytes_written;
} klefr_eeprom;

/* Open (or create blank, 0xFF) the EEPROM at path; path NULL = RAM only.
 * Returns 0, or -1 with a message in err. */
int klefr_eeprom_open(klefr_eeprom *e, const char *path, char *err, int errlen);
int klefr_eeprom_read(void *arg, uint32_t addr, void *buf, uint32_t len);
int klefr_eeprom_write(void *arg, uint32_t addr, const void *buf, uint32_t len);

#endif
