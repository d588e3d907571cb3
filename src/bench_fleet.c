/* klefr-bench --fleet: what installations of many meters cost (docs/performance.md).
 * For N meters, each with its own waveform at the full sample rate (a seeded
 * share of a site load with noise), on M-bus lines of at most 250 meters:
 * the time to start them, the memory one takes, and the share of one CPU
 * core it takes to run them in real time (CPU seconds per simulated second),
 * all in one run. Then one line of 1000 meters with a master polling them
 * back to back (REQ_UD2 to one meter after another at 9600 baud): what the
 * line's traffic adds. A benchmark: it prints figures, never fails on a slow
 * machine. */
#include "bench_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"
#include "load_spec.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident memory of the process, bytes. */
static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

/* N meters (6923) on ceil(N / per_line) M-bus lines. */
static klefr_fleet_spec *make_spec(size_t n, size_t per_line)
{
    klefr_fleet_spec *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    klefr_fleet_spec_init(s, "bench");
    size_t nl = (n + per_line - 1) / per_line;
    s->lines = calloc(nl, sizeof *s->lines);
    s->meters = calloc(n, sizeof *s->meters);
    if (!s->lines || !s->meters) {
        klefr_fleet_spec_free(s);
        return NULL;
    }
    char err[128];
    klefr_load_spec_parse("230V,5A,pf=0.95L,noise=0.1/0.002,dc=0.5/0.02", &s->site_load, err,
                          sizeof err);
    s->spread = 0.5;
    for (size_t k = 0; k < nl; k++, s->nlines++) {
        klefr_fleet_line_spec *l = &s->lines[k];
        snprintf(l->id, sizeof l->id, "mbus%zu", k + 1);
        l->bus = KLEFR_BUS_MBUS;
        l->fmt = (klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1};
    }
    for (size_t k = 0; k < n; k++, s->nmeters++) {
        klefr_fleet_meter_spec *m = &s->meters[k];
        snprintf(m->id, sizeof m->id, "m%zu", k + 1);
        m->model = KLEFR_MODEL_6923;
        m->serial = (uint32_t)(0x20000000u + k); /* BCD-ish, unique */
        m->line = (int)(k / per_line);
        m->share = 1;
        m->load_kind = KLEFR_FLEET_LOAD_SITE;
        m->profile = -1;
        /* 1..250 on each line; the rest at 0, as delivered (not polled) */
        klefr_fleet_meter_setting(m, "mbus_id", k % per_line < 250 ? (uint32_t)(k % per_line + 1) : 0);
    }
    klefr_fleet_spec_reseed(s);
    return s;
}

typedef struct {
    size_t n, lines;
    double start_ms, start_cpu_ms, bytes, rss, speed, share;
} row;

static int run_size(size_t n, double sim_s, row *out)
{
    klefr_fleet_spec *s = make_spec(n, 250);
    if (!s)
        return -1;
    char err[256];
    double m0 = rss_bytes(), t0 = wall_s(), u0 = cpu_s();
    klefr_fleet *f = klefr_fleet_open(s, NULL, err, sizeof err);
    double t1 = wall_s(), u1 = cpu_s();
    if (!f) {
        fprintf(stderr, "klefr-bench: %s\n", err);
        klefr_fleet_spec_free(s);
        return -1;
    }
    double m1 = rss_bytes();
    for (size_t k = 0; k < f->nmeters; k++)
        f->meters[k].sim->hal.trace = NULL;
    double c0 = cpu_s(), w0 = wall_s();
    klefr_world_run_until(&f->world, (uint64_t)(sim_s * 1e6));
    double c1 = cpu_s(), w1 = wall_s();
    *out = (row){n, s->nlines, (t1 - t0) * 1e3, (u1 - u0) * 1e3, (double)klefr_fleet_meter_bytes(),
                 (m1 - m0) / (double)n, sim_s / (w1 - w0), (c1 - c0) / sim_s};
    klefr_fleet_close(f);
    klefr_fleet_spec_free(s);
    return 0;
}

/* ---- one line of 1000 meters, polled back to back ---- */

typedef struct {
    klefr_line_ep *ep;
    uint8_t addr;
    size_t n_meters;
    uint64_t replies, bytes;
    klefr_world *w;
    size_t got;       /* bytes of the reply so far */
    size_t want;
} poller;

