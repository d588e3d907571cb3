/* The in-process master of each port that runs the serial steps on the
 * line model: a queue of steps, exchanges of a request and its reply, the
 * master's timeouts, traces and the report's records.
 *
 *   step due ──► queue ──► exchange 0: request ─► reply (complete, or the
 *   timeout) ─► decode ─► exchange 1 ... ─► finished: the step's record,
 *   its `reply` expectations, the next step in the queue
 *
 * A step starts at its time, or when the previous step on the same port
 * has finished, whichever is later (a master talks to one meter at a time). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "proto/uart_time.h"
#include "scenario_serial.h"

struct klefr_scn_master {
    klefr_scn_play *r;
    klefr_port port;
    klefr_line_ep *ep;
    int *q; /* occurrences waiting: indices into klefr_scn.ev */
    size_t qhead, qn, qcap;
    klefr_scn_serial *st; /* running */
    klefr_scn_xrec rec;
    int n;              /* its exchange in progress */
    bool waiting;       /* for the reply of exchange n */
    uint64_t deadline;  /* when the master gives up waiting */
    uint64_t wake_at;   /* earliest wake-up posted (UINT64_MAX: none) */
    uint32_t switch_baud; /* a baud to switch to once the request is out */
    bool fcb;             /* M-bus: FCB of the next REQ_UD2 */
    char ident[40];       /* IEC: the identification of the session */
};

struct klefr_scn_masters {
    struct klefr_scn_master m[KLEFR_PORT_COUNT];
};

static void frame_text(const klefr_scn_serial *st, const uint8_t *b, size_t n, char *out,
                       size_t size)
{
    if (st->proto->text)
        klefr_scn_ascii_text(b, n, out, size);
    else
        klefr_scn_hex_text(b, n, out, size);
}

/* ---- the master of a port ---------------------------------------------------- */

const klefr_meter *klefr_scn_master_meter(const struct klefr_scn_master *m)
{
    return &m->r->sim->meter;
}

bool *klefr_scn_master_fcb(struct klefr_scn_master *m)
{
    return &m->fcb;
}

char *klefr_scn_master_ident(struct klefr_scn_master *m)
{
    return m->ident;
}

void klefr_scn_master_switch(struct klefr_scn_master *m, uint32_t baud)
{
    m->switch_baud = baud;
}

void klefr_scn_master_trace(struct klefr_scn_master *m, uint64_t t_us, const char *fmt, ...)
{
    klefr_sim *sim = m->r->sim;
    if (!sim->trace || !sim->hal.trace || !m->st)
        return;
    char line[1400];
    int at = snprintf(line, sizeof line, "%s: [%s] ", m->st->proto->name, m->st->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + at, sizeof line - (size_t)at - 24, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    snprintf(line + len, sizeof line - len, " t=%llu.%06llu", (unsigned long long)(t_us / 1000000u),
             (unsigned long long)(t_us % 1000000u));
    sim->hal.trace(sim->hal.arg, line); /* held and printed in time order */
}

/* A host failure during the run (the run reports it, exit 1). */
static void host_fail(klefr_scn_play *r, const char *what)
{
    if (!r->err[0])
        snprintf(r->err, sizeof r->err, "%.200s: serial steps: %s", r->s->file, what);
}

static void master_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us);
static void start_next(struct klefr_scn_master *m, uint64_t t_us);

static struct klefr_scn_master *master_get(klefr_scn_play *r, klefr_port port)
{
    if (!r->masters && !(r->masters = calloc(1, sizeof *r->masters))) {
        host_fail(r, "out of memory");
        return NULL;
    }
    struct klefr_scn_master *m = &r->masters->m[port];
    if (m->ep)
        return m;
    klefr_line *line = klefr_sim_line(r->sim, port); /* the parse checked the model has it */
    m->r = r;
    m->port = port;
    m->fcb = true;
    m->wake_at = UINT64_MAX;
    m->ep = line ? klefr_line_attach(line, "scenario", KLEFR_LINE_MASTER, NULL, master_rx, m) : NULL;
    if (!m->ep)
        host_fail(r, "out of memory (a serial line)");
    return m->ep ? m : NULL;
}

static void wake(void *arg, uint64_t t_us);

static void arm(struct klefr_scn_master *m, uint64_t at)
{
    if (at >= m->wake_at)
        return; /* an earlier wake-up will look again */
    if (!klefr_sim_post(m->r->sim, &(klefr_sim_event){.t_us = at, .kind = KLEFR_EV_CALL,
                                                       .fn = wake, .arg = m}))
        host_fail(m->r, "the event queue is full");
    else
        m->wake_at = at;
}

/* The master's format for a step: the meter's at its start, with what the
 * step overrides (a master with other settings). */
