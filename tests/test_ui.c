/* LCD, buttons and menus (manual 7.1-7.17, 8.1): every procedure of the
 * manual as button presses at virtual times, with the LCD read back as text
 * after each step. Menu map: docs/lcd-and-menus.md. */
#include "check_run.h"
#include <check.h>
#include <stdlib.h>

#include "ui_harness.h"
#include "ui/ui_priv.h"

/* Main menu order: 0 TOTAL kWh, 1 TOTAL kvarh, 2 POWER, 3 RESETTABLE,
 * 4 PROG MODE1, 5 PROG MODE2, 6 PROG MODE3. */
static void to_main(harness *h, int n)
{
    RIGHT(h); /* the first press leaves automatic scroll at Total active energy */
    presses(h, KLEFR_BTN_RIGHT, n);
}

static void enter_pm3(harness *h, const char *password)
{
    to_main(h, 6);
    HOLD_RIGHT3(h);
    for (int i = 0; i < 4; i++) {
        presses(h, KLEFR_BTN_RIGHT, password[i] - '0');
        HOLD_RIGHT3(h);
    }
}

/* ---- automatic scroll ---- */

START_TEST(auto_scroll_default_pages_and_timing)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 9990);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 10);
    LCD_IS(&h, "FW kWh\n0.00\nT1 FORWARD");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nT2 FORWARD");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kW\n0.000\nPOWER");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW\n001\nMOD Id");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW\n9600\nM bAud");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
}
END_TEST

START_TEST(auto_scroll_6921_has_no_tariff_or_bus_pages)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    klefr_meter_set_tariff(&h.m, 2, false, 0);
    run_ms(&h, 100);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL"); /* no T2 on a single tariff meter */
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kW\n0.000\nPOWER");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
}
END_TEST

START_TEST(status_icons_flow_tariff_comm)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6922);
    klefr_meter_tariff_input(&h.m, true, h.t);
    run_ms(&h, 100); /* values and icons are redrawn every 100 ms */
    LCD_IS(&h, "FW kWh T2\n0.00\nTOTAL");
    h.m.meas.reverse = true;
    h.m.comm_until_us = h.t + 1000000;
    run_ms(&h, 100);
    LCD_IS(&h, "RV COMM kWh T2\n0.00\nTOTAL");
    run_ms(&h, 1000);
    LCD_IS(&h, "RV kWh T2\n0.00\nTOTAL");
    klefr_meter_tariff_input(&h.m, false, h.t);
    run_ms(&h, 100);
    LCD_IS(&h, "RV kWh\n0.00\nTOTAL");
}
END_TEST

START_TEST(lcd_update_only_when_frame_changes)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    unsigned n = h.lcd_updates;
    ck_assert_uint_ge(n, 1);
    run_ms(&h, 9000);
    ck_assert_uint_eq(h.lcd_updates, n);
    ck_assert_mem_eq(&h.fb, &h.m.ui.fb, sizeof h.fb);
    run_ms(&h, 1000);
    ck_assert_uint_eq(h.lcd_updates, n + 1);
}
END_TEST

/* ---- value formats (7.4) ---- */

static const char *total_with(harness *h, uint64_t uwh)
{
    h->m.regs.act_fwd_uwh[0] = uwh;
    run_ms(h, 100);
    return lcd(h);
}

START_TEST(energy_auto_ranges_at_boundaries)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    ck_assert_str_eq(total_with(&h, 99999990000000ull), "FW kWh\n99999.99\nTOTAL");
    ck_assert_str_eq(total_with(&h, 99999999999999ull), "FW kWh\n99999.99\nTOTAL");
    ck_assert_str_eq(total_with(&h, 100000000000000ull), "FW kWh\n100000.0\nTOTAL");
    ck_assert_str_eq(total_with(&h, 999999900000000ull), "FW kWh\n999999.9\nTOTAL");
    ck_assert_str_eq(total_with(&h, 999999999999999ull), "FW kWh\n999999.9\nTOTAL");
    ck_assert_str_eq(total_with(&h, 1000000000000000ull), "FW kWh\n1000000\nTOTAL");
    ck_assert_str_eq(total_with(&h, 12345678000000ull), "FW kWh\n12345.67\nTOTAL");
    ck_assert_str_eq(total_with(&h, 9999999ull), "FW kWh\n0.00\nTOTAL"); /* truncated */
    ck_assert_str_eq(total_with(&h, 10000000ull), "FW kWh\n0.01\nTOTAL");
}
END_TEST

