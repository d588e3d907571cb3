#include "proto/rxbuf.h"

#include <string.h>

#include "klefr/meter.h"
#include "proto/trace_text.h"

/* A discarded buffer is traced whole. */
_Static_assert(KLEFR_RXBUF_MAX <= KLEFR_TRACE_HEX_MAX, "hex trace line too short");

void klefr_rxbuf_drop(klefr_rxbuf *r, size_t k)
{
    memmove(r->buf, r->buf + k, r->len - k);
    r->len = (uint16_t)(r->len - k);
    if (!r->len)
        r->bad = false;
}

void klefr_rxbuf_put(klefr_rxbuf *r, uint8_t byte, uint8_t flags, uint64_t t_us, size_t cap)
{
    r->last_rx_us = t_us;
    if (flags)
        r->bad = true;
    if (r->len >= cap) { /* a long run of junk: keep the newest bytes */
        r->dropped++;
        klefr_rxbuf_drop(r, 1);
    }
    r->buf[r->len++] = byte;
}

bool klefr_rxbuf_idle(const klefr_rxbuf *r, uint64_t t_us, uint32_t gap_us, uint64_t grace_us)
{
    return r->len && t_us > r->last_rx_us + gap_us + grace_us;
}

void klefr_rxbuf_discard(klefr_meter *m, klefr_rxbuf *r, const char *prefix, const char *why,
                         uint64_t t_us)
{
    if (!r->len)
        return;
    if (m->hal->trace) {
        klefr_trace_hex(m, prefix, "rx", r->buf, r->len, t_us);
        klefr_trace_text(m, prefix, "discarded: ", r->bad ? "UART framing/parity error" : why,
                         t_us);
    }
    r->dropped += r->len;
    r->len = 0;
    r->bad = false;
}
