/* The IEC 62056-21 data items on the meter (iec62056_map.c), one row per
 * data line: behind the IEC view's readout, read and write (iec62056.h,
 * slave_views.c). */
#ifndef KLEFR_IEC62056_MAP_H
#define KLEFR_IEC62056_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/iec62056.h"

struct klefr_meter;

enum {
    KLEFR_IEC_F_READOUT = 0x01, /* in the data readout */
    KLEFR_IEC_F_TARIFF = 0x02,  /* only on models with two tariffs */
    KLEFR_IEC_F_LOGIN = 0x04    /* R1 needs the password too */
};

/* Results of a write. */
typedef enum { KLEFR_IEC_W_OK = 0, KLEFR_IEC_W_BAD_VALUE, KLEFR_IEC_W_READ_ONLY } klefr_iec_wres;

typedef struct {
    const char *code; /* address: OBIS short form or C.90.n (manufacturer) */
    uint8_t flags;
    /* Value text as in the data line, unit after '*' (at most KLEFR_IEC_VALUE-1). */
    void (*get)(const struct klefr_meter *m, char *out);
    /* Parse and store; NULL = read only. */
    klefr_iec_wres (*set)(struct klefr_meter *m, const char *value, uint64_t t_us);
    const char *name; /* for traces and docs */
} klefr_iec_item;

extern const klefr_iec_item klefr_iec_items[];
extern const size_t klefr_iec_items_len;

/* The item of an address on this model, NULL if none. */
const klefr_iec_item *klefr_iec_find(const struct klefr_meter *m, const char *code, size_t len);
bool klefr_iec_item_on_model(const struct klefr_meter *m, const klefr_iec_item *it);

/* The 8 serial digits (the meter address), NUL-terminated. */
void klefr_iec_serial_text(const struct klefr_meter *m, char out[9]);

/* The IEC slave's item callbacks (iec62056.h) on the meter: the readout
 * line at cursor *pos (readout items on this model, table order); R1 of an
 * item (a password-protected one needs logged_in); W1 of a writable item,
 * its name to *name. */
bool klefr_iec_readout_line(const struct klefr_meter *m, size_t *pos, const char **code,
                            char *value);
bool klefr_iec_read(const struct klefr_meter *m, const char *addr, size_t alen, bool logged_in,
                    char *value);
bool klefr_iec_write(struct klefr_meter *m, const char *addr, size_t alen, const char *value,
                     uint64_t t_us, const char **name);

#endif