START_TEST(negative_energy_keeps_seven_digits)
{
    char buf[16];
    klefr_fmt_energy(-5000000000ll, buf);
    ck_assert_str_eq(buf, "-5.00");
    klefr_fmt_energy(-99999990000000ll, buf);
    ck_assert_str_eq(buf, "-99999.99");
    klefr_fmt_energy(-100000000000000ll, buf);
    ck_assert_str_eq(buf, "-100000.0");
    klefr_fmt_energy(-9999999000000000ll, buf);
    ck_assert_str_eq(buf, "-9999999");
    klefr_fmt_energy(10000000000000000ll, buf);
    ck_assert_str_eq(buf, "10000000"); /* positive: the sign digit too */
    klefr_fmt_energy(99999999999999999ll, buf);
    ck_assert_str_eq(buf, "99999999");
    klefr_fmt_energy(100000000000000000ll, buf);
    ck_assert_str_eq(buf, "0");
}
END_TEST

START_TEST(instantaneous_values_formats)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    h.m.meas = (klefr_measure){.v_rms = 230.04f,
                               .i_rms = 10.0f,
                               .freq_hz = 49.987f,
                               .p_w = -2300.4f,
                               .q_var = 120.0f,
                               .s_va = 2303.5f,
                               .pf = -0.998f,
                               .reverse = true,
                               .valid = true};
    to_main(&h, 2);
    LCD_IS(&h, "RV >> kW\n-2.300\nPOWER");
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "RV << kW\n-2.300\nPOWER");
    RIGHT(&h);
    LCD_IS(&h, "RV << V\n230.0\nVOLTAGE");
    RIGHT(&h);
    LCD_IS(&h, "RV << A\n10.00\nCURRENT");
    RIGHT(&h);
    LCD_IS(&h, "RV << Hz\n49.99\nFREQUENCY");
    RIGHT(&h);
    LCD_IS(&h, "RV <<\n-0.998\nPF");
    RIGHT(&h);
    LCD_IS(&h, "RV << kvar\n0.120\nREACTIVE");
    RIGHT(&h);
    LCD_IS(&h, "RV << kVA\n2.304\nAPPARENT");
    RIGHT(&h); /* wraps inside the sub-menu */
    LCD_IS(&h, "RV << kW\n-2.300\nPOWER");
}
END_TEST

/* ---- button scroll, sub-menus, timeout (7.7) ---- */

START_TEST(button_scroll_main_menu_both_ways)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    RIGHT(&h);
    LCD_IS(&h, "FW >> kWh\n0.00\nTOTAL");
    RIGHT(&h);
    LCD_IS(&h, "FW >> kvarh\n0.00\nTOTAL");
    RIGHT(&h);
    LCD_IS(&h, "FW >> kW\n0.000\nPOWER");
    RIGHT(&h);
    LCD_IS(&h, "FW kWh\n0.00\nRESETTABLE");
    RIGHT(&h);
    LCD_IS(&h, "FW >>\n\nPROG MODE1");
    RIGHT(&h);
    LCD_IS(&h, "FW >>\n\nPROG MODE2");
    RIGHT(&h);
    LCD_IS(&h, "FW >> LOCK\n\nPROG MODE3");
    RIGHT(&h);
    LCD_IS(&h, "FW >> kWh\n0.00\nTOTAL");
    LEFT(&h);
    LCD_IS(&h, "FW >> LOCK\n\nPROG MODE3");
}
END_TEST

