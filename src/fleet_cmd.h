/* klefr-sim --fleet FILE: an installation of many meters (docs/fleet.md). */
#ifndef KLEFR_FLEET_CMD_H
#define KLEFR_FLEET_CMD_H

#include <signal.h>

#include "cli.h"

/* Run the fleet the options name; returns the exit status. stop: set by a
 * signal handler. */
int klefr_fleet_main(const klefr_cli *opt, const volatile sig_atomic_t *stop);

#endif
