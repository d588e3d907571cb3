/* Modbus RTU slave: golden frames (manual A3.2 write table), exceptions,
 * framing robustness, timing of replies and line-setting changes; the
 * engine alone on a view that is not a meter. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_harness.h"
#include "proto/modbus_map.h"

static void setup(void)
{
    boot_blank(KLEFR_MODEL_6924);
}

/* Send bytes one character time apart (9600 8E1), then let t3.5 pass. */
static void send_bytes(const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        T += 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    T += 30000;
    klefr_meter_tick(&M, T);
}

static void send(const char *h)
{
    uint8_t b[300];
    send_bytes(b, hex(h, b));
}

/* Request, then the reply must be exactly `reply` ("" = no reply). */
static void expect(const char *req, const char *reply)
{
    uint8_t want[300];
    size_t n = hex(reply, want);
    F.ntx = 0;
    send(req);
    ck_assert_uint_eq(F.ntx, n);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(F.tx[k] == want[k], "%s: byte %zu is %02X, want %02X", req, k, F.tx[k],
                      want[k]);
}

START_TEST(crc_check_values)
{
    ck_assert_uint_eq(klefr_crc16_modbus((const uint8_t *)"123456789", 9), 0x4B37);
    uint8_t f[8];
    hex("01 03 00 00 00 01 84 0A", f);
    uint16_t c = klefr_crc16_modbus(f, 6);
    ck_assert_uint_eq(c & 0xFF, 0x84);
    ck_assert_uint_eq(c >> 8, 0x0A);
    ck_assert_uint_eq(klefr_crc16_modbus(f, 8), 0); /* residue of a good frame */
}
END_TEST

START_TEST(write_id_example)
{
    expect("01 06 40 03 00 0A EC 0D", "01 06 40 03 00 0A EC 0D");
    ck_assert_uint_eq(M.settings.modbus_id, 10);
    expect("01 03 40 00 00 02 D1 CB", ""); /* old address: silent */
    expect("0A 03 40 03 00 01 60 B1", "0A 03 02 00 0A 9D 82");
}
END_TEST

