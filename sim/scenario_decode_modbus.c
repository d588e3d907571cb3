/* A Modbus RTU master's view of the 6924 (manual appendix 3): its own copy
 * of the A3.2 register map (names, types, units), the read and write
 * requests of the modbus_read / modbus_write steps, and replies decoded into
 * fields: every register the read covers by name and by address ("voltage",
 * "0x5000"), exceptions, write echoes. Timeouts as libmodbus, the
 * reference master: 0.5 s to the first byte and between bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "proto/modbus_map.h"
#include "proto/modbus_rtu.h"
#include "proto/uart_time.h"
#include "scenario_serial.h"

/* ---- the map, as the manual prints it ----------------------------------------------- */

typedef enum { FLT, SGN, HEX, ASC } mtype;

typedef struct {
    uint16_t addr;
    uint8_t len, type, write_fc; /* write_fc: the write table's function, 0 read only */
    const char *name, *unit;
} mreg;

#define R(a, l, t, n, u) {a, l, t, 0, n, u}
#define W(a, l, t, fc, n, u) {a, l, t, fc, n, u}
static const mreg map[] = {
    R(0x4000, 2, HEX, "serial", ""),          R(0x4002, 1, HEX, "meter_code", ""),
    W(0x4003, 1, SGN, 6, "modbus_id", ""),    W(0x4004, 1, SGN, 6, "baud", ""),
    R(0x4005, 2, FLT, "protocol_version", ""), R(0x4007, 2, FLT, "software_version", ""),
    R(0x4009, 2, FLT, "hardware_version", ""), R(0x400B, 1, SGN, "meter_amps", "A"),
    R(0x400C, 1, HEX, "ct_ratio", "A"),       W(0x400D, 2, FLT, 16, "s0_rate", "imp/kWh"),
    W(0x400F, 1, SGN, 6, "calc_code", ""),    W(0x4010, 1, HEX, 6, "lcd_cycle_s", "s"),
    W(0x4011, 1, SGN, 6, "parity", ""),       R(0x4012, 1, ASC, "current_direction", ""),
    R(0x4013, 1, ASC, "l2_direction", ""),    R(0x4014, 1, ASC, "l3_direction", ""),
    R(0x4015, 1, SGN, "error_code", ""),      W(0x4016, 1, SGN, 6, "power_downs", ""),
    R(0x4017, 1, SGN, "quadrant", ""),        R(0x4018, 1, SGN, "l1_quadrant", ""),
    R(0x4019, 1, SGN, "l2_quadrant", ""),     R(0x401A, 1, SGN, "l3_quadrant", ""),
    R(0x401B, 2, HEX, "checksum", ""),        R(0x401D, 2, HEX, "active_status", ""),
    R(0x401F, 1, SGN, "ct_mode", "A"),

    R(0x5000, 2, FLT, "voltage", "V"),        R(0x5002, 2, FLT, "l1_voltage", "V"),
    R(0x5004, 2, FLT, "l2_voltage", "V"),     R(0x5006, 2, FLT, "l3_voltage", "V"),
    R(0x5008, 2, FLT, "frequency", "Hz"),     R(0x500A, 2, FLT, "current", "A"),
    R(0x500C, 2, FLT, "l1_current", "A"),     R(0x500E, 2, FLT, "l2_current", "A"),
    R(0x5010, 2, FLT, "l3_current", "A"),     R(0x5012, 2, FLT, "active_power_kw", "kW"),
    R(0x5014, 2, FLT, "l1_active_power", "kW"), R(0x5016, 2, FLT, "l2_active_power", "kW"),
    R(0x5018, 2, FLT, "l3_active_power", "kW"), R(0x501A, 2, FLT, "reactive_power_kvar", "kvar"),
    R(0x501C, 2, FLT, "l1_reactive_power", "kvar"), R(0x501E, 2, FLT, "l2_reactive_power", "kvar"),
    R(0x5020, 2, FLT, "l3_reactive_power", "kvar"), R(0x5022, 2, FLT, "apparent_power_kva", "kVA"),
    R(0x5024, 2, FLT, "l1_apparent_power", "kVA"), R(0x5026, 2, FLT, "l2_apparent_power", "kVA"),
    R(0x5028, 2, FLT, "l3_apparent_power", "kVA"), R(0x502A, 2, FLT, "power_factor", ""),
    R(0x502C, 2, FLT, "l1_power_factor", ""), R(0x502E, 2, FLT, "l2_power_factor", ""),
    R(0x5030, 2, FLT, "l3_power_factor", ""),

    R(0x6000, 2, FLT, "total_kwh", "kWh"),    R(0x6002, 2, FLT, "t1_total_kwh", "kWh"),
    R(0x6004, 2, FLT, "t2_total_kwh", "kWh"), R(0x6006, 2, FLT, "l1_total_kwh", "kWh"),
    R(0x6008, 2, FLT, "l2_total_kwh", "kWh"), R(0x600A, 2, FLT, "l3_total_kwh", "kWh"),
    R(0x600C, 2, FLT, "fwd_kwh", "kWh"),      R(0x600E, 2, FLT, "t1_fwd_kwh", "kWh"),
    R(0x6010, 2, FLT, "t2_fwd_kwh", "kWh"),   R(0x6012, 2, FLT, "l1_fwd_kwh", "kWh"),
    R(0x6014, 2, FLT, "l2_fwd_kwh", "kWh"),   R(0x6016, 2, FLT, "l3_fwd_kwh", "kWh"),
    R(0x6018, 2, FLT, "rev_kwh", "kWh"),      R(0x601A, 2, FLT, "t1_rev_kwh", "kWh"),
    R(0x601C, 2, FLT, "t2_rev_kwh", "kWh"),   R(0x601E, 2, FLT, "l1_rev_kwh", "kWh"),
    R(0x6020, 2, FLT, "l2_rev_kwh", "kWh"),   R(0x6022, 2, FLT, "l3_rev_kwh", "kWh"),
    R(0x6024, 2, FLT, "total_kvarh", "kvarh"), R(0x6026, 2, FLT, "t1_total_kvarh", "kvarh"),
    R(0x6028, 2, FLT, "t2_total_kvarh", "kvarh"), R(0x602A, 2, FLT, "l1_total_kvarh", "kvarh"),
    R(0x602C, 2, FLT, "l2_total_kvarh", "kvarh"), R(0x602E, 2, FLT, "l3_total_kvarh", "kvarh"),
    R(0x6030, 2, FLT, "fwd_kvarh", "kvarh"),  R(0x6032, 2, FLT, "t1_fwd_kvarh", "kvarh"),
    R(0x6034, 2, FLT, "t2_fwd_kvarh", "kvarh"), R(0x6036, 2, FLT, "l1_fwd_kvarh", "kvarh"),
    R(0x6038, 2, FLT, "l2_fwd_kvarh", "kvarh"), R(0x603A, 2, FLT, "l3_fwd_kvarh", "kvarh"),
    R(0x603C, 2, FLT, "rev_kvarh", "kvarh"),  R(0x603E, 2, FLT, "t1_rev_kvarh", "kvarh"),
    R(0x6040, 2, FLT, "t2_rev_kvarh", "kvarh"), R(0x6042, 2, FLT, "l1_rev_kvarh", "kvarh"),
    R(0x6044, 2, FLT, "l2_rev_kvarh", "kvarh"), R(0x6046, 2, FLT, "l3_rev_kvarh", "kvarh"),
    W(0x6048, 1, SGN, 6, "tariff", ""),       W(0x6049, 2, FLT, 16, "day_kwh", "kWh"),
};
#undef R
#undef W
#define NMAP (sizeof map / sizeof map[0])

