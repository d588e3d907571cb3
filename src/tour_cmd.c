/* klefr-sim tour FILE: a guided tour (docs/tours.md). Headless it plays the
 * tour flat out and prints every step with the LCD it ends on (the same
 * checks as `klefr-sim scenario`); --handout DIR also draws the meter at each
 * step's end and writes a printable page. */
#include "tour_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scenario.h"
#include "sim.h"
#include "tour_handout.h"
#include "tour_window.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    bool headless;
    const char *handout;
    tour_window_opts win;
} tour_opts;

static const struct option long_opts[] = {
    {"headless", no_argument, NULL, 'H'}, {"handout", required_argument, NULL, 'o'},
    {"play", no_argument, NULL, 'p'},     {"speed", required_argument, NULL, 's'},
    {"layout", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim tour [OPTION]... FILE\n"
               "Play a guided tour (docs/tours.md): a scenario whose steps have captions, hints\n"
               "and the LCD text each one ends on.\n\n"
               "  --headless      no window: play it as fast as possible, print each step and\n"
               "                  its LCD, check every step (as klefr-sim scenario does)\n"
               "  --handout DIR   no window: also DIR/step-NN.png, the meter at the end of each\n"
               "                  step, and DIR/index.html, a page to print\n"
               "  --play          the window runs on (default: it waits at each caption for\n"
               "                  Next: Space, PgDn or a click; Back: PgUp or Backspace)\n"
               "  --speed X|max   the window's speed: 0.25, 0.5, 1 (default), 10 ... or max\n"
               "  --layout present|normal  the window's layout (F11 switches)\n"
               "  --help          this text\n\n"
               "Exit status: 0 every check held, 1 one failed (or a file could not be written),\n"
               "2 a bad tour or option.\n");
}

static int parse_opts(tour_opts *o, int argc, char **argv)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            o->headless = true;
            break;
        case 'o':
            o->handout = optarg;
            o->headless = true;
            break;
        case 'p':
            o->win.play = true;
            break;
        case 's': {
            char *end;
            double x = strtod(optarg, &end);
            if (!strcmp(optarg, "max")) {
                o->win.speed = -1; /* KLEFR_PANEL_SPEED_MAX */
            } else if (end != optarg && !*end && x > 0 && x <= 1e6) {
                o->win.speed = x;
            } else {
                fprintf(stderr, "klefr-sim tour: --speed '%s': expected a ratio above 0 "
                                "(0.25, 1, 10) or max\n", optarg);
                return -1;
            }
            break;
        }
        case 'l':
            if (strcmp(optarg, "present") && strcmp(optarg, "normal")) {
                fprintf(stderr, "klefr-sim tour: --layout '%s': expected present or normal\n",
                        optarg);
                return -1;
            }
            o->win.present = !strcmp(optarg, "present");
            break;
        case 'h':
            usage(stdout);
            return 1;
        case ':':
            fprintf(stderr, "klefr-sim tour: %s: needs an argument\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "klefr-sim tour: %s: unknown option\n(try klefr-sim tour --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "klefr-sim tour: %s\n(try klefr-sim tour --help)\n",
                optind >= argc ? "no tour given" : "one tour at a time");
        return -1;
    }
    return 0;
}

void klefr_tour_print_head(FILE *f, const klefr_scn *s)
{
    const char *id = klefr_scn_meter_id(s, s->tour_meter); /* of an installation */
    fprintf(f, "%s: %s (KLEFR %d%s%s%s%s), %zu steps\n", s->file, s->name,
            (int)klefr_scn_meter_model(s, s->tour_meter), *id ? " " : "", id,
            s->tour_manual[0] ? ", manual " : "", s->tour_manual, s->nstep);
}

size_t klefr_tour_print_failures(FILE *f, const klefr_scn *s)
{
    size_t n = 0;
    for (size_t e = 0; e < s->nex; e++)
        if (s->ex[e].state == KLEFR_SCN_FAIL) {
            char line[900];
            klefr_scn_failure_line(s, &s->ex[e], line, sizeof line);
            fprintf(f, "%s\n", line);
            n++;
        }
    return n;
}

