/* Modbus RTU slave engine of the 6924: frame delimiting, request handling,
 * replies; the meter only through its view (modbus_rtu.h).
 *
 * Receive (one buffer, rxbuf.h):
 *
 *   byte --> [gap > t3.5 since the last byte?] --yes--> end what is buffered
 *        --> append --> from any start: a known function code whose length
 *              ends exactly at this byte, CRC good? --> act on it now
 *              +-- unknown function: only at t3.5 silence, judged by CRC
 *
 * Taking a frame the moment its last byte is in works when bytes arrive
 * without line timing (all at one instant) and answers as soon as a real
 * slave could; trying every start skips junk in front of a frame, even a
 * false start (a glitch byte 00 before ID 15 reads as FC 0F) whose implied
 * length runs past the real frame. t3.5 silence throws away junk and
 * truncated frames.
 *
 *   request ....|<- t3.5 + turnaround ->|reply.............|<- settings change
 */
#include "proto/trace_text.h"
#include "proto/modbus_rtu.h"

#include <string.h>

#include "proto/rxbuf.h"
#include "proto/uart_time.h"

/* CRC-16/MODBUS by table: crc_table[i] is the bitwise CRC step applied 8
 * times to i (poly 0xA001 reflected); 512 bytes of flash. */
static const uint16_t crc_table[256] = {
    0x0000, 0xC0C1, 0xC181, 0x0140, 0xC301, 0x03C0, 0x0280, 0xC241, 0xC601, 0x06C0, 0x0780, 0xC741,
    0x0500, 0xC5C1, 0xC481, 0x0440, 0xCC01, 0x0CC0, 0x0D80, 0xCD41, 0x0F00, 0xCFC1, 0xCE81, 0x0E40,
    0x0A00, 0xCAC1, 0xCB81, 0x0B40, 0xC901, 0x09C0, 0x0880, 0xC841, 0xD801, 0x18C0, 0x1980, 0xD941,
    0x1B00, 0xDBC1, 0xDA81, 0x1A40, 0x1E00, 0xDEC1, 0xDF81, 0x1F40, 0xDD01, 0x1DC0, 0x1C80, 0xDC41,
    0x1400, 0xD4C1, 0xD581, 0x1540, 0xD701, 0x17C0, 0x1680, 0xD641, 0xD201, 0x12C0, 0x1380, 0xD341,
    0x1100, 0xD1C1, 0xD081, 0x1040, 0xF001, 0x30C0, 0x3180, 0xF141, 0x3300, 0xF3C1, 0xF281, 0x3240,
    0x3600, 0xF6C1, 0xF781, 0x3740, 0xF501, 0x35C0, 0x3480, 0xF441, 0x3C00, 0xFCC1, 0xFD81, 0x3D40,
    0xFF01, 0x3FC0, 0x3E80, 0xFE41, 0xFA01, 0x3AC0, 0x3B80, 0xFB41, 0x3900, 0xF9C1, 0xF881, 0x3840,
    0x2800, 0xE8C1, 0xE981, 0x2940, 0xEB01, 0x2BC0, 0x2A80, 0xEA41, 0xEE01, 0x2EC0, 0x2F80, 0xEF41,
    0x2D00, 0xEDC1, 0xEC81, 0x2C40, 0xE401, 0x24C0, 0x2580, 0xE541, 0x2700, 0xE7C1, 0xE681, 0x2640,
    0x2200, 0xE2C1, 0xE381, 0x2340, 0xE101, 0x21C0, 0x2080, 0xE041, 0xA001, 0x60C0, 0x6180, 0xA141,
    0x6300, 0xA3C1, 0xA281, 0x6240, 0x6600, 0xA6C1, 0xA781, 0x6740, 0xA501, 0x65C0, 0x6480, 0xA441,
    0x6C00, 0xACC1, 0xAD81, 0x6D40, 0xAF01, 0x6FC0, 0x6E80, 0xAE41, 0xAA01, 0x6AC0, 0x6B80, 0xAB41,
    0x6900, 0xA9C1, 0xA881, 0x6840, 0x7800, 0xB8C1, 0xB981, 0x7940, 0xBB01, 0x7BC0, 0x7A80, 0xBA41,
    0xBE01, 0x7EC0, 0x7F80, 0xBF41, 0x7D00, 0xBDC1, 0xBC81, 0x7C40, 0xB401, 0x74C0, 0x7580, 0xB541,
    0x7700, 0xB7C1, 0xB681, 0x7640, 0x7200, 0xB2C1, 0xB381, 0x7340, 0xB101, 0x71C0, 0x7080, 0xB041,
    0x5000, 0x90C1, 0x9181, 0x5140, 0x9301, 0x53C0, 0x5280, 0x9241, 0x9601, 0x56C0, 0x5780, 0x9741,
    0x5500, 0x95C1, 0x9481, 0x5440, 0x9C01, 0x5CC0, 0x5D80, 0x9D41, 0x5F00, 0x9FC1, 0x9E81, 0x5E40,
    0x5A00, 0x9AC1, 0x9B81, 0x5B40, 0x9901, 0x59C0, 0x5880, 0x9841, 0x8801, 0x48C0, 0x4980, 0x8941,
    0x4B00, 0x8BC1, 0x8A81, 0x4A40, 0x4E00, 0x8EC1, 0x8F81, 0x4F40, 0x8D01, 0x4DC0, 0x4C80, 0x8C41,
    0x4400, 0x84C1, 0x8581, 0x4540, 0x8701, 0x47C0, 0x4680, 0x8641, 0x8201, 0x42C0, 0x4380, 0x8341,
    0x4100, 0x81C1, 0x8081, 0x4040,
};