START_TEST(active_energy_submenu_enter_and_leave)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    h.m.regs.act_fwd_uwh[0] = 1000000000ull;  /* T1 fwd 1 kWh */
    h.m.regs.act_fwd_uwh[1] = 2000000000ull;  /* T2 fwd 2 kWh */
    h.m.regs.act_rev_uwh[0] = 30000000000ull; /* T1 rev 30 kWh */
    h.m.regs.act_rev_uwh[1] = 40000000000ull;
    RIGHT(&h);
    press(&h, KLEFR_BTN_RIGHT, 3200); /* 3 s is not enough for this menu */
    LCD_IS(&h, "FW >> kWh\n3.00\nTOTAL");
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW << kWh\n3.00\nTOTAL");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n3.00\nFORWARD");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n70.00\nREVERSE");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n1.00\nT1 FORWARD");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n30.00\nT1 REVERSE");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n2.00\nT2 FORWARD");
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n40.00\nT2 REVERSE");
    HOLD_LEFT3(&h);
    LCD_IS(&h, "FW >> kWh\n3.00\nTOTAL");
    HOLD_LEFT3(&h); /* nothing above the main menu */
    LCD_IS(&h, "FW >> kWh\n3.00\nTOTAL");
}
END_TEST

START_TEST(reactive_submenu_and_6921_without_tariff_pages)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    h.m.regs.react_fwd_uvarh[0] = 5000000000ull;
    h.m.regs.react_rev_uvarh[0] = 1000000000ull;
    to_main(&h, 1);
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW << kvarh\n6.00\nTOTAL");
    RIGHT(&h);
    LCD_IS(&h, "FW << kvarh\n5.00\nFORWARD");
    RIGHT(&h);
    LCD_IS(&h, "FW << kvarh\n1.00\nREVERSE");
    RIGHT(&h);
    LCD_IS(&h, "FW << kvarh\n6.00\nTOTAL");
}
END_TEST

START_TEST(program_mode1_identity)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    h.m.regs.power_downs = 12;
    to_main(&h, 4);
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW <<\n17060102\nSERIAL NO");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n2.18\nSW VERSION");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n1.00\nHW VERSION");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n001\nMOD Id");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n9600\nM bAud");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\nEuEn\nPARity");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n12\nPCNT");
}
END_TEST

START_TEST(back_to_auto_after_30s_idle)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    to_main(&h, 2);
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW << kW\n0.000\nPOWER");
    run_ms(&h, 29800); /* 30 s after the release, minus the 100 ms already run */
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "browse");
    LCD_IS(&h, "FW << kW\n0.000\nPOWER");
    run_ms(&h, 200);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "auto");
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
}
END_TEST

/* ---- add/remove pages to automatic scroll (7.6.3) ---- */

START_TEST(scroll_add_remove_saved_in_mask)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    RIGHT(&h);
    HOLD_RIGHT5(&h); /* into total active energy */
    RIGHT(&h);
    LCD_IS(&h, "FW << kWh\n0.00\nFORWARD");
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW kWh\n0.00\nOK in");
    ck_assert_uint_eq(h.m.settings.scroll_mask & 0x3u, 0x3u);
    run_ms(&h, 2000);
    LCD_IS(&h, "FW << kWh\n0.00\nFORWARD");
    LEFT(&h);
    HOLD_RIGHT5(&h); /* total active energy cannot be removed */
    LCD_IS(&h, "FW kWh\n0.00\nOK in");
    ck_assert_uint_eq(h.m.settings.scroll_mask & 0x1u, 0x1u);

    /* the power page leaves the scroll */
    HOLD_LEFT3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 2);
    HOLD_RIGHT5(&h);
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW kW\n0.000\nOK out");

    run_ms(&h, 30000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nFORWARD");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
}
END_TEST

/* ---- program mode 2 (7.6.2, 7.8, 7.12) ---- */

START_TEST(pm2_lcd_cycle_time)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    to_main(&h, 5);
    LCD_IS(&h, "FW >>\n\nPROG MODE2");
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW <<\n10\nSEC");
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW\n10\nSEC");
    run_ms(&h, 500); /* the value blinks */
    LCD_IS(&h, "FW\n\nSEC");
    presses(&h, KLEFR_BTN_RIGHT, 5);
    LCD_IS(&h, "FW\n15\nSEC");
    BOTH3(&h);
    LCD_IS(&h, "FW\n15\nOK");
    ck_assert_uint_eq(h.m.settings.lcd_cycle_s, 15);
    run_ms(&h, 2000);
    LCD_IS(&h, "FW <<\n15\nSEC");

    /* wraps 1..30 */
    HOLD_RIGHT5(&h);
    presses(&h, KLEFR_BTN_LEFT, 15);
    LCD_IS(&h, "FW\n30\nSEC");
    RIGHT(&h);
    LCD_IS(&h, "FW\n1\nSEC");
    HOLD_LEFT3(&h); /* leave without saving */
    LCD_IS(&h, "FW <<\n15\nSEC");
    ck_assert_uint_eq(h.m.settings.lcd_cycle_s, 15);

    run_ms(&h, 30000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 14800);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 200);
    LCD_IS(&h, "FW kWh\n0.00\nT1 FORWARD");
}
END_TEST