static klefr_uart_cfg step_format(klefr_scn_play *r, const klefr_scn_serial *st, uint64_t t_us)
{
    klefr_uart_cfg f = klefr_line_format(klefr_sim_uart_ep(r->sim, st->port), t_us);
    if (st->baud)
        f.baud = st->baud;
    if (st->parity >= 0) /* "none", "even", "odd": the order of klefr_parity */
        f.parity = (klefr_parity)st->parity;
    if (st->data_bits)
        f.data_bits = (uint8_t)st->data_bits;
    return f;
}

static void finish(struct klefr_scn_master *m, uint64_t t_us);

/* Send the request of exchange m->n (after its delay), or finish the step. */
static void exchange(struct klefr_scn_master *m, uint64_t t_us)
{
    klefr_scn_serial *st = m->st;
    uint8_t buf[KLEFR_SCN_REQ_MAX];
    uint64_t delay = 0;
    m->switch_baud = 0;
    size_t n = st->op->request(m, st, m->n, buf, &delay);
    if (n == 0 || m->rec.nx == KLEFR_SCN_XMAX) {
        finish(m, t_us);
        return;
    }
    klefr_scn_xchg *x = &m->rec.x[m->rec.nx++];
    if (!(x->req = malloc(n))) {
        host_fail(m->r, "out of memory");
        finish(m, t_us);
        return;
    }
    memcpy(x->req, buf, n);
    x->nreq = n;
    klefr_uart_cfg f = klefr_line_format(m->ep, t_us + delay);
    x->req_t1 = klefr_line_send(m->ep, buf, n, t_us + delay);
    x->req_t0 = x->req_t1 - n * klefr_uart_char_us(&f);
    if (m->switch_baud) { /* IEC: the new baud once the option select is out */
        f.baud = m->switch_baud;
        klefr_line_set_format(m->ep, &f, x->req_t1);
    }
    x->char_us = klefr_uart_char_us(&f);
    st->proto->limits(m, &f, &x->lim_min, &x->lim_max, &x->lim_gap);
    char hex[KLEFR_SCN_REQ_MAX * 4 + 4], fmt[24];
    frame_text(st, buf, n, hex, sizeof hex);
    klefr_scn_fmt_text(&f, fmt, sizeof fmt);
    klefr_scn_master_trace(m, x->req_t0, "master tx %s (%s)", hex, fmt);
    m->waiting = true;
    m->deadline = x->req_t1 + (st->timeout_us ? st->timeout_us : st->proto->first_timeout(&f));
    arm(m, m->deadline);
}

static void end_exchange(struct klefr_scn_master *m, uint64_t t_us)
{
    klefr_scn_serial *st = m->st;
    klefr_scn_xchg *x = &m->rec.x[m->rec.nx - 1];
    m->waiting = false;
    if (x->nrep == 0) {
        m->rec.status = KLEFR_SCN_ST_NONE;
        snprintf(m->rec.why, sizeof m->rec.why, "no reply within %.0f ms",
                 (double)(t_us - x->req_t1) / 1000);
        klefr_scn_master_trace(m, t_us, "%s", m->rec.why);
        finish(m, t_us);
        return;
    }
    char hex[600];
    frame_text(st, x->rep, x->nrep, hex, sizeof hex);
    klefr_scn_master_trace(m, x->last_us, "master rx %s%s (first byte after %.3f ms)", hex,
                           x->rep_flags ? " [UART errors]" : "",
                           (double)(x->first_us - x->req_t1) / 1000);
    bool go = st->op->decode(m, st, m->n, &m->rec);
    if (x->rep_flags && m->rec.status != KLEFR_SCN_ST_BAD) {
        m->rec.status = KLEFR_SCN_ST_BAD; /* a UART would have flagged it */
        snprintf(m->rec.why, sizeof m->rec.why, "parity or framing errors in the reply");
    }
    if (!go || m->rec.status == KLEFR_SCN_ST_BAD || m->rec.status == KLEFR_SCN_ST_NONE) {
        finish(m, t_us);
        return;
    }
    m->n++;
    exchange(m, t_us);
}

static void wake(void *arg, uint64_t t_us)
{
    struct klefr_scn_master *m = arg;
    if (t_us == m->wake_at)
        m->wake_at = UINT64_MAX;
    if (!m->waiting)
        return;
    if (t_us < m->deadline)
        arm(m, m->deadline);
    else
        end_exchange(m, t_us);
}