static const mreg *by_addr(uint16_t a)
{
    for (size_t k = 0; k < NMAP; k++)
        if (map[k].addr == a)
            return &map[k];
    return NULL;
}

/* "voltage", "0x5000" or "5000" (hex, as the manual prints addresses). */
static const mreg *lookup(const char *name, uint16_t *addr)
{
    for (size_t k = 0; k < NMAP; k++)
        if (!strcmp(map[k].name, name)) {
            *addr = map[k].addr;
            return &map[k];
        }
    const char *h = !strncmp(name, "0x", 2) || !strncmp(name, "0X", 2) ? name + 2 : name;
    size_t n = strlen(h);
    if (n < 1 || n > 4 || strspn(h, "0123456789abcdefABCDEF") != n)
        return NULL;
    *addr = (uint16_t)strtoul(h, NULL, 16);
    return by_addr(*addr) ? by_addr(*addr) : &map[NMAP]; /* a bare address: end marker */
}

int klefr_scn_modbus_reg_find(const char *name, uint16_t *addr, int *len)
{
    const mreg *r = lookup(name, addr);
    if (!r)
        return -1;
    *len = r == &map[NMAP] ? 0 : r->len;
    return 0;
}

static const char *const type_names[] = {"float", "signed", "hex", "ascii"};

