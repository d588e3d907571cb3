#include "proto/rxbuf.h"

#include <string.h>

#include "proto/trace_text.h"

/* A discarded buffer is traced whole. */
_Static_assert(KLEFR_RXBUF_MAX <= KLEFR_TRACE_HEX_MAX, "hex trace line too short");

void klefr_rxbuf_drop(klefr_rxbuf *r, size_t k)
{
    memmove(r->buf, r->buf + k, r->len - k);
    r->len = (uint16_t)(r->len - k);
    r->bad_end = (uint16_t)(r->bad_end > k ? r->bad_end - k : 0);
}

void klefr_rxbuf_put(klefr_rxbuf *r, uint8_t byte, uint8_t flags, uint64_t t_us, size_t cap)
{
    r->last_rx_us = t_us;
    if (r->len >= cap) { /* a long run of junk: keep the newest bytes */
        r->dropped++;
        klefr_rxbuf_drop(r, 1);
    }
    r->buf[r->len++] = byte;
    if (flags)
        r->bad_end = r->len;
}

int klefr_rxbuf_frame_at_end(const klefr_rxbuf *r, size_t min_len, klefr_frame_len_fn len,
                             klefr_frame_check_fn check)
{
    for (size_t k = r->bad_end; k + min_len <= r->len; k++) {
        size_t n = r->len - k;
        int need = len(r->buf + k, n);
        if (need > 0 && (size_t)need == n && check(r->buf + k, n))
            return (int)k;
    }
    return -1;
}

size_t klefr_rxbuf_take(klefr_rxbuf *r, size_t k, uint8_t *out)
{
    size_t n = r->len - k;
    r->dropped += (uint32_t)k;
    memcpy(out, r->buf + k, n);
    r->len = 0;
    r->bad_end = 0;
    return n;
}

bool klefr_rxbuf_idle(const klefr_rxbuf *r, uint64_t t_us, uint32_t gap_us, uint64_t grace_us)
{
    return r->len && t_us > r->last_rx_us + gap_us + grace_us;
}

void klefr_rxbuf_discard(const klefr_trace_sink *t, klefr_rxbuf *r, const char *prefix,
                         const char *why, uint64_t t_us)
{
    if (!r->len)
        return;
    if (klefr_tracing(t)) {
        klefr_trace_hex(t, prefix, "rx", r->buf, r->len, t_us);
        klefr_trace_text(t, prefix, "discarded: ", r->bad_end ? "UART framing/parity error" : why,
                         t_us);
    }
    r->dropped += r->len;
    r->len = 0;
    r->bad_end = 0;
}
