/* A virtual serial wire: characters travel between the endpoints attached to
 * it at the virtual times a real wire would carry them. Every endpoint (a
 * meter's UART, a host port, an in-process master) has its own character
 * format; a receiver whose format differs from the sender's, or that hears
 * two senders at once, gets what a real UART would: garbled bytes with
 * KLEFR_RX_ERR_FRAMING / KLEFR_RX_ERR_PARITY. docs/serial.md has the model,
 * the rules and timing diagrams.
 *
 *   sender     |start|d0 ..... d7|par|stop|      one character, char_us long
 *   receivers                               ^ get the byte here, at the end
 *                                             of its stop bit
 *
 * A character occupies the wire from the start of its start bit to the end
 * of its stop bit(s): klefr_uart_char_us() of the sender's format, the same
 * figure the firmware uses, so the firmware's and the masters' views of the
 * line agree. A sender's characters follow each other back to back.
 *
 * The line knows no host and no clock of its own: it asks its owner to call
 * it back at virtual times (klefr_line_clock, the sim's event queue), so it
 * runs identically headless, with a window, and in tests without wall time.
 * Everything is deterministic: the same sends at the same times give the
 * same receptions at the same times. Nothing here is thread-safe: call it
 * from the thread that runs the sim loop. */
#ifndef KLEFR_SIM_LINE_H
#define KLEFR_SIM_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"

typedef struct klefr_line klefr_line;
typedef struct klefr_line_ep klefr_line_ep;

/* Who hears whom.
 *   BUS:    one shared channel (RS-485 two-wire, Modbus): every endpoint
 *           hears every other one, masters and slaves alike; any two senders
 *           at once collide.
 *   DUPLEX: two channels, masters -> slaves and slaves -> master (M-bus:
 *           the master modulates the voltage, slaves the current; the optical
 *           port: two light paths). Slaves hear only masters, masters only
 *           slaves; two slaves answering at once collide, a master and a
 *           slave do not. */
typedef enum { KLEFR_LINE_BUS, KLEFR_LINE_DUPLEX } klefr_line_kind;

typedef enum { KLEFR_LINE_MASTER, KLEFR_LINE_SLAVE } klefr_line_role;

/* How the line is called back at a virtual time: post must arrange for
 * fn(fn_arg, t_us) to run at t_us, in time order with everything else the
 * owner does (the sim posts a KLEFR_EV_CALL event). Returns false when it
 * cannot (a full queue): the line then catches up at its next call. */
typedef struct {
    bool (*post)(void *arg, uint64_t t_us, void (*fn)(void *fn_arg, uint64_t t_us), void *fn_arg);
    void *arg;
} klefr_line_clock;

/* A received character: byte (the data bits; 7-bit formats give 0..127),
 * KLEFR_RX_ERR_* flags, and t_us, the end of its stop bit at this receiver. */
typedef void (*klefr_line_rx_fn)(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us);

/* A new, empty line; name is for messages and the monitor ("modbus"). NULL
 * when out of memory. */
klefr_line *klefr_line_new(const char *name, klefr_line_kind kind, klefr_line_clock clock);
/* Free the line and every endpoint still attached. */
void klefr_line_free(klefr_line *l);
const char *klefr_line_name(const klefr_line *l);
klefr_line_kind klefr_line_get_kind(const klefr_line *l);

/* Wire timing, on by default. Off ("--line-timing off", for raw throughput
 * benchmarks): every character reaches the others the moment it is sent,
 * unchanged, with KLEFR_RX_ERR_FRAMING when the formats differ (PARITY when
 * only the parity does); no reaction time is kept, no collisions exist, and
 * the firmware's idea of when its reply ends no longer matches the master's.
 * docs/serial.md says what else it gives up. */
void klefr_line_set_timing(klefr_line *l, bool on);
bool klefr_line_timing(const klefr_line *l);

/* Attach an endpoint with format fmt (NULL: 9600 8E1 until set). rx may be
 * NULL for a sender that listens to nothing. NULL when out of memory. */
klefr_line_ep *klefr_line_attach(klefr_line *l, const char *name, klefr_line_role role,
                                 const klefr_uart_cfg *fmt, klefr_line_rx_fn rx, void *rx_arg);
/* Take the endpoint off the line; its characters not yet finished on the
 * wire are cut off (they reach nobody). */
void klefr_line_detach(klefr_line_ep *ep);
const char *klefr_line_ep_name(const klefr_line_ep *ep);
/* The memory an endpoint takes (a fleet counts it per meter). */
size_t klefr_line_ep_bytes(void);
klefr_line *klefr_line_ep_line(const klefr_line_ep *ep);

/* ---- character format ---- */

/* The endpoint's format from t_us on: characters it sends that start at or
 * after t_us, and characters it receives whose start bit it detects at or
 * after t_us, use fmt. Characters queued before keep the format they were
 * queued with (a UART driver waits for transmit-complete before it changes
 * the baud). A change for a time before the line's present takes effect now. */
