/* The loop's wait on the host fds: io_uring (a poll, or a read for fds whose
 * ready() takes its bytes from klefr_io_read, armed per fd; queued writes
 * submitted with the wait) with a ppoll fallback (io_wait.h). */
#include "io_wait.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "world.h"

#ifdef KLEFR_HAVE_LIBURING
#include <liburing.h>
#endif

#define READ_BUF 4096u  /* what the kernel reads for an fd at once (a pty's 4 KiB) */
#define WRITE_BUF 4096u /* writes to one fd queued until the next wait */

const char *klefr_io_kind_to_str(klefr_io_kind k)
{
    return k == KLEFR_IO_URING ? "io_uring" : "ppoll";
}

/* Plain write of everything, on a non-blocking fd. */
static void write_now(int fd, const uint8_t *d, size_t n, uint64_t *dropped)
{
    while (n) {
        ssize_t w = write(fd, d, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) { /* nobody reads and the buffer is full: the bytes are lost */
            *dropped += n;
            return;
        }
        d += w;
        n -= (size_t)w;
    }
}

#ifdef KLEFR_HAVE_LIBURING
/* One watched fd. */
typedef struct {
    int fd;           /* -1: free */
    uint32_t gen;     /* in user_data: a CQE of an earlier occupant is ignored */
    bool reads;       /* a read is armed, not a poll */
    bool armed;       /* its poll or read is in the kernel */
    bool fired;       /* readable (poll), or got is valid (read) */
    uint8_t *rbuf;    /* reads: what the kernel read */
    long got;         /* bytes in rbuf, 0 = end of file, < 0 = -errno */
    size_t off;       /* bytes of rbuf already taken */
    uint8_t *wbuf;    /* writes queued, then in flight */
    size_t wn;
    bool w_queued;    /* on the write list, not yet submitted */
    bool w_inflight;  /* submitted, no completion yet */
    uint64_t *dropped;
} slot;

enum { UD_POLL, UD_READ, UD_WRITE, UD_CANCEL };
#define UD(k, s, kind) ((uint64_t)(s)->gen << 32 | (uint64_t)(k) << 2 | (kind))
/* The wait's deadline, a timeout kept in the kernel, and its updates. */
#define UD_TMO UINT64_MAX
#define UD_TMO_UPDATE (UINT64_MAX - 1u)
/* A timeout in the kernel serves a wait whose deadline is up to TMO_LATE
 * before it (a timer fires that late anyway: the kernel's default slack for
 * a task's timers is 50 us) or any time after it (it wakes the loop early,
 * which waits again for the rest). */
#define TMO_LATE_NS 20000u
#define TMO_MAX_NS 3600000000000u /* longer waits wake once an hour */
#endif

struct klefr_io {
    klefr_world *w;
    klefr_io_kind kind;
#ifdef KLEFR_HAVE_LIBURING
    struct io_uring ring;
    slot *s;
    int ns, cap;
    int *slot_of; /* fd -> slot index, -1 */
    int nfd_map;
    int *wlist;   /* slots with queued writes */
    int nw;
    int fired_reads; /* read slots holding bytes not yet taken */
    /* The deadline's timeout in the kernel (absolute, CLOCK_MONOTONIC), so a
     * wait arms no timer of its own: one timeout a slice, not one a request. */
    bool tmo_armed;
    uint64_t tmo_at;
    struct __kernel_timespec tmo_ts; /* read by the kernel at submission */
#endif
};

klefr_io_kind klefr_io_kind_of(const klefr_io *io)
{
    return io->kind;
}

/* ---- ppoll ---- */

static int poll_wait(klefr_io *io, uint64_t timeout_ns, int *out, int max)
{
    klefr_world *w = io->w;
    struct pollfd pfd[KLEFR_SIM_MAX_FDS];
    int n = w->nfds;
    for (int k = 0; k < n; k++)
        pfd[k] = (struct pollfd){.fd = w->fds[k].fd, .events = POLLIN};
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
                          .tv_nsec = (long)(timeout_ns % 1000000000u)};
    if (ppoll(pfd, (nfds_t)n, &ts, NULL) <= 0)
        return 0; /* timeout, or EINTR from a signal: the caller checks stop */
    int m = 0;
    for (int k = 0; k < n && m < max; k++)
        if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
            out[m++] = pfd[k].fd;
    return m;
}

