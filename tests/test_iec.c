/* IEC 62056-21 optical port: BCC vectors, sign-on and identification, data
 * readout with known registers, baud switch timing, programming mode (P1,
 * R1/W1 of every setting, B0, NAK, bad BCC), timeouts, junk. */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeprom.h"
#include "klefr/meter.h"

typedef struct {
    char tx[4096];
    size_t ntx;
    uint64_t tx_first_t, tx_last_t;
    klefr_uart_cfg cfg;      /* the latest settings of the optical port ... */
    uint64_t cfg_t;          /* ... in force from then */
    klefr_uart_cfg cfg_prev; /* the ones before */
    uint32_t bus_baud; /* last baud set on the bus port */
    int configs;
} fake;

static fake F;
static klefr_eeprom EE; /* the simulator's EEPROM, in RAM */
static klefr_meter M;
static uint64_t T;

static void f_write(void *arg, klefr_port p, const uint8_t *d, size_t n, uint64_t t)
{
    (void)arg;
    ck_assert_int_eq(p, KLEFR_PORT_IR);
    ck_assert_uint_lt(F.ntx + n, sizeof F.tx);
    for (size_t k = 0; k < n; k++)
        ck_assert_uint_lt(d[k], 0x80); /* plain 7-bit ASCII */
    if (!F.ntx)
        F.tx_first_t = t;
    F.tx_last_t = t;
    memcpy(F.tx + F.ntx, d, n);
    F.ntx += n;
    F.tx[F.ntx] = 0;
}

static void f_config(void *arg, klefr_port p, const klefr_uart_cfg *c, uint64_t t)
{
    (void)arg;
    if (p != KLEFR_PORT_IR) {
        F.bus_baud = c->baud;
        return;
    }
    F.cfg_prev = F.cfg;
    F.cfg = *c;
    F.cfg_t = t;
    F.configs++;
}

static const klefr_hal HAL = {.arg = &EE,
                              .uart_write = f_write,
                              .uart_config = f_config,
                              .nvm_read = klefr_eeprom_read,
                              .nvm_write = klefr_eeprom_write};

static void boot(klefr_model model)
{
    T = 1000000;
    klefr_meter_init(&M, &HAL, model, KLEFR_DEFAULT_SERIAL, T);
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    klefr_eeprom_open(&EE, NULL, NULL, 0); /* a blank RAM EEPROM */
    boot(KLEFR_MODEL_6922);
}

static uint32_t char_us(uint32_t baud)
{
    return (10u * 1000000u + baud - 1) / baud;
}

static void clear_tx(void)
{
    F.ntx = 0;
    F.tx[0] = 0;
}

/* Bytes one character time apart at the meter's baud, then 300 ms for the
 * reaction time and a tick. */
static void send_raw(const char *s, size_t n)
{
    clear_tx();
    uint32_t baud = F.cfg.baud;
    for (size_t k = 0; k < n; k++) {
        T += char_us(baud);
        klefr_meter_uart_rx(&M, KLEFR_PORT_IR, (uint8_t)s[k], 0, T);
    }
    T += 300000;
    klefr_meter_tick(&M, T);
}

static void send(const char *s)
{
    send_raw(s, strlen(s));
}

static uint8_t bcc_of(const char *s, size_t n)
{
    return klefr_iec_bcc((const uint8_t *)s, n);
}

/* SOH cmd [STX data] ETX BCC at the current baud; returns the reply. */
static const char *prog(const char *cmd, const char *data)
{
    char b[256];
    int n = data ? snprintf(b, sizeof b, "\x01%s\x02%s\x03", cmd, data)
                 : snprintf(b, sizeof b, "\x01%s\x03", cmd);
    b[n] = (char)bcc_of(b + 1, (size_t)n - 1);
    send_raw(b, (size_t)n + 1);
    return F.tx;
}

