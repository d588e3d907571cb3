/* klefr-sim scenario FILE|DIR...: checks every file, runs each scenario
 * headless, prints failures and a summary table, writes the reports
 * (docs/scenarios.md). The engine is sim/scenario*.c; this only wires it. */
#include "scenario_cmd.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "progress.h"
#include "report.h"
#include "scenario.h"
#include "tour_cmd.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    const char *report, *junit, *plot;
    bool quiet;
    bool trace_modbus, trace_mbus, trace_iec, trace_events;
} scn_opts;

static const struct option long_opts[] = {
    {"report", required_argument, NULL, 'r'}, {"junit", required_argument, NULL, 'j'},
    {"plot", required_argument, NULL, 'p'},   {"trace", required_argument, NULL, 't'},
    {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: klefr-sim scenario [OPTION]... FILE|DIR...\n"
            "Run scenarios (docs/scenarios.md) headless, as fast as possible.\n\n"
            "  --report FILE.json   everything: inputs, timeline, expectations, truth\n"
            "  --junit FILE.xml     one test case per expectation\n"
            "  --plot FILE.svg      power, voltage, current, energies, events (several\n"
            "                       scenarios: FILE-<name>.svg each)\n"
            "  --trace LIST         modbus,mbus,iec frames and events (checks as they happen)\n"
            "  --quiet              only failures and errors\n"
            "  --gui                play a tour in the window: klefr-sim tour FILE (its\n"
            "                       options: --play, --speed, --layout, --handout)\n"
            "  --help               this text\n\n"
            "Exit status: 0 every expectation held, 1 one failed (or a report could not be\n"
            "written), 2 a bad scenario or option.\n");
}

static void trace_line(void *arg, const char *line)
{
    const scn_opts *o = arg;
    bool on = !strncmp(line, "iec: ", 5)      ? o->trace_iec
              : !strncmp(line, "mbus: ", 6)   ? o->trace_mbus
              : !strncmp(line, "modbus: ", 8) ? o->trace_modbus
                                              : o->trace_events;
    if (on)
        fprintf(stderr, "%s\n", line);
}

static void progress(void *arg, uint64_t t_us, uint64_t end_us)
{
    klefr_progress_update(arg, t_us, end_us);
}

static void final_json(void *arg, klefr_scn *s, const struct klefr_sim *sim)
{
    (void)arg;
    free(s->final_json);
    s->final_json = klefr_report_json(sim, "duration");
}

/* An installation: {"meters": [{"id": ..., registers...}, ...]}. */
static void final_fleet_json(void *arg, klefr_scn *s, const struct klefr_sim *const *sims,
                             const char *const *ids, size_t n)
{
    (void)arg;
    free(s->final_json);
    s->final_json = NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON *ms = j ? cJSON_AddArrayToObject(j, "meters") : NULL;
    for (size_t k = 0; ms && k < n; k++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(ms, o)) {
            cJSON_Delete(o);
            ms = NULL;
        } else if (!cJSON_AddStringToObject(o, "id", ids[k]) ||
                   !klefr_report_add(o, sims[k], "duration")) {
            ms = NULL; /* out of memory: no registers rather than some */
        }
    }
    if (ms)
        s->final_json = cJSON_Print(j);
    cJSON_Delete(j);
}

/* Files to run: each FILE, and every *.json of each DIR (sorted; not schema.json).
 * A DIR without one is an error (said here; *empty counts them): a mistyped
 * folder among others would silently run nothing of it. */
static int collect(char **argv, int argc, char ***out, size_t *n, int *empty)
{
    *empty = 0;
    size_t cap = 16;
    char **list = malloc(cap * sizeof *list);
    *n = 0;
    for (int k = 0; k < argc && list; k++) {
        struct stat st;
        struct dirent **ents = NULL;
        int m = stat(argv[k], &st) == 0 && S_ISDIR(st.st_mode)
                    ? scandir(argv[k], &ents, NULL, alphasort)
                    : -1;
        if (m < 0) {
            list[(*n)++] = strdup(argv[k]);
        } else {
            size_t before = *n;
            for (int e = 0; e < m; e++) {
                const char *d = ents[e]->d_name;
                size_t len = strlen(d);
                if (len > 5 && !strcmp(d + len - 5, ".json") && strcmp(d, "schema.json") &&
                    d[0] != '.') {
                    if (*n + 1 >= cap)
                        list = realloc(list, (cap *= 2) * sizeof *list);
                    if (!list)
                        break;
                    size_t plen = strlen(argv[k]) + len + 2;
                    list[*n] = malloc(plen);
                    if (list[*n]) {
                        bool slash = argv[k][strlen(argv[k]) - 1] == '/';
                        snprintf(list[*n], plen, "%s%s%s", argv[k], slash ? "" : "/", d);
                        (*n)++;
                    }
                }
                free(ents[e]);
            }
            free(ents);
            if (list && *n == before) {
                fprintf(stderr, "%s: no *.json scenario in this folder\n", argv[k]);
                ++*empty;
            }
        }
        if (list && *n + 1 >= cap)
            list = realloc(list, (cap *= 2) * sizeof *list);
    }
    *out = list;
    return list ? 0 : -1;
}