uint16_t klefr_crc16_modbus(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (size_t k = 0; k < len; k++)
        crc = (uint16_t)((crc >> 8) ^ crc_table[(crc ^ data[k]) & 0xFFu]);
    return crc;
}

/* Modbus over serial line 2.3: above 19200 baud t3.5 is fixed at 1.75 ms. */
uint32_t klefr_mbrtu_t35_us(const klefr_uart_cfg *c)
{
    if (c->baud > 19200)
        return 1750;
    return (klefr_uart_char_us(c) * 7 + 1) / 2;
}

/* ---- trace (only formatted when the HAL has a trace sink) ---- */

#define PREFIX "modbus: "

static void trace_hex(const klefr_mbrtu *s, const char *dir, const uint8_t *f, size_t n,
                      uint64_t t_us)
{
    klefr_trace_hex(&s->view.trace, PREFIX, dir, f, n, t_us);
}

static void trace_text(const klefr_mbrtu *s, const char *a, const char *c, uint64_t t_us)
{
    klefr_trace_text(&s->view.trace, PREFIX, a, c, t_us);
}

static bool tracing(const klefr_mbrtu *s)
{
    return klefr_tracing(&s->view.trace);
}

/* The values of a read reply, by register name (the view describes them). */
static void trace_values(const klefr_mbrtu *s, uint16_t start, uint16_t qty, const uint8_t *data,
                         uint64_t t_us)
{
    char line[1024];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "modbus: values");
    if (s->view.describe)
        s->view.describe(s->view.arg, &b, start, qty, data);
    klefr_tb_time(&b, t_us);
    klefr_trace_line(&s->view.trace, line);
}