static void master_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    struct klefr_scn_master *m = arg;
    klefr_scn_xchg *x = m->st && m->rec.nx ? &m->rec.x[m->rec.nx - 1] : NULL;
    if (!x || !m->waiting || t_us <= x->req_t0) { /* nobody asked: a late reply */
        if (m->st)
            klefr_scn_master_trace(m, t_us, "stray byte %02X ignored", byte);
        return;
    }
    if (x->nrep == x->caprep) {
        size_t cap = x->caprep ? x->caprep * 2 : 64;
        uint8_t *b = cap <= 65536 ? realloc(x->rep, cap) : NULL;
        if (!b)
            return;
        x->rep = b;
        x->caprep = cap;
    }
    if (x->nrep == 0) {
        x->first_us = t_us;
    } else if (t_us - x->last_us > x->char_us) {
        uint64_t gap = t_us - x->last_us - x->char_us;
        x->max_gap_us = gap > x->max_gap_us ? gap : x->max_gap_us;
    }
    x->rep[x->nrep++] = byte;
    x->rep_flags |= flags;
    x->last_us = t_us;
    if (m->st->proto->complete(x->rep, x->nrep)) {
        end_exchange(m, t_us);
        return;
    }
    klefr_uart_cfg f = klefr_line_format(m->ep, t_us);
    m->deadline = t_us + (m->st->proto->gap_timeout(&f));
}

/* ---- a step's run ----------------------------------------------------------- */

static cJSON *record_json(const klefr_scn_xrec *rec)
{
    cJSON *o = cJSON_CreateObject(), *xs = cJSON_CreateArray(), *fs = cJSON_CreateObject();
    if (!o || !xs || !fs) {
        cJSON_Delete(o);
        cJSON_Delete(xs);
        cJSON_Delete(fs);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "start_s", (double)rec->t_us / 1e6);
    cJSON_AddNumberToObject(o, "done_s", (double)rec->done_us / 1e6);
    cJSON_AddStringToObject(o, "status", klefr_scn_status_to_str(rec->status));
    if (rec->why[0])
        cJSON_AddStringToObject(o, "why", rec->why);
    for (int k = 0; k < rec->nx; k++) {
        const klefr_scn_xchg *x = &rec->x[k];
        cJSON *j = cJSON_CreateObject();
        char *hex = malloc(x->nreq * 3 + x->nrep * 3 + 8);
        if (!j || !hex) {
            cJSON_Delete(j);
            free(hex);
            continue;
        }
        klefr_scn_hex_text(x->req, x->nreq, hex, x->nreq * 3 + 4);
        cJSON_AddStringToObject(j, "request", hex);
        cJSON_AddNumberToObject(j, "request_end_s", (double)x->req_t1 / 1e6);
        klefr_scn_hex_text(x->rep, x->nrep, hex, x->nrep * 3 + 4);
        cJSON_AddStringToObject(j, "reply", hex);
        if (x->nrep) {
            cJSON_AddNumberToObject(j, "first_byte_ms", (double)(x->first_us - x->req_t1) / 1e3);
            cJSON_AddNumberToObject(j, "last_byte_ms", (double)(x->last_us - x->req_t1) / 1e3);
        }
        free(hex);
        cJSON_AddItemToArray(xs, j);
    }
    cJSON_AddItemToObject(o, "exchanges", xs);
    for (size_t k = 0; k < rec->nf; k++) {
        const klefr_scn_field *f = &rec->f[k];
        if (f->alias)
            continue;
        if (f->has_num)
            cJSON_AddNumberToObject(fs, f->name, f->num);
        else
            cJSON_AddStringToObject(fs, f->name, f->text);
    }
    cJSON_AddItemToObject(o, "fields", fs);
    return o;
}

/* "voltage=230.1 current=10 ..." (the first fields) for the trace. */
static void fields_text(const klefr_scn_xrec *rec, char *out, size_t n)
{
    size_t at = 0;
    out[0] = 0;
    for (size_t k = 0; k < rec->nf && at + 8 < n; k++) {
        const klefr_scn_field *f = &rec->f[k];
        bool unit = f->unit[0] && !strchr(f->text, '*'); /* IEC text has its unit */
        if (f->alias || !strcmp(f->name, "status"))
            continue;
        at += (size_t)snprintf(out + at, n - at, " %s=%s%s%s", f->name, f->text,
                               unit ? " " : "", unit ? f->unit : "");
    }
    if (at + 8 >= n && n > 4)
        snprintf(out + n - 4, 4, "...");
}

