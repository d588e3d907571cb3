/* Modbus RTU slave engine of the 6924 (manual appendix 3): framing, address,
 * timing, function codes and exceptions. It sees the meter only through a
 * narrow view (klefr_mbrtu_view: registers, bus address, line settings and
 * the UART), as nanoMODBUS's platform and server callbacks; the meter side
 * of that view is in slave_views.c, the register table in modbus_map.c. */
#ifndef KLEFR_MODBUS_RTU_H
#define KLEFR_MODBUS_RTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"
#include "proto/rxbuf.h"
#include "proto/trace_text.h"

#define KLEFR_MBRTU_BUF 256 /* receive buffer capacity (of rx.buf) */
_Static_assert(KLEFR_MBRTU_BUF <= KLEFR_RXBUF_MAX, "rx buffer too small");
/* Extra slave reaction time on top of t3.5 before the reply starts. */
#define KLEFR_MBRTU_TURNAROUND_US 500u
/* The communication icon stays lit this long after a frame for this meter. */
#define KLEFR_MBRTU_ICON_US 1000000u

/* Modbus exception codes (positive, as on the wire). */
enum {
    KLEFR_MBEX_NONE = 0,
    KLEFR_MBEX_ILLEGAL_FUNCTION = 1,
    KLEFR_MBEX_ILLEGAL_ADDRESS = 2,
    KLEFR_MBEX_ILLEGAL_VALUE = 3,
    KLEFR_MBEX_DEVICE_FAILURE = 4
};

/* What the slave sees of the meter. Every callback gets arg first; address,
 * uart_cfg and the three register callbacks are required, the others may be
 * NULL. */
typedef struct {
    void *arg;
    /* This slave's bus address (1..247) and its line's character format,
     * asked for at each frame (a write may change them). */
    uint8_t (*address)(void *arg);
    klefr_uart_cfg (*uart_cfg)(void *arg);
    /* Registers addr..addr+n-1 (n 1..125, inside 0..0xFFFF) into out;
     * returns a KLEFR_MBEX_* code. */
    uint8_t (*read_regs)(void *arg, uint16_t addr, uint16_t n, uint16_t *out);
    /* FC 06 (one register) and FC 10 (n registers, 1..123); KLEFR_MBEX_*. */
    uint8_t (*write_reg)(void *arg, uint16_t addr, uint16_t value, uint64_t t_us);
    uint8_t (*write_regs)(void *arg, uint16_t addr, uint16_t n, const uint16_t *regs,
                          uint64_t t_us);
    /* The bus UART: a reply queued from t_us; new settings from t_us. NULL:
     * no line (nothing is sent). */
    void (*uart_write)(void *arg, const uint8_t *d, size_t n, uint64_t t_us);
    void (*uart_config)(void *arg, const klefr_uart_cfg *cfg, uint64_t t_us);
    /* A frame for this slave was handled; its reply (if any) ends at
     * end_us (the communication icon). */
    void (*frame_for_me)(void *arg, uint64_t end_us);
    /* Trace lines (fn NULL: tracing off). Only when tracing: reg_name, the
     * name of the register row that holds addr (NULL: unmapped), and
     * describe, " name=value" of the registers of a read reply appended to b
     * (data: qty big-endian words from start). */
    klefr_trace_sink trace;
    const char *(*reg_name)(void *arg, uint16_t addr);
    void (*describe)(void *arg, klefr_tbuf *b, uint16_t start, uint16_t qty, const uint8_t *data);
} klefr_mbrtu_view;

typedef struct {
    klefr_mbrtu_view view;
    klefr_rxbuf rx;      /* the frame being received; rx.dropped: junk bytes,
                            UART errors, overflows */
    uint64_t tx_end_us;  /* end of the reply on the line */
    bool cfg_pending;    /* line settings change after the reply */
    uint32_t frames;     /* good frames for this meter */
    uint32_t crc_errors; /* frames dropped for a bad CRC */
} klefr_mbrtu;

/* Start the slave with its view (copied) and program the line. */
void klefr_mbrtu_init(klefr_mbrtu *s, const klefr_mbrtu_view *view, uint64_t t_us);
void klefr_mbrtu_rx(klefr_mbrtu *s, uint8_t byte, uint8_t flags, uint64_t t_us);
/* Call at least every 10 ms: silence ends frames, settings get applied. */
void klefr_mbrtu_tick(klefr_mbrtu *s, uint64_t t_us);
/* The address or line settings changed: the UART follows after the reply. */
void klefr_mbrtu_settings_changed(klefr_mbrtu *s);

/* Duration of t3.5 on a line with these settings. */
uint32_t klefr_mbrtu_t35_us(const klefr_uart_cfg *cfg);

/* Handle one complete request frame (CRC included) addressed anywhere; writes
 * the reply (CRC included) to out and returns its length, 0 for none. */
size_t klefr_mbrtu_handle(klefr_mbrtu *s, const uint8_t *req, size_t n, uint8_t *out,
                          uint64_t t_us);

/* CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF; sent low byte first. */
uint16_t klefr_crc16_modbus(const uint8_t *data, size_t len);

#endif
