/* Shared harness of the slave fuzz targets (fuzz_modbus.c, fuzz_mbus.c,
 * fuzz_iec.c): a meter fed through its own byte input, klefr_meter_uart_rx,
 * with virtual time advancing one character per byte and ticks every 10 ms
 * as the simulator's loop gives them; every reply is checked as it is
 * written (the target's check_reply), and the settings after each input.
 *
 * Speed: the meter and its EEPROM are set up once and copied back before
 * each input (a snapshot: ~8 KB of memcpy), so no power-up, no EEPROM save
 * and no ADC samples are paid per input. The outside campaign drove the
 * whole simulator (its 10 ms ADC slices of DSP for every millisecond of line
 * time, and an EEPROM file): about 300 inputs a second.
 *
 * Input: bytes for the port; FUZZ_ESC starts an event:
 *   ESC ESC        the byte ESC itself
 *   ESC 00..3F     line silence of (x + 1) characters
 *   ESC 40..7F     the next byte has a UART framing error
 *   ESC 80..BF     (x - 0x7F) x 100 ms pass (timeouts)
 *   ESC C0..FF     power cycle: power-fail save, power-up from the EEPROM */
#ifndef KLEFR_FUZZ_SLAVE_H
#define KLEFR_FUZZ_SLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeprom.h"
#include "fuzz_assert.h"
#include "klefr/meter.h"

#define FUZZ_ESC 0xF5u
#define FUZZ_HIST 1024 /* bytes fed, kept for the checks */

typedef struct {
    klefr_meter m;
    klefr_eeprom ee;
    klefr_uart_cfg cfg[KLEFR_PORT_COUNT];
    uint64_t t;
    uint64_t last_rx_t; /* when the last byte fed ended */
    /* The bytes fed so far; err[k]: byte k had a UART error. */
    uint8_t hist[FUZZ_HIST];
    bool err[FUZZ_HIST];
    size_t nhist;
    size_t seg_start; /* first byte after the last silence or reply */
    klefr_settings before; /* settings when the current input event began */
    size_t replies;
} fuzz_slave;

/* The target's checks of one reply (bytes written to port). */
static void check_reply(fuzz_slave *f, klefr_port port, const uint8_t *d, size_t n);

static fuzz_slave F, F_SNAP;

static inline void f_write(void *arg, klefr_port port, const uint8_t *d, size_t n, uint64_t t)
{
    (void)arg;
    /* Not before the request ended. (A frame of an unknown function code is
     * judged by a tick up to 20 ms after its silence: its reply may be
     * stamped before that tick, never before the request.) */
    FUZZ_ASSERT(t > F.last_rx_t, "reply at %llu, before the request ended at %llu",
                (unsigned long long)t, (unsigned long long)F.last_rx_t);
    check_reply(&F, port, d, n);
    F.replies++;
}

static inline void f_config(void *arg, klefr_port port, const klefr_uart_cfg *c, uint64_t t)
{
    (void)arg, (void)t;
    FUZZ_ASSERT(c->baud >= 300 && c->baud <= 19200, "baud %u", (unsigned)c->baud);
    F.cfg[port] = *c;
}

static inline int f_nvm_read(void *arg, uint32_t a, void *b, uint32_t n)
{
    (void)arg;
    return klefr_eeprom_read(&F.ee, a, b, n);
}

static inline int f_nvm_write(void *arg, uint32_t a, const void *b, uint32_t n)
{
    (void)arg;
    return klefr_eeprom_write(&F.ee, a, b, n);
}

static const klefr_hal F_HAL = {.nvm_read = f_nvm_read,
                                .nvm_write = f_nvm_write,
                                .uart_config = f_config,
                                .uart_write = f_write};

/* Settings in their legal ranges, whatever came in. */
static inline void check_settings(const klefr_meter *m)
{
    klefr_settings s = m->settings;
    FUZZ_ASSERT(klefr_settings_validate(&s, m->model, m->serial) == 0, "a setting out of range");
    FUZZ_ASSERT(m->tariff == 1 || (m->tariff == 2 && klefr_model_has_tariffs(m->model)),
                "tariff %u", m->tariff);
    FUZZ_ASSERT(m->error <= KLEFR_ERR_PROGRAM, "error %u", m->error);
}

/* Time passes to t with the loop's ticks on 10 ms boundaries. Past the
 * first 100 ms of an idle line the ticks come every 100 ms: nothing but
 * deadlines (timeouts, the display refresh) is left to happen then, and the
 * firmware only compares them with the time, so this changes when a
 * timeout is seen by at most 100 ms, and saves most of the ticks of a
 * long wait (the tick, with its display redraw, is the costliest call). */
