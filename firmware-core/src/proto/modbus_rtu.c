/* Modbus RTU slave of the 6924: frame delimiting, request handling, replies.
 *
 * Receive state machine (one frame buffer):
 *
 *   byte --> [gap > t3.5 since last byte?] --yes--> drop partial frame
 *        --> append --> expected length known and reached? --> CRC ok?
 *              |                                   |no: drop one byte, rescan
 *              +-- unknown function: wait for t3.5 silence, then CRC the lot
 *
 * Delimiting by the expected length per function code plus the CRC works when
 * bytes arrive without line timing (all at one instant); t3.5 silence throws
 * away junk and truncated frames when they do have timing.
 *
 *   request ....|<- t3.5 + turnaround ->|reply.............|<- settings change
 */
#include "proto/trace_text.h"
#include "proto/modbus_rtu.h"

#include <string.h>

#include "klefr/meter.h"
#include "proto/modbus_map.h"
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

klefr_uart_cfg klefr_mbrtu_uart_cfg(const klefr_meter *m)
{
    return (klefr_uart_cfg){.baud = m->settings.baud ? m->settings.baud : 9600,
                            .data_bits = 8,
                            .parity = m->settings.parity,
                            .stop_bits = 1};
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

static void trace_hex(klefr_meter *m, const char *dir, const uint8_t *f, size_t n, uint64_t t_us)
{
    klefr_trace_hex(m, PREFIX, dir, f, n, t_us);
}

static void trace_text(klefr_meter *m, const char *a, const char *c, uint64_t t_us)
{
    klefr_trace_text(m, PREFIX, a, c, t_us);
}

static bool tracing(const klefr_meter *m)
{
    return m->hal->trace != NULL;
}

/* A float with 3 decimals (no printf in the firmware). */
static void tf(klefr_tbuf *b, float f)
{
    if (f != f) {
        klefr_tb_str(b, "nan");
        return;
    }
    if (f < 0) {
        klefr_tb_str(b, "-");
        f = -f;
    }
    if (f > 1e15f) {
        klefr_tb_str(b, "inf");
        return;
    }
    uint64_t milli = (uint64_t)((double)f * 1000.0 + 0.5);
    klefr_tb_uint(b, milli / 1000u, 1);
    klefr_tb_str(b, ".");
    klefr_tb_uint(b, milli % 1000u, 3);
}

/* The values of a read reply, by register name (three-phase-only rows,
 * always 0 here, are left out). */
static void trace_values(klefr_meter *m, uint16_t start, uint16_t qty, const uint8_t *data,
                         uint64_t t_us)
{
    char line[1024];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "modbus: values");
    for (uint32_t a = start; a < (uint32_t)start + qty;) {
        const klefr_mbreg *r = klefr_mbmap_find((uint16_t)a);
        const uint8_t *d = data + 2 * (a - start);
        if (!r || r->addr != a || a + r->len > (uint32_t)start + qty) {
            a++;
            continue;
        }
        a += r->len;
        if (r->three_phase)
            continue;
        uint32_t raw = r->len == 2 ? (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | d[2] << 8 | d[3]
                                   : (uint32_t)d[0] << 8 | d[1];
        klefr_tb_str(&b, " ");
        klefr_tb_str(&b, r->name);
        klefr_tb_str(&b, "=");
        switch (r->type) {
        case KLEFR_MBT_FLOAT:
            tf(&b, klefr_mb_bits_float(raw));
            break;
        case KLEFR_MBT_SIGNED:
            if (raw & 0x8000u) {
                klefr_tb_str(&b, "-");
                raw = 0x10000u - raw;
            }
            klefr_tb_uint(&b, raw, 1);
            break;
        case KLEFR_MBT_HEX:
            klefr_tb_str(&b, "0x");
            klefr_tb_hex(&b, raw, r->len * 4);
            break;
        default: {
            char c[4] = {'\'', (char)(raw >= 32 && raw < 127 ? raw : '?'), '\'', 0};
            klefr_tb_str(&b, c);
        }
        }
    }
    klefr_tb_time(&b, t_us);
    klefr_meter_trace(m, line);
}

/* One decoded line for a request or a reply. */
static void trace_decode(klefr_meter *m, const char *dir, const uint8_t *f, size_t n, bool crc_ok,
                         uint64_t t_us)
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
        const klefr_mbreg *r = klefr_mbmap_find(reg);
        klefr_tb_str(&b, f[1] == 6 ? " write reg=0x" : " write-multiple reg=0x");
        klefr_tb_hex(&b, reg, 4);
        klefr_tb_str(&b, " (");
        klefr_tb_str(&b, r ? r->name : "unmapped");
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
    klefr_meter_trace(m, line);
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

static size_t do_read(klefr_meter *m, const uint8_t *req, uint8_t *out)
{
    uint16_t start = be16(req + 2), qty = be16(req + 4);
    if (qty < 1 || qty > 125)
        return exception(req, KLEFR_MBEX_ILLEGAL_VALUE, out);
    if ((uint32_t)start + qty > 0x10000u)
        return exception(req, KLEFR_MBEX_ILLEGAL_ADDRESS, out);
    out[0] = req[0];
    out[1] = req[1];
    out[2] = (uint8_t)(2 * qty);
    /* Row by row (the map is sorted): one getter call per row, its words as
     * klefr_mbmap_read() gives them. */
    const klefr_mbreg *r = NULL, *end = klefr_mbmap + klefr_mbmap_len;
    for (uint32_t k = 0; k < qty;) {
        uint32_t a = start + k;
        r = r && r + 1 < end && r[1].addr == a ? r + 1 : klefr_mbmap_find((uint16_t)a);
        if (!r)
            return exception(req, KLEFR_MBEX_ILLEGAL_ADDRESS, out);
        uint32_t raw = r->get ? r->get(m) : 0;
        for (; k < qty && start + k < (uint32_t)r->addr + r->len; k++) {
            uint16_t v = r->len == 2 && start + k == r->addr ? (uint16_t)(raw >> 16) : (uint16_t)raw;
            out[3 + 2 * k] = (uint8_t)(v >> 8);
            out[4 + 2 * k] = (uint8_t)v;
        }
    }
    return finish(out, 3 + 2u * qty);
}

static uint8_t write_regs(klefr_meter *m, uint8_t fc, uint16_t start, uint16_t qty,
                          const uint8_t *data, uint64_t t_us)
{
    const klefr_mbreg *r = klefr_mbmap_find(start);
    /* FC 06 only for one-register rows; FC 10 for any writable row, whole. */
    if (!r || !r->set || r->addr != start || r->len != qty || (fc == 6 && r->write_fc != 6))
        return KLEFR_MBEX_ILLEGAL_ADDRESS;
    uint16_t regs[2];
    for (uint16_t k = 0; k < qty; k++)
        regs[k] = be16(data + 2 * k);
    return r->set(m, regs, t_us);
}

size_t klefr_mbrtu_handle(klefr_meter *m, const uint8_t *req, size_t n, uint8_t *out, uint64_t t_us)
{
    bool broadcast = req[0] == 0;
    uint8_t ex = KLEFR_MBEX_NONE;
    size_t len = 0;
    switch (req[1]) {
    case 0x03: /* read holding registers: the manual's function */
    case 0x04: /* read input registers: same map (many masters use FC 04) */
        if (broadcast)
            return 0;
        return do_read(m, req, out);
    case 0x06:
        ex = write_regs(m, 6, be16(req + 2), 1, req + 4, t_us);
        if (!ex) {
            memcpy(out, req, 6);
            len = finish(out, 6);
        }
        break;
    case 0x10: {
        uint16_t qty = be16(req + 4);
        if (qty < 1 || qty > 123 || req[6] != 2 * qty || n != 9u + req[6])
            ex = KLEFR_MBEX_ILLEGAL_VALUE;
        else
            ex = write_regs(m, 0x10, be16(req + 2), qty, req + 7, t_us);
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
static void apply_pending_cfg(klefr_meter *m, uint64_t t_us)
{
    klefr_mbrtu *s = &m->modbus;
    if (!s->cfg_pending)
        return;
    s->cfg_pending = false;
    uint64_t t = t_us > s->tx_end_us ? t_us : s->tx_end_us;
    klefr_uart_cfg cfg = klefr_mbrtu_uart_cfg(m);
    if (m->hal->uart_config)
        m->hal->uart_config(m->hal->arg, KLEFR_PORT_BUS, &cfg, t);
    if (tracing(m))
        trace_text(m, "line settings applied", "", t);
}

/* A whole frame with a good CRC: act on it if it is for this meter. */
static void frame(klefr_meter *m, const uint8_t *f, size_t n, uint64_t t_us)
{
    if (tracing(m))
        trace_decode(m, "rx", f, n, true, t_us);
    if (f[0] != 0 && f[0] != m->settings.modbus_id)
        return;
    klefr_mbrtu *s = &m->modbus;
    s->frames++;
    uint8_t out[KLEFR_MBRTU_BUF];
    klefr_uart_cfg cfg = klefr_mbrtu_uart_cfg(m); /* the reply uses the old settings */
    size_t len = klefr_mbrtu_handle(m, f, n, out, t_us);
    uint64_t t_tx = t_us + klefr_mbrtu_t35_us(&cfg) + KLEFR_MBRTU_TURNAROUND_US;
    s->tx_end_us = t_tx + (uint64_t)len * klefr_uart_char_us(&cfg);
    m->comm_until_us = s->tx_end_us + KLEFR_MBRTU_ICON_US;
    if (len && m->hal->uart_write) {
        if (tracing(m)) {
            trace_hex(m, "tx", out, len, t_tx);
            trace_decode(m, "tx", out, len, true, t_tx);
            if ((out[1] == 3 || out[1] == 4) && len > 5)
                trace_values(m, (uint16_t)(f[2] << 8 | f[3]), out[2] / 2, out + 3, t_tx);
        }
        m->hal->uart_write(m->hal->arg, KLEFR_PORT_BUS, out, len, t_tx);
    }
    apply_pending_cfg(m, t_us);
}

/* Junk with an unknown function code in front of a good frame, with no
 * silence between: find a known frame that ends exactly here. */
static bool resync_unknown(klefr_rxbuf *r)
{
    for (size_t k = 1; k + 4 <= r->len; k++) {
        int need = expected_len(r->buf + k, r->len - k);
        if (need > 0 && k + (size_t)need == r->len &&
            klefr_crc16_modbus(r->buf + k, (size_t)need) == 0) {
            r->dropped += (uint32_t)k;
            klefr_rxbuf_drop(r, k);
            return true;
        }
    }
    return false;
}

/* Scan the buffer for complete frames. */
static void scan(klefr_meter *m, uint64_t t_us)
{
    klefr_mbrtu *s = &m->modbus;
    klefr_rxbuf *r = &s->rx;
    while (r->len) {
        int need = expected_len(r->buf, r->len);
        if (need < 0 && !r->bad && resync_unknown(r))
            continue;
        if (need > KLEFR_MBRTU_BUF && !r->bad) {
            /* No RTU frame is that long: not a frame start. */
            r->dropped++;
            klefr_rxbuf_drop(r, 1);
            continue;
        }
        if (need <= 0 || r->len < need)
            return;
        if (r->bad) { /* traced as the UART error */
            klefr_rxbuf_discard(m, r, PREFIX, "UART framing/parity error", t_us);
            return;
        }
        uint16_t crc = klefr_crc16_modbus(r->buf, (size_t)need - 2);
        if (r->buf[need - 2] == (uint8_t)crc && r->buf[need - 1] == (uint8_t)(crc >> 8)) {
            if (tracing(m))
                trace_hex(m, "rx", r->buf, (size_t)need, t_us);
            uint8_t f[KLEFR_MBRTU_BUF];
            memcpy(f, r->buf, (size_t)need);
            klefr_rxbuf_drop(r, (size_t)need);
            frame(m, f, (size_t)need, t_us);
        } else {
            /* Not a frame here: resynchronise one byte later. */
            s->crc_errors++;
            if (tracing(m)) {
                trace_hex(m, "rx", r->buf, (size_t)need, t_us);
                trace_decode(m, "rx", r->buf, (size_t)need, false, t_us);
            }
            r->dropped++;
            klefr_rxbuf_drop(r, 1);
        }
    }
}

/* t3.5 of silence ended the frame in the buffer: a frame of unknown length
 * is judged by its CRC; anything else left is junk or truncated. */
static void silence(klefr_meter *m, uint64_t t_us)
{
    klefr_rxbuf *r = &m->modbus.rx;
    if (!r->bad && r->len >= 4 && expected_len(r->buf, r->len) < 0 &&
        klefr_crc16_modbus(r->buf, r->len) == 0) {
        uint8_t f[KLEFR_MBRTU_BUF];
        size_t n = r->len;
        memcpy(f, r->buf, n);
        klefr_rxbuf_drop(r, n);
        if (tracing(m))
            trace_hex(m, "rx", f, n, t_us);
        frame(m, f, n, t_us);
        return;
    }
    klefr_rxbuf_discard(m, r, PREFIX, "incomplete at t3.5 silence", t_us);
}

void klefr_mbrtu_init(klefr_meter *m, uint64_t t_us)
{
    memset(&m->modbus, 0, sizeof m->modbus);
    if (!klefr_model_has_modbus(m->model))
        return;
    m->modbus.cfg_pending = true;
    apply_pending_cfg(m, t_us);
}

void klefr_mbrtu_rx(klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_rxbuf *r = &m->modbus.rx;
    apply_pending_cfg(m, t_us);
    klefr_uart_cfg cfg = klefr_mbrtu_uart_cfg(m);
    if (klefr_rxbuf_idle(r, t_us, klefr_mbrtu_t35_us(&cfg), 0))
        silence(m, t_us);
    klefr_rxbuf_put(r, byte, flags, t_us, KLEFR_MBRTU_BUF);
    scan(m, t_us);
}

void klefr_mbrtu_tick(klefr_meter *m, uint64_t t_us)
{
    klefr_rxbuf *r = &m->modbus.rx;
    if (!klefr_model_has_modbus(m->model) || (!r->len && !m->modbus.cfg_pending))
        return; /* nothing received, nothing to apply */
    apply_pending_cfg(m, t_us);
    klefr_uart_cfg cfg = klefr_mbrtu_uart_cfg(m);
    uint32_t t35 = klefr_mbrtu_t35_us(&cfg);
    if (klefr_rxbuf_idle(r, t_us, t35, KLEFR_RXBUF_TICK_GRACE_US))
        silence(m, r->last_rx_us + t35);
}
