/* M-bus slave of the 6923: the manual's golden REQ_UD2 exchange, every write
 * of the A2.2 write table, secondary selection with wildcards, broadcasts,
 * FCB, junk and bad checksums, the baud switch after E5. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_harness.h"
#include "proto/mbus_data.h"

/* One character at 9600 8E1: 11 bits. */
static uint32_t char_us(void)
{
    return 11u * 1000000u / M.settings.baud + 1;
}

static void setup(void)
{
    boot_blank(KLEFR_MODEL_6923);
}

/* Send bytes one character time apart, then let the line go idle. */
static void send_bytes(const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    T += 300000;
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
    ck_assert_msg(F.ntx == n, "%s: reply of %zu bytes, want %zu", req, F.ntx, n);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(F.tx[k] == want[k], "%s: byte %zu is %02X, want %02X", req, k, F.tx[k],
                      want[k]);
}

/* A long frame 68 L L 68 C A CI data CS 16 from "C A CI data". */
static void long_frame(const char *body, char *out)
{
    uint8_t b[260];
    size_t n = hex(body, b);
    int k = sprintf(out, "68 %02X %02X 68", (unsigned)n, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        k += sprintf(out + k, " %02X", b[i]);
    sprintf(out + k, " %02X 16", klefr_mbus_cs(b, n));
}

static void expect_long(const char *body, const char *reply)
{
    char f[800];
    long_frame(body, f);
    expect(f, reply);
}

/* The RSP_UD to a REQ_UD2 at address a, as bytes. */
static size_t read_ud(uint8_t a, uint8_t *out)
{
    char req[32];
    sprintf(req, "10 7B %02X %02X 16", a, (uint8_t)(0x7B + a));
    F.ntx = 0;
    send(req);
    memcpy(out, F.tx, F.ntx);
    return F.ntx;
}

static const uint64_t GWH = 10000000; /* uWh in 10 Wh */

START_TEST(checksum_and_bcd)
{
    uint8_t f[5];
    hex("10 5B 00 5B 16", f);
    ck_assert_uint_eq(klefr_mbus_cs(f + 1, 2), 0x5B);
    uint8_t b[4];
    klefr_mbus_bcd8_10wh(1604814 * GWH + 9999999, b); /* truncated to 10 Wh */
    ck_assert_uint_eq(b[0], 0x14);
    ck_assert_uint_eq(b[1], 0x48);
    ck_assert_uint_eq(b[2], 0x60);
    ck_assert_uint_eq(b[3], 0x01);
    /* Negative (calc codes 6, 9): MSD nibble F, 7 digits; libmbus reads -1234567. */
    klefr_mbus_bcd8_10wh(-(int64_t)(1234567 * GWH), b);
    ck_assert_uint_eq(b[0], 0x67);
    ck_assert_uint_eq(b[1], 0x45);
    ck_assert_uint_eq(b[2], 0x23);
    ck_assert_uint_eq(b[3], 0xF1);
}
END_TEST

/* Manual A2.2: 10 5B 00 5B 16 -> 68 4B 4B 68 08 00 72 ... 7C 16. The
 * printed blocks are consistent with calc code 5 (total = fwd + rev), ID
 * 00000000 and access number 02: with those the checksum is the manual's 7C
 * (it does not depend on the order of the manufacturer bytes). */
START_TEST(golden_req_ud2_of_the_manual)
{
    M.settings.mbus_secondary = 0;
    M.settings.calc_code = 5;
    M.regs.act_fwd_uwh[KLEFR_T1] = 123456 * GWH;
    M.regs.act_fwd_uwh[KLEFR_T2] = 567890 * GWH;
    M.regs.act_rev_uwh[KLEFR_T1] = 234567 * GWH;
    M.regs.act_rev_uwh[KLEFR_T2] = 678901 * GWH;
    expect("10 40 00 40 16", "E5");
    uint8_t r[300];
    F.ntx = 0;
    send("10 5B 00 5B 16"); /* access 00 */
    ck_assert_uint_eq(F.ntx, 81);
    ck_assert_uint_eq(read_ud(0, r), 81); /* 7B: access 01 */
    expect("10 5B 00 5B 16", "68 4B 4B 68 08 00 72"
                             " 00 00 00 00 CD 25 01 02 02 00 00 00"
                             " 0C 04 14 48 60 01 8C 10 04 23 80 35 00 8C 20 04 91 67 24 01"
                             " 1C 04 46 13 69 00 9C 10 04 56 34 12 00 9C 20 04 90 78 56 00"
                             " 2C 04 68 34 91 00 AC 10 04 67 45 23 00 AC 20 04 01 89 67 00"
                             " 7C 16");
}
END_TEST

START_TEST(header_identity)
{
    uint8_t r[300];
    size_t n = read_ud(0, r);
    ck_assert_uint_eq(n, 81);
    ck_assert_uint_eq(r[0], 0x68);
    ck_assert_uint_eq(r[4], 0x08);
    ck_assert_uint_eq(r[6], 0x72);
    /* ID = secondary address = last 8 digits of the serial, BCD LSB first. */
    ck_assert_uint_eq(r[7], 0x02);
    ck_assert_uint_eq(r[8], 0x01);
    ck_assert_uint_eq(r[9], 0x06);
    ck_assert_uint_eq(r[10], 0x17);
    /* "INM" = 0x25CD, LSB first as libmbus decodes it. */
    ck_assert_uint_eq(r[11], 0xCD);
    ck_assert_uint_eq(r[12], 0x25);
    unsigned man = (unsigned)r[12] << 8 | r[11];
    char name[4] = {(char)(((man >> 10) & 31) + 64), (char)(((man >> 5) & 31) + 64),
                    (char)((man & 31) + 64), 0};
    ck_assert_str_eq(name, "INM");
    ck_assert_uint_eq(r[13], 0x01);
    ck_assert_uint_eq(r[14], 0x02);
    ck_assert_uint_eq(r[16], 0x00); /* status OK */
    ck_assert_uint_eq(r[n - 1], 0x16);
    ck_assert_uint_eq(r[n - 2], klefr_mbus_cs(r + 4, n - 6));
    M.error = KLEFR_ERR_EEPROM;
    n = read_ud(0, r);
    ck_assert_uint_eq(r[16], 0x02); /* manual: 02 = error */
}
END_TEST

START_TEST(totals_follow_calc_code_and_can_be_negative)
{
    M.regs.act_fwd_uwh[KLEFR_T1] = 100 * GWH;
    M.regs.act_rev_uwh[KLEFR_T1] = 250 * GWH;
    uint8_t r[300];
    M.settings.calc_code = 9; /* fwd - rev = -1.50 kWh */
    read_ud(0, r);
    ck_assert_uint_eq(r[21], 0x50);
    ck_assert_uint_eq(r[22], 0x01);
    ck_assert_uint_eq(r[23], 0x00);
    ck_assert_uint_eq(r[24], 0xF0);
    M.settings.calc_code = 4; /* reverse only */
    read_ud(0, r);
    ck_assert_uint_eq(r[21], 0x50);
    ck_assert_uint_eq(r[22], 0x02);
    ck_assert_uint_eq(r[24], 0x00);
}
END_TEST

START_TEST(fcb_repeat_keeps_access_number)
{
    uint8_t r[300];
    expect("10 40 00 40 16", "E5");
    read_ud(0, r); /* 7B: first after SND_NKE */
    ck_assert_uint_eq(r[15], 0);
    F.ntx = 0;
    send("10 5B 00 5B 16"); /* FCB toggled: new */
    ck_assert_uint_eq(F.tx[15], 1);
    F.ntx = 0;
    send("10 5B 00 5B 16"); /* same FCB: the master repeats */
    ck_assert_uint_eq(F.tx[15], 1);
    F.ntx = 0;
    send("10 7B 00 7B 16");
    ck_assert_uint_eq(F.tx[15], 2);
}
END_TEST

START_TEST(addresses_and_broadcasts)
{
    expect("10 40 01 41 16", ""); /* another meter */
    expect("10 40 FE 3E 16", "E5");
    expect("10 40 FF 3F 16", ""); /* broadcast without reply */
    expect("10 7B FF 7A 16", "");
    uint8_t r[300];
    ck_assert_uint_eq(read_ud(0xFE, r), 81);
    ck_assert_uint_eq(r[5], 0x00);          /* answers with its own address */
    ck_assert_uint_eq(read_ud(0xFD, r), 0); /* not selected */
    /* A write broadcast without reply is executed silently. */
    expect_long("53 FF 51 01 7A 07", "");
    ck_assert_uint_eq(M.settings.mbus_id, 7);
    ck_assert_uint_eq(read_ud(0, r), 0);
    ck_assert_uint_eq(read_ud(7, r), 81);
    ck_assert_uint_eq(r[5], 7);
}
END_TEST

START_TEST(write_primary_address)
{
    /* Manual: 68 06 06 68 53 01 51 01 7A 01 CS 16 at address 01. */
    expect_long("53 00 51 01 7A 01", "E5");
    ck_assert_uint_eq(M.settings.mbus_id, 1);
    expect_long("73 01 51 01 7A FA", "E5"); /* 250 */
    ck_assert_uint_eq(M.settings.mbus_id, 250);
    expect_long("53 FA 51 01 7A FB", ""); /* 251: invalid, silent */
    expect_long("53 FA 51 01 7A FD", "");
    ck_assert_uint_eq(M.settings.mbus_id, 250);
    /* Saved: a power cycle keeps it. */
    klefr_meter_init(&M, &HAL, KLEFR_MODEL_6923, KLEFR_DEFAULT_SERIAL, T);
    ck_assert_uint_eq(M.settings.mbus_id, 250);
}
END_TEST

START_TEST(write_secondary_address)
{
    /* Manual: 0C 79 15 01 23 45. BCD LSB first "same as read": the header
     * then carries 15 01 23 45 again, i.e. the address 45230115. */
    expect_long("53 00 51 0C 79 15 01 23 45", "E5");
    ck_assert_uint_eq(M.settings.mbus_secondary, 0x45230115u);
    uint8_t r[300];
    read_ud(0, r);
    ck_assert_uint_eq(r[7], 0x15);
    ck_assert_uint_eq(r[8], 0x01);
    ck_assert_uint_eq(r[9], 0x23);
    ck_assert_uint_eq(r[10], 0x45);
    expect_long("53 00 51 0C 79 1A 01 23 45", ""); /* not BCD */
    ck_assert_uint_eq(M.settings.mbus_secondary, 0x45230115u);
    klefr_meter_init(&M, &HAL, KLEFR_MODEL_6923, KLEFR_DEFAULT_SERIAL, T);
    ck_assert_uint_eq(M.settings.mbus_secondary, 0x45230115u);
}
END_TEST

START_TEST(write_tariff)
{
    expect_long("53 00 51 09 7C 01 54 02", "E5");
    ck_assert_uint_eq(M.tariff, 2);
    ck_assert_uint_eq(M.settings.tariff, 2);
    expect_long("53 00 51 09 7C 01 54 01", "E5");
    ck_assert_uint_eq(M.tariff, 1);
    expect_long("53 00 51 09 7C 01 54 03", "");
    ck_assert_uint_eq(M.tariff, 1);
}
END_TEST

START_TEST(write_calc_code)
{
    expect_long("53 00 51 09 FD 3A 05", "E5");
    ck_assert_uint_eq(M.settings.calc_code, 5);
    expect_long("53 00 51 09 FD 3A 10", "E5"); /* BCD 10 */
    ck_assert_uint_eq(M.settings.calc_code, 10);
    expect_long("53 00 51 09 FD 3A 02", "");
    expect_long("53 00 51 09 FD 3A 0A", ""); /* not BCD */
    ck_assert_uint_eq(M.settings.calc_code, 10);
}
END_TEST

START_TEST(write_s0_rate)
{
    /* Manual: 00 00 01 00 -> "S0 rate 100": LSB first, imp/kWh x 100. */
    expect_long("53 00 51 0C FD 3A 00 00 01 00", "E5");
    ck_assert_uint_eq(M.settings.s0_rate_centi, 10000);
    expect_long("53 00 51 0C FD 3A 01 00 00 00", "E5"); /* 0.01 */
    ck_assert_uint_eq(M.settings.s0_rate_centi, 1);
    expect_long("53 00 51 0C FD 3A 00 00 00 01", "E5"); /* 10000 */
    ck_assert_uint_eq(M.settings.s0_rate_centi, 1000000);
    expect_long("53 00 51 0C FD 3A 00 00 05 00", ""); /* 500: not a rate */
    ck_assert_uint_eq(M.settings.s0_rate_centi, 1000000);
}
END_TEST

START_TEST(write_resets)
{
    M.regs.day_fwd_uwh = 5 * GWH;
    M.regs.power_downs = 9;
    expect_long("53 00 51 0C 04 12 34 56 78", "E5"); /* value ignored */
    ck_assert_uint_eq(M.regs.day_fwd_uwh, 0);
    expect_long("53 00 51 0A FD 60 00 00", "E5");
    ck_assert_uint_eq(M.regs.power_downs, 0);
    expect_long("53 00 51 0A FD 61 00 00", ""); /* unknown record */
    expect_long("53 00 51", "");                /* no record */
    /* Several records in one frame: all or nothing. */
    expect_long("53 00 51 09 FD 3A 04 01 7A 09", "E5");
    ck_assert_uint_eq(M.settings.calc_code, 4);
    ck_assert_uint_eq(M.settings.mbus_id, 9);
    expect_long("53 09 51 09 FD 3A 05 01 7A FF", "");
    ck_assert_uint_eq(M.settings.calc_code, 4);
    ck_assert_uint_eq(M.settings.mbus_id, 9);
}
END_TEST

START_TEST(application_reset_and_unknown_ci)
{
    expect_long("53 00 50", "E5");
    expect_long("53 00 50 00", "E5");
    expect_long("53 00 A0 00", "");
}
END_TEST

static const char *select_body(char *buf, const char *sel)
{
    sprintf(buf, "53 FD 52 %s", sel);
    return buf;
}

START_TEST(secondary_selection_with_wildcards)
{
    char b[100];
    uint8_t r[300];
    /* 17060102 INM 01 02, as libmbus packs "17060102CD250102". */
    expect_long(select_body(b, "02 01 06 17 CD 25 01 02"), "E5");
    ck_assert_uint_eq(read_ud(0xFD, r), 81);
    ck_assert_uint_eq(r[7], 0x02);
    /* SND_NKE to 253 answers and deselects. */
    expect("10 40 FD 3D 16", "E5");
    ck_assert_uint_eq(read_ud(0xFD, r), 0);
    expect("10 40 FD 3D 16", "");
    expect_long("53 FD 51 01 7A 05", ""); /* a write to 253: not selected */
    ck_assert_uint_eq(M.settings.mbus_id, 0);
    /* Wildcards: ID nibbles, manufacturer FF FF, version FF, medium FF. */
    expect_long(select_body(b, "FF FF FF FF FF FF FF FF"), "E5");
    expect_long(select_body(b, "FF FF FF 1F FF FF FF FF"), "E5"); /* scan: first digit 1 */
    expect_long(select_body(b, "FF FF FF 2F FF FF FF FF"), "");   /* no match: deselected */
    ck_assert_uint_eq(read_ud(0xFD, r), 0);
    expect_long(select_body(b, "F2 01 06 17 FF FF 01 FF"), "E5");
    expect_long(select_body(b, "02 01 06 17 FF FF FF 03"), ""); /* medium */
    expect_long(select_body(b, "02 01 06 17 FF FF 02 FF"), ""); /* version */
    expect_long(select_body(b, "02 01 06 17 34 12 FF FF"), ""); /* manufacturer */
    /* The manual's print order of the manufacturer is accepted too. */
    expect_long(select_body(b, "02 01 06 17 25 CD 01 02"), "E5");
    /* The primary address works while selected. */
    ck_assert_uint_eq(read_ud(0, r), 81);
    /* Writes through 253 (set primary address as libmbus does). */
    expect_long("53 FD 51 01 7A 05", "E5");
    ck_assert_uint_eq(M.settings.mbus_id, 5);
}
END_TEST

START_TEST(bad_checksum_and_junk_are_ignored)
{
    expect("10 5B 00 5C 16", "");             /* checksum */
    expect("10 5B 00 5B 17", "");             /* stop byte */
    expect("68 03 04 68 53 00 50 A3 16", ""); /* L != L */
    /* Junk glued in front of a frame, no idle between. */
    uint8_t r[300];
    F.ntx = 0;
    send("00 FF 16 68 10 40 00 40 16");
    ck_assert_uint_eq(F.ntx, 1);
    ck_assert_uint_eq(F.tx[0], 0xE5);
    /* A truncated frame, then the line idles: the next frame is understood. */
    expect("68 4B 4B 68 08 00", "");
    ck_assert_uint_eq(read_ud(0, r), 81);
    /* UART errors (a master at another baud): dropped. */
    F.ntx = 0;
    uint8_t f[5] = {0x10, 0x40, 0x00, 0x40, 0x16};
    for (int k = 0; k < 5; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, f[k], KLEFR_RX_ERR_PARITY, T);
    }
    T += 300000;
    klefr_meter_tick(&M, T);
    ck_assert_uint_eq(F.ntx, 0);
    expect("10 40 00 40 16", "E5");
    ck_assert_uint_gt(M.mbus.cs_errors, 0);
}
END_TEST

