/* Serial steps: what every step kind shares (its common keys, the port it
 * goes on, the bound on its duration), the decoded reply they keep (records
 * and fields), hex and text helpers, and the `send` kind. The master that
 * runs them is scenario_master.c; the protocols are scenario_decode_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "proto/modbus_rtu.h"
#include "proto/uart_time.h"
#include "scenario_serial.h"

/* ---- steps: the kinds and their common keys ------------------------------- */

static const klefr_scn_op *const ops[] = {
    &klefr_scn_op_send,         &klefr_scn_op_modbus_read, &klefr_scn_op_modbus_write,
    &klefr_scn_op_mbus_req_ud2, &klefr_scn_op_mbus_snd_nke, &klefr_scn_op_mbus_select,
    &klefr_scn_op_mbus_write,   &klefr_scn_op_iec_sign_on, &klefr_scn_op_iec_readout,
    &klefr_scn_op_iec_r1,       &klefr_scn_op_iec_w1,      &klefr_scn_op_iec_b0,
};

const char *klefr_scn_status_to_str(klefr_scn_status st)
{
    static const char *const names[] = {"pending", "none",      "ok", "ack",
                                        "nak",     "error", "exception", "bad"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

klefr_scn_serial *klefr_scn_serial_find(const klefr_scn *s, const char *name)
{
    for (klefr_scn_serial *st = s->serial_steps; st; st = st->next)
        if (!strcmp(st->name, name))
            return st;
    return NULL;
}

/* The port named by "port" (or the kind's own), and its protocol on this model. */
static int parse_port(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    static const char *const names[] = {"bus", "ir", "modbus", "mbus", "iec", NULL};
    klefr_model model = c->s->model;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "port");
    const klefr_scn_proto *bus = klefr_model_has_modbus(model) ? &klefr_scn_modbus
                                 : klefr_model_has_mbus(model) ? &klefr_scn_mbus
                                                               : NULL;
    int k;
    if (!f) {
        if (!st->op->proto)
            return klefr_scn_fail(c, o, path, NULL, "\"%s\" needs a \"port\" (bus or ir)",
                                  st->op->kind);
        k = st->op->proto == &klefr_scn_iec ? 1 : st->op->proto == &klefr_scn_modbus ? 2 : 3;
    } else if (klefr_scn_enum(c, f, path, "port", names, &k) < 0) {
        return -1;
    }
    const cJSON *at = f ? f : cJSON_GetObjectItemCaseSensitive(o, "do");
    if (k == 1 || k == 4) {
        st->port = KLEFR_PORT_IR;
        st->proto = &klefr_scn_iec;
    } else {
        st->port = KLEFR_PORT_BUS;
        st->proto = k == 2 ? &klefr_scn_modbus : k == 3 ? &klefr_scn_mbus : bus;
        if (!bus)
            return klefr_scn_fail(c, at, path, f ? "port" : "do",
                                  "the %d has no bus port (only the optical port \"ir\")", model);
        if (st->proto != bus)
            return klefr_scn_fail(c, at, path, f ? "port" : "do",
                                  "the %d has no %s port (its bus port speaks %s)", model,
                                  st->proto == &klefr_scn_modbus ? "Modbus" : "M-bus",
                                  bus == &klefr_scn_modbus ? "Modbus" : "M-bus");
    }
    if (st->op->proto && st->op->proto != st->proto)
        return klefr_scn_fail(c, f, path, "port", "%s goes on the %s port, not \"%s\"",
                              st->op->kind, st->op->proto->name, f->valuestring);
    return 0;
}

/* baud, parity, data_bits (the master's format), timeout. */
static int parse_format(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    static const char *const parities[] = {"none", "even", "odd", NULL};
    static const uint32_t bauds[] = {300, 600, 1200, 2400, 4800, 9600, 19200, 38400};
    const cJSON *f;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "baud"))) {
        if (!cJSON_IsNumber(f) || !klefr_u32_in((uint32_t)f->valueint, bauds, KLEFR_COUNT(bauds)) ||
            f->valuedouble != f->valueint)
            return klefr_scn_fail(c, f, path, "baud",
                                  "must be 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400");
        st->baud = (uint32_t)f->valueint;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "parity")) &&
        klefr_scn_enum(c, f, path, "parity", parities, &st->parity) < 0)
        return -1;
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "data_bits"))) {
        if (!cJSON_IsNumber(f) || (f->valuedouble != 7 && f->valuedouble != 8))
            return klefr_scn_fail(c, f, path, "data_bits", "must be 7 or 8");
        st->data_bits = f->valueint;
    }
    if ((f = cJSON_GetObjectItemCaseSensitive(o, "timeout"))) {
        if (klefr_scn_time(c, f, path, "timeout", &st->timeout_us, false, NULL) < 0)
            return -1;
        if (st->timeout_us == 0 || st->timeout_us > 60000000u)
            return klefr_scn_fail(c, f, path, "timeout", "must be more than 0 and at most 60 s");
    }
    return 0;
}