START_TEST(pm2_backlight_modes)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    ck_assert(!h.backlight);
    to_main(&h, 5);
    ck_assert(h.backlight); /* button mode: lit by a press */
    HOLD_RIGHT3(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW <<\nbutton\nbACK");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW\non\nbACK");
    BOTH3(&h);
    LCD_IS(&h, "FW\non\nOK");
    ck_assert_uint_eq(h.m.settings.backlight, KLEFR_BL_ON);
    run_ms(&h, 120000);
    ck_assert(h.backlight);

    to_main(&h, 5);
    HOLD_RIGHT3(&h);
    RIGHT(&h);
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW\noFF\nbACK");
    BOTH3(&h);
    ck_assert(!h.backlight);
    ck_assert_uint_eq(h.m.settings.backlight, KLEFR_BL_OFF);

    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW\nbutton\nbACK");
    BOTH3(&h);
    ck_assert(h.backlight); /* pressed 3.3 s ago: lit for 60 s from the press */
    run_ms(&h, 56000);
    ck_assert(h.backlight);
    run_ms(&h, 1000);
    ck_assert(!h.backlight);
}
END_TEST

static void enter_id(harness *h, int a, int b, int c)
{
    int d[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        int now = h->m.ui.edit_dig[i];
        presses(h, KLEFR_BTN_RIGHT, (d[i] - now + 10) % 10);
        BOTH3(h);
    }
}

START_TEST(pm2_modbus_id_digit_by_digit)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    to_main(&h, 5);
    HOLD_RIGHT3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW <<\n001\nMOD Id");
    HOLD_RIGHT5(&h);
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW\n201\nMOD Id");
    run_ms(&h, 500); /* only the first digit blinks */
    LCD_IS(&h, "FW\n01\nMOD Id");
    BOTH3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 4);
    BOTH3(&h);
    LCD_IS(&h, "FW\n241\nMOD Id");
    presses(&h, KLEFR_BTN_RIGHT, 6);
    BOTH3(&h);
    LCD_IS(&h, "FW\n247\nOK");
    ck_assert_uint_eq(h.m.settings.modbus_id, 247);
    run_ms(&h, 2000);

    HOLD_RIGHT5(&h);
    enter_id(&h, 2, 4, 8);
    LCD_IS(&h, "FW\nErr\nMOD Id");
    ck_assert_uint_eq(h.m.settings.modbus_id, 247);
    run_ms(&h, 2000);
    HOLD_RIGHT5(&h);
    enter_id(&h, 0, 0, 0);
    LCD_IS(&h, "FW\nErr\nMOD Id");
    run_ms(&h, 2000);
    HOLD_RIGHT5(&h);
    enter_id(&h, 0, 0, 1);
    ck_assert_uint_eq(h.m.settings.modbus_id, 1);
}
END_TEST

START_TEST(pm2_mbus_id_range)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6923);
    to_main(&h, 5);
    HOLD_RIGHT3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW <<\n000\nMBUS Id");
    HOLD_RIGHT5(&h);
    enter_id(&h, 2, 5, 0);
    LCD_IS(&h, "FW\n250\nOK");
    ck_assert_uint_eq(h.m.settings.mbus_id, 250);
    run_ms(&h, 2000);
    HOLD_RIGHT5(&h);
    enter_id(&h, 2, 5, 1);
    LCD_IS(&h, "FW\nErr\nMBUS Id");
    ck_assert_uint_eq(h.m.settings.mbus_id, 250);
}
END_TEST

START_TEST(pm2_has_no_id_on_6921_6922)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6922);
    to_main(&h, 5);
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW <<\n10\nSEC");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\nbutton\nbACK");
    RIGHT(&h);
    LCD_IS(&h, "FW <<\n10\nSEC");
}
END_TEST

/* ---- program mode 3 (7.10-7.17) ---- */

