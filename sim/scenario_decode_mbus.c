/* An M-bus master's view (EN 13757-2/-3, the 6923's appendix 2): the frames
 * of the mbus_* steps (SND_NKE, REQ_UD2 with an alternating FCB, selection
 * by secondary address with wildcards, the A2.2 writes) and replies decoded:
 * E5, and RSP_UD's header and data records (DIF/DIFE/VIF -> value, unit,
 * tariff, function). Waits like libmbus, the reference master: 3 x its
 * VTIME for the baud (0.6 s at 9600, 3.9 s at 300) to the first byte and
 * between bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "proto/mbus.h"
#include "proto/uart_time.h"
#include "scenario_serial.h"

/* ---- frames ------------------------------------------------------------------------ */

static size_t short_frame(uint8_t *out, uint8_t c, uint8_t a)
{
    out[0] = 0x10;
    out[1] = c;
    out[2] = a;
    out[3] = (uint8_t)(c + a);
    out[4] = 0x16;
    return 5;
}

static size_t long_frame(uint8_t *out, uint8_t c, uint8_t a, uint8_t ci, const uint8_t *d,
                         size_t n)
{
    out[0] = out[3] = 0x68;
    out[1] = out[2] = (uint8_t)(n + 3);
    out[4] = c;
    out[5] = a;
    out[6] = ci;
    memcpy(out + 7, d, n);
    out[7 + n] = klefr_mbus_cs(out + 4, n + 3);
    out[8 + n] = 0x16;
    return n + 9;
}

static uint8_t primary(const struct klefr_scn_master *m, const klefr_scn_serial *st)
{
    return (uint8_t)(st->address >= 0 ? st->address : klefr_scn_master_meter(m)->settings.mbus_id);
}

/* ---- replies ------------------------------------------------------------------------ */

static bool bad(klefr_scn_xrec *rec, const char *why)
{
    rec->status = KLEFR_SCN_ST_BAD;
    klefr_scn_copy_text(rec->why, sizeof rec->why, why);
    return false;
}

/* Little-endian BCD digits; a most significant nibble F is a minus sign. */
static double bcd(const uint8_t *d, size_t n, bool *ok)
{
    double v = 0;
    bool neg = (d[n - 1] >> 4) == 0xF;
    for (size_t k = n; k-- > 0;) {
        int hi = d[k] >> 4, lo = d[k] & 0xF;
        if (k == n - 1 && neg)
            hi = 0;
        if (hi > 9 || lo > 9)
            *ok = false;
        v = v * 100 + hi * 10 + lo;
    }
    return neg ? -v : v;
}

static double integer(const uint8_t *d, size_t n)
{
    if (n == 0)
        return 0;
    uint64_t u = 0;
    for (size_t k = n; k-- > 0;)
        u = u << 8 | d[k];
    if (n < 8 && (u >> (8 * n - 1)) & 1) /* two's complement */
        u |= ~0ull << (8 * n);
    return (double)(int64_t)u;
}