static int parse_opts(scn_opts *o, int argc, char **argv)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->report = optarg;
            break;
        case 'j':
            o->junit = optarg;
            break;
        case 'p':
            o->plot = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 't': {
            static const char *const words[] = {"modbus", "mbus", "iec", "events", NULL};
            bool *on[] = {&o->trace_modbus, &o->trace_mbus, &o->trace_iec, &o->trace_events};
            if (klefr_cli_words(optarg, words, on) < 0) {
                fprintf(stderr, "klefr-sim scenario: --trace '%s': expected modbus, mbus, "
                                "iec or events (comma-separated)\n", optarg);
                return -1;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 1;
        case ':':
            fprintf(stderr, "klefr-sim scenario: %s: needs an argument\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "klefr-sim scenario: %s: unknown option\n(try klefr-sim scenario "
                            "--help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "klefr-sim scenario: no scenario given\n(try klefr-sim scenario --help)\n");
        return -1;
    }
    return 0;
}

/* FILE.svg for one scenario; FILE-<name>.svg for each of several. */
static void plot_path(const char *plot, const klefr_scn *s, bool several, char *out, size_t n)
{
    if (!several) {
        snprintf(out, n, "%s", plot);
        return;
    }
    const char *base = strrchr(s->file, '/') ? strrchr(s->file, '/') + 1 : s->file;
    size_t blen = strlen(base) > 5 ? strlen(base) - 5 : strlen(base); /* without .json */
    size_t plen = strlen(plot);
    if (plen > 4 && !strcmp(plot + plen - 4, ".svg"))
        plen -= 4;
    snprintf(out, n, "%.*s-%.*s.svg", (int)plen, plot, (int)blen, base);
}

static void summary(klefr_scn **s, size_t n)
{
    size_t w = 8, pass = 0, held = 0, total = 0;
    for (size_t k = 0; k < n; k++)
        w = strlen(s[k]->file) > w ? strlen(s[k]->file) : w;
    w = w > 60 ? 60 : w;
    printf("%-*s  %10s  %8s  %7s  %s\n", (int)w, "scenario", "sim time", "wall", "checks",
           "result");
    for (size_t k = 0; k < n; k++) {
        char sim[24], checks[24];
        klefr_fmt_duration(sim, sizeof sim, (double)s[k]->duration_us / 1e6);
        snprintf(checks, sizeof checks, "%zu/%zu", s[k]->npass, s[k]->nex);
        bool ok = s[k]->ran && s[k]->nfail == 0;
        printf("%-*.*s  %10s  %6.1f s  %7s  %s\n", (int)w, (int)w, s[k]->file, sim, s[k]->wall_s,
               checks, ok ? "pass" : "FAIL");
        pass += ok;
        held += s[k]->npass;
        total += s[k]->nex;
    }
    printf("%zu scenario%s: %zu passed, %zu failed; %zu of %zu expectations held\n", n,
           n == 1 ? "" : "s", pass, n - pass, held, total);
}

int klefr_scenario_main(int argc, char **argv)
{
    /* "scenario FILE --gui" is "tour FILE" (docs/tours.md): the window's player. */
    for (int k = 1; k < argc && strcmp(argv[k], "--"); k++)
        if (!strcmp(argv[k], "--gui")) {
            memmove(&argv[k], &argv[k + 1], (size_t)(argc - k) * sizeof *argv);
            return klefr_tour_main(argc - 1, argv);
        }
    scn_opts o = {0};
    int rc = parse_opts(&o, argc, argv);
    if (rc != 0)
        return rc > 0 ? KLEFR_EXIT_OK : KLEFR_EXIT_USAGE;
    char **files;
    size_t nfiles;
    int empty;
    if (collect(argv + optind, argc - optind, &files, &nfiles, &empty) < 0) {
        fprintf(stderr, "klefr-sim scenario: out of memory\n");
        return KLEFR_EXIT_RUNTIME;
    }
    klefr_scn **scn = calloc(nfiles ? nfiles : 1, sizeof *scn);
    int exit_code = KLEFR_EXIT_OK;
    /* Check every file before anything runs. */
    for (size_t k = 0; scn && k < nfiles; k++) {
        char err[1024];
        if (klefr_scn_load(&scn[k], files[k], err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            exit_code = KLEFR_EXIT_USAGE;
        }
    }
    if (!scn) {
        fprintf(stderr, "klefr-sim scenario: out of memory\n");
        exit_code = KLEFR_EXIT_RUNTIME;
    }
    if (empty)
        exit_code = KLEFR_EXIT_USAGE;
    else if (nfiles == 0) {
        fprintf(stderr, "klefr-sim scenario: no *.json scenario found\n");
        exit_code = KLEFR_EXIT_USAGE;
    }
    if (exit_code == KLEFR_EXIT_OK) {
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        char started[40];
        time_t now = time(NULL);
        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        for (size_t k = 0; k < nfiles && !stop_requested; k++) {
            klefr_progress bar;
            klefr_progress_start(&bar, stderr, scn[k]->file, 0);
            klefr_scn_run_opts ro = {.trace = trace_line,
                                     .trace_arg = &o,
                                     .trace_frames = o.trace_modbus || o.trace_mbus || o.trace_iec,
                                     .trace_events = o.trace_events,
                                     .progress = progress,
                                     .progress_arg = &bar,
                                     .stop = &stop_requested,
                                     .final = final_json,
                                     .final_fleet = final_fleet_json};
            char err[512];
            uint64_t w0 = klefr_wall_ns();
            int r = klefr_scn_run(scn[k], &ro, err, sizeof err);
            scn[k]->wall_s = (double)(klefr_wall_ns() - w0) / 1e9;
            klefr_progress_end(&bar);
            if (r < 0) {
                fprintf(stderr, "klefr-sim scenario: %s\n", err);
                exit_code = KLEFR_EXIT_RUNTIME;
            }
            for (size_t e = 0; e < scn[k]->nex; e++)
                if (scn[k]->ex[e].state == KLEFR_SCN_FAIL) {
                    char line[900];
                    klefr_scn_failure_line(scn[k], &scn[k]->ex[e], line, sizeof line);
                    printf("%s\n", line);
                    exit_code = KLEFR_EXIT_RUNTIME;
                }
            fflush(stdout);
        }
        if (stop_requested) {
            fprintf(stderr, "klefr-sim scenario: stopped by a signal\n");
            exit_code = KLEFR_EXIT_RUNTIME;
        }
        if (!o.quiet)
            summary(scn, nfiles);
        if (o.report && klefr_scn_report_json(scn, nfiles, o.report, started) < 0) {
            fprintf(stderr, "klefr-sim scenario: --report %s: %s\n", o.report, strerror(errno));
            exit_code = KLEFR_EXIT_RUNTIME;
        }
        if (o.junit && klefr_scn_report_junit(scn, nfiles, o.junit) < 0) {
            fprintf(stderr, "klefr-sim scenario: --junit %s: %s\n", o.junit, strerror(errno));
            exit_code = KLEFR_EXIT_RUNTIME;
        }
        for (size_t k = 0; o.plot && k < nfiles; k++) {
            char path[4400];
            plot_path(o.plot, scn[k], nfiles > 1, path, sizeof path);
            if (scn[k]->ran && klefr_scn_report_svg(scn[k], path) < 0) {
                fprintf(stderr, "klefr-sim scenario: --plot %s: %s\n", path, strerror(errno));
                exit_code = KLEFR_EXIT_RUNTIME;
            }
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "klefr-sim scenario: stdout: %s\n", strerror(errno));
            exit_code = KLEFR_EXIT_RUNTIME;
        }
    }
    for (size_t k = 0; k < nfiles; k++) {
        if (scn)
            klefr_scn_free(scn[k]);
        free(files[k]);
    }
    free(scn);
    free(files);
    return exit_code;
}