static void poll_next(void *arg, uint64_t t_us);

static void poll_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    poller *p = arg;
    (void)flags;
    p->bytes++;
    if (p->got == 1 && p->want == 0)
        p->want = (size_t)byte + 6; /* 68 L L 68 ... : L + 6 bytes */
    p->got++;
    if (p->want && p->got == p->want) {
        p->replies++;
        /* the next request 11 bit times after the reply (a fast master) */
        klefr_world_post(p->w, &(klefr_sim_event){.t_us = t_us + 1200, .kind = KLEFR_EV_CALL,
                                                  .fn = poll_next, .arg = p});
    }
}

static void poll_next(void *arg, uint64_t t_us)
{
    poller *p = arg;
    p->addr = (uint8_t)(p->addr % 250 + 1);
    uint8_t f[5] = {0x10, 0x5B, p->addr, (uint8_t)(0x5B + p->addr), 0x16};
    p->got = p->want = 0;
    klefr_line_send(p->ep, f, sizeof f, t_us);
}

/* CPU share of one core for 1000 meters on one M-bus line, quiet and polled. */
static int run_line(double sim_s, double *quiet, double *busy, double *polls_per_s)
{
    klefr_fleet_spec *s = make_spec(1000, 1000);
    if (!s)
        return -1;
    char err[256];
    for (int pass = 0; pass < 2; pass++) {
        klefr_fleet *f = klefr_fleet_open(s, NULL, err, sizeof err);
        if (!f) {
            fprintf(stderr, "klefr-bench: %s\n", err);
            klefr_fleet_spec_free(s);
            return -1;
        }
        for (size_t k = 0; k < f->nmeters; k++)
            f->meters[k].sim->hal.trace = NULL;
        poller p = {.n_meters = 1000, .w = &f->world};
        klefr_uart_cfg fmt = {9600, 8, KLEFR_PARITY_EVEN, 1};
        p.ep = klefr_line_attach(f->lines[0].line, "master", KLEFR_LINE_MASTER, &fmt, poll_rx, &p);
        if (pass == 1)
            poll_next(&p, 0);
        double c0 = cpu_s();
        klefr_world_run_until(&f->world, (uint64_t)(sim_s * 1e6));
        double c = (cpu_s() - c0) / sim_s;
        if (pass == 0)
            *quiet = c;
        else {
            *busy = c;
            *polls_per_s = (double)p.replies / sim_s;
        }
        klefr_fleet_close(f);
    }
    klefr_fleet_spec_free(s);
    return 0;
}

int klefr_bench_fleet(double sim_s, size_t max_meters)
{
    static const size_t sizes[] = {1, 10, 100, 1000, 10000, 100000};
    printf("klefr-bench --fleet: 6923s at %u Hz, each its own waveform (230 V, 5 A x a seeded "
           "spread of +-50 %%, PF 0.95, noise), M-bus lines of up to 250 meters, %g simulated s\n",
           KLEFR_FS_HZ, sim_s);
    printf("%7s %6s %16s %12s %11s %13s %22s\n", "meters", "lines", "start ms (CPU)",
           "bytes/meter", "RSS/meter", "sim s/wall s", "CPU share (real time)");
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] && sizes[k] <= max_meters; k++) {
        row r;
        /* keep each run to a few seconds of CPU */
        double s = sizes[k] >= 10000 ? sim_s / 10 : sim_s;
        if (run_size(sizes[k], s < 1 ? 1 : s, &r) < 0)
            return 1;
        printf("%7zu %6zu %7.1f (%6.1f) %12.0f %8.1f KB %12.*fx %20.2f %%\n", r.n, r.lines,
               r.start_ms, r.start_cpu_ms, r.bytes, r.rss / 1024, r.speed < 10 ? 2 : 0, r.speed,
               r.share * 100);
        fflush(stdout);
    }
    double quiet, busy, pps;
    if (max_meters >= 1000 && run_line(sim_s / 2 < 1 ? 1 : sim_s / 2, &quiet, &busy, &pps) == 0)
        printf("one M-bus line of 1000 meters: quiet %.2f %%, polled back to back at 9600 baud "
               "(%.1f REQ_UD2 + RSP_UD a second, every meter decoding every request) %.2f %% of "
               "a core\n",
               quiet * 100, pps, busy * 100);
    return 0;
}