static double real32(const uint8_t *d)
{
    uint32_t u = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The unit and scale of a primary VIF (and the VIFE after FD). */
static double unit_of(uint8_t vif, uint8_t vife, char *unit, size_t n)
{
    uint8_t v = vif & 0x7F;
    if (v <= 0x07) { /* energy 10^(n-3) Wh, reported in kWh */
        snprintf(unit, n, "kWh");
        return pow(10, v - 3) / 1000;
    }
    if (v >= 0x08 && v <= 0x0F) {
        snprintf(unit, n, "J");
        return pow(10, v - 8);
    }
    if (v >= 0x28 && v <= 0x2F) {
        snprintf(unit, n, "kW");
        return pow(10, v - 0x28 - 3) / 1000;
    }
    if (vif == 0xFD) {
        uint8_t e = vife & 0x7F;
        if (e >= 0x48 && e <= 0x4F)
            return snprintf(unit, n, "V"), pow(10, e - 0x48 - 9);
        if (e >= 0x50 && e <= 0x57)
            return snprintf(unit, n, "A"), pow(10, e - 0x50 - 12);
        snprintf(unit, n, e == 0x3A ? "" : "VIFE FD %02X", e);
        return 1;
    }
    snprintf(unit, n, "VIF %02X", vif);
    return 1;
}

/* The manual's A2.2 blocks by DIF function and tariff: total, forward, reverse. */
static const char *const block_names[3][3] = {
    {"total_kwh", "t1_total_kwh", "t2_total_kwh"},
    {"fwd_kwh", "t1_fwd_kwh", "t2_fwd_kwh"},
    {"rev_kwh", "t1_rev_kwh", "t2_rev_kwh"},
};

static void hide(klefr_scn_field *f, bool alias)
{
    if (f)
        f->alias = alias;
}

static const char *const functions[] = {"instantaneous", "maximum", "minimum", "error"};

/* Data records after the CI 72 header; false when one is malformed. */
static bool records(const uint8_t *d, size_t n, klefr_scn_xrec *rec)
{
    static const int lens[16] = {0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -1};
    size_t k = 0;
    int idx = 0;
    while (k < n) {
        uint8_t dif = d[k++];
        if (dif == 0x0F || dif == 0x1F) /* manufacturer data, or more records follow */
            break;
        if (dif == 0x2F) /* idle filler */
            continue;
        int storage = (dif >> 6) & 1, tariff = 0, len = lens[dif & 0xF];
        for (int e = 0; (d[k - 1] & 0x80) && k < n && e < 10; e++) {
            uint8_t dife = d[k++];
            if (e < 7) /* what fits an int; no real meter sends more */
                storage |= (dife & 0xF) << (1 + 4 * e);
            tariff |= ((dife >> 4) & 3) << (2 * e);
        }
        if (k >= n)
            return false;
        uint8_t vif = d[k++], vife = 0;
        if ((vif & 0x7F) == 0x7C) { /* plain text unit: length and reversed characters */
            if (k >= n || k + 1 + d[k] > n)
                return false;
            k += 1u + d[k];
        }
        if (vif & 0x80) {
            if (k >= n)
                return false;
            vife = d[k];
            while (k < n && (d[k++] & 0x80))
                ;
        }
        if (len < 0 || k + (size_t)len > n)
            return false;
        bool ok = true;
        double raw = (dif & 0xF) >= 9   ? bcd(d + k, (size_t)len, &ok)
                     : (dif & 0xF) == 5 ? real32(d + k)
                                        : integer(d + k, (size_t)len);
        if (!ok)
            return false;
        k += (size_t)len;
        char unit[16], name[40];
        double v = raw * unit_of(vif, vife, unit, sizeof unit);
        int fn = (dif >> 4) & 3;
        bool named = (vif & 0x7F) <= 0x07 && storage == 0 && fn < 3 && tariff < 3;
        /* each field as it is added (the list may move): the parts are
         * traced and reported through the value, a named block by its name */
        snprintf(name, sizeof name, "record.%d", idx);
        hide(klefr_scn_field_num(rec, name, v, unit), named);
        snprintf(name, sizeof name, "record.%d.unit", idx);
        hide(klefr_scn_field_text(rec, name, unit), true);
        snprintf(name, sizeof name, "record.%d.tariff", idx);
        hide(klefr_scn_field_num(rec, name, tariff, ""), true);
        snprintf(name, sizeof name, "record.%d.storage", idx);
        hide(klefr_scn_field_num(rec, name, storage, ""), true);
        snprintf(name, sizeof name, "record.%d.function", idx);
        hide(klefr_scn_field_text(rec, name, functions[fn]), true);
        if (named) /* the manual's A2.2 block */
            klefr_scn_field_num(rec, block_names[fn][tariff], v, "kWh");
        idx++;
    }
    klefr_scn_field_num(rec, "records", idx, "");
    return true;
}

static void hex_field(klefr_scn_xrec *rec, const char *name, uint8_t v)
{
    klefr_scn_field *f = klefr_scn_field_num(rec, name, v, "");
    if (f)
        snprintf(f->text, sizeof f->text, "%02X", v);
}

static bool decode_reply(klefr_scn_xrec *rec, const klefr_scn_xchg *x)
{
    const uint8_t *b = x->rep;
    size_t n = x->nrep;
    if (n == 1 && b[0] == 0xE5) {
        rec->status = KLEFR_SCN_ST_ACK;
        return true;
    }
    if (b[0] == 0xE5)
        return bad(rec, "more bytes after E5 (a collision, as libmbus reads it)");
    if (b[0] == 0x10) {
        if (n != 5 || b[4] != 0x16 || b[3] != (uint8_t)(b[1] + b[2]))
            return bad(rec, "a bad short frame");
        hex_field(rec, "c", b[1]);
        klefr_scn_field_num(rec, "address", b[2], "");
        rec->status = KLEFR_SCN_ST_OK;
        return true;
    }
    if (b[0] != 0x68 || n < 9 || b[3] != 0x68 || b[1] != b[2] || n != b[1] + 6u)
        return bad(rec, "not an M-bus frame");
    if (b[n - 1] != 0x16 || b[n - 2] != klefr_mbus_cs(b + 4, b[1]))
        return bad(rec, "checksum or stop byte wrong");
    hex_field(rec, "c", b[4]);
    klefr_scn_field_num(rec, "address", b[5], "");
    hex_field(rec, "ci", b[6]);
    if ((b[4] & 0x4F) != 0x08)
        return bad(rec, "not an RSP_UD (C field)");
    if (b[6] != 0x72)
        return bad(rec, "not a variable data structure (CI 72)");
    const uint8_t *h = b + 7;
    size_t ud = b[1] - 3u;
    if (ud < 12)
        return bad(rec, "the RSP_UD header is cut off");
    char id[16], man[4];
    snprintf(id, sizeof id, "%02X%02X%02X%02X", h[3], h[2], h[1], h[0]); /* BCD, LSB first */
    bool ok = strspn(id, "0123456789") == 8;
    klefr_scn_field *f = klefr_scn_field_num(rec, "id", strtod(id, NULL), "");
    if (f) { /* the 8 digits as sent; a number when they are digits */
        klefr_scn_copy_text(f->text, sizeof f->text, id);
        f->has_num = ok;
    }
    uint16_t code = (uint16_t)(h[4] | h[5] << 8);
    man[0] = (char)(((code >> 10) & 0x1F) + 64);
    man[1] = (char)(((code >> 5) & 0x1F) + 64);
    man[2] = (char)((code & 0x1F) + 64);
    man[3] = 0;
    klefr_scn_field_text(rec, "manufacturer", man);
    klefr_scn_field_num(rec, "version", h[6], "");
    klefr_scn_field_num(rec, "medium", h[7], "");
    klefr_scn_field_num(rec, "access", h[8], "");
    klefr_scn_field_num(rec, "meter_status", h[9], "");
    klefr_scn_field_num(rec, "signature", h[10] | h[11] << 8, "");
    if (!records(h + 12, ud - 12, rec))
        return bad(rec, "a data record is malformed");
    rec->status = KLEFR_SCN_ST_OK;
    return true;
}

bool klefr_scn_mbus_decode_any(klefr_scn_xrec *rec, const klefr_scn_xchg *x)
{
    return decode_reply(rec, x);
}

static bool complete(const uint8_t *b, size_t n)
{
    if (n >= 1 && b[0] == 0xE5)
        return true;
    if (n >= 1 && b[0] == 0x10)
        return n >= 5;
    if (n >= 4 && b[0] == 0x68)
        return n >= b[1] + 6u;
    return false;
}

/* libmbus: VTIME per baud (mbus-serial.c), and three of them in a row. */
static uint64_t libmbus_timeout(const klefr_uart_cfg *f)
{
    uint32_t vtime = f->baud <= 300 ? 13 : f->baud <= 600 ? 8 : f->baud <= 1200 ? 5
                     : f->baud <= 4800 ? 3 : 2;
    return 3u * vtime * 100000u;
}

/* EN 13757-2: the slave answers after 11 bit times and within 330 bit times
 * + 50 ms; inside a frame no idle longer than 33 bit times (IEC 870-5-1's
 * line idle that ends a frame, as the meter's receiver uses it). */
static void limits(const struct klefr_scn_master *m, const klefr_uart_cfg *f, uint64_t *min_us,
                   uint64_t *max_us, uint64_t *gap_us)
{
    (void)m;
    *min_us = klefr_uart_bits_us(f, 11);
    *max_us = klefr_uart_bits_us(f, 330) + 50000u;
    *gap_us = klefr_uart_bits_us(f, 33);
}

const klefr_scn_proto klefr_scn_mbus = {"mbus", false, libmbus_timeout, libmbus_timeout, complete, limits};

/* ---- the step kinds -------------------------------------------------------------------- */

const char *const klefr_scn_f_mbus_req_ud2[] = {KLEFR_SCN_STEP_KEYS, "address", "fcb", NULL};
const char *const klefr_scn_f_mbus_snd_nke[] = {KLEFR_SCN_STEP_KEYS, "address", NULL};
const char *const klefr_scn_f_mbus_select[] = {KLEFR_SCN_STEP_KEYS, "id", "manufacturer",
                                               "version", "medium", NULL};
const char *const klefr_scn_f_mbus_write[] = {KLEFR_SCN_STEP_KEYS, "address", "set", "value",
                                              NULL};

static int parse_address(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "address");
    double x;
    if (!f)
        return 0;
    if (klefr_scn_whole(c, f, path, "address", 0, 255, &x) < 0)
        return -1;
    st->address = (int)x;
    return 0;
}

