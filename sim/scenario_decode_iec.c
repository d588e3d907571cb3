/* An IEC 62056-21 master's view of the optical port (mode C, manual 5.3 and
 * appendix 4): sign-on and identification at 300 baud 7E1, the option
 * select and the baud changeover, the data readout (data lines "code(value*unit)"
 * with their BCC), programming mode (P0, P1 with the password, R1, W1, B0),
 * and replies decoded: ACK, NAK, (ERROR), the value of every data line.
 * The master waits 1500 ms for a reply and between characters (the
 * standard's longest reaction time and character gap), and itself answers
 * after the standard's shortest reaction time (200 ms) within a step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "proto/iec62056.h"
#include "proto/uart_time.h"
#include "scenario_serial.h"

#define MASTER_TR_US 200000u /* the master's own reaction time inside a step */

/* ---- messages ----------------------------------------------------------------------- */

/* SOH cmd [STX data] ETX BCC */
static size_t command(uint8_t *out, const char *cmd, const char *data)
{
    size_t n = 0;
    out[n++] = KLEFR_IEC_SOH;
    memcpy(out + n, cmd, 2);
    n += 2;
    if (data) {
        size_t len = strlen(data);
        out[n++] = KLEFR_IEC_STX;
        memcpy(out + n, data, len);
        n += len;
    }
    out[n++] = KLEFR_IEC_ETX;
    out[n] = klefr_iec_bcc(out + 1, n - 1);
    return n + 1;
}

static size_t sign_on(struct klefr_scn_master *m, const klefr_scn_serial *st, uint8_t *out)
{
    klefr_scn_master_ident(m)[0] = 0; /* a new session */
    return (size_t)snprintf((char *)out, KLEFR_SCN_REQ_MAX, "/?%s!\r\n", st->code);
}

static char z_of(uint32_t baud)
{
    for (char z = '0'; z <= '6'; z++)
        if (klefr_iec_baud_of(z) == baud)
            return z;
    return '?';
}

/* ACK 0 Z Y CR LF, then the new baud once it is out. */
static size_t option_select(struct klefr_scn_master *m, const klefr_scn_serial *st, char y,
                            uint8_t *out)
{
    const char *ident = klefr_scn_master_ident(m);
    char z = st->session_baud ? z_of(st->session_baud) : strlen(ident) > 3 ? ident[3] : '0';
    uint32_t baud = klefr_iec_baud_of(z);
    out[0] = KLEFR_IEC_ACK;
    out[1] = '0';
    out[2] = (uint8_t)z;
    out[3] = (uint8_t)y;
    out[4] = '\r';
    out[5] = '\n';
    if (baud)
        klefr_scn_master_switch(m, baud);
    return 6;
}

/* ---- replies ------------------------------------------------------------------------- */

static bool bad(klefr_scn_xrec *rec, const char *why)
{
    rec->status = KLEFR_SCN_ST_BAD;
    klefr_scn_copy_text(rec->why, sizeof rec->why, why);
    return false;
}

/* "code(value*unit)": a field named by the code (and "value" when asked). */
static void data_line(klefr_scn_xrec *rec, const char *line, size_t n, bool also_value)
{
    const char *open = memchr(line, '(', n), *close = open ? memchr(open, ')', n - (size_t)(open - line)) : NULL;
    if (!open || !close)
        return;
    char code[40], value[72];
    snprintf(code, sizeof code, "%.*s", (int)(open - line), line);
    snprintf(value, sizeof value, "%.*s", (int)(close - open - 1), open + 1);
    char *end, *star = strchr(value, '*');
    double num = strtod(value, &end);
    const char *names[2] = {code, also_value ? "value" : NULL};
    for (int k = 0; k < 2 && names[k]; k++) {
        if (!names[k][0])
            continue;
        klefr_scn_field *f = end != value && (end == star || !*end)
                                 ? klefr_scn_field_num(rec, names[k], num, star ? star + 1 : "")
                                 : klefr_scn_field_text(rec, names[k], value);
        if (f) {
            klefr_scn_copy_text(f->text, sizeof f->text, value);
            f->alias = k == 1; /* "value" repeats the code's */
        }
    }
}

