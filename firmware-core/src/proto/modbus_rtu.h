/* Modbus RTU slave of the 6924 (manual appendix 3). */
#ifndef KLEFR_MODBUS_RTU_H
#define KLEFR_MODBUS_RTU_H

#include <stddef.h>
#include <stdint.h>

struct klefr_meter;

typedef struct {
    uint8_t buf[256];
    uint16_t len;
    uint64_t last_rx_us;
} klefr_mbrtu;

void klefr_mbrtu_init(struct klefr_meter *m, uint64_t t_us);
void klefr_mbrtu_rx(struct klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us);
void klefr_mbrtu_tick(struct klefr_meter *m, uint64_t t_us);

/* CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF; sent low byte first. */
uint16_t klefr_crc16_modbus(const uint8_t *data, size_t len);

#endif
