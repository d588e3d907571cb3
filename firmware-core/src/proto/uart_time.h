/* Time on the wire of UART characters, for the three slaves' reply timing
 * and the simulator's line model: one helper instead of a char-time
 * function per protocol. */
#ifndef KLEFR_UART_TIME_H
#define KLEFR_UART_TIME_H

#include <stdint.h>

#include "klefr/hal.h"

/* bits bit times at cfg's baud (9600 when unset), rounded up. */
static inline uint32_t klefr_uart_bits_us(const klefr_uart_cfg *c, uint32_t bits)
{
    uint32_t baud = c->baud ? c->baud : 9600u;
    return (bits * 1000000u + baud - 1) / baud;
}

/* One character: start bit, data bits, parity bit if any, stop bits. */
static inline uint32_t klefr_uart_char_us(const klefr_uart_cfg *c)
{
    return klefr_uart_bits_us(c,
                              1u + c->data_bits + (c->parity != KLEFR_PARITY_NONE) + c->stop_bits);
}

#endif