static int req_ud2_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fcb");
    bool fcb;
    if (f) {
        if (klefr_scn_bool(c, f, path, "fcb", &fcb) < 0)
            return -1;
        st->sel = fcb;
    }
    return parse_address(c, o, path, st);
}

static size_t req_ud2_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                              uint8_t *out, uint64_t *delay_us)
{
    (void)delay_us;
    if (n > 0)
        return 0;
    bool fcb = st->sel >= 0 ? st->sel != 0 : *klefr_scn_master_fcb(m);
    return short_frame(out, fcb ? 0x7B : 0x5B, primary(m, st));
}

static bool req_ud2_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                           klefr_scn_xrec *rec)
{
    (void)n;
    const klefr_scn_xchg *x = &rec->x[rec->nx - 1];
    bool ok = decode_reply(rec, x);
    if (ok && rec->status == KLEFR_SCN_ST_OK && st->sel < 0) /* a good exchange: next FCB */
        *klefr_scn_master_fcb(m) = !(x->req[1] & 0x20);
    return ok;
}

static size_t snd_nke_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                              uint8_t *out, uint64_t *delay_us)
{
    (void)delay_us;
    if (n > 0)
        return 0;
    *klefr_scn_master_fcb(m) = true; /* a new link: the next REQ_UD2 starts with FCB 1 */
    return short_frame(out, 0x40, primary(m, st));
}