START_TEST(pm3_password_right_and_wrong)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    h.m.settings.password = 1234;
    to_main(&h, 6);
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW LOCK\n0000\nPASSWORD");
    run_ms(&h, 500);
    LCD_IS(&h, "FW LOCK\n000\nPASSWORD"); /* the first digit blinks */
    HOLD_RIGHT3(&h);
    HOLD_RIGHT3(&h);
    HOLD_RIGHT3(&h);
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW LOCK\nErr\nPASSWORD");
    run_ms(&h, 2000);
    LCD_IS(&h, "FW >> LOCK\n\nPROG MODE3");

    HOLD_RIGHT3(&h);
    RIGHT(&h);
    HOLD_RIGHT3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 2);
    HOLD_RIGHT3(&h);
    presses(&h, KLEFR_BTN_LEFT, 7); /* left counts down: 0 -> 3 */
    HOLD_RIGHT3(&h);
    presses(&h, KLEFR_BTN_RIGHT, 4);
    LCD_IS(&h, "FW LOCK\n1234\nPASSWORD");
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW << LOCK\n1000\nS0");
}
END_TEST

START_TEST(pm3_s0_rate)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    enter_pm3(&h, "0000");
    LCD_IS(&h, "FW << LOCK\n1000\nS0");
    HOLD_RIGHT5(&h);
    const char *want[] = {"1", "0.1", "0.01", "10000", "2000", "1000", "100", "10"};
    presses(&h, KLEFR_BTN_RIGHT, 3);
    for (int i = 0; i < 8; i++) {
        char buf[64] = "FW LOCK\n";
        strcat(buf, want[i]);
        strcat(buf, "\nS0");
        LCD_IS(&h, buf);
        RIGHT(&h);
    }
    LCD_IS(&h, "FW LOCK\n1\nS0");
    RIGHT(&h);
    BOTH3(&h);
    LCD_IS(&h, "FW LOCK\n0.1\nOK");
    ck_assert_uint_eq(h.m.settings.s0_rate_centi, 10);
}
END_TEST

START_TEST(pm3_calc_code_changes_total)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    enter_pm3(&h, "0000");
    RIGHT(&h);
    LCD_IS(&h, "FW << LOCK\nC-01\nCALC CODE");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\nC-04\nCALC CODE");
    presses(&h, KLEFR_BTN_RIGHT, 3);
    LCD_IS(&h, "FW LOCK\nC-09\nCALC CODE");
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\nC-10\nCALC CODE");
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\nC-01\nCALC CODE");
    presses(&h, KLEFR_BTN_LEFT, 2);
    BOTH3(&h);
    LCD_IS(&h, "FW LOCK\nC-09\nOK");
    ck_assert_uint_eq(h.m.settings.calc_code, 9);
}
END_TEST

START_TEST(pm3_baud_and_parity_6924)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    enter_pm3(&h, "0000");
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW << LOCK\n9600\nM bAud");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\n1200\nM bAud"); /* Modbus: 1200..9600 */
    RIGHT(&h);
    BOTH3(&h);
    ck_assert_uint_eq(h.m.settings.baud, 2400);
    run_ms(&h, 2000);
    RIGHT(&h);
    LCD_IS(&h, "FW << LOCK\nEuEn\nPARity");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\nnonE\nPARity");
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\nodd\nPARity");
    BOTH3(&h);
    LCD_IS(&h, "FW LOCK\nodd\nOK");
    ck_assert_int_eq(h.m.settings.parity, KLEFR_PARITY_ODD);
}
END_TEST

START_TEST(pm3_baud_6923_no_parity)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6923);
    enter_pm3(&h, "0000");
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW << LOCK\n9600\nM bAud");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\n300\nM bAud"); /* M-bus: 300..9600 */
    BOTH3(&h);
    ck_assert_uint_eq(h.m.settings.baud, 300);
    run_ms(&h, 2000);
    RIGHT(&h);
    LCD_IS(&h, "FW << LOCK\n0\nPCNT"); /* no parity page on M-bus */
}
END_TEST

START_TEST(pm3_power_down_counter_reset)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6922);
    h.m.regs.power_downs = 7;
    enter_pm3(&h, "0000");
    presses(&h, KLEFR_BTN_RIGHT, 2);
    LCD_IS(&h, "FW << LOCK\n7\nPCNT");
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW LOCK\n7\nPCNT");
    run_ms(&h, 500);
    LCD_IS(&h, "FW LOCK\n\nPCNT");
    BOTH3(&h);
    LCD_IS(&h, "FW LOCK\n0\nOK");
    ck_assert_uint_eq(h.m.regs.power_downs, 0);
}
END_TEST

