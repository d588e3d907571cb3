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
#include "clock.h"
#include "panel_draw.h"
#include "panel_frame.h"
#include "png.h"
#include "sim.h"

#ifndef KLEFR_ASSETS_DIR
#define KLEFR_ASSETS_DIR "assets"
#endif

#define TREND_CAP 240
#define TREND_DT_S 0.5

#define FRAME_NS 16666667u /* 60 frames a second */
/* After this many frames in a row that found nothing new, the running meter
 * is looked at 20 times a second instead of 60 (a steady LCD: the check of
 * what changed is most of the panel's cost); the first change, or any
 * input, brings 60 back. */
#define IDLE_FRAMES 12u
#define IDLE_FRAME_NS 50000000u
#define POLL_NS 4000000u   /* input checked at most every 4 ms */

struct klefr_panel {
    klefr_sim *sim;
    klefr_synth *synth;
    klefr_panel_layout L;
    bool headless;
    const char *const *ports;
    int nports;

    SDL_Window *win;
    SDL_Renderer *ren; /* NULL: pixels go straight to the window surface */
    SDL_Texture *tex;
    SDL_Cursor *hand, *arrow;
    klefr_frame fr;
    bool dirty;            /* something changed: draw even while paused */
    bool can_wait;         /* SDL_WaitEventTimeout sleeps (not a 1 ms poll) with this driver */
    uint64_t next_frame_ns; /* the next frame is due then */
    uint64_t last_frame_ns; /* the last one was made then */
    unsigned idle_frames;   /* frames in a row that found nothing to show */
    uint64_t drawn_us;      /* meter time of the last frame */
    uint64_t polled_ns;     /* when SDL was last asked for input */
    int shots;
    /* KLEFR_PANEL_STATS=1: a line a second on stderr (scripts/bench-panel.sh) */
    bool stats;
    uint64_t stats_next_ms, stats_t0_ms, frames, upload_px, renders;

    double speed;
    double actual_speed;
    uint64_t speed_t0_ms, speed_t0_us;

    uint8_t mouse_held, key_held, held;
    uint64_t press_us[2];
    uint64_t release_us[2];
    uint64_t buttons_at_us; /* meter time of the last button event posted */
    klefr_ctl hover, pressed;

    klefr_load load;   /* what the controls last set (applied by an event) */
    bool load_pending; /* that event is still queued */
    bool t2_input;
    bool power;

    float trend_p[TREND_CAP], trend_q[TREND_CAP];
    unsigned trend_n;
    uint64_t trend_next_us;

    /* the trainer's overlay */
    bool present, show_readings, overlay;
    char *title, *text, *hint_text;
    uint8_t hint_buttons;
    double hint_hold_s;
    klefr_panel_nav_fn nav;
    void *nav_arg;
    bool waiting;
    double resume_speed; /* the speed Next returns to */
    char trail[160];

    void (*on_input)(void *arg, const klefr_panel_input *in);
    void *on_input_arg;

