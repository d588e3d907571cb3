/* M-bus slave engine of the 6923: link layer (EN 13757-2), addresses,
 * selection; the meter only through its view (mbus.h).
 *
 * Frames from the master:
 *   single char  E5                            (only ever sent by slaves)
 *   short        10 C A CS 16                  SND_NKE, REQ_UD2
 *   control/long 68 L L 68 C A CI data CS 16   SND_UD; L = 3 + data bytes
 *
 * Receive: the first byte says the length (10: 5 bytes; 68: L + 6 once the
 * four start bytes agree); at each byte, a frame from any start in the buffer
 * that ends exactly there with a good checksum and stop byte is acted on at
 * once, so junk in front of a frame costs nothing. A line idle of 33 bit
 * times throws away what is left (junk, a truncated or a bad frame).
 *
 *   request ....|<- 11 bit times + 2 ms ->|reply (E5 / RSP_UD)|<- baud switch
 */
#include "proto/trace_text.h"
#include "proto/mbus.h"

#include <string.h>

#include "proto/rxbuf.h"
#include "proto/uart_time.h"

#define C_SND_NKE 0x40u
#define C_SND_UD 0x53u  /* FCV set; 73 with FCB */
#define C_REQ_UD2 0x5Bu /* FCV set; 7B with FCB */
#define C_RSP_UD 0x08u
#define C_FCB 0x20u
#define C_FCV 0x10u
#define CI_APP_RESET 0x50u
#define CI_DATA_SEND 0x51u
#define CI_SELECT 0x52u
#define CI_RSP_UD 0x72u
#define CI_BAUD_300 0xB8u
#define CI_BAUD_9600 0xBDu
#define ACK 0xE5u

uint8_t klefr_mbus_cs(const uint8_t *d, size_t n)
{
    uint8_t s = 0;
    for (size_t k = 0; k < n; k++)
        s = (uint8_t)(s + d[k]);
    return s;
}

static uint32_t idle_us(const klefr_uart_cfg *c)
{
    return klefr_uart_bits_us(c, KLEFR_MBUS_IDLE_BITS);
}

uint32_t klefr_mbus_reaction_us(const klefr_uart_cfg *c)
{
    return klefr_uart_bits_us(c, KLEFR_MBUS_REACTION_BITS) + KLEFR_MBUS_PROCESSING_US;
}

/* ---- trace (only formatted when the HAL has a trace sink) ---- */

static bool tracing(const klefr_mbus *s)
{
    return klefr_tracing(&s->view.trace);
}

#define PREFIX "mbus: "

static void trace_hex(const klefr_mbus *s, const char *dir, const uint8_t *f, size_t n,
                      uint64_t t_us)
{
    klefr_trace_hex(&s->view.trace, PREFIX, dir, f, n, t_us);
}

static void trace_text(const klefr_mbus *s, const char *a, const char *c, uint64_t t_us)
{
    klefr_trace_text(&s->view.trace, PREFIX, a, c, t_us);
}

static const char *c_to_str(uint8_t c)
{
    switch (c == C_SND_NKE ? c : c & ~C_FCB) {
    case C_SND_NKE:
        return "SND_NKE";
    case C_SND_UD:
        return "SND_UD";
    case C_REQ_UD2:
        return "REQ_UD2";
    case C_RSP_UD:
        return "RSP_UD";
    default:
        return "C?";
    }
}