START_TEST(pm3_change_password)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    enter_pm3(&h, "0000");
    presses(&h, KLEFR_BTN_RIGHT, 3);
    LCD_IS(&h, "FW << LOCK\n0000\nPASSrd");
    HOLD_RIGHT5(&h);
    const int d[4] = {4, 3, 2, 1};
    for (int i = 0; i < 4; i++) {
        presses(&h, KLEFR_BTN_RIGHT, d[i]);
        BOTH3(&h);
    }
    LCD_IS(&h, "FW LOCK\n4321\nOK");
    ck_assert_uint_eq(h.m.settings.password, 4321);
    run_ms(&h, 30000);
    enter_pm3(&h, "0000");
    LCD_IS(&h, "FW LOCK\nErr\nPASSWORD");
    run_ms(&h, 2000);
    LCD_IS(&h, "FW >> LOCK\n\nPROG MODE3");
    run_ms(&h, 30000);
    enter_pm3(&h, "4321");
    LCD_IS(&h, "FW << LOCK\n1000\nS0");
}
END_TEST

START_TEST(pm3_obis_mode)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    enter_pm3(&h, "0000");
    presses(&h, KLEFR_BTN_RIGHT, 4);
    LCD_IS(&h, "FW << LOCK\noFF\nOBIS");
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW LOCK\non\nOBIS");
    BOTH3(&h);
    LCD_IS(&h, "FW LOCK\non\nOK");
    ck_assert(h.m.settings.obis);
    run_ms(&h, 30000);
    LCD_IS(&h, "FW kWh\n0.00\n1.8.0");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kW\n0.000\n1.7.0");
    to_main(&h, 2);
    HOLD_RIGHT5(&h);
    RIGHT(&h);
    LCD_IS(&h, "FW << V\n0.0\n32.7.0");
    presses(&h, KLEFR_BTN_RIGHT, 4);
    LCD_IS(&h, "FW << kvar\n0.000\nREACTIVE"); /* no OBIS code: the name */
    /* total active energy follows the calculation code */
    h.m.settings.calc_code = 5;
    HOLD_LEFT3(&h);
    presses(&h, KLEFR_BTN_LEFT, 2);
    LCD_IS(&h, "FW >> kWh\n0.00\n15.8.0");
}
END_TEST

static const char *trail(harness *h)
{
    static char buf[160];
    klefr_ui_trail(&h->m, buf, sizeof buf);
    return buf;
}

/* The menu trail in words follows every state of the walk of 7.10.1. */
START_TEST(trail_names_menu_page_and_state)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    ck_assert_str_eq(trail(&h), "Automatic scroll > Total active energy");
    to_main(&h, 6);
    ck_assert_str_eq(trail(&h), "Main menu > Program mode 3");
    HOLD_RIGHT3(&h);
    ck_assert_str_eq(trail(&h), "Main menu > Program mode 3 > password");
    for (int i = 0; i < 4; i++)
        HOLD_RIGHT3(&h);
    ck_assert_str_eq(trail(&h), "Program mode 3 > S0 output");
    HOLD_RIGHT5(&h);
    ck_assert_str_eq(trail(&h), "Program mode 3 > S0 output > editing");
    BOTH3(&h);
    ck_assert_str_eq(trail(&h), "Program mode 3 > S0 output > OK");
    run_ms(&h, 2500);
    ck_assert_str_eq(trail(&h), "Program mode 3 > S0 output");
    RIGHT(&h);
    ck_assert_str_eq(trail(&h), "Program mode 3 > Calculation code");
    HOLD_LEFT3(&h);
    ck_assert_str_eq(trail(&h), "Main menu > Program mode 3");
    LEFT(&h);
    LEFT(&h);
    ck_assert_str_eq(trail(&h), "Main menu > Program mode 1");
    LEFT(&h);
    ck_assert_str_eq(trail(&h), "Main menu > Resettable kWh");
    HOLD_RIGHT3(&h);
    ck_assert_str_eq(trail(&h), "Main menu > Resettable kWh > reset");
    /* cut to the buffer, always terminated */
    char small[12];
    ck_assert_uint_eq(klefr_ui_trail(&h.m, small, sizeof small), 11);
    ck_assert_str_eq(small, "Main menu >");
}
END_TEST

