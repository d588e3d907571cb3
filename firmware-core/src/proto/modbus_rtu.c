/* STUB: replaced by the modbus work. */
#include "klefr/meter.h"

void klefr_mbrtu_init(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }
void klefr_mbrtu_rx(struct klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    (void)m; (void)byte; (void)flags; (void)t_us;
}
void klefr_mbrtu_tick(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }
uint16_t klefr_crc16_modbus(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFF;
    for (size_t k = 0; k < len; k++) {
        crc ^= data[k];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}