static void finish(struct klefr_scn_master *m, uint64_t t_us)
{
    klefr_scn_serial *st = m->st;
    klefr_scn_play *r = m->r;
    m->waiting = false;
    m->rec.done_us = t_us;
    if (m->rec.status == KLEFR_SCN_ST_PENDING) {
        m->rec.status = KLEFR_SCN_ST_NONE;
        snprintf(m->rec.why, sizeof m->rec.why, "nothing was sent");
    }
    klefr_scn_field_text(&m->rec, "status", klefr_scn_status_to_str(m->rec.status));
    char text[700];
    fields_text(&m->rec, text, sizeof text);
    bool why = m->rec.why[0] != 0;
    klefr_scn_master_trace(m, t_us, "%s%s%s%s:%s", klefr_scn_status_to_str(m->rec.status),
                           why ? " (" : "", m->rec.why, why ? ")" : "", text[0] ? text : " -");
    size_t occ = (size_t)(m->rec.ev - st->first_ev);
    if (st->rec && occ < KLEFR_SCN_REC_MAX && occ < (size_t)st->nocc && !st->rec[occ])
        st->rec[occ] = record_json(&m->rec);
    klefr_scn_xrec_clear(&st->last);
    st->last = m->rec;
    st->has_last = true;
    memset(&m->rec, 0, sizeof m->rec);
    st->busy = false;
    for (size_t k = 0; k < m->qn; k++)
        if (r->s->ev[m->q[(m->qhead + k) % m->qcap]].serial_step == st)
            st->busy = true;
    m->st = NULL;
    klefr_scn_reply_done(r, st, t_us);
    start_next(m, t_us);
}

static void start_next(struct klefr_scn_master *m, uint64_t t_us)
{
    if (m->st || m->qn == 0)
        return;
    int idx = m->q[m->qhead];
    m->qhead = (m->qhead + 1) % m->qcap;
    m->qn--;
    klefr_scn_play *r = m->r;
    const klefr_scn_event *ev = &r->s->ev[idx];
    klefr_scn_serial *st = ev->serial_step;
    m->st = st;
    m->n = 0;
    klefr_scn_xrec_clear(&m->rec);
    m->rec.ev = idx;
    m->rec.t_us = t_us;
    klefr_uart_cfg f = step_format(r, st, t_us);
    klefr_line_set_format(m->ep, &f, t_us);
    if (t_us > ev->t_us)
        klefr_scn_master_trace(m, t_us, "starts %.3f ms late: the port was busy",
                               (double)(t_us - ev->t_us) / 1000);
    exchange(m, t_us);
}

void klefr_scn_serial_act(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us)
{
    klefr_scn_serial *st = ev->serial_step;
    struct klefr_scn_master *m = master_get(r, st->port);
    if (!m)
        return;
    if (m->qn == m->qcap) {
        size_t cap = m->qcap ? m->qcap * 2 : 16;
        int *q = malloc(cap * sizeof *q);
        if (!q) {
            host_fail(r, "out of memory");
            return;
        }
        for (size_t k = 0; k < m->qn; k++)
            q[k] = m->q[(m->qhead + k) % (m->qcap ? m->qcap : 1)];
        free(m->q);
        m->q = q;
        m->qhead = 0;
        m->qcap = cap;
    }
    m->q[(m->qhead + m->qn++) % m->qcap] = (int)(ev - r->s->ev);
    st->busy = true;
    start_next(m, t_us);
}

/* ---- the engine's hooks -------------------------------------------------------- */

void klefr_scn_serial_start(klefr_scn_play *r)
{
    klefr_scn *s = r->s;
    klefr_scn_replies_start(s);
    for (klefr_scn_serial *st = s->serial_steps; st; st = st->next) {
        klefr_scn_xrec_clear(&st->last);
        st->has_last = st->busy = false;
        for (size_t k = 0; st->rec && k < st->nrec; k++)
            cJSON_Delete(st->rec[k]);
        free(st->rec);
        st->rec = NULL;
        st->first_ev = -1;
        st->nocc = 0;
        for (size_t k = 0; k < s->nev; k++)
            if (s->ev[k].serial_step == st) {
                if (st->first_ev < 0)
                    st->first_ev = (int)k;
                st->nocc++;
            }
        st->nrec = (size_t)st->nocc < KLEFR_SCN_REC_MAX ? (size_t)st->nocc : KLEFR_SCN_REC_MAX;
        st->rec = calloc(st->nrec ? st->nrec : 1, sizeof *st->rec);
    }
}

void klefr_scn_serial_stop(klefr_scn_play *r)
{
    if (!r->masters)
        return;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        klefr_scn_xrec_clear(&r->masters->m[k].rec);
        free(r->masters->m[k].q);
    }
    free(r->masters);
    r->masters = NULL;
}

cJSON *klefr_scn_serial_record(const klefr_scn *s, const klefr_scn_event *ev)
{
    const klefr_scn_serial *st = ev->serial_step;
    if (!st || !st->rec || st->first_ev < 0)
        return NULL;
    size_t occ = (size_t)((ev - s->ev) - st->first_ev);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "name", st->name);
    if (occ < st->nrec && st->rec[occ])
        cJSON_AddItemToObject(o, "run", cJSON_Duplicate(st->rec[occ], true));
    else
        cJSON_AddStringToObject(o, "run", occ < st->nrec ? "not run" : "not kept");
    return o;
}

