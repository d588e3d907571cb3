/* klefr-bench: how fast the digital twin meters, in simulated seconds per
 * wall second (one meter at KLEFR_FS_HZ), against a bare loop doing the same
 * per-sample arithmetic in the same run. A benchmark, not a test: it prints
 * figures and never fails on a slow machine. Usage:
 *   klefr-bench [--seconds SIM_SECONDS_PER_RUN] [--runs N] [--cpu]
 *               [--only full|firmware|synth|bare]
 *   klefr-bench --fleet MAX_METERS [--seconds SIM_SECONDS]
 * --cpu times with the thread's CPU time instead of the wall clock; --only
 * times one part (profiling, or the best of several runs). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afe_kernel.h"
#include "afe_synth.h"
#include "bench_fleet.h"
#include "sim.h"

/* Wall clock, or with --cpu the CPU time of this thread: on a machine shared
 * with other work the wall clock counts the time the scheduler gave others. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 230 V 10 A PF 0.91 (25 deg), a 3rd and a 5th harmonic in both channels
 * (an electronic load on a grid with some distortion), noise, DC offsets. */
static klefr_load bench_load(void)
{
    return (klefr_load){.v_rms = 230,
                        .i_rms = 10,
                        .phi_deg = 25,
                        .freq_hz = 50,
                        .harm = {{.order = 3, .v_pct = 2, .v_phase_deg = 10, .i_pct = 25, .i_phase_deg = 40},
                                 {.order = 5, .v_pct = 3, .v_phase_deg = -20, .i_pct = 12, .i_phase_deg = 70}},
                        .n_harm = 2,
                        .noise_v_rms = 0.1,
                        .noise_i_rms = 0.002,
                        .seed = 42,
                        .dc_v = 0.5,
                        .dc_i = 0.02};
}

/* Full twin: sim loop (10 ms slices, ticks) + synthetic AFE + firmware. */
static klefr_sim sim;
static klefr_synth syn;

static double run_full(double sim_s, uint64_t *check)
{
    klefr_load l = bench_load();
    char err[128];
    klefr_synth_init(&syn, &l, NULL);
    if (klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, &syn.afe, NULL, err,
                       sizeof err)) {
        fprintf(stderr, "klefr-bench: %s\n", err);
        exit(1);
    }
    double t0 = now_s();
    klefr_sim_run_until(&sim, (uint64_t)(sim_s * 1e6));
    double dt = now_s() - t0;
    *check = sim.meter.regs.act_fwd_uwh[0];
    return dt;
}

/* Firmware alone on a pre-generated second of samples. */
static double run_firmware_only(double sim_s, uint64_t *check)
{
    static int32_t v[KLEFR_FS_HZ], i[KLEFR_FS_HZ];
    klefr_load l = bench_load();
    klefr_synth_init(&syn, &l, NULL);
    syn.afe.fill(&syn.afe, v, i, KLEFR_FS_HZ);
    char err[128];
    klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err);
    uint64_t t = 0;
    double t0 = now_s();
    for (long s = 0; s < (long)sim_s; s++)
        for (unsigned k = 0; k < KLEFR_FS_HZ; k += KLEFR_SIM_SLICE_SAMPLES) {
            klefr_meter_adc(&sim.meter, v + k, i + k, KLEFR_SIM_SLICE_SAMPLES, t);
            t += KLEFR_SIM_SLICE_US;
            klefr_meter_tick(&sim.meter, t);
        }
    double dt = now_s() - t0;
    *check = sim.meter.regs.act_fwd_uwh[0];
    return dt;
}

/* Synth alone. */
static double run_synth_only(double sim_s, uint64_t *check)
{
    int32_t v[KLEFR_SIM_SLICE_SAMPLES], i[KLEFR_SIM_SLICE_SAMPLES];
    klefr_load l = bench_load();
    klefr_synth_init(&syn, &l, NULL);
    uint64_t n = (uint64_t)(sim_s * KLEFR_FS_HZ), acc = 0;
    double t0 = now_s();
    for (uint64_t k = 0; k < n; k += KLEFR_SIM_SLICE_SAMPLES) {
        syn.afe.fill(&syn.afe, v, i, KLEFR_SIM_SLICE_SAMPLES);
        acc += (uint64_t)(v[3] ^ i[7]);
    }
    double dt = now_s() - t0;
    *check = acc;
    return dt;
}

