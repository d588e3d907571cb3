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
#include "panel_frame.h"
#include "panel_harness.h"
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

static int32_t sv[1024], si[1024];
static float tp[240], tq[240];

/* A fixed snapshot: 6924 at 10 A PF 0.8 L, right button held 3.5 s, LED and
 * S0 lamp on, 10x. */
static klefr_panel_view fixed_view(void)
{
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
    return (klefr_panel_view){.model = KLEFR_MODEL_6924,
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
}

/* The whole panel from a fixed snapshot: layout, hold ring at 3.5 s, LED and
 * S0 lamp on, scope, trend, controls. */
START_TEST(panel_reference_image)
{
    klefr_panel_view v = fixed_view();
    klefr_canvas c;
    ck_assert(klefr_canvas_init(&c, 840, 576));
    klefr_panel_draw(&c, &L, &v);
    check_ref(&c, "panel_fixed");
    /* the static layer and the parts drawn one by one give the same picture */
    klefr_canvas bg;
    ck_assert(klefr_canvas_init(&bg, 840, 576));
    klefr_panel_draw_static(&bg, &L, &v);
    for (int k = 0; k < KLEFR_PART_COUNT; k++)
        klefr_panel_draw_part(&bg, &L, &v, (klefr_panel_part)k);
    ck_assert_mem_eq(bg.px, c.px, (size_t)840 * 576 * 4);
    klefr_canvas_free(&bg);
    klefr_canvas_free(&c);
}
END_TEST

/* The trainer's overlay: the caption box over the scope (normal layout),
 * and the presentation layout with the meter large, caption, trail, hint,
 * Back/Next and a few readings beside it. */
START_TEST(caption_and_presentation_reference_images)
{
    klefr_panel_view v = fixed_view();
    v.held = 0;
    v.ov = (klefr_panel_overlay){.show = true,
                                 .title = "S0 output rate (7.10.1)",
                                 .text = "Program mode 3 is open. Scroll with the buttons to the "
                                         "page S0 output, then hold the right button for 5 seconds: "
                                         "the value starts blinking.\nPick the new rate with short "
                                         "presses.",
                                 .trail = "Program mode 3 > S0 output",
                                 .hint_buttons = KLEFR_BTN_RIGHT,
                                 .hint_hold_s = 5,
                                 .nav = true,
                                 .waiting = true};
    klefr_canvas c;
    ck_assert(klefr_canvas_init(&c, 840, 576));
    klefr_panel_draw(&c, &L, &v);
    check_ref(&c, "panel_caption");
    float x, y, nx, ny;
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_NEXT, &nx, &ny));
    ck_assert_int_eq(klefr_panel_hit(&c, &L, &v, nx, ny), KLEFR_CTL_NEXT);
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_BTN_RIGHT, &x, &y));
    float normal_bx = x;
    klefr_canvas_free(&c);

    v.present = true;
    v.show_readings = true;
    static klefr_meter m;
    m.meas = (klefr_measure){.valid = true, .v_rms = 230, .i_rms = 10, .p_w = 1840, .pf = 0.8f};
    m.tariff = 2;
    v.m = &m;
    ck_assert(klefr_canvas_init(&c, 1280, 720)); /* a projector's 16:9 */
    klefr_panel_draw(&c, &L, &v);
    check_ref(&c, "panel_present");
    /* the meter is larger than in the normal layout of the same window */
    klefr_canvas n;
    ck_assert(klefr_canvas_init(&n, 1280, 720));
    klefr_panel_view vn = v;
    vn.present = false;
    float lx0, lx1, px0, px1, py;
    ck_assert(klefr_panel_ctl_center(&n, &L, &vn, KLEFR_CTL_BTN_LEFT, &lx0, &py));
    ck_assert(klefr_panel_ctl_center(&n, &L, &vn, KLEFR_CTL_BTN_RIGHT, &lx1, &py));
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_BTN_LEFT, &px0, &py));
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_BTN_RIGHT, &px1, &py));
    ck_assert_float_gt(px1 - px0, (lx1 - lx0) * 1.05f);
    /* its controls: the meter buttons, Back/Next, the speed row; no load controls */
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_NEXT, &nx, &ny));
    ck_assert_int_eq(klefr_panel_hit(&c, &L, &v, nx, ny), KLEFR_CTL_NEXT);
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_SPEED_QUARTER, &x, &y));
    ck_assert_int_eq(klefr_panel_hit(&c, &L, &v, x, y), KLEFR_CTL_SPEED_QUARTER);
    ck_assert(klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_BTN_RIGHT, &x, &y));
    ck_assert_int_eq(klefr_panel_hit(&c, &L, &v, x, y), KLEFR_CTL_BTN_RIGHT);
    ck_assert(!klefr_panel_ctl_center(&c, &L, &v, KLEFR_CTL_I_UP, &x, &y));
    (void)normal_bx;
    klefr_canvas_free(&n);
    klefr_canvas_free(&c);
}
END_TEST

