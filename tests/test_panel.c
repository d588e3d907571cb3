/* Panel: the LCD drawn segment by segment matches reference images, and the
 * panel's input (mouse, keys, controls) reaches the firmware only as posted
 * simulation events at the right meter times. Runs with SDL's offscreen
 * video driver: no display needed.
 * Regenerate the reference images: KLEFR_UPDATE_REFS=1 meson test panel. */
#include "check_run.h"
#include <SDL.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_synth.h"
#include "panel.h"
#include "panel_draw.h"
#include "png.h"
#include "sim.h"

#ifndef KLEFR_TEST_REFS
#define KLEFR_TEST_REFS "tests/ref"
#endif

/* ---- hand-built LCD states ----------------------------------------------- */

static uint8_t seg7(char ch)
{
    static const uint8_t digit[10] = {0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f};
    return ch >= '0' && ch <= '9' ? digit[ch - '0'] : ch == '-' ? KLEFR_SEG_G : 0;
}

static uint16_t seg14(char ch)
{
    switch (ch) {
    case 'T':
        return KLEFR_SEG14_A | KLEFR_SEG14_I | KLEFR_SEG14_L;
    case 'O':
        return 0x3f;
    case 'A':
        return KLEFR_SEG14_A | KLEFR_SEG14_B | KLEFR_SEG14_C | KLEFR_SEG14_E | KLEFR_SEG14_F |
               KLEFR_SEG14_G1 | KLEFR_SEG14_G2;
    case 'L':
        return KLEFR_SEG14_D | KLEFR_SEG14_E | KLEFR_SEG14_F;
    case 'K':
        return KLEFR_SEG14_E | KLEFR_SEG14_F | KLEFR_SEG14_G1 | KLEFR_SEG14_J | KLEFR_SEG14_M;
    case 'W':
        return KLEFR_SEG14_B | KLEFR_SEG14_C | KLEFR_SEG14_E | KLEFR_SEG14_F | KLEFR_SEG14_K |
               KLEFR_SEG14_M;
    case 'H':
        return KLEFR_SEG14_B | KLEFR_SEG14_C | KLEFR_SEG14_E | KLEFR_SEG14_F | KLEFR_SEG14_G1 |
               KLEFR_SEG14_G2;
    default:
        return 0;
    }
}

/* "00012.34 kWh", T1, forward, "TOTAL KWH" below. */
static klefr_lcd_fb fb_energy(void)
{
    klefr_lcd_fb fb = {0};
    const char *v = " 0001234";
    for (int k = 0; k < KLEFR_LCD_DIGITS; k++)
        fb.digits[k] = seg7(v[k]);
    fb.digits[5] |= KLEFR_SEG_DP;
    const char *t = "TOTAL KWH";
    for (int k = 0; t[k]; k++)
        fb.chars[k] = seg14(t[k]);
    fb.icons = KLEFR_ICON_K | KLEFR_ICON_W | KLEFR_ICON_H | KLEFR_ICON_T1 | KLEFR_ICON_FW;
    return fb;
}

static klefr_lcd_fb fb_all(void)
{
    klefr_lcd_fb fb;
    memset(fb.digits, 0xff, sizeof fb.digits);
    for (int k = 0; k < KLEFR_LCD_CHARS; k++)
        fb.chars[k] = 0x7fff;
    fb.icons = (1u << KLEFR_ICON_COUNT_) - 1;
    return fb;
}

static klefr_panel_layout L;

