/* The meter's front panel on screen (SDL2) for trainers and developers: the
 * DIN-rail housing with the LCD drawn segment by segment, the pulse LED, S0
 * lamps and the two buttons, plus live readings, scope, phasors, power trend
 * and controls for the load, supply and speed; a trainer's overlay (caption,
 * menu trail, hint on the next button, Back/Next) and a presentation layout.
 *
 * Plain C: no SDL types here (the SDL "bottom" is panel.c only). The panel
 * never calls the firmware: input becomes klefr_sim events posted at the
 * meter's current time, delivered by the simulation loop. The buttons drawn
 * are the levels the meter sees: a press from --press or a scenario moves
 * the button and fills its hold ring like a mouse press.
 *
 * Mouse: press and hold a meter button; a right click on either holds both.
 * Keys: Left/Right = left/right button, Space or Down = both buttons (Space
 * = Next while a trainer's Back/Next is set), +/- current, [ ] power factor,
 * E import/export, V voltage, , . frequency, T tariff input (6922), P supply
 * cut/restore, 0 pause, 8 0.25x, 9 0.5x, 1 1x, 2 10x, 3 100x, 4 max, F11
 * presentation layout, I readings in it, M caption box, PgDn/PgUp Next/Back,
 * F12 screenshot (klefr-panel-<n>.png). */
#ifndef KLEFR_PANEL_H
#define KLEFR_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afe_synth.h"

struct klefr_sim;
typedef struct klefr_panel klefr_panel;

#define KLEFR_PANEL_SPEED_MAX (-1.0)

typedef struct {
    const char *assets_dir;   /* NULL: $KLEFR_ASSETS, else the source tree's assets/ */
    const char *const *ports; /* virtual serial port paths to show */
    int nports;
    struct klefr_synth *synth; /* the load the controls change; NULL = no load controls */
    double speed;              /* initial: 0 paused, >0 ratio, KLEFR_PANEL_SPEED_MAX */
    int width, height;         /* window size in screen points; 0 = default */
    bool headless;             /* no window and no SDL: screenshots only */
    bool present;              /* start in the presentation layout */
} klefr_panel_opts;

/* Open the window (or just load the assets when headless). NULL + err on failure
 * (no display, bad assets). */
klefr_panel *klefr_panel_open(struct klefr_sim *sim, const klefr_panel_opts *o, char *err,
                              int errlen);

/* Call once per main-loop iteration: handles input (posting events at the
 * meter's current time), samples the trend, and draws when a frame is due
 * (60 a second while the meter runs, else only when something changed),
 * repainting only what changed. Waits up to wait_ms for input when there is
 * nothing to draw. Returns false once the user closed the window. */
bool klefr_panel_frame(klefr_panel *p, int wait_ms);

/* Once per iteration of a loop (clock.h) the window runs: klefr_panel_frame()
 * (it may sleep in SDL while paused), then the loop's speed, pause and next
 * wake-up follow the window's controls. Returns false once the user closed
 * the window. */
struct klefr_loop;
bool klefr_panel_drive(klefr_panel *p, struct klefr_loop *loop);

/* Draw what changed now, whatever the 60 Hz cadence (tests; a tour step's
 * first frame). */
void klefr_panel_draw_now(klefr_panel *p);

/* When the panel wants its next klefr_panel_frame() call (klefr_wall_ns()
 * time base), or 0 when only input can change the picture. */
uint64_t klefr_panel_due_ns(const klefr_panel *p);

/* The speed the user chose (0 paused, >0 ratio, KLEFR_PANEL_SPEED_MAX). */
double klefr_panel_speed(const klefr_panel *p);
void klefr_panel_set_speed(klefr_panel *p, double speed);

/* Save the panel as PNG: w, h = 0 for the window's drawable size (or
 * 1400x960 when headless). 0 or -1. */
int klefr_panel_screenshot(klefr_panel *p, const char *path, int w, int h);

void klefr_panel_close(klefr_panel *p);

/* For tests and scripted demos: where a control is, in window coordinates
 * (screen points). ctl is a klefr_ctl (panel_draw.h). */
bool klefr_panel_control_pos(klefr_panel *p, int ctl, int *x, int *y);

/* Buttons the window's own input holds down now (KLEFR_BTN_* mask). */
uint8_t klefr_panel_held(const klefr_panel *p);

/* Buttons drawn held, and for how long (meter seconds; may be NULL): the
 * window's input and the levels the meter was last told, also by --press
 * or a scenario. */