/* One decoded line for a frame. */
static void trace_decode(const klefr_mbus *s, const char *dir, const uint8_t *f, size_t n,
                         uint64_t t_us)
{
    char line[256];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "mbus: ");
    klefr_tb_str(&b, dir);
    if (n == 1) {
        klefr_tb_str(&b, " ACK (E5)");
        klefr_tb_time(&b, t_us);
        klefr_trace_line(&s->view.trace, line);
        return;
    }
    const uint8_t *c = n == 5 ? f + 1 : f + 4;
    klefr_tb_str(&b, " ");
    klefr_tb_str(&b, c_to_str(c[0]));
    klefr_tb_str(&b, " a=");
    klefr_tb_uint(&b, c[1], 1);
    if ((c[0] & 0x0Fu) == 0x0Bu || (c[0] & 0x0Fu) == 0x03u) {
        klefr_tb_str(&b, " fcb=");
        klefr_tb_uint(&b, (c[0] & C_FCB) != 0, 1);
        klefr_tb_str(&b, " fcv=");
        klefr_tb_uint(&b, (c[0] & C_FCV) != 0, 1);
    }
    if (n > 5) {
        uint8_t ci = c[2];
        const uint8_t *d = c + 3;
        size_t dn = n - 9;
        klefr_tb_str(&b, " ci=");
        klefr_tb_hex(&b, ci, 2);
        if (ci == CI_RSP_UD && dn >= 12) {
            klefr_tb_str(&b, " id=");
            klefr_tb_hex(&b, (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0], 8);
            klefr_tb_str(&b, " access=");
            klefr_tb_uint(&b, d[8], 1);
            klefr_tb_str(&b, " status=");
            klefr_tb_hex(&b, d[9], 2);
            klefr_tb_str(&b, " bytes=");
            klefr_tb_uint(&b, dn, 1);
        } else if (ci == CI_SELECT && dn == 8) {
            klefr_tb_str(&b, " select id=");
            klefr_tb_hex(&b, (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0], 8);
            klefr_tb_str(&b, " man=");
            klefr_tb_hex(&b, (uint32_t)d[5] << 8 | d[4], 4);
            klefr_tb_str(&b, " ver=");
            klefr_tb_hex(&b, d[6], 2);
            klefr_tb_str(&b, " med=");
            klefr_tb_hex(&b, d[7], 2);
        } else if (ci == CI_DATA_SEND) {
            klefr_tb_str(&b, " write ");
            klefr_tb_str(&b,
                         s->view.record_name ? s->view.record_name(s->view.arg, d, dn) : "unknown");
        } else if (ci >= CI_BAUD_300 && ci <= CI_BAUD_9600) {
            static const char *bauds[] = {"300", "600", "1200", "2400", "4800", "9600"};
            klefr_tb_str(&b, " baud=");
            klefr_tb_str(&b, bauds[ci - CI_BAUD_300]);
        } else if (ci == CI_APP_RESET) {
            klefr_tb_str(&b, " application reset");
        }
    }
    klefr_tb_time(&b, t_us);
    klefr_trace_line(&s->view.trace, line);
}

/* The values of an RSP_UD (the view decodes its data records). */
static void trace_values(const klefr_mbus *s, const uint8_t *ud, size_t n, uint64_t t_us)
{
    char line[512];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "mbus: values kWh");
    if (s->view.describe)
        s->view.describe(s->view.arg, &b, ud, n);
    klefr_tb_time(&b, t_us);
    klefr_trace_line(&s->view.trace, line);
}

/* ---- frame handling ---- */
static size_t ack(uint8_t *out)
{
    out[0] = ACK;
    return 1;
}

static size_t rsp_ud(const klefr_mbus *s, uint8_t access, uint8_t *out)
{
    size_t n = s->view.user_data(s->view.arg, access, out + 7);
    uint8_t l = (uint8_t)(n + 3);
    out[0] = 0x68;
    out[1] = l;
    out[2] = l;
    out[3] = 0x68;
    out[4] = C_RSP_UD;
    out[5] = s->view.primary(s->view.arg); /* own primary address, also at 253/254 */
    out[6] = CI_RSP_UD;
    out[7 + n] = klefr_mbus_cs(out + 4, l);
    out[8 + n] = 0x16;
    return n + 9;
}

/* Secondary address match with wildcards: ID nibble F, manufacturer FF FF,
 * version FF, medium FF. The manufacturer is CD 25 on the wire (LSB first);
 * the manual's print order 25 CD is accepted too (no valid code reads so). */
static bool select_match(const klefr_mbus *s, const uint8_t *d)
{
    uint32_t id = s->view.secondary(s->view.arg);
    for (int k = 0; k < 8; k++) {
        uint8_t want = (uint8_t)((id >> (4 * k)) & 0xFu);
        uint8_t got = (uint8_t)((d[k / 2] >> (4 * (k % 2))) & 0xFu);
        if (got != 0xF && got != want)
            return false;
    }
    uint16_t man = (uint16_t)(d[5] << 8 | d[4]);
    if (man != 0xFFFFu && man != KLEFR_MBUS_MANUFACTURER && man != 0xCD25u)
        return false;
    if (d[6] != 0xFF && d[6] != KLEFR_MBUS_VERSION)
        return false;
    return d[7] == 0xFF || d[7] == KLEFR_MBUS_MEDIUM;
}

