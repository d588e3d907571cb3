/* KLEFR 692x meter firmware: the caller-owned context and its entry points.
 *
 * One klefr_meter holds all state of one meter; there are no globals, so a
 * process may run many meters. The platform calls these functions from its
 * main loop with the current time (microseconds since power-up of the
 * platform clock; monotonic). The firmware talks back only through the HAL. */
#ifndef KLEFR_METER_H
#define KLEFR_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/config.h"
#include "klefr/hal.h"
#include "klefr/lcd.h"
#include "klefr/types.h"

#include "../../src/metering/metering.h"
#include "../../src/proto/iec62056.h"
#include "../../src/proto/mbus.h"
#include "../../src/proto/modbus_rtu.h"
#include "../../src/store/store.h"
#include "../../src/ui/ui.h"

typedef struct klefr_meter {
    const klefr_hal *hal;
    klefr_model model;
    uint32_t serial;         /* printed serial number, 8 decimal digits as BCD */
    uint8_t error;           /* 0, KLEFR_ERR_EEPROM (Err 01), KLEFR_ERR_PROGRAM (Err 02) */
    bool powered;            /* false after klefr_meter_power_fail() */

    klefr_settings settings; /* saved settings (EEPROM image) */
    klefr_regs regs;         /* saved registers (EEPROM image) */
    klefr_measure meas;      /* latest instantaneous values */

    uint8_t tariff;          /* active tariff 1 or 2 */
    bool tariff_input;       /* 6922 external tariff input level (T2 when true) */
    uint64_t comm_until_us;  /* communication icon lit until then */

    klefr_metering metering;
    klefr_store store;
    klefr_ui ui;
    /* The protocol slaves. Each holds its view of this meter (arg = the
     * meter's address, proto/slave_views.c): a meter is not moved after
     * klefr_meter_init() (copied back to the same place is fine). */
    klefr_mbrtu modbus;
    klefr_iec iec; /* optical port (all models) */
    klefr_mbus mbus;
} klefr_meter;

/* Power-up: read the EEPROM image (or defaults), check the program, start. */
void klefr_meter_init(klefr_meter *m, const klefr_hal *hal, klefr_model model, uint32_t serial,
                      uint64_t t_us);

/* n samples of each channel, the first taken at t_us, spaced KLEFR_TS_US. */
void klefr_meter_adc(klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us);

/* Samples taken but not yet in the energy registers: the block in progress
 * (and the power-up piece). The registers add a block at its end, so they
 * lag the terminals by these samples (at most ~0.5 s); 0 while unpowered. */
uint32_t klefr_meter_pending_samples(const klefr_meter *m);

/* Housekeeping: call at least every 10 ms (timers, menus, UART timeouts, saves). */
void klefr_meter_tick(klefr_meter *m, uint64_t t_us);

/* One byte received on a UART; t_us is when its stop bit ended. */
void klefr_meter_uart_rx(klefr_meter *m, klefr_port port, uint8_t byte, uint8_t flags, uint64_t t_us);

/* Button levels changed: mask of KLEFR_BTN_* currently held. */
void klefr_meter_buttons(klefr_meter *m, uint8_t held, uint64_t t_us);

/* External tariff input (terminals 12/13, 6922): true = voltage present = T2. */
void klefr_meter_tariff_input(klefr_meter *m, bool t2, uint64_t t_us);

/* Supply monitor interrupt: the supply is collapsing. Saves the registers and
 * counts a power-down; the meter then does nothing until klefr_meter_init(). */
void klefr_meter_power_fail(klefr_meter *m, uint64_t t_us);

/* Set the active tariff by command (Modbus 6048 / M-bus / IR); save=false for
 * the "not saved" variants. Returns false for a bad tariff (T2 on the
 * single-tariff 6921). */
bool klefr_meter_set_tariff(klefr_meter *m, uint8_t tariff, bool save, uint64_t t_us);

/* Settings were changed by a protocol or the menu: persist them now. */
void klefr_meter_settings_changed(klefr_meter *m, uint64_t t_us);

/* Emit a trace line through the HAL, if tracing is on. */
void klefr_meter_trace(const klefr_meter *m, const char *line);

#endif
