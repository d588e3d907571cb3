/* Settings defaults and the EEPROM image: versioned, CRC-protected, two
 * copies written alternately so a power cut during a write loses nothing.
 * Layout and protocol: docs/nvm.md. */
#ifndef KLEFR_STORE_H
#define KLEFR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/config.h"
#include "klefr/types.h"

struct klefr_meter;

/* Image layout (docs/nvm.md). Each copy lives in its own half of the EEPROM. */
#define KLEFR_STORE_MAGIC 0x52464C4Bu /* bytes 4B 4C 46 52: "KLFR" in a dump */
#define KLEFR_STORE_VERSION 2u
#define KLEFR_STORE_HEADER_LEN 12u
#define KLEFR_STORE_PAYLOAD_V1_LEN 102u
#define KLEFR_STORE_PAYLOAD_V2_LEN 103u /* v1 + the save kind */
#define KLEFR_STORE_IMAGE_LEN (KLEFR_STORE_HEADER_LEN + KLEFR_STORE_PAYLOAD_V2_LEN + 4u)
#define KLEFR_STORE_SLOT_SIZE (KLEFR_NVM_SIZE / 2u)
#define KLEFR_STORE_COPIES 2u

/* Who wrote an image (layout v2 on): the power-fail save, whose image
 * already counts the power-down that is happening, or any other save. At
 * power-up a newest image of any other kind means the supply went without
 * the power-fail save completing: that power-down is counted then (manual
 * 7.15, docs/nvm.md). */
typedef enum { KLEFR_SAVE_RUNNING = 0, KLEFR_SAVE_POWER_FAIL = 1 } klefr_save_kind;

typedef struct {
    uint32_t seq;          /* sequence number of the newest valid copy */
    uint64_t last_save_us; /* time of the last save (or of boot) */
    uint8_t slot;          /* copy (0/1) holding seq; the next save writes the other */
    bool have_copy;        /* a valid copy exists in the EEPROM */
    uint32_t saved_crc;    /* CRC of the image last loaded or written */
    klefr_save_kind loaded_kind; /* of the image loaded at power-up */
} klefr_store;

/* State of one copy found by klefr_store_load. */
typedef enum {
    KLEFR_COPY_BLANK = 0,
    KLEFR_COPY_VALID = 1,
    KLEFR_COPY_CORRUPT = 2
} klefr_copy_state;

const char *klefr_copy_state_to_str(klefr_copy_state st);

void klefr_settings_defaults(klefr_settings *s, klefr_model model, uint32_t serial);

/* Per-setting range checks (manual 7.12-7.16, appendices 2 and 3). */
bool klefr_baud_valid(klefr_model model, uint32_t baud);
/* The model's bus baud rates, ascending; *n gets their count. Models without a
 * bus port keep the field and get the widest list (M-bus). */
const uint32_t *klefr_bauds(klefr_model model, size_t *n);
bool klefr_parity_valid(klefr_model model, klefr_parity parity);
bool klefr_bcd8_valid(uint32_t bcd);

/* Replace every out-of-range setting by its default. Returns how many fields
 * were replaced. */
int klefr_settings_validate(klefr_settings *s, klefr_model model, uint32_t serial);

/* Load the newest valid copy into m->settings and m->regs. Returns 0 when a
 * copy was valid, 1 for a blank EEPROM (defaults used), negative when the
 * EEPROM holds only corrupt copies (defaults used, Err 01). */
int klefr_store_load(struct klefr_meter *m, uint64_t t_us);

/* Write m->settings and m->regs to the older copy. Returns 0 or negative. */
int klefr_store_save(struct klefr_meter *m, uint64_t t_us);
/* The same, marked as the power-fail save (the power-down is counted). */
int klefr_store_save_power_fail(struct klefr_meter *m, uint64_t t_us);

/* After klefr_store_load succeeded (>= 0): count a power-down whose
 * power-fail save did not complete, and write a running image so that the
 * next power-up can tell again. A failed write is Err 01. */
void klefr_store_power_up(struct klefr_meter *m, uint64_t t_us);

/* Periodic save every KLEFR_SAVE_INTERVAL_S (skipped when nothing changed). */
void klefr_store_tick(struct klefr_meter *m, uint64_t t_us);

/* Serialise into / parse from the fixed little-endian image format. encode
 * writes KLEFR_STORE_IMAGE_LEN bytes (the current layout). decode returns the
 * copy's state and, when valid, fills *s, *r (unvalidated), *seq and, if
 * kind is not NULL, *kind (a v1 image reads as KLEFR_SAVE_POWER_FAIL: the old
 * firmware counted every power-down in its power-fail save, and a power-up
 * must not invent one). */
void klefr_store_encode(uint8_t *img, const klefr_settings *s, const klefr_regs *r, uint32_t seq,
                        klefr_save_kind kind);
klefr_copy_state klefr_store_decode(const uint8_t *img, uint32_t len, klefr_settings *s,
                                    klefr_regs *r, uint32_t *seq, klefr_save_kind *kind);

/* True when sequence number a is newer than b (serial number arithmetic, so
 * the counter may wrap). */
bool klefr_seq_newer(uint32_t a, uint32_t b);

/* CRC-32 (IEEE, reflected 0xEDB88320) used for the image. */
uint32_t klefr_crc32(const void *data, uint32_t len);

#endif