static size_t snd_ud(const klefr_mbus *s, uint8_t ci, const uint8_t *d, size_t dn, uint64_t t_us,
                     uint8_t *out)
{
    if (ci >= CI_BAUD_300 && ci <= CI_BAUD_9600) {
        static const uint32_t bauds[] = {300, 600, 1200, 2400, 4800, 9600};
        if (dn)
            return 0;
        /* applied after the E5 has left at the old baud */
        s->view.set_baud(s->view.arg, bauds[ci - CI_BAUD_300], t_us);
        return ack(out);
    }
    switch (ci) {
    case CI_APP_RESET:
        if (s->view.app_reset)
            s->view.app_reset(s->view.arg, t_us);
        return ack(out);
    case CI_DATA_SEND:
        return s->view.write(s->view.arg, d, dn, t_us) ? ack(out) : 0;
    default:
        return 0; /* not supported: no reply */
    }
}

/* Address a reaches this meter: its own, a broadcast, or 253 while selected
 * (a selection itself is handled apart). */
static bool for_us(const klefr_mbus *s, uint8_t a)
{
    return a == s->view.primary(s->view.arg) || a == KLEFR_MBUS_ADDR_BCAST_REPLY ||
           a == KLEFR_MBUS_ADDR_BCAST || (a == KLEFR_MBUS_ADDR_SELECTED && s->selected);
}

size_t klefr_mbus_handle(klefr_mbus *s, const uint8_t *f, size_t n, uint8_t *out, uint64_t t_us)
{
    const uint8_t *c = n == 5 ? f + 1 : f + 4; /* C A [CI data] */
    uint8_t cf = c[0], a = c[1];

    /* A selection is itself addressed to 253: it selects or deselects. */
    if (n > 5 && (cf & ~C_FCB) == C_SND_UD && a == KLEFR_MBUS_ADDR_SELECTED &&
        c[2] == CI_SELECT) {
        s->selected = n == 17 && select_match(s, c + 3);
        return s->selected ? ack(out) : 0;
    }

    if (!for_us(s, a))
        return 0;
    size_t len = 0;
    if (n == 5 && cf == C_SND_NKE) {
        s->fcb_valid = false;
        if (a == KLEFR_MBUS_ADDR_SELECTED)
            s->selected = false;
        len = ack(out);
    } else if (n == 5 && (cf & ~C_FCB) == C_REQ_UD2) {
        /* REQ_UD2 always has FCV set (5B/7B). The same FCB as last time:
         * the master repeats because our reply was lost; the access number
         * stays. */
        if (a == KLEFR_MBUS_ADDR_BCAST)
            return 0; /* nobody may answer: nothing to do */
        bool fcb = (cf & C_FCB) != 0;
        if (s->fcb_valid && fcb == s->fcb)
            s->access--;
        s->fcb_valid = true;
        s->fcb = fcb;
        len = rsp_ud(s, s->access++, out);
    } else if (n > 5 && (cf & ~C_FCB) == C_SND_UD) {
        len = snd_ud(s, c[2], c + 3, n - 9, t_us, out);
    }
    return a == KLEFR_MBUS_ADDR_BCAST ? 0 : len;
}

/* A new baud takes effect when the E5 on the line has ended (at the old
 * baud), not at a later tick: a master that switches at once is understood. */
static void apply_pending_cfg(klefr_mbus *s, uint64_t t_us)
{
    if (!s->cfg_pending)
        return;
    s->cfg_pending = false;
    uint64_t t = t_us > s->tx_end_us ? t_us : s->tx_end_us;
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg);
    if (s->view.uart_config)
        s->view.uart_config(s->view.arg, &cfg, t);
    if (tracing(s))
        trace_text(s, "line settings applied", "", t);
}

