/* Receive buffer of the bus slaves that delimit frames by length and line
 * idle (Modbus RTU, M-bus): bytes of the frame being received, the time of
 * the last byte, a UART error mark and a count of thrown-away bytes. What a
 * frame is and what silence means stays with each protocol; this is only the
 * buffer keeping that both did alike. (The IEC 62056-21 slave delimits by
 * characters, not idle, and keeps its own buffer.) */
#ifndef KLEFR_RXBUF_H
#define KLEFR_RXBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct klefr_meter;

/* Room for the longest frame of any user (an M-bus long frame, 264); each
 * user passes its own, possibly smaller, capacity. */
#define KLEFR_RXBUF_MAX 264

typedef struct {
    uint8_t buf[KLEFR_RXBUF_MAX]; /* bytes of the frame being received */
    uint16_t len;
    bool bad;            /* a byte of this frame had a UART error */
    uint64_t last_rx_us; /* end of the last received byte */
    uint32_t dropped;    /* junk bytes / UART errors / overflows / truncated frames */
} klefr_rxbuf;

/* Remove the first k bytes (k <= len); an empty buffer forgets a UART error. */
void klefr_rxbuf_drop(klefr_rxbuf *r, size_t k);

/* Store one received byte at t_us; flags != 0 marks the frame bad. A full
 * buffer (cap bytes) is a long run of junk: the oldest byte goes. */
void klefr_rxbuf_put(klefr_rxbuf *r, uint8_t byte, uint8_t flags, uint64_t t_us, size_t cap);

/* The tick may run before bytes stamped earlier are handed over (the
 * platform batches them), so a tick judges silence only after this grace
 * (two tick periods); the next byte judges it exactly (grace 0). */
#define KLEFR_RXBUF_TICK_GRACE_US 20000u

/* Bytes are buffered and the line has been idle longer than gap_us + grace_us
 * at t_us (the partial frame ended at last_rx_us + gap_us). */
bool klefr_rxbuf_idle(const klefr_rxbuf *r, uint64_t t_us, uint32_t gap_us, uint64_t grace_us);

/* Throw away all buffered bytes (counted as dropped). With a trace sink,
 * two lines: "<prefix>rx XX .." and "<prefix>discarded: <why>", why being
 * the UART error when the frame is marked bad. */
void klefr_rxbuf_discard(struct klefr_meter *m, klefr_rxbuf *r, const char *prefix, const char *why,
                         uint64_t t_us);

#endif
