/* The front panel's look: layout and LCD geometry loaded from assets/, and
 * drawing of one frame into a klefr_canvas from a plain snapshot of the
 * simulated meter (klefr_panel_view). No SDL here: sim/panel.c presents the
 * pixels and turns input into simulation events. */
#ifndef KLEFR_PANEL_DRAW_H
#define KLEFR_PANEL_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "afe_synth.h"
#include "klefr/meter.h"
#include "panel_canvas.h"

/* Things on the panel a pointer can press. */
typedef enum {
    KLEFR_CTL_NONE = 0,
    KLEFR_CTL_BTN_LEFT,
    KLEFR_CTL_BTN_RIGHT,
    KLEFR_CTL_I_DOWN,
    KLEFR_CTL_I_UP,
    KLEFR_CTL_PF_DOWN,
    KLEFR_CTL_PF_UP,
    KLEFR_CTL_V_DOWN,
    KLEFR_CTL_V_UP,
    KLEFR_CTL_F_DOWN,
    KLEFR_CTL_F_UP,
    KLEFR_CTL_DIR,
    KLEFR_CTL_TARIFF,
    KLEFR_CTL_POWER,
    KLEFR_CTL_SPEED_PAUSE,
    KLEFR_CTL_SPEED_QUARTER, /* 0.25x slow motion */
    KLEFR_CTL_SPEED_HALF,    /* 0.5x */
    KLEFR_CTL_SPEED_1,
    KLEFR_CTL_SPEED_10,
    KLEFR_CTL_SPEED_100,
    KLEFR_CTL_SPEED_MAX,
    KLEFR_CTL_SHOT,
    KLEFR_CTL_BACK, /* trainer overlay: the step before / after */
    KLEFR_CTL_NEXT,
    KLEFR_CTL_FLEET_LINE, /* an installation: the bus monitor's title (the next line) */
    KLEFR_CTL_FLEET_ROW0, /* a meter in the list: FLEET_ROW0 + its row on screen */
    KLEFR_CTL_FLEET_ROW_END = KLEFR_CTL_FLEET_ROW0 + 24,
    KLEFR_CTL_COUNT
} klefr_ctl;

/* Rows of an installation's meter list and bus monitor on screen. */
#define KLEFR_PANEL_FLEET_ROWS (KLEFR_CTL_FLEET_ROW_END - KLEFR_CTL_FLEET_ROW0)
#define KLEFR_PANEL_MON_ROWS 22

/* The speed a speed control sets (0 pause, KLEFR_SPEED_MAX), or -2 for
 * another control. */
double klefr_ctl_speed(klefr_ctl c);

const char *klefr_ctl_to_str(klefr_ctl c);

typedef struct {
    int n;
    float *xy;
} klefr_poly;

typedef struct {
    float w, h;
    klefr_poly seg[15]; /* in bit order of KLEFR_SEG_* / KLEFR_SEG14_* */
} klefr_segset;

#define KLEFR_PANEL_MAX_ICONS 24
#define KLEFR_PANEL_ICON_POLYS 8

typedef struct {
    uint32_t bit;
    char text[8];
    float x, y, size;
    klefr_poly polys[KLEFR_PANEL_ICON_POLYS];
    int npolys;
} klefr_lcd_icon;

/* Everything loaded from assets/lcd.json and assets/panel.json. */
typedef struct {
    float glass_w, glass_h, glass_r;
    klefr_segset digit, chr;
    float digits_x, digits_y, digits_pitch;
    float chars_x, chars_y, chars_pitch;
    klefr_lcd_icon icons[KLEFR_PANEL_MAX_ICONS];
    int nicons;
    void *json; /* cJSON of panel.json, read while drawing */
} klefr_panel_layout;

/* Loads <dir>/lcd.json and <dir>/panel.json. Returns 0 or -1 with err. */
int klefr_panel_layout_load(klefr_panel_layout *L, const char *dir, char *err, int errlen);
void klefr_panel_layout_free(klefr_panel_layout *L);

#define KLEFR_SPEED_MAX (-1.0)

/* What a trainer adds over the panel (sim/panel.h: klefr_panel_set_caption
 * and friends). Strings are borrowed for the draw call. */
typedef struct {
    bool show;               /* the caption box in the normal layout */
    const char *title, *text; /* caption; NULL or "" = none */
    const char *trail;        /* menu trail ("Program mode 3 > S0 output > editing") */
    uint8_t hint_buttons;     /* KLEFR_BTN_* to press next, 0 = no hint */
    double hint_hold_s;       /* how long, 0 = a short press */
    const char *hint_text;    /* NULL: made by klefr_panel_hint_text() */
    bool nav;                 /* Back / Next controls */
    bool waiting;             /* step mode: meter time stands still until Next */
} klefr_panel_overlay;

