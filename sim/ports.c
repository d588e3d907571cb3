/* The host side of the meter's serial ports: each port's transport is one
 * master endpoint on the port's line (line.h); the line does all timing.
 *
 *   pty      bytes the master writes go on the line at the pty's baud (when
 *            --baud-check is on; a pty carries no parity or data bits, so
 *            those follow the meter); characters from the meter are written
 *            to the pty the moment their stop bit ends, as the master's
 *            UART would decode them.
 *   serial   a real port set to the meter's format: its UART does the
 *            decoding, errors come as PARMRK markers (serial_port.h).
 *   tcp      a device server in TCP-server mode: its serial side always
 *            matches the meter; every client hears the line, every client's
 *            bytes go onto it through the one UART.
 *   rfc2217  the same with the settings the clients set (RFC 2217): a client
 *            at other settings than the meter's is not understood. */
#include "ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io_wait.h"
#include "net_port.h"
#include "rfc2217.h"
#include "serial_port.h"
#include "uart_pty.h"

/* A master writing faster than the line: beyond this many characters
 * waiting for the wire, what it writes is dropped (and counted). */
#define MAX_BACKLOG 4096u

typedef enum { T_PTY, T_SERIAL, T_TCP, T_RFC2217 } transport;

static const char *const transport_names[] = {"pty", "serial", "tcp", "rfc2217"};

typedef struct {
    int fd; /* -1: free */
    char peer[64];
    klefr_rfc2217 tn;
} client;

typedef struct klefr_hostport hport;

typedef struct {
    hport *h;
    int k;
} client_ref;

/* One host transport on one line (a klefr_hostport). */
struct klefr_hostport {
    klefr_world *world;
    klefr_line *line;
    klefr_line_ep *ref; /* what the host cannot set follows this endpoint */
    klefr_ports_warn *warn;
    bool check_baud;
    char name[32];
    transport kind;
    bool open;
    klefr_line_ep *ep; /* the host's endpoint on the line */
    klefr_pty pty;
    klefr_serial ser;
    int fd;                /* pty or serial fd, or the listening socket */
    char link[4096];       /* pty symlink, serial device, or bound address */
    client cl[KLEFR_PORTS_MAX_CLIENTS];
    client_ref cref[KLEFR_PORTS_MAX_CLIENTS];
    klefr_uart_cfg set_cfg; /* rfc2217: the port's settings as clients set them */
    unsigned set;           /* rfc2217: which fields they set */
    uint64_t probe_wall_us; /* pty: when the master's settings were last read */
    uint32_t master_baud;
    klefr_pty_err_mode err_mode;
    uint64_t dropped; /* bytes from the host beyond MAX_BACKLOG, or not written */
    /* Characters for the host, written together once the sim has handed
     * over every one that ends at the same virtual time (with line timing
     * that is one at a time; without, a whole reply in one write). */
    uint8_t out[1024], out_flags[1024];
    size_t nout;
    uint64_t out_t;
    bool flush_posted;
    bool in_read_instant; /* handling the host's bytes, line timing off: flushed when done */
};

struct klefr_ports {
    klefr_sim *sim;
    klefr_ports_warn warn;
    klefr_hostport *h[KLEFR_PORT_COUNT];
};

void klefr_ports_opts_init(klefr_ports_opts *o)
{
    memset(o, 0, sizeof *o);
    o->line_timing = -1;
    o->check_baud = true;
}

int klefr_ports_onoff(const char *s)
{
    if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "yes"))
        return 1;
    if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "no"))
        return 0;
    return -1;
}

static transport kind_of(const char *spec, const char **rest)
{
    static const struct {
        const char *prefix;
        transport kind;
    } kinds[] = {{"serial:", T_SERIAL}, {"tcp:", T_TCP}, {"rfc2217:", T_RFC2217}};
    for (size_t k = 0; spec && k < sizeof kinds / sizeof kinds[0]; k++)
        if (!strncmp(spec, kinds[k].prefix, strlen(kinds[k].prefix))) {
            *rest = spec + strlen(kinds[k].prefix);
            return kinds[k].kind;
        }
    *rest = spec;
    return T_PTY;
}

