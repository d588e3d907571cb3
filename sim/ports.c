/* Serial ports of the simulated meter and the line model.
 *
 * Receive: bytes the master wrote are read when the loop sees the fd ready.
 *   line timing on:  byte k ends at max(line free, now) + (k+1) * char time,
 *                    posted as KLEFR_EV_UART_RX at that virtual time;
 *   line timing off: delivered at once, at the current virtual time.
 *   When the master's baud (tcgetattr on the pty) differs from the meter's,
 *   every byte carries KLEFR_RX_ERR_FRAMING: the meter does not understand.
 * Transmit: the firmware queues a reply starting at t; with line timing it is
 *   written to the host when its last byte would have left the wire; without,
 *   at once. A real port does its own timing: written at the start time. */
#include "ports.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/uart_time.h"
#include "serial_port.h"
#include "uart_pty.h"

#define TXQ 16

typedef struct {
    uint8_t *data; /* malloc'd: a message of any length (an IEC readout) */
    size_t len;
    uint64_t t_write;
} tx_frame;

typedef struct {
    klefr_ports *owner;
    klefr_port port;
    const char *name;
    bool open;
    bool is_serial;
    klefr_pty pty;
    klefr_serial ser;
    int fd;
    char link[4096];
    uint64_t rx_free_us; /* the receive line is busy until then */
    uint64_t tx_free_us;
    tx_frame txq[TXQ];
    int txq_head, txq_n;
    uint64_t rx_bytes, tx_bytes, rx_garbled, tx_dropped;
    uint64_t last_read_wall_us; /* wall clock of the last read (baud check) */
    uint32_t master_baud;       /* the pty's baud at the last check */
} line;