/* One decoded line for a request or a reply. */
static void trace_decode(const klefr_mbrtu *s, const char *dir, const uint8_t *f, size_t n,
                         bool crc_ok, uint64_t t_us)
{
    char line[256];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "modbus: ");
    klefr_tb_str(&b, dir);
    klefr_tb_str(&b, " addr=");
    klefr_tb_uint(&b, f[0], 1);
    klefr_tb_str(&b, " fc=");
    klefr_tb_hex(&b, f[1], 2);
    bool reply = dir[0] == 't';
    if (f[1] & 0x80) {
        klefr_tb_str(&b, " exception=");
        klefr_tb_hex(&b, n > 2 ? f[2] : 0, 2);
    } else if ((f[1] == 3 || f[1] == 4) && !reply && n >= 8) {
        klefr_tb_str(&b, " read reg=0x");
        klefr_tb_hex(&b, (uint32_t)f[2] << 8 | f[3], 4);
        klefr_tb_str(&b, " count=");
        klefr_tb_uint(&b, (uint32_t)f[4] << 8 | f[5], 1);
    } else if ((f[1] == 3 || f[1] == 4) && reply && n >= 3) {
        klefr_tb_str(&b, " bytes=");
        klefr_tb_uint(&b, f[2], 1);
        klefr_tb_str(&b, " values=");
        for (size_t k = 3; k + 1 < n - 2 && k < 3 + 16; k += 2) {
            klefr_tb_hex(&b, (uint32_t)f[k] << 8 | f[k + 1], 4);
            klefr_tb_str(&b, " ");
        }
        if (f[2] > 16)
            klefr_tb_str(&b, "...");
    } else if ((f[1] == 6 || f[1] == 0x10) && n >= 8) {
        uint16_t reg = (uint16_t)(f[2] << 8 | f[3]);
        const char *name = s->view.reg_name ? s->view.reg_name(s->view.arg, reg) : NULL;
        klefr_tb_str(&b, f[1] == 6 ? " write reg=0x" : " write-multiple reg=0x");
        klefr_tb_hex(&b, reg, 4);
        klefr_tb_str(&b, " (");
        klefr_tb_str(&b, name ? name : "unmapped");
        klefr_tb_str(&b, ") ");
        if (f[1] == 6) {
            klefr_tb_str(&b, "value=0x");
            klefr_tb_hex(&b, (uint32_t)f[4] << 8 | f[5], 4);
        } else {
            klefr_tb_str(&b, "count=");
            klefr_tb_uint(&b, (uint32_t)f[4] << 8 | f[5], 1);
            if (!reply && n >= 9) {
                klefr_tb_str(&b, " values=");
                for (size_t k = 7; k + 1 < n - 2 && k < 7 + 8; k += 2)
                    klefr_tb_hex(&b, (uint32_t)f[k] << 8 | f[k + 1], 4);
            }
        }
    }
    klefr_tb_str(&b, crc_ok ? " crc=ok" : " crc=BAD");
    klefr_tb_time(&b, t_us);
    klefr_trace_line(&s->view.trace, line);
}

/* ---- request handling ---- */
static size_t finish(uint8_t *out, size_t n)
{
    uint16_t crc = klefr_crc16_modbus(out, n);
    out[n] = (uint8_t)crc;
    out[n + 1] = (uint8_t)(crc >> 8);
    return n + 2;
}