uint8_t klefr_panel_buttons_shown(klefr_panel *p, double hold_s[2]);

/* What the window shows now (0xAARRGGBB, w*h; NULL before the first frame). */
const uint32_t *klefr_panel_pixels(const klefr_panel *p, int *w, int *h);

/* ---- the trainer's overlay (a tour player drives it) -------------------- */

/* Caption: a title and a paragraph ('\n' breaks a line); NULL or "" clears
 * either. The strings are copied. */
void klefr_panel_set_caption(klefr_panel *p, const char *title, const char *text);

/* The hint on the next button: KLEFR_BTN_* (0 clears it), how long to hold
 * it (0 = a short press), and its text (NULL: "press R", "hold R 3 s",
 * "hold L+R 3 s"). The buttons named get an orange ring on the meter. */
void klefr_panel_set_hint(klefr_panel *p, uint8_t buttons, double hold_s, const char *text);

/* Show or hide the caption box over the scope in the normal layout (key M);
 * the presentation layout always shows the caption column. */
void klefr_panel_show_overlay(klefr_panel *p, bool on);

/* Presentation layout (key F11): the meter as large as the window allows,
 * the caption, menu trail, hint and Back/Next beside it; readings (key I)
 * optional. */
void klefr_panel_set_present(klefr_panel *p, bool on);
void klefr_panel_show_readings(klefr_panel *p, bool on);

typedef enum { KLEFR_PANEL_NEXT = 1, KLEFR_PANEL_BACK = 2 } klefr_panel_nav;
typedef void (*klefr_panel_nav_fn)(void *arg, klefr_panel_nav nav);

/* Back/Next: the controls appear, Space and PgDn mean Next, PgUp and
 * Backspace mean Back, and fn is called (from klefr_panel_frame) for each.
 * fn NULL removes them. */
void klefr_panel_set_nav(klefr_panel *p, klefr_panel_nav_fn fn, void *arg);

/* Step mode: stop meter time now and wait for Next; Next then restores the
 * speed in force before (or the one chosen meanwhile) and calls fn(NEXT). */
void klefr_panel_wait_next(klefr_panel *p);
bool klefr_panel_waiting(const klefr_panel *p);

/* The menu trail the overlay shows ("Program mode 3 > S0 output >
 * editing"), from the firmware's menu state. */
size_t klefr_panel_trail(const klefr_panel *p, char *out, size_t size);

/* ---- an installation (klefr-sim --fleet) -------------------------------- */

struct klefr_panel_fleet;
/* Where the window gets an installation's column from: fill is called for
 * each frame (the meter list and the bus monitor, sim/panel_draw.h); pick
 * when the user chose meter k (a click on its row, Tab / Shift+Tab): the
 * provider calls klefr_panel_show() for it; next_line for the next line's
 * monitor (a click on its title, B). */
typedef struct {
    void (*fill)(void *arg, struct klefr_panel_fleet *out, uint64_t t_us);
    void (*pick)(void *arg, int k);
    void (*next_line)(void *arg);
    void *arg;
} klefr_panel_fleet_src;

/* The window becomes wider: the column on the right. NULL removes it. */
void klefr_panel_set_fleet(klefr_panel *p, const klefr_panel_fleet_src *src);

/* Show another meter: its front, readings and load controls (synth NULL:
 * none). The scope starts afresh (the window lends its ring to the meter
 * shown), the power trend too. */
void klefr_panel_show(klefr_panel *p, struct klefr_sim *sim, struct klefr_synth *synth);

/* ---- what the user does, for a recorder (--record) ---------------------- */

typedef enum {
    KLEFR_PANEL_IN_BUTTONS, /* buttons: the held mask now */
    KLEFR_PANEL_IN_LOAD,    /* load: what the controls set */
    KLEFR_PANEL_IN_TARIFF,  /* on: tariff input T2 */
    KLEFR_PANEL_IN_POWER,   /* on: supply restored */
    KLEFR_PANEL_IN_SPEED    /* speed: 0 paused, > 0 ratio, KLEFR_PANEL_SPEED_MAX */
} klefr_panel_input_kind;

typedef struct {
    klefr_panel_input_kind kind;
    uint64_t t_us; /* meter time the event is posted for */
    uint8_t buttons;
    bool on;
    klefr_load load;
    double speed;
} klefr_panel_input;

/* fn is called for every input the window turns into an event (and speed
 * changes), in order. NULL stops it. */
void klefr_panel_on_input(klefr_panel *p, void (*fn)(void *arg, const klefr_panel_input *in),
                          void *arg);

#endif