/* A message from the meter: ACK, NAK, identification, STX data ETX BCC,
 * SOH P0 STX (operand) ETX BCC. */
static bool decode_message(struct klefr_scn_master *m, klefr_scn_xrec *rec,
                           const klefr_scn_xchg *x, bool r1)
{
    const uint8_t *b = x->rep;
    size_t n = x->nrep;
    if (n == 1 && (b[0] == KLEFR_IEC_ACK || b[0] == KLEFR_IEC_NAK)) {
        rec->status = b[0] == KLEFR_IEC_ACK ? KLEFR_SCN_ST_ACK : KLEFR_SCN_ST_NAK;
        return true;
    }
    if (b[0] == '/') {
        if (n < 7 || b[n - 2] != '\r' || b[n - 1] != '\n')
            return bad(rec, "a bad identification");
        char ident[40], man[4];
        snprintf(ident, sizeof ident, "%.*s", (int)(n - 3 > 39 ? 39 : n - 3), (const char *)b + 1);
        snprintf(man, sizeof man, "%.3s", ident);
        klefr_scn_field_text(rec, "ident", ident);
        klefr_scn_field_text(rec, "manufacturer", man);
        klefr_scn_field_num(rec, "max_baud", klefr_iec_baud_of(ident[3]), "");
        if (m) /* the session's identification (reaction times) */
            klefr_scn_copy_text(klefr_scn_master_ident(m), 40, ident);
        rec->status = KLEFR_SCN_ST_OK;
        return true;
    }
    if ((b[0] != KLEFR_IEC_STX && b[0] != KLEFR_IEC_SOH) || n < 3 ||
        (b[n - 2] != KLEFR_IEC_ETX && b[n - 2] != KLEFR_IEC_EOT))
        return bad(rec, "not an IEC 62056-21 message");
    bool bcc_ok = klefr_iec_bcc(b + 1, n - 2) == b[n - 1];
    klefr_scn_field_text(rec, "bcc", bcc_ok ? "ok" : "bad");
    if (!bcc_ok)
        return bad(rec, "BCC error");
    const char *t = (const char *)b + 1;
    size_t len = n - 3;
    if (b[0] == KLEFR_IEC_SOH) { /* SOH P0 STX (operand) ETX */
        char cmd[3] = {t[0], len > 1 ? t[1] : 0, 0};
        klefr_scn_field_text(rec, "command", cmd);
        const char *open = memchr(t, '(', len), *close = memchr(t, ')', len);
        if (open && close > open) {
            char op[40];
            snprintf(op, sizeof op, "%.*s", (int)(close - open - 1), open + 1);
            klefr_scn_field_text(rec, !strcmp(cmd, "P0") ? "p0" : "operand", op);
        }
        rec->status = KLEFR_SCN_ST_OK;
        return true;
    }
    if (len >= 6 && !memcmp(t, "(ERROR", 6)) {
        rec->status = KLEFR_SCN_ST_ERROR;
        snprintf(rec->why, sizeof rec->why, "the meter answered %.*s", (int)len, t);
        return true;
    }
    int lines = 0;
    for (size_t k = 0; k < len;) { /* lines end with CR LF; "!" ends the data */
        size_t e = k;
        while (e < len && t[e] != '\r' && t[e] != '\n')
            e++;
        if (e > k && t[k] != '!') {
            data_line(rec, t + k, e - k, r1);
            lines++;
        }
        while (e < len && (t[e] == '\r' || t[e] == '\n'))
            e++;
        k = e;
    }
    klefr_scn_field_num(rec, "lines", lines, "");
    rec->status = KLEFR_SCN_ST_OK;
    return true;
}

bool klefr_scn_iec_decode_any(struct klefr_scn_master *m, klefr_scn_xrec *rec,
                              const klefr_scn_xchg *x)
{
    return decode_message(m, rec, x, false);
}

static bool complete(const uint8_t *b, size_t n)
{
    if (n == 1 && (b[0] == KLEFR_IEC_ACK || b[0] == KLEFR_IEC_NAK))
        return true;
    if (b[0] == '/')
        return n >= 2 && b[n - 1] == '\n';
    if (b[0] == KLEFR_IEC_STX || b[0] == KLEFR_IEC_SOH)
        return n >= 3 && (b[n - 2] == KLEFR_IEC_ETX || b[n - 2] == KLEFR_IEC_EOT);
    return false;
}