/* The reply must be STX text ETX BCC. */
static void expect_data(const char *reply, const char *text)
{
    char want[256];
    int n = snprintf(want, sizeof want, "\x02%s\x03", text);
    want[n] = (char)bcc_of(want + 1, (size_t)n - 1);
    want[n + 1] = 0;
    ck_assert_str_eq(reply, want);
}

static void enter_programming(void)
{
    send("/?!\r\n");
    send("\x06"
         "051\r\n");
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_PROGRAMMING);
    ck_assert_uint_eq(F.cfg.baud, 9600);
}

static void login(void)
{
    ck_assert_str_eq(prog("P1", "(0000)"), "\x06");
}

START_TEST(bcc_check_vectors)
{
    ck_assert_uint_eq(bcc_of("B0\x03", 3), 0x71);
    const char *p0 = "P0\x02(00000000)\x03";
    ck_assert_uint_eq(bcc_of(p0, strlen(p0)), 0x60);
}
END_TEST

START_TEST(idle_line_is_300_7e1)
{
    ck_assert_uint_eq(F.cfg.baud, 300);
    ck_assert_uint_eq(F.cfg.data_bits, 7);
    ck_assert_int_eq(F.cfg.parity, KLEFR_PARITY_EVEN);
    ck_assert_uint_eq(F.cfg.stop_bits, 1);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    ck_assert_str_eq(klefr_iec_state_to_str(KLEFR_IEC_PROGRAMMING), "PROGRAMMING");
}
END_TEST

START_TEST(sign_on_and_identification)
{
    send("/?!\r\n");
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDENTIFIED);
    /* after the reaction time, which the LF ended */
    ck_assert_uint_eq(F.tx_first_t, T - 300000 + KLEFR_IEC_REACTION_US);
    ck_assert_uint_gt(M.comm_until_us, T);
}
END_TEST

START_TEST(sign_on_with_address)
{
    send("/?17060102!\r\n");
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
    setup();
    send("/?000017060102!\r\n"); /* leading zeros ignored */
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
    setup();
    send("/?17060103!\r\n"); /* another meter's: silent */
    ck_assert_uint_eq(F.ntx, 0);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    send("/?1706010!\r\n");
    ck_assert_uint_eq(F.ntx, 0);
}
END_TEST

START_TEST(nuls_junk_and_parity_bits)
{
    send_raw("\0\0\0\0xyz\r\n", 10);
    ck_assert_uint_eq(F.ntx, 0);
    send_raw("\0\0/?!\r\n", 7);
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
    /* 7E1 parity in bit 7 (as a real UART without parity check hands it over) */
    setup();
    const char even[] = {'/' | 0x80, '?', '!', '\r', '\n'}; /* '/' has 5 ones: parity 1 */
    send_raw(even, sizeof even);
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
    /* a byte with a UART error spoils the message */
    setup();
    clear_tx();
    klefr_meter_uart_rx(&M, KLEFR_PORT_IR, '/', KLEFR_RX_ERR_FRAMING, T += 33334);
    send("?!\r\n");
    ck_assert_uint_eq(F.ntx, 0);
}
END_TEST