/* A register's value as a field: name and address. */
static void add_value(klefr_scn_xrec *rec, const mreg *r, const uint16_t *w)
{
    char addr[8], text[24];
    snprintf(addr, sizeof addr, "0x%04X", r->addr);
    uint32_t raw = r->len == 2 ? (uint32_t)w[0] << 16 | w[1] : w[0];
    klefr_scn_field *f = NULL;
    switch (r->type) {
    case FLT: /* a float has 7 digits */
        f = klefr_scn_field_num(rec, r->name, klefr_mb_bits_float(raw), r->unit);
        if (f)
            snprintf(f->text, sizeof f->text, "%.7g", f->num);
        break;
    case SGN:
        f = klefr_scn_field_num(rec, r->name, (int16_t)raw, r->unit);
        break;
    case HEX: { /* the digits are the value: 0x0025 = 25 */
        snprintf(text, sizeof text, "%0*X", r->len * 4, raw);
        bool digits = strspn(text, "0123456789") == strlen(text);
        f = digits ? klefr_scn_field_num(rec, r->name, strtod(text, NULL), r->unit)
                   : klefr_scn_field_text(rec, r->name, text);
        if (f)
            klefr_scn_copy_text(f->text, sizeof f->text, text);
        break;
    }
    default: /* one character code */
        snprintf(text, sizeof text, "%c", raw >= 32 && raw < 127 ? (char)raw : '?');
        f = klefr_scn_field_text(rec, r->name, raw ? text : "");
        break;
    }
    if (f) {
        bool num = f->has_num; /* copied: adding a field may move the list */
        double v = f->num;
        char same[sizeof f->text];
        klefr_scn_copy_text(same, sizeof same, f->text);
        klefr_scn_field *a = num ? klefr_scn_field_num(rec, addr, v, r->unit)
                                 : klefr_scn_field_text(rec, addr, same);
        if (a) { /* the same value by address */
            klefr_scn_copy_text(a->text, sizeof a->text, same);
            a->alias = true;
        }
    }
}

/* ---- requests --------------------------------------------------------------------- */

static int slave(const struct klefr_scn_master *m, const klefr_scn_serial *st)
{
    return st->address >= 0 ? st->address : klefr_scn_master_meter(m)->settings.modbus_id;
}

static size_t with_crc(uint8_t *b, size_t n)
{
    uint16_t c = klefr_crc16_modbus(b, n);
    b[n] = (uint8_t)c;
    b[n + 1] = (uint8_t)(c >> 8);
    return n + 2;
}

static size_t read_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                           uint8_t *out, uint64_t *delay_us)
{
    (void)delay_us;
    if (n > 0)
        return 0;
    uint8_t b[] = {(uint8_t)slave(m, st), (uint8_t)st->fc, (uint8_t)(st->reg >> 8),
                   (uint8_t)st->reg, (uint8_t)(st->count >> 8), (uint8_t)st->count};
    memcpy(out, b, sizeof b);
    return with_crc(out, sizeof b);
}

static size_t write_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                            uint8_t *out, uint64_t *delay_us)
{
    (void)delay_us;
    if (n > 0)
        return 0;
    size_t k = 0;
    out[k++] = (uint8_t)slave(m, st);
    out[k++] = (uint8_t)st->fc;
    out[k++] = (uint8_t)(st->reg >> 8);
    out[k++] = (uint8_t)st->reg;
    if (st->fc == 16) {
        out[k++] = (uint8_t)(st->count >> 8);
        out[k++] = (uint8_t)st->count;
        out[k++] = (uint8_t)(2 * st->count);
    }
    for (unsigned r = 0; r < st->count; r++) {
        out[k++] = (uint8_t)(st->regs[r] >> 8);
        out[k++] = (uint8_t)st->regs[r];
    }
    return with_crc(out, k);
}

/* ---- replies ---------------------------------------------------------------------- */

static const char *exception_name(int code)
{
    static const char *const names[] = {"", "illegal function", "illegal data address",
                                        "illegal data value", "slave device failure"};
    return code >= 1 && code <= 4 ? names[code] : "unknown exception";
}

static bool bad(klefr_scn_xrec *rec, const char *why)
{
    rec->status = KLEFR_SCN_ST_BAD;
    klefr_scn_copy_text(rec->why, sizeof rec->why, why);
    return false;
}