    /* an installation: its column, and the scope ring lent to the meter shown */
    klefr_panel_fleet_src fleet_src;
    bool have_fleet;
    klefr_panel_fleet fleet;
    int32_t *scope_v, *scope_i;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tell the observer (in.t_us 0: now). */
static void tell(klefr_panel *p, klefr_panel_input in)
{
    if (!in.t_us)
        in.t_us = p->sim->t_us;
    if (p->on_input)
        p->on_input(p->on_input_arg, &in);
}

static void post(klefr_panel *p, klefr_sim_event ev)
{
    ev.t_us = p->sim->t_us;
    if (!klefr_sim_post(p->sim, &ev))
        fprintf(stderr, "klefr-panel: event queue full, input dropped\n");
    p->dirty = true;
}

/* ---- buttons ----------------------------------------------------------- */

/* A click is a press the meter sees: a release sooner than this after the
 * press (a quick click, both in one frame, a fast speed) is posted this
 * long after the press, past the firmware's 30 ms debounce. */
#define MIN_PRESS_US 100000u

static void buttons_update(klefr_panel *p)
{
    uint8_t held = p->mouse_held | p->key_held;
    if (held == p->held)
        return;
    /* button events keep their order (none before a delayed release), and
     * a button is up at least as long before it goes down again */
    uint64_t t = p->sim->t_us > p->buttons_at_us ? p->sim->t_us : p->buttons_at_us;
    for (int b = 0; b < 2; b++) {
        bool down = (held >> b & 1u) && !(p->held >> b & 1u);
        bool up = !(held >> b & 1u) && (p->held >> b & 1u);
        if (down && t < p->release_us[b] + MIN_PRESS_US && p->release_us[b])
            t = p->release_us[b] + MIN_PRESS_US;
        if (up && t < p->press_us[b] + MIN_PRESS_US)
            t = p->press_us[b] + MIN_PRESS_US;
    }
    for (int b = 0; b < 2; b++) {
        if ((held >> b & 1u) && !(p->held >> b & 1u))
            p->press_us[b] = t;
        if (!(held >> b & 1u) && (p->held >> b & 1u))
            p->release_us[b] = t;
    }
    p->held = held;
    p->buttons_at_us = t;
    klefr_sim_event ev = {.t_us = t, .kind = KLEFR_EV_BUTTONS, .byte = held};
    if (!klefr_sim_post(p->sim, &ev))
        fprintf(stderr, "klefr-panel: event queue full, input dropped\n");
    p->dirty = true;
    tell(p, (klefr_panel_input){.kind = KLEFR_PANEL_IN_BUTTONS, .t_us = t, .buttons = held});
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
    tell(p, (klefr_panel_input){.kind = KLEFR_PANEL_IN_LOAD, .load = *l});
}

static void nav(klefr_panel *p, klefr_panel_nav what)
{
    if (!p->nav)
        return;
    if (what == KLEFR_PANEL_NEXT && p->waiting) {
        p->waiting = false;
        klefr_panel_set_speed(p, p->resume_speed);
    }
    p->dirty = true;
    p->nav(p->nav_arg, what);
}

static void control(klefr_panel *p, klefr_ctl c)
{
    double sp = klefr_ctl_speed(c);
    if (sp != -2) {
        klefr_panel_set_speed(p, sp);
        return;
    }
    switch (c) {
    case KLEFR_CTL_TARIFF:
        if (p->sim->model != KLEFR_MODEL_6922)
            return;
        p->t2_input = !p->t2_input;
        post(p, (klefr_sim_event){.kind = KLEFR_EV_TARIFF_INPUT, .byte = p->t2_input});
        tell(p, (klefr_panel_input){.kind = KLEFR_PANEL_IN_TARIFF, .on = p->t2_input});
        break;
    case KLEFR_CTL_POWER:
        p->power = !p->sim->powered;
        post(p, (klefr_sim_event){.kind = KLEFR_EV_POWER, .byte = p->power});
        tell(p, (klefr_panel_input){.kind = KLEFR_PANEL_IN_POWER, .on = p->power});
        break;
    case KLEFR_CTL_SHOT: {
        char name[64];
        snprintf(name, sizeof name, "klefr-panel-%d.png", ++p->shots);
        if (klefr_panel_screenshot(p, name, 0, 0) == 0)
            fprintf(stderr, "klefr-panel: saved %s\n", name);
        break;
    }
    case KLEFR_CTL_NEXT:
        nav(p, KLEFR_PANEL_NEXT);
        break;
    case KLEFR_CTL_FLEET_LINE:
        if (p->have_fleet && p->fleet_src.next_line)
            p->fleet_src.next_line(p->fleet_src.arg);
        p->dirty = true;
        break;
    case KLEFR_CTL_BACK:
        nav(p, KLEFR_PANEL_BACK);
        break;
    default:
        if (c >= KLEFR_CTL_FLEET_ROW0 && c < KLEFR_CTL_FLEET_ROW_END) {
            if (p->have_fleet)
                p->fleet_src.pick(p->fleet_src.arg, p->fleet.first + (c - KLEFR_CTL_FLEET_ROW0));
            return;
        }
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
    /* the levels the meter was told (a mouse, --press or a scenario), and
     * the window's own input that the meter has not seen yet */
    v->held = p->held | s->buttons;
    for (int b = 0; b < 2; b++) {
        uint64_t t0 = s->buttons >> b & 1u ? s->button_down_us[b] : p->press_us[b];
        v->hold_s[b] = t0 <= s->t_us ? (double)(s->t_us - t0) / 1e6 : 0;
    }
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
    v->present = p->present;
    v->show_readings = p->show_readings;
    if (p->have_fleet) {
        p->fleet_src.fill(p->fleet_src.arg, &p->fleet, s->t_us);
        v->fleet = &p->fleet;
    }
    klefr_ui_trail(&s->meter, p->trail, sizeof p->trail);
    v->ov = (klefr_panel_overlay){.show = p->overlay,
                                  .title = p->title,
                                  .text = p->text,
                                  .trail = s->powered ? p->trail : "no supply",
                                  .hint_buttons = p->hint_buttons,
                                  .hint_hold_s = p->hint_hold_s,
                                  .hint_text = p->hint_text,
                                  .nav = p->nav != NULL,
                                  .waiting = p->waiting};
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

/* The drawable size in pixels. */
static bool output_size(klefr_panel *p, int *w, int *h)
{
    if (p->ren)
        return SDL_GetRendererOutputSize(p->ren, w, h) == 0 && *w > 0 && *h > 0;
    SDL_Surface *ws = SDL_GetWindowSurface(p->win);
    if (!ws)
        return false;
    *w = ws->w;
    *h = ws->h;
    return *w > 0 && *h > 0;
}

/* Send the rectangles of the frame that changed to the screen. */
static void present(klefr_panel *p, const klefr_irect *r, int n)
{
    const klefr_canvas *cv = &p->fr.cv;
    SDL_Rect sr[KLEFR_FRAME_MAX_RECTS + 1];
    for (int k = 0; k < n; k++) {
        sr[k] = (SDL_Rect){r[k].x0, r[k].y0, r[k].x1 - r[k].x0, r[k].y1 - r[k].y0};
        p->upload_px += (uint64_t)sr[k].w * (uint64_t)sr[k].h;
    }
    p->frames++;
    if (p->ren) {
        for (int k = 0; k < n; k++)
            SDL_UpdateTexture(p->tex, &sr[k], cv->px + (size_t)sr[k].y * (size_t)cv->w + sr[k].x,
                              cv->w * 4);
        SDL_RenderClear(p->ren);
        SDL_RenderCopy(p->ren, p->tex, NULL, NULL);
        SDL_RenderPresent(p->ren);
        return;
    }
    SDL_Surface *ws = SDL_GetWindowSurface(p->win);
    if (!ws || ws->w != cv->w || ws->h != cv->h)
        return; /* resized meanwhile: the next frame redraws it all */
    SDL_Surface *src = SDL_CreateRGBSurfaceWithFormatFrom(cv->px, cv->w, cv->h, 32, cv->w * 4,
                                                          SDL_PIXELFORMAT_ARGB8888);
    if (!src)
        return;
    bool copy = ws->format->BytesPerPixel == 4 && ws->format->Rmask == 0xff0000u &&
                ws->format->Gmask == 0xff00u && ws->format->Bmask == 0xffu;
    if (copy && SDL_MUSTLOCK(ws))
        copy = SDL_LockSurface(ws) == 0;
    for (int k = 0; k < n; k++) {
        if (!copy) { /* another pixel format: let SDL convert */
            SDL_Rect dst = sr[k];
            SDL_BlitSurface(src, &sr[k], ws, &dst);
            continue;
        }
        for (int y = sr[k].y; y < sr[k].y + sr[k].h; y++)
            memcpy((uint8_t *)ws->pixels + (size_t)y * (size_t)ws->pitch + (size_t)sr[k].x * 4,
                   cv->px + (size_t)y * (size_t)cv->w + sr[k].x, (size_t)sr[k].w * 4);
    }
    if (copy && SDL_MUSTLOCK(ws))
        SDL_UnlockSurface(ws);
    SDL_FreeSurface(src);
    SDL_UpdateWindowSurfaceRects(p->win, sr, n);
}

/* Makes a frame; true when it had something new to show. */
static bool render(klefr_panel *p)
{
    p->renders++;
    int w, h;
    if (!output_size(p, &w, &h))
        return false;
    bool resized = !p->fr.cv.px || p->fr.cv.w != w || p->fr.cv.h != h;
    if (!klefr_frame_size(&p->fr, w, h))
        return false;
    if (p->ren && resized) {
        if (p->tex)
            SDL_DestroyTexture(p->tex);
        p->tex =
            SDL_CreateTexture(p->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
        if (!p->tex)
            return false;
    }
    klefr_panel_view v;
    view_fill(p, &v);
    if (!klefr_frame_render(&p->fr, &p->L, &v))
        return false;
    klefr_irect all = {0, 0, w, h};
    if (p->fr.whole)
        present(p, &all, 1);
    else
        present(p, p->fr.rect, p->fr.nrect);
    return true;
}

/* Window points to drawable pixels (HiDPI). */
static void to_pixels(klefr_panel *p, int x, int y, float *px, float *py)
{
    int ww, wh, dw = 0, dh = 0;
    SDL_GetWindowSize(p->win, &ww, &wh);
    output_size(p, &dw, &dh);
    *px = ((float)x + 0.5f) * (float)dw / (float)(ww ? ww : 1);
    *py = ((float)y + 0.5f) * (float)dh / (float)(wh ? wh : 1);
}

static klefr_ctl hit(klefr_panel *p, int x, int y)
{
    float px, py;
    to_pixels(p, x, y, &px, &py);
    klefr_panel_view v;
    view_fill(p, &v);
    return klefr_panel_hit(&p->fr.cv, &p->L, &v, px, py);
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
    case SDLK_8:
        return KLEFR_CTL_SPEED_QUARTER;
    case SDLK_9:
        return KLEFR_CTL_SPEED_HALF;
    case SDLK_PAGEDOWN:
        return KLEFR_CTL_NEXT;
    case SDLK_PAGEUP:
    case SDLK_BACKSPACE:
        return KLEFR_CTL_BACK;
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
        SDL_Keycode sym = e->key.keysym.sym;
        uint8_t b = key_buttons(sym);
        if (sym == SDLK_SPACE && p->nav) { /* a tour plays: Space is Next */
            if (e->type == SDL_KEYDOWN && !e->key.repeat)
                nav(p, KLEFR_PANEL_NEXT);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat && sym == SDLK_F11) {
            klefr_panel_set_present(p, !p->present);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat && sym == SDLK_i) {
            klefr_panel_show_readings(p, !p->show_readings);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat && sym == SDLK_m) {
            klefr_panel_show_overlay(p, !p->overlay);
        } else if (e->type == SDL_KEYDOWN && p->have_fleet && sym == SDLK_TAB) {
            int n = p->fleet.nmeters ? p->fleet.nmeters : 1;
            int k = (p->fleet.shown + ((e->key.keysym.mod & KMOD_SHIFT) ? n - 1 : 1)) % n;
            p->fleet_src.pick(p->fleet_src.arg, k);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat && p->have_fleet && sym == SDLK_b) {
            control(p, KLEFR_CTL_FLEET_LINE);
        } else if (b) {
            if (e->type == SDL_KEYDOWN)
                p->key_held |= b;
            else
                p->key_held &= (uint8_t)~b;
            buttons_update(p);
        } else if (e->type == SDL_KEYDOWN && !e->key.repeat) {
            klefr_ctl c = key_control(sym);
            if (c == KLEFR_CTL_V_UP && (e->key.keysym.mod & KMOD_SHIFT))
                c = KLEFR_CTL_V_DOWN;
            if (c != KLEFR_CTL_NONE)
                control(p, c);
            else if (sym == SDLK_ESCAPE || sym == SDLK_q)
                return false;
        }
        break;
    }
    default:
        break;
    }
    return true;
}

/* The window system. A display that refuses us for a moment (an X server
 * resetting as its last client leaves, as Xvfb does between test clients)
 * made SDL fall back to its offscreen driver: a window nobody sees, a run
 * that never ends. Unless SDL_VIDEODRIVER asks for such a driver, try again
 * for 2 s, then say so. */
static int video_init(char *err, int errlen)
{
    const char *asked = getenv("SDL_VIDEODRIVER");
    const char *d = getenv("DISPLAY"), *wd = getenv("WAYLAND_DISPLAY");
    for (int tries = 0;; tries++) {
        if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
            if (tries == 0) {
                snprintf(err, (size_t)errlen, "SDL: %s", SDL_GetError());
                return -1;
            }
        } else {
            const char *drv = SDL_GetCurrentVideoDriver();
            if ((asked && *asked) || !drv || (strcmp(drv, "offscreen") && strcmp(drv, "dummy")))
                break;
            SDL_QuitSubSystem(SDL_INIT_VIDEO);
        }
        if (tries == 20) {
            snprintf(err, (size_t)errlen, "no window system answers (DISPLAY=%s, WAYLAND_DISPLAY=%s): %s",
                     d ? d : "", wd ? wd : "", SDL_GetError());
            SDL_ResetHint(SDL_HINT_VIDEODRIVER);
            return -1;
        }
        /* again only with the system the environment names (each try of the
         * others prints its own complaint) */
        SDL_SetHint(SDL_HINT_VIDEODRIVER, d && *d ? "x11" : "wayland");
        SDL_Delay(100);
    }
    SDL_ResetHint(SDL_HINT_VIDEODRIVER);
    return 0;
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
    p->present = o->present;
    if (p->headless)
        return p;
    if (video_init(err, errlen) != 0) {
        klefr_panel_layout_free(&p->L);
        free(p);
        return NULL;
    }
    char title[64];
    snprintf(title, sizeof title, "KLEFR %d - digital twin", (int)sim->model);
    /* The default size within the screen (a projector at 1024 x 768 cut the
     * meter's edge and the speed controls off: the layout fits any size). */
    int w = o->width > 0 ? o->width : 1120, h = o->height > 0 ? o->height : 768;
    SDL_Rect ub;
    if (o->width <= 0 && SDL_GetDisplayUsableBounds(0, &ub) == 0 && ub.w > 0)
        w = w < ub.w ? w : ub.w;
    if (o->height <= 0 && SDL_GetDisplayUsableBounds(0, &ub) == 0 && ub.h > 0)
        h = h < ub.h ? h : ub.h;
    p->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!p->win) {
        snprintf(err, (size_t)errlen, "SDL: %s", SDL_GetError());
        klefr_panel_close(p);
        return NULL;
    }
    /* The pixels are made on the CPU. Where the window has a surface in
     * memory (X11 through MIT-SHM, the offscreen and dummy drivers; no HiDPI
     * scaling there) the changed rectangles are copied into it and only they
     * go to the X server. Elsewhere (Wayland, HiDPI) an SDL renderer shows a
     * texture updated in the same rectangles. SDL_RENDER_DRIVER or
     * SDL_FRAMEBUFFER_ACCELERATION in the environment still win. */
    const char *drv = SDL_GetCurrentVideoDriver();
    p->can_wait = drv && (!strcmp(drv, "x11") || !strcmp(drv, "wayland") ||
                          !strcmp(drv, "windows") || !strcmp(drv, "cocoa"));
    bool surface = drv && !getenv("SDL_RENDER_DRIVER") &&
                   (!strcmp(drv, "x11") || !strcmp(drv, "offscreen") || !strcmp(drv, "dummy"));
    if (surface) {
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        surface = SDL_GetWindowSurface(p->win) != NULL;
    }
    if (!surface) {
        p->ren = SDL_CreateRenderer(p->win, -1, 0);
        if (!p->ren)
            p->ren = SDL_CreateRenderer(p->win, -1, SDL_RENDERER_SOFTWARE);
        if (!p->ren) {
            snprintf(err, (size_t)errlen, "SDL: %s", SDL_GetError());
            klefr_panel_close(p);
            return NULL;
        }
    }
    SDL_SetWindowMinimumSize(p->win, 560, 384);
    p->hand = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_HAND);
    p->arrow = SDL_CreateSystemCursor(SDL_SYSTEM_CURSOR_ARROW);
    p->dirty = true;
    p->stats = getenv("KLEFR_PANEL_STATS") && *getenv("KLEFR_PANEL_STATS") == '1';
    p->stats_t0_ms = p->stats_next_ms = wall_ms();
    return p;
}

