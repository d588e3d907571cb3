/* SDL2 bottom of the front panel: window, input, presenting the pixels that
 * panel_draw.c renders. The only file that includes SDL. */
#include "panel.h"

#include <SDL.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afe_synth.h"
#include "panel_draw.h"
#include "png.h"
#include "sim.h"

#ifndef KLEFR_ASSETS_DIR
#define KLEFR_ASSETS_DIR "assets"
#endif

#define TREND_CAP 240
#define TREND_DT_S 0.5

struct klefr_panel {
    klefr_sim *sim;
    klefr_synth *synth;
    klefr_panel_layout L;
    bool headless;
    const char *const *ports;
    int nports;

    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    SDL_Cursor *hand, *arrow;
    klefr_canvas cv;
    klefr_canvas bg;  /* static layer, redrawn when the size changes */
    klefr_canvas mid; /* static layer + LCD glass, redrawn when the LCD changes */
    bool bg_valid, mid_valid;
    klefr_lcd_fb mid_lcd;
    bool mid_bl, mid_pw;
    bool dirty;
    uint64_t last_draw_ms;
    int shots;

    double speed;
    double actual_speed;
    uint64_t speed_t0_ms, speed_t0_us;

    uint8_t mouse_held, key_held, held;
    uint64_t press_us[2];
    klefr_ctl hover, pressed;

    klefr_load load;   /* what the controls last set (applied by an event) */
    bool load_pending; /* that event is still queued */
    bool t2_input;
    bool power;

    float trend_p[TREND_CAP], trend_q[TREND_CAP];
    unsigned trend_n;
    uint64_t trend_next_us;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void post(klefr_panel *p, klefr_sim_event ev)
{
    ev.t_us = p->sim->t_us;
    if (!klefr_sim_post(p->sim, &ev))
        fprintf(stderr, "klefr-panel: event queue full, input dropped\n");
    p->dirty = true;
}

/* ---- buttons ----------------------------------------------------------- */

static void buttons_update(klefr_panel *p)
{
    uint8_t held = p->mouse_held | p->key_held;
    if (held == p->held)
        return;
    for (int b = 0; b < 2; b++)
        if ((held >> b & 1u) && !(p->held >> b & 1u))
            p->press_us[b] = p->sim->t_us;
    p->held = held;
    post(p, (klefr_sim_event){.kind = KLEFR_EV_BUTTONS, .byte = held});
}

/* ---- load and supply ------------------------------------------------------ */

static void apply_load(void *arg, uint64_t t_us)
{
    klefr_panel *p = arg;
    (void)t_us;
    if (p->synth)
        klefr_synth_set_load(p->synth, &p->load);
    p->load_pending = false;
}

static int nearest(const double *tab, int n, double x)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (fabs(tab[k] - x) < fabs(tab[best] - x))
            best = k;
    return best;
}

