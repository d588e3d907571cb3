/* The Modbus TCP to RTU gateway (mb_gateway.h): TCP clients on one side,
 * a master endpoint on an RS-485 line on the other, one request at a time.
 *
 *   state IDLE --request queued--> (wait until the line is free) --> ON_LINE
 *   ON_LINE --reply frame for the unit, CRC good--> relay, IDLE after t3.5
 *   ON_LINE --timeout--> exception 0x0B, IDLE
 *   unit 0 --> frame sent, no reply, IDLE after KLEFR_MBGW_BROADCAST_US */
#include "mb_gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_port.h"
#include "proto/modbus_rtu.h"

#define PDU_MAX 253
#define EX_BUSY 0x06
#define EX_NO_RESPONSE 0x0B

typedef struct {
    int fd; /* -1: free */
    uint32_t gen; /* bumped when the slot is reused: late replies go nowhere */
    uint8_t in[2 * (7 + PDU_MAX)];
    size_t nin;
} gw_client;

typedef struct {
    int client;
    uint32_t gen;
    uint16_t tid;
    uint8_t unit;
    uint8_t pdu[PDU_MAX];
    size_t n;
} gw_req;

typedef struct {
    klefr_mbgw *g;
    int k;
} gw_ref;

struct klefr_mbgw {
    klefr_world *world;
    klefr_line *line;
    klefr_line_ep *ep;
    uint32_t timeout_us;
    char name[32];
    int lfd;
    char bound[128];
    gw_client cl[KLEFR_MBGW_MAX_CLIENTS];
    gw_ref ref[KLEFR_MBGW_MAX_CLIENTS];
    gw_req q[KLEFR_MBGW_QUEUE];
    size_t qhead, qn;
    bool on_line;         /* cur is on the line, waiting for its reply */
    gw_req cur;
    uint64_t deadline_us; /* cur times out then */
    uint64_t free_us;     /* the next request may start then */
    bool start_posted;
    uint8_t rx[260];
    size_t nrx;
    bool rx_bad;
    uint64_t rx_last_us;
    bool silence_posted;
    klefr_mbgw_stats st;
};

/* ---- frames ---- */

int klefr_mbap_frame_len(const uint8_t *buf, size_t n)
{
    if (n >= 4 && (buf[2] | buf[3]))
        return -1; /* protocol id: 0 is Modbus */
    if (n < 6)
        return 0;
    unsigned len = (unsigned)buf[4] << 8 | buf[5]; /* unit + PDU */
    if (len < 2 || len > 1 + PDU_MAX)
        return -1;
    return n >= 6 + len ? (int)(6 + len) : 0;
}

size_t klefr_rtu_reply_len(const uint8_t *buf, size_t n)
{
    if (n < 2)
        return 0;
    uint8_t fc = buf[1];
    if (fc & 0x80)
        return 5;
    switch (fc) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
        return n < 3 ? 0 : 5u + buf[2];
    case 0x05:
    case 0x06:
    case 0x0F:
    case 0x10:
        return 8;
    default:
        return 0; /* by silence */
    }
}

static uint32_t t35_us(klefr_mbgw *g, uint64_t t_us)
{
    klefr_uart_cfg c = klefr_line_format(g->ep, t_us);
    return klefr_mbrtu_t35_us(&c);
}

/* ---- clients ---- */

static void client_close(klefr_mbgw *g, int k)
{
    klefr_world_remove_fd(g->world, g->cl[k].fd);
    close(g->cl[k].fd);
    g->cl[k].fd = -1;
    g->cl[k].nin = 0;
    g->cl[k].gen++;
}

static void respond(klefr_mbgw *g, const gw_req *r, const uint8_t *pdu, size_t n)
{
    gw_client *c = &g->cl[r->client];
    if (c->fd < 0 || c->gen != r->gen)
        return; /* the client left meanwhile */
    uint8_t out[7 + PDU_MAX];
    out[0] = (uint8_t)(r->tid >> 8);
    out[1] = (uint8_t)r->tid;
    out[2] = out[3] = 0;
    out[4] = (uint8_t)((n + 1) >> 8);
    out[5] = (uint8_t)(n + 1);
    out[6] = r->unit;
    memcpy(out + 7, pdu, n);
    if (klefr_net_send(c->fd, out, 7 + n) < 0)
        client_close(g, r->client);
}

static void respond_exception(klefr_mbgw *g, const gw_req *r, uint8_t code)
{
    uint8_t pdu[2] = {(uint8_t)(r->pdu[0] | 0x80), code};
    respond(g, r, pdu, sizeof pdu);
}

/* ---- the line side ---- */

static void on_start(void *arg, uint64_t t_us);

/* The next request, when the line is free. */
static void kick(klefr_mbgw *g, uint64_t t_us)
{
    if (g->on_line || !g->qn || g->start_posted)
        return;
    uint64_t t = t_us > g->free_us ? t_us : g->free_us;
    g->start_posted = klefr_world_post(
        g->world, &(klefr_sim_event){.t_us = t, .kind = KLEFR_EV_CALL, .fn = on_start, .arg = g});
}