/* Is the picture moving on its own (meter time runs in a visible window)? */
static bool moving(const klefr_panel *p)
{
    return p->speed != 0 &&
           !(SDL_GetWindowFlags(p->win) & (SDL_WINDOW_MINIMIZED | SDL_WINDOW_HIDDEN));
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
    uint64_t t = wall_ns();
    if (!moving(p) && !p->dirty && wait_ms > 0 && p->can_wait && SDL_WaitEventTimeout(&e, wait_ms)) {
        if (!handle(p, &e))
            return false;
        p->polled_ns = 0;
    }
    /* The loop may call this a thousand times a second (10x: a slice a
     * millisecond); reading the window system 250 times is plenty. What
     * is queued already is handled every time. */
    if (t - p->polled_ns >= POLL_NS) {
        p->polled_ns = t;
        SDL_PumpEvents();
    }
    while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) > 0)
        if (!handle(p, &e))
            return false;
    /* A frame when one is due and something may have changed: input, or
     * meter time that moved (it moves a slice at a time, so the loop's
     * slice wake-ups carry the frames while the meter runs). */
    t = wall_ns();
    bool changed = p->dirty || (moving(p) && p->sim->t_us != p->drawn_us);
    if (p->dirty && p->idle_frames >= IDLE_FRAMES) /* input: at 60 Hz again */
        p->next_frame_ns = p->last_frame_ns + FRAME_NS;
    if (changed && t >= p->next_frame_ns) {
        bool input = p->dirty;
        bool shown = render(p);
        p->idle_frames = shown || input ? 0 : p->idle_frames + 1;
        p->dirty = false;
        p->drawn_us = p->sim->t_us;
        p->last_frame_ns = t;
        /* keep a steady cadence (60 Hz; 20 Hz while nothing changes); after
         * a gap, start again from now */
        uint64_t step = p->idle_frames >= IDLE_FRAMES ? IDLE_FRAME_NS : FRAME_NS;
        p->next_frame_ns += step;
        if (p->next_frame_ns <= t)
            p->next_frame_ns = t + step;
    }
    now = wall_ms();
    if (p->stats && now >= p->stats_next_ms) {
        fprintf(stderr, "klefr-panel: stats wall_s=%.3f frames=%llu upload_px=%llu renders=%llu\n",
                (double)(now - p->stats_t0_ms) / 1e3, (unsigned long long)p->frames,
                (unsigned long long)p->upload_px, (unsigned long long)p->renders);
        p->stats_next_ms = now + 1000;
    }
    return true;
}