static double step(const double *tab, int n, double x, int dir)
{
    int k = nearest(tab, n, x) + dir;
    return tab[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static bool exporting(const klefr_load *l)
{
    return fabs(l->phi_deg) > 90.0 + 1e-9;
}

static void load_change(klefr_panel *p, klefr_ctl c)
{
    static const double amps[] = {0,  0.02, 0.05, 0.1, 0.25, 0.5, 1,  2.5, 5,
                                  10, 16,   20,   32,  40,   63,  80, 100};
    static const double phis[] = {-90, -60, -36.87, -25.84, 0, 25.84, 36.87, 60, 90};
    static const double volts[] = {0, 50, 100, 150, 196, 207, 230, 253, 265};
    static const double freqs[] = {45, 47.5, 49, 49.5, 50, 50.5, 51, 52.5, 55};
#define N(t) ((int)(sizeof t / sizeof t[0]))
    if (!p->synth)
        return;
    if (!p->load_pending) /* a scenario may have changed the load meanwhile */
        p->load = p->synth->load;
    klefr_load *l = &p->load;
    bool exp = exporting(l);
    double phi = exp ? (l->phi_deg > 0 ? l->phi_deg - 180 : l->phi_deg + 180) : l->phi_deg;
    switch (c) {
    case KLEFR_CTL_I_DOWN:
        l->i_rms = step(amps, N(amps), l->i_rms, -1);
        break;
    case KLEFR_CTL_I_UP:
        l->i_rms = step(amps, N(amps), l->i_rms, +1);
        break;
    case KLEFR_CTL_PF_DOWN:
        phi = step(phis, N(phis), phi, -1);
        break;
    case KLEFR_CTL_PF_UP:
        phi = step(phis, N(phis), phi, +1);
        break;
    case KLEFR_CTL_V_DOWN:
        l->v_rms = step(volts, N(volts), l->v_rms, -1);
        break;
    case KLEFR_CTL_V_UP:
        l->v_rms = step(volts, N(volts), l->v_rms, +1);
        break;
    case KLEFR_CTL_F_DOWN:
        l->freq_hz = step(freqs, N(freqs), l->freq_hz, -1);
        break;
    case KLEFR_CTL_F_UP:
        l->freq_hz = step(freqs, N(freqs), l->freq_hz, +1);
        break;
    case KLEFR_CTL_DIR:
        exp = !exp;
        break;
    default:
        return;
    }
#undef N
    /* export = the current reversed: phi + 180, kept in (-180, 180] */
    l->phi_deg = exp ? (phi > 0 ? phi - 180 : phi + 180) : phi;
    if (!p->load_pending)
        post(p, (klefr_sim_event){.kind = KLEFR_EV_CALL, .fn = apply_load, .arg = p});
    p->load_pending = true;
    p->dirty = true;
}

static void control(klefr_panel *p, klefr_ctl c)
{
    switch (c) {
    case KLEFR_CTL_TARIFF:
        if (p->sim->model != KLEFR_MODEL_6922)
            return;
        p->t2_input = !p->t2_input;
        post(p, (klefr_sim_event){.kind = KLEFR_EV_TARIFF_INPUT, .byte = p->t2_input});
        break;
    case KLEFR_CTL_POWER:
        p->power = !p->sim->powered;
        post(p, (klefr_sim_event){.kind = KLEFR_EV_POWER, .byte = p->power});
        break;
    case KLEFR_CTL_SPEED_PAUSE:
        klefr_panel_set_speed(p, 0);
        break;
    case KLEFR_CTL_SPEED_1:
        klefr_panel_set_speed(p, 1);
        break;
    case KLEFR_CTL_SPEED_10:
        klefr_panel_set_speed(p, 10);
        break;
    case KLEFR_CTL_SPEED_100:
        klefr_panel_set_speed(p, 100);
        break;
    case KLEFR_CTL_SPEED_MAX:
        klefr_panel_set_speed(p, KLEFR_PANEL_SPEED_MAX);
        break;
    case KLEFR_CTL_SHOT: {
        char name[64];
        snprintf(name, sizeof name, "klefr-panel-%d.png", ++p->shots);
        if (klefr_panel_screenshot(p, name, 0, 0) == 0)
            fprintf(stderr, "klefr-panel: saved %s\n", name);
        break;
    }
    default:
        load_change(p, c);
        break;
    }
}

/* ---- view ---------------------------------------------------------------- */

static void view_fill(klefr_panel *p, klefr_panel_view *v)
{
    klefr_sim *s = p->sim;
    memset(v, 0, sizeof *v);
    v->model = s->model;
    v->powered = s->powered;
    v->backlight = s->out.backlight;
    v->lcd = s->out.lcd;
    for (int o = 0; o < KLEFR_OUT_COUNT; o++) {
        /* a pulse shorter than a frame still shows for one frame at 60 fps */
        uint64_t until = s->out.on_until_us[o];
        v->out_on[o] = s->out.count[o] && until + 17000 > s->t_us && until <= s->t_us + 1000000;
        v->out_count[o] = s->out.count[o];
    }
    v->held = p->held;
    for (int b = 0; b < 2; b++)
        v->hold_s[b] = (double)(s->t_us - p->press_us[b]) / 1e6;
    v->m = &s->meter;
    v->scope_v = s->scope_v;
    v->scope_i = s->scope_i;
    v->scope_n = s->scope_n;
    v->scope_cap = KLEFR_SIM_SCOPE_N;
    v->trend_p = p->trend_p;
    v->trend_q = p->trend_q;
    v->trend_n = p->trend_n;
    v->trend_cap = TREND_CAP;
    v->trend_dt_s = TREND_DT_S;
    v->ports = p->ports;
    v->nports = p->nports;
    v->speed = p->speed;
    v->actual_speed = p->actual_speed;
    v->t_s = (double)s->t_us / 1e6;
    v->has_load = p->synth != NULL;
    v->load = p->load_pending || !p->synth ? p->load : p->synth->load;
    v->t2_input = p->t2_input;
    v->overload = s->clip_any && s->t_us - s->clip_last_us < 1000000;
    v->hover = p->hover;
    v->pressed = p->pressed;
}

static void trend_sample(klefr_panel *p)
{
    const klefr_sim *s = p->sim;
    const uint64_t dt = (uint64_t)(TREND_DT_S * 1e6);
    if (s->t_us < p->trend_next_us)
        return;
    if (s->t_us - p->trend_next_us > TREND_CAP * dt)
        p->trend_next_us = s->t_us;
    bool ok = s->powered && s->meter.meas.valid;
    while (p->trend_next_us <= s->t_us) {
        p->trend_p[p->trend_n % TREND_CAP] = ok ? s->meter.meas.p_w : 0;
        p->trend_q[p->trend_n % TREND_CAP] = ok ? s->meter.meas.q_var : 0;
        p->trend_n++;
        p->trend_next_us += dt;
    }
}

/* ---- SDL -------------------------------------------------------------------- */

static bool canvas_fit(klefr_panel *p, int w, int h)
{
    if (p->cv.px && p->cv.w == w && p->cv.h == h)
        return true;
    klefr_canvas_free(&p->cv);
    klefr_canvas_free(&p->bg);
    klefr_canvas_free(&p->mid);
    p->bg_valid = p->mid_valid = false;
    if (!klefr_canvas_init(&p->cv, w, h) || !klefr_canvas_init(&p->bg, w, h) ||
        !klefr_canvas_init(&p->mid, w, h))
        return false;
    if (p->ren) {
        if (p->tex)
            SDL_DestroyTexture(p->tex);
        p->tex =
            SDL_CreateTexture(p->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
    }
    p->dirty = true;
    return true;
}

static void render(klefr_panel *p)
{
    int w, h;
    if (SDL_GetRendererOutputSize(p->ren, &w, &h) != 0 || w <= 0 || h <= 0)
        return;
    if (!canvas_fit(p, w, h) || !p->tex)
        return;
    klefr_panel_view v;
    view_fill(p, &v);
    size_t bytes = (size_t)w * (size_t)h * sizeof *p->cv.px;
    if (!p->bg_valid) {
        klefr_panel_draw_static(&p->bg, &p->L, &v);
        p->bg_valid = true;
        p->mid_valid = false;
    }
    if (!p->mid_valid || memcmp(&p->mid_lcd, &v.lcd, sizeof v.lcd) || p->mid_bl != v.backlight ||
        p->mid_pw != v.powered) {
        memcpy(p->mid.px, p->bg.px, bytes);
        klefr_panel_draw_glass(&p->mid, &p->L, &v);
        p->mid_lcd = v.lcd;
        p->mid_bl = v.backlight;
        p->mid_pw = v.powered;
        p->mid_valid = true;
    }
    memcpy(p->cv.px, p->mid.px, bytes);
    v.skip_glass = true;
    klefr_panel_draw_dynamic(&p->cv, &p->L, &v);
    SDL_UpdateTexture(p->tex, NULL, p->cv.px, w * 4);
    SDL_RenderClear(p->ren);
    SDL_RenderCopy(p->ren, p->tex, NULL, NULL);
    SDL_RenderPresent(p->ren);
}

/* Window points to drawable pixels (HiDPI). */
static void to_pixels(klefr_panel *p, int x, int y, float *px, float *py)
{
    int ww, wh, dw, dh;
    SDL_GetWindowSize(p->win, &ww, &wh);
    SDL_GetRendererOutputSize(p->ren, &dw, &dh);
    *px = ((float)x + 0.5f) * (float)dw / (float)(ww ? ww : 1);
    *py = ((float)y + 0.5f) * (float)dh / (float)(wh ? wh : 1);
}

static klefr_ctl hit(klefr_panel *p, int x, int y)
{
    float px, py;
    to_pixels(p, x, y, &px, &py);
    klefr_panel_view v;
    view_fill(p, &v);
    return klefr_panel_hit(&p->cv, &p->L, &v, px, py);
}

static uint8_t key_buttons(SDL_Keycode k)
{
    switch (k) {
    case SDLK_LEFT:
        return KLEFR_BTN_LEFT;
    case SDLK_RIGHT:
        return KLEFR_BTN_RIGHT;
    case SDLK_SPACE:
    case SDLK_DOWN:
        return KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT;
    default:
        return 0;
    }
}

static klefr_ctl key_control(SDL_Keycode k)
{
    switch (k) {
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        return KLEFR_CTL_I_UP;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        return KLEFR_CTL_I_DOWN;
    case SDLK_RIGHTBRACKET:
        return KLEFR_CTL_PF_UP;
    case SDLK_LEFTBRACKET:
        return KLEFR_CTL_PF_DOWN;
    case SDLK_e:
        return KLEFR_CTL_DIR;
    case SDLK_v:
        return KLEFR_CTL_V_UP;
    case SDLK_PERIOD:
        return KLEFR_CTL_F_UP;
    case SDLK_COMMA:
        return KLEFR_CTL_F_DOWN;
    case SDLK_t:
        return KLEFR_CTL_TARIFF;
    case SDLK_p:
        return KLEFR_CTL_POWER;
    case SDLK_0:
        return KLEFR_CTL_SPEED_PAUSE;
    case SDLK_1:
        return KLEFR_CTL_SPEED_1;
    case SDLK_2:
        return KLEFR_CTL_SPEED_10;
    case SDLK_3:
        return KLEFR_CTL_SPEED_100;
    case SDLK_4:
        return KLEFR_CTL_SPEED_MAX;
    case SDLK_F12:
        return KLEFR_CTL_SHOT;
    default:
        return KLEFR_CTL_NONE;
    }
}

/* Returns false on quit. */
static bool handle(klefr_panel *p, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        return false;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_CLOSE)
            return false;
        if (e->window.event == SDL_WINDOWEVENT_FOCUS_LOST) { /* no stuck buttons */
            p->key_held = 0;
            p->mouse_held = 0;
            buttons_update(p);
        }
        p->dirty = true;
        break;
    case SDL_MOUSEMOTION: {
        klefr_ctl h = hit(p, e->motion.x, e->motion.y);
        if (h != p->hover) {
            p->hover = h;
            p->dirty = true;
            if (p->hand && p->arrow)
                SDL_SetCursor(h != KLEFR_CTL_NONE ? p->hand : p->arrow);
        }
        break;
    }
    case SDL_MOUSEBUTTONDOWN: {
        bool both = e->button.button == SDL_BUTTON_RIGHT; /* right click on a button: both */
        if (e->button.button != SDL_BUTTON_LEFT && !both)
            break;
        klefr_ctl h = hit(p, e->button.x, e->button.y);
        if (both && h != KLEFR_CTL_BTN_LEFT && h != KLEFR_CTL_BTN_RIGHT)
            break;
        p->pressed = h;
        if (h == KLEFR_CTL_BTN_LEFT || h == KLEFR_CTL_BTN_RIGHT) {
            p->mouse_held = both                      ? KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT
                            : h == KLEFR_CTL_BTN_LEFT ? KLEFR_BTN_LEFT
                                                      : KLEFR_BTN_RIGHT;
            SDL_CaptureMouse(SDL_TRUE);
            buttons_update(p);
        } else if (h != KLEFR_CTL_NONE) {
            control(p, h);
        }
        p->dirty = true;
        break;
    }
    case SDL_MOUSEBUTTONUP:
        if (e->button.button != SDL_BUTTON_LEFT && e->button.button != SDL_BUTTON_RIGHT)
            break;
        p->pressed = KLEFR_CTL_NONE;
        if (p->mouse_held) {
            p->mouse_held = 0;
            SDL_CaptureMouse(SDL_FALSE);
            buttons_update(p);
        }
        p->dirty = true;
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP: {
        uint8_t b = key_buttons(e->key.keysym.sym);
        if (b) {
            if (e->type == SDL_KEYDOWN)
                p->key_held |= b;
            else
                p->key_held &= (uint8_t)~b;
            buttons_update(p);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat) {
            klefr_ctl c = key_control(e->key.keysym.sym);
            if (c == KLEFR_CTL_V_UP && (e->key.keysym.mod & KMOD_SHIFT))
                c = KLEFR_CTL_V_DOWN;
            if (c != KLEFR_CTL_NONE)
                control(p, c);
            else if (e->key.keysym.sym == SDLK_ESCAPE || e->key.keysym.sym == SDLK_q)
                return false;
        }
        break;
    }
    default:
        break;
    }
    return true;
}

klefr_panel *klefr_panel_open(klefr_sim *sim, const klefr_panel_opts *o, char *err, int errlen)
{
    klefr_panel *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, (size_t)errlen, "out of memory");
        return NULL;
    }
    p->sim = sim;
    p->synth = o->synth;
    p->headless = o->headless;
    p->ports = o->ports;
    p->nports = o->nports;
    p->speed = o->speed;
    p->power = sim->powered;
    p->hover = p->pressed = KLEFR_CTL_NONE;
    if (p->synth)
        p->load = p->synth->load;
    const char *dir = o->assets_dir ? o->assets_dir : getenv("KLEFR_ASSETS");
    if (klefr_panel_layout_load(&p->L, dir ? dir : KLEFR_ASSETS_DIR, err, errlen) != 0) {
        free(p);
        return NULL;
    }
    p->speed_t0_ms = wall_ms();
    p->speed_t0_us = sim->t_us;
    if (p->headless)
        return p;
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, (size_t)errlen, "SDL: %s", SDL_GetError());
        klefr_panel_layout_free(&p->L);
        free(p);
        return NULL;
    }
    char title[64];
    snprintf(title, sizeof title, "KLEFR %d - digital twin", (int)sim->model);
    p->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                              o->width > 0 ? o->width : 1120, o->height > 0 ? o->height : 768,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    /* The pixels are made on the CPU: on X11 (no HiDPI scaling there) the
     * software path blits them straight to the window, where GL through Mesa
     * llvmpipe (Xvfb, VMs) costs three times the CPU. SDL_RENDER_DRIVER and
     * SDL_FRAMEBUFFER_ACCELERATION in the environment still win. */
    if (p->win && !strcmp(SDL_GetCurrentVideoDriver(), "x11")) {
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    }
    p->ren = p->win ? SDL_CreateRenderer(p->win, -1, 0) : NULL;
    if (p->win && !p->ren)
        p->ren = SDL_CreateRenderer(p->win, -1, SDL_RENDERER_SOFTWARE);
    if (!p->ren) {
        snprintf(err, (size_t)errlen, "SDL: %s", SDL_GetError());
        klefr_panel_close(p);
        return NULL;
    }
    SDL_SetWindowMinimumSize(p->win, 560, 384);
    p->hand = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_HAND);
    p->arrow = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_ARROW);
    p->dirty = true;
    return p;
}

