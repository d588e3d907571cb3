/* The only boundary between the KLEFR firmware and hardware.
 *
 * The platform (the real MCU board, or sim/ on a PC) fills one klefr_hal and
 * passes it to klefr_meter_init(). Every callback gets hal->arg first. Time is
 * never read by the firmware: every entry point of the meter takes the current
 * time in microseconds, and outputs carry the time they happen at.
 *
 * Inputs go the other way, as calls on the meter context (meter.h):
 * ADC sample blocks, the tick, received UART bytes, button levels, the tariff
 * input and the supply monitor. */
#ifndef KLEFR_HAL_H
#define KLEFR_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct klefr_lcd_fb;

/* Serial ports of the meter. BUS is terminals 10/11: M-bus on the 6923,
 * RS485 Modbus on the 6924; IR is the IEC 62056-21 optical port. */
typedef enum { KLEFR_PORT_IR = 0, KLEFR_PORT_BUS = 1, KLEFR_PORT_COUNT } klefr_port;

typedef enum { KLEFR_PARITY_NONE = 0, KLEFR_PARITY_EVEN = 1, KLEFR_PARITY_ODD = 2 } klefr_parity;

/* Character format of a UART. */
typedef struct {
    uint32_t baud;
    uint8_t data_bits; /* 7 or 8 */
    klefr_parity parity;
    uint8_t stop_bits; /* 1 or 2 */
} klefr_uart_cfg;

/* Flags on a received byte: the UART saw a framing or parity error. */
#define KLEFR_RX_ERR_FRAMING 0x01u
#define KLEFR_RX_ERR_PARITY 0x02u

/* One-shot pulse outputs (a timer output-compare pin on the MCU). */
typedef enum {
    KLEFR_OUT_LED = 0,    /* red test LED, 10,000 imp/kWh */
    KLEFR_OUT_S0_FWD = 1, /* S0 forward, terminals 18/19 */
    KLEFR_OUT_S0_REV = 2, /* S0 reverse, terminals 20/21 */
    KLEFR_OUT_COUNT
} klefr_output;

typedef struct klefr_hal {
    void *arg;

    /* EEPROM. Synchronous; returns 0 on success, negative on failure. A write
     * interrupted by a power cut may have written any prefix of its pages. */
    int (*nvm_read)(void *arg, uint32_t addr, void *buf, uint32_t len);
    int (*nvm_write)(void *arg, uint32_t addr, const void *buf, uint32_t len);

    /* UARTs. uart_config: the port uses cfg from t_us on, for bytes it sends
     * and receives; bytes queued before keep their settings (a driver waits
     * for transmit-complete before it reprograms the UART). The firmware
     * passes the end of its last reply, so a master that switches right
     * after the reply is understood. uart_write queues bytes for
     * transmission starting at t_us (whole frame at once); the platform puts
     * them on the wire back to back. */
    void (*uart_config)(void *arg, klefr_port port, const klefr_uart_cfg *cfg, uint64_t t_us);
    void (*uart_write)(void *arg, klefr_port port, const uint8_t *data, size_t len, uint64_t t_us);

    /* A pulse on an output pin starting at t_us, lasting width_us. */
    void (*pulse)(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us);

    /* Backlight on/off, and the LCD controller's segment memory changed. */
    void (*backlight)(void *arg, bool on, uint64_t t_us);
    void (*lcd_update)(void *arg, const struct klefr_lcd_fb *fb, uint64_t t_us);

    /* Checksum of the program memory, compared at boot with the value the
     * firmware was built with (KLEFR_PROGRAM_CRC_EXPECTED): mismatch = Err 02.
     * NULL means "not checked". */
    uint32_t (*program_crc)(void *arg);

    /* Optional debug trace line (no newline), NULL to disable. */
    void (*trace)(void *arg, const char *line);
} klefr_hal;

/* The value program_crc must return for a good image. */
#define KLEFR_PROGRAM_CRC_EXPECTED 0x6921A5A5u

#endif