/* "press R", "hold R 3 s", "hold L+R 3 s". */
void klefr_panel_hint_text(uint8_t buttons, double hold_s, char *out, int size);

/* An installation beside the meter shown (klefr-sim --fleet): its meters,
 * one row each, and the bus monitor of one line, newest frame last. */
typedef struct klefr_panel_fleet {
    char title[96];                /* "block-b: 24 meters on 1 line" */
    int nmeters, shown, first;     /* rows[k] is meter first + k */
    int nrows;
    char rows[KLEFR_PANEL_FLEET_ROWS][72];
    bool lit[KLEFR_PANEL_FLEET_ROWS]; /* its LED is on (a pulse) */
    char mon_title[96];            /* "Bus monitor: mbus (9600 8E1), 1234 frames  [B: next line]" */
    int nmon;
    char mon[KLEFR_PANEL_MON_ROWS][112];
    bool mon_bad[KLEFR_PANEL_MON_ROWS]; /* a collision or a garbled frame */
} klefr_panel_fleet;

/* A snapshot of what the panel shows. */
typedef struct {
    klefr_model model;
    bool powered, backlight;
    klefr_lcd_fb lcd;
    bool out_on[KLEFR_OUT_COUNT];
    uint64_t out_count[KLEFR_OUT_COUNT];
    uint8_t held;                     /* KLEFR_BTN_* held now */
    double hold_s[2];                 /* how long each has been held, meter time */
    const klefr_meter *m;             /* measurements and registers; NULL = none */
    const int32_t *scope_v, *scope_i; /* ring of recent ADC codes */
    uint64_t scope_n;                 /* samples written so far */
    unsigned scope_cap;
    const float *trend_p, *trend_q; /* ring of power samples */
    unsigned trend_n, trend_cap;
    double trend_dt_s;
    const char *const *ports;
    int nports;
    double speed;        /* set speed: 0 paused, >0 ratio, KLEFR_SPEED_MAX */
    double actual_speed; /* measured ratio of meter time to wall time */
    double t_s;          /* meter time */
    bool has_load;
    klefr_load load;
    bool t2_input;
    bool overload; /* the ADC clipped within the last second */
    klefr_ctl hover, pressed;
    bool present;       /* presentation layout: the meter large, the caption beside it */
    bool show_readings; /* presentation layout: a few readings under the caption */
    klefr_panel_overlay ov;
    const klefr_panel_fleet *fleet; /* an installation's column; NULL: one meter */
} klefr_panel_view;

/* Fit the layout into the canvas (sets its transform) and draw. */
void klefr_panel_draw(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v);

/* The same in layers: the static one (housing, cards, grids, labels: it
 * depends only on klefr_panel_static_key()) and the dynamic parts drawn over
 * it in order. Drawing every part over the static layer gives the pixels of
 * klefr_panel_draw(). */
typedef enum {
    KLEFR_PART_S0,
    KLEFR_PART_GLASS,
    KLEFR_PART_LED,
    KLEFR_PART_BUTTONS,
    KLEFR_PART_READINGS,
    KLEFR_PART_SCOPE,
    KLEFR_PART_PHASOR,
    KLEFR_PART_TREND,
    KLEFR_PART_CONTROLS,
    KLEFR_PART_STATUS,
    KLEFR_PART_CAPTION,
    KLEFR_PART_FLEET,  /* an installation: the meter list */
    KLEFR_PART_BUSMON, /* and its bus monitor */
    KLEFR_PART_COUNT
} klefr_panel_part;

void klefr_panel_draw_static(klefr_canvas *c, const klefr_panel_layout *L,
                             const klefr_panel_view *v);
void klefr_panel_draw_part(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v,
                           klefr_panel_part part);
void klefr_panel_draw_dynamic(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v);
/* What the static layer depends on besides the canvas size: a new value
 * means it must be drawn again. */
uint32_t klefr_panel_static_key(const klefr_panel_view *v);

/* Just the LCD glass, filling the canvas (reference images). */
void klefr_panel_draw_lcd(klefr_canvas *c, const klefr_panel_layout *L, const klefr_lcd_fb *fb,
                          bool backlight, bool powered);

/* What is under pixel (px, py) of a canvas drawn by klefr_panel_draw. */
klefr_ctl klefr_panel_hit(const klefr_canvas *c, const klefr_panel_layout *L,
                          const klefr_panel_view *v, float px, float py);
/* Pixel centre of a control; false when the layout does not show it. */
bool klefr_panel_ctl_center(const klefr_canvas *c, const klefr_panel_layout *L,
                            const klefr_panel_view *v, klefr_ctl id, float *px, float *py);

#endif
