/* The window player of klefr-sim tour (docs/tours.md): the panel, its
 * trainer's overlay and step mode, Back from snapshots. */
#ifndef KLEFR_TOUR_WINDOW_H
#define KLEFR_TOUR_WINDOW_H

#include <signal.h>
#include <stdbool.h>

#include "scenario.h"

typedef struct {
    bool play;      /* run on without waiting at the captions */
    double speed;   /* initial: > 0 ratio, KLEFR_PANEL_SPEED_MAX (-1) */
    bool present;   /* the presentation layout */
    const volatile sig_atomic_t *stop;
} tour_window_opts;

/* Play the tour s in a window. Returns the exit status. */
int klefr_tour_window(klefr_scn *s, const tour_window_opts *o);

#endif
