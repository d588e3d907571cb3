/* The shared world of one or many meters (world.h): the event heap, host
 * fds, trace ordering, and the slice loop over the meters. */
#include "world.h"

#include <stdlib.h>
#include <string.h>

#include "io_wait.h"
#include "sim.h"

void klefr_world_init(klefr_world *w)
{
    memset(w, 0, sizeof *w);
    w->ev = w->ev_inline;
    w->ev_cap = KLEFR_WORLD_INLINE_EVENTS;
    w->max_events = KLEFR_SIM_MAX_EVENTS;
    w->fds = w->fds_inline;
    w->fds_cap = KLEFR_WORLD_INLINE_FDS;
    w->meters = w->meter_inline;
    w->meters_cap = 1;
}

void klefr_world_free(klefr_world *w)
{
    klefr_world_trace_flush(w, UINT64_MAX);
    free(w->trace_q);
    w->trace_q = NULL;
    w->trace_cap = 0;
    if (w->ev != w->ev_inline)
        free(w->ev);
    if (w->fds != w->fds_inline)
        free(w->fds);
    if (w->meters != w->meter_inline)
        free(w->meters);
    w->ev = w->ev_inline;
    w->ev_cap = KLEFR_WORLD_INLINE_EVENTS;
    w->nev = 0;
    w->fds = w->fds_inline;
    w->fds_cap = KLEFR_WORLD_INLINE_FDS;
    w->nfds = 0;
    w->meters = w->meter_inline;
    w->meters_cap = 1;
    w->nmeters = 0;
}

/* Room for one more of n elements of size sz in *arr (cap *cap), moving an
 * inline array to the heap the first time. */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz, const void *inline_arr)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap * 2;
    void *p = *arr == inline_arr ? malloc(ncap * sz) : realloc(*arr, ncap * sz);
    if (!p)
        return false;
    if (*arr == inline_arr)
        memcpy(p, *arr, n * sz);
    *arr = p;
    *cap = ncap;
    return true;
}

int klefr_world_add(klefr_world *w, klefr_sim *s)
{
    if (!grow((void **)&w->meters, &w->meters_cap, w->nmeters, sizeof *w->meters,
              w->meter_inline))
        return -1;
    w->meters[w->nmeters++] = s;
    return 0;
}

/* ---- events ---- */

static bool ev_before(const klefr_sim_event *a, const klefr_sim_event *b)
{
    return a->t_us != b->t_us ? a->t_us < b->t_us : a->seq < b->seq;
}

bool klefr_world_post(klefr_world *w, const klefr_sim_event *ev)
{
    size_t cap = w->max_events - (ev->kind == KLEFR_EV_CALL ? 0 : KLEFR_SIM_CALL_RESERVE);
    if (w->nev >= cap)
        return false;
    if (!grow((void **)&w->ev, &w->ev_cap, w->nev, sizeof *w->ev, w->ev_inline))
        return false;
    size_t k = w->nev++;
    w->ev[k] = *ev;
    w->ev[k].seq = w->ev_seq++;
    while (k > 0 && ev_before(&w->ev[k], &w->ev[(k - 1) / 2])) {
        klefr_sim_event tmp = w->ev[k];
        w->ev[k] = w->ev[(k - 1) / 2];
        w->ev[(k - 1) / 2] = tmp;
        k = (k - 1) / 2;
    }
    return true;
}

static void call_nothing(void *arg, uint64_t t_us)
{
    (void)arg;
    (void)t_us;
}

void klefr_world_cancel(klefr_world *w, const void *arg)
{
    for (size_t k = 0; k < w->nev; k++)
        if (w->ev[k].kind == KLEFR_EV_CALL && w->ev[k].arg == arg)
            w->ev[k].fn = call_nothing;
}

uint64_t klefr_world_next_us(const klefr_world *w)
{
    return w->nev ? w->ev[0].t_us : UINT64_MAX;
}

static klefr_sim_event ev_pop(klefr_world *w)
{
    klefr_sim_event top = w->ev[0];
    w->ev[0] = w->ev[--w->nev];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < w->nev && ev_before(&w->ev[l], &w->ev[m]))
            m = l;
        if (r < w->nev && ev_before(&w->ev[r], &w->ev[m]))
            m = r;
        if (m == k)
            break;
        klefr_sim_event tmp = w->ev[k];
        w->ev[k] = w->ev[m];
        w->ev[m] = tmp;
        k = m;
    }
    return top;
}

/* Deliver every event due at or before t_us. */
static void ev_run_due(klefr_world *w, uint64_t t_us)
{
    while (w->nev && w->ev[0].t_us <= t_us) {
        klefr_sim_event e = ev_pop(w);
        if (e.t_us > w->ev_done_us)
            w->ev_done_us = e.t_us;
        if (e.kind == KLEFR_EV_CALL)
            e.fn(e.arg, e.t_us);
        else if (e.sim)
            klefr_sim_deliver(e.sim, &e);
    }
}

uint64_t klefr_world_now(const klefr_world *w)
{
    return w->t_us > w->ev_done_us ? w->t_us : w->ev_done_us;
}

/* ---- fds ---- */