/* The bare loop: the same arithmetic in blocks, without the twin's
 * structure (no 10 ms slices, no copies between generator, scope and
 * firmware, no ticks, no events, no truth, no energy registers): per
 * segment of KLEFR_SEG samples the generator's kernel (the same function:
 * rows of phasors, noise, ADC), then one pass of the DSP over the segment
 * as the firmware shapes it (block DC taken off, sums of v*v, i*i, v*i, v,
 * i in 64 bits, the windowed fundamental correlation of sample pairs with a
 * window x rotor table, the crossing search by the run's minimum and
 * maximum), a block end every 10 crossings (sums folded, a pulse
 * accumulator). Compiled for the same vector widths. */
#ifndef KLEFR_SIMD_CLONES
#define KLEFR_SIMD_CLONES
#endif

typedef struct {
    int64_t vv, ii, vi, v, i, vre, vim, ire, iim;
} bare_sums;

KLEFR_SIMD_CLONES
static void bare_sums_add(bare_sums *restrict s, const int32_t *restrict tc,
                          const int32_t *restrict ts, const int32_t *restrict v,
                          const int32_t *restrict i, size_t np, int32_t dv, int32_t di)
{
    bare_sums a = *s;
    for (size_t p = 0; p < np; p++) {
        int32_t x0 = v[2 * p] - dv, x1 = v[2 * p + 1] - dv;
        int32_t y0 = i[2 * p] - di, y1 = i[2 * p + 1] - di;
        a.vv += (int64_t)x0 * x0 + (int64_t)x1 * x1;
        a.ii += (int64_t)y0 * y0 + (int64_t)y1 * y1;
        a.vi += (int64_t)x0 * y0 + (int64_t)x1 * y1;
        int32_t x2 = x0 + x1, y2 = y0 + y1;
        a.v += x2, a.i += y2;
        a.vre += (int64_t)x2 * tc[p], a.vim += (int64_t)x2 * ts[p];
        a.ire += (int64_t)y2 * tc[p], a.iim += (int64_t)y2 * ts[p];
    }
    *s = a;
}

/* First k in [j, n) with (v[k] < thr) != ge, else n (minimum or maximum first). */
KLEFR_SIMD_CLONES
static size_t bare_find(const int32_t *v, size_t j, size_t n, int32_t thr, int ge)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t k = j; k < n; k++) {
        lo = v[k] < lo ? v[k] : lo;
        hi = v[k] > hi ? v[k] : hi;
    }
    if (ge ? hi < thr : lo >= thr)
        return n;
    for (; j < n; j++)
        if ((v[j] >= thr) == (ge != 0))
            return j;
    return n;
}

static double run_bare(double sim_s, uint64_t *check)
{
    /* The generator as the synth sets it up for the bench load (the same
     * tables and phasors: its first segment's input), then its own phase. */
    klefr_load l = bench_load();
    klefr_synth_init(&syn, &l, NULL);
    klefr_seg_in g = syn.seg_in;
    static int32_t tc[KLEFR_DSP_PAIRS], ts[KLEFR_DSP_PAIRS];
    const double wp = 6.283185307179586 * 50.0 / KLEFR_FS_HZ;
    for (unsigned m = 0; m < KLEFR_DSP_PAIRS; m++) {
        double w = 0.5 * (1 << 26) * (1 - cos(2 * wp * m / 10));
        tc[m] = (int32_t)lrint(w * cos(2 * wp * m));
        ts[m] = (int32_t)lrint(w * sin(2 * wp * m));
    }
    int32_t v[KLEFR_SEG], i[KLEFR_SEG];
    bare_sums s = {0};
    int64_t dcv = 0, dci = 0, pacc = 0, energy = 0;
    uint32_t n_blk = 0, cycles = 0, pulses = 0, blocks = 0;
    int armed = 0;
    uint64_t n = (uint64_t)(sim_s * KLEFR_FS_HZ);
    double t0 = now_s();
    for (uint64_t k0 = 0; k0 < n; k0 += KLEFR_SEG) {
        for (unsigned c = 0; c < g.ncomp; c++) { /* the next segment's phasors */
            double *b[2] = {g.bv[c], g.bi[c]};
            double sr = syn.seg_re[c], si = syn.seg_im[c];
            for (int q = 0; q < 2; q++) {
                double t = b[q][0] * sr - b[q][1] * si;
                b[q][1] = b[q][0] * si + b[q][1] * sr;
                b[q][0] = t;
            }
        }
        klefr_synth_segment(&g, v, i, NULL);
        int32_t dv = (int32_t)(dcv >> 14), di = (int32_t)(dci >> 14);
        size_t j = 0;
        while (j < KLEFR_SEG) {
            size_t e = KLEFR_SEG, k = j;
            if (!armed && (k = bare_find(v, j, KLEFR_SEG, dv - 131072, 0)) < KLEFR_SEG)
                armed = 1, k++;
            if (armed)
                e = bare_find(v, k, KLEFR_SEG, dv, 1);
            size_t m = (e - j) & ~(size_t)1; /* pairs (an odd one left over: the bench's
                                                 segments and blocks stay even) */
            bare_sums_add(&s, tc, ts, v + j, i + j, m / 2, dv, di);
            n_blk += (uint32_t)m;
            j += m;
            if (e < KLEFR_SEG && j == e) {
                armed = 0;
                if (++cycles == 10) { /* block end: fold, move the DC, pulses */
                    cycles = 0, blocks++;
                    energy += s.vi - (s.v * s.i) / (n_blk ? n_blk : 1);
                    pacc += s.vi;
                    while (pacc >= (1ll << 50))
                        pacc -= 1ll << 50, pulses++;
                    dcv += s.v, dci += s.i;
                    dv = (int32_t)(dcv >> 14), di = (int32_t)(dci >> 14);
                    s = (bare_sums){0};
                    n_blk = 0;
                }
            } else if (j < e) {
                j = e; /* the odd sample before a crossing or at the end: skipped */
            }
        }
    }
    double dt = now_s() - t0;
    *check = (uint64_t)(energy ^ s.vre ^ s.iim ^ s.ii ^ s.vv) + pulses + blocks;
    return dt;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double (*fn)(double, uint64_t *), double sim_s, int runs)
{
    double t[64];
    uint64_t check = 0, c;
    for (int r = 0; r < runs; r++) {
        t[r] = fn(sim_s, &c);
        check ^= c;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_d);
    if (check == 0x5EEDull) /* keeps the work observable */
        puts("");
    return t[runs / 2];
}