START_TEST(hint_text)
{
    char b[32];
    klefr_panel_hint_text(KLEFR_BTN_RIGHT, 3, b, sizeof b);
    ck_assert_str_eq(b, "hold R 3 s");
    klefr_panel_hint_text(KLEFR_BTN_LEFT, 0, b, sizeof b);
    ck_assert_str_eq(b, "press L");
    klefr_panel_hint_text(KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT, 3, b, sizeof b);
    ck_assert_str_eq(b, "hold L+R 3 s");
    klefr_panel_hint_text(0, 3, b, sizeof b);
    ck_assert_str_eq(b, "");
}
END_TEST

/* The frame kept between draws: after each change it holds exactly the
 * pixels of a full redraw, repaints only near what changed, and nothing at
 * all when nothing did. */
static void frame_step(klefr_frame *f, const klefr_panel_view *v, klefr_canvas *full,
                       double max_area)
{
    static int step;
    step++;
    klefr_frame_render(f, &L, v);
    klefr_panel_draw(full, &L, v);
    long diff = 0;
    for (long k = 0; k < (long)full->w * full->h; k++)
        diff += f->cv.px[k] != full->px[k];
    ck_assert_msg(diff == 0, "step %d: %ld pixels differ from a full redraw", step, diff);
    long area = 0;
    for (int k = 0; k < f->nrect; k++)
        area += (long)(f->rect[k].x1 - f->rect[k].x0) * (f->rect[k].y1 - f->rect[k].y0);
    if (f->whole)
        area = (long)full->w * full->h;
    ck_assert_msg(area <= max_area * full->w * full->h, "repainted %.1f %% of the frame",
                  100.0 * (double)area / ((double)full->w * full->h));
}

