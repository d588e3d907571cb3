/* klefr-sim tour FILE in the window: the panel shows each step's caption,
 * the menu trail and the hint on the next button; in step mode (the
 * default) meter time stops at every caption until Next (Space, PgDn, the
 * Next control, a click on it), then the step's presses play, animated like
 * mouse presses. Back (PgUp, Backspace) restarts the step from a snapshot of
 * the whole run taken at its start; pressed again at a step's start it goes
 * one step further back. The speed control includes 0.25x and 0.5x for holds.
 * Every step's end prints the same line as --headless, so the two can be
 * compared. */
#include "tour_window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "panel.h"
#include "sim.h"
#include "tour_cmd.h"

typedef struct {
    klefr_scn *s;
    klefr_scn_runner *r;
    klefr_panel *panel;
    klefr_loop loop;
    klefr_scn_snapshot **snap; /* per step, taken at its start */
    const tour_window_opts *o;
    size_t k; /* the step shown */
    bool waiting; /* its caption waits for Next */
    bool back, quit;
} tour_window;

static void on_nav(void *arg, klefr_panel_nav nav)
{
    tour_window *w = arg;
    if (nav == KLEFR_PANEL_BACK)
        w->back = true;
    /* Where meter time stood when Next came (tests compare it with the
     * step's start: nothing of a step runs before its Next). */
    if (nav == KLEFR_PANEL_NEXT && w->waiting && w->k < w->s->nstep) {
        w->waiting = false; /* a Next while the step plays does nothing: no line */
        printf("next %zu/%zu t=%.2f s\n", w->k + 1, w->s->nstep,
               (double)klefr_scn_runner_sim(w->r)->t_us / 1e6);
        fflush(stdout);
    }
}

/* The loop follows the window's speed control (0 = paused, or waiting for Next). */
static void follow_speed(tour_window *w)
{
    double sp = klefr_panel_speed(w->panel);
    w->loop.paused = sp == 0;
    if (sp != 0)
        w->loop.speed = sp < 0 ? 0 : sp;
}

/* Once per loop iteration: the window draws, takes input, steers the speed;
 * a Back or a closed window ends the loop. */
static bool hook(void *arg, klefr_sim *sim, uint64_t t_us)
{
    tour_window *w = arg;
    (void)sim, (void)t_us;
    if (!klefr_panel_frame(w->panel, w->loop.paused ? 50 : 0)) {
        w->quit = true;
        return false;
    }
    w->loop.hook_wake_ns = klefr_panel_due_ns(w->panel);
    follow_speed(w);
    return !w->back && !w->quit;
}

static void show_step(tour_window *w, size_t k)
{
    const klefr_scn *s = w->s;
    const klefr_scn_step *st = &s->step[k];
    char title[300];
    snprintf(title, sizeof title, "%zu/%zu  %s", k + 1, s->nstep, st->title);
    klefr_panel_set_caption(w->panel, title, st->text ? st->text : "");
    klefr_panel_set_hint(w->panel, st->hint_buttons, st->hint_hold_s,
                         st->hint[0] ? st->hint : NULL);
    if (w->o->play)
        return;
    klefr_panel_wait_next(w->panel);
    w->waiting = true;
}

/* The run from where it is to t_us, paced by the window. */
static klefr_loop_result run_to(tour_window *w, uint64_t t_us)
{
    w->loop.t_end_us = t_us;
    follow_speed(w); /* a step that waits for Next does not run a moment first */
    klefr_loop_result res = klefr_loop_run(&w->loop);
    return w->back || w->quit ? KLEFR_LOOP_QUIT : res;
}