static void setup(void)
{
    char err[256];
    ck_assert_msg(klefr_panel_layout_load(&L, KLEFR_ASSETS_DIR, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
    klefr_panel_layout_free(&L);
}

/* Pixels darker than the glass: the visible (set) segments. */
static long dark_pixels(const klefr_canvas *c)
{
    long n = 0;
    for (long k = 0; k < (long)c->w * c->h; k++) {
        uint32_t p = c->px[k];
        if (((p >> 16 & 0xff) + (p >> 8 & 0xff) + (p & 0xff)) < 150)
            n++;
    }
    return n;
}

/* Compare with tests/ref/<name>.png: identical but for small rounding
 * differences (mean < 0.5 per channel, < 0.2 % of pixels off by > 24). */
static void check_ref(const klefr_canvas *c, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.png", KLEFR_TEST_REFS, name);
    if (getenv("KLEFR_UPDATE_REFS")) {
        ck_assert_int_eq(klefr_png_write(path, c->px, c->w, c->h), 0);
        fprintf(stderr, "wrote %s\n", path);
        return;
    }
    int w, h;
    uint32_t *ref = klefr_png_read(path, &w, &h);
    ck_assert_msg(ref != NULL, "cannot read %s (KLEFR_UPDATE_REFS=1 to create)", path);
    ck_assert_int_eq(w, c->w);
    ck_assert_int_eq(h, c->h);
    double sum = 0;
    long off = 0;
    for (long k = 0; k < (long)w * h; k++) {
        int worst = 0;
        for (int sh = 0; sh < 24; sh += 8) {
            int d = abs((int)(ref[k] >> sh & 0xff) - (int)(c->px[k] >> sh & 0xff));
            sum += d;
            worst = d > worst ? d : worst;
        }
        off += worst > 24;
    }
    free(ref);
    double mean = sum / (3.0 * w * h);
    if (mean >= 0.5 || off * 500 >= (long)w * h) {
        char got[600];
        snprintf(got, sizeof got, "%s/%s.got.png", KLEFR_TEST_REFS, name);
        klefr_png_write(got, c->px, c->w, c->h);
        ck_abort_msg("%s: mean diff %.3f, %ld pixels off (wrote %s)", name, mean, off, got);
    }
}

static long render_lcd(const char *name, klefr_lcd_fb fb, bool backlight, bool powered)
{
    klefr_canvas c;
    ck_assert(klefr_canvas_init(&c, 462, 270));
    klefr_panel_draw_lcd(&c, &L, &fb, backlight, powered);
    check_ref(&c, name);
    long dark = dark_pixels(&c);
    klefr_canvas_free(&c);
    return dark;
}

START_TEST(lcd_reference_images)
{
    long all = render_lcd("lcd_all", fb_all(), false, true);
    long energy = render_lcd("lcd_energy", fb_energy(), false, true);
    long energy_bl = render_lcd("lcd_energy_backlight", fb_energy(), true, true);
    long blank = render_lcd("lcd_blank_off", (klefr_lcd_fb){0}, false, true);
    long unpowered = render_lcd("lcd_unpowered", fb_all(), true, false);
    /* set segments are dark, unset ones only faint */
    ck_assert_int_eq(blank, 0);
    ck_assert_int_eq(unpowered, 0);
    ck_assert_int_gt(energy, 2000);
    ck_assert_int_gt(all, energy * 2);
    ck_assert_int_gt(energy_bl, energy / 2);
}
END_TEST

/* The whole panel from a fixed snapshot: layout, hold ring at 3.5 s, LED and
 * S0 lamp on, scope, trend, controls. */
START_TEST(panel_reference_image)
{
    static int32_t sv[1024], si[1024];
    static float tp[240], tq[240];
    for (int k = 0; k < 1024; k++) {
        double w = 2 * M_PI * 50.0 * k / 4000.0;
        sv[k] = (int32_t)(sin(w) * 230 * sqrt(2) / 500 * 8388608);
        si[k] = (int32_t)(sin(w - 0.6435) * 10 * sqrt(2) / KLEFR_I_FULL_SCALE_PEAK * 8388608);
    }
    for (int k = 0; k < 240; k++) {
        tp[k] = k < 120 ? 1150.0f : 1840.0f;
        tq[k] = k < 120 ? 0.0f : 1380.0f;
    }
    static const char *const ports[] = {"/dev/pts/7 (Modbus RTU, terminals 10/11)", "/dev/pts/8 (IR)"};
    klefr_panel_view v = {.model = KLEFR_MODEL_6924,
                          .powered = true,
                          .backlight = true,
                          .lcd = fb_energy(),
                          .out_on = {true, true, false},
                          .out_count = {1234, 123, 4},
                          .held = KLEFR_BTN_RIGHT,
                          .hold_s = {0, 3.5},
                          .scope_v = sv,
                          .scope_i = si,
                          .scope_n = 1024,
                          .scope_cap = 1024,
                          .trend_p = tp,
                          .trend_q = tq,
                          .trend_n = 240,
                          .trend_cap = 240,
                          .trend_dt_s = 0.5,
                          .ports = ports,
                          .nports = 2,
                          .speed = 10,
                          .actual_speed = 10,
                          .t_s = 3723,
                          .has_load = true,
                          .load = {.v_rms = 230, .i_rms = 10, .phi_deg = 36.87, .freq_hz = 50},
                          .hover = KLEFR_CTL_SPEED_1};
    klefr_canvas c;
    ck_assert(klefr_canvas_init(&c, 840, 576));
    klefr_panel_draw(&c, &L, &v);
    check_ref(&c, "panel_fixed");
    /* the cached layers give the same picture */
    klefr_canvas bg;
    ck_assert(klefr_canvas_init(&bg, 840, 576));
    klefr_panel_draw_static(&bg, &L, &v);
    klefr_panel_draw_glass(&bg, &L, &v);
    v.skip_glass = true;
    klefr_panel_draw_dynamic(&bg, &L, &v);
    ck_assert_mem_eq(bg.px, c.px, (size_t)840 * 576 * 4);
    klefr_canvas_free(&bg);
    klefr_canvas_free(&c);
}
END_TEST

/* A tall narrow window shows only the meter, larger; its buttons still work
 * and the hidden side controls do not. */
START_TEST(tall_window_shows_only_the_meter)
{
    klefr_canvas wide = {.w = 1400, .h = 960}, tall = {.w = 450, .h = 960};
    klefr_panel_view v = {.model = KLEFR_MODEL_6924};
    float wx, wy, tx, ty;
    ck_assert(klefr_panel_ctl_center(&wide, &L, KLEFR_CTL_BTN_RIGHT, &wx, &wy));
    ck_assert(klefr_panel_ctl_center(&tall, &L, KLEFR_CTL_BTN_RIGHT, &tx, &ty));
    ck_assert_int_eq(klefr_panel_hit(&tall, &L, &v, tx, ty), KLEFR_CTL_BTN_RIGHT);
    ck_assert_int_eq(klefr_panel_hit(&wide, &L, &v, wx, wy), KLEFR_CTL_BTN_RIGHT);
    ck_assert(tx > wx); /* centred and zoomed */
    ck_assert(klefr_panel_ctl_center(&wide, &L, KLEFR_CTL_SPEED_1, &wx, &wy));
    ck_assert_int_eq(klefr_panel_hit(&wide, &L, &v, wx, wy), KLEFR_CTL_SPEED_1);
    for (float x = 0; x < 450; x += 5)
        for (float y = 0; y < 960; y += 5) {
            klefr_ctl h = klefr_panel_hit(&tall, &L, &v, x, y);
            ck_assert(h == KLEFR_CTL_NONE || h == KLEFR_CTL_BTN_LEFT || h == KLEFR_CTL_BTN_RIGHT);
        }
}
END_TEST

START_TEST(png_round_trip)
{
    uint32_t px[3 * 70000 / 3];
    for (int k = 0; k < 70000; k++)
        px[k] = 0xff000000u | (uint32_t)(k * 2654435761u >> 8);
    ck_assert_int_eq(klefr_png_write("test-panel-rt.png", px, 350, 200), 0);
    int w, h;
    uint32_t *back = klefr_png_read("test-panel-rt.png", &w, &h);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(w, 350);
    ck_assert_int_eq(h, 200);
    ck_assert_mem_eq(back, px, 350 * 200 * 4);
    free(back);
    remove("test-panel-rt.png");
}
END_TEST

/* ---- input through the event path ----------------------------------------- */

static klefr_sim sim;
static klefr_synth synth;
static klefr_panel *panel;

static void open_panel(void)
{
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
    char err[256];
    klefr_synth_init(&synth, &(klefr_load){.v_rms = 230, .i_rms = 5, .freq_hz = 50}, NULL);
    ck_assert_int_eq(klefr_sim_init(&sim, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL, &synth.afe, NULL,
                                    err, sizeof err),
                     0);
    klefr_panel_opts o = {.synth = &synth, .speed = 1, .width = 700, .height = 480};
    panel = klefr_panel_open(&sim, &o, err, sizeof err);
    ck_assert_msg(panel != NULL, "%s", err);
    klefr_panel_frame(panel, 0); /* first draw: sizes the canvas */
}

static void close_panel(void)
{
    klefr_panel_close(panel);
    panel = NULL;
}

/* The last queued event of a kind, or NULL. */
static const klefr_sim_event *queued(klefr_sim_event_kind kind)
{
    const klefr_sim_event *best = NULL;
    for (size_t k = 0; k < sim.nev; k++)
        if (sim.ev[k].kind == kind && (!best || sim.ev[k].seq > best->seq))
            best = &sim.ev[k];
    return best;
}

static void mouse_button(int ctl, bool down, int button)
{
    int x, y;
    ck_assert(klefr_panel_control_pos(panel, ctl, &x, &y));
    SDL_Event e = {0};
    e.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
    e.button.button = (uint8_t)button;
    e.button.state = down ? SDL_PRESSED : SDL_RELEASED;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
    ck_assert(klefr_panel_frame(panel, 0));
}

static void key(SDL_Keycode k, bool down)
{
    SDL_Event e = {0};
    e.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    e.key.keysym.sym = k;
    SDL_PushEvent(&e);
    ck_assert(klefr_panel_frame(panel, 0));
}

static void mouse(int ctl, bool down)
{
    mouse_button(ctl, down, SDL_BUTTON_LEFT);
}

START_TEST(mouse_hold_right_button_5s)
{
    open_panel();
    klefr_sim_run_until(&sim, 2000000);
    mouse(KLEFR_CTL_BTN_RIGHT, true);
    const klefr_sim_event *e = queued(KLEFR_EV_BUTTONS);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->byte, KLEFR_BTN_RIGHT);
    ck_assert_uint_eq(e->t_us, 2000000);
    ck_assert_uint_eq(klefr_panel_held(panel), KLEFR_BTN_RIGHT);
    klefr_sim_run_until(&sim, 7000000); /* held 5 s of meter time */
    ck_assert_uint_eq(sim.meter.ui.held, KLEFR_BTN_RIGHT);
    ck_assert(klefr_panel_screenshot(panel, "test-panel-hold.png", 700, 480) == 0);
    remove("test-panel-hold.png");
    mouse(KLEFR_CTL_BTN_RIGHT, false);
    e = queued(KLEFR_EV_BUTTONS);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->byte, 0);
    ck_assert_uint_eq(e->t_us, 7000000);
    klefr_sim_run_until(&sim, 7010000);
    ck_assert_uint_eq(sim.meter.ui.held, 0);
    close_panel();
}
END_TEST