START_TEST(write_baud_example_applies_after_reply)
{
    expect("01 06 40 04 25 80 C6 FB", "01 06 40 04 25 80 C6 FB");
    ck_assert_uint_eq(M.settings.baud, 9600);
    T += 100000;
    klefr_meter_tick(&M, T);
    int configs = F.configs;
    F.ntx = 0;
    uint8_t b[8];
    hex("01 06 40 04 12 C0 D1 3B", b);
    for (int k = 0; k < 8; k++) {
        T += 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    /* The reply goes out at the old speed; the change is handed to the UART
     * with it, to take effect exactly when the reply's last stop bit ends
     * (not at a later tick: a master that switches at once is understood). */
    ck_assert_uint_eq(F.ntx, 8);
    ck_assert_uint_ge(F.tx_t, T + 4000);
    ck_assert_int_eq(F.configs, configs + 1);
    ck_assert_uint_eq(F.cfg.baud, 4800);
    ck_assert_uint_eq(F.cfg_t, F.tx_t + 8 * 1146);
    ck_assert_uint_eq(M.settings.baud, 4800);
    klefr_meter_tick(&M, F.tx_t + 8 * 1146 + 1);
    ck_assert_int_eq(F.configs, configs + 1); /* once */
}
END_TEST

START_TEST(write_s0_example)
{
    expect("01 10 40 0D 00 02 04 41 20 00 00 16 03", "01 10 40 0D 00 02 C5 CB");
    ck_assert_uint_eq(M.settings.s0_rate_centi, 1000);
    uint16_t hi, lo;
    ck_assert(klefr_mbmap_read(&M, 0x400D, &hi) && klefr_mbmap_read(&M, 0x400E, &lo));
    ck_assert_uint_eq(hi, 0x4120);
    ck_assert_uint_eq(lo, 0);
}
END_TEST

START_TEST(write_calc_lcd_parity_pdc_examples)
{
    expect("01 06 40 0F 00 0A 2C 0E", "01 06 40 0F 00 0A 2C 0E");
    ck_assert_uint_eq(M.settings.calc_code, 10);
    expect("01 06 40 10 00 25 5C 14", "01 06 40 10 00 25 5C 14");
    ck_assert_uint_eq(M.settings.lcd_cycle_s, 25);
    M.regs.power_downs = 7;
    expect("01 06 40 16 00 00 7D CE", "01 06 40 16 00 00 7D CE");
    ck_assert_uint_eq(M.regs.power_downs, 0);
    expect("01 06 40 11 00 02 4D CE", "01 06 40 11 00 02 4D CE");
    ck_assert_int_eq(M.settings.parity, KLEFR_PARITY_NONE);
    T += 100000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(F.cfg.parity, KLEFR_PARITY_NONE);
}
END_TEST

START_TEST(write_tariff_and_day_examples)
{
    expect("01 06 60 48 00 02 96 1D", "01 06 60 48 00 02 96 1D");
    ck_assert_uint_eq(M.tariff, 2);
    ck_assert_uint_eq(M.settings.tariff, 2);
    uint8_t b[8] = {1, 6, 0x60, 0x48, 0, 0x0B};
    uint16_t c = klefr_crc16_modbus(b, 6);
    b[6] = (uint8_t)c;
    b[7] = (uint8_t)(c >> 8);
    F.ntx = 0;
    send_bytes(b, 8);
    ck_assert_uint_eq(F.ntx, 8); /* echo */
    ck_assert_uint_eq(M.tariff, 1);
    ck_assert_uint_eq(M.settings.tariff, 2); /* 11 = T1, not saved */
    M.regs.day_fwd_uwh = 123456789;
    expect("01 10 60 49 00 02 04 00 00 00 00 9F F7", "01 10 60 49 00 02 8E 1E");
    ck_assert_uint_eq(M.regs.day_fwd_uwh, 0);
}
END_TEST

START_TEST(identity_reads)
{
    expect("01 03 40 00 00 02 D1 CB", "01 03 04 17 06 01 02 9F D7");
    expect("01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    uint16_t v[2];
    ck_assert(klefr_mbmap_read(&M, 0x4007, &v[0]) && klefr_mbmap_read(&M, 0x4008, &v[1]));
    ck_assert_float_eq_tol(klefr_mb_bits_float((uint32_t)v[0] << 16 | v[1]), 2.18f, 1e-6f);
    ck_assert(klefr_mbmap_read(&M, 0x4004, &v[0]));
    ck_assert_uint_eq(v[0], 9600);
    ck_assert(klefr_mbmap_read(&M, 0x4010, &v[0]));
    ck_assert_uint_eq(v[0], 0x0010); /* 10 s in the "HEX" encoding */
    ck_assert(klefr_mbmap_read(&M, 0x4011, &v[0]));
    ck_assert_uint_eq(v[0], 1); /* even */
    ck_assert(klefr_mbmap_read(&M, 0x6048, &v[0]));
    ck_assert_uint_eq(v[0], 1);
}
END_TEST

START_TEST(block_reads_whole_map)
{
    M.meas.v_rms = 230.0f;
    M.meas.i_rms = 10.0f;
    M.meas.p_w = 2300.0f;
    M.meas.pf = 1.0f;
    F.ntx = 0;
    send("01 03 50 00 00 2C 55 17"); /* mbpoll -r 0x5001 -c 22 */
    ck_assert_uint_eq(F.ntx, 3 + 88 + 2);
    ck_assert_uint_eq(F.tx[2], 88);
    uint32_t p = (uint32_t)F.tx[3 + 0x24] << 24 | F.tx[3 + 0x25] << 16 | F.tx[3 + 0x26] << 8 |
                 F.tx[3 + 0x27];
    ck_assert_float_eq_tol(klefr_mb_bits_float(p), 2.3f, 1e-6f);
    uint32_t l2v = (uint32_t)F.tx[3 + 8] << 24 | F.tx[3 + 9] << 16;
    ck_assert_uint_eq(l2v, 0); /* three-phase-only: 0 */
    for (unsigned a = 0x4000; a < 0x4020; a++) {
        uint16_t v;
        ck_assert(klefr_mbmap_read(&M, (uint16_t)a, &v));
    }
    for (unsigned a = 0x6000; a <= 0x604A; a++) {
        uint16_t v;
        ck_assert(klefr_mbmap_read(&M, (uint16_t)a, &v));
    }
    uint16_t v;
    ck_assert(!klefr_mbmap_read(&M, 0x604B, &v));
    ck_assert(!klefr_mbmap_read(&M, 0x5032, &v));
    ck_assert(!klefr_mbmap_read(&M, 0x4020, &v));
}
END_TEST

START_TEST(exceptions_like_libmodbus)
{
    expect("01 05 00 00 FF 00 8C 3A", "01 85 01 83 50"); /* illegal function */
    expect("01 03 50 00 00 00 54 CA", "01 83 03 01 31"); /* qty 0 */
    expect("01 03 50 00 00 7E D4 EA", "01 83 03 01 31"); /* qty 126 */
    expect("01 03 00 00 00 0A C5 CD", "01 83 02 C0 F1"); /* unmapped */
    expect("01 06 40 00 00 01 5D CA", "01 86 02 C3 A1"); /* read-only */
    ck_assert_uint_eq(M.settings.modbus_id, 1);
}
END_TEST

static void write_value(uint16_t reg, uint16_t value, uint8_t want_ex)
{
    uint8_t b[8] = {1, 6, (uint8_t)(reg >> 8), (uint8_t)reg, (uint8_t)(value >> 8), (uint8_t)value};
    uint16_t c = klefr_crc16_modbus(b, 6);
    b[6] = (uint8_t)c;
    b[7] = (uint8_t)(c >> 8);
    F.ntx = 0;
    send_bytes(b, 8);
    if (want_ex) {
        ck_assert_uint_eq(F.ntx, 5);
        ck_assert_uint_eq(F.tx[1], 0x86);
        ck_assert_uint_eq(F.tx[2], want_ex);
    } else {
        ck_assert_uint_eq(F.ntx, 8);
    }
}

START_TEST(write_values_out_of_range)
{
    klefr_settings before = M.settings;
    write_value(0x4003, 0, 3);
    write_value(0x4003, 248, 3);
    write_value(0x4004, 300, 3); /* three-phase only */
    write_value(0x4004, 600, 3);
    write_value(0x4004, 19200, 3);
    write_value(0x400F, 11, 3); /* three-phase only */
    write_value(0x400F, 2, 3);
    write_value(0x4010, 0x0031, 3);
    write_value(0x4010, 0x001A, 3); /* not a decimal digit */
    write_value(0x4010, 0x0000, 3);
    write_value(0x4011, 4, 3);
    write_value(0x4016, 5, 3);
    write_value(0x6048, 3, 3);
    write_value(0x400D, 1, 2); /* two registers: FC 10 only */
    ck_assert(memcmp(&before, &M.settings, sizeof before) == 0);
    write_value(0x4004, 2400, 0);
    write_value(0x4004, 1200, 0);
    write_value(0x4010, 0x0030, 0);
    ck_assert_uint_eq(M.settings.lcd_cycle_s, 30);
    /* FC 10 with a byte count that does not match the quantity */
    uint8_t b[13] = {1, 0x10, 0x40, 0x0D, 0, 2, 4, 0x3D, 0xCC, 0xCC, 0xCD};
    uint16_t c = klefr_crc16_modbus(b, 11);
    b[11] = (uint8_t)c;
    b[12] = (uint8_t)(c >> 8);
    F.ntx = 0;
    send_bytes(b, 13);
    ck_assert_uint_eq(F.ntx, 8); /* S0 = 0.1 is valid */
    ck_assert_uint_eq(M.settings.s0_rate_centi, 10);
    b[5] = 1;
    c = klefr_crc16_modbus(b, 11);
    b[11] = (uint8_t)c;
    b[12] = (uint8_t)(c >> 8);
    F.ntx = 0;
    send_bytes(b, 13);
    ck_assert_uint_eq(F.ntx, 5);
    ck_assert_uint_eq(F.tx[1], 0x90);
    ck_assert_uint_eq(F.tx[2], 3);
}
END_TEST

START_TEST(broadcast_executes_silently)
{
    expect("00 06 40 03 00 05 AD D8", "");
    ck_assert_uint_eq(M.settings.modbus_id, 5);
}
END_TEST

START_TEST(bad_crc_and_junk_are_silent_and_harmless)
{
    expect("01 06 40 03 00 0A EC 0E", ""); /* wrong CRC */
    ck_assert_uint_eq(M.settings.modbus_id, 1);
    /* junk glued to the front of a good frame, no silence between */
    expect("FF 13 01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    /* a truncated frame, silence, then a good one */
    expect("01 03 40 02", "");
    expect("01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    /* a pause longer than t3.5 inside a frame splits it: both parts are junk */
    uint8_t g[8];
    hex("01 03 40 02 00 01 30 0A", g);
    F.ntx = 0;
    for (int k = 0; k < 8; k++) {
        T += k == 3 ? 5000 : 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, g[k], 0, T);
    }
    T += 30000;
    klefr_meter_tick(&M, T);
    ck_assert_uint_eq(F.ntx, 0);
    /* a pause shorter than t3.5 does not (t1.5 is not enforced) */
    F.ntx = 0;
    for (int k = 0; k < 8; k++) {
        T += k == 3 ? 3500 : 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, g[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 7);
    /* a UART framing error poisons the frame it is in */
    uint8_t b[8];
    hex("01 03 40 02 00 01 30 0A", b);
    F.ntx = 0;
    for (int k = 0; k < 8; k++) {
        T += 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], k == 3 ? KLEFR_RX_ERR_FRAMING : 0, T);
    }
    T += 30000;
    klefr_meter_tick(&M, T);
    ck_assert_uint_eq(F.ntx, 0);
    expect("01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    /* 300 bytes of junk, then a good frame, no silence anywhere */
    {
        uint8_t j[308];
        memset(j, 0x44, 300);
        hex("01 03 40 02 00 01 30 0A", j + 300);
        F.ntx = 0;
        send_bytes(j, sizeof j);
        ck_assert_uint_eq(F.ntx, 7);
    }
    /* an FC 10 header with a byte count no frame can have (> 256 bytes) */
    expect("01 10 40 0D 00 7F FE 01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    /* random garbage, many times, between good frames */
    srand(1);
    for (int r = 0; r < 200; r++) {
        uint8_t g[40];
        size_t n = (size_t)(rand() % 40);
        for (size_t k = 0; k < n; k++)
            g[k] = (uint8_t)rand();
        send_bytes(g, n);
        expect("01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    }
    ck_assert_uint_eq(M.settings.modbus_id, 1);
}
END_TEST

/* Send bytes one character time apart with no silence after; returns the
 * time the last one ended. */
static uint64_t glue(const char *h)
{
    uint8_t b[300];
    size_t n = hex(h, b);
    for (size_t k = 0; k < n; k++) {
        T += 1146;
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    return T;
}

/* t3.5 at 9600 8E1 */
#define T35 klefr_mbrtu_t35_us(&(klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1})

static void set_id(uint8_t id)
{
    M.settings.modbus_id = id;
}

/* Found by an outside campaign: one 00 glitch byte glued in front of a
 * request to ID 15, 16 or 23 made the meter wait for the length a request of
 * FC 0F/10/17 would have, and drop the real one; ID 1 worked. */
START_TEST(glitch_byte_before_ids_15_16_23)
{
    static const struct {
        uint8_t id;
        const char *req, *reply;
    } c[] = {
        {1, "00 01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F"},
        {15, "00 0F 03 40 02 00 01 31 24", "0F 03 02 69 24 FF CE"},
        {16, "00 10 03 40 02 00 01 33 4B", "10 03 02 69 24 6A 0C"},
        {23, "00 17 03 40 02 00 01 32 FC", "17 03 02 69 24 DF CC"},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        set_id(c[k].id);
        expect(c[k].req, c[k].reply);
        /* and answered at once: t3.5 + 0.5 ms after the last byte */
        uint64_t end = T - 30000;
        ck_assert_uint_eq(F.tx_t, end + T35 + KLEFR_MBRTU_TURNAROUND_US);
    }
    /* A write to ID 15 behind the glitch, then more bytes at once: executed
     * and echoed when its own last byte is in, not when the false FC 0F
     * frame's length runs out 10 characters later. */
    set_id(15);
    F.ntx = 0;
    uint64_t end = glue("00 0F 06 40 0F 00 0A 2D 20");
    ck_assert_uint_eq(F.ntx, 8);
    ck_assert_uint_eq(M.settings.calc_code, 10);
    ck_assert_uint_eq(F.tx_t, end + T35 + KLEFR_MBRTU_TURNAROUND_US);
    glue("01 02 03 04 05 06 07 08 09 0A");
    ck_assert_uint_eq(F.ntx, 8); /* nothing more */
    T += 30000;
    klefr_meter_tick(&M, T);
    /* Junk of every kind before a frame, the frame still taken at its end. */
    F.ntx = 0;
    end = glue("68 05 05 68 10 7B 0F 00 0F 17 00 0F 06 40 0F 00 04 AC E4");
    ck_assert_uint_eq(F.ntx, 8);
    ck_assert_uint_eq(F.tx_t, end + T35 + KLEFR_MBRTU_TURNAROUND_US);
    ck_assert_uint_eq(M.settings.calc_code, 4);
}
END_TEST

START_TEST(unknown_function_delimited_by_silence)
{
    expect("01 2B 0E 01 00 70 77", "01 AB 01 9E F0");
}
END_TEST

/* A baud or parity set in the menu (7.13, 7.14) or over IR reaches the UART
 * at the next tick, without a restart. */
START_TEST(settings_from_elsewhere_reach_the_uart)
{
    int configs = F.configs;
    M.settings.baud = 2400;
    M.settings.parity = KLEFR_PARITY_ODD;
    klefr_meter_settings_changed(&M, T);
    T += 10000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(F.configs, configs + 1);
    ck_assert_uint_eq(F.cfg.baud, 2400);
    ck_assert_int_eq(F.cfg.parity, KLEFR_PARITY_ODD);
}
END_TEST

START_TEST(communication_icon_timer)
{
    ck_assert_uint_eq(M.comm_until_us, 0);
    expect("01 03 40 02 00 01 30 0A", "01 03 02 69 24 96 0F");
    ck_assert_uint_gt(M.comm_until_us, T);
}
END_TEST

START_TEST(trace_frames_decoded)
{
    TRACE[0] = 0;
    klefr_meter_init(&M, &HAL_TRACE, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, T);
    M.meas.v_rms = 230.0f;
    M.meas.freq_hz = 50.0f;
    send("01 03 50 00 00 2C 55 17");
    send("01 06 40 03 00 0A EC 0E"); /* bad CRC */
    send("01 06 40 10 00 31 5C 14"); /* bad CRC for this value, too */
    ck_assert_ptr_nonnull(strstr(TRACE, "modbus: rx 01 03 50 00 00 2C 55 17 t="));
    ck_assert_ptr_nonnull(strstr(TRACE, "rx addr=1 fc=03 read reg=0x5000 count=44 crc=ok"));
    ck_assert_ptr_nonnull(strstr(TRACE, "tx addr=1 fc=03 bytes=88"));
    ck_assert_ptr_nonnull(strstr(TRACE, " voltage=230.000 l1_voltage=230.000 frequency=50.000 "));
    ck_assert_ptr_nonnull(strstr(TRACE, "write reg=0x4003 (modbus_id) value=0x000A crc=BAD"));
    ck_assert_uint_eq(M.settings.modbus_id, 1);
}
END_TEST

/* The engine alone, on a view that is not a meter (as a fleet or another
 * device would give it): four holding registers at 0x0100, address 7,
 * 19200 8N1. What it sends is only what the view allows. */
typedef struct {
    uint16_t regs[4];
    uint8_t out[64];
    size_t nout;
    uint64_t out_t, icon_end;
    bool trace_on;
    int lines, names; /* trace lines received, register names asked for */
} toy_dev;

static uint8_t toy_address(void *arg)
{
    (void)arg;
    return 7;
}
static klefr_uart_cfg toy_cfg(void *arg)
{
    (void)arg;
    return (klefr_uart_cfg){19200, 8, KLEFR_PARITY_NONE, 1};
}
static uint8_t toy_read(void *arg, uint16_t addr, uint16_t n, uint16_t *out)
{
    toy_dev *d = arg;
    if (addr < 0x0100 || addr + n > 0x0104)
        return KLEFR_MBEX_ILLEGAL_ADDRESS;
    memcpy(out, d->regs + (addr - 0x0100), n * sizeof *out);
    return KLEFR_MBEX_NONE;
}
static uint8_t toy_write(void *arg, uint16_t addr, uint16_t n, const uint16_t *regs, uint64_t t)
{
    (void)t;
    toy_dev *d = arg;
    if (addr < 0x0100 || addr + n > 0x0104)
        return KLEFR_MBEX_ILLEGAL_ADDRESS;
    memcpy(d->regs + (addr - 0x0100), regs, n * sizeof *regs);
    return KLEFR_MBEX_NONE;
}
static uint8_t toy_write1(void *arg, uint16_t addr, uint16_t v, uint64_t t)
{
    return toy_write(arg, addr, 1, &v, t);
}
static void toy_uart_write(void *arg, const uint8_t *b, size_t n, uint64_t t)
{
    toy_dev *d = arg;
    memcpy(d->out, b, n);
    d->nout = n;
    d->out_t = t;
}
static void toy_icon(void *arg, uint64_t end_us)
{
    ((toy_dev *)arg)->icon_end = end_us;
}
static void toy_trace(void *arg, const char *line)
{
    (void)line;
    ((toy_dev *)arg)->lines++;
}
static bool toy_trace_on(void *arg)
{
    return ((toy_dev *)arg)->trace_on;
}
static const char *toy_name(void *arg, uint16_t addr)
{
    (void)addr;
    ((toy_dev *)arg)->names++;
    return "toy";
}

/* The toy device's whole view (its trace listens while trace_on). */
static klefr_mbrtu_view toy_view(toy_dev *d)
{
    return (klefr_mbrtu_view){.arg = d,
                              .address = toy_address,
                              .uart_cfg = toy_cfg,
                              .read_regs = toy_read,
                              .write_reg = toy_write1,
                              .write_regs = toy_write,
                              .uart_write = toy_uart_write,
                              .frame_for_me = toy_icon,
                              .trace = {toy_trace, d, toy_trace_on},
                              .reg_name = toy_name};
}

/* A request (CRC appended here), bytes one 19200 8N1 character apart;
 * returns when its last byte ended. */
static uint64_t toy_send(klefr_mbrtu *s, const char *h, uint64_t t)
{
    uint8_t b[64];
    size_t n = hex(h, b);
    uint16_t crc = klefr_crc16_modbus(b, n);
    b[n++] = (uint8_t)crc;
    b[n++] = (uint8_t)(crc >> 8);
    for (size_t k = 0; k < n; k++)
        klefr_mbrtu_rx(s, b[k], 0, t += 521);
    return t;
}

START_TEST(engine_on_a_view_that_is_not_a_meter)
{
    toy_dev d = {.regs = {0x1111, 0x2222, 0x3333, 0x4444}};
    klefr_mbrtu_view v = toy_view(&d);
    klefr_mbrtu s;
    klefr_mbrtu_init(&s, &v, 0);
    klefr_uart_cfg cfg = toy_cfg(NULL);
    uint32_t t35 = klefr_mbrtu_t35_us(&cfg);
    ck_assert_uint_eq(t35, (521 * 7 + 1) / 2); /* 8N1 at 19200: 521 us a character */

    uint64_t end = toy_send(&s, "07 03 01 01 00 02", 1000000);
    ck_assert_uint_eq(d.nout, 9);
    ck_assert_mem_eq(d.out, ((uint8_t[]){0x07, 0x03, 0x04, 0x22, 0x22, 0x33, 0x33}), 7);
    ck_assert_uint_eq(klefr_crc16_modbus(d.out, d.nout), 0);
    ck_assert_uint_eq(d.out_t, end + t35 + KLEFR_MBRTU_TURNAROUND_US);
    ck_assert_uint_eq(d.icon_end, d.out_t + 9 * 521);

    d.nout = 0;
    toy_send(&s, "07 06 01 03 AB CD", 2000000); /* FC 06: echoed, stored */
    ck_assert_uint_eq(d.nout, 8);
    ck_assert_uint_eq(d.regs[3], 0xABCD);
    toy_send(&s, "07 10 01 00 00 02 04 00 01 00 02", 3000000); /* FC 10 */
    ck_assert_uint_eq(d.nout, 8);
    ck_assert_uint_eq(d.regs[0], 1);
    ck_assert_uint_eq(d.regs[1], 2);

    toy_send(&s, "07 03 01 03 00 02", 4000000); /* runs past the view's registers */
    ck_assert_mem_eq(d.out, ((uint8_t[]){0x07, 0x83, 0x02}), 3);
    toy_send(&s, "07 2B 0E 01 00", 5000000); /* unknown function: at silence */
    klefr_mbrtu_tick(&s, 5100000);
    ck_assert_mem_eq(d.out, ((uint8_t[]){0x07, 0xAB, 0x01}), 3);

    d.nout = 0;
    d.icon_end = 0;
    toy_send(&s, "08 03 01 00 00 01", 6000000); /* another slave's */
    ck_assert_uint_eq(d.nout, 0);
    ck_assert_uint_eq(d.icon_end, 0);
    ck_assert_uint_eq(s.frames, 5);
}
END_TEST

/* Tracing follows the sink's on() at each frame (klefr-sim takes the HAL's
 * hook away after the meter started when no --trace is asked for): while it
 * says no, nothing is formatted, not even a register's name. */
START_TEST(trace_follows_the_sink_after_init)
{
    toy_dev d = {.regs = {1, 2, 3, 4}, .trace_on = true};
    klefr_mbrtu_view v = toy_view(&d);
    klefr_mbrtu s;
    klefr_mbrtu_init(&s, &v, 0);
    d.trace_on = false;
    d.lines = d.names = 0;
    toy_send(&s, "07 06 01 03 AB CD", 1000000);
    ck_assert_uint_eq(d.nout, 8);
    ck_assert_int_eq(d.lines, 0);
    ck_assert_int_eq(d.names, 0);
    d.trace_on = true;
    toy_send(&s, "07 06 01 03 12 34", 2000000);
    ck_assert_int_ge(d.lines, 2); /* rx and tx */
    ck_assert_int_ge(d.names, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modbus");
    TCase *tc = tcase_create("rtu");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, crc_check_values);
    tcase_add_test(tc, write_id_example);
    tcase_add_test(tc, write_baud_example_applies_after_reply);
    tcase_add_test(tc, write_s0_example);
    tcase_add_test(tc, write_calc_lcd_parity_pdc_examples);
    tcase_add_test(tc, write_tariff_and_day_examples);
    tcase_add_test(tc, identity_reads);
    tcase_add_test(tc, block_reads_whole_map);
    tcase_add_test(tc, exceptions_like_libmodbus);
    tcase_add_test(tc, write_values_out_of_range);
    tcase_add_test(tc, broadcast_executes_silently);
    tcase_add_test(tc, bad_crc_and_junk_are_silent_and_harmless);
    tcase_add_test(tc, unknown_function_delimited_by_silence);
    tcase_add_test(tc, glitch_byte_before_ids_15_16_23);
    tcase_add_test(tc, communication_icon_timer);
    tcase_add_test(tc, settings_from_elsewhere_reach_the_uart);
    tcase_add_test(tc, trace_frames_decoded);
    tcase_add_test(tc, engine_on_a_view_that_is_not_a_meter);
    tcase_add_test(tc, trace_follows_the_sink_after_init);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