static uint64_t iec_timeout(const klefr_uart_cfg *f)
{
    (void)f;
    return 1500000u;
}

/* 200 ms (20 ms after an identification whose third letter is lower case)
 * to 1500 ms before a message, at most 1500 ms between its characters. */
static void limits(const struct klefr_scn_master *m, const klefr_uart_cfg *f, uint64_t *min_us,
                   uint64_t *max_us, uint64_t *gap_us)
{
    (void)f;
    const char *ident = klefr_scn_master_ident((struct klefr_scn_master *)m);
    *min_us = strlen(ident) > 2 && ident[2] >= 'a' && ident[2] <= 'z' ? 20000u : 200000u;
    *max_us = 1500000u;
    *gap_us = 1500000u;
}

const klefr_scn_proto klefr_scn_iec = {"iec", true, iec_timeout, iec_timeout, complete, limits};

/* ---- the step kinds --------------------------------------------------------------------- */

const char *const klefr_scn_f_iec_sign_on[] = {KLEFR_SCN_STEP_KEYS, "address", "password",
                                               "session_baud", NULL};
const char *const klefr_scn_f_iec_readout[] = {KLEFR_SCN_STEP_KEYS, "address", "session_baud",
                                               NULL};
const char *const klefr_scn_f_iec_r1[] = {KLEFR_SCN_STEP_KEYS, "code", NULL};
const char *const klefr_scn_f_iec_w1[] = {KLEFR_SCN_STEP_KEYS, "code", "value", NULL};
const char *const klefr_scn_f_iec_b0[] = {KLEFR_SCN_STEP_KEYS, NULL};

/* Printable text without the protocol's delimiters, as an operand. */
static int operand(klefr_scn_pctx *c, const cJSON *f, const char *path, const char *key,
                   char *out, size_t n)
{
    char num[32];
    const char *s = num;
    if (cJSON_IsNumber(f))
        snprintf(num, sizeof num, "%.10g", f->valuedouble);
    else if (klefr_scn_string(c, f, path, key, &s) < 0)
        return -1;
    if (!*s || strlen(s) >= n)
        return klefr_scn_fail(c, f, path, key, "must be 1 to %zu characters", n - 1);
    for (const char *p = s; *p; p++)
        if (*p < 0x20 || *p > 0x7E || strchr("()/!*", *p))
            return klefr_scn_fail(c, f, path, key, "'%c' cannot be sent in a data set",
                                  *p >= 0x20 && *p <= 0x7E ? *p : '?');
    klefr_scn_copy_text(out, n, s);
    return 0;
}

static int session_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *f;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "address"))) {
        if (operand(c, f, path, "address", st->code, 33) < 0)
            return -1;
        if (strspn(st->code, "0123456789") != strlen(st->code))
            return klefr_scn_fail(c, f, path, "address", "the device address is digits (the "
                                                         "serial number)");
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "session_baud"))) {
        if (!cJSON_IsNumber(f) || z_of((uint32_t)f->valuedouble) == '?' ||
            f->valuedouble != (uint32_t)f->valuedouble)
            return klefr_scn_fail(c, f, path, "session_baud",
                                  "must be 300, 600, 1200, 2400, 4800, 9600 or 19200");
        st->session_baud = (uint32_t)f->valuedouble;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "password")) &&
        operand(c, f, path, "password", st->password, sizeof st->password) < 0)
        return -1;
    return 0;
}

static int code_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "code");
    if (!f)
        return klefr_scn_fail(c, o, path, NULL, "needs a \"code\" (\"C.90.1\", \"1.8.0\")");
    if (operand(c, f, path, "code", st->code, 24) < 0)
        return -1;
    bool w1 = !strcmp(st->op->kind, "iec_w1");
    f = cJSON_GetObjectItemCaseSensitive(o, "value");
    if (w1 && !f)
        return klefr_scn_fail(c, o, path, NULL, "iec_w1 needs a \"value\"");
    return f ? operand(c, f, path, "value", st->value, 48) : 0;
}

