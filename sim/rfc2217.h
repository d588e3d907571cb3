/* The server side of RFC 2217 (Telnet Com Port Control), as a filter on the
 * byte stream of one client: no sockets here (ports.c moves the bytes), so
 * it is tested alone. It negotiates BINARY, SGA and COM-PORT-OPTION (what
 * pyserial's rfc2217:// client insists on), keeps the port settings the
 * client sets and answers every COM-PORT command with the value in force
 * (the command code + 100, as RFC 2217 and pyserial's PortManager do).
 *
 * Why not libgensio (the library under ser2net): its RFC 2217 server lives
 * in gensio's own event loop (os_funcs, its selector and threads), which
 * would have to run beside the simulator's single-threaded ppoll loop and
 * hand bytes over between threads; the protocol subset a serial port server
 * needs is this file. docs/serial.md. */
#ifndef KLEFR_SIM_RFC2217_H
#define KLEFR_SIM_RFC2217_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"

/* A growing output buffer the caller owns (fixed capacity; what does not
 * fit is dropped and counted). */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    size_t lost;
} klefr_bytes;

/* Settings the client has set (bits as KLEFR_LINE_FOLLOW_*: until set, the
 * port follows the meter). */
enum {
    KLEFR_2217_SET_BAUD = 0x1,
    KLEFR_2217_SET_DATA_BITS = 0x2,
    KLEFR_2217_SET_PARITY = 0x4,
    KLEFR_2217_SET_STOP_BITS = 0x8
};

typedef struct {
    uint8_t mode;     /* telnet parser state */
    uint8_t neg;      /* DO/DONT/WILL/WONT being parsed */
    uint8_t sb[64];   /* subnegotiation being collected */
    size_t sbn;
    bool sb_long;     /* longer than sb: ignored */
    uint8_t us;       /* options we have enabled (bit per option index) */
    uint8_t them;     /* options the client has enabled */
    bool comport;     /* the client agreed to COM-PORT-OPTION */
    klefr_uart_cfg cfg; /* the port's settings as the client set them */
    unsigned set;       /* KLEFR_2217_SET_*: fields the client has set */
    uint8_t linestate_mask;
    uint8_t modemstate_mask;
    bool dtr, rts;
} klefr_rfc2217;

/* A connection to a port whose settings are cfg until the client sets its
 * own; the server's opening offer goes to out. */
void klefr_rfc2217_start(klefr_rfc2217 *t, const klefr_uart_cfg *cfg, klefr_bytes *out);

/* Bytes from the client: serial data (IAC IAC unescaped) appended to data,
 * telnet answers to out. Returns the KLEFR_2217_SET_* fields this call set. */
unsigned klefr_rfc2217_input(klefr_rfc2217 *t, const uint8_t *in, size_t n, klefr_bytes *data,
                             klefr_bytes *out);

/* Serial data for the client (IAC doubled) appended to out. */
void klefr_rfc2217_data(const uint8_t *d, size_t n, klefr_bytes *out);

/* A character arrived with KLEFR_RX_ERR_* flags: NOTIFY-LINESTATE (framing
 * or parity error) when the client's line-state mask asks for it. */
void klefr_rfc2217_linestate(const klefr_rfc2217 *t, uint8_t flags, klefr_bytes *out);

#endif