START_TEST(readout_content_and_bcc)
{
    M.regs.act_fwd_uwh[KLEFR_T1] = 12345678901ull; /* 12.345678901 kWh */
    M.regs.act_fwd_uwh[KLEFR_T2] = 1000000000ull;
    M.regs.act_rev_uwh[KLEFR_T1] = 500000000ull;
    M.regs.react_fwd_uvarh[KLEFR_T1] = 2000000ull;
    M.regs.power_downs = 3;
    M.meas = (klefr_measure){.v_rms = 230.04f,
                             .i_rms = 10.0f,
                             .freq_hz = 50.0f,
                             .p_w = 2300.0f,
                             .s_va = 2300.0f,
                             .pf = 1.0f,
                             .quadrant = 1,
                             .valid = true};
    send("/?!\r\n");
    uint64_t t_ack_start = T;
    send("\x06"
         "050\r\n");
    uint64_t t_ack_end = T - 300000;
    (void)t_ack_start;
    /* 9600 7E1 for the readout, and 300 again from its last stop bit */
    ck_assert_uint_eq(F.cfg_prev.baud, 9600);
    ck_assert_uint_eq(F.cfg_prev.data_bits, 7);
    ck_assert_uint_eq(F.cfg.baud, 300);
    ck_assert_uint_eq(F.cfg_t, M.iec.tx_end_us);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_READOUT);
    ck_assert_uint_eq(F.tx_first_t, t_ack_end + KLEFR_IEC_REACTION_US);
    const char *want = "\x02"
                       "0.0.0(17060102)\r\n"
                       "C.1.0(17060102)\r\n"
                       "0.2.0(2.18)\r\n"
                       "1.8.0(000013.345*kWh)\r\n"
                       "1.8.1(000012.345*kWh)\r\n"
                       "1.8.2(000001.000*kWh)\r\n"
                       "2.8.0(000000.500*kWh)\r\n"
                       "2.8.1(000000.500*kWh)\r\n"
                       "2.8.2(000000.000*kWh)\r\n"
                       "15.8.0(000013.845*kWh)\r\n"
                       "16.8.0(000013.345*kWh)\r\n"
                       "3.8.0(000000.002*kvarh)\r\n"
                       "4.8.0(000000.000*kvarh)\r\n"
                       "32.7.0(230.0*V)\r\n"
                       "31.7.0(10.00*A)\r\n"
                       "21.7.0(2.300*kW)\r\n"
                       "1.7.0(2.300*kW)\r\n"
                       "14.7.0(50.00*Hz)\r\n"
                       "13.7.0(1.000)\r\n"
                       "9.7.0(2.300*kVA)\r\n"
                       "C.7.0(0003)\r\n"
                       "F.F(00)\r\n"
                       "!\r\n\x03";
    size_t n = strlen(want);
    ck_assert_uint_eq(F.ntx, n + 1);
    ck_assert(!memcmp(F.tx, want, n));
    ck_assert_uint_eq((uint8_t)F.tx[n], bcc_of(want + 1, n - 1));
    /* pieces back to back at 9600 baud; then idle at 300 again */
    ck_assert_uint_eq(M.iec.tx_end_us, F.tx_first_t + (uint64_t)F.ntx * char_us(9600));
    T = M.iec.tx_end_us + 1000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    ck_assert_uint_eq(F.cfg.baud, 300);
}
END_TEST

START_TEST(readout_follows_calc_code_and_model)
{
    M.regs.act_fwd_uwh[KLEFR_T1] = 5000000000ull;
    M.regs.act_rev_uwh[KLEFR_T1] = 2000000000ull;
    M.settings.calc_code = 9; /* forward - reverse */
    send("/?!\r\n");
    send("\x06"
         "050\r\n");
    ck_assert_ptr_nonnull(strstr(F.tx, "16.8.0(000003.000*kWh)"));
    ck_assert_ptr_nonnull(strstr(F.tx, "15.8.0(000007.000*kWh)"));
    M.settings.calc_code = 6; /* reverse - forward: negative */
    T += 1000000;
    klefr_meter_tick(&M, T);
    send("/?!\r\n");
    send("\x06"
         "050\r\n");
    ck_assert_ptr_nonnull(strstr(F.tx, "16.8.0(-000003.000*kWh)"));
    /* single-tariff 6921: no tariff registers */
    klefr_eeprom_open(&EE, NULL, NULL, 0); /* a blank RAM EEPROM */
    boot(KLEFR_MODEL_6921);
    send("/?!\r\n");
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6921\r\n");
    send("\x06"
         "050\r\n");
    ck_assert_ptr_nonnull(strstr(F.tx, "1.8.0("));
    ck_assert_ptr_null(strstr(F.tx, "1.8.1("));
}
END_TEST