void klefr_line_set_format(klefr_line_ep *ep, const klefr_uart_cfg *fmt, uint64_t t_us);

/* Fields of the format an endpoint takes from another endpoint instead of
 * its own (a pty carries no parity, so a pty endpoint follows the meter's
 * parity; a raw TCP port follows everything). */
enum {
    KLEFR_LINE_FOLLOW_BAUD = 0x1,
    KLEFR_LINE_FOLLOW_DATA_BITS = 0x2,
    KLEFR_LINE_FOLLOW_PARITY = 0x4,
    KLEFR_LINE_FOLLOW_STOP_BITS = 0x8,
    KLEFR_LINE_FOLLOW_ALL = 0xF
};
/* ep uses ref's format (at the same time) for the fields in mask; ref NULL
 * or mask 0 stops following. ref must be on the same line. */
void klefr_line_follow(klefr_line_ep *ep, const klefr_line_ep *ref, unsigned mask);

/* A host endpoint whose format is whatever the host has set right now (the
 * baud a master set on a pty): probe is called when the line needs the
 * format at the present and may change *fmt. NULL removes it. */
void klefr_line_set_probe(klefr_line_ep *ep, void (*probe)(void *arg, klefr_uart_cfg *fmt),
                          void *arg);

/* The format in force at t_us, following and probe applied. */
klefr_uart_cfg klefr_line_format(const klefr_line_ep *ep, uint64_t t_us);

/* ---- sending ---- */

/* Put n bytes on the wire from ep: the first starts at t_us, or when ep's
 * previous character ends, or at the line's present, whichever is latest;
 * the rest follow back to back. Returns the end of the last one. Bytes are
 * copied. A 7-bit format sends the low 7 bits. */
uint64_t klefr_line_send(klefr_line_ep *ep, const uint8_t *data, size_t n, uint64_t t_us);

/* The same for bytes a real UART received with errors (flags[k] from
 * KLEFR_RX_ERR_*; NULL = none): every receiver gets them with those flags
 * added, whatever its own decoding says. */
uint64_t klefr_line_send_flagged(klefr_line_ep *ep, const uint8_t *data, const uint8_t *flags,
                                 size_t n, uint64_t t_us);

/* End of the last character ep has queued (0 if none yet). */
uint64_t klefr_line_tx_end(const klefr_line_ep *ep);

/* Characters ep has queued that have not ended by t_us. */
size_t klefr_line_tx_pending(const klefr_line_ep *ep, uint64_t t_us);

/* ---- watching ---- */

/* Counters of one endpoint. */
typedef struct {
    uint64_t tx_chars;   /* characters sent */
    uint64_t rx_chars;   /* characters received */
    uint64_t rx_errors;  /* of those, with framing or parity errors */
    uint64_t collisions; /* own characters that overlapped another sender's */
    uint64_t cut;        /* characters dropped: queue full, or detached */
} klefr_line_stats;

klefr_line_stats klefr_line_ep_stats(const klefr_line_ep *ep);

/* One character as it went over the wire, for a bus monitor. */
typedef struct {
    const char *sender; /* endpoint name */
    uint8_t byte;
    uint8_t flags;    /* what the sender's UART flagged (send_flagged), not collisions */
    bool collided;    /* another sender's character overlapped it */
    uint64_t t0_us;   /* start of the start bit */
    uint64_t t1_us;   /* end of the stop bit(s) */
} klefr_line_char;

/* Called for every character when it has ended on the wire (in time order
 * per sender); NULL turns it off. */
void klefr_line_set_monitor(klefr_line *l, void (*fn)(void *arg, const klefr_line_char *c),
                            void *arg);

/* ---- an in-process master's receive buffer ----
 * For tests and the scenario engine: attach an endpoint with
 * klefr_line_capture_rx as its rx function and a klefr_line_capture as its
 * argument, send with klefr_line_send at virtual times, and read what came
 * back with its arrival times:
 *
 *   klefr_line_capture cap = {0};
 *   klefr_line_ep *m = klefr_line_attach(klefr_sim_line(&sim, KLEFR_PORT_BUS), "master",
 *                                        KLEFR_LINE_MASTER, &fmt, klefr_line_capture_rx, &cap);
 *   klefr_line_send(m, request, sizeof request, t);
 *   klefr_sim_run_until(&sim, t + 100000);
 *   ... cap.c[0].t_us is when the first reply byte arrived ... */
#define KLEFR_LINE_CAPTURE_MAX 4096

typedef struct {
    uint8_t byte;
    uint8_t flags;
    uint64_t t_us; /* end of its stop bit */
} klefr_line_rxchar;

typedef struct {
    klefr_line_rxchar c[KLEFR_LINE_CAPTURE_MAX];
    size_t n;    /* characters in c */
    size_t lost; /* characters that did not fit */
} klefr_line_capture;

/* klefr_line_rx_fn that appends to the klefr_line_capture at arg. */
void klefr_line_capture_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us);

/* Empty it. */
void klefr_line_capture_clear(klefr_line_capture *c);

#endif
