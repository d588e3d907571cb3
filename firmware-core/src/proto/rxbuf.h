/* Receive buffer of the bus slaves that delimit frames by length and line
 * idle (Modbus RTU, M-bus): bytes of the frame being received, the time of
 * the last byte, where the last UART error was and a count of thrown-away
 * bytes, and the one delimiting rule both share: a frame is taken when its
 * last byte arrives, whatever junk came before it. What a frame is and what
 * silence means stays with each protocol. (The IEC 62056-21 slave delimits
 * by characters, not idle, and keeps its own buffer.) */
#ifndef KLEFR_RXBUF_H
#define KLEFR_RXBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/trace_text.h"

/* Room for the longest frame of any user (an M-bus long frame, 264); each
 * user passes its own, possibly smaller, capacity. */
#define KLEFR_RXBUF_MAX 264

typedef struct {
    uint8_t buf[KLEFR_RXBUF_MAX]; /* bytes of the frame being received */
    uint16_t len;
    uint16_t bad_end;    /* buf[0..bad_end) holds a byte with a UART error: no
                            frame may start there (0: none) */
    uint64_t last_rx_us; /* end of the last received byte */
    uint32_t dropped;    /* junk bytes / UART errors / overflows / truncated frames */
} klefr_rxbuf;

/* Remove the first k bytes (k <= len); the error mark moves with them. */
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

/* A protocol's frame rules. len: the length a frame starting at b (n bytes
 * there) would have, > 0; 0 = more bytes needed to tell; -1 = b cannot start
 * a frame. check: the frame's CRC / checksum / stop byte are right. */
typedef int (*klefr_frame_len_fn)(const uint8_t *b, size_t n);
typedef bool (*klefr_frame_check_fn)(const uint8_t *b, size_t n);

/* The delimiting rule: the earliest offset k from which a frame of at least
 * min_len bytes ends exactly at the newest byte, checks good and holds no
 * byte with a UART error; -1 if none. Every start is tried, so junk in front
 * (even a false start whose implied length runs past the real frame) costs
 * nothing, and a frame is taken the moment its last byte is in. */
int klefr_rxbuf_frame_at_end(const klefr_rxbuf *r, size_t min_len, klefr_frame_len_fn len,
                             klefr_frame_check_fn check);

/* Take the frame found at offset k: the bytes before it are counted as
 * junk; the frame (to the end of the buffer) is copied to out and the
 * buffer emptied. Returns the frame's length. */
size_t klefr_rxbuf_take(klefr_rxbuf *r, size_t k, uint8_t *out);

/* Throw away all buffered bytes (counted as dropped). With a trace sink,
 * two lines: "<prefix>rx XX .." and "<prefix>discarded: <why>", why being
 * the UART error when a byte had one. */
void klefr_rxbuf_discard(const klefr_trace_sink *t, klefr_rxbuf *r, const char *prefix,
                         const char *why, uint64_t t_us);

#endif