int klefr_ports_check_spec(const char *spec, char *err, size_t errlen)
{
    const char *rest;
    transport t = kind_of(spec, &rest);
    char host[256], port[16];
    if ((t == T_TCP || t == T_RFC2217) &&
        klefr_net_parse(rest, host, sizeof host, port, sizeof port, err, errlen))
        return -1;
    if ((t == T_SERIAL || t == T_PTY) && !*rest) {
        snprintf(err, errlen, "empty %s", t == T_SERIAL ? "device name" : "path");
        return -1;
    }
    return 0;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Masters need real time: say so once when one shows up at --speed max. */
static void check_speed(hport *h)
{
    klefr_ports_warn *p = h->warn;
    if (!p || p->warned || !p->speed || *p->speed != 0)
        return;
    p->warned = true;
    fprintf(stderr,
            "klefr-sim: %s: a master is talking while the clock runs flat out (--speed max); "
            "the line keeps its timing in virtual time, but a master on the host runs in real "
            "time and will time out: use --speed 1\n",
            h->name);
}

/* Bytes from the host go on the line from t_us, unless the line is that
 * far behind already. */
static void to_line(hport *h, const uint8_t *d, const uint8_t *flags, size_t n, uint64_t t_us)
{
    if (!n)
        return;
    check_speed(h);
    size_t backlog = klefr_line_tx_pending(h->ep, t_us);
    if (backlog >= MAX_BACKLOG) {
        h->dropped += n;
        return;
    }
    if (n > MAX_BACKLOG - backlog) {
        h->dropped += n - (MAX_BACKLOG - backlog);
        n = MAX_BACKLOG - backlog;
    }
    klefr_line_send_flagged(h->ep, d, flags, n, t_us);
}

static void host_flush(void *arg, uint64_t t_us);

/* ---- pty ---- */

/* The master's settings, read at most once per wall millisecond while
 * characters go to it (within a burst it cannot have changed them), and
 * always when it has written (it may have switched just before). */
static void pty_refresh(hport *h, bool now)
{
    uint64_t wall = mono_us();
    if (!now && wall - h->probe_wall_us < 1000 && h->probe_wall_us)
        return;
    h->probe_wall_us = wall;
    klefr_pty_master_settings(&h->pty, &h->master_baud, &h->err_mode);
}

/* A master's open: what it has not read is from before it came and goes;
 * replies still queued for the loop's next wait go first, as they would
 * have been written already without io_uring. */
static void pty_take_open(hport *h)
{
    klefr_io_kick(h->world->io);
    klefr_pty_take_open(&h->pty);
}

/* The line asks for the pty endpoint's format: the baud the master set. */
static void pty_probe(void *arg, klefr_uart_cfg *fmt)
{
    hport *h = arg;
    pty_refresh(h, false);
    if (h->master_baud)
        fmt->baud = h->master_baud;
}

/* Characters for the master, as its tty would hand them over. */
static void pty_flush(hport *h)
{
    size_t n = 0;
    for (size_t k = 0; k < h->nout; k++) {
        uint8_t byte = h->out[k];
        if (h->out_flags[k]) {
            pty_refresh(h, false);
            if (h->err_mode == KLEFR_PTY_ERR_DROP)
                continue;
            if (h->err_mode == KLEFR_PTY_ERR_NUL)
                byte = 0;
        }
        h->out[n++] = byte;
    }
    if (h->pty.readers == 0) /* an open not yet taken from the watch */
        pty_take_open(h);
    if (klefr_pty_has_reader(&h->pty)) /* with io_uring: written with the loop's next wait */
        klefr_io_write(h->world->io, h->fd, h->out, n, &h->dropped);
}

/* A master opened the pty: it starts with nothing from before. */
static void pty_opened(void *arg, uint64_t t_us)
{
    hport *h = arg;
    (void)t_us;
    pty_take_open(h);
}

static void pty_ready(void *arg, uint64_t t_us)
{
    hport *h = arg;
    uint8_t buf[4096];
    long n = klefr_io_read(h->world->io, h->fd, buf, sizeof buf);
    if (n <= 0)
        return;
    if (h->pty.readers == 0) /* someone wrote, so it has the slave open: its open first */
        pty_take_open(h);
    if (h->pty.readers == 0 && h->pty.watch_fd >= 0)
        h->pty.readers = 1;
    /* The baud the master wrote at (the baud check): read now, as it may have
     * switched just before writing. With the line's timing off (throughput
     * runs, which give up timing around baud switches anyway) at most once
     * per wall millisecond, like the settings for the writes (docs/serial.md):
     * a syscall per request was a third of the loop's cost. */
    h->in_read_instant = !klefr_line_timing(klefr_line_ep_line(h->ep));
    if (h->check_baud)
        pty_refresh(h, !h->in_read_instant);
    to_line(h, buf, NULL, (size_t)n, t_us);
    h->in_read_instant = false;
    host_flush(h, t_us); /* without line timing the reply is already here */
}

/* ---- real serial port ---- */

/* The port's UART follows the meter's settings at the present. */
static void serial_follow(hport *h, uint64_t t_us)
{
    klefr_uart_cfg c = klefr_line_format(h->ep, t_us);
    klefr_serial_config(&h->ser, &c);
}

/* The real UART puts the bytes on its wire (flags are the virtual wire's
 * business, not the master's). */
static void serial_flush(hport *h)
{
    serial_follow(h, h->out_t);
    int w = klefr_serial_write(&h->ser, h->out, h->nout);
    if (w < (int)h->nout)
        h->dropped += h->nout - (size_t)(w > 0 ? w : 0);
    serial_follow(h, h->out_t); /* a change of settings right after these characters */
}

static void serial_ready(void *arg, uint64_t t_us)
{
    hport *h = arg;
    uint8_t d[512], f[512];
    serial_follow(h, t_us);
    int n = klefr_serial_read(&h->ser, d, f, sizeof d);
    if (n > 0)
        to_line(h, d, f, (size_t)n, t_us);
    host_flush(h, t_us);
}

/* ---- tcp and rfc2217 servers ---- */

static void client_close(hport *h, int k)
{
    klefr_world_remove_fd(h->world, h->cl[k].fd);
    close(h->cl[k].fd);
    h->cl[k].fd = -1;
}

static void client_send(hport *h, int k, const uint8_t *d, size_t n)
{
    if (!n)
        return;
    long w = klefr_net_send(h->cl[k].fd, d, n);
    if (w < 0) {
        client_close(h, k);
        return;
    }
    if ((size_t)w < n)
        h->dropped += n - (size_t)w;
}

/* Characters from the line for every client. */
static void net_flush(hport *h)
{
    for (int k = 0; k < KLEFR_PORTS_MAX_CLIENTS; k++) {
        if (h->cl[k].fd < 0)
            continue;
        if (h->kind == T_TCP) {
            client_send(h, k, h->out, h->nout);
            continue;
        }
        uint8_t buf[sizeof h->out * 2 + 64];
        klefr_bytes out = {buf, 0, sizeof buf, 0};
        for (size_t c = 0; c < h->nout; c++) {
            klefr_rfc2217_linestate(&h->cl[k].tn, h->out_flags[c], &out);
            klefr_rfc2217_data(&h->out[c], 1, &out);
        }
        client_send(h, k, out.p, out.n);
    }
}

/* ---- characters for the host ---- */

static void host_flush(void *arg, uint64_t t_us)
{
    hport *h = arg;
    (void)t_us;
    h->flush_posted = false;
    if (!h->nout)
        return;
    if (h->kind == T_PTY)
        pty_flush(h);
    else if (h->kind == T_SERIAL)
        serial_flush(h);
    else
        net_flush(h);
    h->nout = 0;
}

/* The line hands a character to the host endpoint: kept until every one
 * ending at the same time is here (an event at that time, posted after
 * them, writes them). */
static void host_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    hport *h = arg;
    if (h->nout == sizeof h->out || (h->nout && t_us != h->out_t))
        host_flush(h, t_us);
    h->out[h->nout] = byte;
    h->out_flags[h->nout++] = flags;
    h->out_t = t_us;
    if (h->in_read_instant)
        return; /* the whole reply comes now, within the read: written after it */
    if (!h->flush_posted)
        h->flush_posted = klefr_world_post(h->world, &(klefr_sim_event){.t_us = t_us,
                                                                         .kind = KLEFR_EV_CALL,
                                                                         .fn = host_flush,
                                                                         .arg = h});
    if (!h->flush_posted) /* no room in the queue: now */
        host_flush(h, t_us);
}

