/* TEMPORARY stub, replaced by the metering branch (sim/afe_synth.c there).
 * Only here so klefr-sim links on the runtime branch: sin() per sample, no
 * noise, no ADC errors. Drop this file (and its commit) when merging. */
#include "afe_synth.h"

#include <math.h>

#include "klefr/config.h"

static int32_t code(double x, double fs)
{
    double c = x / fs * KLEFR_ADC_FULL_SCALE;
    if (c > KLEFR_ADC_FULL_SCALE - 1)
        c = KLEFR_ADC_FULL_SCALE - 1;
    if (c < -KLEFR_ADC_FULL_SCALE)
        c = -KLEFR_ADC_FULL_SCALE;
    return (int32_t)lround(c);
}

static size_t stub_fill(klefr_afe *afe, int32_t *v, int32_t *i, size_t n)
{
    klefr_synth *s = (klefr_synth *)afe;
    const klefr_load *l = &s->load;
    for (size_t k = 0; k < n; k++, s->n++) {
        double w = 2 * M_PI * l->freq_hz * (double)s->n / KLEFR_FS_HZ;
        double phi = l->phi_deg * M_PI / 180;
        double vv = sqrt(2) * l->v_rms * sin(w) + l->dc_v;
        double ii = sqrt(2) * l->i_rms * sin(w - phi) + l->dc_i;
        for (unsigned h = 0; h < l->n_harm; h++) {
            const klefr_harmonic *hm = &l->harm[h];
            vv += sqrt(2) * l->v_rms * hm->v_pct / 100 * sin(hm->order * w + hm->v_phase_deg * M_PI / 180);
            ii += sqrt(2) * l->i_rms * hm->i_pct / 100 *
                  sin(hm->order * (w - phi) + hm->i_phase_deg * M_PI / 180);
        }
        v[k] = code(vv, KLEFR_V_FULL_SCALE_PEAK);
        i[k] = code(ii, KLEFR_I_FULL_SCALE_PEAK);
    }
    return n;
}

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc)
{
    s->afe.fill = stub_fill;
    s->load = *load;
    s->adc = adc ? *adc : (klefr_adc_model){1, 1, 0, 0};
    s->n = 0;
}

void klefr_synth_set_load(klefr_synth *s, const klefr_load *load) { s->load = *load; }

double klefr_load_active_w(const klefr_load *l)
{
    return l->v_rms * l->i_rms * cos(l->phi_deg * M_PI / 180);
}

double klefr_load_reactive_var(const klefr_load *l)
{
    return l->v_rms * l->i_rms * sin(l->phi_deg * M_PI / 180);
}