static size_t exception(const uint8_t *req, uint8_t code, uint8_t *out)
{
    out[0] = req[0];
    out[1] = (uint8_t)(req[1] | 0x80);
    out[2] = code;
    return finish(out, 3);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t do_read(klefr_mbrtu *s, const uint8_t *req, uint8_t *out)
{
    uint16_t start = be16(req + 2), qty = be16(req + 4);
    if (qty < 1 || qty > 125)
        return exception(req, KLEFR_MBEX_ILLEGAL_VALUE, out);
    if ((uint32_t)start + qty > 0x10000u)
        return exception(req, KLEFR_MBEX_ILLEGAL_ADDRESS, out);
    uint16_t regs[125];
    uint8_t ex = s->view.read_regs(s->view.arg, start, qty, regs);
    if (ex)
        return exception(req, ex, out);
    out[0] = req[0];
    out[1] = req[1];
    out[2] = (uint8_t)(2 * qty);
    for (uint16_t k = 0; k < qty; k++) {
        out[3 + 2 * k] = (uint8_t)(regs[k] >> 8);
        out[4 + 2 * k] = (uint8_t)regs[k];
    }
    return finish(out, 3 + 2u * qty);
}

size_t klefr_mbrtu_handle(klefr_mbrtu *s, const uint8_t *req, size_t n, uint8_t *out, uint64_t t_us)
{
    bool broadcast = req[0] == 0;
    uint8_t ex = KLEFR_MBEX_NONE;
    size_t len = 0;
    switch (req[1]) {
    case 0x03: /* read holding registers: the manual's function */
    case 0x04: /* read input registers: same map (many masters use FC 04) */
        if (broadcast)
            return 0;
        return do_read(s, req, out);
    case 0x06:
        ex = s->view.write_reg(s->view.arg, be16(req + 2), be16(req + 4), t_us);
        if (!ex) {
            memcpy(out, req, 6);
            len = finish(out, 6);
        }
        break;
    case 0x10: {
        uint16_t qty = be16(req + 4);
        if (qty < 1 || qty > 123 || req[6] != 2 * qty || n != 9u + req[6])
            ex = KLEFR_MBEX_ILLEGAL_VALUE;
        else {
            uint16_t regs[123];
            for (uint16_t k = 0; k < qty; k++)
                regs[k] = be16(req + 7 + 2 * k);
            ex = s->view.write_regs(s->view.arg, be16(req + 2), qty, regs, t_us);
        }
        if (!ex) {
            memcpy(out, req, 6);
            len = finish(out, 6);
        }
        break;
    }
    default:
        ex = KLEFR_MBEX_ILLEGAL_FUNCTION;
    }
    if (broadcast)
        return 0;
    return ex ? exception(req, ex, out) : len;
}

/* Expected request length from the bytes so far: >0 known, 0 need more
 * bytes, -1 unknown function (delimit by silence). */
static int expected_len(const uint8_t *b, size_t n)
{
    if (n < 2)
        return 0;
    switch (b[1]) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
        return 8;
    case 0x07:
    case 0x0B:
    case 0x0C:
    case 0x11:
        return 4;
    case 0x0F:
    case 0x10:
        return n < 7 ? 0 : 9 + b[6];
    case 0x17:
        return n < 11 ? 0 : 13 + b[10];
    default:
        return -1;
    }
}

/* New line settings take effect when the reply on the line has ended, not
 * at a later tick: a master that switches at once is understood. */
static void apply_pending_cfg(klefr_mbrtu *s, uint64_t t_us)
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

/* A whole frame with a good CRC: act on it if it is for this meter. */
static void frame(klefr_mbrtu *s, const uint8_t *f, size_t n, uint64_t t_us)
{
    if (tracing(s))
        trace_decode(s, "rx", f, n, true, t_us);
    if (f[0] != 0 && f[0] != s->view.address(s->view.arg))
        return;
    s->frames++;
    uint8_t out[KLEFR_MBRTU_BUF];
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg); /* the reply uses the old settings */
    size_t len = klefr_mbrtu_handle(s, f, n, out, t_us);
    uint64_t t_tx = t_us + klefr_mbrtu_t35_us(&cfg) + KLEFR_MBRTU_TURNAROUND_US;
    s->tx_end_us = t_tx + (uint64_t)len * klefr_uart_char_us(&cfg);
    if (s->view.frame_for_me)
        s->view.frame_for_me(s->view.arg, s->tx_end_us);
    if (len && s->view.uart_write) {
        if (tracing(s)) {
            trace_hex(s, "tx", out, len, t_tx);
            trace_decode(s, "tx", out, len, true, t_tx);
            if ((out[1] == 3 || out[1] == 4) && len > 5)
                trace_values(s, (uint16_t)(f[2] << 8 | f[3]), out[2] / 2, out + 3, t_tx);
        }
        s->view.uart_write(s->view.arg, out, len, t_tx);
    }
    apply_pending_cfg(s, t_us);
}