/* The rfc2217 port's settings: what the clients set, the meter's for the rest. */
static void rfc2217_apply(hport *h, unsigned set, const klefr_uart_cfg *cfg, uint64_t t_us)
{
    if (set & KLEFR_2217_SET_BAUD)
        h->set_cfg.baud = cfg->baud;
    if (set & KLEFR_2217_SET_DATA_BITS)
        h->set_cfg.data_bits = cfg->data_bits;
    if (set & KLEFR_2217_SET_PARITY)
        h->set_cfg.parity = cfg->parity;
    if (set & KLEFR_2217_SET_STOP_BITS)
        h->set_cfg.stop_bits = cfg->stop_bits;
    h->set |= set;
    klefr_line_set_format(h->ep, &h->set_cfg, t_us);
    klefr_line_follow(h->ep, h->ref, KLEFR_LINE_FOLLOW_ALL & ~h->set);
}

static void client_ready(void *arg, uint64_t t_us)
{
    client_ref *r = arg;
    hport *h = r->h;
    int k = r->k;
    uint8_t in[2048];
    long n = klefr_net_recv(h->cl[k].fd, in, sizeof in);
    if (n == -2)
        return;
    if (n <= 0) {
        client_close(h, k);
        return;
    }
    if (h->kind == T_TCP) {
        to_line(h, in, NULL, (size_t)n, t_us);
        host_flush(h, t_us);
        return;
    }
    uint8_t data[2048], ans[1024];
    klefr_bytes d = {data, 0, sizeof data, 0}, out = {ans, 0, sizeof ans, 0};
    unsigned set = klefr_rfc2217_input(&h->cl[k].tn, in, (size_t)n, &d, &out);
    if (set)
        rfc2217_apply(h, set, &h->cl[k].tn.cfg, t_us);
    client_send(h, k, out.p, out.n);
    to_line(h, d.p, NULL, d.n, t_us);
    host_flush(h, t_us);
}

