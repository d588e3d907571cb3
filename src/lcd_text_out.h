/* --lcd-text and --press for klefr-sim: print the LCD as text whenever the
 * frame changes, and queue button presses at virtual times. */
#ifndef KLEFR_LCD_TEXT_OUT_H
#define KLEFR_LCD_TEXT_OUT_H

#include <stdio.h>

#include "sim.h"

/* From now on, print one line per LCD change (and backlight change) to f:
 *   lcd 12.340 FW kWh | 0.00 | TOTAL
 * Works with any run loop: it is a self-reposting 10 ms sim event. */
int klefr_lcd_text_follow(klefr_sim *s, FILE *f);

/* Queue presses: comma-separated WHICH@T[+D], WHICH = L, R or B (both),
 * T = seconds from start, D = seconds held (default 0.2). "R@5+5.2" holds the
 * right button 5.2 s from t = 5 s. T and D are at most KLEFR_PRESS_MAX_S.
 * s NULL: only check the spec. Returns 0, or -1 for a bad spec or a full
 * event queue. */
#define KLEFR_PRESS_MAX_S 1e9
int klefr_press_post(klefr_sim *s, const char *spec);

#endif