/* Frame checks common to every reply: CRC, address, function. Returns the
 * function code, or -1 (rec says why). */
static int frame(const uint8_t *req, const uint8_t *b, size_t n, klefr_scn_xrec *rec)
{
    if (n < 4)
        return bad(rec, "too short for a frame"), -1;
    uint16_t crc = klefr_crc16_modbus(b, n - 2);
    if (b[n - 2] != (uint8_t)crc || b[n - 1] != (uint8_t)(crc >> 8))
        return bad(rec, "CRC error"), -1;
    klefr_scn_field_num(rec, "address", b[0], "");
    klefr_scn_field_num(rec, "function", b[1] & 0x7F, "");
    if (req && b[0] != req[0])
        return bad(rec, "the reply is from another address"), -1;
    if (req && (b[1] & 0x7F) != req[1])
        return bad(rec, "the reply is for another function"), -1;
    if (b[1] & 0x80) {
        if (n != 5)
            return bad(rec, "an exception reply is 5 bytes"), -1;
        rec->status = KLEFR_SCN_ST_EXCEPTION;
        klefr_scn_field_num(rec, "exception", b[2], "");
        snprintf(rec->why, sizeof rec->why, "%02X %s", b[2], exception_name(b[2]));
        return -1;
    }
    return b[1];
}

static bool decode_read(const uint8_t *req, uint16_t reg, uint16_t count, klefr_scn_xrec *rec,
                        const klefr_scn_xchg *x)
{
    const uint8_t *b = x->rep;
    if (frame(req, b, x->nrep, rec) < 0)
        return false;
    if (x->nrep != 5u + b[2] || b[2] != 2 * count || count > KLEFR_SCN_MB_REGS)
        return bad(rec, "the byte count does not match the registers asked for");
    uint16_t w[KLEFR_SCN_MB_REGS];
    for (unsigned k = 0; k < count; k++)
        w[k] = (uint16_t)(b[3 + 2 * k] << 8 | b[4 + 2 * k]);
    for (unsigned k = 0; k < count;) {
        const mreg *r = by_addr((uint16_t)(reg + k));
        if (r && k + r->len <= count) {
            add_value(rec, r, &w[k]);
            k += r->len;
            continue;
        }
        char addr[8]; /* not a whole row: the raw word */
        snprintf(addr, sizeof addr, "0x%04X", reg + k);
        klefr_scn_field_num(rec, addr, w[k], "");
        k++;
    }
    rec->status = KLEFR_SCN_ST_OK;
    return true;
}

static bool decode_write(const uint8_t *req, size_t nreq, klefr_scn_xrec *rec,
                         const klefr_scn_xchg *x)
{
    const uint8_t *b = x->rep;
    int fc = frame(req, b, x->nrep, rec);
    if (fc < 0)
        return false;
    if (x->nrep != 8)
        return bad(rec, "a write reply is 8 bytes");
    klefr_scn_field *f = klefr_scn_field_num(rec, "register", b[2] << 8 | b[3], "");
    if (f)
        snprintf(f->text, sizeof f->text, "0x%04X", b[2] << 8 | b[3]);
    klefr_scn_field_num(rec, fc == 16 ? "count" : "value", b[4] << 8 | b[5], "");
    if (fc == 6 && (nreq != 8 || memcmp(req, b, 8) != 0))
        return bad(rec, "the echo differs from the request");
    if (fc == 16 && memcmp(req, b, 6) != 0)
        return bad(rec, "the reply names another register or count");
    rec->status = KLEFR_SCN_ST_OK;
    return true;
}

static bool read_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                        klefr_scn_xrec *rec)
{
    (void)m, (void)n;
    const klefr_scn_xchg *x = &rec->x[rec->nx - 1];
    return decode_read(x->req, st->reg, st->count, rec, x);
}

static bool write_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                         klefr_scn_xrec *rec)
{
    (void)m, (void)st, (void)n;
    const klefr_scn_xchg *x = &rec->x[rec->nx - 1];
    return decode_write(x->req, x->nreq, rec, x);
}