/* A whole frame with a good checksum: act on it if it is for this meter. */
static void frame(klefr_mbus *s, const uint8_t *f, size_t n, uint64_t t_us)
{
    if (tracing(s)) {
        trace_hex(s, "rx", f, n, t_us);
        trace_decode(s, "rx", f, n, t_us);
    }
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg); /* the reply uses the old baud */
    uint8_t out[KLEFR_MBUS_BUF];
    /* For this meter: it answers, or the address reached it before the frame
     * was handled (a write may change the address, a selection deselect). */
    bool mine = for_us(s, n == 5 ? f[2] : f[5]);
    size_t len = klefr_mbus_handle(s, f, n, out, t_us);
    if (!len && !mine)
        return;
    s->frames++;
    uint64_t t_tx = t_us + klefr_mbus_reaction_us(&cfg);
    s->tx_end_us = t_tx + (uint64_t)len * klefr_uart_char_us(&cfg);
    if (s->view.frame_for_me)
        s->view.frame_for_me(s->view.arg, s->tx_end_us);
    if (len && s->view.uart_write) {
        if (tracing(s)) {
            trace_hex(s, "tx", out, len, t_tx);
            trace_decode(s, "tx", out, len, t_tx);
            if (len > 9 && out[6] == CI_RSP_UD)
                trace_values(s, out + 7, len - 9, t_tx);
        }
        s->view.uart_write(s->view.arg, out, len, t_tx);
    }
    apply_pending_cfg(s, t_us);
}

/* Length of the frame at b: >0 known, 0 need more bytes, -1 not a frame
 * start. */
static int expected_len(const uint8_t *b, size_t n)
{
    if (b[0] == 0x10)
        return 5;
    if (b[0] != 0x68)
        return -1;
    if (n < 4)
        return 0;
    if (b[1] != b[2] || b[3] != 0x68 || b[1] < 3)
        return -1;
    return b[1] + 6;
}

static bool check(const uint8_t *b, size_t need)
{
    if (need == 5)
        return b[4] == 0x16 && b[3] == klefr_mbus_cs(b + 1, 2);
    return b[need - 1] == 0x16 && b[need - 2] == klefr_mbus_cs(b + 4, need - 6);
}

/* After each byte: a frame that ends exactly here with a good checksum and
 * stop byte, from any start in the buffer (rxbuf.h), so junk in front, even
 * a false long-frame header ("68 05 05 68") whose length runs past the real
 * frame, costs nothing. */
static void scan(klefr_mbus *s, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    int k = klefr_rxbuf_frame_at_end(r, 5, expected_len, check);
    if (k < 0)
        return;
    if (k > 0 && tracing(s)) {
        trace_hex(s, "rx", r->buf, (size_t)k, t_us);
        trace_text(s, "discarded: ", "junk before a frame", t_us);
    }
    uint8_t f[KLEFR_MBUS_BUF];
    size_t n = klefr_rxbuf_take(r, (size_t)k, f);
    frame(s, f, n, t_us);
}

/* The line went idle: what is buffered is junk, a truncated frame, or a
 * whole one with a bad checksum or stop byte. */
static void silence(klefr_mbus *s, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    int need = r->len && !r->bad_end ? expected_len(r->buf, r->len) : -1;
    if (need >= 5 && need == (int)r->len) {
        s->cs_errors++;
        klefr_rxbuf_discard(&s->view.trace, r, PREFIX, "bad checksum or stop byte", t_us);
        return;
    }
    klefr_rxbuf_discard(&s->view.trace, r, PREFIX, "incomplete frame", t_us);
}

void klefr_mbus_init(klefr_mbus *s, const klefr_mbus_view *view, uint64_t t_us)
{
    memset(s, 0, sizeof *s);
    s->view = *view;
    s->cfg_pending = true;
    apply_pending_cfg(s, t_us);
}

void klefr_mbus_settings_changed(klefr_mbus *s)
{
    s->cfg_pending = true;
}

void klefr_mbus_rx(klefr_mbus *s, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    apply_pending_cfg(s, t_us);
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg);
    if (klefr_rxbuf_idle(r, t_us, idle_us(&cfg), 0))
        silence(s, t_us);
    klefr_rxbuf_put(r, byte, flags, t_us, KLEFR_MBUS_BUF);
    scan(s, t_us);
}

void klefr_mbus_tick(klefr_mbus *s, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    apply_pending_cfg(s, t_us);
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg);
    uint32_t idle = idle_us(&cfg);
    if (klefr_rxbuf_idle(r, t_us, idle, KLEFR_RXBUF_TICK_GRACE_US))
        silence(s, r->last_rx_us + idle);
}