bool klefr_panel_drive(klefr_panel *p, klefr_loop *l)
{
    /* Paused, nothing runs but the window: it may sleep in SDL until input
     * comes (bytes on the ports would wait for time to run anyway). */
    if (!klefr_panel_frame(p, l->paused ? 100 : 0))
        return false;
    l->hook_wake_ns = klefr_panel_due_ns(p); /* the next 60 Hz frame */
    double sp = klefr_panel_speed(p);
    l->paused = sp == 0;
    if (sp != 0)
        l->speed = sp < 0 ? 0 : sp;
    return true;
}

void klefr_panel_draw_now(klefr_panel *p)
{
    if (p->headless)
        return;
    render(p);
    p->dirty = false;
}

uint64_t klefr_panel_due_ns(const klefr_panel *p)
{
    if (p->headless || !p->dirty) /* a running meter's frames ride on its slices */
        return 0;
    return p->next_frame_ns;
}

double klefr_panel_speed(const klefr_panel *p)
{
    return p->speed;
}

void klefr_panel_set_speed(klefr_panel *p, double speed)
{
    if (p->waiting && speed != 0) { /* step mode: Next resumes at this speed */
        p->resume_speed = speed;
        return;
    }
    if (speed != p->speed)
        tell(p, (klefr_panel_input){.kind = KLEFR_PANEL_IN_SPEED, .speed = speed});
    p->speed = speed;
    p->dirty = true;
}