static int add_fd(klefr_world *w, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg,
                  bool reads)
{
    if (w->nfds >= KLEFR_SIM_MAX_FDS)
        return -1;
    size_t cap = (size_t)w->fds_cap;
    if (!grow((void **)&w->fds, &cap, (size_t)w->nfds, sizeof *w->fds, w->fds_inline))
        return -1;
    w->fds_cap = (int)cap;
    if (w->io && klefr_io_fd_added(w->io, fd, reads))
        return -1;
    w->fds[w->nfds++] = (klefr_sim_fd){fd, ready, arg, reads};
    return 0;
}

int klefr_world_add_fd(klefr_world *w, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg)
{
    return add_fd(w, fd, ready, arg, false);
}

int klefr_world_add_reader(klefr_world *w, int fd, void (*ready)(void *arg, uint64_t t_us),
                           void *arg)
{
    return add_fd(w, fd, ready, arg, true);
}

void klefr_world_remove_fd(klefr_world *w, int fd)
{
    if (w->io)
        klefr_io_fd_removed(w->io, fd);
    for (int i = 0; i < w->nfds; i++)
        if (w->fds[i].fd == fd) {
            memmove(w->fds + i, w->fds + i + 1, (size_t)(w->nfds - i - 1) * sizeof w->fds[0]);
            w->nfds--;
            return;
        }
}

/* ---- trace lines in time order ---- */

/* The time a line carries (" t=S.UUUUUU" at its end); false if none. */
static bool line_time(const char *line, uint64_t *t_us)
{
    const char *p = strstr(line, " t=");
    for (const char *q = p; q; q = strstr(q + 1, " t="))
        p = q;
    if (!p)
        return false;
    char *end;
    unsigned long long sec = strtoull(p + 3, &end, 10);
    if (*end != '.')
        return false;
    unsigned long long us = strtoull(end + 1, &end, 10);
    *t_us = (uint64_t)sec * 1000000u + us;
    return true;
}

void klefr_world_trace(klefr_world *w, void (*sink)(void *arg, const char *line), void *sink_arg,
                       const char *line)
{
    uint64_t t;
    if (!line_time(line, &t)) { /* no time (the boot's store lines): no order to keep */
        sink(sink_arg, line);
        return;
    }
    if (w->trace_n == w->trace_cap) {
        size_t cap = w->trace_cap ? w->trace_cap * 2 : 64;
        klefr_sim_trace_line *q = realloc(w->trace_q, cap * sizeof *q);
        if (!q) { /* no room to hold it: print it now rather than lose it */
            sink(sink_arg, line);
            return;
        }
        w->trace_q = q;
        w->trace_cap = cap;
    }
    char *text = strdup(line);
    if (!text) {
        sink(sink_arg, line);
        return;
    }
    klefr_sim_trace_line tl = {t, w->trace_seq++, text, sink, sink_arg};
    size_t k = w->trace_n++;
    while (k > 0 && w->trace_q[k - 1].t_us > tl.t_us) { /* mostly in order already */
        w->trace_q[k] = w->trace_q[k - 1];
        k--;
    }
    w->trace_q[k] = tl;
}

void klefr_world_trace_flush(klefr_world *w, uint64_t t_us)
{
    size_t k = 0;
    while (k < w->trace_n && w->trace_q[k].t_us <= t_us) {
        w->trace_q[k].sink(w->trace_q[k].sink_arg, w->trace_q[k].text);
        free(w->trace_q[k].text);
        k++;
    }
    if (k) /* (trace_q is NULL before the first line) */
        memmove(w->trace_q, w->trace_q + k, (w->trace_n - k) * sizeof w->trace_q[0]);
    w->trace_n -= k;
}

static void trace_due(klefr_world *w)
{
    uint64_t now = klefr_world_now(w);
    if (w->trace_n && now >= KLEFR_SIM_TRACE_HOLD_US)
        klefr_world_trace_flush(w, now - KLEFR_SIM_TRACE_HOLD_US);
}

/* ---- the loop ---- */

void klefr_world_run_events(klefr_world *w, uint64_t t_us)
{
    uint64_t last = w->t_us + KLEFR_SIM_SLICE_US - 1; /* the slice's work comes after */
    ev_run_due(w, t_us < last ? t_us : last);
    trace_due(w);
}

bool klefr_world_run_until(klefr_world *w, uint64_t t_end_us)
{
    while (w->t_us + KLEFR_SIM_SLICE_US <= t_end_us) {
        /* the events inside this slice first, then each meter's ADC block and tick */
        ev_run_due(w, w->t_us + KLEFR_SIM_SLICE_US - 1);
        size_t ran = 0, ended = 0;
        for (size_t k = 0; k < w->nmeters; k++) {
            klefr_sim_slice_result r = klefr_sim_slice(w->meters[k], w->t_us);
            ran += r != KLEFR_SLICE_NOTHING;
            ended += r != KLEFR_SLICE_RAN;
        }
        if (w->nmeters && !ran) /* every source had ended already: time stops */
            return false;
        w->t_us += KLEFR_SIM_SLICE_US;
        trace_due(w);
        if (ended)
            return false;
    }
    ev_run_due(w, w->t_us);
    trace_due(w);
    return true;
}
