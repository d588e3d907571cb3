/* A progress bar on a terminal for long headless runs: simulated time, speed
 * and time left, redrawn at most 10 times a wall second; nothing at all when
 * the stream is not a terminal (CI logs stay clean). */
#ifndef KLEFR_SIM_PROGRESS_H
#define KLEFR_SIM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    bool on;           /* f is a terminal */
    bool drawn;        /* a bar is on the screen */
    uint64_t wall0_ns; /* start of the run */
    uint64_t last_ns;  /* last redraw */
    uint64_t t0_us;    /* virtual time at the start */
    char label[48];
} klefr_progress;

/* Start a bar on f (stderr) for a run from virtual time t0_us. */
void klefr_progress_start(klefr_progress *p, FILE *f, const char *label, uint64_t t0_us);
/* Virtual time now, and where the run ends. */
void klefr_progress_update(klefr_progress *p, uint64_t t_us, uint64_t end_us);
/* Erase the bar (the line is left empty for what follows). */
void klefr_progress_end(klefr_progress *p);

/* "6h00m", "12m30s", "45.2 s", "3d04h": a duration for people. */
void klefr_fmt_duration(char *buf, size_t n, double seconds);

#endif
