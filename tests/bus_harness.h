/* The bus-port slaves' test harness (test_modbus.c, test_mbus.c): a meter on
 * a fake HAL that records what goes out on the bus port and the line
 * settings it was given, the simulator's EEPROM in RAM, an optional trace
 * sink, and frames written as hex text. One suite per executable, so the
 * file-scope state is the suite's own. */
#ifndef KLEFR_BUS_HARNESS_H
#define KLEFR_BUS_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "eeprom.h"
#include "klefr/meter.h"

typedef struct {
    uint8_t tx[4096]; /* bytes written to the bus port (F.ntx = 0 to restart) */
    size_t ntx;
    int writes;
    uint64_t tx_t; /* start time of the last write */
    klefr_uart_cfg cfg;
    uint64_t cfg_t; /* when the last settings take effect */
    int configs;
} fake;

static fake F;
static klefr_eeprom EE; /* the simulator's EEPROM, in RAM */
static klefr_meter M;
static uint64_t T;

static void f_write(void *arg, klefr_port p, const uint8_t *d, size_t n, uint64_t t)
{
    (void)arg;
    ck_assert_int_eq(p, KLEFR_PORT_BUS);
    ck_assert_uint_le(F.ntx + n, sizeof F.tx);
    memcpy(F.tx + F.ntx, d, n);
    F.ntx += n;
    F.writes++;
    F.tx_t = t;
}

static void f_config(void *arg, klefr_port p, const klefr_uart_cfg *c, uint64_t t)
{
    (void)arg;
    (void)p;
    F.cfg = *c;
    F.cfg_t = t;
    F.configs++;
}

static const klefr_hal HAL = {.arg = &EE,
                              .uart_write = f_write,
                              .uart_config = f_config,
                              .nvm_read = klefr_eeprom_read,
                              .nvm_write = klefr_eeprom_write};

static char TRACE[32768];
static void f_trace(void *arg, const char *line)
{
    (void)arg;
    strncat(TRACE, line, sizeof TRACE - strlen(TRACE) - 2);
    strcat(TRACE, "\n");
}
static const klefr_hal HAL_TRACE = {.arg = &EE,
                                    .uart_write = f_write,
                                    .uart_config = f_config,
                                    .nvm_read = klefr_eeprom_read,
                                    .nvm_write = klefr_eeprom_write,
                                    .trace = f_trace};

/* A fresh meter of this model on a blank EEPROM at T = 1 s. */
static void boot_blank(klefr_model model)
{
    memset(&F, 0, sizeof F);
    klefr_eeprom_open(&EE, NULL, NULL, 0);
    T = 1000000;
    klefr_meter_init(&M, &HAL, model, KLEFR_DEFAULT_SERIAL, T);
}

/* "01 03 40 00" -> bytes; returns the count. */
static size_t hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        ck_assert(sscanf(s, "%2x", &v) == 1);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

#endif