static bool reply_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                         klefr_scn_xrec *rec)
{
    (void)m, (void)st, (void)n;
    return decode_reply(rec, &rec->x[rec->nx - 1]);
}

static int select_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *f;
    memset(st->raw, 0xFF, 8); /* wildcards everywhere */
    st->nraw = 8;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "id"))) {
        const char *id = cJSON_IsString(f) ? f->valuestring : "";
        if (strlen(id) != 8 || strspn(id, "0123456789Ff") != 8)
            return klefr_scn_fail(c, f, path, "id", "must be 8 digits, F for a wildcard digit "
                                                    "(\"1706FFFF\")");
        for (int k = 0; k < 4; k++) { /* LSB first: the last two digits first */
            const char *p = id + 6 - 2 * k;
            int hi = p[0] == 'F' || p[0] == 'f' ? 0xF : p[0] - '0';
            int lo = p[1] == 'F' || p[1] == 'f' ? 0xF : p[1] - '0';
            st->raw[k] = (uint8_t)(hi << 4 | lo);
        }
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "manufacturer"))) {
        const char *s = cJSON_IsString(f) ? f->valuestring : "";
        if (strlen(s) != 3 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
            return klefr_scn_fail(c, f, path, "manufacturer",
                                  "must be three capital letters (\"INM\"); leave it out for "
                                  "a wildcard");
        uint16_t code = (uint16_t)((s[0] - 64) << 10 | (s[1] - 64) << 5 | (s[2] - 64));
        st->raw[4] = (uint8_t)code; /* LSB first */
        st->raw[5] = (uint8_t)(code >> 8);
    }
    static const char *const bytes[] = {"version", "medium"};
    for (int k = 0; k < 2; k++)
        if ((f = cJSON_GetObjectItemCaseSensitive(o, bytes[k]))) {
            double x;
            if (klefr_scn_whole(c, f, path, bytes[k], 0, 255, &x) < 0)
                return -1;
            st->raw[6 + k] = (uint8_t)x;
        }
    return 0;
}

