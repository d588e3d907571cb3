/* M-bus slave of the 6923 (manual appendix 2, EN 13757-2/-3). Choices where
 * the manual is silent or wrong are in docs/protocols/mbus.md.
 *
 *   mbus.c       link layer: frame delimiting, addresses, FCB, selection,
 *                replies and their timing, baud switch, trace
 *   mbus_data.c  application layer: the RSP_UD telegram (A2.2 blocks) and
 *                the CI 51 write records (A2.2 write table), one row each */
#ifndef KLEFR_MBUS_H
#define KLEFR_MBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"
#include "proto/rxbuf.h"

struct klefr_meter;

/* A long frame is at most 255 + 6 bytes. */
#define KLEFR_MBUS_BUF 264
_Static_assert(KLEFR_MBUS_BUF <= KLEFR_RXBUF_MAX, "rx buffer too small");
/* The communication icon stays lit this long after a frame for this meter. */
#define KLEFR_MBUS_ICON_US 1000000u
/* Line idle (bit times) that ends a frame. */
#define KLEFR_MBUS_IDLE_BITS 33u
/* The slave's reaction time before a reply starts: 11 bit times (the
 * minimum of EN 13757-2) plus the meter's processing; 3.1 ms at 9600 baud,
 * 38.7 ms at 300, so under 50 ms at every baud and far under the master's
 * 330 bit times + 50 ms. docs/serial.md. */
#define KLEFR_MBUS_REACTION_BITS 11u
#define KLEFR_MBUS_PROCESSING_US 2000u

/* Addresses. */
enum {
    KLEFR_MBUS_ADDR_MAX = 250,      /* primary 0..250 */
    KLEFR_MBUS_ADDR_SELECTED = 253, /* the slave selected by secondary address */
    KLEFR_MBUS_ADDR_BCAST_REPLY = 254,
    KLEFR_MBUS_ADDR_BCAST = 255 /* no reply */
};

/* Header constants of the RSP_UD (manual A2.2). */
#define KLEFR_MBUS_MANUFACTURER 0x25CDu /* "INM": ((I-64)<<10)|((N-64)<<5)|(M-64) */
#define KLEFR_MBUS_VERSION 0x01u
#define KLEFR_MBUS_MEDIUM 0x02u /* electricity */

typedef struct {
    klefr_rxbuf rx;      /* the frame being received; rx.dropped: junk bytes,
                            UART errors, truncated frames */
    uint64_t tx_end_us;  /* end of the reply on the line */
    bool cfg_pending;    /* line settings change after the reply */
    bool selected;       /* selected by secondary address (answers at 253) */
    bool fcb_valid;      /* a REQ_UD2 with FCV was answered since SND_NKE */
    bool fcb;            /* its FCB */
    uint8_t access;      /* access number of the next RSP_UD */
    uint32_t frames;     /* good frames for this meter */
    uint32_t cs_errors;  /* frames dropped for a bad checksum or stop byte */
} klefr_mbus;

void klefr_mbus_init(struct klefr_meter *m, uint64_t t_us);
void klefr_mbus_rx(struct klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us);
void klefr_mbus_tick(struct klefr_meter *m, uint64_t t_us);

/* 8E1 at m->settings.baud (300..9600). */
klefr_uart_cfg klefr_mbus_uart_cfg(const struct klefr_meter *m);
/* From the end of a request to the start of the reply, at these settings. */
uint32_t klefr_mbus_reaction_us(const klefr_uart_cfg *cfg);

/* Handle one complete, checked frame addressed anywhere; writes the reply
 * (E5 or a whole RSP_UD) to out and returns its length, 0 for none. */
size_t klefr_mbus_handle(struct klefr_meter *m, const uint8_t *f, size_t n, uint8_t *out,
                         uint64_t t_us);

/* Sum of the bytes mod 256 (the M-bus checksum over C..data). */
uint8_t klefr_mbus_cs(const uint8_t *d, size_t n);

/* --- mbus_data.c --- */
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

#endif
