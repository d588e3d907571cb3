/* The bus monitor (busmon.h): frames from the lines' character monitor,
 * decoded by the line's protocol. */
#include "busmon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/modbus_rtu.h"

#define FRAME_MAX 300

typedef struct {
    klefr_busmon *mon;
    klefr_bus bus;
    /* the frame being collected */
    bool open;
    klefr_busmon_frame cur;
    uint8_t buf[FRAME_MAX];
    uint64_t char_us; /* length of its characters */
    char who[2][KLEFR_FLEET_ID]; /* its sender, and the first other one it collided with */
    /* the ring of finished ones */
    klefr_busmon_frame ring[KLEFR_BUSMON_KEEP];
    uint64_t total;
    klefr_busmon_frame view[KLEFR_BUSMON_KEEP + 1]; /* oldest first, for readers */
} mon_line;

struct klefr_busmon {
    klefr_fleet *fleet;
    mon_line *lines;
    size_t nlines;
};

/* ---- decoding ---- */

static uint8_t sum8(const uint8_t *b, size_t n)
{
    uint8_t s = 0;
    for (size_t k = 0; k < n; k++)
        s = (uint8_t)(s + b[k]);
    return s;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void decode_mbus(const uint8_t *b, size_t n, char *t, size_t size)
{
    static const char *const bauds[] = {"300", "600", "1200", "2400", "4800", "9600"};
    if (n == 1 && b[0] == 0xE5) {
        snprintf(t, size, "ACK (E5)");
        return;
    }
    const uint8_t *c;
    size_t dn = 0;
    if (n == 5 && b[0] == 0x10 && b[4] == 0x16 && b[3] == sum8(b + 1, 2)) {
        c = b + 1;
    } else if (n >= 9 && b[0] == 0x68 && b[3] == 0x68 && b[1] == b[2] && n == (size_t)b[1] + 6 &&
               b[n - 1] == 0x16 && b[n - 2] == sum8(b + 4, b[1])) {
        c = b + 4;
        dn = n - 9;
    } else {
        snprintf(t, size, "not a valid M-bus frame");
        return;
    }
    uint8_t cf = c[0], a = c[1];
    const char *what = cf == 0x40                      ? "SND_NKE"
                       : (cf & ~0x20) == 0x53          ? "SND_UD"
                       : (cf & ~0x20) == 0x5B          ? "REQ_UD2"
                       : (cf & ~0x20) == 0x08 ? "RSP_UD"
                                                       : "C?";
    int o = snprintf(t, size, "%s a=%u", what, a);
    if (n == 5 || o < 0 || (size_t)o >= size)
        return;
    uint8_t ci = c[2];
    const uint8_t *d = c + 3;
    if (ci == 0x72 && dn >= 12)
        snprintf(t + o, size - (size_t)o, " id=%08X access=%u (%zu bytes)", le32(d), d[8], dn);
    else if (ci == 0x52 && dn == 8)
        snprintf(t + o, size - (size_t)o, " select id=%08X man=%04X ver=%02X med=%02X", le32(d),
                 (unsigned)(d[5] << 8 | d[4]), d[6], d[7]);
    else if (ci == 0x51 && dn == 3 && d[0] == 0x01 && d[1] == 0x7A)
        snprintf(t + o, size - (size_t)o, " set primary address %u", d[2]);
    else if (ci == 0x51)
        snprintf(t + o, size - (size_t)o, " write (%zu bytes)", dn);
    else if (ci >= 0xB8 && ci <= 0xBD)
        snprintf(t + o, size - (size_t)o, " baud %s", bauds[ci - 0xB8]);
    else if (ci == 0x50)
        snprintf(t + o, size - (size_t)o, " application reset");
    else
        snprintf(t + o, size - (size_t)o, " ci=%02X", ci);
}

static void decode_rtu(const uint8_t *b, size_t n, char *t, size_t size)
{
    if (n < 4 || klefr_crc16_modbus(b, n) != 0) {
        snprintf(t, size, "CRC BAD (%zu bytes)", n);
        return;
    }
    uint8_t a = b[0], fc = b[1];
    unsigned r1 = n >= 4 ? (unsigned)(b[2] << 8 | b[3]) : 0;
    unsigned r2 = n >= 6 ? (unsigned)(b[4] << 8 | b[5]) : 0;
    const char *to = a == 0 ? "all" : "";
    if (fc & 0x80)
        snprintf(t, size, "id %u exception %02X to fc %02X", a, b[2], fc & 0x7F);
    else if ((fc == 3 || fc == 4) && n == 8)
        snprintf(t, size, "id %u%s read 0x%04X x%u", a, to, r1, r2);
    else if ((fc == 3 || fc == 4) && n == 5u + b[2])
        snprintf(t, size, "id %u reply %u bytes", a, b[2]);
    else if (fc == 6 && n == 8)
        snprintf(t, size, "id %u%s write 0x%04X = 0x%04X", a, to, r1, r2);
    else if (fc == 0x10 && n == 8)
        snprintf(t, size, "id %u wrote 0x%04X x%u", a, r1, r2);
    else if (fc == 0x10 && n > 9)
        snprintf(t, size, "id %u%s write 0x%04X x%u", a, to, r1, r2);
    else
        snprintf(t, size, "id %u fc %02X (%zu bytes)", a, fc, n);
}

void klefr_busmon_decode(klefr_bus bus, const uint8_t *b, size_t n, char *text, size_t size)
{
    if (bus == KLEFR_BUS_MBUS)
        decode_mbus(b, n, text, size);
    else
        decode_rtu(b, n, text, size);
}

/* ---- collecting ---- */

static void finish(mon_line *l)
{
    if (!l->open)
        return;
    klefr_busmon_frame *f = &l->cur;
    size_t n = f->n < FRAME_MAX ? f->n : FRAME_MAX;
    if (f->collided)
        snprintf(f->text, sizeof f->text, "garbled: senders at once (collision)");
    else if (f->flagged)
        snprintf(f->text, sizeof f->text, "framing/parity errors");
    else
        klefr_busmon_decode(l->bus, l->buf, n, f->text, sizeof f->text);
    l->ring[l->total % KLEFR_BUSMON_KEEP] = *f;
    l->total++;
    l->open = false;
}

static void on_char(void *arg, const klefr_line_char *c)
{
    mon_line *l = arg;
    klefr_busmon_frame *f = &l->cur;
    uint64_t len = c->t1_us - c->t0_us;
    /* Senders at once make one garbled frame ("flat-02+"), with the tails of
     * the longer replies, not a frame per character. */
    bool mine = !strcmp(l->who[0], c->sender) || !strcmp(l->who[1], c->sender);
    bool same = l->open && (mine || c->collided) && c->t0_us <= f->end_us + 2 * l->char_us;
    if (!same) {
        finish(l);
        memset(f, 0, sizeof *f);
        snprintf(f->sender, sizeof f->sender, "%s", c->sender);
        snprintf(l->who[0], sizeof l->who[0], "%s", c->sender);
        l->who[1][0] = 0;
        f->t_us = c->t0_us;
        l->open = true;
    } else if (!mine && !l->who[1][0]) {
        snprintf(l->who[1], sizeof l->who[1], "%s", c->sender);
        snprintf(f->sender, sizeof f->sender, "%.*s+", (int)sizeof f->sender - 2, l->who[0]);
    }
    if (f->n < FRAME_MAX)
        l->buf[f->n] = c->byte;
    if (f->n < KLEFR_BUSMON_BYTES)
        f->bytes[f->n] = c->byte;
    if (f->n < UINT16_MAX)
        f->n++;
    f->end_us = c->t1_us;
    f->collided |= c->collided;
    f->flagged |= c->flags != 0;
    l->char_us = len ? len : 1;
}

klefr_busmon *klefr_busmon_new(klefr_fleet *f)
{
    klefr_busmon *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->fleet = f;
    m->nlines = f->nlines;
    m->lines = calloc(f->nlines ? f->nlines : 1, sizeof *m->lines);
    if (!m->lines) {
        free(m);
        return NULL;
    }
    for (size_t k = 0; k < f->nlines; k++) {
        m->lines[k].mon = m;
        m->lines[k].bus = f->lines[k].spec->bus;
        klefr_line_set_monitor(f->lines[k].line, on_char, &m->lines[k]);
    }
    return m;
}

void klefr_busmon_free(klefr_busmon *m)
{
    if (!m)
        return;
    for (size_t k = 0; k < m->nlines; k++)
        klefr_line_set_monitor(m->fleet->lines[k].line, NULL, NULL);
    free(m->lines);
    free(m);
}

size_t klefr_busmon_frames(klefr_busmon *m, size_t line, uint64_t t_us,
                           const klefr_busmon_frame **out, uint64_t *total)
{
    mon_line *l = &m->lines[line];
    if (l->open && t_us > l->cur.end_us + 2 * l->char_us)
        finish(l); /* quiet since: it has ended */
    size_t n = l->total < KLEFR_BUSMON_KEEP ? (size_t)l->total : KLEFR_BUSMON_KEEP;
    for (size_t k = 0; k < n; k++)
        l->view[k] = l->ring[(l->total - n + k) % KLEFR_BUSMON_KEEP];
    if (l->open) { /* the one going on, so far */
        klefr_busmon_frame f = l->cur;
        snprintf(f.text, sizeof f.text, "...");
        l->view[n++] = f;
    }
    *out = l->view;
    if (total)
        *total = l->total;
    return n;
}

size_t klefr_busmon_format(const klefr_busmon_frame *f, size_t hex_bytes, char *buf, size_t size)
{
    char hex[3 * KLEFR_BUSMON_BYTES + 4] = "";
    size_t max = hex_bytes < KLEFR_BUSMON_BYTES ? hex_bytes : KLEFR_BUSMON_BYTES;
    size_t shown = f->n < max ? f->n : max, o = 0;
    for (size_t k = 0; k < shown; k++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%02X", k ? " " : "", f->bytes[k]);
    if (f->n > shown)
        snprintf(hex + o, sizeof hex - o, " ..");
    int n = snprintf(buf, size, "%llu.%06llu %-8.8s %-*s %s",
                     (unsigned long long)(f->t_us / 1000000u),
                     (unsigned long long)(f->t_us % 1000000u), f->sender, (int)(3 * max + 2), hex,
                     f->text);
    return n < 0 ? 0 : (size_t)n;
}