uint8_t klefr_panel_held(const klefr_panel *p)
{
    return p->held;
}

uint8_t klefr_panel_buttons_shown(klefr_panel *p, double hold_s[2])
{
    klefr_panel_view v;
    view_fill(p, &v);
    if (hold_s) {
        hold_s[0] = v.held & KLEFR_BTN_LEFT ? v.hold_s[0] : 0;
        hold_s[1] = v.held & KLEFR_BTN_RIGHT ? v.hold_s[1] : 0;
    }
    return v.held;
}

const uint32_t *klefr_panel_pixels(const klefr_panel *p, int *w, int *h)
{
    *w = p->fr.cv.w;
    *h = p->fr.cv.h;
    return p->fr.valid ? p->fr.cv.px : NULL;
}

int klefr_panel_screenshot(klefr_panel *p, const char *path, int w, int h)
{
    if (w <= 0 || h <= 0) {
        w = 1400;
        h = 960;
        if (p->win)
            output_size(p, &w, &h);
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
    if (p->win) {
        output_size(p, &dw, &dh);
        SDL_GetWindowSize(p->win, &ww, &wh);
    }
    klefr_canvas c = {.w = dw, .h = dh, .scale = 1};
    klefr_panel_view v;
    view_fill(p, &v);
    float px, py;
    if (!klefr_panel_ctl_center(&c, &p->L, &v, (klefr_ctl)ctl, &px, &py))
        return false;
    *x = (int)(px * (float)ww / (float)dw);
    *y = (int)(py * (float)wh / (float)dh);
    return true;
}

/* ---- the trainer's overlay ------------------------------------------------ */

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s && *s ? strdup(s) : NULL;
}