static size_t select_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                             uint8_t *out, uint64_t *delay_us)
{
    (void)m, (void)delay_us;
    return n > 0 ? 0 : long_frame(out, 0x53, KLEFR_MBUS_ADDR_SELECTED, 0x52, st->raw, st->nraw);
}

/* The A2.2 writes: the record (DIF VIF...) or the CI of each. */
static const struct {
    const char *name;
    uint8_t ci;
    uint8_t head[5], nhead;
    uint8_t nvalue; /* BCD/binary bytes of the value after head */
    bool binary;
} writes[] = {
    {"primary_address", 0x51, {0x01, 0x7A}, 2, 1, true},
    {"secondary_address", 0x51, {0x0C, 0x79}, 2, 4, false},
    {"tariff", 0x51, {0x09, 0x7C, 0x01, 0x54}, 4, 1, false},
    {"calc_code", 0x51, {0x09, 0xFD, 0x3A}, 3, 1, false},
    {"s0_rate", 0x51, {0x0C, 0xFD, 0x3A}, 3, 4, false}, /* imp/kWh x 100 */
    {"day_reset", 0x51, {0x0C, 0x04}, 2, 4, false},
    {"power_downs_reset", 0x51, {0x0A, 0xFD, 0x60}, 3, 2, false},
    {"baud", 0xB8, {0}, 0, 0, false}, /* CI B8..BD: 300..9600 */
    {"app_reset", 0x50, {0}, 0, 0, false},
};
#define NWRITES (sizeof writes / sizeof writes[0])

