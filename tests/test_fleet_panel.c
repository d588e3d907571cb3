/* The window of an installation (SDL offscreen): one meter's panel with the
 * meter list and a line's bus monitor beside it; a click on a row shows that
 * meter (its buttons then reach it, not the one before), Tab walks the list,
 * and a new frame on the bus repaints only the monitor (docs/panel.md). */
#include <SDL.h>
#include <check.h>
#include <string.h>

#include "busmon.h"
#include "check_run.h"
#include "fleet.h"
#include "panel.h"
#include "panel_draw.h"
#include "panel_frame.h"

static klefr_fleet_spec *SPEC;
static klefr_fleet *F;
static klefr_busmon *MON;
static klefr_panel *P;
static int SHOWN;

static void fill(void *arg, klefr_panel_fleet *out, uint64_t t_us)
{
    (void)arg;
    memset(out, 0, sizeof *out);
    snprintf(out->title, sizeof out->title, "test: %zu meters", F->nmeters);
    out->nmeters = (int)F->nmeters;
    out->shown = SHOWN;
    for (size_t k = 0; k < F->nmeters && k < KLEFR_PANEL_FLEET_ROWS; k++, out->nrows++)
        snprintf(out->rows[k], sizeof out->rows[k], "%s", F->meters[k].spec->id);
    const klefr_busmon_frame *fr;
    size_t n = klefr_busmon_frames(MON, 0, t_us, &fr, NULL);
    snprintf(out->mon_title, sizeof out->mon_title, "Bus monitor: %zu frames", n);
    for (size_t k = 0; k < n && k < KLEFR_PANEL_MON_ROWS; k++, out->nmon++)
        klefr_busmon_format(&fr[k], 5, out->mon[k], sizeof out->mon[0]);
}

static void pick(void *arg, int k)
{
    (void)arg;
    SHOWN = k;
    klefr_panel_show(P, F->meters[k].sim, &F->meters[k].synth);
}

static void open_all(void)
{
    char err[256];
    ck_assert_int_eq(klefr_fleet_parse(&SPEC, "t.json",
                                       "{\"lines\": [{\"bus\": \"mbus\"}], \"site\": {\"load\": "
                                       "\"230V,5A\"}, \"meters\": [{\"id\": \"flat\", \"count\": 6, "
                                       "\"model\": 6923, \"serial\": \"21050101\"}]}",
                                       err, sizeof err),
                     0);
    F = klefr_fleet_open(SPEC, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(F);
    MON = klefr_busmon_new(F);
    klefr_panel_opts o = {.synth = &F->meters[0].synth, .speed = 1, .width = 1200, .height = 600};
    P = klefr_panel_open(F->meters[0].sim, &o, err, sizeof err);
    ck_assert_msg(P != NULL, "%s", err);
    klefr_panel_fleet_src src = {fill, pick, NULL, NULL};
    klefr_panel_set_fleet(P, &src);
    SHOWN = 0;
    klefr_panel_frame(P, 0);
    klefr_panel_draw_now(P);
}

static void close_all(void)
{
    klefr_panel_close(P);
    klefr_busmon_free(MON);
    klefr_fleet_close(F);
    klefr_fleet_spec_free(SPEC);
}

static void click(int ctl)
{
    int x, y;
    ck_assert(klefr_panel_control_pos(P, ctl, &x, &y));
    for (int down = 1; down >= 0; down--) {
        SDL_Event e = {0};
        e.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
        e.button.button = SDL_BUTTON_LEFT;
        e.button.state = down ? SDL_PRESSED : SDL_RELEASED;
        e.button.x = x;
        e.button.y = y;
        SDL_PushEvent(&e);
        ck_assert(klefr_panel_frame(P, 0));
    }
}

START_TEST(a_row_shows_its_meter_and_buttons_go_to_it)
{
    open_all();
    klefr_world_run_until(&F->world, 1000000);
    click(KLEFR_CTL_FLEET_ROW0 + 3);
    ck_assert_int_eq(SHOWN, 3);
    /* the meter's own button, now flat-04's */
    int x, y;
    ck_assert(klefr_panel_control_pos(P, KLEFR_CTL_BTN_RIGHT, &x, &y));
    SDL_Event e = {0};
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
    ck_assert(klefr_panel_frame(P, 0));
    klefr_world_run_until(&F->world, 2000000);
    ck_assert_uint_eq(F->meters[3].sim->buttons, KLEFR_BTN_RIGHT);
    ck_assert_uint_eq(F->meters[0].sim->buttons, 0);
    /* Tab: the next meter */
    e = (SDL_Event){0};
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = SDLK_TAB;
    SDL_PushEvent(&e);
    ck_assert(klefr_panel_frame(P, 0));
    ck_assert_int_eq(SHOWN, 4);
    klefr_world_run_until(&F->world, 3000000);
    ck_assert_uint_eq(F->meters[3].sim->buttons, 0); /* released when the window left it */
    close_all();
}
END_TEST

START_TEST(a_frame_on_the_bus_repaints_only_the_monitor)
{
    open_all();
    klefr_world_run_until(&F->world, 1000000);
    klefr_panel_set_speed(P, 0); /* nothing moves but the bus */
    klefr_panel_draw_now(P);
    int w, h;
    ck_assert_ptr_nonnull(klefr_panel_pixels(P, &w, &h));
    static uint32_t before[4000 * 2000];
    memcpy(before, klefr_panel_pixels(P, &w, &h), (size_t)w * (size_t)h * 4);
    /* a master's SND_NKE to 253 on the line: one frame */
    klefr_uart_cfg fmt = {9600, 8, KLEFR_PARITY_EVEN, 1};
    klefr_line_ep *m = klefr_line_attach(F->lines[0].line, "master", KLEFR_LINE_MASTER, &fmt,
                                         NULL, NULL);
    uint8_t f[5] = {0x10, 0x40, 0xFD, 0x3D, 0x16};
    klefr_line_send(m, f, sizeof f, F->world.t_us);
    /* inside the slice: the meters' ADC blocks (scope, readings) do not move */
    klefr_world_run_events(&F->world, F->world.t_us + 9000);
    klefr_panel_draw_now(P);
    const uint32_t *after = klefr_panel_pixels(P, &w, &h);
    int x0 = w, x1 = 0, y0 = h, y1 = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (after[(size_t)y * (size_t)w + (size_t)x] != before[(size_t)y * (size_t)w + (size_t)x]) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
    ck_assert_int_lt(x0, x1); /* something changed ... */
    /* ... only in the column's lower half (the monitor), not the panel */
    int mx, my;
    ck_assert(klefr_panel_control_pos(P, KLEFR_CTL_FLEET_LINE, &mx, &my));
    ck_assert_int_gt(x0, w * 60 / 100);
    ck_assert_int_ge(y0, my - 30);
    klefr_line_detach(m);
    close_all();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fleet-panel");
    TCase *tc = tcase_create("window");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_row_shows_its_meter_and_buttons_go_to_it);
    tcase_add_test(tc, a_frame_on_the_bus_repaints_only_the_monitor);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
