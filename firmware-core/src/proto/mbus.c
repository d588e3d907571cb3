/* M-bus slave of the 6923: link layer (EN 13757-2), addresses, selection.
 *
 * Frames from the master:
 *   single char  E5                            (only ever sent by slaves)
 *   short        10 C A CS 16                  SND_NKE, REQ_UD2
 *   control/long 68 L L 68 C A CI data CS 16   SND_UD; L = 3 + data bytes
 *
 * Receive: the first byte says the length (10: 5 bytes; 68: L + 6 once the
 * four start bytes agree); a bad checksum or stop byte drops one byte and
 * rescans, so junk in front of a frame costs nothing. A line idle of
 * 33 bit times throws away a partial frame (the truncated frame is junk).
 *
 *   request ....|<- 11 bit times + 2 ms ->|reply (E5 / RSP_UD)|<- baud switch
 */
#include "proto/trace_text.h"
#include "proto/mbus.h"

#include <string.h>

#include "klefr/meter.h"
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

klefr_uart_cfg klefr_mbus_uart_cfg(const klefr_meter *m)
{
    return (klefr_uart_cfg){.baud = m->settings.baud ? m->settings.baud : 9600,
                            .data_bits = 8,
                            .parity = KLEFR_PARITY_EVEN, /* manual 7.14: always even */
                            .stop_bits = 1};
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

static bool tracing(const klefr_meter *m)
{
    return m->hal->trace != NULL;
}

#define PREFIX "mbus: "

static void trace_hex(klefr_meter *m, const char *dir, const uint8_t *f, size_t n, uint64_t t_us)
{
    klefr_trace_hex(m, PREFIX, dir, f, n, t_us);
}

static void trace_text(klefr_meter *m, const char *a, const char *c, uint64_t t_us)
{
    klefr_trace_text(m, PREFIX, a, c, t_us);
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
static void trace_decode(klefr_meter *m, const char *dir, const uint8_t *f, size_t n,
                         uint64_t t_us)
{
    char line[256];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "mbus: ");
    klefr_tb_str(&b, dir);
    if (n == 1) {
        klefr_tb_str(&b, " ACK (E5)");
        klefr_tb_time(&b, t_us);
        klefr_meter_trace(m, line);
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
            klefr_tb_str(&b, klefr_mbus_record_name(d, dn));
        } else if (ci >= CI_BAUD_300 && ci <= CI_BAUD_9600) {
            static const char *bauds[] = {"300", "600", "1200", "2400", "4800", "9600"};
            klefr_tb_str(&b, " baud=");
            klefr_tb_str(&b, bauds[ci - CI_BAUD_300]);
        } else if (ci == CI_APP_RESET) {
            klefr_tb_str(&b, " application reset");
        }
    }
    klefr_tb_time(&b, t_us);
    klefr_meter_trace(m, line);
}

/* The energies of an RSP_UD, decoded (10 Wh BCD -> kWh with 2 decimals). */
static void trace_values(klefr_meter *m, const uint8_t *ud, size_t n, uint64_t t_us)
{
    static const char *names[] = {"total",   "total_t1",   "total_t2",
                                  "forward", "forward_t1", "forward_t2",
                                  "reverse", "reverse_t1", "reverse_t2"};
    char line[512];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "mbus: values kWh");
    size_t k = 12;
    for (size_t r = 0; r < sizeof names / sizeof names[0] && k < n; r++) {
        k += (ud[k] & 0x80u) ? 3 : 2; /* DIF [DIFE] VIF */
        if (k + 4 > n)
            break;
        const uint8_t *v = ud + k;
        k += 4;
        klefr_tb_str(&b, " ");
        klefr_tb_str(&b, names[r]);
        klefr_tb_str(&b, "=");
        bool neg = (v[3] >> 4) == 0xF;
        uint64_t x = 0;
        for (int j = 3; j >= 0; j--)
            x = x * 100u + ((j == 3 && neg) ? 0u : (v[j] >> 4) * 10u) + (v[j] & 0xFu);
        if (neg)
            klefr_tb_str(&b, "-");
        klefr_tb_uint(&b, x / 100u, 1);
        klefr_tb_str(&b, ".");
        klefr_tb_uint(&b, x % 100u, 2);
    }
    klefr_tb_time(&b, t_us);
    klefr_meter_trace(m, line);
}