bool klefr_scn_modbus_decode_any(const uint8_t *req, size_t nreq, klefr_scn_xrec *rec,
                                 klefr_scn_xchg *x)
{
    bool known = nreq >= 8 && klefr_crc16_modbus(req, nreq) == 0; /* a whole frame */
    if (known && (req[1] == 3 || req[1] == 4) && nreq == 8)
        return decode_read(req, (uint16_t)(req[2] << 8 | req[3]), (uint16_t)(req[4] << 8 | req[5]),
                           rec, x);
    if (known && (req[1] == 6 || req[1] == 16))
        return decode_write(req, nreq, rec, x);
    if (frame(known ? req : NULL, x->rep, x->nrep, rec) < 0)
        return false;
    rec->status = KLEFR_SCN_ST_OK;
    return true;
}

/* The reply's length is known from its function code (as libmodbus reads it). */
static bool complete(const uint8_t *b, size_t n)
{
    if (n < 2)
        return false;
    if (b[1] & 0x80)
        return n >= 5;
    if (b[1] >= 1 && b[1] <= 4)
        return n >= 3 && n >= 5u + b[2];
    if (b[1] == 5 || b[1] == 6 || b[1] == 15 || b[1] == 16)
        return n >= 8;
    return false;
}

static uint64_t libmodbus_timeout(const klefr_uart_cfg *f)
{
    (void)f;
    return 500000u;
}

/* The slave keeps t3.5 of silence before it answers (Modbus over serial
 * line 2.5.1.1); characters of a frame at most t1.5 apart; no upper bound
 * but the master's patience. Fixed 1.75 ms / 750 us above 19200 baud. */
static void limits(const struct klefr_scn_master *m, const klefr_uart_cfg *f, uint64_t *min_us,
                   uint64_t *max_us, uint64_t *gap_us)
{
    (void)m;
    uint32_t c = klefr_uart_char_us(f);
    *min_us = f->baud > 19200 ? 1750u : (c * 7u + 1) / 2;
    *gap_us = f->baud > 19200 ? 750u : (c * 3u + 1) / 2;
    *max_us = libmodbus_timeout(f);
}

const klefr_scn_proto klefr_scn_modbus = {"modbus", false, libmodbus_timeout, libmodbus_timeout, complete,
                                          limits};

/* ---- the step kinds ----------------------------------------------------------------- */

const char *const klefr_scn_f_modbus_read[] = {KLEFR_SCN_STEP_KEYS, "register", "count",
                                               "function", "address", NULL};
const char *const klefr_scn_f_modbus_write[] = {KLEFR_SCN_STEP_KEYS, "register", "value",
                                                "registers", "function", "address", NULL};

static int parse_common(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st,
                        const mreg **row)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "register");
    double x;
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "needs a \"register\": a name (\"voltage\") or "
                                                "an address (\"0x5000\")");
    if (!cJSON_IsString(f) || !(*row = lookup(f->valuestring, &st->reg)))
        return klefr_scn_fail(c, f, path, "register",
                              "unknown register %s%s%s (a name of the manual's map, A3.2, as in "
                              "docs/scenarios.md, or an address like \"0x5000\")",
                              cJSON_IsString(f) ? "\"" : "",
                              cJSON_IsString(f) ? f->valuestring : "(not a string)",
                              cJSON_IsString(f) ? "\"" : "");
    if (*row == &map[NMAP])
        *row = NULL;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "address"))) {
        if (klefr_scn_whole(c, f, path, "address", 0, 247, &x) < 0)
            return -1;
        st->address = (int)x;
    }
    return 0;
}

static int read_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const mreg *row;
    const cJSON *f;
    double x;
    if (parse_common(c, o, path, st, &row) < 0)
        return -1;
    st->count = row ? row->len : 1;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "count"))) {
        if (klefr_scn_whole(c, f, path, "count", 1, KLEFR_SCN_MB_REGS, &x) < 0)
            return -1;
        st->count = (uint16_t)x;
    }
    st->fc = 3;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "function"))) {
        if (!cJSON_IsNumber(f) || (f->valuedouble != 3 && f->valuedouble != 4))
            return klefr_scn_fail(c, f, path, "function", "must be 3 or 4");
        st->fc = f->valueint;
    }
    return 0;
}

