/* Synthetic analog front end: phasor recurrence (one complex multiply per
 * component per sample, rotors reset from the exact phase every
 * KLEFR_SYNTH_RENORM samples), deterministic noise (xorshift64*, sum of four
 * 16-bit uniforms ~ gaussian), DC offsets, ADC gain/offset/rounding/clipping. */
#include "afe_synth.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "klefr/config.h"

#define TWO_PI 6.283185307179586
#define DEG (TWO_PI / 360.0)
/* Standard deviation of (sum of four 16-bit uniforms - mean). */
#define UNI4_SIGMA (65536.0 * 0.5773502691896258)
#define UNI4_MEAN (4.0 * 32767.5)

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static double uni4(uint64_t *s)
{
    uint64_t r = rng_next(s);
    return (double)((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48)) -
           UNI4_MEAN;
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
    s->noise_v_code = l->noise_v_rms * kv / UNI4_SIGMA;
    s->noise_i_code = l->noise_i_rms * ki / UNI4_SIGMA;
    rotors_reset(s);
}

static int32_t adc_code(double x)
{
    if (x >= KLEFR_ADC_FULL_SCALE - 1.0)
        return (int32_t)KLEFR_ADC_FULL_SCALE - 1;
    if (x <= -KLEFR_ADC_FULL_SCALE)
        return -(int32_t)KLEFR_ADC_FULL_SCALE;
    /* Round half up via a positive offset: cheaper than lround(). */
    return (int32_t)(int64_t)(x + KLEFR_ADC_FULL_SCALE + 0.5) - (int32_t)KLEFR_ADC_FULL_SCALE;
}

static size_t synth_fill(klefr_afe *self, int32_t *v, int32_t *i, size_t n)
{
    klefr_synth *s = (klefr_synth *)self;
    const unsigned nc = s->ncomp;
    const bool noisy_v = s->noise_v_code != 0.0, noisy_i = s->noise_i_code != 0.0;
    for (size_t j = 0; j < n; j++) {
        double xv = s->dc_v_code, xi = s->dc_i_code;
        for (unsigned k = 0; k < nc; k++) {
            double re = s->rot_re[k], im = s->rot_im[k];
            xv += s->cv_re[k] * re - s->cv_im[k] * im;
            xi += s->ci_re[k] * re - s->ci_im[k] * im;
            s->rot_re[k] = re * s->step_re[k] - im * s->step_im[k];
            s->rot_im[k] = re * s->step_im[k] + im * s->step_re[k];
        }
        if (noisy_v)
            xv += s->noise_v_code * uni4(&s->rng);
        if (noisy_i)
            xi += s->noise_i_code * uni4(&s->rng);
        v[j] = adc_code(xv);
        i[j] = adc_code(xi);
        if (--s->renorm_left == 0) {
            s->theta = fmod(s->theta + KLEFR_SYNTH_RENORM * s->dtheta, TWO_PI);
            rotors_reset(s);
        }
    }
    s->n += n;
    return n;
}

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc)
{
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