static inline void tick_to(uint64_t t)
{
    uint64_t idle_from = F.t + 100000;
    uint64_t next = (F.t / 10000 + 1) * 10000;
    while (next <= t) {
        F.t = next;
        F.before = F.m.settings;
        klefr_meter_tick(&F.m, next);
        next += next < idle_from ? 10000 : 100000;
    }
    F.t = t;
}

static inline uint32_t char_us(klefr_port port)
{
    const klefr_uart_cfg *c = &F.cfg[port];
    uint32_t bits = 1u + c->data_bits + (c->parity != KLEFR_PARITY_NONE) + c->stop_bits;
    return (bits * 1000000u + c->baud - 1) / c->baud;
}

static inline void feed(klefr_port port, uint8_t b, uint8_t flags)
{
    tick_to(F.t + char_us(port));
    if (F.nhist == FUZZ_HIST) { /* keep the newest half */
        memmove(F.hist, F.hist + FUZZ_HIST / 2, FUZZ_HIST / 2);
        memmove(F.err, F.err + FUZZ_HIST / 2, FUZZ_HIST / 2);
        F.nhist = FUZZ_HIST / 2;
        F.seg_start = F.seg_start > FUZZ_HIST / 2 ? F.seg_start - FUZZ_HIST / 2 : 0;
    }
    F.hist[F.nhist] = b;
    F.err[F.nhist] = flags != 0;
    F.nhist++;
    F.before = F.m.settings;
    F.last_rx_t = F.t;
    klefr_meter_uart_rx(&F.m, port, b, flags, F.t);
}

/* Once per process: the meter powered up on a blank EEPROM at t = 1 s. */
static inline void slave_setup(klefr_model model, void (*tune)(klefr_meter *m))
{
    static bool done;
    if (done) {
        memcpy(&F, &F_SNAP, sizeof F);
        return;
    }
    done = true;
    memset(&F, 0, sizeof F);
    klefr_eeprom_open(&F.ee, NULL, NULL, 0);
    F.t = 1000000;
    klefr_meter_init(&F.m, &F_HAL, model, KLEFR_DEFAULT_SERIAL, F.t);
    if (tune)
        tune(&F.m);
    memcpy(&F_SNAP, &F, sizeof F);
}

/* Play one input on port. */
static inline void slave_run(klefr_port port, const uint8_t *data, size_t size)
{
    uint8_t flags = 0;
    for (size_t k = 0; k < size; k++) {
        uint8_t b = data[k];
        if (b == FUZZ_ESC && k + 1 < size && data[k + 1] != FUZZ_ESC) {
            uint8_t x = data[++k];
            if (x < 0x40) {
                tick_to(F.t + (uint64_t)(x + 1) * char_us(port));
            } else if (x < 0x80) {
                flags = KLEFR_RX_ERR_FRAMING;
            } else if (x < 0xC0) {
                tick_to(F.t + (uint64_t)(x - 0x7F) * 100000u);
            } else {
                F.before = F.m.settings;
                klefr_meter_power_fail(&F.m, F.t);
                F.t += 1000000;
                klefr_meter_init(&F.m, &F_HAL, F.m.model, F.m.serial, F.t);
                F.seg_start = F.nhist;
            }
            check_settings(&F.m);
            continue;
        }
        if (b == FUZZ_ESC)
            k++; /* ESC ESC */
        feed(port, b, flags);
        flags = 0;
    }
    tick_to(F.t + 60000); /* silence ends what is buffered (t3.5 + 20 ms at 1200 baud) */
    check_settings(&F.m);
}

/* ---- helpers for the checks ---- */

/* True when some frame ending at the last fed byte (or the one before it:
 * a frame ended by silence is judged when the next byte comes) satisfies ok.
 * Frames are at most max_len bytes and contain no byte with a UART error; ok
 * should test the cheap things (the address) before the CRC. */
static inline bool some_frame_ends_here(const fuzz_slave *f, size_t max_len,
                                 bool (*ok)(const uint8_t *b, size_t n, const fuzz_slave *f))
{
    size_t from = f->nhist > max_len + 1 ? f->nhist - max_len - 1 : 0;
    for (size_t end = f->nhist; end + 1 >= f->nhist && end > from; end--) {
        size_t k = end;
        while (k > from && !f->err[k - 1]) {
            k--;
            if (ok(f->hist + k, end - k, f))
                return true;
        }
        if (end == 0)
            break;
    }
    return false;
}

#endif