#ifdef KLEFR_HAVE_LIBURING
/* ---- io_uring ---- */

static slot *slot_for(klefr_io *io, int fd)
{
    if (fd < 0 || fd >= io->nfd_map || io->slot_of[fd] < 0)
        return NULL;
    return &io->s[io->slot_of[fd]];
}

static struct io_uring_sqe *sqe_get(klefr_io *io)
{
    struct io_uring_sqe *q = io_uring_get_sqe(&io->ring);
    if (!q) { /* the submission queue is full: in with what is there */
        io_uring_submit(&io->ring);
        q = io_uring_get_sqe(&io->ring);
    }
    return q;
}

static void complete(klefr_io *io, const struct io_uring_cqe *c)
{
    if (c->user_data == UD_TMO) { /* fired (or cancelled): no timeout in the kernel */
        io->tmo_armed = false;
        return;
    }
    if (c->user_data == UD_TMO_UPDATE)
        return;
    unsigned k = (unsigned)(c->user_data >> 2) & 0x3fffffffu;
    int kind = (int)(c->user_data & 3);
    if (kind == UD_CANCEL || (int)k >= io->ns)
        return;
    slot *s = &io->s[k];
    if (s->fd < 0 || s->gen != (uint32_t)(c->user_data >> 32))
        return;
    if (kind == UD_WRITE) {
        s->w_inflight = false;
        size_t n = s->wn;
        s->wn = 0;
        if (c->res < 0 && c->res != -EINTR && c->res != -ECANCELED)
            *s->dropped += n;
        else /* a short write (or none): the rest now, as write() would be */
            write_now(s->fd, s->wbuf + (c->res > 0 ? c->res : 0), n - (size_t)(c->res > 0 ? c->res : 0),
                      s->dropped);
        return;
    }
    s->armed = false;
    if (kind == UD_READ && c->res == -EAGAIN) {
        /* A kernel that does not wait in a read of a non-blocking fd: a
         * poll then, and the ready() reads for itself. */
        s->reads = false;
        return;
    }
    if (c->res == -ECANCELED || c->res == -EAGAIN || c->res == -EINTR)
        return; /* armed again at the next wait */
    if (kind == UD_READ) {
        s->got = c->res;
        s->off = 0;
        io->fired_reads++;
    }
    s->fired = true;
}

static void reap(klefr_io *io)
{
    struct io_uring_cqe *c;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&io->ring, head, c)
    {
        complete(io, c);
        n++;
    }
    io_uring_cq_advance(&io->ring, n);
}

/* The queued writes into the submission queue (submitted by the caller).
 * How many. */
static unsigned prep_writes(klefr_io *io)
{
    unsigned n = 0;
    for (int j = 0; j < io->nw; j++) {
        slot *s = &io->s[io->wlist[j]];
        if (!s->w_queued)
            continue;
        struct io_uring_sqe *q = sqe_get(io);
        if (!q) { /* cannot happen with an empty queue: write it ourselves */
            s->w_queued = false;
            size_t n = s->wn;
            s->wn = 0;
            write_now(s->fd, s->wbuf, n, s->dropped);
            continue;
        }
        io_uring_prep_write(q, s->fd, s->wbuf, (unsigned)s->wn, (uint64_t)-1);
        io_uring_sqe_set_data64(q, UD(io->wlist[j], s, UD_WRITE));
        s->w_queued = false;
        s->w_inflight = true;
        n++;
    }
    io->nw = 0;
    return n;
}

/* Until slot k has nothing in the kernel (writes, and its poll or read when
 * armed too). */
static void settle(klefr_io *io, int k, bool armed_too)
{
    for (;;) {
        slot *s = &io->s[k];
        if (!s->w_inflight && !(armed_too && s->armed))
            return;
        struct io_uring_cqe *c;
        int r = io_uring_wait_cqe(&io->ring, &c);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return;
        reap(io);
    }
}

