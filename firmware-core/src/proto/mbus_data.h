/* The 6923 M-bus application layer on the meter (mbus_data.c): the RSP_UD
 * user data and the CI 51 write records, behind the M-bus view's
 * user_data, write, record_name and describe (mbus.h, slave_views.c). */
#ifndef KLEFR_MBUS_DATA_H
#define KLEFR_MBUS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/trace_text.h"

struct klefr_meter;

/* The RSP_UD user data after CI 72 (header + A2.2 blocks) into out; returns
 * its length. access is the access number to send. */
size_t klefr_mbus_user_data(const struct klefr_meter *m, uint8_t access, uint8_t *out);
/* CI 51 data records: all valid -> applied, true; otherwise nothing is
 * applied and false. */
bool klefr_mbus_write(struct klefr_meter *m, const uint8_t *d, size_t n, uint64_t t_us);
/* Energy in uWh as 8 BCD digits of 10 Wh, LSB first; negative: MSD = F. */
void klefr_mbus_bcd8_10wh(int64_t uwh, uint8_t out[4]);
/* Name of the write record at d (trace), or "unknown". */
const char *klefr_mbus_record_name(const uint8_t *d, size_t n);
/* " name=kWh" of the energy records of an RSP_UD's user data (trace). */
void klefr_mbus_describe(klefr_tbuf *b, const uint8_t *ud, size_t n);

#endif