int klefr_scn_serial_parse(klefr_scn_pctx *c, const cJSON *o, const char *path,
                         klefr_scn_event *ev)
{
    const klefr_scn_op *op = NULL;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (!strcmp(ops[k]->kind, ev->kind->name))
            op = ops[k];
    if (!op)
        return klefr_scn_fail(c, o, path, "do", "no serial step of this kind");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "name");
    const char *name;
    if (!f)
        return klefr_scn_fail(c, o, path, NULL,
                              "a serial step needs a \"name\" (reply expectations refer to it)");
    if (klefr_scn_string(c, f, path, "name", &name) < 0)
        return -1;
    if (!*name || strlen(name) >= sizeof ((klefr_scn_serial *)0)->name)
        return klefr_scn_fail(c, f, path, "name", "must be 1 to 63 characters");
    const klefr_scn_serial *dup = klefr_scn_serial_find(c->s, name);
    if (dup)
        return klefr_scn_fail(c, f, path, "name", "\"%s\" already names the step at line %d",
                              name, dup->line);
    klefr_scn_serial *st = calloc(1, sizeof *st);
    if (!st)
        return klefr_scn_fail(c, o, path, NULL, "out of memory");
    klefr_scn_serial **tail = &c->s->serial_steps;
    while (*tail)
        tail = &(*tail)->next;
    *tail = st; /* owned by the scenario from here on */
    klefr_scn_copy_text(st->name, sizeof st->name, name);
    st->op = op;
    st->line = ev->line;
    st->parity = -1;
    st->address = -1;
    st->sel = -1;
    ev->serial_step = st;
    if (!ev->label[0])
        klefr_scn_copy_text(ev->label, sizeof ev->label, name);
    if (parse_port(c, o, path, st) < 0 || parse_format(c, o, path, st) < 0)
        return -1;
    /* The run's default length assumes the meter's starting baud (a step
     * after a baud change names its baud, or the scenario a duration). */
    klefr_settings set;
    klefr_settings_defaults(&set, c->s->model, c->s->serial);
    klefr_scn_settings_apply(&c->s->settings, &set);
    st->span_baud = st->proto == &klefr_scn_iec ? 300u
                    : c->s->have_state          ? (st->proto == &klefr_scn_modbus ? 1200u : 300u)
                                                : set.baud;
    return op->parse(c, o, path, st);
}

/* The latest a serial step may still run: its time and the longest its
 * exchanges can take (the run's default length leaves room for each reply;
 * steps queued behind each other on a port may need a "duration"). */
uint64_t klefr_scn_serials_end(const klefr_scn *s)
{
    uint64_t end = 0;
    for (size_t k = 0; k < s->nev; k++)
        if (s->ev[k].serial_step) {
            uint64_t e = s->ev[k].t_us + s->ev[k].serial_step->op->span(s->ev[k].serial_step);
            end = e > end ? e : end;
        }
    return end;
}

/* ---- records ---------------------------------------------------------------- */

void klefr_scn_xrec_clear(klefr_scn_xrec *r)
{
    for (int k = 0; k < r->nx; k++) {
        free(r->x[k].req);
        free(r->x[k].rep);
    }
    free(r->f);
    memset(r, 0, sizeof *r);
}

static klefr_scn_field *field_slot(klefr_scn_xrec *r, const char *name)
{
    for (size_t k = 0; k < r->nf; k++)
        if (!strcmp(r->f[k].name, name))
            return &r->f[k];
    if (r->nf == r->capf) {
        size_t cap = r->capf ? r->capf * 2 : 16;
        klefr_scn_field *n = realloc(r->f, cap * sizeof *n);
        if (!n)
            return NULL;
        r->f = n;
        r->capf = cap;
    }
    klefr_scn_field *f = &r->f[r->nf++];
    memset(f, 0, sizeof *f);
    klefr_scn_copy_text(f->name, sizeof f->name, name);
    return f;
}

klefr_scn_field *klefr_scn_field_num(klefr_scn_xrec *r, const char *name, double num,
                                     const char *unit)
{
    klefr_scn_field *f = field_slot(r, name);
    if (f) {
        f->has_num = true;
        f->num = num;
        snprintf(f->text, sizeof f->text, "%.10g", num);
        klefr_scn_copy_text(f->unit, sizeof f->unit, unit ? unit : "");
    }
    return f;
}