void klefr_io_kick(klefr_io *io)
{
    if (!io || io->kind != KLEFR_IO_URING || !io->nw)
        return;
    prep_writes(io);
    io_uring_submit(&io->ring);
    reap(io); /* a pty write completes within the submission */
}

static void arm(klefr_io *io, int k)
{
    slot *s = &io->s[k];
    struct io_uring_sqe *q = sqe_get(io);
    if (!q)
        return;
    if (s->reads) {
        io_uring_prep_read(q, s->fd, s->rbuf, READ_BUF, (uint64_t)-1);
        io_uring_sqe_set_data64(q, UD(k, s, UD_READ));
    } else {
        io_uring_prep_poll_add(q, s->fd, POLLIN);
        io_uring_sqe_set_data64(q, UD(k, s, UD_POLL));
    }
    s->armed = true;
}

/* The kernel's timeout at at (CLOCK_MONOTONIC ns): the one there kept when
 * it serves, moved when it would fire too late, added when there is none.
 * How many completions that adds to the wait's (a move has its own). */
static unsigned deadline(klefr_io *io, uint64_t at)
{
    if (io->tmo_armed && io->tmo_at <= at + TMO_LATE_NS)
        return 0;
    struct io_uring_sqe *q = sqe_get(io);
    if (!q)
        return 0;
    io->tmo_ts = (struct __kernel_timespec){.tv_sec = (long long)(at / 1000000000u),
                                            .tv_nsec = (long long)(at % 1000000000u)};
    if (io->tmo_armed) {
        io_uring_prep_timeout_update(q, &io->tmo_ts, UD_TMO, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(q, UD_TMO_UPDATE);
    } else {
        io_uring_prep_timeout(q, &io->tmo_ts, 0, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(q, UD_TMO);
    }
    unsigned moved = io->tmo_armed;
    io->tmo_armed = true;
    io->tmo_at = at;
    return moved;
}

static int uring_wait(klefr_io *io, uint64_t timeout_ns, int *out, int max)
{
    for (int k = 0; k < io->ns; k++)
        if (io->s[k].fd >= 0 && !io->s[k].armed && !io->s[k].fired)
            arm(io, k);
    /* The writes complete within the submission (a pty's always do): wait
     * for one completion more, the next input. */
    unsigned writes = prep_writes(io);
    /* Bytes not all taken yet: they are input now. */
    if (io->fired_reads)
        timeout_ns = 0;
    if (timeout_ns) {
        /* wait for the writes, then input or the deadline's timeout */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        unsigned moved =
            deadline(io, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec +
                             (timeout_ns < TMO_MAX_NS ? timeout_ns : TMO_MAX_NS));
        io_uring_submit_and_wait(&io->ring, writes + moved + 1);
    } else { /* a look: what is there now */
        struct __kernel_timespec ts = {0, 0};
        struct io_uring_cqe *c;
        io_uring_submit_and_wait_timeout(&io->ring, &c, writes + 1, &ts, NULL);
    }
    reap(io);
    klefr_world *w = io->w;
    int m = 0;
    for (int j = 0; j < w->nfds && m < max; j++) {
        slot *s = slot_for(io, w->fds[j].fd);
        if (!s || !s->fired)
            continue;
        out[m++] = s->fd;
        if (!s->reads)
            s->fired = false; /* armed again next time: level-triggered, as ppoll */
    }
    return m;
}

long klefr_io_read(klefr_io *io, int fd, void *buf, size_t n)
{
    slot *s = io && io->kind == KLEFR_IO_URING ? slot_for(io, fd) : NULL;
    if (!s || !s->reads)
        return read(fd, buf, n);
    if (!s->fired) { /* the kernel's read is armed: nothing yet */
        errno = EAGAIN;
        return -1;
    }
    if (s->got <= 0) {
        long r = s->got;
        s->fired = false;
        io->fired_reads--;
        if (r < 0) {
            errno = (int)-r;
            return -1;
        }
        return 0;
    }
    size_t left = (size_t)s->got - s->off;
    size_t k = n < left ? n : left;
    memcpy(buf, s->rbuf + s->off, k);
    s->off += k;
    if (s->off == (size_t)s->got) {
        s->fired = false;
        io->fired_reads--;
    }
    return (long)k;
}

void klefr_io_write(klefr_io *io, int fd, const void *d, size_t n, uint64_t *dropped)
{
    slot *s = io && io->kind == KLEFR_IO_URING ? slot_for(io, fd) : NULL;
    if (!s || !n) {
        write_now(fd, d, n, dropped);
        return;
    }
    if (s->w_inflight) /* one write per fd in the kernel at a time: its order */
        settle(io, (int)(s - io->s), false);
    if (s->wn + n > WRITE_BUF || (s->wn && s->dropped != dropped)) {
        klefr_io_kick(io);
        settle(io, (int)(s - io->s), false);
    }
    if (n > WRITE_BUF) {
        write_now(fd, d, n, dropped);
        return;
    }
    if (!s->wbuf && !(s->wbuf = malloc(WRITE_BUF))) {
        write_now(fd, d, n, dropped);
        return;
    }
    memcpy(s->wbuf + s->wn, d, n);
    s->wn += n;
    s->dropped = dropped;
    if (!s->w_queued) {
        s->w_queued = true;
        io->wlist[io->nw++] = (int)(s - io->s);
    }
}

int klefr_io_fd_added(klefr_io *io, int fd, bool reads)
{
    if (io->kind != KLEFR_IO_URING)
        return 0;
    if (fd < 0)
        return -1;
    if (fd >= io->nfd_map) {
        int n = fd + 64;
        int *m = realloc(io->slot_of, (size_t)n * sizeof *m);
        if (!m)
            return -1;
        for (int k = io->nfd_map; k < n; k++)
            m[k] = -1;
        io->slot_of = m;
        io->nfd_map = n;
    }
    int k = 0;
    while (k < io->ns && io->s[k].fd >= 0)
        k++;
    if (k == io->ns) {
        if (io->ns == io->cap) {
            int cap = io->cap ? io->cap * 2 : 8;
            slot *s = realloc(io->s, (size_t)cap * sizeof *s);
            int *wl = realloc(io->wlist, (size_t)cap * sizeof *wl);
            if (s)
                io->s = s;
            if (wl)
                io->wlist = wl;
            if (!s || !wl)
                return -1;
            io->cap = cap;
        }
        io->s[io->ns++] = (slot){.fd = -1};
    }
    slot *s = &io->s[k];
    uint32_t gen = s->gen + 1;
    uint8_t *wbuf = s->wbuf;
    *s = (slot){.fd = fd, .gen = gen, .reads = reads, .wbuf = wbuf};
    if (reads && !(s->rbuf = malloc(READ_BUF)))
        s->reads = false; /* no memory: a poll then, the ready() reads itself */
    io->slot_of[fd] = k;
    return 0;
}

void klefr_io_fd_removed(klefr_io *io, int fd)
{
    slot *s = io && io->kind == KLEFR_IO_URING ? slot_for(io, fd) : NULL;
    if (!s)
        return;
    int k = (int)(s - io->s);
    klefr_io_kick(io); /* its last reply goes out before the fd closes */
    if (s->armed) {
        struct io_uring_sqe *q = sqe_get(io);
        if (q) {
            io_uring_prep_cancel64(q, UD(k, s, s->reads ? UD_READ : UD_POLL), 0);
            io_uring_sqe_set_data64(q, UD(k, s, UD_CANCEL));
            io_uring_submit(&io->ring);
        }
    }
    settle(io, k, true);
    if (s->fired && s->reads)
        io->fired_reads--; /* bytes for a port that is going: lost, as in its kernel buffer */
    free(s->rbuf);
    s->rbuf = NULL;
    s->fd = -1;
    s->fired = s->armed = false;
    io->slot_of[fd] = -1;
}

static bool uring_open(klefr_io *io)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    /* The kernel's work for the ring done when we wait, not by interrupting
     * us (6.1); without it, the default. */
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(256, &io->ring, &p) < 0) {
        memset(&p, 0, sizeof p);
        if (io_uring_queue_init_params(256, &io->ring, &p) < 0)
            return false;
    }
    /* The wait with a timeout in one call (5.11) and poll (5.1). */
    if (!(p.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(&io->ring);
        return false;
    }
    klefr_world *w = io->w;
    io->kind = KLEFR_IO_URING;
    for (int j = 0; j < w->nfds; j++)
        if (klefr_io_fd_added(io, w->fds[j].fd, w->fds[j].reads)) {
            io_uring_queue_exit(&io->ring);
            io->kind = KLEFR_IO_POLL;
            return false;
        }
    return true;
}

static void uring_close(klefr_io *io, uint64_t t_us)
{
    klefr_io_kick(io);
    for (int k = 0; k < io->ns; k++) {
        slot *s = &io->s[k];
        if (s->fd < 0 || !s->armed)
            continue;
        struct io_uring_sqe *q = sqe_get(io);
        if (!q)
            continue;
        io_uring_prep_cancel64(q, UD(k, s, s->reads ? UD_READ : UD_POLL), 0);
        io_uring_sqe_set_data64(q, UD(k, s, UD_CANCEL));
    }
    io_uring_submit(&io->ring);
    for (int k = 0; k < io->ns; k++)
        if (io->s[k].fd >= 0)
            settle(io, k, true);
    /* Bytes the kernel read before it let go: theirs now, as if the loop
     * had waited once more. */
    klefr_world *w = io->w;
    for (int j = 0; j < w->nfds; j++) {
        slot *s = slot_for(io, w->fds[j].fd);
        if (s && s->reads && s->fired && s->got > 0)
            w->fds[j].ready(w->fds[j].arg, t_us);
    }
    klefr_io_kick(io); /* what they answered */
    for (int k = 0; k < io->ns; k++)
        if (io->s[k].fd >= 0)
            settle(io, k, false);
    io_uring_queue_exit(&io->ring);
    for (int k = 0; k < io->ns; k++) {
        free(io->s[k].rbuf);
        free(io->s[k].wbuf);
    }
    free(io->s);
    free(io->slot_of);
    free(io->wlist);
}
#endif

klefr_io *klefr_io_open(klefr_world *w)
{
    klefr_io *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->w = w;
    io->kind = KLEFR_IO_POLL;
#ifdef KLEFR_HAVE_LIBURING
    const char *e = getenv("KLEFR_IO");
    if (!(e && !strcmp(e, "poll")) && !uring_open(io)) {
        free(io->s);
        free(io->slot_of);
        free(io->wlist);
        io->s = NULL;
        io->slot_of = io->wlist = NULL;
        io->ns = io->cap = io->nfd_map = 0;
    }
#endif
    return io;
}

void klefr_io_close(klefr_io *io, uint64_t t_us)
{
    if (!io)
        return;
#ifdef KLEFR_HAVE_LIBURING
    if (io->kind == KLEFR_IO_URING)
        uring_close(io, t_us);
#else
    (void)t_us;
#endif
    free(io);
}

int klefr_io_wait(klefr_io *io, uint64_t timeout_ns, int *out, int max)
{
#ifdef KLEFR_HAVE_LIBURING
    if (io->kind == KLEFR_IO_URING)
        return uring_wait(io, timeout_ns, out, max);
#endif
    return poll_wait(io, timeout_ns, out, max);
}

#ifndef KLEFR_HAVE_LIBURING
void klefr_io_kick(klefr_io *io)
{
    (void)io;
}

int klefr_io_fd_added(klefr_io *io, int fd, bool reads)
{
    (void)io, (void)fd, (void)reads;
    return 0;
}

void klefr_io_fd_removed(klefr_io *io, int fd)
{
    (void)io, (void)fd;
}

long klefr_io_read(klefr_io *io, int fd, void *buf, size_t n)
{
    (void)io;
    return read(fd, buf, n);
}

void klefr_io_write(klefr_io *io, int fd, const void *d, size_t n, uint64_t *dropped)
{
    (void)io;
    write_now(fd, d, n, dropped);
}
#endif
