/* Synthetic analog front end: phasor recurrence (one complex multiply per
 * component per sample, rotors reset from the exact phase every
 * KLEFR_SYNTH_RENORM samples), deterministic noise (xorshift64* into a table of
 * normal quantiles), DC offsets, ADC gain/offset/rounding/clipping. */
#include "afe_synth.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "klefr/config.h"

#define TWO_PI 6.283185307179586
#define DEG (TWO_PI / 360.0)
/* Gaussian noise by table: GAUSS_N quantiles of the unit normal (built once,
 * normalised to rms 1), indexed by 12-bit slices of one xorshift64* draw:
 * up to 5 noise values per draw, no libm per sample. */
#define GAUSS_BITS 12
#define GAUSS_N (1u << GAUSS_BITS)
#define GAUSS_MASK (GAUSS_N - 1u)
static float gauss_tab[GAUSS_N];
static pthread_once_t gauss_once = PTHREAD_ONCE_INIT;

static void gauss_init(void)
{
    double ss = 0;
    for (unsigned k = 0; k < GAUSS_N / 2; k++) {
        /* Quantile of p = (k + 0.5) / N by bisection on the normal CDF. */
        double p = (k + 0.5) / GAUSS_N, lo = -10, hi = 0;
        for (int it = 0; it < 60; it++) {
            double mid = 0.5 * (lo + hi);
            if (0.5 * erfc(-mid / sqrt(2.0)) < p)
                lo = mid;
            else
                hi = mid;
        }
        gauss_tab[k] = (float)lo;
        gauss_tab[GAUSS_N - 1 - k] = (float)-lo;
        ss += 2 * lo * lo;
    }
    double norm = sqrt(GAUSS_N / ss);
    for (unsigned k = 0; k < GAUSS_N; k++)
        gauss_tab[k] = (float)(gauss_tab[k] * norm);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline double gauss(uint64_t r, unsigned slice)
{
    return gauss_tab[(r >> (slice * GAUSS_BITS)) & GAUSS_MASK];
}

static void rotors_reset(klefr_synth *s)
{
    s->rot_re[0] = cos(s->theta);
    s->rot_im[0] = sin(s->theta);
    for (unsigned k = 1; k < s->ncomp; k++) {
        double a = fmod(s->load.harm[k - 1].order * s->theta, TWO_PI);
        s->rot_re[k] = cos(a);
        s->rot_im[k] = sin(a);
    }
    s->renorm_left = KLEFR_SYNTH_RENORM;
}

/* Coefficients for the current load and ADC model. */
static void setup(klefr_synth *s)
{
    const klefr_load *l = &s->load;
    double kv = s->adc.gain_v * KLEFR_ADC_FULL_SCALE / KLEFR_V_FULL_SCALE_PEAK;
    double ki = s->adc.gain_i * KLEFR_ADC_FULL_SCALE / KLEFR_I_FULL_SCALE_PEAK;
    double av = sqrt(2.0) * l->v_rms * kv, ai = sqrt(2.0) * l->i_rms * ki;
    s->dtheta = TWO_PI * l->freq_hz / KLEFR_FS_HZ;
    s->ncomp = 1 + (l->n_harm < KLEFR_MAX_HARMONICS ? l->n_harm : KLEFR_MAX_HARMONICS);
    s->cv_re[0] = av;
    s->cv_im[0] = 0.0;
    s->ci_re[0] = ai * cos(-l->phi_deg * DEG);
    s->ci_im[0] = ai * sin(-l->phi_deg * DEG);
    s->step_re[0] = cos(s->dtheta);
    s->step_im[0] = sin(s->dtheta);
    for (unsigned k = 1; k < s->ncomp; k++) {
        const klefr_harmonic *h = &l->harm[k - 1];
        double hv = av * h->v_pct / 100.0, hi = ai * h->i_pct / 100.0;
        s->cv_re[k] = hv * cos(h->v_phase_deg * DEG);
        s->cv_im[k] = hv * sin(h->v_phase_deg * DEG);
        s->ci_re[k] = hi * cos(h->i_phase_deg * DEG);
        s->ci_im[k] = hi * sin(h->i_phase_deg * DEG);
        s->step_re[k] = cos(h->order * s->dtheta);
        s->step_im[k] = sin(h->order * s->dtheta);
    }
    s->dc_v_code = l->dc_v * kv + s->adc.offset_v;
    s->dc_i_code = l->dc_i * ki + s->adc.offset_i;
    s->noise_v_code = l->noise_v_rms * kv;
    s->noise_i_code = l->noise_i_rms * ki;
    rotors_reset(s);
}

static int32_t adc_code(double x)
{
    x = x > KLEFR_ADC_FULL_SCALE - 1.0 ? KLEFR_ADC_FULL_SCALE - 1.0 : x;
    /* Written so a NaN (never from a checked load) clips too: converting it
     * to an integer would be undefined. */
    x = x >= -KLEFR_ADC_FULL_SCALE ? x : -KLEFR_ADC_FULL_SCALE;
    /* Round half up via a positive offset: cheaper than lround(). */
    return (int32_t)(int64_t)(x + KLEFR_ADC_FULL_SCALE + 0.5) - (int32_t)KLEFR_ADC_FULL_SCALE;
}

/* Fundamental only, between two rotor resets: everything in registers. Two
 * interleaved rotors (even and odd samples, each stepped by 2 dtheta) halve
 * the serial dependency of the recurrence. */
static void fill_fundamental(klefr_synth *s, int32_t *v, int32_t *i, size_t m)
{
    const double cv = s->cv_re[0], cir = s->ci_re[0], cii = s->ci_im[0];
    const double dv = s->dc_v_code, di = s->dc_i_code;
    const double nv = s->noise_v_code, ni = s->noise_i_code;
    const double sr = s->step_re[0], si = s->step_im[0];
    const double s2r = sr * sr - si * si, s2i = 2 * sr * si; /* e^{2j dtheta} */
    double ar = s->rot_re[0], ai = s->rot_im[0];             /* even samples */
    double br = ar * sr - ai * si, bi = ar * si + ai * sr;   /* odd samples */
    uint64_t rng = s->rng;
    const bool noisy = nv != 0.0 || ni != 0.0;
    size_t j = 0;
    for (; j + 1 < m; j += 2) {
        double xv0 = dv + cv * ar, xi0 = di + cir * ar - cii * ai;
        double xv1 = dv + cv * br, xi1 = di + cir * br - cii * bi;
        if (noisy) {
            uint64_t r = rng_next(&rng);
            xv0 += nv * gauss(r, 0);
            xi0 += ni * gauss(r, 1);
            xv1 += nv * gauss(r, 2);
            xi1 += ni * gauss(r, 3);
        }
        v[j] = adc_code(xv0);
        i[j] = adc_code(xi0);
        v[j + 1] = adc_code(xv1);
        i[j + 1] = adc_code(xi1);
        double t = ar * s2r - ai * s2i;
        ai = ar * s2i + ai * s2r;
        ar = t;
        t = br * s2r - bi * s2i;
        bi = br * s2i + bi * s2r;
        br = t;
    }
    if (j < m) { /* odd count: one more from the even rotor */
        double xv = dv + cv * ar, xi = di + cir * ar - cii * ai;
        if (noisy) {
            uint64_t r = rng_next(&rng);
            xv += nv * gauss(r, 0);
            xi += ni * gauss(r, 1);
        }
        v[j] = adc_code(xv);
        i[j] = adc_code(xi);
        double t = ar * sr - ai * si;
        ai = ar * si + ai * sr;
        ar = t;
    } /* else: the even rotor is already at sample m */
    s->rot_re[0] = ar;
    s->rot_im[0] = ai;
    s->rng = rng;
}

/* Fundamental + harmonics, between two rotor resets. */
static void fill_general(klefr_synth *s, int32_t *v, int32_t *i, size_t m)
{
    const unsigned nc = s->ncomp;
    for (size_t j = 0; j < m; j++) {
        double xv = s->dc_v_code, xi = s->dc_i_code;
        for (unsigned k = 0; k < nc; k++) {
            double re = s->rot_re[k], im = s->rot_im[k];
            xv += s->cv_re[k] * re - s->cv_im[k] * im;
            xi += s->ci_re[k] * re - s->ci_im[k] * im;
            s->rot_re[k] = re * s->step_re[k] - im * s->step_im[k];
            s->rot_im[k] = re * s->step_im[k] + im * s->step_re[k];
        }
        if (s->noise_v_code != 0.0 || s->noise_i_code != 0.0) {
            uint64_t r = rng_next(&s->rng);
            xv += s->noise_v_code * gauss(r, 0);
            xi += s->noise_i_code * gauss(r, 1);
        }
        v[j] = adc_code(xv);
        i[j] = adc_code(xi);
    }
}

static size_t synth_fill(klefr_afe *self, int32_t *v, int32_t *i, size_t n)
{
    klefr_synth *s = (klefr_synth *)self;
    size_t j = 0;
    while (j < n) {
        size_t m = n - j < s->renorm_left ? n - j : s->renorm_left;
        if (s->ncomp == 1)
            fill_fundamental(s, v + j, i + j, m);
        else
            fill_general(s, v + j, i + j, m);
        j += m;
        s->renorm_left -= (unsigned)m;
        if (s->renorm_left == 0) {
            s->theta = fmod(s->theta + KLEFR_SYNTH_RENORM * s->dtheta, TWO_PI);
            rotors_reset(s);
        }
    }
    s->n += n;
    return n;
}

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc)
{
    pthread_once(&gauss_once, gauss_init);
    memset(s, 0, sizeof *s);
    s->afe.fill = synth_fill;
    s->load = *load;
    s->adc = adc ? *adc : (klefr_adc_model){.gain_v = 1.0, .gain_i = 1.0};
    s->rng = load->seed ? load->seed : 0x9E3779B97F4A7C15ull;
    s->theta = 0.0;
    setup(s);
}