START_TEST(option_select_baud_and_errors)
{
    send("/?!\r\n");
    send("\x06"
         "030\r\n"); /* lower than offered: 2400 */
    ck_assert_uint_eq(F.cfg_prev.baud, 2400);
    ck_assert_ptr_nonnull(strstr(F.tx, "32.7.0("));
    T = M.iec.tx_end_us + 1000;
    klefr_meter_tick(&M, T);
    send("/?!\r\n");
    send("\x06"
         "060\r\n"); /* 19200: more than offered */
    ck_assert_uint_eq(F.ntx, 0);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    ck_assert_uint_eq(F.cfg.baud, 300);
    /* no option select: back to idle */
    send("/?!\r\n");
    T += KLEFR_IEC_ACK_TIMEOUT_US + 1000000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
}
END_TEST

START_TEST(programming_password)
{
    send("/?!\r\n");
    send("\x06"
         "051\r\n");
    char p0[32] = "\x01P0\x02(17060102)\x03";
    size_t n = strlen(p0);
    p0[n] = (char)bcc_of(p0 + 1, n - 1);
    ck_assert_str_eq(F.tx, p0);
    ck_assert_uint_eq(F.cfg.baud, 9600);
    /* reads without the password, writes need it */
    expect_data(prog("R1", "0.0.0()"), "0.0.0(17060102)");
    expect_data(prog("W1", "C.90.1(4)"), "(ERROR)");
    expect_data(prog("R1", "C.90.11()"), "(ERROR)");
    expect_data(prog("P1", "(1234)"), "(ERROR)");
    ck_assert_str_eq(prog("P1", "(00000000)"), "\x06"); /* 8 digits: by value */
    M.settings.password = 4321;
    expect_data(prog("P1", "(1234)"), "(ERROR)");
    ck_assert_str_eq(prog("P1", "(4321)"), "\x06");
    ck_assert_str_eq(prog("P1", "(00004321)"), "\x06");
    expect_data(prog("R1", "C.90.11()"), "C.90.11(4321)");
}
END_TEST

/* addr, value written, readback, bad value */
static const struct {
    const char *addr, *value, *readback, *bad;
} settings[] = {
    {"C.90.1", "10", "C.90.1(10)", "7"},
    {"C.90.2", "0.01", "C.90.2(0.01)", "3"},
    {"C.90.2", "1000", "C.90.2(1000)", "1000.001"},
    {"C.90.3", "30", "C.90.3(30)", "31"},
    {"C.90.4", "1", "C.90.4(1)", "3"},
    {"C.90.10", "2", "C.90.10(2)", "3"},
    {"C.90.11", "0042", "C.90.11(0042)", "42"},
    {"C.90.12", "1", "C.90.12(1)", "2"},
};