static uint64_t session_span(const klefr_scn_serial *st)
{
    klefr_scn_serial fast = *st; /* the data at the session's baud */
    fast.baud = st->session_baud ? st->session_baud : 9600;
    return klefr_scn_span(st, 60, 2) + klefr_scn_span(&fast, 600, 2);
}

static uint64_t command_span(const klefr_scn_serial *st)
{
    return klefr_scn_span(st, 80, 1);
}

static size_t readout_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                              uint8_t *out, uint64_t *delay_us)
{
    if (n == 0)
        return sign_on(m, st, out);
    *delay_us = MASTER_TR_US;
    return n == 1 ? option_select(m, st, '0', out) : 0;
}

static size_t sign_on_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                              uint8_t *out, uint64_t *delay_us)
{
    if (n == 0)
        return sign_on(m, st, out);
    *delay_us = MASTER_TR_US;
    if (n == 1)
        return option_select(m, st, '1', out);
    if (n == 2 && st->password[0]) {
        char data[24];
        snprintf(data, sizeof data, "(%s)", st->password);
        return command(out, "P1", data);
    }
    return 0;
}

/* Each exchange of a session: what must come back for the next to follow. */
static bool session_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                           klefr_scn_xrec *rec)
{
    (void)st;
    if (!decode_message(m, rec, &rec->x[rec->nx - 1], false))
        return false;
    const klefr_scn_field *ident = klefr_scn_field_find(rec, "ident");
    if (n == 0 && (!ident || rec->status != KLEFR_SCN_ST_OK)) {
        if (rec->status == KLEFR_SCN_ST_OK)
            return bad(rec, "no identification");
        return false;
    }
    return rec->status == KLEFR_SCN_ST_OK; /* P1 answered: ACK or (ERROR) ends it */
}

static size_t r1_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                         uint8_t *out, uint64_t *delay_us)
{
    (void)m, (void)delay_us;
    char data[sizeof st->code + sizeof st->value + 2];
    snprintf(data, sizeof data, "%s(%s)", st->code, st->value);
    return n > 0 ? 0 : command(out, strcmp(st->op->kind, "iec_w1") ? "R1" : "W1", data);
}

static bool r1_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                      klefr_scn_xrec *rec)
{
    (void)st, (void)n;
    return decode_message(m, rec, &rec->x[rec->nx - 1], true);
}

static size_t b0_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                         uint8_t *out, uint64_t *delay_us)
{
    (void)m, (void)st, (void)delay_us;
    return n > 0 ? 0 : command(out, "B0", NULL);
}

static bool one_of(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (!strcmp(name, *names))
            return true;
    return false;
}

static bool sign_on_field(const klefr_scn_serial *st, const char *name)
{
    static const char *const names[] = {"status", "ident", "manufacturer", "max_baud", "p0",
                                        "bcc", "command", NULL};
    (void)st;
    return one_of(name, names);
}

static bool r1_field(const klefr_scn_serial *st, const char *name)
{
    static const char *const names[] = {"status", "value", "bcc", "lines", NULL};
    return one_of(name, names) || !strcmp(name, st->code);
}

static bool status_field(const klefr_scn_serial *st, const char *name)
{
    (void)st;
    return !strcmp(name, "status");
}

const klefr_scn_op klefr_scn_op_iec_sign_on = {"iec_sign_on", &klefr_scn_iec, session_parse,
                                               sign_on_request, session_decode, sign_on_field,
                                               session_span};
const klefr_scn_op klefr_scn_op_iec_readout = {"iec_readout", &klefr_scn_iec, session_parse,
                                               readout_request, session_decode, NULL,
                                               session_span};
const klefr_scn_op klefr_scn_op_iec_r1 = {"iec_r1", &klefr_scn_iec, code_parse, r1_request,
                                          r1_decode, r1_field, command_span};
const klefr_scn_op klefr_scn_op_iec_w1 = {"iec_w1", &klefr_scn_iec, code_parse, r1_request,
                                          r1_decode, status_field, command_span};
static int none_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    (void)c, (void)o, (void)path, (void)st;
    return 0;
}

const klefr_scn_op klefr_scn_op_iec_b0 = {"iec_b0", &klefr_scn_iec, none_parse, b0_request,
                                          r1_decode, status_field, command_span};