/* A value in a row's type: float, 16-bit integer, BCD digits, a character. */
static int encode(klefr_scn_pctx *c, const cJSON *f, const char *path, const mreg *row,
                  klefr_scn_serial *st)
{
    double v = f->valuedouble;
    st->count = row->len;
    if (row->type == ASC) {
        if (!cJSON_IsString(f) || strlen(f->valuestring) != 1)
            return klefr_scn_fail(c, f, path, "value", "%s is ASCII: one character", row->name);
        st->regs[0] = (uint8_t)f->valuestring[0];
        return 0;
    }
    if (!cJSON_IsNumber(f))
        return klefr_scn_fail(c, f, path, "value", "must be a number");
    if (row->type == FLT) {
        uint32_t bits = klefr_mb_float_bits((float)v);
        st->regs[0] = (uint16_t)(bits >> 16);
        st->regs[1] = (uint16_t)bits;
        return 0;
    }
    double top = row->type == HEX ? (row->len == 2 ? 99999999 : 9999) : 65535;
    if (v != floor(v) || v < (row->type == SGN ? -32768 : 0) || v > top)
        return klefr_scn_fail(c, f, path, "value", "%s (%s) takes whole numbers %s..%.0f",
                              row->name, type_names[row->type], row->type == SGN ? "-32768" : "0",
                              top);
    uint32_t raw = (uint32_t)(int32_t)v;
    if (row->type == HEX) { /* the digits as nibbles */
        char digits[12];
        snprintf(digits, sizeof digits, "%.0f", v);
        raw = (uint32_t)strtoul(digits, NULL, 16);
    }
    if (row->len == 2)
        st->regs[0] = (uint16_t)(raw >> 16), st->regs[1] = (uint16_t)raw;
    else
        st->regs[0] = (uint16_t)raw;
    return 0;
}

static int write_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const mreg *row;
    if (parse_common(c, o, path, st, &row) < 0)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *regs = cJSON_GetObjectItemCaseSensitive(o, "registers");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "function");
    if (!v == !regs)
        return klefr_scn_fail(c, o, path, NULL, "give \"value\" (in the register's type) or "
                                                "\"registers\" (raw 16-bit words)");
    if (v && !row)
        return klefr_scn_fail(c, v, path, "value", "register 0x%04X is not in the manual's map: "
                                                   "give \"registers\" (raw words)", st->reg);
    if (v && encode(c, v, path, row, st) < 0)
        return -1;
    if (regs) {
        int n = cJSON_IsArray(regs) ? cJSON_GetArraySize(regs) : 0;
        if (n < 1 || n > 123)
            return klefr_scn_fail(c, regs, path, "registers", "must be a list of 1 to 123 words");
        const cJSON *w;
        st->count = 0;
        cJSON_ArrayForEach(w, regs)
        {
            if (!cJSON_IsNumber(w) || w->valuedouble < 0 || w->valuedouble > 65535 ||
                w->valuedouble != floor(w->valuedouble))
                return klefr_scn_fail(c, w, path, "registers", "words are 0..65535");
            st->regs[st->count++] = (uint16_t)w->valueint;
        }
    }
    st->fc = row && row->write_fc ? row->write_fc : st->count == 1 ? 6 : 16;
    if (f) {
        if (!cJSON_IsNumber(f) || (f->valuedouble != 6 && f->valuedouble != 16))
            return klefr_scn_fail(c, f, path, "function", "must be 6 or 16");
        st->fc = f->valueint;
    }
    if (st->fc == 6 && st->count != 1)
        return klefr_scn_fail(c, f ? f : o, path, "function",
                              "function 6 writes one register (this is %u)", st->count);
    return 0;
}

static bool generic_field(const char *name)
{
    static const char *const names[] = {"status", "exception", "address", "function", NULL};
    for (int k = 0; names[k]; k++)
        if (!strcmp(name, names[k]))
            return true;
    return false;
}

static bool read_has_field(const klefr_scn_serial *st, const char *name)
{
    uint16_t a;
    const mreg *r = lookup(name, &a);
    if (generic_field(name))
        return true;
    if (!r || a < st->reg || a >= st->reg + st->count)
        return false;
    return r == &map[NMAP] || a + r->len <= st->reg + st->count;
}

static bool write_has_field(const klefr_scn_serial *st, const char *name)
{
    return generic_field(name) || !strcmp(name, "register") ||
           !strcmp(name, st->fc == 16 ? "count" : "value");
}

static uint64_t span(const klefr_scn_serial *st)
{
    return klefr_scn_span(st, 16u + 2u * st->count, 1);
}

const klefr_scn_op klefr_scn_op_modbus_read = {"modbus_read", &klefr_scn_modbus, read_parse,
                                               read_request, read_decode, read_has_field, span};
const klefr_scn_op klefr_scn_op_modbus_write = {"modbus_write", &klefr_scn_modbus, write_parse,
                                                write_request, write_decode, write_has_field, span};
