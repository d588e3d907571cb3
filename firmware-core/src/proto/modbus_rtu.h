/* Modbus RTU slave of the 6924 (manual appendix 3). */
#ifndef KLEFR_MODBUS_RTU_H
#define KLEFR_MODBUS_RTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"
#include "proto/rxbuf.h"

struct klefr_meter;

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

typedef struct {
    klefr_rxbuf rx;      /* the frame being received; rx.dropped: junk bytes,
                            UART errors, overflows */
    uint64_t tx_end_us;  /* end of the reply on the line */
    bool cfg_pending;    /* line settings change after the reply */
    uint32_t frames;     /* good frames for this meter */
    uint32_t crc_errors; /* frames dropped for a bad CRC */
} klefr_mbrtu;

void klefr_mbrtu_init(struct klefr_meter *m, uint64_t t_us);
void klefr_mbrtu_rx(struct klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us);
void klefr_mbrtu_tick(struct klefr_meter *m, uint64_t t_us);

/* The UART settings the meter's bus port uses (from m->settings). */
klefr_uart_cfg klefr_mbrtu_uart_cfg(const struct klefr_meter *m);
/* Duration of t3.5 on a line with these settings. */
uint32_t klefr_mbrtu_t35_us(const klefr_uart_cfg *cfg);

/* Handle one complete request frame (CRC included) addressed anywhere; writes
 * the reply (CRC included) to out and returns its length, 0 for none. */
size_t klefr_mbrtu_handle(struct klefr_meter *m, const uint8_t *req, size_t n, uint8_t *out,
                          uint64_t t_us);

/* CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF; sent low byte first. */
uint16_t klefr_crc16_modbus(const uint8_t *data, size_t len);

#endif
