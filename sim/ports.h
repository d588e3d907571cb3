/* The meter's serial ports on the host: one pty (or a real serial port) per
 * protocol port of the model, with a line model that delivers bytes at the
 * virtual time a wire at the configured baud would (or at once, in fast
 * mode). Received bytes go to the firmware; its replies come back through
 * sim->uart_tx. */
#ifndef KLEFR_SIM_PORTS_H
#define KLEFR_SIM_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"

typedef struct {
    /* Where the symlink to the pty goes, or "serial:/dev/ttyUSB0" for a real
     * port. NULL: <state_dir>/<name> (name: ir; modbus or mbus for the bus). */
    const char *path[KLEFR_PORT_COUNT];
    const char
        *state_dir;  /* NULL: $KLEFR_STATE_DIR, $XDG_RUNTIME_DIR/klefr-sim, /tmp/klefr-sim-UID */
    int line_timing; /* 1 on, 0 off (fast), -1 auto: off when headless */
    bool headless;
    bool check_baud; /* a master at another baud is not understood (default on) */
    bool quiet;      /* do not print the port lines */
} klefr_ports_opts;

typedef struct klefr_ports klefr_ports;

void klefr_ports_opts_init(klefr_ports_opts *o);

/* Parse the value of --line-timing / --baud-check: "on" or "off". */
int klefr_ports_onoff(const char *s);

/* Open the ports the model has, register them in the sim loop, print e.g.
 * "modbus: /dev/pts/7 (link: /run/user/0/klefr-sim/modbus)". NULL on error
 * (message printed to stderr). */
klefr_ports *klefr_ports_open(klefr_sim *sim, const klefr_ports_opts *o);
void klefr_ports_close(klefr_ports *p);

/* "modbus: /dev/pts/7" for an open port, for the panel. 0, or -1 if the
 * model has no such port. */
int klefr_ports_label(const klefr_ports *p, klefr_port port, char *buf, size_t size);


#endif
