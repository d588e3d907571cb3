/* The world the meters live in: one virtual clock, one event queue, the host
 * file descriptors the loop waits on, the trace lines held for time order,
 * and the meters that run slice by slice. A meter alone (klefr-sim, the
 * tests) has a world of its own inside its klefr_sim; a fleet (sim/fleet.h)
 * puts hundreds of meters in one shared world, so each meter costs only its
 * own state (firmware context, AFE, EEPROM, outputs).
 *
 *   slice [t, t + 10 ms):  events due in it (time order, ties in posting
 *                          order) -> for each meter in the order it joined:
 *                          ADC block at t, tick at t + 10 ms -> trace lines
 *
 * Meters meet only through events (a character on a line ends, a host
 * byte arrives), so the order of meters inside a slice changes nothing a
 * meter sees; a meter alone runs exactly as before the split. Nothing here
 * is thread-safe: host threads post nothing; the loop (clock.h) reads the
 * fds and posts for them. */
#ifndef KLEFR_SIM_WORLD_H
#define KLEFR_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/config.h"

struct klefr_sim;

/* Length of one loop slice: ADC block and tick period. */
#define KLEFR_SIM_SLICE_US 10000u
#define KLEFR_SIM_SLICE_SAMPLES (KLEFR_SIM_SLICE_US / KLEFR_TS_US)

/* Something that happens at a virtual time: delivered by the loop in time
 * order (ties in posting order). An event at t runs before the work of the
 * slice that holds t (its ADC blocks and the ticks at its end), so the
 * firmware sees inputs and ticks in time order; the paced loop may run it
 * early in wall time (as soon as its virtual time has come), which changes
 * nothing about that order. Every kind but KLEFR_EV_CALL is for one meter
 * (sim; klefr_sim_post fills it in). */
typedef enum {
    KLEFR_EV_UART_RX,      /* port, byte, flags: straight to the firmware,
                              bypassing the line (prefer klefr_line_send) */
    KLEFR_EV_BUTTONS,      /* held mask in byte */
    KLEFR_EV_TARIFF_INPUT, /* byte != 0: T2 */
    KLEFR_EV_POWER,        /* byte != 0: supply on */
    KLEFR_EV_CALL          /* fn(arg, t_us): sim-side changes (load, AFE, ...) */
} klefr_sim_event_kind;

typedef struct {
    uint64_t t_us;
    uint64_t seq; /* set when posted */
    klefr_sim_event_kind kind;
    uint8_t port;
    uint8_t byte;
    uint8_t flags;
    void (*fn)(void *arg, uint64_t t_us);
    void *arg;
    struct klefr_sim *sim; /* the meter an input event is for */
} klefr_sim_event;

/* At most this many events wait at once (a flood of host input is cut
 * there). The last slots take only KLEFR_EV_CALL events: a flood of input
 * (a master writing faster than the line) loses bytes, never the sim's own
 * self-rescheduling work (profile boundaries, --lcd-text). */
#define KLEFR_SIM_MAX_EVENTS 8192
#define KLEFR_SIM_CALL_RESERVE 256
/* A world keeps this many events, fds and meters in itself; more are
 * allocated (and freed by klefr_world_free). A meter alone that posts a
 * few events at a time therefore allocates nothing. */
#define KLEFR_WORLD_INLINE_EVENTS 16
#define KLEFR_WORLD_INLINE_FDS 4

/* Host file descriptors (ptys, serial ports, sockets) the loop waits on. */
typedef struct {
    int fd;
    void (*ready)(void *arg, uint64_t t_us); /* called from the loop when readable */
    void *arg;
    bool reads; /* ready() takes its bytes with klefr_io_read (the kernel may have read them) */
} klefr_sim_fd;

#define KLEFR_SIM_MAX_FDS 1024

/* A trace line waiting to be printed in time order, and where it goes. */
typedef struct {
    uint64_t t_us;
    uint64_t seq;
    char *text;
    void (*sink)(void *arg, const char *line);
    void *sink_arg;
} klefr_sim_trace_line;

