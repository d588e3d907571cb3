/* The "tour" subcommand of klefr-sim (docs/tours.md). */
#ifndef KLEFR_TOUR_CMD_H
#define KLEFR_TOUR_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

/* argv[0] is "tour". Returns the exit status. */
int klefr_tour_main(int argc, char **argv);

/* The lines of one step's end: "step 3/9 t=9.70 s: LCD TEXT", its title and
 * hint, and a FAIL line when its LCD check failed. The window player prints
 * the same, so a window run and a headless run can be compared. */
void klefr_tour_print_step(FILE *f, const klefr_scn *s, size_t k, const char *lcd);

/* The first line ("FILE: NAME (KLEFR 6924, manual 7.10.1), 6 steps") and the
 * failure line of every check that failed (returns how many). */
void klefr_tour_print_head(FILE *f, const klefr_scn *s);
size_t klefr_tour_print_failures(FILE *f, const klefr_scn *s);

#endif
