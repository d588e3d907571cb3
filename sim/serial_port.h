/* Host bottom of a real serial port (libserialport). */
#ifndef KLEFR_SIM_SERIAL_PORT_H
#define KLEFR_SIM_SERIAL_PORT_H

#include <stdint.h>

#include "klefr/hal.h"

typedef struct {
    void *sp; /* struct sp_port * */
    int fd;   /* for poll() */
    klefr_uart_cfg applied;
} klefr_serial;

/* Open name (e.g. /dev/ttyUSB0) with the settings. Returns 0, or -1 with a
 * message in err (also when built without libserialport). */
int klefr_serial_open(klefr_serial *s, const char *name, const klefr_uart_cfg *cfg, char *err,
                      int errlen);
/* Apply the settings if they differ from the port's (waits for output to drain). */
int klefr_serial_config(klefr_serial *s, const klefr_uart_cfg *cfg);
void klefr_serial_close(klefr_serial *s);

#endif