START_TEST(frame_repaints_only_what_changed)
{
    klefr_panel_view v = fixed_view();
    static klefr_meter m;
    m.meas = (klefr_measure){.valid = true, .v_rms = 230, .i_rms = 10, .freq_hz = 50,
                             .p_w = 1840, .q_var = 1380, .s_va = 2300, .pf = 0.8f, .quadrant = 1};
    m.tariff = 1;
    v.m = &m;
    klefr_frame f = {0};
    klefr_canvas full;
    ck_assert(klefr_frame_size(&f, 840, 576));
    ck_assert(klefr_canvas_init(&full, 840, 576));
    frame_step(&f, &v, &full, 1.0);
    ck_assert(f.whole);
    ck_assert(!klefr_frame_render(&f, &L, &v)); /* nothing changed: nothing to present */
    v.out_on[KLEFR_OUT_LED] = false;             /* the LED goes out */
    frame_step(&f, &v, &full, 0.01);
    v.hold_s[1] = 3.6; /* the hold ring fills */
    frame_step(&f, &v, &full, 0.03);
    v.held = 0; /* released */
    frame_step(&f, &v, &full, 0.03);
    m.meas.p_w = 1841.5f; /* one reading */
    frame_step(&f, &v, &full, 0.02);
    v.hover = KLEFR_CTL_I_UP;
    frame_step(&f, &v, &full, 0.02);
    v.lcd.digits[7] = 0x06; /* one LCD digit */
    frame_step(&f, &v, &full, 0.15);
    for (int k = 0; k < 1024; k++) /* new waves: the scope only */
        sv[k] = sv[k] / 2;
    frame_step(&f, &v, &full, 0.25);
    v.t_s += 1; /* the clock */
    frame_step(&f, &v, &full, 0.02);
    v.powered = false; /* a supply cut: the glass, lamps, readings, scope, phasors */
    frame_step(&f, &v, &full, 1.0);
    v.ov.show = true; /* the caption box: a new static layer */
    v.ov.title = "S0 output rate";
    frame_step(&f, &v, &full, 1.0);
    ck_assert(f.whole);
    v.ov.text = "Hold the right button for 3 seconds to enter the menu.";
    v.ov.hint_buttons = KLEFR_BTN_RIGHT;
    v.ov.hint_hold_s = 3;
    v.ov.nav = true;
    frame_step(&f, &v, &full, 0.25);
    v.present = true; /* presentation layout */
    v.show_readings = true;
    frame_step(&f, &v, &full, 1.0);
    v.ov.waiting = true;
    frame_step(&f, &v, &full, 0.05);
    klefr_frame_invalidate(&f);
    frame_step(&f, &v, &full, 1.0);
    ck_assert(f.whole);
    klefr_frame_free(&f);
    klefr_canvas_free(&full);
}
END_TEST

/* A tall narrow window shows only the meter, larger; its buttons still work
 * and the hidden side controls do not. */
START_TEST(tall_window_shows_only_the_meter)
{
    klefr_canvas wide = {.w = 1400, .h = 960}, tall = {.w = 450, .h = 960};
    klefr_panel_view v = {.model = KLEFR_MODEL_6924};
    float wx, wy, tx, ty;
    ck_assert(klefr_panel_ctl_center(&wide, &L, &v, KLEFR_CTL_BTN_RIGHT, &wx, &wy));
    ck_assert(klefr_panel_ctl_center(&tall, &L, &v, KLEFR_CTL_BTN_RIGHT, &tx, &ty));
    ck_assert_int_eq(klefr_panel_hit(&tall, &L, &v, tx, ty), KLEFR_CTL_BTN_RIGHT);
    ck_assert_int_eq(klefr_panel_hit(&wide, &L, &v, wx, wy), KLEFR_CTL_BTN_RIGHT);
    ck_assert(tx > wx); /* centred and zoomed */
    ck_assert(klefr_panel_ctl_center(&wide, &L, &v, KLEFR_CTL_SPEED_1, &wx, &wy));
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
    panel = harness_open(&sim, &synth, "offscreen", KLEFR_MODEL_6922, 700, 480);
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
    for (size_t k = 0; k < sim.world->nev; k++)
        if (sim.world->ev[k].kind == kind && (!best || sim.world->ev[k].seq > best->seq))
            best = &sim.world->ev[k];
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

/* A click quicker than the firmware's debounce (both events in one frame,
 * xdotool's click) is still a short press: the release goes 0.1 s of meter
 * time after the press. */
START_TEST(a_quick_click_is_a_short_press)
{
    open_panel();
    klefr_sim_run_until(&sim, 1000000);
    mouse(KLEFR_CTL_BTN_RIGHT, true);
    mouse(KLEFR_CTL_BTN_RIGHT, false);
    const klefr_sim_event *e = queued(KLEFR_EV_BUTTONS);
    ck_assert_uint_eq(e->byte, 0);
    ck_assert_uint_eq(e->t_us, 1100000);
    mouse(KLEFR_CTL_BTN_RIGHT, true); /* a second click: up 0.1 s, then down 0.1 s */
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->t_us, 1200000);
    mouse(KLEFR_CTL_BTN_RIGHT, false);
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->t_us, 1300000);
    klefr_sim_run_until(&sim, 1600000);
    char text[160];
    klefr_lcd_text_line(&sim.out.lcd, text, sizeof text);
    /* the first leaves automatic scroll, the second goes on a page */
    ck_assert_str_eq(text, "FW >> kvarh | 0.00 | TOTAL");
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