void klefr_panel_set_caption(klefr_panel *p, const char *title, const char *text)
{
    set_str(&p->title, title);
    set_str(&p->text, text);
    p->dirty = true;
}

void klefr_panel_set_hint(klefr_panel *p, uint8_t buttons, double hold_s, const char *text)
{
    p->hint_buttons = buttons & (KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT);
    p->hint_hold_s = hold_s > 0 ? hold_s : 0;
    set_str(&p->hint_text, p->hint_buttons ? text : NULL);
    p->dirty = true;
}

void klefr_panel_show_overlay(klefr_panel *p, bool on)
{
    p->overlay = on;
    p->dirty = true;
}

void klefr_panel_set_present(klefr_panel *p, bool on)
{
    p->present = on;
    p->dirty = true;
}

void klefr_panel_show_readings(klefr_panel *p, bool on)
{
    p->show_readings = on;
    p->dirty = true;
}

void klefr_panel_set_nav(klefr_panel *p, klefr_panel_nav_fn fn, void *arg)
{
    p->nav = fn;
    p->nav_arg = arg;
    if (!fn && p->waiting) {
        p->waiting = false;
        klefr_panel_set_speed(p, p->resume_speed);
    }
    p->dirty = true;
}

void klefr_panel_wait_next(klefr_panel *p)
{
    if (!p->waiting)
        p->resume_speed = p->speed != 0 ? p->speed : 1;
    klefr_panel_set_speed(p, 0);
    p->waiting = true;
    p->dirty = true;
}

