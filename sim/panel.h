/* The meter's front panel on screen (SDL2) for trainers and developers: the
 * DIN-rail housing with the LCD drawn segment by segment, the pulse LED, S0
 * lamps and the two buttons, plus live readings, scope, phasors, power trend
 * and controls for the load, supply and speed.
 *
 * Plain C: no SDL types here (the SDL "bottom" is panel.c only). The panel
 * never calls the firmware: input becomes klefr_sim events posted at the
 * meter's current time, delivered by the simulation loop.
 *
 * Mouse: press and hold a meter button; a right click on either holds both.
 * Keys: Left/Right = left/right button, Space or Down = both buttons,
 * +/- current, [ ] power factor, E import/export, V voltage, , . frequency,
 * T tariff input (6922), P supply cut/restore, 0 pause, 1 1x, 2 10x,
 * 3 100x, 4 max, F12 screenshot (klefr-panel-<n>.png). */
#ifndef KLEFR_PANEL_H
#define KLEFR_PANEL_H

#include <stdbool.h>
#include <stdint.h>

struct klefr_sim;
struct klefr_synth;
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
} klefr_panel_opts;

/* Open the window (or just load the assets when headless). NULL + err on failure
 * (no display, bad assets). */
klefr_panel *klefr_panel_open(struct klefr_sim *sim, const klefr_panel_opts *o, char *err,
                              int errlen);

/* Call once per main-loop iteration: handles input (posting events at the
 * meter's current time), samples the trend, draws at most 60 times a second
 * (only when something changes while paused). Waits up to wait_ms for input
 * before returning. Returns false once the user closed the window. */
bool klefr_panel_frame(klefr_panel *p, int wait_ms);

/* The speed the user chose (0 paused, >0 ratio, KLEFR_PANEL_SPEED_MAX), and
 * the speed the loop achieved (shown in the panel). */
double klefr_panel_speed(const klefr_panel *p);
void klefr_panel_set_speed(klefr_panel *p, double speed);

/* Save the panel as PNG: w, h = 0 for the window's drawable size (or
 * 1400x960 when headless). 0 or -1. */
int klefr_panel_screenshot(klefr_panel *p, const char *path, int w, int h);

void klefr_panel_close(klefr_panel *p);

/* For tests and scripted demos: where a control is, in window coordinates
 * (screen points). ctl is a klefr_ctl (panel_draw.h). */
bool klefr_panel_control_pos(klefr_panel *p, int ctl, int *x, int *y);

/* Buttons the panel holds down now (KLEFR_BTN_* mask). */
uint8_t klefr_panel_held(const klefr_panel *p);

#endif