/* ---- scripted presses, the three faults, the trainer's overlay ----------- */

/* Pixels of the window within 40 of colour rgb, in the box of side 2r
 * round control ctl (or the whole window for KLEFR_CTL_NONE). */
static long pixels_like(int ctl, int r, uint32_t rgb)
{
    int w, h, cx = 0, cy = 0;
    klefr_panel_draw_now(panel);
    const uint32_t *px = klefr_panel_pixels(panel, &w, &h);
    ck_assert_ptr_nonnull(px);
    if (ctl != KLEFR_CTL_NONE)
        ck_assert(klefr_panel_control_pos(panel, ctl, &cx, &cy));
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (ctl != KLEFR_CTL_NONE && (abs(x - cx) > r || abs(y - cy) > r))
                continue;
            uint32_t p = px[(size_t)y * (size_t)w + (size_t)x];
            int d = abs((int)(p >> 16 & 0xff) - (int)(rgb >> 16 & 0xff)) +
                    abs((int)(p >> 8 & 0xff) - (int)(rgb >> 8 & 0xff)) +
                    abs((int)(p & 0xff) - (int)(rgb & 0xff));
            n += d < 40;
        }
    return n;
}

static void post_buttons(uint8_t held, double t_s)
{
    klefr_sim_event e = {.t_us = (uint64_t)(t_s * 1e6), .kind = KLEFR_EV_BUTTONS, .byte = held};
    ck_assert(klefr_sim_post(&sim, &e));
}

#define AMBER 0xe59a1c  /* the hold ring past 3 s */
#define HINT 0xff8a00   /* the ring round a hinted button */
#define ALARM 0xe0604a  /* "SUPPLY CUT" */

/* A press the simulation delivers (--press, a scenario) moves the key cap
 * and fills the hold ring like a mouse press, without being the window's
 * own input. */
START_TEST(scripted_press_animates_button_and_ring)
{
    open_panel();
    ck_assert_int_eq(pixels_like(KLEFR_CTL_BTN_RIGHT, 40, AMBER), 0);
    post_buttons(KLEFR_BTN_RIGHT, 1.0);
    post_buttons(0, 5.0);
    klefr_sim_run_until(&sim, 4500000);
    double hold[2];
    ck_assert_uint_eq(klefr_panel_buttons_shown(panel, hold), KLEFR_BTN_RIGHT);
    ck_assert_double_eq_tol(hold[1], 3.5, 0.011);
    ck_assert_uint_eq(klefr_panel_held(panel), 0); /* not the mouse */
    ck_assert_int_gt(pixels_like(KLEFR_CTL_BTN_RIGHT, 40, AMBER), 30);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_BTN_LEFT, 40, AMBER), 0);
    klefr_sim_run_until(&sim, 5200000);
    ck_assert_uint_eq(klefr_panel_buttons_shown(panel, hold), 0);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_BTN_RIGHT, 40, AMBER), 0);
    close_panel();
}
END_TEST

static void press_key(SDL_Keycode k)
{
    key(k, true);
    key(k, false);
}

/* 6922: the supply comes back with the tariff input still on: T2, as
 * headless profiles do (the firmware reads the input as it boots). */
START_TEST(restore_with_tariff_input_on_is_t2)
{
    open_panel(); /* a 6922 */
    press_key(SDLK_t);
    klefr_sim_run_until(&sim, 500000);
    ck_assert_uint_eq(sim.meter.tariff, 2);
    press_key(SDLK_p); /* cut */
    klefr_sim_run_until(&sim, 1000000);
    ck_assert(!sim.powered);
    press_key(SDLK_p); /* restore */
    klefr_sim_run_until(&sim, 1100000);
    ck_assert(sim.powered);
    ck_assert_uint_eq(sim.meter.tariff, 2);
    klefr_sim_run_until(&sim, 1300000);
    ck_assert(sim.out.lcd.icons & KLEFR_ICON_T2);
    press_key(SDLK_t); /* input off, then a cut and a restore: T1 */
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 1500000);
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 1800000);
    ck_assert_uint_eq(sim.meter.tariff, 1);
    ck_assert(!(sim.out.lcd.icons & KLEFR_ICON_T2));
    close_panel();
}
END_TEST