bool klefr_panel_waiting(const klefr_panel *p)
{
    return p->waiting;
}

size_t klefr_panel_trail(const klefr_panel *p, char *out, size_t size)
{
    if (!p->sim->powered)
        return (size_t)snprintf(out, size, "no supply");
    return klefr_ui_trail(&p->sim->meter, out, size);
}

void klefr_panel_set_fleet(klefr_panel *p, const klefr_panel_fleet_src *src)
{
    p->have_fleet = src != NULL;
    if (src)
        p->fleet_src = *src;
    if (src && !p->scope_v) { /* the ring the meter shown records into */
        p->scope_v = calloc(KLEFR_SIM_SCOPE_N, sizeof *p->scope_v);
        p->scope_i = calloc(KLEFR_SIM_SCOPE_N, sizeof *p->scope_i);
        if (p->scope_v && p->scope_i && !p->sim->scope_v)
            klefr_sim_set_scope(p->sim, p->scope_v, p->scope_i);
    }
    klefr_frame_invalidate(&p->fr);
    p->dirty = true;
}

void klefr_panel_show(klefr_panel *p, klefr_sim *sim, klefr_synth *synth)
{
    if (sim == p->sim)
        return;
    /* a window on one meter at a time: its own inputs go with it */
    p->mouse_held = p->key_held = 0;
    buttons_update(p);
    if (p->scope_v && p->sim->scope_v == p->scope_v)
        klefr_sim_set_scope(p->sim, NULL, NULL);
    p->sim = sim;
    p->synth = synth;
    if (p->scope_v && p->scope_i && !sim->scope_v)
        klefr_sim_set_scope(sim, p->scope_v, p->scope_i);
    if (synth)
        p->load = synth->load;
    p->load_pending = false;
    p->power = sim->powered;
    p->t2_input = sim->tariff_input;
    p->held = 0;
    p->buttons_at_us = 0;
    memset(p->press_us, 0, sizeof p->press_us);
    memset(p->release_us, 0, sizeof p->release_us);
    p->trend_n = 0;
    p->trend_next_us = sim->t_us;
    p->dirty = true;
}

void klefr_panel_on_input(klefr_panel *p, void (*fn)(void *arg, const klefr_panel_input *in),
                          void *arg)
{
    p->on_input = fn;
    p->on_input_arg = arg;
}

void klefr_panel_close(klefr_panel *p)
{
    if (!p)
        return;
    /* load changes still queued must not reach a freed panel */
    klefr_world_cancel(p->sim->world, p);
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
    if (p->scope_v && p->sim->scope_v == p->scope_v)
        klefr_sim_set_scope(p->sim, NULL, NULL);
    free(p->scope_v);
    free(p->scope_i);
    klefr_frame_free(&p->fr);
    klefr_panel_layout_free(&p->L);
    free(p->title);
    free(p->text);
    free(p->hint_text);
    free(p);
}