int klefr_tour_window(klefr_scn *s, const tour_window_opts *o)
{
    char err[600];
    static volatile sig_atomic_t never;
    klefr_scn_run_opts ro = {.stop = o->stop ? o->stop : &never};
    tour_window w = {.s = s, .o = o};
    if (klefr_scn_runner_open(s, &ro, &w.r, err, sizeof err) < 0) {
        fprintf(stderr, "klefr-sim tour: %s\n", err);
        return KLEFR_EXIT_RUNTIME;
    }
    klefr_sim *sim = klefr_scn_runner_sim(w.r);
    klefr_panel_opts po = {.synth = klefr_scn_runner_synth(w.r),
                           .speed = o->speed,
                           .present = o->present};
    w.panel = klefr_panel_open(sim, &po, err, sizeof err);
    w.snap = calloc(s->nstep, sizeof *w.snap);
    if (!w.panel || !w.snap) {
        fprintf(stderr, "klefr-sim tour: panel: %s (try --headless)\n",
                w.panel ? "out of memory" : err);
        klefr_panel_close(w.panel);
        free(w.snap);
        klefr_scn_runner_free(w.r);
        return KLEFR_EXIT_RUNTIME;
    }
    klefr_panel_set_nav(w.panel, on_nav, &w);
    klefr_panel_show_overlay(w.panel, true);
    w.loop = (klefr_loop){.sim = sim, .speed = o->speed > 0 ? o->speed : 0,
                          .stop = ro.stop, .hook = hook, .hook_arg = &w};
    klefr_tour_print_head(stdout, s);
    fflush(stdout);
    klefr_loop_result res = KLEFR_LOOP_END;
    size_t k = 0;
    while (k < s->nstep) {
        /* Up to the caption (the first step's start; later ones start where
         * the one before ended). */
        if (sim->t_us < s->step[k].t_us) {
            res = run_to(&w, s->step[k].t_us);
            if (w.back) { /* nothing before the first step to go back to */
                w.back = false;
                continue;
            }
            if (w.quit || *ro.stop || res != KLEFR_LOOP_END)
                break;
        }
        w.k = k;
        if (!w.snap[k])
            w.snap[k] = klefr_scn_runner_save(w.r); /* NULL: no Back here (a recording) */
        show_step(&w, k);
        res = run_to(&w, s->step[k].end_us);
        if (w.quit || *ro.stop)
            break;
        if (w.back) {
            w.back = false;
            /* Back at a step's very start goes to the step before. */
            if (sim->t_us <= s->step[k].t_us && k > 0 && w.snap[k - 1])
                k--;
            if (w.snap[k])
                klefr_scn_runner_restore(w.r, w.snap[k]);
            continue;
        }
        if (res != KLEFR_LOOP_END)
            break;
        char lcd[200];
        klefr_scn_lcd(sim, lcd, sizeof lcd);
        klefr_tour_print_step(stdout, s, k, lcd);
        fflush(stdout);
        k++;
    }
    bool done = k == s->nstep;
    w.k = k;
    if (done && !w.quit) /* the rest of the scenario, if it lasts longer */
        res = run_to(&w, s->duration_us);
    if (klefr_scn_runner_finish(w.r, done ? KLEFR_LOOP_END : res, err, sizeof err) < 0)
        fprintf(stderr, "klefr-sim tour: %s\n", err);
    int rc = done && klefr_tour_print_failures(stdout, s) ? KLEFR_EXIT_RUNTIME : KLEFR_EXIT_OK;
    if (done) {
        printf("%zu steps; %zu of %zu checks held\n", s->nstep, s->npass, s->nex);
        fflush(stdout);
        char text[300];
        snprintf(text, sizeof text, "%zu steps; %zu of %zu checks held. Next closes the window.",
                 s->nstep, s->npass, s->nex);
        klefr_panel_set_caption(w.panel, "The end of the tour", text);
        klefr_panel_set_hint(w.panel, 0, 0, NULL);
        klefr_panel_wait_next(w.panel);
        /* The window stays until Next or close, the meter stopped. */
        w.loop.t_end_us = sim->t_us;
        while (!w.quit && !*ro.stop && klefr_panel_waiting(w.panel))
            if (!klefr_panel_frame(w.panel, 20))
                break;
    } else {
        printf("tour stopped at step %zu/%zu\n", k + 1, s->nstep);
    }
    fflush(stdout);
    /* Let the window settle before it goes: SDL 2.26 on X11 can send to a
     * window destroyed right after input woke it (BadWindow, and Xlib exits
     * with status 1). */
    for (uint64_t t0 = klefr_wall_ns(); klefr_wall_ns() - t0 < 300000000u;)
        klefr_panel_frame(w.panel, 20);
    klefr_panel_close(w.panel);
    for (size_t j = 0; j < s->nstep; j++)
        klefr_scn_snapshot_free(w.snap[j]);
    free(w.snap);
    klefr_scn_runner_free(w.r);
    return rc;
}