START_TEST(edit_dropped_after_30s_idle)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    to_main(&h, 5);
    HOLD_RIGHT3(&h);
    HOLD_RIGHT5(&h);
    presses(&h, KLEFR_BTN_RIGHT, 3);
    LCD_IS(&h, "FW\n13\nSEC");
    run_ms(&h, 30000);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "auto");
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    ck_assert_uint_eq(h.m.settings.lcd_cycle_s, 10);
    /* the password entry too */
    to_main(&h, 6);
    HOLD_RIGHT3(&h);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "password");
    run_ms(&h, 30000);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "auto");
}
END_TEST

/* ---- day counter (7.9) ---- */

START_TEST(day_counter_reset)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6921);
    h.m.regs.day_fwd_uwh = 1234560000ull;
    to_main(&h, 3);
    LCD_IS(&h, "FW kWh\n1.23\nRESETTABLE");
    HOLD_RIGHT3(&h);
    LCD_IS(&h, "FW kWh\n1.23\nRESETTABLE");
    run_ms(&h, 500);
    LCD_IS(&h, "FW kWh\n\nRESETTABLE"); /* blinking */
    press(&h, KLEFR_BTN_RIGHT, 4000);   /* 4 s: not yet */
    ck_assert_uint_eq(h.m.regs.day_fwd_uwh, 1234560000ull);
    HOLD_RIGHT5(&h);
    LCD_IS(&h, "FW kWh\n0.00\nOK");
    ck_assert_uint_eq(h.m.regs.day_fwd_uwh, 0);
    run_ms(&h, 2000);
    LCD_IS(&h, "FW kWh\n0.00\nRESETTABLE");

    /* a left press leaves without resetting */
    h.m.regs.day_fwd_uwh = 5000000000ull;
    HOLD_RIGHT3(&h);
    LEFT(&h);
    HOLD_RIGHT5(&h);
    ck_assert_uint_eq(h.m.regs.day_fwd_uwh, 5000000000ull);
}
END_TEST

/* ---- errors (8.1) ---- */

START_TEST(error_program_checksum_err02)
{
    static harness h;
    memset(&h, 0, sizeof h);
    h.corrupt_program = true;
    h_hal(&h);
    klefr_meter_init(&h.m, &h.hal, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, 0);
    LCD_IS(&h, "FW\nErr 02\n");
    run_ms(&h, 10000);
    LCD_IS(&h, "FW kWh\n0.00\nTOTAL");
    run_ms(&h, 20000);
    LCD_IS(&h, "FW\nErr 02\n");
    RIGHT(&h);
    LCD_IS(&h, "FW >> kWh\n0.00\nTOTAL");
    LEFT(&h);
    LCD_IS(&h, "FW\nErr 02\n");
}
END_TEST

START_TEST(error_eeprom_err01)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    h.m.error = KLEFR_ERR_EEPROM;
    klefr_ui_init(&h.m, h.t);
    LCD_IS(&h, "FW\nErr 01\n");
    h.m.settings.obis = true;
    run_ms(&h, 100);
    LCD_IS(&h, "FW\nErr 01\nF.F");
}
END_TEST

/* ---- buttons ---- */

START_TEST(bounce_shorter_than_debounce_is_ignored)
{
    static harness h;
    h_init(&h, KLEFR_MODEL_6924);
    klefr_meter_buttons(&h.m, KLEFR_BTN_RIGHT, h.t);
    h.t += 5000;
    klefr_meter_buttons(&h.m, 0, h.t);
    h.t += 5000;
    klefr_meter_buttons(&h.m, KLEFR_BTN_RIGHT, h.t);
    h.t += 5000;
    klefr_meter_buttons(&h.m, 0, h.t);
    run_ms(&h, 200);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "auto");
    RIGHT(&h);
    ck_assert_str_eq(klefr_menu_state_to_str(h.m.ui.state), "browse");
}
END_TEST

