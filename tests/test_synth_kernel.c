/* The generator's inner loop (sim/afe_kernel.c) gives the same ADC codes
 * whichever way it is compiled: the library's build (vector extension,
 * compiled for AVX-512, AVX2 and SSE2, the widest the CPU has chosen at run
 * time) against the plain loops compiled here without vector code of our
 * own, for loads with harmonics, noise, offsets and clipping; and its float
 * samples stay within 1 LSB of the same scheme worked in double. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_kernel.h"

/* The same source under another name: plain C at the build's optimisation,
 * or (meson, x86-64) at -O3 for one x86-64 level, KLEFR_TEST_ARCH. */
#ifdef KLEFR_TEST_ARCH
#define KLEFR_SIMD_CLONES __attribute__((target("arch=" KLEFR_TEST_ARCH)))
#else
#define KLEFR_SIMD_CLONES
#endif
#define klefr_synth_segment klefr_synth_segment_portable
#define klefr_seg_steps klefr_seg_steps_portable
#include "../sim/afe_kernel.c"
#undef klefr_synth_segment
#undef klefr_seg_steps
void klefr_synth_segment(const klefr_seg_in *g, int32_t *v, int32_t *i, uint8_t *clip);

static uint64_t rng = 0x1234567;
static double uni(void)
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* The same row scheme worked in double (the kernel until 2026-11-30): the
 * reference for the float kernel's accuracy. */
typedef struct {
    double er[KLEFR_SEG_COMP][KLEFR_SEG_ROW], ei[KLEFR_SEG_COMP][KLEFR_SEG_ROW];
    double w0; /* component 0's step, radians a sample */
} dbl_tables;

static int32_t code_dbl(double x)
{
    x = x < KLEFR_ADC_FULL_SCALE - 1.0 ? x : KLEFR_ADC_FULL_SCALE - 1.0;
    x = x > -KLEFR_ADC_FULL_SCALE ? x : -KLEFR_ADC_FULL_SCALE;
    return (int32_t)floor(x + 0.5);
}

static void segment_dbl(const klefr_seg_in *g, const dbl_tables *t, int32_t *v, int32_t *i)
{
    double b[KLEFR_SEG_COMP][2][2] = {{{0}}};
    for (unsigned c = 0; c < g->ncomp; c++)
        for (unsigned k = 0; k < 2; k++)
            b[c][0][k] = g->bv[c][k], b[c][1][k] = g->bi[c][k];
    for (unsigned q = 0; q < KLEFR_SEG; q += KLEFR_SEG_ROW) {
        for (unsigned r = 0; r < KLEFR_SEG_ROW; r++) {
            double x[2] = {0, 0};
            for (unsigned c = 0; c < g->ncomp; c++)
                for (unsigned ch = 0; ch < 2; ch++)
                    x[ch] += b[c][ch][0] * t->er[c][r] - b[c][ch][1] * t->ei[c][r];
            double nv = g->noise_v ? g->nv * g->noise_v[q + r] : 0;
            double ni = g->noise_i ? g->ni * g->noise_i[q + r] : 0;
            v[q + r] = code_dbl(x[0] + (g->dc_v + nv));
            i[q + r] = code_dbl(x[1] + (g->dc_i + ni));
        }
        for (unsigned c = 0; c < g->ncomp; c++)
            for (unsigned ch = 0; ch < 2; ch++) {
                double re = b[c][ch][0] * g->row[c][0] - b[c][ch][1] * g->row[c][1];
                b[c][ch][1] = b[c][ch][0] * g->row[c][1] + b[c][ch][1] * g->row[c][0];
                b[c][ch][0] = re;
            }
    }
}