void klefr_synth_set_load(klefr_synth *s, const klefr_load *load)
{
    /* Phase reached so far with the old frequency; keep it (continuous). */
    unsigned done = KLEFR_SYNTH_RENORM - s->renorm_left;
    s->theta = fmod(s->theta + done * s->dtheta, TWO_PI);
    uint64_t seed = s->load.seed;
    s->load = *load;
    if (load->seed != seed) /* a new seed restarts the noise sequence */
        s->rng = load->seed ? load->seed : 0x9E3779B97F4A7C15ull;
    setup(s);
}

double klefr_load_active_w(const klefr_load *l)
{
    double p = l->v_rms * l->i_rms * cos(l->phi_deg * DEG);
    for (unsigned k = 0; k < l->n_harm && k < KLEFR_MAX_HARMONICS; k++) {
        const klefr_harmonic *h = &l->harm[k];
        p += l->v_rms * h->v_pct / 100.0 * l->i_rms * h->i_pct / 100.0 *
             cos((h->v_phase_deg - h->i_phase_deg) * DEG);
    }
    return p;
}

double klefr_load_reactive_var(const klefr_load *l)
{
    double q = l->v_rms * l->i_rms * sin(l->phi_deg * DEG);
    for (unsigned k = 0; k < l->n_harm && k < KLEFR_MAX_HARMONICS; k++) {
        const klefr_harmonic *h = &l->harm[k];
        q += l->v_rms * h->v_pct / 100.0 * l->i_rms * h->i_pct / 100.0 *
             sin((h->v_phase_deg - h->i_phase_deg) * DEG);
    }
    return q;
}