bool klefr_panel_frame(klefr_panel *p, int wait_ms)
{
    uint64_t now = wall_ms();
    if (now - p->speed_t0_ms >= 500) {
        p->actual_speed =
            (double)(p->sim->t_us - p->speed_t0_us) / 1000.0 / (double)(now - p->speed_t0_ms);
        p->speed_t0_ms = now;
        p->speed_t0_us = p->sim->t_us;
    }
    trend_sample(p);
    if (p->headless)
        return true;
    SDL_Event e;
    bool moving =
        p->speed != 0 && !(SDL_GetWindowFlags(p->win) & (SDL_WINDOW_MINIMIZED | SDL_WINDOW_HIDDEN));
    if (!moving && !p->dirty && wait_ms > 0 && SDL_WaitEventTimeout(&e, wait_ms)) {
        if (!handle(p, &e))
            return false;
    }
    while (SDL_PollEvent(&e))
        if (!handle(p, &e))
            return false;
    now = wall_ms();
    if ((p->dirty || moving) && now - p->last_draw_ms >= 16) {
        render(p);
        p->last_draw_ms = now;
        p->dirty = false;
    }
    return true;
}

double klefr_panel_speed(const klefr_panel *p)
{
    return p->speed;
}

void klefr_panel_set_speed(klefr_panel *p, double speed)
{
    p->speed = speed;
    p->dirty = true;
}

