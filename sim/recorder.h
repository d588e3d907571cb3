/* --record: what happens to the meter in a session, written as a scenario
 * file (docs/scenarios.md) that plays back to the same LCD states.
 *
 * Recorded: the state the meter started from (model, serial, seed, load,
 * the settings and registers it booted with), every press of the buttons
 * with its hold time, tariff input and supply changes, each at the meter
 * time the simulation delivered it (from the mouse, the keys or --press:
 * the sim's input_tap), the load the window's controls set (the panel tells
 * klefr_recorder_load), and 0.25 s after each release the LCD as text, as
 * an expectation: playing the file back checks that it reaches the same
 * LCD states. Speed changes are not recorded: they change nothing the meter
 * sees. */
#ifndef KLEFR_SIM_RECORDER_H
#define KLEFR_SIM_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "afe_synth.h"
#include "sim.h"

typedef struct klefr_recorder klefr_recorder;

/* Start recording now (before the run: the meter's state at t = 0 is the
 * scenario's start). Creates path at once, so an unwritable file fails
 * before the session. Sets sim->input_tap. NULL + err on failure. */
klefr_recorder *klefr_recorder_start(klefr_sim *sim, const klefr_load *load, const char *path,
                                     char *err, size_t errlen);

/* The load the window's controls set, from meter time t_us on. */
void klefr_recorder_load(klefr_recorder *r, const klefr_load *load, uint64_t t_us);

/* Write the scenario (the run ends at sim->t_us) and free r. 0, or -1 with
 * err (a host failure: the file could not be written). */
int klefr_recorder_finish(klefr_recorder *r, char *err, size_t errlen);

#endif