/* ---- frame handling ---- */
static size_t ack(uint8_t *out)
{
    out[0] = ACK;
    return 1;
}

static size_t rsp_ud(klefr_meter *m, uint8_t access, uint8_t *out)
{
    size_t n = klefr_mbus_user_data(m, access, out + 7);
    uint8_t l = (uint8_t)(n + 3);
    out[0] = 0x68;
    out[1] = l;
    out[2] = l;
    out[3] = 0x68;
    out[4] = C_RSP_UD;
    out[5] = m->settings.mbus_id; /* own primary address, also at 253/254 */
    out[6] = CI_RSP_UD;
    out[7 + n] = klefr_mbus_cs(out + 4, l);
    out[8 + n] = 0x16;
    return n + 9;
}

/* Secondary address match with wildcards: ID nibble F, manufacturer FF FF,
 * version FF, medium FF. The manufacturer is CD 25 on the wire (LSB first);
 * the manual's print order 25 CD is accepted too (no valid code reads so). */
static bool select_match(const klefr_meter *m, const uint8_t *d)
{
    uint32_t id = m->settings.mbus_secondary;
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

static size_t snd_ud(klefr_meter *m, uint8_t ci, const uint8_t *d, size_t dn, uint64_t t_us,
                     uint8_t *out)
{
    if (ci >= CI_BAUD_300 && ci <= CI_BAUD_9600) {
        static const uint32_t bauds[] = {300, 600, 1200, 2400, 4800, 9600};
        if (dn)
            return 0;
        uint32_t baud = bauds[ci - CI_BAUD_300];
        if (baud != m->settings.baud) {
            m->settings.baud = baud; /* applied after the E5 has left at the old baud */
            klefr_meter_settings_changed(m, t_us);
        }
        return ack(out);
    }
    switch (ci) {
    case CI_APP_RESET: /* nothing to reset in a single-telegram meter */
        return ack(out);
    case CI_DATA_SEND:
        return klefr_mbus_write(m, d, dn, t_us) ? ack(out) : 0;
    default:
        return 0; /* not supported: no reply */
    }
}

/* Address a reaches this meter: its own, a broadcast, or 253 while selected
 * (a selection itself is handled apart). */
static bool for_us(const klefr_meter *m, uint8_t a)
{
    return a == m->settings.mbus_id || a == KLEFR_MBUS_ADDR_BCAST_REPLY ||
           a == KLEFR_MBUS_ADDR_BCAST || (a == KLEFR_MBUS_ADDR_SELECTED && m->mbus.selected);
}

size_t klefr_mbus_handle(klefr_meter *m, const uint8_t *f, size_t n, uint8_t *out, uint64_t t_us)
{
    klefr_mbus *s = &m->mbus;
    const uint8_t *c = n == 5 ? f + 1 : f + 4; /* C A [CI data] */
    uint8_t cf = c[0], a = c[1];

    /* A selection is itself addressed to 253: it selects or deselects. */
    if (n > 5 && (cf & ~C_FCB) == C_SND_UD && a == KLEFR_MBUS_ADDR_SELECTED &&
        c[2] == CI_SELECT) {
        s->selected = n == 17 && select_match(m, c + 3);
        return s->selected ? ack(out) : 0;
    }

    if (!for_us(m, a))
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
        len = rsp_ud(m, s->access++, out);
    } else if (n > 5 && (cf & ~C_FCB) == C_SND_UD) {
        len = snd_ud(m, c[2], c + 3, n - 9, t_us, out);
    }
    return a == KLEFR_MBUS_ADDR_BCAST ? 0 : len;
}

/* A new baud takes effect when the E5 on the line has ended (at the old
 * baud), not at a later tick: a master that switches at once is understood. */
static void apply_pending_cfg(klefr_meter *m, uint64_t t_us)
{
    klefr_mbus *s = &m->mbus;
    if (!s->cfg_pending)
        return;
    s->cfg_pending = false;
    uint64_t t = t_us > s->tx_end_us ? t_us : s->tx_end_us;
    klefr_uart_cfg cfg = klefr_mbus_uart_cfg(m);
    if (m->hal->uart_config)
        m->hal->uart_config(m->hal->arg, KLEFR_PORT_BUS, &cfg, t);
    if (tracing(m))
        trace_text(m, "line settings applied", "", t);
}