int main(int argc, char **argv)
{
    double sim_s = 3600;
    int runs = 5;
    const char *only = NULL; /* full, firmware, synth, bare: time one part (profiling) */
    long fleet = 0;
    static const struct option opts[] = {{"seconds", required_argument, 0, 's'},
                                         {"runs", required_argument, 0, 'r'},
                                         {"fleet", required_argument, 0, 'f'},
                                         {"cpu", no_argument, 0, 'c'},
                                         {"only", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sim_s = atof(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'c':
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
            break;
        case 'o':
            only = optarg;
            break;
        case 'f':
            fleet = atol(optarg);
            break;
        case 'h':
            puts("usage: klefr-bench [--seconds SIM_SECONDS_PER_RUN] [--runs N] [--cpu]\n"
                 "                   [--only full|firmware|synth|bare]\n"
                 "       klefr-bench --fleet MAX_METERS [--seconds SIM_SECONDS]");
            return 0;
        default:
            return 2;
        }
    }
    if (fleet > 0)
        return klefr_bench_fleet(sim_s, (size_t)fleet);
    if (sim_s < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "klefr-bench: --seconds >= 1, --runs 1..64\n");
        return 2;
    }
    double samples = sim_s * KLEFR_FS_HZ;
    if (only) {
        static const struct {
            const char *name;
            double (*fn)(double, uint64_t *);
        } parts[] = {{"full", run_full}, {"firmware", run_firmware_only}, {"synth", run_synth_only},
                     {"bare", run_bare}};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
            if (!strcmp(only, parts[k].name)) {
                double t = median_of(parts[k].fn, sim_s, runs);
                printf("%s: %.0fx real time, %.2f ns/sample\n", only, sim_s / t, t / samples * 1e9);
                return 0;
            }
        fprintf(stderr, "klefr-bench: --only full|firmware|synth|bare\n");
        return 2;
    }
    double full = median_of(run_full, sim_s, runs);
    double fw = median_of(run_firmware_only, sim_s, runs);
    double syn_t = median_of(run_synth_only, sim_s, runs);
    double bare = median_of(run_bare, sim_s, runs);
    printf("klefr-bench: one meter at %u Hz, 230 V 10 A PF 0.91 with noise, %g simulated s x %d "
           "runs (medians, %s time)\n",
           KLEFR_FS_HZ, sim_s, runs, bench_clock == CLOCK_MONOTONIC ? "wall" : "CPU");
    printf("%-28s %12s %10s\n", "", bench_clock == CLOCK_MONOTONIC ? "sim s/wall s" : "sim s/cpu s",
           "ns/sample");
    printf("%-28s %12.0f %10.2f\n", "full twin (sim+synth+fw)", sim_s / full, full / samples * 1e9);
    printf("%-28s %12.0f %10.2f\n", "  firmware only", sim_s / fw, fw / samples * 1e9);
    printf("%-28s %12.0f %10.2f\n", "  synth only", sim_s / syn_t, syn_t / samples * 1e9);
    printf("%-28s %12.0f %10.2f\n", "bare loop", sim_s / bare, bare / samples * 1e9);
    printf("ratio full / bare: %.1f %%\n", bare / full * 100.0);
    return 0;
}