static void make_dbl(klefr_seg_in *g, dbl_tables *t, unsigned ncomp, double scale,
                     const float *noise)
{
    memset(g, 0, sizeof *g);
    g->ncomp = ncomp;
    double w = 2 * M_PI * (45 + 10 * uni()) / 4000;
    for (unsigned c = 0; c < ncomp; c++) {
        double h = c ? 2 + floor(uni() * 38) : 1, a = uni() * 2 * M_PI, b = uni() * 2 * M_PI;
        double av = scale * (c ? 0.3 * uni() : 1), ai = scale * (c ? 0.5 * uni() : 0.8);
        g->bv[c][0] = av * cos(a), g->bv[c][1] = av * sin(a);
        g->bi[c][0] = ai * cos(b), g->bi[c][1] = ai * sin(b);
        klefr_seg_steps(g, c, h * w);
        for (unsigned r = 0; r < KLEFR_SEG_ROW; r++)
            t->er[c][r] = cos(h * w * r), t->ei[c][r] = sin(h * w * r);
    }
    t->w0 = w;
    g->dc_v = 3000 * uni() - 1500, g->dc_i = 800 * uni() - 400;
    if (noise) {
        g->noise_v = noise, g->noise_i = noise + 17;
        g->nv = 1000 * uni(), g->ni = 200 * uni();
    }
}

static void make(klefr_seg_in *g, unsigned ncomp, double scale, const float *noise)
{
    dbl_tables t;
    make_dbl(g, &t, ncomp, scale, noise);
}

START_TEST(same_codes_any_width)
{
    static float noise[KLEFR_SEG + 64];
    for (unsigned k = 0; k < KLEFR_SEG + 64; k++)
        noise[k] = (float)(2 * uni() - 1) * 3;
    unsigned clipped = 0, differ = 0;
    for (int run = 0; run < 400; run++) {
        klefr_seg_in g;
        /* from small signals to twice the ADC's full scale (clipping) */
        double scale = 8388608.0 * (run % 5 == 4 ? 2.0 : uni());
        make(&g, 1 + (unsigned)run % KLEFR_SEG_COMP, scale, run % 3 ? noise : NULL);
        /* one channel small now and then: every mix of split and plain */
        double kv = run % 4 == 1 ? 0.02 : 1, ki = run % 4 == 2 ? 0.02 : 1;
        for (unsigned c = 0; c < g.ncomp; c++)
            for (unsigned k = 0; k < 2; k++)
                g.bv[c][k] *= kv, g.bi[c][k] *= ki;
        int32_t v1[KLEFR_SEG], i1[KLEFR_SEG], v2[KLEFR_SEG], i2[KLEFR_SEG];
        uint8_t c1[KLEFR_SEG], c2[KLEFR_SEG];
        klefr_synth_segment(&g, v1, i1, c1);
        klefr_synth_segment_portable(&g, v2, i2, c2);
        differ += memcmp(v1, v2, sizeof v1) != 0 || memcmp(i1, i2, sizeof i1) != 0 ||
                  memcmp(c1, c2, sizeof c1) != 0;
        for (unsigned k = 0; k < KLEFR_SEG; k++)
            clipped += c1[k] != 0;
    }
    ck_assert_uint_eq(differ, 0);
    ck_assert_uint_gt(clipped, 0); /* the clipping path was exercised */
}
END_TEST

/* The codes are the phasors' samples: sample k of a single component is
 * Re(b e^{j k w}) + dc, rounded (a check on the row scheme itself). */
START_TEST(codes_are_the_samples)
{
    klefr_seg_in g;
    dbl_tables t;
    make_dbl(&g, &t, 1, 3e6, NULL);
    int32_t v[KLEFR_SEG], i[KLEFR_SEG];
    klefr_synth_segment(&g, v, i, NULL);
    double w = t.w0;
    for (unsigned k = 0; k < KLEFR_SEG; k++) {
        double x = g.bv[0][0] * cos(w * k) - g.bv[0][1] * sin(w * k) + g.dc_v;
        ck_assert_int_le(abs(v[k] - (int32_t)floor(x + 0.5)), 1);
    }
}
END_TEST

/* Scales one channel's phasors: the harmonics' amplitudes add up to at
 * most harm times the fundamental's, and the peak bound (amplitudes, |DC|,
 * the noise's largest value) is peak. */
static void scale_channel(double (*b)[2], unsigned nc, double peak, double other, double harm)
{
    double a0 = hypot(b[0][0], b[0][1]), ah = 0;
    for (unsigned c = 1; c < nc; c++)
        ah += hypot(b[c][0], b[c][1]);
    double kh = ah > harm * a0 ? harm * a0 / ah : 1.0;
    double k = (peak - other) / (a0 + kh * ah);
    for (unsigned c = 0; c < nc; c++)
        b[c][0] *= c ? k * kh : k, b[c][1] *= c ? k * kh : k;
}