static void listen_ready(void *arg, uint64_t t_us)
{
    hport *h = arg;
    (void)t_us;
    char peer[64];
    int fd = klefr_net_accept(h->fd, peer, sizeof peer);
    if (fd < 0)
        return;
    int k = 0;
    while (k < KLEFR_PORTS_MAX_CLIENTS && h->cl[k].fd >= 0)
        k++;
    if (k == KLEFR_PORTS_MAX_CLIENTS) { /* full, like a device server: refused */
        static const char msg[] = "klefr-sim: port busy (4 clients connected)\r\n";
        klefr_net_send(fd, (const uint8_t *)msg, sizeof msg - 1);
        close(fd);
        return;
    }
    if (klefr_world_add_fd(h->world, fd, client_ready, &h->cref[k])) {
        close(fd);
        return;
    }
    check_speed(h);
    h->cl[k].fd = fd;
    snprintf(h->cl[k].peer, sizeof h->cl[k].peer, "%s", peer);
    if (h->kind == T_RFC2217) {
        uint8_t buf[64];
        klefr_bytes out = {buf, 0, sizeof buf, 0};
        klefr_uart_cfg now = klefr_line_format(h->ep, t_us);
        klefr_rfc2217_start(&h->cl[k].tn, &now, &out);
        client_send(h, k, out.p, out.n);
    }
}

/* ---- opening and closing ---- */

static const char *default_state_dir(char *buf, size_t size)
{
    const char *e = getenv("KLEFR_STATE_DIR");
    if (e && *e)
        return e;
    e = getenv("XDG_RUNTIME_DIR");
    if (e && *e)
        snprintf(buf, size, "%s/klefr-sim", e);
    else
        snprintf(buf, size, "/tmp/klefr-sim-%ld", (long)getuid());
    return buf;
}