/* During a supply cut the scope draws flat lines and says so, the phasor
 * diagram has no arrows: no waves of a supply that is not there. */
START_TEST(scope_and_phasors_show_a_supply_cut)
{
    open_panel();
    klefr_sim_run_until(&sim, 1000000);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_NONE, 0, ALARM), 0);
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 1200000);
    for (unsigned k = 0; k < 160; k++)
        ck_assert_int_eq(sim.scope_v[(sim.scope_n - 1 - k) % KLEFR_SIM_SCOPE_N], 0);
    ck_assert_int_gt(pixels_like(KLEFR_CTL_NONE, 0, ALARM), 40);
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 1500000);
    ck_assert_int_ne(sim.scope_v[(sim.scope_n - 10) % KLEFR_SIM_SCOPE_N], 0);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_NONE, 0, ALARM), 0);
    close_panel();
}
END_TEST

#define OVERLOAD 0xff5a4e /* "ADC OVERLOAD" on the readings card */

/* A load beyond the ADC's full scale (a 300 A sine: 424 A peak against
 * 400 A) shows ADC OVERLOAD while it clips and for a second after. */
START_TEST(adc_overload_shown_while_clipping)
{
    open_panel();
    klefr_sim_run_until(&sim, 1000000);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_NONE, 0, OVERLOAD), 0);
    klefr_load l = synth.load;
    l.i_rms = 300;
    klefr_synth_set_load(&synth, &l);
    klefr_sim_run_until(&sim, 1500000);
    ck_assert_uint_gt(synth.afe.clipped, 0);
    ck_assert_int_gt(pixels_like(KLEFR_CTL_NONE, 0, OVERLOAD), 40);
    l.i_rms = 100; /* 141 A peak: inside the range again */
    klefr_synth_set_load(&synth, &l);
    klefr_sim_run_until(&sim, 2000000);
    ck_assert_int_gt(pixels_like(KLEFR_CTL_NONE, 0, OVERLOAD), 40);
    klefr_sim_run_until(&sim, 3000000);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_NONE, 0, OVERLOAD), 0);
    close_panel();
}
END_TEST

static int navs[3];

static void on_nav(void *arg, klefr_panel_nav nav)
{
    (void)arg;
    navs[nav]++;
}

/* Caption, trail, hint, Back/Next and step mode, as a tour player will use
 * them; F11 and M switch the layouts. */