/* How long a trace line waits for earlier-stamped ones (virtual time). */
#define KLEFR_SIM_TRACE_HOLD_US 100000u

typedef struct klefr_world {
    uint64_t t_us;       /* virtual time now: slices done */
    uint64_t ev_done_us; /* events up to here have run */
    /* Pending events: a binary heap on (t_us, seq). */
    klefr_sim_event *ev;
    size_t nev, ev_cap;
    uint64_t ev_seq;
    size_t max_events; /* KLEFR_SIM_MAX_EVENTS unless raised (a fleet) */
    klefr_sim_fd *fds;
    int nfds, fds_cap;
    struct klefr_io *io; /* while the loop runs: how it waits, reads and writes (io_wait.h) */
    /* Trace lines held until the world has run KLEFR_SIM_TRACE_HOLD_US
     * past their time (the firmware traces a reply when it decides it,
     * stamped with the future time it goes on the wire). */
    klefr_sim_trace_line *trace_q;
    size_t trace_n, trace_cap;
    uint64_t trace_seq;
    /* The meters, run in this order in every slice. */
    struct klefr_sim **meters;
    size_t nmeters, meters_cap;
    struct klefr_sim *meter_inline[1];
    klefr_sim_event ev_inline[KLEFR_WORLD_INLINE_EVENTS];
    klefr_sim_fd fds_inline[KLEFR_WORLD_INLINE_FDS];
} klefr_world;

/* An empty world at t = 0 (nothing allocated). */
void klefr_world_init(klefr_world *w);
/* Print the held trace lines and free what the world allocated (not the
 * meters: their owner closes them). */
void klefr_world_free(klefr_world *w);

/* A meter joins: it runs in every slice from now on. 0, or -1 (no memory). */
int klefr_world_add(klefr_world *w, struct klefr_sim *s);

/* Queue an event. Returns false when the queue is full (event dropped);
 * for input events that is KLEFR_SIM_CALL_RESERVE slots earlier. */
bool klefr_world_post(klefr_world *w, const klefr_sim_event *ev);
/* KLEFR_EV_CALL events queued for arg are dropped (arg is going away). */
void klefr_world_cancel(klefr_world *w, const void *arg);
/* Time of the next queued event, UINT64_MAX when none. */
uint64_t klefr_world_next_us(const klefr_world *w);

/* Register a host fd for the real-time loop to poll. Returns 0 or -1 (full). */
int klefr_world_add_fd(klefr_world *w, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg);
/* The same for an fd whose ready() reads it with klefr_io_read(w->io, ...)
 * only: the loop may have the kernel read it while it waits. */
int klefr_world_add_reader(klefr_world *w, int fd, void (*ready)(void *arg, uint64_t t_us),
                           void *arg);
/* Stop polling fd (before closing it: writes queued for it go out). */
void klefr_world_remove_fd(klefr_world *w, int fd);

/* Advance virtual time by whole slices up to t_end_us. Returns false when
 * a meter's AFE source has ended (a recording ran out): that slice is the
 * last run. */
bool klefr_world_run_until(klefr_world *w, uint64_t t_end_us);
/* Run the events due by t_us that belong before the current slice's work
 * (never past t_us + KLEFR_SIM_SLICE_US - 1): the paced loop calls it as
 * wall time passes, so bytes leave for the host when the wire hands them
 * over, not at the next slice boundary. */
void klefr_world_run_events(klefr_world *w, uint64_t t_us);

/* The present as far as anything has run: slices or events. */
uint64_t klefr_world_now(const klefr_world *w);

/* A trace line for sink: held for time order when it carries a time
 * (" t=S.UUUUUU" at its end), else passed on at once. */
void klefr_world_trace(klefr_world *w, void (*sink)(void *arg, const char *line), void *sink_arg,
                       const char *line);
/* Print the held trace lines stamped up to t_us (UINT64_MAX: all). */
void klefr_world_trace_flush(klefr_world *w, uint64_t t_us);

#endif