static void scale_to_peak(klefr_seg_in *g, double peak, double harm, double noise_max)
{
    scale_channel(g->bv, g->ncomp, peak, fabs(g->dc_v) + g->nv * noise_max, harm);
    scale_channel(g->bi, g->ncomp, peak, fabs(g->dc_i) + g->ni * noise_max, harm);
}

typedef struct {
    unsigned long n, differ, n_hi, differ_hi; /* hi: codes of 2^22 and up */
    int maxd;
} diff_stats;

/* nseg random segments (every count of components, noise on and off, DC)
 * whose peak is full scale times a uniform draw from [lo, hi], harmonics
 * adding up to at most harm times the fundamental: the float kernel's codes
 * against the double scheme's. */
static diff_stats float_vs_double(int nseg, double lo, double hi, double harm, const float *noise)
{
    diff_stats d = {0};
    for (int run = 0; run < nseg; run++) {
        klefr_seg_in g;
        dbl_tables t;
        make_dbl(&g, &t, 1 + (unsigned)run % KLEFR_SEG_COMP, 1e6, run % 2 ? noise : NULL);
        scale_to_peak(&g, (KLEFR_ADC_FULL_SCALE - 1) * (lo + (hi - lo) * uni()), harm, 3.0);
        int32_t v1[KLEFR_SEG], i1[KLEFR_SEG], v2[KLEFR_SEG], i2[KLEFR_SEG];
        klefr_synth_segment(&g, v1, i1, NULL);
        segment_dbl(&g, &t, v2, i2);
        for (unsigned k = 0; k < 2 * KLEFR_SEG; k++) {
            int32_t a = k < KLEFR_SEG ? v1[k] : i1[k - KLEFR_SEG];
            int32_t b = k < KLEFR_SEG ? v2[k] : i2[k - KLEFR_SEG];
            int e = abs(a - b);
            d.maxd = e > d.maxd ? e : d.maxd;
            d.n++, d.differ += e != 0;
            if (abs(b) >= 4194304)
                d.n_hi++, d.differ_hi += e != 0;
        }
    }
    printf("float vs double, peaks %.2f-%.2f of full scale, harmonics <= %.0f %%: %lu codes, "
           "max |diff| %d LSB, %.2f %% differ (%.2f %% of the %lu at 2^22 and up)\n",
           lo, hi, 100 * harm, d.n, d.maxd, 100.0 * d.differ / d.n,
           100.0 * d.differ_hi / (d.n_hi ? d.n_hi : 1), d.n_hi);
    return d;
}

/* Float against double on random segments: every code within 1 LSB of the
 * double scheme's for loads up to full scale and past it (clipping) whose
 * harmonics add up to at most the fundamental; within 2 LSB for loads
 * made mostly of harmonics (float's error grows with their sum). */
START_TEST(float_within_one_lsb_of_double)
{
    static float noise[KLEFR_SEG + 64];
    for (unsigned k = 0; k < KLEFR_SEG + 64; k++)
        noise[k] = (float)(2 * uni() - 1) * 3;
    diff_stats in = float_vs_double(20000, 0.0, 1.0, 1.0, noise);
    ck_assert_int_le(in.maxd, 1);
    ck_assert_uint_lt(in.differ * 100, in.n * 5); /* measured: docs/metering.md */
    diff_stats clip = float_vs_double(4000, 1.0, 1.5, 0.5, noise);
    ck_assert_int_le(clip.maxd, 1);
    diff_stats rich = float_vs_double(4000, 0.0, 1.0, 4.0, noise);
    ck_assert_int_le(rich.maxd, 2);
}
END_TEST

int main(void)
{
#ifdef KLEFR_TEST_ARCH
    __builtin_cpu_init();
    if (!__builtin_cpu_supports(KLEFR_TEST_ARCH))
        return 77; /* this CPU cannot run that level: skipped */
#endif
    Suite *s = suite_create("synth-kernel");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, same_codes_any_width);
    tcase_add_test(tc, codes_are_the_samples);
    tcase_add_test(tc, float_within_one_lsb_of_double);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