/* A whole frame with a good checksum: act on it if it is for this meter. */
static void frame(klefr_meter *m, const uint8_t *f, size_t n, uint64_t t_us)
{
    klefr_mbus *s = &m->mbus;
    if (tracing(m)) {
        trace_hex(m, "rx", f, n, t_us);
        trace_decode(m, "rx", f, n, t_us);
    }
    klefr_uart_cfg cfg = klefr_mbus_uart_cfg(m); /* the reply uses the old baud */
    uint8_t out[KLEFR_MBUS_BUF];
    /* For this meter: it answers, or the address reached it before the frame
     * was handled (a write may change the address, a selection deselect). */
    bool mine = for_us(m, n == 5 ? f[2] : f[5]);
    size_t len = klefr_mbus_handle(m, f, n, out, t_us);
    if (!len && !mine)
        return;
    s->frames++;
    uint64_t t_tx = t_us + klefr_mbus_reaction_us(&cfg);
    s->tx_end_us = t_tx + (uint64_t)len * klefr_uart_char_us(&cfg);
    m->comm_until_us = s->tx_end_us + KLEFR_MBUS_ICON_US;
    if (len && m->hal->uart_write) {
        if (tracing(m)) {
            trace_hex(m, "tx", out, len, t_tx);
            trace_decode(m, "tx", out, len, t_tx);
            if (len > 9 && out[6] == CI_RSP_UD)
                trace_values(m, out + 7, len - 9, t_tx);
        }
        m->hal->uart_write(m->hal->arg, KLEFR_PORT_BUS, out, len, t_tx);
    }
    apply_pending_cfg(m, t_us);
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

static void scan(klefr_meter *m, uint64_t t_us)
{
    klefr_mbus *s = &m->mbus;
    klefr_rxbuf *r = &s->rx;
    while (r->len) {
        int need = expected_len(r->buf, r->len);
        if (need < 0) {
            r->dropped++;
            klefr_rxbuf_drop(r, 1);
            continue;
        }
        if (need == 0 || r->len < need)
            return;
        if (r->bad) { /* traced as the UART error */
            klefr_rxbuf_discard(m, r, PREFIX, "UART framing/parity error", t_us);
            return;
        }
        if (check(r->buf, (size_t)need)) {
            uint8_t f[KLEFR_MBUS_BUF];
            memcpy(f, r->buf, (size_t)need);
            klefr_rxbuf_drop(r, (size_t)need);
            frame(m, f, (size_t)need, t_us);
        } else {
            s->cs_errors++;
            if (tracing(m)) {
                trace_hex(m, "rx", r->buf, (size_t)need, t_us);
                trace_text(m, "discarded: ", "bad checksum or stop byte", t_us);
            }
            r->dropped++;
            klefr_rxbuf_drop(r, 1);
        }
    }
}

/* The line went idle inside a frame: what is buffered is truncated. */
static void silence(klefr_meter *m, uint64_t t_us)
{
    klefr_rxbuf_discard(m, &m->mbus.rx, PREFIX, "incomplete frame", t_us);
}

void klefr_mbus_init(klefr_meter *m, uint64_t t_us)
{
    memset(&m->mbus, 0, sizeof m->mbus);
    if (!klefr_model_has_mbus(m->model))
        return;
    m->mbus.cfg_pending = true;
    apply_pending_cfg(m, t_us);
}

void klefr_mbus_rx(klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_rxbuf *r = &m->mbus.rx;
    apply_pending_cfg(m, t_us);
    klefr_uart_cfg cfg = klefr_mbus_uart_cfg(m);
    if (klefr_rxbuf_idle(r, t_us, idle_us(&cfg), 0))
        silence(m, t_us);
    klefr_rxbuf_put(r, byte, flags, t_us, KLEFR_MBUS_BUF);
    scan(m, t_us);
}

void klefr_mbus_tick(klefr_meter *m, uint64_t t_us)
{
    klefr_rxbuf *r = &m->mbus.rx;
    if (!klefr_model_has_mbus(m->model))
        return;
    apply_pending_cfg(m, t_us);
    klefr_uart_cfg cfg = klefr_mbus_uart_cfg(m);
    uint32_t idle = idle_us(&cfg);
    if (klefr_rxbuf_idle(r, t_us, idle, KLEFR_RXBUF_TICK_GRACE_US))
        silence(m, r->last_rx_us + idle);
}
