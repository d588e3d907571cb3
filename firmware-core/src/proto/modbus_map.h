/* The 6924 Modbus register map (manual A3.2): one table row per register.
 * Registers hold big-endian 16-bit words; two-word values are sent high word
 * first (Float ABCD: IEEE 754 single, bytes A B C D). */
#ifndef KLEFR_MODBUS_MAP_H
#define KLEFR_MODBUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/trace_text.h"

struct klefr_meter;

typedef enum {
    KLEFR_MBT_FLOAT = 0, /* Float ABCD, 2 registers */
    KLEFR_MBT_SIGNED,    /* 16-bit two's complement */
    KLEFR_MBT_HEX,       /* digits shown as hex nibbles (BCD): 0x0025 = 25 */
    KLEFR_MBT_ASCII      /* one character code */
} klefr_mbt;

typedef struct {
    uint16_t addr;
    uint8_t len;      /* registers: 1 or 2 */
    uint8_t type;     /* klefr_mbt */
    bool three_phase; /* "*3 phase version only": reads as 0 on the 692x */
    /* Raw value: float bits for KLEFR_MBT_FLOAT, else the register(s). */
    uint32_t (*get)(const struct klefr_meter *m);
    /* Write: regs[len] from the request; returns a KLEFR_MBEX_* code. NULL =
     * read only. fc is the function code the row accepts (6 or 16). */
    uint8_t (*set)(struct klefr_meter *m, const uint16_t *regs, uint64_t t_us);
    uint8_t write_fc;
    const char *name;
} klefr_mbreg;

extern const klefr_mbreg klefr_mbmap[];
extern const size_t klefr_mbmap_len;

/* The row that covers register addr (any of its words), or NULL. */
const klefr_mbreg *klefr_mbmap_find(uint16_t addr);

/* Value of the single register addr (0 for a three-phase-only one). Returns
 * false when addr is not in the map. */
bool klefr_mbmap_read(const struct klefr_meter *m, uint16_t addr, uint16_t *value);

/* The Modbus slave's register callbacks (modbus_rtu.h) on the meter:
 * registers start..start+qty-1 into out, one getter call per row; a write of
 * a whole writable row (fc 6: one-register rows only). KLEFR_MBEX_* codes. */
uint8_t klefr_mbmap_read_regs(const struct klefr_meter *m, uint16_t start, uint16_t qty,
                              uint16_t *out);
uint8_t klefr_mbmap_write_regs(struct klefr_meter *m, uint8_t fc, uint16_t start, uint16_t qty,
                               const uint16_t *regs, uint64_t t_us);
/* For the trace: the name of the row holding addr (NULL: unmapped), and
 * " name=value" for each whole single-phase row of a read reply's data. */
const char *klefr_mbmap_name(uint16_t addr);
void klefr_mbmap_describe(klefr_tbuf *b, uint16_t start, uint16_t qty, const uint8_t *data);

uint32_t klefr_mb_float_bits(float f);
float klefr_mb_bits_float(uint32_t bits);

#endif