START_TEST(trainer_overlay_nav_and_step_mode)
{
    open_panel();
    memset(navs, 0, sizeof navs);
    int x, y;
    ck_assert(!klefr_panel_control_pos(panel, KLEFR_CTL_NEXT, &x, &y)); /* no tour: no Next */
    klefr_panel_set_caption(panel, "S0 output rate", "Hold the right button for 3 seconds.");
    klefr_panel_set_hint(panel, KLEFR_BTN_RIGHT, 3, NULL);
    klefr_panel_show_overlay(panel, true);
    klefr_panel_set_nav(panel, on_nav, NULL);
    ck_assert_int_gt(pixels_like(KLEFR_CTL_BTN_RIGHT, 40, HINT), 30); /* the hinted button */
    ck_assert_int_eq(pixels_like(KLEFR_CTL_BTN_LEFT, 40, HINT), 0);
    char t[160];
    klefr_panel_trail(panel, t, sizeof t);
    ck_assert_str_eq(t, "Automatic scroll > Total active energy");
    mouse(KLEFR_CTL_NEXT, true);
    mouse(KLEFR_CTL_NEXT, false);
    ck_assert_int_eq(navs[KLEFR_PANEL_NEXT], 1);
    size_t before = sim.world->nev;
    key(SDLK_SPACE, true); /* Space = Next while a tour plays, not both buttons */
    key(SDLK_SPACE, false);
    ck_assert_int_eq(navs[KLEFR_PANEL_NEXT], 2);
    ck_assert_uint_eq(sim.world->nev, before);
    press_key(SDLK_PAGEUP);
    ck_assert_int_eq(navs[KLEFR_PANEL_BACK], 1);
    /* step mode: time stops until Next; a speed chosen meanwhile is the one Next resumes at */
    klefr_panel_set_speed(panel, 10);
    klefr_panel_wait_next(panel);
    ck_assert(klefr_panel_waiting(panel));
    ck_assert(klefr_panel_speed(panel) == 0);
    press_key(SDLK_9); /* 0.5x */
    ck_assert(klefr_panel_speed(panel) == 0);
    press_key(SDLK_SPACE);
    ck_assert(!klefr_panel_waiting(panel));
    ck_assert(klefr_panel_speed(panel) == 0.5);
    ck_assert_int_eq(navs[KLEFR_PANEL_NEXT], 3);
    press_key(SDLK_8);
    ck_assert(klefr_panel_speed(panel) == 0.25);
    /* presentation layout: the meter larger, no load controls, Next still there */
    int bx0, by, bx1;
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_BTN_LEFT, &bx0, &by));
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_BTN_RIGHT, &bx1, &by));
    press_key(SDLK_F11);
    int px0, px1;
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_BTN_LEFT, &px0, &by));
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_BTN_RIGHT, &px1, &by));
    ck_assert_int_gt(px1 - px0, (bx1 - bx0) * 5 / 4);
    ck_assert(!klefr_panel_control_pos(panel, KLEFR_CTL_I_UP, &x, &y));
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_NEXT, &x, &y));
    ck_assert_int_gt(pixels_like(KLEFR_CTL_BTN_RIGHT, 60, HINT), 30);
    press_key(SDLK_F11);
    ck_assert(klefr_panel_control_pos(panel, KLEFR_CTL_I_UP, &x, &y));
    press_key(SDLK_m); /* the caption box off: Next goes with it */
    ck_assert(!klefr_panel_control_pos(panel, KLEFR_CTL_NEXT, &x, &y));
    /* no tour: Space is both buttons again, the hint ring goes */
    klefr_panel_set_nav(panel, NULL, NULL);
    klefr_panel_set_hint(panel, 0, 0, NULL);
    ck_assert_int_eq(pixels_like(KLEFR_CTL_BTN_RIGHT, 40, HINT), 0);
    key(SDLK_SPACE, true);
    ck_assert_uint_eq(queued(KLEFR_EV_BUTTONS)->byte, KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    key(SDLK_SPACE, false);
    close_panel();
}
END_TEST

static const cJSON *nth(const cJSON *arr, int k)
{
    const cJSON *o = cJSON_GetArrayItem(arr, k);
    ck_assert_ptr_nonnull(o);
    return o;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(j), "no number %s", key);
    return j->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(j), "no string %s", key);
    return j->valuestring;
}

/* --record: the window's presses (mouse and keys), a load step, the tariff
 * input and a supply cut land in a scenario with their meter times, and
 * each release is followed by a check of the LCD 0.25 s later. */
