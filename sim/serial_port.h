/* Host bottom of a real serial port (libserialport, plus termios on the fd
 * it gives us for what libserialport cannot do). Plain C types only.
 *
 * libserialport reports no parity or framing errors: the port is switched
 * to INPCK + PARMRK, so the kernel marks a character received with an error
 * as FF 00 x (a literal FF as FF FF, a break as FF 00 00), and
 * klefr_parmrk_decode() turns the markers into KLEFR_RX_ERR_* flags. */
#ifndef KLEFR_SIM_SERIAL_PORT_H
#define KLEFR_SIM_SERIAL_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"

/* Decoder state of the PARMRK byte stream (carries over between reads). */
typedef struct {
    uint8_t state; /* 0: plain, 1: after FF, 2: after FF 00 */
} klefr_parmrk;

/* Decode n bytes read from a PARMRK tty into out/flags (room for n + 1
 * each: an FF held back by the last call comes out with a first byte that is
 * not a marker); returns how many characters came out. err is the flag a marked character
 * gets (Linux marks parity and framing errors alike: the caller passes
 * KLEFR_RX_ERR_PARITY when the port uses parity, else FRAMING); a break
 * (FF 00 00) is a 00 with KLEFR_RX_ERR_FRAMING. */
size_t klefr_parmrk_decode(klefr_parmrk *st, const uint8_t *in, size_t n, uint8_t *out,
                           uint8_t *flags, uint8_t err);

typedef struct {
    void *sp; /* struct sp_port * */
    int fd;   /* for poll() */
    klefr_uart_cfg applied;
    klefr_parmrk mrk;
} klefr_serial;

/* Open name (e.g. /dev/ttyUSB0) with the settings. Returns 0, or -1 with a
 * message in err (also when built without libserialport). */
int klefr_serial_open(klefr_serial *s, const char *name, const klefr_uart_cfg *cfg, char *err,
                      int errlen);
/* Apply the settings if they differ from the port's (waits for output to drain). */
int klefr_serial_config(klefr_serial *s, const klefr_uart_cfg *cfg);
/* Read what is there (non-blocking): characters into data, their error
 * flags into flags (room for cap each, cap >= 2). Returns the count, 0 if none, -1 on
 * error. */
int klefr_serial_read(klefr_serial *s, uint8_t *data, uint8_t *flags, size_t cap);
/* Write n bytes (non-blocking; returns how many went, -1 on error). */
int klefr_serial_write(klefr_serial *s, const uint8_t *data, size_t n);
void klefr_serial_close(klefr_serial *s);

/* Switch an open tty fd to reporting errors with markers (INPCK, PARMRK,
 * no IGNPAR/ISTRIP). 0 or -1 with errno. Used by klefr_serial_open(); a
 * test calls it on a pty. */
int klefr_serial_mark_errors(int fd);

#endif