START_TEST(programming_settings_round_trip)
{
    enter_programming();
    login();
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        char w[64], r[32];
        snprintf(w, sizeof w, "%s(%s)", settings[k].addr, settings[k].value);
        ck_assert_msg(!strcmp(prog("W1", w), "\x06"), "W1 %s", w);
        snprintf(r, sizeof r, "%s()", settings[k].addr);
        expect_data(prog("R1", r), settings[k].readback);
        snprintf(w, sizeof w, "%s(%s)", settings[k].addr, settings[k].bad);
        expect_data(prog("W1", w), "(ERROR)");
        expect_data(prog("R1", r), settings[k].readback);
    }
    ck_assert_uint_eq(M.settings.calc_code, 10);
    ck_assert_uint_eq(M.settings.s0_rate_centi, 100000);
    ck_assert_uint_eq(M.settings.lcd_cycle_s, 30);
    ck_assert_uint_eq(M.settings.backlight, KLEFR_BL_ON);
    ck_assert_uint_eq(M.tariff, 2);
    ck_assert_uint_eq(M.settings.tariff, 2);
    ck_assert_uint_eq(M.settings.password, 42);
    ck_assert(M.settings.obis);
    /* tariff 11: T1 active, not saved */
    ck_assert_str_eq(prog("W1", "C.90.10(11)"), "\x06");
    ck_assert_uint_eq(M.tariff, 1);
    ck_assert_uint_eq(M.settings.tariff, 2);
    /* counters: only a reset */
    M.regs.power_downs = 7;
    M.regs.day_fwd_uwh = 123456789;
    expect_data(prog("W1", "C.7.0(5)"), "(ERROR)");
    ck_assert_str_eq(prog("W1", "C.7.0(0)"), "\x06");
    ck_assert_uint_eq(M.regs.power_downs, 0);
    expect_data(prog("R1", "C.90.13()"), "C.90.13(000000.123*kWh)");
    ck_assert_str_eq(prog("W1", "C.90.13(0)"), "\x06");
    ck_assert_uint_eq(M.regs.day_fwd_uwh, 0);
    /* read-only and unknown addresses, measured values by R1 */
    expect_data(prog("W1", "C.1.0(12345678)"), "(ERROR)");
    expect_data(prog("R1", "9.9.9()"), "(ERROR)");
    expect_data(prog("R1", "C.90.5()"), "(ERROR)"); /* no Modbus ID on a 6922 */
    M.meas.v_rms = 231.0f;
    expect_data(prog("R1", "32.7.0()"), "32.7.0(231.0*V)");
    /* the writes were saved: a power cycle keeps them */
    boot(KLEFR_MODEL_6922);
    ck_assert_uint_eq(M.settings.calc_code, 10);
    ck_assert_uint_eq(M.settings.password, 42);
    ck_assert_uint_eq(M.settings.lcd_cycle_s, 30);
}
END_TEST

START_TEST(programming_bus_settings_per_model)
{
    klefr_eeprom_open(&EE, NULL, NULL, 0); /* a blank RAM EEPROM */
    boot(KLEFR_MODEL_6924);
    enter_programming();
    login();
    ck_assert_str_eq(prog("W1", "C.90.5(17)"), "\x06");
    expect_data(prog("R1", "C.90.5()"), "C.90.5(017)");
    expect_data(prog("W1", "C.90.5(248)"), "(ERROR)");
    ck_assert_uint_eq(F.bus_baud, 9600);
    ck_assert_str_eq(prog("W1", "C.90.8(4800)"), "\x06");
    ck_assert_uint_eq(F.bus_baud, 4800); /* the Modbus port follows */
    expect_data(prog("W1", "C.90.8(300)"), "(ERROR)");
    ck_assert_str_eq(prog("W1", "C.90.9(O)"), "\x06");
    ck_assert_int_eq(M.settings.parity, KLEFR_PARITY_ODD);
    expect_data(prog("W1", "C.90.6(5)"), "(ERROR)"); /* M-bus only */
    ck_assert_uint_eq(M.settings.modbus_id, 17);
    ck_assert_uint_eq(M.settings.baud, 4800);

    klefr_eeprom_open(&EE, NULL, NULL, 0); /* a blank RAM EEPROM */
    boot(KLEFR_MODEL_6923);
    enter_programming();
    login();
    ck_assert_str_eq(prog("W1", "C.90.6(250)"), "\x06");
    ck_assert_str_eq(prog("W1", "C.90.7(12345678)"), "\x06");
    expect_data(prog("R1", "C.90.7()"), "C.90.7(12345678)");
    expect_data(prog("W1", "C.90.7(1234567A)"), "(ERROR)");
    ck_assert_str_eq(prog("W1", "C.90.8(300)"), "\x06");
    expect_data(prog("W1", "C.90.9(N)"), "(ERROR)"); /* M-bus parity is even */
    ck_assert_uint_eq(M.settings.mbus_id, 250);
    ck_assert_uint_eq(M.settings.mbus_secondary, 0x12345678u);
    ck_assert_uint_eq(M.settings.baud, 300);
}
END_TEST

