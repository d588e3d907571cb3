/* The generator's inner loop (sim/afe_kernel.c) gives the same ADC codes
 * whichever way it is compiled: the library's build (vector extension,
 * compiled for AVX-512, AVX2 and SSE2, the widest the CPU has chosen at run
 * time) against the plain loops compiled here without vector code of our
 * own, for loads with harmonics, noise, offsets and clipping. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "afe_kernel.h"

/* The plain-C variant of the same source, under another name. */
#define KLEFR_SEG_PORTABLE
#define KLEFR_SIMD_CLONES
#define klefr_synth_segment klefr_synth_segment_portable
#include "../sim/afe_kernel.c"
#undef klefr_synth_segment
void klefr_synth_segment(const klefr_seg_in *g, int32_t *v, int32_t *i, uint8_t *clip);

static uint64_t rng = 0x1234567;
static double uni(void)
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void make(klefr_seg_in *g, unsigned ncomp, double scale, const float *noise)
{
    memset(g, 0, sizeof *g);
    g->ncomp = ncomp;
    double w = 2 * M_PI * (45 + 10 * uni()) / 4000;
    for (unsigned c = 0; c < ncomp; c++) {
        double h = c ? 2 + floor(uni() * 38) : 1, a = uni() * 2 * M_PI, b = uni() * 2 * M_PI;
        double av = scale * (c ? 0.3 * uni() : 1), ai = scale * (c ? 0.5 * uni() : 0.8);
        g->bv[c][0] = av * cos(a), g->bv[c][1] = av * sin(a);
        g->bi[c][0] = ai * cos(b), g->bi[c][1] = ai * sin(b);
        g->row[c][0] = cos(h * w * KLEFR_SEG_ROW), g->row[c][1] = sin(h * w * KLEFR_SEG_ROW);
        for (unsigned r = 0; r < KLEFR_SEG_ROW; r++)
            g->er[c][r] = cos(h * w * r), g->ei[c][r] = sin(h * w * r);
    }
    g->dc_v = 3000 * uni() - 1500, g->dc_i = 800 * uni() - 400;
    if (noise) {
        g->noise_v = noise, g->noise_i = noise + 17;
        g->nv = 1000 * uni(), g->ni = 200 * uni();
    }
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
    make(&g, 1, 3e6, NULL);
    int32_t v[KLEFR_SEG], i[KLEFR_SEG];
    klefr_synth_segment(&g, v, i, NULL);
    double w = atan2(g.ei[0][1], g.er[0][1]);
    for (unsigned k = 0; k < KLEFR_SEG; k++) {
        double x = g.bv[0][0] * cos(w * k) - g.bv[0][1] * sin(w * k) + g.dc_v;
        ck_assert_int_eq(v[k], (int32_t)floor(x + 0.5));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("synth-kernel");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, same_codes_any_width);
    tcase_add_test(tc, codes_are_the_samples);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