START_TEST(space_or_right_click_is_both_buttons)
{
    open_panel();
    key(SDLK_LEFT, true);
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->byte, KLEFR_BTN_LEFT);
    key(SDLK_LEFT, false);
    key(SDLK_SPACE, true);
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->byte, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    klefr_sim_run_until(&sim, 3000000);
    ck_assert_uint_eq(sim.meter.ui.held, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    key(SDLK_SPACE, false);
    klefr_sim_run_until(&sim, 3010000);
    ck_assert_uint_eq(sim.meter.ui.held, 0);
    mouse_button(KLEFR_CTL_BTN_LEFT, true, SDL_BUTTON_RIGHT); /* right click: both */
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->byte, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    mouse_button(KLEFR_CTL_BTN_LEFT, false, SDL_BUTTON_RIGHT);
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->byte, 0);
    close_panel();
}
END_TEST

START_TEST(controls_change_load_supply_tariff_speed)
{
    open_panel();
    mouse(KLEFR_CTL_I_UP, true); /* 5 A -> 10 A */
    mouse(KLEFR_CTL_I_UP, false);
    mouse(KLEFR_CTL_PF_UP, true); /* PF 1 -> 0.9 inductive */
    mouse(KLEFR_CTL_DIR, true);   /* export */
    ck_assert_ptr_nonnull(queued(KLEFR_EV_CALL));
    ck_assert(synth.load.i_rms == 5); /* nothing changes before the event is delivered */
    klefr_sim_run_until(&sim, 100000);
    ck_assert(synth.load.i_rms == 10);
    ck_assert(fabs(synth.load.phi_deg - (25.84 - 180)) < 1e-9);
    mouse(KLEFR_CTL_TARIFF, true);
    ck_assert_uint_eq(queued(KLEFR_EV_TARIFF_INPUT)->byte, 1);
    mouse(KLEFR_CTL_POWER, true);
    ck_assert_uint_eq(queued(KLEFR_EV_POWER)->byte, 0);
    klefr_sim_run_until(&sim, 200000);
    ck_assert(!sim.powered);
    mouse(KLEFR_CTL_POWER, true);
    klefr_sim_run_until(&sim, 300000);
    ck_assert(sim.powered);
    /* a scenario changed the load meanwhile: the next step starts from it */
    klefr_load l = synth.load;
    l.i_rms = 20;
    klefr_synth_set_load(&synth, &l);
    mouse(KLEFR_CTL_I_UP, true);
    klefr_sim_run_until(&sim, 400000);
    ck_assert(synth.load.i_rms == 32);
    mouse(KLEFR_CTL_SPEED_100, true);
    ck_assert(klefr_panel_speed(panel) == 100);
    key(SDLK_0, true);
    ck_assert(klefr_panel_speed(panel) == 0);
    key(SDLK_4, true);
    ck_assert(klefr_panel_speed(panel) == KLEFR_PANEL_SPEED_MAX);
    close_panel();
}
END_TEST

START_TEST(window_close_ends_the_run)
{
    open_panel();
    SDL_Event e = {.type = SDL_QUIT};
    SDL_PushEvent(&e);
    ck_assert(!klefr_panel_frame(panel, 0));
    close_panel();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("panel");
    TCase *tc = tcase_create("lcd");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lcd_reference_images);
    tcase_add_test(tc, panel_reference_image);
    tcase_add_test(tc, tall_window_shows_only_the_meter);
    tcase_add_test(tc, png_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("input");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, mouse_hold_right_button_5s);
    tcase_add_test(tc, space_or_right_click_is_both_buttons);
    tcase_add_test(tc, controls_change_load_supply_tariff_speed);
    tcase_add_test(tc, window_close_ends_the_run);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
