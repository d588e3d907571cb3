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
    KLEFR_CTL_SPEED_1,
    KLEFR_CTL_SPEED_10,
    KLEFR_CTL_SPEED_100,
    KLEFR_CTL_SPEED_MAX,
    KLEFR_CTL_SHOT,
    KLEFR_CTL_COUNT
} klefr_ctl;

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
    bool skip_glass; /* dynamic layer: the LCD glass is already drawn (cached) */
} klefr_panel_view;

/* Fit the layout into the canvas (sets its transform) and draw. */
void klefr_panel_draw(klefr_canvas *c, const klefr_panel_layout *L, const klefr_panel_view *v);

/* The same in two layers: the static one (housing, cards, grids, labels;
 * depends only on the canvas size, model and has_load) and the dynamic one
 * drawn over a copy of it every frame. */
void klefr_panel_draw_static(klefr_canvas *c, const klefr_panel_layout *L,
                             const klefr_panel_view *v);
void klefr_panel_draw_dynamic(klefr_canvas *c, const klefr_panel_layout *L,
                              const klefr_panel_view *v);
/* Only the LCD glass of the panel (changes a few times a second at most). */
void klefr_panel_draw_glass(klefr_canvas *c, const klefr_panel_layout *L,
                            const klefr_panel_view *v);

/* Just the LCD glass, filling the canvas (reference images). */
void klefr_panel_draw_lcd(klefr_canvas *c, const klefr_panel_layout *L, const klefr_lcd_fb *fb,
                          bool backlight, bool powered);

/* What is under pixel (px, py) of a canvas drawn by klefr_panel_draw. */
klefr_ctl klefr_panel_hit(const klefr_canvas *c, const klefr_panel_layout *L,
                          const klefr_panel_view *v, float px, float py);
/* Pixel centre of a control. */
bool klefr_panel_ctl_center(const klefr_canvas *c, const klefr_panel_layout *L, klefr_ctl id,
                            float *px, float *py);

#endif