static void done(klefr_mbgw *g, uint64_t t_us)
{
    g->on_line = false;
    g->nrx = 0;
    g->rx_bad = false;
    uint64_t quiet = (g->rx_last_us > t_us ? g->rx_last_us : t_us) + t35_us(g, t_us);
    if (quiet > g->free_us)
        g->free_us = quiet;
    kick(g, t_us);
}

static void on_timeout(void *arg, uint64_t t_us)
{
    klefr_mbgw *g = arg;
    if (!g->on_line || t_us < g->deadline_us)
        return; /* answered, or this is an earlier request's timer */
    uint64_t quiet = g->rx_last_us + t35_us(g, t_us);
    if (g->nrx && quiet >= t_us) { /* a reply is still coming: let it end */
        g->deadline_us = quiet + 1;
        klefr_world_post(g->world, &(klefr_sim_event){.t_us = g->deadline_us,
                                                      .kind = KLEFR_EV_CALL,
                                                      .fn = on_timeout, .arg = g});
        return;
    }
    g->st.timeouts++;
    respond_exception(g, &g->cur, EX_NO_RESPONSE);
    done(g, t_us);
}

static void on_start(void *arg, uint64_t t_us)
{
    klefr_mbgw *g = arg;
    g->start_posted = false;
    if (g->on_line || !g->qn)
        return;
    g->cur = g->q[g->qhead];
    g->qhead = (g->qhead + 1) % KLEFR_MBGW_QUEUE;
    g->qn--;
    uint8_t f[1 + PDU_MAX + 2];
    f[0] = g->cur.unit;
    memcpy(f + 1, g->cur.pdu, g->cur.n);
    uint16_t crc = klefr_crc16_modbus(f, 1 + g->cur.n);
    f[1 + g->cur.n] = (uint8_t)crc;
    f[2 + g->cur.n] = (uint8_t)(crc >> 8);
    g->nrx = 0;
    g->rx_bad = false;
    bool broadcast = g->cur.unit == 0;
    g->on_line = !broadcast; /* before sending: without line timing the reply comes within */
    uint64_t end = klefr_line_send(g->ep, f, 3 + g->cur.n, t_us);
    if (broadcast) {
        g->st.broadcasts++;
        g->free_us = end + KLEFR_MBGW_BROADCAST_US;
        kick(g, t_us);
        return;
    }
    if (!g->on_line)
        return; /* answered already */
    g->deadline_us = end + g->timeout_us;
    klefr_world_post(g->world, &(klefr_sim_event){.t_us = g->deadline_us, .kind = KLEFR_EV_CALL,
                                                  .fn = on_timeout, .arg = g});
}

/* The bytes in rx are a whole frame: the reply if it is one. */
static bool take_reply(klefr_mbgw *g, size_t len, uint64_t t_us)
{
    const uint8_t *r = g->rx;
    bool ok = !g->rx_bad && len >= 4 && klefr_crc16_modbus(r, len) == 0 && r[0] == g->cur.unit &&
              (r[1] & 0x7F) == g->cur.pdu[0];
    if (!ok)
        return false;
    g->st.replies++;
    respond(g, &g->cur, r + 1, len - 3);
    done(g, t_us);
    return true;
}

static void on_silence(void *arg, uint64_t t_us)
{
    klefr_mbgw *g = arg;
    g->silence_posted = false;
    if (!g->on_line || !g->nrx)
        return;
    uint64_t quiet = g->rx_last_us + t35_us(g, t_us);
    if (t_us < quiet) { /* more came meanwhile */
        g->silence_posted = klefr_world_post(g->world, &(klefr_sim_event){.t_us = quiet,
                                                                          .kind = KLEFR_EV_CALL,
                                                                          .fn = on_silence,
                                                                          .arg = g});
        return;
    }
    if (!take_reply(g, g->nrx, t_us)) { /* junk, another unit's frame: wait on */
        g->nrx = 0;
        g->rx_bad = false;
    }
}

static void line_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_mbgw *g = arg;
    if (!g->on_line)
        return; /* nothing asked: another master's traffic, late bytes */
    if (g->nrx && t_us > g->rx_last_us + t35_us(g, t_us)) { /* a new frame after silence */
        g->nrx = 0;
        g->rx_bad = false;
    }
    g->rx_last_us = t_us;
    if (g->nrx == sizeof g->rx) {
        g->nrx = 0;
        g->rx_bad = false;
    }
    g->rx[g->nrx++] = byte;
    g->rx_bad |= flags != 0;
    size_t len = klefr_rtu_reply_len(g->rx, g->nrx);
    if (len && g->nrx == len && take_reply(g, len, t_us))
        return;
    if (!g->silence_posted)
        g->silence_posted = klefr_world_post(
            g->world, &(klefr_sim_event){.t_us = t_us + t35_us(g, t_us), .kind = KLEFR_EV_CALL,
                                         .fn = on_silence, .arg = g});
}

/* ---- the TCP side ---- */

