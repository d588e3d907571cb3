/* A meter on a test HAL, driven by button presses at virtual times; the LCD
 * is read back as text from the frames the firmware sent (hal->lcd_update). */
#ifndef KLEFR_UI_HARNESS_H
#define KLEFR_UI_HARNESS_H

#include <check.h>
#include <string.h>

#include "eeprom.h"
#include "klefr/meter.h"

typedef struct {
    klefr_meter m;
    klefr_hal hal;
    uint64_t t;      /* virtual time now, us */
    klefr_lcd_fb fb; /* last frame sent */
    unsigned lcd_updates;
    bool backlight;
    unsigned backlight_calls;
    bool corrupt_program;
    char text[128];
    klefr_eeprom eeprom; /* the simulator's EEPROM, in RAM */
} harness;

static void h_lcd(void *arg, const klefr_lcd_fb *fb, uint64_t t_us)
{
    harness *h = arg;
    (void)t_us;
    h->fb = *fb;
    h->lcd_updates++;
}

static void h_backlight(void *arg, bool on, uint64_t t_us)
{
    harness *h = arg;
    (void)t_us;
    h->backlight = on;
    h->backlight_calls++;
}

static uint32_t h_crc(void *arg)
{
    harness *h = arg;
    return h->corrupt_program ? 0xDEADu : KLEFR_PROGRAM_CRC_EXPECTED;
}

static int h_nvm_read(void *arg, uint32_t addr, void *buf, uint32_t len)
{
    harness *h = arg;
    return klefr_eeprom_read(&h->eeprom, addr, buf, len);
}

static int h_nvm_write(void *arg, uint32_t addr, const void *buf, uint32_t len)
{
    harness *h = arg;
    return klefr_eeprom_write(&h->eeprom, addr, buf, len);
}

/* The HAL of a blank meter (EEPROM all 0xFF); callers may change it before
 * klefr_meter_init. */
static void h_hal(harness *h)
{
    klefr_eeprom_open(&h->eeprom, NULL, NULL, 0); /* blank */
    h->hal.arg = h;
    h->hal.nvm_read = h_nvm_read;
    h->hal.nvm_write = h_nvm_write;
    h->hal.lcd_update = h_lcd;
    h->hal.program_crc = h_crc;
}

static void h_init(harness *h, klefr_model model)
{
    memset(h, 0, sizeof *h);
    h_hal(h);
    h->hal.backlight = h_backlight;
    klefr_meter_init(&h->m, &h->hal, model, KLEFR_DEFAULT_SERIAL, 0);
}

/* Advance virtual time by ms, ticking every 10 ms like the platform. */
static void run_ms(harness *h, uint64_t ms)
{
    uint64_t end = h->t + ms * 1000u;
    while (h->t < end) {
        h->t += 10000u;
        klefr_meter_tick(&h->m, h->t);
    }
}

/* Hold buttons for ms, release, and let the release settle. */
static void press(harness *h, uint8_t buttons, uint64_t ms)
{
    klefr_meter_buttons(&h->m, buttons, h->t);
    run_ms(h, ms);
    klefr_meter_buttons(&h->m, 0, h->t);
    run_ms(h, 100);
}

#define RIGHT(h) press(h, KLEFR_BTN_RIGHT, 200)
#define LEFT(h) press(h, KLEFR_BTN_LEFT, 200)
#define HOLD_RIGHT3(h) press(h, KLEFR_BTN_RIGHT, 3200)
#define HOLD_RIGHT5(h) press(h, KLEFR_BTN_RIGHT, 5200)
#define HOLD_LEFT3(h) press(h, KLEFR_BTN_LEFT, 3200)
#define BOTH3(h) press(h, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT, 3200)

static void presses(harness *h, uint8_t buttons, int n)
{
    for (int i = 0; i < n; i++)
        press(h, buttons, 200);
}

static const char *lcd(harness *h)
{
    klefr_lcd_text(&h->fb, h->text, sizeof h->text);
    return h->text;
}

#define LCD_IS(h, want) ck_assert_str_eq(lcd(h), want)

#endif