START_TEST(glyphs_decode_back_to_text)
{
    klefr_lcd_fb fb;
    char buf[64];
    memset(&fb, 0, sizeof fb);
    const char *mid = "-0123456789AbCcdEFGHhiJLnoPrtUuy";
    for (const char *p = mid; *p; p++) {
        fb.digits[7] = klefr_glyph7(*p);
        klefr_lcd_text(&fb, buf, sizeof buf);
        ck_assert_msg(buf[1] == *p && buf[2] == '\n', "7-seg %c decoded as %s", *p, buf + 1);
    }
    const char *low = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZbcdhinortuy-+/<>";
    memset(&fb, 0, sizeof fb);
    for (const char *p = low; *p; p++) {
        fb.chars[0] = klefr_glyph14(*p);
        klefr_lcd_text(&fb, buf, sizeof buf);
        ck_assert_msg(buf[2] == *p && buf[3] == 0, "14-seg %c decoded as %s", *p, buf + 2);
    }
    /* rows with points and inner blanks */
    klefr_glyph_row7("-1234.5", fb.digits);
    klefr_glyph_row14("15.8.0 OK", fb.chars);
    klefr_lcd_text(&fb, buf, sizeof buf);
    ck_assert_str_eq(buf, "\n-1234.5\n15.8.0 OK");
    klefr_glyph_row7("Err 01", fb.digits);
    klefr_lcd_text(&fb, buf, sizeof buf);
    ck_assert_str_eq(buf, "\nErr 01\n15.8.0 OK");
    fb = (klefr_lcd_fb){0};
    fb.icons = KLEFR_ICON_K | KLEFR_ICON_VAR | KLEFR_ICON_H | KLEFR_ICON_T2;
    klefr_lcd_text(&fb, buf, sizeof buf);
    ck_assert_str_eq(buf, "kvarh T2\n\n");
}
END_TEST

static Suite *ui_suite(void)
{
    Suite *s = suite_create("ui");
    TCase *tc = tcase_create("display");
    tcase_add_test(tc, auto_scroll_default_pages_and_timing);
    tcase_add_test(tc, auto_scroll_6921_has_no_tariff_or_bus_pages);
    tcase_add_test(tc, status_icons_flow_tariff_comm);
    tcase_add_test(tc, lcd_update_only_when_frame_changes);
    tcase_add_test(tc, energy_auto_ranges_at_boundaries);
    tcase_add_test(tc, instantaneous_values_formats);
    tcase_add_test(tc, negative_energy_keeps_seven_digits);
    tcase_add_test(tc, glyphs_decode_back_to_text);
    tcase_add_test(tc, error_program_checksum_err02);
    tcase_add_test(tc, error_eeprom_err01);
    suite_add_tcase(s, tc);

    tc = tcase_create("menus");
    tcase_add_test(tc, button_scroll_main_menu_both_ways);
    tcase_add_test(tc, active_energy_submenu_enter_and_leave);
    tcase_add_test(tc, reactive_submenu_and_6921_without_tariff_pages);
    tcase_add_test(tc, program_mode1_identity);
    tcase_add_test(tc, back_to_auto_after_30s_idle);
    tcase_add_test(tc, scroll_add_remove_saved_in_mask);
    tcase_add_test(tc, day_counter_reset);
    tcase_add_test(tc, bounce_shorter_than_debounce_is_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("program-modes");
    tcase_add_test(tc, pm2_lcd_cycle_time);
    tcase_add_test(tc, pm2_backlight_modes);
    tcase_add_test(tc, pm2_modbus_id_digit_by_digit);
    tcase_add_test(tc, pm2_mbus_id_range);
    tcase_add_test(tc, pm2_has_no_id_on_6921_6922);
    tcase_add_test(tc, pm3_password_right_and_wrong);
    tcase_add_test(tc, pm3_s0_rate);
    tcase_add_test(tc, pm3_calc_code_changes_total);
    tcase_add_test(tc, pm3_baud_and_parity_6924);
    tcase_add_test(tc, pm3_baud_6923_no_parity);
    tcase_add_test(tc, pm3_power_down_counter_reset);
    tcase_add_test(tc, pm3_change_password);
    tcase_add_test(tc, pm3_obis_mode);
    tcase_add_test(tc, edit_dropped_after_30s_idle);
    tcase_add_test(tc, trail_names_menu_page_and_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return klefr_check_run(ui_suite());
}
