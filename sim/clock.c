#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "io_wait.h"

uint64_t klefr_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void klefr_clock_anchor(klefr_clock *c, double speed, uint64_t wall_ns, uint64_t virt_us)
{
    c->speed = speed;
    c->wall0_ns = wall_ns;
    c->virt0_us = virt_us;
}

uint64_t klefr_clock_virt_us(const klefr_clock *c, uint64_t wall_ns)
{
    if (wall_ns <= c->wall0_ns)
        return c->virt0_us;
    return c->virt0_us + (uint64_t)((double)(wall_ns - c->wall0_ns) * c->speed / 1000.0);
}

uint64_t klefr_clock_wall_ns(const klefr_clock *c, uint64_t virt_us)
{
    if (virt_us <= c->virt0_us)
        return c->wall0_ns;
    return c->wall0_ns + (uint64_t)((double)(virt_us - c->virt0_us) * 1000.0 / c->speed + 0.5);
}

const char *klefr_loop_result_to_str(klefr_loop_result r)
{
    switch (r) {
    case KLEFR_LOOP_END:
        return "duration";
    case KLEFR_LOOP_STOPPED:
        return "signal";
    case KLEFR_LOOP_AFE_END:
        return "replay-end";
    case KLEFR_LOOP_QUIT:
        return "quit";
    }
    return "?";
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Wait for the fds until wall time deadline_ns (0 timeout when already past);
 * readable ones get ready() with the virtual time of the moment. When the
 * sim is behind the clock (a loaded host: it is catching up, at most
 * KLEFR_LOOP_MAX_LAG_NS before the clock is re-anchored), that is ahead of
 * the sim, so the input keeps its true time relative to the master: the
 * line takes it when the sim gets there; but never more than the loop's
 * largest lag ahead (a fast clock the host cannot follow). A change of speed
 * re-anchors the clock at the sim's time first. */
static void wait_fds(klefr_loop *l, const klefr_clock *c, uint64_t deadline_ns)
{
    klefr_world *w = klefr_loop_world(l);
    int ready[KLEFR_SIM_MAX_FDS];
    uint64_t now = klefr_wall_ns();
    int n = klefr_io_wait(w->io, deadline_ns > now ? deadline_ns - now : 0, ready,
                          KLEFR_SIM_MAX_FDS);
    if (n <= 0)
        return; /* timeout, or EINTR from a signal: the caller checks stop */
    uint64_t t = w->t_us;
    if (c)
        t = min_u64(klefr_clock_virt_us(c, klefr_wall_ns()),
                    min_u64(w->t_us + KLEFR_LOOP_MAX_LAG_NS / 1000u, l->t_end_us));
    /* never before what has run: the line only takes input from its present */
    if (t < w->ev_done_us)
        t = w->ev_done_us;
    if (t < w->t_us)
        t = w->t_us;
    /* A ready() may add or remove fds (a client connects or leaves): find
     * each readable one in the list as it is now. */
    for (int k = 0; k < n; k++)
        for (int j = 0; j < w->nfds; j++)
            if (w->fds[j].fd == ready[k]) {
                w->fds[j].ready(w->fds[j].arg, t);
                break;
            }
}

/* Before work that may take a while (a slice, a hook that draws frames):
 * replies queued since the wait go out now, not after it. */
static void kick(const klefr_loop *l)
{
    klefr_io_kick(klefr_loop_world(l)->io);
}

/* The hook's next turn: its period, or sooner when it asked. */
static uint64_t hook_due(const klefr_loop *l, uint64_t period_end_ns)
{
    return l->hook_wake_ns ? min_u64(l->hook_wake_ns, period_end_ns) : period_end_ns;
}

static bool stopped(const klefr_loop *l)
{
    return l->stop && *l->stop;
}

/* Internal result: the hook changed speed or pause; pick the mode again. */
#define LOOP_MODE_CHANGED ((klefr_loop_result)-1)

klefr_world *klefr_loop_world(const klefr_loop *l)
{
    return l->world ? l->world : l->sim->world;
}

static klefr_loop_result run_max(klefr_loop *l)
{
    klefr_world *w = klefr_loop_world(l);
    while (w->t_us + KLEFR_SIM_SLICE_US <= l->t_end_us) {
        if (l->paused || l->speed > 0)
            return LOOP_MODE_CHANGED;
        if (stopped(l))
            return KLEFR_LOOP_STOPPED;
        uint64_t end = l->t_end_us - w->t_us > KLEFR_LOOP_MAX_CHUNK_US
                           ? w->t_us + KLEFR_LOOP_MAX_CHUNK_US
                           : l->t_end_us;
        kick(l);
        if (!klefr_world_run_until(w, end))
            return KLEFR_LOOP_AFE_END;
        if (w->nfds)
            wait_fds(l, NULL, 0);
        if (l->hook && !l->hook(l->hook_arg, l->sim, w->t_us))
            return KLEFR_LOOP_QUIT;
    }
    return stopped(l) ? KLEFR_LOOP_STOPPED : KLEFR_LOOP_END;
}

static klefr_loop_result run_paced(klefr_loop *l)
{
    klefr_world *w = klefr_loop_world(l);
    klefr_clock c;
    klefr_clock_anchor(&c, l->speed, klefr_wall_ns(), w->t_us);
    const uint64_t hook_period_ns = 1000000000u / KLEFR_LOOP_HOOK_HZ;
    for (;;) {
        if (stopped(l))
            return KLEFR_LOOP_STOPPED;
        if (l->paused || l->speed <= 0)
            return LOOP_MODE_CHANGED;
        if (l->speed != c.speed)
            klefr_clock_anchor(&c, l->speed, klefr_wall_ns(), w->t_us);
        uint64_t iter_start = klefr_wall_ns();
        uint64_t target = min_u64(klefr_clock_virt_us(&c, iter_start), l->t_end_us);
        /* Run what is due, but give the hook its turn at least every period. */
        bool caught_up = true;
        while (w->t_us + KLEFR_SIM_SLICE_US <= target) {
            kick(l);
            if (!klefr_world_run_until(w, w->t_us + KLEFR_SIM_SLICE_US))
                return KLEFR_LOOP_AFE_END;
            if (klefr_wall_ns() - iter_start >= hook_period_ns) {
                caught_up = false;
                break;
            }
        }
        /* Events of the slice in progress whose time has come (a character
         * ending on the wire goes to the host now, not at the slice's end). */
        if (caught_up)
            klefr_world_run_events(w, target);
        if (l->hook_wake_ns) /* a hook that keeps a frame rate draws */
            kick(l);
        if (l->hook && !l->hook(l->hook_arg, l->sim, w->t_us))
            return KLEFR_LOOP_QUIT;
        if (w->t_us + KLEFR_SIM_SLICE_US > l->t_end_us)
            return KLEFR_LOOP_END;
        if (l->paused || l->speed <= 0)
            return LOOP_MODE_CHANGED;
        if (l->speed != c.speed) /* the hook changed it: input waiting now is stamped at that speed */
            klefr_clock_anchor(&c, l->speed, klefr_wall_ns(), w->t_us);
        /* Too far behind (slow host, huge speed): drop the debt, don't burst. */
        uint64_t due_ns = klefr_clock_wall_ns(&c, w->t_us + KLEFR_SIM_SLICE_US);
        uint64_t now = klefr_wall_ns();
        if (now > due_ns + KLEFR_LOOP_MAX_LAG_NS) {
            l->reanchors++;
            klefr_clock_anchor(&c, l->speed, now, w->t_us);
            due_ns = klefr_clock_wall_ns(&c, w->t_us + KLEFR_SIM_SLICE_US);
        }
        /* Wake for the next event inside this slice too (the next character
         * on a line). */
        uint64_t next_ev = klefr_world_next_us(w);
        if (next_ev < w->t_us + KLEFR_SIM_SLICE_US)
            due_ns = min_u64(due_ns, klefr_clock_wall_ns(&c, next_ev));
        wait_fds(l, &c, min_u64(due_ns, hook_due(l, now + hook_period_ns)));
    }
}

/* Paused: virtual time stands still; the hook and the fds are still served
 * (bytes arrive at the frozen time and wait in the event queue). */
static klefr_loop_result run_paused(klefr_loop *l)
{
    klefr_world *w = klefr_loop_world(l);
    const uint64_t hook_period_ns = 1000000000u / KLEFR_LOOP_HOOK_HZ;
    while (l->paused) {
        if (stopped(l))
            return KLEFR_LOOP_STOPPED;
        if (l->hook_wake_ns)
            kick(l);
        if (l->hook && !l->hook(l->hook_arg, l->sim, w->t_us))
            return KLEFR_LOOP_QUIT;
        wait_fds(l, NULL, hook_due(l, klefr_wall_ns() + hook_period_ns));
    }
    return LOOP_MODE_CHANGED;
}

klefr_loop_result klefr_loop_run(klefr_loop *l)
{
    klefr_world *w = klefr_loop_world(l);
    /* The loop's own wait (a nested loop, if ever, shares it). */
    klefr_io *io = w->io ? NULL : klefr_io_open(w);
    if (io)
        w->io = io;
    else if (!w->io) {
        fprintf(stderr, "klefr-sim: out of memory\n");
        return KLEFR_LOOP_STOPPED;
    }
    klefr_loop_result r;
    do
        r = l->paused ? run_paused(l) : l->speed > 0 ? run_paced(l) : run_max(l);
    while (r == LOOP_MODE_CHANGED);
    if (io) {
        klefr_io_close(io, w->t_us);
        w->io = NULL;
    }
    return r;
}
