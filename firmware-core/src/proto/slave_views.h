/* The meter side of the protocol slaves: each slave's narrow view (its
 * registers, settings and UART, as callbacks) implemented on klefr_meter. */
#ifndef KLEFR_SLAVE_VIEWS_H
#define KLEFR_SLAVE_VIEWS_H

#include "proto/iec62056.h"
#include "proto/mbus.h"
#include "proto/modbus_rtu.h"

struct klefr_meter;

/* The bus port's Modbus view of m (arg = m): registers from modbus_map.c,
 * the address and line settings from m->settings, the UART and trace from
 * m->hal, the communication icon. */
klefr_mbrtu_view klefr_meter_modbus_view(struct klefr_meter *m);

/* The bus port's M-bus view of m (arg = m): the telegram and write records
 * from mbus_data.c, the addresses and baud in m->settings, the UART and
 * trace from m->hal, the communication icon. */
klefr_mbus_view klefr_meter_mbus_view(struct klefr_meter *m);

/* The optical port's IEC 62056-21 view of m (arg = m): the data items from
 * iec62056_map.c, the serial as address, the password, the model's
 * identification, the UART and trace from m->hal, the communication icon. */
klefr_iec_view klefr_meter_iec_view(struct klefr_meter *m);

#endif
