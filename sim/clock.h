/* Pacing of virtual time against the wall clock, and the main loop that
 * runs a klefr_sim in real time, N times real time, or as fast as possible.
 *
 * Paced modes: each iteration runs the slices whose virtual time has come
 * (wall time since start x speed) and the events of the slice in progress
 * whose time has come (a character ending on a serial line goes to the host
 * then, not at the end of the slice), calls the hook, then waits
 * on the fds registered in the world until the next slice or event is due or
 * the hook is due again, whichever is first (io_wait.h: io_uring, where the
 * same system call submits the replies written since the last wait, or
 * ppoll). A readable fd gets
 * ready(arg, t_us) with the virtual time that corresponds to "now" (never
 * before an event that has already run). If the host cannot keep up, the
 * clock is re-anchored instead of bursting to catch up (reanchors counts it).
 * The order of events, ADC blocks and ticks is the same in every mode, so
 * paced and max runs with the same inputs at the same virtual times give the
 * same frames.
 *
 * Max mode: slices run back to back in chunks of KLEFR_LOOP_MAX_CHUNK_US of
 * virtual time; between chunks the fds are polled without waiting, the hook
 * runs and the stop flag is checked.
 *
 * The hook may change speed and paused between iterations (the panel's speed
 * buttons): the loop re-anchors its clock and switches mode. */
#ifndef KLEFR_SIM_CLOCK_H
#define KLEFR_SIM_CLOCK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/* Wall clock (CLOCK_MONOTONIC) in nanoseconds. */
uint64_t klefr_wall_ns(void);

/* Virtual time as a linear function of wall time, anchored at one point. */
typedef struct {
    double speed;      /* virtual seconds per wall second, > 0 */
    uint64_t wall0_ns; /* anchor: wall time ... */
    uint64_t virt0_us; /* ... and the virtual time it corresponds to */
} klefr_clock;

void klefr_clock_anchor(klefr_clock *c, double speed, uint64_t wall_ns, uint64_t virt_us);
/* Virtual time at wall time wall_ns (never before the anchor). */
uint64_t klefr_clock_virt_us(const klefr_clock *c, uint64_t wall_ns);
/* Wall time at which virtual time virt_us comes. */
uint64_t klefr_clock_wall_ns(const klefr_clock *c, uint64_t virt_us);

typedef enum {
    KLEFR_LOOP_END,     /* t_end reached */
    KLEFR_LOOP_STOPPED, /* the stop flag was set (a signal) */
    KLEFR_LOOP_AFE_END, /* the recording being replayed ran out */
    KLEFR_LOOP_QUIT     /* the hook asked to quit (window closed) */
} klefr_loop_result;

const char *klefr_loop_result_to_str(klefr_loop_result r);

#define KLEFR_LOOP_FOREVER UINT64_MAX
#define KLEFR_LOOP_MAX_CHUNK_US 1000000u /* max mode: hook/stop check period, virtual */
#define KLEFR_LOOP_HOOK_HZ 100u          /* paced modes: hook at least this often */
#define KLEFR_LOOP_MAX_LAG_NS 250000000u /* paced: re-anchor when this far behind */

typedef struct klefr_loop {
    klefr_sim *sim;                    /* the meter the hook is told about (may be NULL with world) */
    klefr_world *world;                /* NULL: the sim's world; a fleet's: all its meters run */
    double speed;                      /* 0 = as fast as possible, else virtual s per wall s */
    bool paused;                       /* virtual time stands still (the hook still runs) */
    uint64_t t_end_us;                 /* stop when virtual time reaches it; KLEFR_LOOP_FOREVER */
    const volatile sig_atomic_t *stop; /* optional: nonzero = stop now */

    /* Called once per iteration (>= KLEFR_LOOP_HOOK_HZ times per wall second
     * in paced modes, once per chunk in max mode) with the virtual time.
     * The panel draws and feeds input events here. Return false to quit. */
    bool (*hook)(void *arg, klefr_sim *sim, uint64_t t_us);
    void *hook_arg;
    /* Paced and paused modes: the hook may ask to run again at this wall
     * time (klefr_wall_ns), sooner than its period (a 60 Hz frame); 0 = no
     * wish. */
    uint64_t hook_wake_ns;

    uint64_t reanchors; /* times the paced clock fell behind and gave up (host too slow) */
} klefr_loop;

klefr_loop_result klefr_loop_run(klefr_loop *l);
/* The world the loop runs. */
klefr_world *klefr_loop_world(const klefr_loop *l);

#endif