static void enqueue(klefr_mbgw *g, int k, const uint8_t *f, size_t n, uint64_t t_us)
{
    gw_req r = {.client = k,
                .gen = g->cl[k].gen,
                .tid = (uint16_t)(f[0] << 8 | f[1]),
                .unit = f[6],
                .n = n - 7};
    memcpy(r.pdu, f + 7, r.n);
    g->st.requests++;
    if (g->qn == KLEFR_MBGW_QUEUE) {
        g->st.busy++;
        respond_exception(g, &r, EX_BUSY);
        return;
    }
    g->q[(g->qhead + g->qn) % KLEFR_MBGW_QUEUE] = r;
    g->qn++;
    kick(g, t_us);
}

static void client_ready(void *arg, uint64_t t_us)
{
    gw_ref *ref = arg;
    klefr_mbgw *g = ref->g;
    gw_client *c = &g->cl[ref->k];
    long n = klefr_net_recv(c->fd, c->in + c->nin, sizeof c->in - c->nin);
    if (n == -2)
        return;
    if (n <= 0) {
        client_close(g, ref->k);
        return;
    }
    c->nin += (size_t)n;
    for (;;) {
        int len = klefr_mbap_frame_len(c->in, c->nin);
        if (len < 0) { /* not Modbus TCP: the stream cannot be resynchronised */
            g->st.bad++;
            client_close(g, ref->k);
            return;
        }
        if (len == 0)
            return;
        enqueue(g, ref->k, c->in, (size_t)len, t_us);
        memmove(c->in, c->in + len, c->nin - (size_t)len);
        c->nin -= (size_t)len;
    }
}

static void listen_ready(void *arg, uint64_t t_us)
{
    klefr_mbgw *g = arg;
    (void)t_us;
    char peer[64];
    int fd = klefr_net_accept(g->lfd, peer, sizeof peer);
    if (fd < 0)
        return;
    int k = 0;
    while (k < KLEFR_MBGW_MAX_CLIENTS && g->cl[k].fd >= 0)
        k++;
    if (k == KLEFR_MBGW_MAX_CLIENTS || klefr_world_add_fd(g->world, fd, client_ready, &g->ref[k])) {
        close(fd); /* full, as a gateway's connection limit */
        return;
    }
    g->cl[k].fd = fd;
    g->cl[k].nin = 0;
}

/* ---- opening ---- */

klefr_mbgw *klefr_mbgw_open(const klefr_mbgw_opts *o, char *err, size_t errlen)
{
    klefr_mbgw *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->world = o->world;
    g->line = o->line;
    g->timeout_us = (o->timeout_ms ? o->timeout_ms : KLEFR_MBGW_TIMEOUT_MS) * 1000u;
    snprintf(g->name, sizeof g->name, "%s", o->name ? o->name : "modbus-gw");
    g->lfd = -1;
    for (int k = 0; k < KLEFR_MBGW_MAX_CLIENTS; k++) {
        g->cl[k].fd = -1;
        g->ref[k] = (gw_ref){g, k};
    }
    char host[256], port[16], why[300];
    if (strncmp(o->listen, "tcp:", 4)) {
        snprintf(err, errlen, "%s: a gateway listens on tcp:[HOST:]PORT", o->listen);
        free(g);
        return NULL;
    }
    if (klefr_net_parse(o->listen + 4, host, sizeof host, port, sizeof port, why, sizeof why) ||
        (g->lfd = klefr_net_listen(host, port, g->bound, sizeof g->bound, why, sizeof why)) < 0) {
        snprintf(err, errlen, "%s: %s", o->listen, why);
        free(g);
        return NULL;
    }
    klefr_uart_cfg fmt = klefr_line_format(o->ref, 0);
    g->ep = klefr_line_attach(o->line, "gateway", KLEFR_LINE_MASTER, &fmt, line_rx, g);
    if (!g->ep || klefr_world_add_fd(g->world, g->lfd, listen_ready, g)) {
        snprintf(err, errlen, "out of memory");
        klefr_mbgw_close(g);
        return NULL;
    }
    klefr_line_follow(g->ep, o->ref, KLEFR_LINE_FOLLOW_ALL);
    if (!o->quiet)
        fprintf(stderr,
                "%s: Modbus TCP gateway on %s for line %s (timeout %u ms, up to %d clients)\n",
                g->name, g->bound, klefr_line_name(o->line), g->timeout_us / 1000u,
                KLEFR_MBGW_MAX_CLIENTS);
    return g;
}

void klefr_mbgw_close(klefr_mbgw *g)
{
    if (!g)
        return;
    klefr_world_cancel(g->world, g);
    for (int k = 0; k < KLEFR_MBGW_MAX_CLIENTS; k++)
        if (g->cl[k].fd >= 0)
            client_close(g, k);
    if (g->lfd >= 0) {
        klefr_world_remove_fd(g->world, g->lfd);
        close(g->lfd);
    }
    if (g->ep)
        klefr_line_detach(g->ep);
    free(g);
}

const char *klefr_mbgw_address(const klefr_mbgw *g)
{
    return g->bound;
}

klefr_mbgw_stats klefr_mbgw_get_stats(const klefr_mbgw *g)
{
    return g->st;
}