klefr_scn_field *klefr_scn_field_text(klefr_scn_xrec *r, const char *name, const char *text)
{
    klefr_scn_field *f = field_slot(r, name);
    if (f) {
        f->has_num = false;
        klefr_scn_copy_text(f->text, sizeof f->text, text);
    }
    return f;
}

const klefr_scn_field *klefr_scn_field_find(const klefr_scn_xrec *r, const char *name)
{
    for (size_t k = 0; k < r->nf; k++)
        if (!strcmp(r->f[k].name, name))
            return &r->f[k];
    return NULL;
}

const klefr_scn_xchg *klefr_scn_xrec_last(const klefr_scn_xrec *r)
{
    return r->nx ? &r->x[r->nx - 1] : NULL;
}

void klefr_scn_hex_text(const uint8_t *b, size_t n, char *out, size_t size)
{
    size_t at = 0;
    out[0] = 0;
    for (size_t k = 0; k < n && at + 4 < size; k++)
        at += (size_t)snprintf(out + at, size - at, "%s%02X", k ? " " : "", b[k]);
    if (n && at + 4 >= size && size > 4)
        snprintf(out + size - 4, 4, "...");
}

void klefr_scn_ascii_text(const uint8_t *b, size_t n, char *out, size_t size)
{
    static const char *const names[32] = {[0] = "NUL",  [1] = "SOH",  [2] = "STX",
                                          [3] = "ETX",  [4] = "EOT",  [6] = "ACK",
                                          [10] = "LF",  [13] = "CR",  [21] = "NAK"};
    size_t at = 0;
    out[0] = 0;
    for (size_t k = 0; k < n; k++) {
        bool bcc = k > 0 && k == n - 1 && (b[k - 1] == 0x03 || b[k - 1] == 0x04);
        char one[8];
        if (!bcc && b[k] >= 0x20 && b[k] < 0x7F)
            snprintf(one, sizeof one, "%c", b[k]);
        else if (!bcc && b[k] < 32 && names[b[k]])
            snprintf(one, sizeof one, "<%s>", names[b[k]]);
        else /* the BCC, or a byte with no name */
            snprintf(one, sizeof one, "<%02X>", b[k]);
        if (at + strlen(one) + 4 >= size) {
            snprintf(out + at, size - at, "...");
            return;
        }
        at += (size_t)snprintf(out + at, size - at, "%s", one);
    }
}

/* A frame for the trace: hex, or text for a text protocol. */
void klefr_scn_fmt_text(const klefr_uart_cfg *f, char *out, size_t size)
{
    snprintf(out, size, "%u %u%c%u", f->baud, f->data_bits,
             f->parity == KLEFR_PARITY_EVEN ? 'E' : f->parity == KLEFR_PARITY_ODD ? 'O' : 'N',
             f->stop_bits);
}

void klefr_scn_serials_free(klefr_scn *s)
{
    while (s->serial_steps) {
        klefr_scn_serial *st = s->serial_steps;
        s->serial_steps = st->next;
        klefr_scn_xrec_clear(&st->last);
        for (size_t k = 0; st->rec && k < st->nrec; k++)
            cJSON_Delete(st->rec[k]);
        free(st->rec);
        free(st);
    }
}

/* ---- hex text --------------------------------------------------------------------- */

static int nibble(char ch, bool wild, uint8_t *v, uint8_t *mask)
{
    if (ch >= '0' && ch <= '9')
        *v = (uint8_t)(ch - '0');
    else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
        *v = (uint8_t)((ch | 0x20) - 'a' + 10);
    else if (ch == '?' && wild)
        *v = 0, *mask = 0;
    else
        return -1;
    if (ch != '?')
        *mask = 0xF;
    return 0;
}