/* Found by an outside campaign: "68 05 05 68" in front of a REQ_UD2 made the
 * meter wait for the 11-byte long frame that header promised and drop the
 * request; a good frame followed at once by more bytes was answered 17
 * characters late. A frame is taken when its own last byte is in. */
START_TEST(false_header_before_a_frame)
{
    uint8_t r[300];
    uint8_t b[32];
    /* The reply time after a clean request, to compare with. */
    size_t n = hex("10 40 00 40 16", b);
    F.ntx = 0;
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 1);
    uint64_t idle = F.tx_t - T;
    T += 300000;
    klefr_meter_tick(&M, T);
    F.ntx = 0;
    n = hex("68 05 05 68 10 7B 00 7B 16", b);
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 81); /* the RSP_UD, without waiting for silence */
    ck_assert_uint_eq(F.tx_t, T + idle);
    /* A header of the longest frame in front (L = 255): the same. */
    F.ntx = 0;
    n = hex("68 FF FF 68 53 10 40 00 40 16", b);
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 1);
    ck_assert_uint_eq(F.tx_t, T + idle);
    /* More bytes right after: nothing more, the reply was not held back. */
    n = hex("68 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00", b);
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 1);
    T += 300000;
    klefr_meter_tick(&M, T);
    ck_assert_uint_eq(read_ud(0, r), 81);
}
END_TEST