struct klefr_ports {
    klefr_sim *sim;
    bool line_timing;
    bool check_baud;
    line lines[KLEFR_PORT_COUNT];
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

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static klefr_uart_cfg line_cfg(const line *l)
{
    klefr_uart_cfg c = l->owner->sim->uart_cfg[l->port];
    if (!c.baud)
        c = (klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1};
    return c;
}

static void host_write(line *l, const uint8_t *d, size_t n)
{
    if (l->is_serial)
        klefr_serial_config(&l->ser, &l->owner->sim->uart_cfg[l->port]);
    while (n) {
        ssize_t w = write(l->fd, d, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) { /* nobody reads and the buffer is full: the bytes are lost */
            l->tx_dropped += n;
            return;
        }
        d += w;
        n -= (size_t)w;
        l->tx_bytes += (uint64_t)w;
    }
}

/* KLEFR_EV_CALL: write the queued frames that are due. */
static void tx_due(void *arg, uint64_t t_us)
{
    line *l = arg;
    while (l->txq_n && l->txq[l->txq_head].t_write <= t_us) {
        tx_frame *f = &l->txq[l->txq_head];
        host_write(l, f->data, f->len);
        free(f->data);
        f->data = NULL;
        l->txq_head = (l->txq_head + 1) % TXQ;
        l->txq_n--;
    }
}

/* KLEFR_EV_CALL: a real port follows the meter's line settings, which may
 * change when a reply has been sent (baud or parity written). */
static void serial_follow(void *arg, uint64_t t_us)
{
    line *l = arg;
    (void)t_us;
    klefr_serial_config(&l->ser, &l->owner->sim->uart_cfg[l->port]);
}

static void ports_tx(void *arg, klefr_port port, const uint8_t *d, size_t n, uint64_t t_us)
{
    klefr_ports *p = arg;
    line *l = &p->lines[port];
    if (!l->open)
        return;
    klefr_uart_cfg c = line_cfg(l);
    if (l->is_serial) /* after the firmware's next ticks past the reply's end */
        klefr_sim_post(p->sim,
                       &(klefr_sim_event){.t_us = t_us + (uint64_t)n * klefr_uart_char_us(&c) +
                                                  3 * KLEFR_SIM_SLICE_US,
                                          .kind = KLEFR_EV_CALL,
                                          .fn = serial_follow,
                                          .arg = l});
    if (!p->line_timing) {
        host_write(l, d, n);
        return;
    }
    uint64_t start = t_us > l->tx_free_us ? t_us : l->tx_free_us;
    uint64_t end = start + (uint64_t)n * klefr_uart_char_us(&c);
    l->tx_free_us = end;
    uint8_t *copy = l->txq_n < TXQ ? malloc(n) : NULL;
    if (!copy) {
        l->tx_dropped += n;
        return;
    }
    memcpy(copy, d, n);
    tx_frame *f = &l->txq[(l->txq_head + l->txq_n++) % TXQ];
    f->data = copy;
    f->len = n;
    f->t_write = l->is_serial ? start : end;
    klefr_sim_post(p->sim, &(klefr_sim_event){
                               .t_us = f->t_write, .kind = KLEFR_EV_CALL, .fn = tx_due, .arg = l});
}

/* The fd is readable: take the master's bytes onto the line. */
static void rx_ready(void *arg, uint64_t now)
{
    line *l = arg;
    klefr_ports *p = l->owner;
    klefr_sim *s = p->sim;
    uint8_t buf[4096];
    ssize_t n = read(l->fd, buf, sizeof buf);
    if (n <= 0)
        return;
    if (l->is_serial)
        klefr_serial_config(&l->ser, &s->uart_cfg[l->port]);
    klefr_uart_cfg c = line_cfg(l);
    uint8_t flags = 0;
    if (p->check_baud && !l->is_serial && s->uart_cfg[l->port].baud) {
        /* Reading the pty's baud costs a syscall: within a burst of traffic
         * (< 1 ms wall clock between reads) the master cannot have reopened
         * the port with other settings, so the last answer stands. */
        uint64_t wall = mono_us();
        if (wall - l->last_read_wall_us > 1000)
            l->master_baud = klefr_pty_master_baud(&l->pty);
        l->last_read_wall_us = wall;
        if (l->master_baud && l->master_baud != s->uart_cfg[l->port].baud)
            flags = KLEFR_RX_ERR_FRAMING;
    }
    l->rx_bytes += (uint64_t)n;
    if (flags)
        l->rx_garbled += (uint64_t)n;
    uint32_t char_us = klefr_uart_char_us(&c);
    for (ssize_t k = 0; k < n; k++) {
        if (!p->line_timing) {
            if (s->powered)
                klefr_meter_uart_rx(&s->meter, l->port, buf[k], flags, now);
            continue;
        }
        uint64_t t = (l->rx_free_us > now ? l->rx_free_us : now) + char_us;
        l->rx_free_us = t;
        klefr_sim_post(s, &(klefr_sim_event){.t_us = t,
                                             .kind = KLEFR_EV_UART_RX,
                                             .port = (uint8_t)l->port,
                                             .byte = buf[k],
                                             .flags = flags});
    }
}

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

static int open_line(klefr_ports *p, line *l, const char *path, const char *state_dir)
{
    klefr_uart_cfg c = line_cfg(l);
    char err[256];
    if (path && !strncmp(path, "serial:", 7)) {
        if (klefr_serial_open(&l->ser, path + 7, &c, err, sizeof err)) {
            fprintf(stderr, "klefr-sim: %s port: %s\n", l->name, err);
            return -1;
        }
        l->is_serial = true;
        l->fd = l->ser.fd;
        snprintf(l->link, sizeof l->link, "%s", path + 7);
    } else {
        if (klefr_pty_open(&l->pty, c.baud)) {
            fprintf(stderr, "klefr-sim: %s port: pty: %s\n", l->name, strerror(errno));
            return -1;
        }
        l->fd = l->pty.fd;
        if (path)
            snprintf(l->link, sizeof l->link, "%s", path);
        else {
            mkdir(state_dir, 0700);
            if (snprintf(l->link, sizeof l->link, "%s/%s", state_dir, l->name) >=
                (int)sizeof l->link) {
                fprintf(stderr, "klefr-sim: state directory path too long\n");
                klefr_pty_close(&l->pty);
                return -1;
            }
        }
        int rc = klefr_pty_link(&l->pty, l->link);
        if (rc && errno == EBUSY && !path) {
            /* The default link belongs to another live klefr-sim (two
             * --ephemeral runs): leave it alone; this run's port is its pty. */
            fprintf(stderr,
                    "klefr-sim: %s port: %s is in use by another klefr-sim: no link (give "
                    "--%s-port PATH for one)\n",
                    l->name, l->link, l->name);
            l->link[0] = 0;
        } else if (rc) {
            if (errno == EBUSY)
                fprintf(stderr, "klefr-sim: %s port: link %s is in use by another klefr-sim\n",
                        l->name, l->link);
            else
                fprintf(stderr, "klefr-sim: %s port: link %s: %s\n", l->name, l->link,
                        strerror(errno));
            klefr_pty_close(&l->pty);
            return -1;
        }
    }
    if (klefr_sim_add_fd(p->sim, l->fd, rx_ready, l)) {
        fprintf(stderr, "klefr-sim: %s port: too many fds\n", l->name);
        return -1;
    }
    l->open = true;
    return 0;
}

klefr_ports *klefr_ports_open(klefr_sim *sim, const klefr_ports_opts *o)
{
    klefr_ports *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sim = sim;
    p->line_timing = o->line_timing < 0 ? !o->headless : o->line_timing != 0;
    p->check_baud = o->check_baud;
    char sd[4096];
    const char *state_dir = o->state_dir ? o->state_dir : default_state_dir(sd, sizeof sd);
    /* Every model has the optical port (IEC 62056-21); the bus port
     * (terminals 10/11) exists on the 6923 (M-bus) and the 6924 (Modbus). */
    const char *bus = klefr_model_has_modbus(sim->model) ? "modbus"
                      : klefr_model_has_mbus(sim->model) ? "mbus"
                                                         : NULL;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        p->lines[k].owner = p;
        p->lines[k].port = (klefr_port)k;
        p->lines[k].fd = -1;
    }
    const char *names[KLEFR_PORT_COUNT] = {[KLEFR_PORT_IR] = "ir", [KLEFR_PORT_BUS] = bus};
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        line *l = &p->lines[k];
        if (!names[k])
            continue;
        l->name = names[k];
        if (open_line(p, l, o->path[k], state_dir)) {
            klefr_ports_close(p);
            return NULL;
        }
        if (!o->quiet)
            fprintf(stderr, "%s: %s (link: %s)%s\n", l->name, l->is_serial ? l->link : l->pty.slave_path,
                   l->is_serial ? "serial" : l->link[0] ? l->link : "none",
                   p->line_timing ? "" : " [no line timing]");
    }
    sim->uart_tx = ports_tx;
    sim->uart_tx_arg = p;
    return p;
}

int klefr_ports_label(const klefr_ports *p, klefr_port port, char *buf, size_t size)
{
    const line *l = &p->lines[port];
    if (!l->open)
        return -1;
    snprintf(buf, size, "%s: %s", l->name, l->is_serial ? l->link : l->pty.slave_path);
    return 0;
}

void klefr_ports_close(klefr_ports *p)
{
    if (!p)
        return;
    if (p->sim->uart_tx_arg == p)
        p->sim->uart_tx = NULL;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++) {
        line *l = &p->lines[k];
        if (!l->open)
            continue;
        /* Take the fd out of the sim loop's registry. */
        for (int i = 0; i < p->sim->nfds; i++)
            if (p->sim->fds[i].arg == l) {
                p->sim->fds[i] = p->sim->fds[--p->sim->nfds];
                break;
            }
        for (int i = 0; i < l->txq_n; i++) /* replies still on the line */
            free(l->txq[(l->txq_head + i) % TXQ].data);
        if (l->is_serial)
            klefr_serial_close(&l->ser);
        else {
            if (l->link[0])
                klefr_pty_unlink(&l->pty, l->link); /* only if it is still ours */
            klefr_pty_close(&l->pty);
        }
        l->open = false;
    }
    free(p);
}
