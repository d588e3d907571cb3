/* A tour's handout (klefr-sim tour --handout DIR): one PNG of the meter per
 * step, taken at the step's end, and a self-contained HTML page with the
 * captions, hints and those images, for a trainer to print (docs/tours.md). */
#ifndef KLEFR_TOUR_HANDOUT_H
#define KLEFR_TOUR_HANDOUT_H

#include <stddef.h>

#include "scenario.h"

typedef struct klefr_handout klefr_handout;

/* Create DIR (and its parents) and get ready to draw the meter of sim
 * without a window. NULL with a message in err. */
klefr_handout *klefr_handout_open(const char *dir, struct klefr_sim *sim, char *err,
                                  size_t errlen);

/* The image of step k (0-based) now: DIR/step-NN.png; lcd is the LCD text
 * it shows. 0, or -1 with err. */
int klefr_handout_step(klefr_handout *h, const klefr_scn *s, size_t k, const char *lcd,
                       char *err, size_t errlen);

/* Write DIR/index.html (the steps taken so far) and free h. 0, or -1 with err. */
int klefr_handout_finish(klefr_handout *h, const klefr_scn *s, char *err, size_t errlen);

/* The image file name of step k: "step-01.png". */
void klefr_handout_image_name(const klefr_scn *s, size_t k, char *out, size_t n);

#endif