/* "step 3/9 t=9.70 s: FW << | 10 | SEC" and how the step's check went. */
void klefr_tour_print_step(FILE *f, const klefr_scn *s, size_t k, const char *lcd)
{
    const klefr_scn_step *st = &s->step[k];
    const klefr_scn_expect *e = &s->ex[st->lcd_ex];
    fprintf(f, "step %zu/%zu t=%.2f s: %s\n", k + 1, s->nstep, (double)st->end_us / 1e6, lcd);
    fprintf(f, "    %s%s%s%s\n", st->title, st->hint[0] ? " [" : "", st->hint,
            st->hint[0] ? "]" : "");
    if (e->state == KLEFR_SCN_FAIL)
        fprintf(f, "    FAIL: the tour expects \"%s\"\n", st->lcd);
}

static int play_headless(klefr_scn *s, const tour_opts *o)
{
    char err[600];
    klefr_scn_run_opts ro = {.stop = &stop_requested};
    klefr_scn_runner *r;
    if (klefr_scn_runner_open(s, &ro, &r, err, sizeof err) < 0) {
        fprintf(stderr, "klefr-sim tour: %s\n", err);
        return KLEFR_EXIT_RUNTIME;
    }
    int rc = KLEFR_EXIT_OK;
    klefr_handout *h = NULL;
    if (o->handout && !(h = klefr_handout_open(o->handout, klefr_scn_runner_sim(r), err,
                                               sizeof err))) {
        fprintf(stderr, "klefr-sim tour: --handout %s\n", err);
        klefr_scn_runner_free(r);
        return KLEFR_EXIT_RUNTIME;
    }
    klefr_tour_print_head(stdout, s);
    klefr_loop_result res = KLEFR_LOOP_END;
    for (size_t k = 0; k < s->nstep && res == KLEFR_LOOP_END; k++) {
        res = klefr_scn_runner_to(r, s->step[k].end_us);
        if (res != KLEFR_LOOP_END)
            break;
        char lcd[200];
        klefr_scn_lcd(klefr_scn_runner_sim(r), lcd, sizeof lcd);
        klefr_tour_print_step(stdout, s, k, lcd);
        if (h && klefr_handout_step(h, s, k, lcd, err, sizeof err) < 0) {
            fprintf(stderr, "klefr-sim tour: --handout %s\n", err);
            rc = KLEFR_EXIT_RUNTIME;
            break;
        }
    }
    if (res == KLEFR_LOOP_END && rc == KLEFR_EXIT_OK)
        res = klefr_scn_runner_to(r, s->duration_us);
    if (klefr_scn_runner_finish(r, res, err, sizeof err) < 0) {
        fprintf(stderr, "klefr-sim tour: %s\n", err);
        rc = KLEFR_EXIT_RUNTIME;
    }
    if (h && klefr_handout_finish(h, s, err, sizeof err) < 0) { /* before the sim goes */
        fprintf(stderr, "klefr-sim tour: --handout %s\n", err);
        rc = KLEFR_EXIT_RUNTIME;
    }
    klefr_scn_runner_free(r);
    if (klefr_tour_print_failures(stdout, s))
        rc = KLEFR_EXIT_RUNTIME;
    if (stop_requested) {
        fprintf(stderr, "klefr-sim tour: stopped by a signal\n");
        rc = KLEFR_EXIT_RUNTIME;
    }
    printf("%zu steps; %zu of %zu checks held%s%s\n", s->nstep, s->npass, s->nex,
           o->handout ? "; handout in " : "", o->handout ? o->handout : "");
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = KLEFR_EXIT_RUNTIME;
    return rc;
}

int klefr_tour_main(int argc, char **argv)
{
    tour_opts o = {.win = {.speed = 1, .stop = &stop_requested}};
    int rc = parse_opts(&o, argc, argv);
    if (rc != 0)
        return rc > 0 ? KLEFR_EXIT_OK : KLEFR_EXIT_USAGE;
    klefr_scn *s;
    char err[1024];
    if (klefr_scn_load(&s, argv[optind], err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return KLEFR_EXIT_USAGE;
    }
    if (s->nstep == 0) {
        fprintf(stderr, "%s: not a tour (no \"tour\" section; run it with klefr-sim scenario)\n",
                s->file);
        klefr_scn_free(s);
        return KLEFR_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!o.headless && !klefr_have_display()) {
        fprintf(stderr, "klefr-sim tour: no display: playing headless\n");
        o.headless = true;
    }
    rc = o.headless ? play_headless(s, &o) : klefr_tour_window(s, &o.win);
    klefr_scn_free(s);
    return rc;
}
