/* A file-backed I2C EEPROM: the whole memory in RAM, written in pages like a
 * real 24Cxx part, and saved to its file atomically (temporary file + fsync +
 * rename) after every write, so a crash of the PC never leaves half a file.
 *
 * Power-cut injection for tests: set cut_after_pages = N (>= 0) and the next
 * klefr_eeprom_write performs only its first N page writes; the page after
 * them is not written (or, with torn_bytes > 0, only its first torn_bytes
 * bytes; with torn_garble, the rest of that page is left garbled) and the
 * write returns -1. The hook is one-shot: it disarms itself (back to -1). */
#ifndef KLEFR_SIM_EEPROM_H
#define KLEFR_SIM_EEPROM_H

#include <stdbool.h>
#include <stdint.h>

#include "klefr/config.h"

#define KLEFR_EEPROM_PAGE_SIZE 32u /* 24C16: 16; 24C32..24C64: 32 */

typedef struct {
    uint8_t mem[KLEFR_NVM_SIZE];
    char path[4096]; /* empty: RAM only */
    uint64_t bytes_written;
    uint64_t pages_written; /* page write cycles performed */
    uint32_t page_size;     /* KLEFR_EEPROM_PAGE_SIZE unless changed */

    /* Fault injection (tests). */
    int32_t cut_after_pages; /* -1: off */
    uint32_t torn_bytes;     /* bytes of the cut page still written */
    bool torn_garble;        /* rest of the cut page becomes garbage */
    uint32_t cuts;           /* power cuts performed */
    bool worn_out;           /* writes are acknowledged but change nothing */

    /* The host file. A failed save of the file (disk full, I/O error) is the
     * PC's fault, not the simulated part's: the write still succeeds for the
     * firmware (no Err 01), and it is counted here for the program to report.
     * host_error, if set, is called at each failure. */
    uint32_t host_failures;  /* file saves that failed */
    int host_errno;          /* errno of the last file save; 0 when it succeeded */
    void (*host_error)(void *arg, const char *path, int err);
    void *host_error_arg;
} klefr_eeprom;

/* Open (or create blank, 0xFF) the EEPROM at path; path NULL = RAM only.
 * Returns 0, or -1 with "path: message" in err. A file of the wrong size, a
 * directory and a symlink to nothing are errors; through a symlink to a file
 * the file is written (the link stays). */
int klefr_eeprom_open(klefr_eeprom *e, const char *path, char *err, int errlen);
int klefr_eeprom_read(void *arg, uint32_t addr, void *buf, uint32_t len);
int klefr_eeprom_write(void *arg, uint32_t addr, const void *buf, uint32_t len);

#endif