START_TEST(baud_switch_after_e5)
{
    ck_assert_uint_eq(F.cfg.baud, 9600); /* applied at init: 8E1 */
    ck_assert_uint_eq(F.cfg.parity, KLEFR_PARITY_EVEN);
    ck_assert_uint_eq(F.cfg.data_bits, 8);
    int configs = F.configs;
    uint8_t b[9];
    size_t n = hex("68 03 03 68 53 00 BB 0E 16", b); /* 2400 */
    F.ntx = 0;
    for (size_t k = 0; k < n; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    ck_assert_uint_eq(F.ntx, 1);
    ck_assert_uint_eq(F.tx[0], 0xE5);
    ck_assert_uint_ge(F.tx_t, T + 11 * 1000000u / 9600); /* >= 11 bit times */
    /* The E5 goes at 9600; 2400 from the end of its stop bit on. */
    ck_assert_int_eq(F.configs, configs + 1);
    ck_assert_uint_eq(F.cfg.baud, 2400);
    ck_assert_uint_eq(F.cfg_t, F.tx_t + 1146);
    klefr_meter_tick(&M, F.tx_t + 1146 + 1);
    ck_assert_int_eq(F.configs, configs + 1); /* once */
    ck_assert_uint_eq(M.settings.baud, 2400);
    T = F.tx_t + 10000;
    uint8_t r[300];
    ck_assert_uint_eq(read_ud(0, r), 81);
    expect("68 03 03 68 53 00 B8 0B 16", "E5"); /* 300 */
    ck_assert_uint_eq(M.settings.baud, 300);
    expect("68 03 03 68 53 00 BE 11 16", ""); /* 19200: not on this meter */
    ck_assert_uint_eq(M.settings.baud, 300);
    klefr_meter_init(&M, &HAL, KLEFR_MODEL_6923, KLEFR_DEFAULT_SERIAL, T);
    ck_assert_uint_eq(F.cfg.baud, 300);
}
END_TEST

START_TEST(baud_from_the_menu_applies_at_the_next_tick)
{
    int configs = F.configs;
    M.settings.baud = 1200; /* as ui/edit.c stores it */
    klefr_meter_settings_changed(&M, T);
    T += 10000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(F.configs, configs + 1);
    ck_assert_uint_eq(F.cfg.baud, 1200);
    klefr_meter_tick(&M, T + 10000);
    ck_assert_int_eq(F.configs, configs + 1); /* once */
}
END_TEST

START_TEST(reply_timing_and_icon)
{
    uint8_t b[5];
    hex("10 7B 00 7B 16", b);
    F.ntx = 0;
    for (int k = 0; k < 5; k++) {
        T += char_us();
        klefr_meter_uart_rx(&M, KLEFR_PORT_BUS, b[k], 0, T);
    }
    /* Between 11 bit times and 50 ms after the request (EN 13757-2 allows
     * up to 330 bit times + 50 ms): 11 bit times + 2 ms. */
    ck_assert_uint_ge(F.tx_t, T + 11 * 105);
    ck_assert_uint_le(F.tx_t, T + 50000);
    ck_assert_uint_eq(F.tx_t, T + klefr_mbus_reaction_us(&(klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1}));
    ck_assert_uint_gt(M.comm_until_us, F.tx_t);
    /* Not for this meter (another address, a selection of another meter,
     * 253 while not selected): no icon. */
    setup();
    send("10 7B 05 80 16");
    char f[100];
    long_frame("53 FD 52 99 99 99 99 FF FF FF FF", f);
    send(f);
    send("10 40 FD 3D 16");
    ck_assert_uint_eq(M.comm_until_us, 0);
    ck_assert_uint_eq(M.mbus.frames, 0);
}
END_TEST

START_TEST(other_models_ignore_the_bus)
{
    klefr_meter_init(&M, &HAL, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, T);
    expect("10 40 00 40 16", "");
}
END_TEST

START_TEST(trace_frames_decoded)
{
    TRACE[0] = 0;
    klefr_meter_init(&M, &HAL_TRACE, KLEFR_MODEL_6923, KLEFR_DEFAULT_SERIAL, T);
    M.regs.act_fwd_uwh[KLEFR_T1] = 123456 * GWH;
    send("10 7B 00 7B 16");
    send("10 5B 00 5C 16");
    char f[100];
    long_frame("53 FD 52 02 01 06 17 FF FF FF FF", f);
    send(f);
    ck_assert_ptr_nonnull(strstr(TRACE, "mbus: rx 10 7B 00 7B 16 t="));
    ck_assert_ptr_nonnull(strstr(TRACE, "mbus: rx REQ_UD2 a=0 fcb=1 fcv=1"));
    ck_assert_ptr_nonnull(strstr(TRACE, "mbus: tx RSP_UD a=0 ci=72 id=17060102 access=0"));
    ck_assert_ptr_nonnull(strstr(TRACE, "mbus: values kWh total=1234.56 total_t1=1234.56"));
    ck_assert_ptr_nonnull(strstr(TRACE, "discarded: bad checksum"));
    ck_assert_ptr_nonnull(strstr(TRACE, "SND_UD a=253 fcb=0 fcv=1 ci=52 select id=17060102"));
    ck_assert_ptr_nonnull(strstr(TRACE, "mbus: tx ACK (E5)"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mbus");
    TCase *tc = tcase_create("slave");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, checksum_and_bcd);
    tcase_add_test(tc, golden_req_ud2_of_the_manual);
    tcase_add_test(tc, header_identity);
    tcase_add_test(tc, totals_follow_calc_code_and_can_be_negative);
    tcase_add_test(tc, fcb_repeat_keeps_access_number);
    tcase_add_test(tc, addresses_and_broadcasts);
    tcase_add_test(tc, write_primary_address);
    tcase_add_test(tc, write_secondary_address);
    tcase_add_test(tc, write_tariff);
    tcase_add_test(tc, write_calc_code);
    tcase_add_test(tc, write_s0_rate);
    tcase_add_test(tc, write_resets);
    tcase_add_test(tc, application_reset_and_unknown_ci);
    tcase_add_test(tc, secondary_selection_with_wildcards);
    tcase_add_test(tc, bad_checksum_and_junk_are_ignored);
    tcase_add_test(tc, false_header_before_a_frame);
    tcase_add_test(tc, baud_switch_after_e5);
    tcase_add_test(tc, baud_from_the_menu_applies_at_the_next_tick);
    tcase_add_test(tc, reply_timing_and_icon);
    tcase_add_test(tc, other_models_ignore_the_bus);
    tcase_add_test(tc, trace_frames_decoded);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