static int write_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const char *names[NWRITES + 1];
    int k;
    for (size_t j = 0; j < NWRITES; j++)
        names[j] = writes[j].name;
    names[NWRITES] = NULL;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "set");
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "mbus_write needs \"set\" (what to write)");
    if (klefr_scn_enum(c, f, path, "set", names, &k) < 0 || parse_address(c, o, path, st) < 0)
        return -1;
    st->sel = k;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    bool needs = writes[k].nvalue > 0 && strstr(writes[k].name, "reset") == NULL;
    if (!strcmp(writes[k].name, "baud"))
        needs = true;
    if (needs && !v)
        return klefr_scn_fail(c, o, path, NULL, "writing %s needs a \"value\"", writes[k].name);
    if (!needs && v)
        return klefr_scn_fail(c, v, path, "value", "%s takes no value", writes[k].name);
    st->raw[0] = writes[k].ci;
    memcpy(st->raw + 1, writes[k].head, writes[k].nhead);
    st->nraw = 1u + writes[k].nhead;
    double x = 0;
    if (!strcmp(writes[k].name, "secondary_address")) {
        const char *s = cJSON_IsString(v) ? v->valuestring : "";
        if (strlen(s) != 8 || strspn(s, "0123456789") != 8)
            return klefr_scn_fail(c, v, path, "value", "a secondary address is 8 digits, a "
                                                       "string (\"12345678\")");
        x = strtod(s, NULL);
    } else if (v) {
        if (klefr_scn_number(c, v, path, "value", 0, 99999999, &x) < 0)
            return -1;
        if (!strcmp(writes[k].name, "s0_rate"))
            x = round(x * 100); /* in imp/kWh x 100 */
        if (x != floor(x))
            return klefr_scn_fail(c, v, path, "value", "must be a whole number");
    }
    if (!strcmp(writes[k].name, "baud")) {
        static const uint32_t bauds[] = {300, 600, 1200, 2400, 4800, 9600, 19200, 38400};
        int b = -1;
        for (int j = 0; j < 8; j++)
            if (x == bauds[j])
                b = j;
        if (b < 0)
            return klefr_scn_fail(c, v, path, "value", "must be 300, 600, 1200, 2400, 4800, "
                                                       "9600 (or 19200, 38400: CI BE, BF)");
        st->raw[0] = (uint8_t)(0xB8 + b);
        return 0;
    }
    uint64_t u = (uint64_t)x;
    if (writes[k].binary) {
        if (u > 255)
            return klefr_scn_fail(c, v, path, "value", "must be 0..255");
        st->raw[st->nraw++] = (uint8_t)u;
        return 0;
    }
    uint64_t top = 1;
    for (int j = 0; j < 2 * writes[k].nvalue; j++)
        top *= 10;
    if (u >= top)
        return klefr_scn_fail(c, v, path, "value", "has more than %d digits",
                              2 * writes[k].nvalue);
    for (int j = 0; j < writes[k].nvalue; j++, u /= 100) /* BCD, LSB first */
        st->raw[st->nraw++] = (uint8_t)((u % 100 / 10) << 4 | (u % 10));
    return 0;
}

static size_t write_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                            uint8_t *out, uint64_t *delay_us)
{
    (void)delay_us;
    if (n > 0)
        return 0;
    return long_frame(out, 0x53, primary(m, st), st->raw[0], st->raw + 1, st->nraw - 1);
}

static bool header_field(const char *name)
{
    static const char *const names[] = {"status", "c", "address", "ci", "id", "manufacturer",
                                        "version", "medium", "access", "meter_status",
                                        "signature", "records", NULL};
    for (int k = 0; names[k]; k++)
        if (!strcmp(name, names[k]))
            return true;
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            if (!strcmp(name, block_names[f][t]))
                return true;
    return !strncmp(name, "record.", 7) && name[7] >= '0' && name[7] <= '9';
}

static bool ack_field(const klefr_scn_serial *st, const char *name)
{
    (void)st;
    return !strcmp(name, "status");
}

static bool rsp_field(const klefr_scn_serial *st, const char *name)
{
    (void)st;
    return header_field(name);
}

static uint64_t span(const klefr_scn_serial *st)
{
    return klefr_scn_span(st, 300, 1);
}

const klefr_scn_op klefr_scn_op_mbus_req_ud2 = {"mbus_req_ud2", &klefr_scn_mbus, req_ud2_parse,
                                                req_ud2_request, req_ud2_decode, rsp_field, span};
const klefr_scn_op klefr_scn_op_mbus_snd_nke = {"mbus_snd_nke", &klefr_scn_mbus, parse_address,
                                                snd_nke_request, reply_decode, ack_field, span};
const klefr_scn_op klefr_scn_op_mbus_select = {"mbus_select", &klefr_scn_mbus, select_parse,
                                               select_request, reply_decode, ack_field, span};
const klefr_scn_op klefr_scn_op_mbus_write = {"mbus_write", &klefr_scn_mbus, write_parse,
                                              write_request, reply_decode, ack_field, span};