int klefr_scn_hex_parse(const char *text, bool wild, klefr_scn_hexpat *out, size_t max,
                        size_t *n, char *why, size_t whylen)
{
    *n = 0;
    for (const char *p = text;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        if (*n == max) {
            snprintf(why, whylen, "more than %zu bytes", max);
            return -1;
        }
        klefr_scn_hexpat *t = &out[(*n)++];
        if (wild && p[0] == '.' && p[1] == '.') {
            *t = (klefr_scn_hexpat){0, 0, true};
            p += 2;
            continue;
        }
        uint8_t hi, lo, mhi = 0, mlo = 0;
        if (!p[1] || nibble(p[0], wild, &hi, &mhi) < 0 || nibble(p[1], wild, &lo, &mlo) < 0) {
            const char *bad = nibble(p[0], wild, &hi, &mhi) < 0 ? p : p + 1;
            if (!*bad)
                snprintf(why, whylen, "bad hex \"%.40s\": a byte is two hex digits (odd number "
                                      "of digits)", text);
            else
                snprintf(why, whylen, "bad hex \"%.40s\" at character %d ('%c'): expected "
                                      "hex digits%s", text, (int)(bad - text) + 1, *bad,
                         wild ? ", \"??\" or \"..\"" : " (bytes like \"01 03 40 00\")");
            return -1;
        }
        *t = (klefr_scn_hexpat){(uint8_t)(hi << 4 | lo), (uint8_t)(mhi << 4 | mlo), false};
        p += 2;
    }
    if (*n == 0) {
        snprintf(why, whylen, "no bytes");
        return -1;
    }
    return 0;
}

/* ---- send: raw bytes on a port ----------------------------------------------------- */

const char *const klefr_scn_f_send[] = {KLEFR_SCN_STEP_KEYS, "hex", "text", "crc", NULL};

static int send_parse(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st)
{
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "hex");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *crc = cJSON_GetObjectItemCaseSensitive(o, "crc");
    const char *str;
    if (!hex == !text)
        return klefr_scn_fail(c, o, path, NULL, "\"send\" needs \"hex\" (bytes) or \"text\"");
    if (hex) {
        klefr_scn_hexpat pat[KLEFR_SCN_REQ_MAX - 2];
        char why[160];
        if (klefr_scn_string(c, hex, path, "hex", &str) < 0)
            return -1;
        if (klefr_scn_hex_parse(str, false, pat, KLEFR_SCN_REQ_MAX - 2, &st->nraw, why,
                                sizeof why) < 0)
            return klefr_scn_fail(c, hex, path, "hex", "%s", why);
        for (size_t k = 0; k < st->nraw; k++)
            st->raw[k] = pat[k].val;
    } else {
        if (klefr_scn_string(c, text, path, "text", &str) < 0)
            return -1;
        st->nraw = strlen(str);
        if (st->nraw == 0 || st->nraw > KLEFR_SCN_REQ_MAX - 2)
            return klefr_scn_fail(c, text, path, "text", "must be 1 to %d characters",
                                  KLEFR_SCN_REQ_MAX - 2);
        memcpy(st->raw, str, st->nraw);
    }
    bool add_crc = false;
    if (crc && klefr_scn_bool(c, crc, path, "crc", &add_crc) < 0)
        return -1;
    if (add_crc && st->proto != &klefr_scn_modbus)
        return klefr_scn_fail(c, crc, path, "crc", "only on a Modbus port (a CRC-16 appended)");
    if (add_crc) {
        uint16_t v = klefr_crc16_modbus(st->raw, st->nraw);
        st->raw[st->nraw++] = (uint8_t)v;
        st->raw[st->nraw++] = (uint8_t)(v >> 8);
    }
    return 0;
}

static size_t send_request(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                           uint8_t *out, uint64_t *delay_us)
{
    (void)m, (void)delay_us;
    if (n > 0)
        return 0;
    memcpy(out, st->raw, st->nraw);
    return st->nraw;
}

static bool send_decode(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                        klefr_scn_xrec *rec)
{
    (void)n;
    klefr_scn_xchg *x = &rec->x[rec->nx - 1];
    if (st->proto == &klefr_scn_modbus)
        return klefr_scn_modbus_decode_any(x->req, x->nreq, rec, x);
    if (st->proto == &klefr_scn_mbus)
        return klefr_scn_mbus_decode_any(rec, x);
    return klefr_scn_iec_decode_any(m, rec, x);
}

uint64_t klefr_scn_span(const klefr_scn_serial *st, size_t bytes, int exchanges)
{
    /* the slowest the port may run at, unless the step says */
    klefr_uart_cfg f = {st->baud ? st->baud : st->span_baud, 8, KLEFR_PARITY_EVEN, 1};
    uint64_t wait = st->timeout_us ? st->timeout_us : st->proto->first_timeout(&f);
    return bytes * klefr_uart_char_us(&f) + (uint64_t)exchanges * (wait + 250000u);
}

static uint64_t send_span(const klefr_scn_serial *st)
{
    return klefr_scn_span(st, st->nraw + 600, 1);
}

const klefr_scn_op klefr_scn_op_send = {"send", NULL, send_parse, send_request, send_decode, NULL,
                                        send_span};