uint8_t klefr_panel_held(const klefr_panel *p)
{
    return p->held;
}

int klefr_panel_screenshot(klefr_panel *p, const char *path, int w, int h)
{
    if (w <= 0 || h <= 0) {
        w = 1400;
        h = 960;
        if (p->ren)
            SDL_GetRendererOutputSize(p->ren, &w, &h);
    }
    klefr_canvas c;
    if (!klefr_canvas_init(&c, w, h))
        return -1;
    klefr_panel_view v;
    view_fill(p, &v);
    klefr_panel_draw(&c, &p->L, &v);
    int rc = klefr_png_write(path, c.px, w, h);
    klefr_canvas_free(&c);
    return rc;
}

bool klefr_panel_control_pos(klefr_panel *p, int ctl, int *x, int *y)
{
    int dw = 1400, dh = 960, ww = 1400, wh = 960;
    if (p->ren) {
        SDL_GetRendererOutputSize(p->ren, &dw, &dh);
        SDL_GetWindowSize(p->win, &ww, &wh);
    }
    klefr_canvas c = {.w = dw, .h = dh, .scale = 1};
    float px, py;
    if (!klefr_panel_ctl_center(&c, &p->L, (klefr_ctl)ctl, &px, &py))
        return false;
    *x = (int)(px * (float)ww / (float)dw);
    *y = (int)(py * (float)wh / (float)dh);
    return true;
}

static void call_nothing(void *arg, uint64_t t_us)
{
    (void)arg;
    (void)t_us;
}

void klefr_panel_close(klefr_panel *p)
{
    if (!p)
        return;
    /* load changes still queued must not reach a freed panel */
    for (size_t k = 0; k < p->sim->nev; k++)
        if (p->sim->ev[k].kind == KLEFR_EV_CALL && p->sim->ev[k].arg == p)
            p->sim->ev[k].fn = call_nothing;
    if (p->hand)
        SDL_FreeCursor(p->hand);
    if (p->arrow)
        SDL_FreeCursor(p->arrow);
    if (p->tex)
        SDL_DestroyTexture(p->tex);
    if (p->ren)
        SDL_DestroyRenderer(p->ren);
    if (p->win) {
        SDL_DestroyWindow(p->win);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    }
    klefr_canvas_free(&p->cv);
    klefr_canvas_free(&p->bg);
    klefr_canvas_free(&p->mid);
    klefr_panel_layout_free(&p->L);
    free(p);
}
