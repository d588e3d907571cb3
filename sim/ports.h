/* Serial lines on the host: one host transport attached as a master to a
 * virtual line (sim/line.h): a pty (default), a real serial port, a raw TCP
 * server or an RFC 2217 server (klefr_hostport); and for a meter alone, one
 * for each port its model has (klefr_ports). The line does the timing; a
 * transport only moves bytes between the host and its endpoint
 * (docs/serial.md). */
#ifndef KLEFR_SIM_PORTS_H
#define KLEFR_SIM_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"

/* Clients one tcp: or rfc2217: port serves at once (a device server with
 * "max connections" 4: all of them hear the line, all may send). */
#define KLEFR_PORTS_MAX_CLIENTS 4

typedef struct {
    /* Per port: NULL (a pty linked at <state_dir>/<name>), a path for the
     * pty's symlink, "serial:DEV", "tcp:[HOST:]PORT" or
     * "rfc2217:[HOST:]PORT" (HOST defaults to 127.0.0.1; PORT 0 = any free
     * port, printed). */
    const char *path[KLEFR_PORT_COUNT];
    const char
        *state_dir;  /* NULL: $KLEFR_STATE_DIR, $XDG_RUNTIME_DIR/klefr-sim, /tmp/klefr-sim-UID */
    int line_timing; /* 1 or -1: wire timing (default); 0: off (line.h) */
    bool check_baud; /* a pty master at another baud is not understood (default on) */
    bool quiet;      /* do not print the port lines */
    /* The loop's speed (0 = max), read when a master shows up: masters need
     * real time, so a master at --speed max gets a warning. NULL: none. */
    const double *speed;
} klefr_ports_opts;

typedef struct klefr_ports klefr_ports;

/* Masters need real time: a master that shows up while the clock runs flat
 * out gets one warning (shared by all the ports that point here). */
typedef struct {
    const double *speed; /* the loop's speed (0 = max); NULL: never warn */
    bool warned;
} klefr_ports_warn;

/* One host transport on a line. */
typedef struct klefr_hostport klefr_hostport;

typedef struct {
    klefr_world *world;     /* where its fds and flushes go */
    klefr_line *line;
    klefr_line_ep *ref;     /* the format the host cannot set follows this endpoint
                               (the meter's UART; a fleet's line settings) */
    const char *name;       /* "modbus", "mbus", "ir", "mbus2"; NULL: the line's name */
    const char *spec;       /* as klefr_ports_opts.path */
    const char *state_dir;  /* as klefr_ports_opts.state_dir */
    bool check_baud;
    bool quiet;
    klefr_ports_warn *warn; /* NULL: no warning */
} klefr_hostport_opts;

/* Open the transport, register it with the world, print its line (unless
 * quiet). NULL on error (message printed to stderr). */
klefr_hostport *klefr_hostport_open(const klefr_hostport_opts *o);
void klefr_hostport_close(klefr_hostport *h);
/* "modbus: /dev/pts/7" or "modbus: tcp:127.0.0.1:40123". 0, or -1 (h NULL). */
int klefr_hostport_label(const klefr_hostport *h, char *buf, size_t size);
/* The pty's link, the serial device or the bound address. */
const char *klefr_hostport_link(const klefr_hostport *h);

void klefr_ports_opts_init(klefr_ports_opts *o);

/* Parse the value of --line-timing / --baud-check: "on" or "off". */
int klefr_ports_onoff(const char *s);

/* Check the syntax of a port option's value (the address of tcp: and
 * rfc2217:). 0, or -1 with a message in err. */
int klefr_ports_check_spec(const char *spec, char *err, size_t errlen);

/* Open the ports the model has, register them in the sim loop, print e.g.
 * "modbus: /dev/pts/7 (link: /run/user/0/klefr-sim/modbus)" or
 * "modbus: tcp 127.0.0.1:40123 (raw TCP server)". NULL on error (message
 * printed to stderr). */
klefr_ports *klefr_ports_open(klefr_sim *sim, const klefr_ports_opts *o);
void klefr_ports_close(klefr_ports *p);

/* "modbus: /dev/pts/7" or "modbus: tcp:127.0.0.1:40123" for an open port,
 * for the panel. 0, or -1 if the model has no such port. */
int klefr_ports_label(const klefr_ports *p, klefr_port port, char *buf, size_t size);

#endif