static int open_pty(hport *h, const char *path, const char *state_dir)
{
    klefr_uart_cfg c = klefr_line_format(h->ref, 0);
    if (klefr_pty_open(&h->pty, c.baud)) {
        fprintf(stderr, "klefr-sim: %s port: pty: %s\n", h->name, strerror(errno));
        return -1;
    }
    h->fd = h->pty.fd;
    if (path)
        snprintf(h->link, sizeof h->link, "%s", path);
    else {
        mkdir(state_dir, 0700);
        if (snprintf(h->link, sizeof h->link, "%s/%s", state_dir, h->name) >= (int)sizeof h->link) {
            fprintf(stderr, "klefr-sim: state directory path too long\n");
            klefr_pty_close(&h->pty);
            h->fd = -1;
            return -1;
        }
    }
    int rc = klefr_pty_link(&h->pty, h->link);
    if (rc && errno == EBUSY && !path) {
        /* The default link belongs to another live klefr-sim (two --ephemeral
         * runs): leave it alone; this run's port is its pty. */
        fprintf(stderr,
                "klefr-sim: %s port: %s is in use by another klefr-sim: no link (give "
                "--%s-port PATH for one)\n",
                h->name, h->link, h->name);
        h->link[0] = 0;
    } else if (rc) {
        if (errno == EBUSY)
            fprintf(stderr, "klefr-sim: %s port: link %s is in use by another klefr-sim\n",
                    h->name, h->link);
        else
            fprintf(stderr, "klefr-sim: %s port: link %s: %s\n", h->name, h->link,
                    strerror(errno));
        klefr_pty_close(&h->pty);
        h->fd = -1;
        return -1;
    }
    return 0;
}

static int open_transport(hport *h, const char *spec, const char *state_dir)
{
    const char *rest;
    h->kind = kind_of(spec, &rest);
    klefr_uart_cfg c = klefr_line_format(h->ref, 0);
    char err[300];
    void (*ready)(void *, uint64_t) = listen_ready;
    switch (h->kind) {
    case T_PTY:
        if (open_pty(h, spec, state_dir))
            return -1;
        ready = pty_ready;
        break;
    case T_SERIAL:
        if (klefr_serial_open(&h->ser, rest, &c, err, sizeof err)) {
            fprintf(stderr, "klefr-sim: %s port: %s\n", h->name, err);
            return -1;
        }
        h->fd = h->ser.fd;
        snprintf(h->link, sizeof h->link, "%s", rest);
        ready = serial_ready;
        break;
    case T_TCP:
    case T_RFC2217: {
        char host[256], port[16];
        if (klefr_net_parse(rest, host, sizeof host, port, sizeof port, err, sizeof err) ||
            (h->fd = klefr_net_listen(host, port, h->link, sizeof h->link, err, sizeof err)) < 0) {
            fprintf(stderr, "klefr-sim: %s port %s: %s\n", h->name, spec, err);
            return -1;
        }
        break;
    }
    }
    h->open = true;
    h->ep = klefr_line_attach(h->line, transport_names[h->kind], KLEFR_LINE_MASTER, &c, host_rx, h);
    if (!h->ep) {
        fprintf(stderr, "klefr-sim: out of memory\n");
        return -1;
    }
    /* What the host cannot set follows the meter (docs/serial.md). */
    unsigned follow = KLEFR_LINE_FOLLOW_ALL;
    if (h->kind == T_PTY && h->check_baud) {
        follow &= ~(unsigned)KLEFR_LINE_FOLLOW_BAUD;
        klefr_line_set_probe(h->ep, pty_probe, h);
    }
    klefr_line_follow(h->ep, h->ref, follow);
    h->set_cfg = c;
    /* The watch before the pty: the loop hands over ready fds in this order,
     * so an open is seen before the bytes the master then wrote (no syscall
     * more per request). */
    if ((h->kind == T_PTY && h->pty.watch_fd >= 0 &&
         klefr_world_add_fd(h->world, h->pty.watch_fd, pty_opened, h)) ||
        (h->kind == T_PTY ? klefr_world_add_reader : klefr_world_add_fd)(h->world, h->fd, ready,
                                                                         h)) {
        fprintf(stderr, "klefr-sim: %s port: too many fds\n", h->name);
        return -1;
    }
    return 0;
}