/* Frame rules for the receive buffer (rxbuf.h): a known function code's
 * length (no RTU frame is longer than the buffer: a longer implied length is
 * not a frame start), an unknown one's (the whole rest, judged at silence
 * only), and the CRC (a good frame's CRC residue is 0). */
static int known_len(const uint8_t *b, size_t n)
{
    int need = expected_len(b, n);
    return need > KLEFR_MBRTU_BUF ? -1 : need;
}

static int unknown_len(const uint8_t *b, size_t n)
{
    return expected_len(b, n) < 0 ? (int)n : -1;
}

static bool crc_ok(const uint8_t *b, size_t n)
{
    return klefr_crc16_modbus(b, n) == 0;
}

/* The frame at offset k of the buffer ends at its newest byte: act on it. */
static void take(klefr_mbrtu *s, int k, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    if (k > 0 && tracing(s)) {
        trace_hex(s, "rx", r->buf, (size_t)k, t_us);
        trace_text(s, "discarded: ", "junk before a frame", t_us);
    }
    uint8_t f[KLEFR_MBRTU_BUF];
    size_t n = klefr_rxbuf_take(r, (size_t)k, f);
    if (tracing(s))
        trace_hex(s, "rx", f, n, t_us);
    frame(s, f, n, t_us);
}

/* After each byte: a frame of a known function code that ends exactly here,
 * with a good CRC, from any start in the buffer (rxbuf.h). */
static void scan(klefr_mbrtu *s, uint64_t t_us)
{
    int k = klefr_rxbuf_frame_at_end(&s->rx, 4, known_len, crc_ok);
    if (k >= 0)
        take(s, k, t_us);
}

/* t3.5 of silence ended what is in the buffer: a frame of an unknown function
 * code is judged by its CRC now; anything else left is junk, a truncated
 * frame or one with a bad CRC. */
static void silence(klefr_mbrtu *s, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    int k = klefr_rxbuf_frame_at_end(r, 4, unknown_len, crc_ok);
    if (k >= 0) {
        take(s, k, t_us);
        return;
    }
    int need = r->bad_end ? -1 : expected_len(r->buf, r->len);
    if (need >= 4 && need == (int)r->len) { /* a whole request whose CRC is wrong */
        s->crc_errors++;
        if (tracing(s)) {
            trace_hex(s, "rx", r->buf, r->len, t_us);
            trace_decode(s, "rx", r->buf, r->len, false, t_us);
        }
        r->dropped += r->len;
        r->len = 0;
        return;
    }
    klefr_rxbuf_discard(&s->view.trace, r, PREFIX, "incomplete at t3.5 silence", t_us);
}

void klefr_mbrtu_init(klefr_mbrtu *s, const klefr_mbrtu_view *view, uint64_t t_us)
{
    memset(s, 0, sizeof *s);
    s->view = *view;
    s->cfg_pending = true;
    apply_pending_cfg(s, t_us);
}

void klefr_mbrtu_settings_changed(klefr_mbrtu *s)
{
    s->cfg_pending = true;
}

void klefr_mbrtu_rx(klefr_mbrtu *s, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    apply_pending_cfg(s, t_us);
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg);
    if (klefr_rxbuf_idle(r, t_us, klefr_mbrtu_t35_us(&cfg), 0))
        silence(s, t_us);
    klefr_rxbuf_put(r, byte, flags, t_us, KLEFR_MBRTU_BUF);
    scan(s, t_us);
}

void klefr_mbrtu_tick(klefr_mbrtu *s, uint64_t t_us)
{
    klefr_rxbuf *r = &s->rx;
    if (!r->len && !s->cfg_pending)
        return; /* nothing received, nothing to apply */
    apply_pending_cfg(s, t_us);
    klefr_uart_cfg cfg = s->view.uart_cfg(s->view.arg);
    uint32_t t35 = klefr_mbrtu_t35_us(&cfg);
    if (klefr_rxbuf_idle(r, t_us, t35, KLEFR_RXBUF_TICK_GRACE_US))
        silence(s, r->last_rx_us + t35);
}
