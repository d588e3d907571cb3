/* M-bus slave of the 6923 (manual appendix 2, EN 13757-2/-3). Choices where
 * the manual is silent or wrong are in docs/protocols/mbus.md.
 *
 *   mbus.c         link layer engine: frame delimiting, addresses, FCB,
 *                  selection, replies and their timing, baud switch, trace;
 *                  it sees the meter only through klefr_mbus_view
 *   mbus_data.h    application layer on the meter: the RSP_UD telegram
 *                  (A2.2 blocks) and the CI 51 write records (A2.2 write
 *                  table), one row each
 *   slave_views.c  the view's callbacks on klefr_meter */
#ifndef KLEFR_MBUS_H
#define KLEFR_MBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"
#include "proto/rxbuf.h"
#include "proto/trace_text.h"

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

/* What the slave sees of the meter. Every callback gets arg first; those up
 * to set_baud are required, the others may be NULL. */
typedef struct {
    void *arg;
    /* Own primary address (0..250) and secondary address (8 BCD digits),
     * asked for at each frame (a write may change them). */
    uint8_t (*primary)(void *arg);
    uint32_t (*secondary)(void *arg);
    /* The line's character format now (8E1 at the meter's baud). */
    klefr_uart_cfg (*uart_cfg)(void *arg);
    /* The RSP_UD user data after CI 72 (header + data records) into out (at
     * most KLEFR_MBUS_BUF - 9 bytes); returns its length. */
    size_t (*user_data)(void *arg, uint8_t access, uint8_t *out);
    /* CI 51 data records: all valid -> applied, true; else nothing, false. */
    bool (*write)(void *arg, const uint8_t *d, size_t n, uint64_t t_us);
    /* CI B8..BD: the master moves the line to baud (after the E5). */
    void (*set_baud)(void *arg, uint32_t baud, uint64_t t_us);
    /* CI 50: application reset (NULL: nothing to reset). */
    void (*app_reset)(void *arg, uint64_t t_us);
    /* The bus UART: a reply queued from t_us; new settings from t_us. NULL:
     * no line (nothing is sent). */
    void (*uart_write)(void *arg, const uint8_t *d, size_t n, uint64_t t_us);
    void (*uart_config)(void *arg, const klefr_uart_cfg *cfg, uint64_t t_us);
    /* A frame for this slave was handled; its reply (if any) ends at end_us
     * (the communication icon). */
    void (*frame_for_me)(void *arg, uint64_t end_us);
    /* Trace lines (fn NULL: tracing off). Only when tracing: record_name, the
     * name of the write record at d ("unknown"), and describe, the values of
     * an RSP_UD's user data appended to b. */
    klefr_trace_sink trace;
    const char *(*record_name)(void *arg, const uint8_t *d, size_t n);
    void (*describe)(void *arg, klefr_tbuf *b, const uint8_t *ud, size_t n);
} klefr_mbus_view;

typedef struct {
    klefr_mbus_view view;
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

/* Start the slave with its view (copied) and program the line. */
void klefr_mbus_init(klefr_mbus *s, const klefr_mbus_view *view, uint64_t t_us);
void klefr_mbus_rx(klefr_mbus *s, uint8_t byte, uint8_t flags, uint64_t t_us);
/* Call at least every 10 ms: line idle ends frames, settings get applied. */
void klefr_mbus_tick(klefr_mbus *s, uint64_t t_us);
/* The address or line settings changed: the UART follows after the reply. */
void klefr_mbus_settings_changed(klefr_mbus *s);
/* From the end of a request to the start of the reply, at these settings. */
uint32_t klefr_mbus_reaction_us(const klefr_uart_cfg *cfg);

/* Handle one complete, checked frame addressed anywhere; writes the reply
 * (E5 or a whole RSP_UD) to out and returns its length, 0 for none. */
size_t klefr_mbus_handle(klefr_mbus *s, const uint8_t *f, size_t n, uint8_t *out, uint64_t t_us);

/* Sum of the bytes mod 256 (the M-bus checksum over C..data). */
uint8_t klefr_mbus_cs(const uint8_t *d, size_t n);

#endif