klefr_hostport *klefr_hostport_open(const klefr_hostport_opts *o)
{
    hport *h = calloc(1, sizeof *h);
    if (!h) {
        fprintf(stderr, "klefr-sim: out of memory\n");
        return NULL;
    }
    h->world = o->world;
    h->line = o->line;
    h->ref = o->ref;
    h->warn = o->warn;
    h->check_baud = o->check_baud;
    snprintf(h->name, sizeof h->name, "%s", o->name ? o->name : klefr_line_name(o->line));
    h->fd = -1;
    for (int c = 0; c < KLEFR_PORTS_MAX_CLIENTS; c++) {
        h->cl[c].fd = -1;
        h->cref[c] = (client_ref){h, c};
    }
    char sd[4096];
    const char *state_dir = o->state_dir ? o->state_dir : default_state_dir(sd, sizeof sd);
    if (open_transport(h, o->spec, state_dir)) {
        klefr_hostport_close(h);
        return NULL;
    }
    if (o->quiet)
        return h;
    const char *timing = klefr_line_timing(h->line) ? "" : " [no line timing]";
    if (h->kind == T_PTY)
        fprintf(stderr, "%s: %s (link: %s)%s\n", h->name, h->pty.slave_path,
                h->link[0] ? h->link : "none", timing);
    else if (h->kind == T_SERIAL)
        fprintf(stderr, "%s: %s (serial)%s\n", h->name, h->link, timing);
    else
        fprintf(stderr, "%s: %s %s (%s server, up to %d clients)%s\n", h->name,
                transport_names[h->kind], h->link, h->kind == T_TCP ? "raw TCP" : "RFC 2217",
                KLEFR_PORTS_MAX_CLIENTS, timing);
    return h;
}

int klefr_hostport_label(const klefr_hostport *h, char *buf, size_t size)
{
    if (!h || !h->open)
        return -1;
    if (h->kind == T_PTY)
        snprintf(buf, size, "%s: %s", h->name, h->pty.slave_path);
    else if (h->kind == T_SERIAL)
        snprintf(buf, size, "%s: %s", h->name, h->link);
    else
        snprintf(buf, size, "%s: %s:%s", h->name, transport_names[h->kind], h->link);
    return 0;
}

const char *klefr_hostport_link(const klefr_hostport *h)
{
    return h->link;
}

void klefr_hostport_close(klefr_hostport *h)
{
    if (!h)
        return;
    if (h->open)
        host_flush(h, 0);
    klefr_world_cancel(h->world, h); /* flushes still queued: h is going */
    for (int c = 0; c < KLEFR_PORTS_MAX_CLIENTS; c++)
        if (h->cl[c].fd >= 0)
            client_close(h, c);
    if (h->fd >= 0)
        klefr_world_remove_fd(h->world, h->fd);
    if (h->kind == T_PTY && h->pty.watch_fd >= 0)
        klefr_world_remove_fd(h->world, h->pty.watch_fd);
    if (h->ep)
        klefr_line_detach(h->ep);
    h->ep = NULL;
    if (h->kind == T_SERIAL && h->open)
        klefr_serial_close(&h->ser);
    else if (h->kind == T_PTY && h->fd >= 0) {
        if (h->link[0])
            klefr_pty_unlink(&h->pty, h->link); /* only if it is still ours */
        klefr_pty_close(&h->pty);
    } else if (h->fd >= 0)
        close(h->fd);
    free(h);
}

/* ---- the ports of a meter alone ---- */

klefr_ports *klefr_ports_open(klefr_sim *sim, const klefr_ports_opts *o)
{
    klefr_ports *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sim = sim;
    p->warn.speed = o->speed;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        klefr_line *line = klefr_sim_line(sim, (klefr_port)k);
        if (!line)
            continue;
        klefr_line_set_timing(line, o->line_timing != 0);
        klefr_hostport_opts ho = {.world = sim->world,
                                  .line = line,
                                  .ref = klefr_sim_uart_ep(sim, (klefr_port)k),
                                  .spec = o->path[k],
                                  .state_dir = o->state_dir,
                                  .check_baud = o->check_baud,
                                  .quiet = o->quiet,
                                  .warn = &p->warn};
        if (!(p->h[k] = klefr_hostport_open(&ho))) {
            klefr_ports_close(p);
            return NULL;
        }
    }
    return p;
}

int klefr_ports_label(const klefr_ports *p, klefr_port port, char *buf, size_t size)
{
    return klefr_hostport_label(p->h[port], buf, size);
}

void klefr_ports_close(klefr_ports *p)
{
    if (!p)
        return;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++)
        klefr_hostport_close(p->h[k]);
    free(p);
}