START_TEST(break_nak_bad_bcc)
{
    enter_programming();
    /* a bad BCC asks for a repeat */
    const char bad[] = "\x01R1\x02"
                       "0.0.0()\x03"
                       "\x7f";
    send_raw(bad, sizeof bad - 1);
    ck_assert_str_eq(F.tx, "\x15");
    ck_assert_uint_eq(M.iec.bcc_errors, 1);
    /* a message with a UART error inside: NAK; at the wrong baud (every
     * byte garbled) nothing is recognised: silence */
    char msg[32] = "\x01R1\x02"
                   "0.0.0()\x03";
    size_t n = strlen(msg);
    msg[n] = (char)bcc_of(msg + 1, n - 1);
    clear_tx();
    for (size_t k = 0; k <= n; k++)
        klefr_meter_uart_rx(&M, KLEFR_PORT_IR, (uint8_t)msg[k], k == 4 ? KLEFR_RX_ERR_PARITY : 0,
                            T += 1042);
    T += 300000;
    klefr_meter_tick(&M, T);
    ck_assert_str_eq(F.tx, "\x15");
    clear_tx();
    for (size_t k = 0; k <= n; k++)
        klefr_meter_uart_rx(&M, KLEFR_PORT_IR, (uint8_t)msg[k], KLEFR_RX_ERR_FRAMING, T += 1042);
    T += 300000;
    klefr_meter_tick(&M, T);
    ck_assert_uint_eq(F.ntx, 0);
    /* NAK: the meter repeats its last message */
    expect_data(prog("R1", "0.0.0()"), "0.0.0(17060102)");
    send("\x15");
    expect_data(F.tx, "0.0.0(17060102)");
    /* junk between messages is ignored */
    send("xyz\r\n");
    ck_assert_uint_eq(F.ntx, 0);
    expect_data(prog("R1", "C.1.0()"), "C.1.0(17060102)");
    /* B0: no answer, 300 baud idle, password forgotten */
    login();
    ck_assert_str_eq(prog("B0", NULL), "");
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    ck_assert_uint_eq(F.cfg.baud, 300);
    ck_assert(!M.iec.logged_in);
    send("/?!\r\n");
    ck_assert_str_eq(F.tx, "/KLF5KLEFR6922\r\n");
}
END_TEST

START_TEST(inactivity_timeout)
{
    enter_programming();
    login();
    T += KLEFR_IEC_INACTIVITY_US - 1000000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_PROGRAMMING);
    T += 2000000;
    klefr_meter_tick(&M, T);
    ck_assert_int_eq(M.iec.state, KLEFR_IEC_IDLE);
    ck_assert_uint_eq(F.cfg.baud, 300);
    ck_assert(!M.iec.logged_in);
    /* a sign-on in programming mode is not for the idle state machine */
    enter_programming();
    send("/?!\r\n");
    ck_assert_uint_eq(F.ntx, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("iec");
    TCase *tc = tcase_create("iec62056-21");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, bcc_check_vectors);
    tcase_add_test(tc, idle_line_is_300_7e1);
    tcase_add_test(tc, sign_on_and_identification);
    tcase_add_test(tc, sign_on_with_address);
    tcase_add_test(tc, nuls_junk_and_parity_bits);
    tcase_add_test(tc, readout_content_and_bcc);
    tcase_add_test(tc, readout_follows_calc_code_and_model);
    tcase_add_test(tc, option_select_baud_and_errors);
    tcase_add_test(tc, programming_password);
    tcase_add_test(tc, programming_settings_round_trip);
    tcase_add_test(tc, programming_bus_settings_per_model);
    tcase_add_test(tc, break_nak_bad_bcc);
    tcase_add_test(tc, inactivity_timeout);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