START_TEST(recorder_writes_the_session_as_a_scenario)
{
    open_panel();
    char path[] = "test-panel-rec-XXXXXX";
    klefr_recorder *rec = harness_record(&sim, &synth, panel, path);
    klefr_sim_run_until(&sim, 1000000);
    mouse(KLEFR_CTL_BTN_RIGHT, true);
    klefr_sim_run_until(&sim, 1300000);
    mouse(KLEFR_CTL_BTN_RIGHT, false);
    klefr_sim_run_until(&sim, 2000000);
    mouse(KLEFR_CTL_I_UP, true); /* 5 A -> 10 A */
    mouse(KLEFR_CTL_I_UP, false);
    klefr_sim_run_until(&sim, 3000000);
    key(SDLK_LEFT, true);
    klefr_sim_run_until(&sim, 6200000); /* a 3.2 s hold */
    key(SDLK_LEFT, false);
    klefr_sim_run_until(&sim, 7000000);
    press_key(SDLK_t);
    klefr_sim_run_until(&sim, 8000000);
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 9000000);
    press_key(SDLK_p);
    klefr_sim_run_until(&sim, 10000000);
    cJSON *root = harness_recorded(rec, path);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "meter");
    ck_assert_int_eq((int)num(m, "model"), 6922);
    ck_assert_str_eq(str(m, "load"), "v=230,i=5,phi=0,f=50,import");
    ck_assert_double_eq_tol(num(root, "duration"), 10, 1e-9);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "events");
    ck_assert_int_eq(cJSON_GetArraySize(ev), 5);
    ck_assert_str_eq(str(nth(ev, 0), "do"), "press");
    ck_assert_str_eq(str(nth(ev, 0), "button"), "right");
    ck_assert_double_eq_tol(num(nth(ev, 0), "at"), 1.0, 1e-9);
    ck_assert_double_eq_tol(num(nth(ev, 0), "hold"), 0.3, 1e-9);
    ck_assert_str_eq(str(nth(ev, 1), "button"), "left");
    ck_assert_double_eq_tol(num(nth(ev, 1), "at"), 3.0, 1e-9);
    ck_assert_double_eq_tol(num(nth(ev, 1), "hold"), 3.2, 1e-9);
    ck_assert_str_eq(str(nth(ev, 2), "do"), "tariff_input");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(nth(ev, 2), "on")));
    ck_assert_double_eq_tol(num(nth(ev, 2), "at"), 7.0, 1e-9);
    ck_assert_str_eq(str(nth(ev, 3), "do"), "power_cut");
    ck_assert_double_eq_tol(num(nth(ev, 3), "at"), 8.0, 1e-9);
    ck_assert_str_eq(str(nth(ev, 4), "do"), "power_restore");
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(root, "timeline");
    ck_assert_int_eq(cJSON_GetArraySize(tl), 2);
    ck_assert_double_eq_tol(num(nth(tl, 0), "duration"), 2.0, 1e-9);
    ck_assert_str_eq(str(nth(tl, 1), "load"), "v=230,i=10,phi=0,f=50,import");
    ck_assert_double_eq_tol(num(nth(tl, 1), "duration"), 8.0, 1e-9);
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(root, "expect");
    ck_assert_int_eq(cJSON_GetArraySize(ex), 2);
    ck_assert_double_eq_tol(num(nth(ex, 0), "at"), 1.55, 1e-9);
    ck_assert_str_eq(str(nth(ex, 0), "lcd"), "text");
    ck_assert_str_eq(str(nth(ex, 0), "eq"), "FW >> kWh | 0.00 | TOTAL");
    ck_assert_double_eq_tol(num(nth(ex, 1), "at"), 6.45, 1e-9);
    cJSON_Delete(root);
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
    tcase_add_test(tc, frame_repaints_only_what_changed);
    tcase_add_test(tc, caption_and_presentation_reference_images);
    tcase_add_test(tc, hint_text);
    tcase_add_test(tc, tall_window_shows_only_the_meter);
    tcase_add_test(tc, png_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("input");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, mouse_hold_right_button_5s);
    tcase_add_test(tc, a_quick_click_is_a_short_press);
    tcase_add_test(tc, space_or_right_click_is_both_buttons);
    tcase_add_test(tc, controls_change_load_supply_tariff_speed);
    tcase_add_test(tc, window_close_ends_the_run);
    suite_add_tcase(s, tc);
    tc = tcase_create("trainer");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scripted_press_animates_button_and_ring);
    tcase_add_test(tc, restore_with_tariff_input_on_is_t2);
    tcase_add_test(tc, scope_and_phasors_show_a_supply_cut);
    tcase_add_test(tc, adc_overload_shown_while_clipping);
    tcase_add_test(tc, trainer_overlay_nav_and_step_mode);
    tcase_add_test(tc, recorder_writes_the_session_as_a_scenario);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
