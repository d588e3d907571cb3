/* TEMPORARY stub of the synthetic AFE so the panel branch links and shows
 * waveforms; the metering branch owns the real implementation (phasor
 * recurrence, harmonics, noise, ADC model). Drop this file at merge. */
#include "afe_synth.h"

#include <math.h>
#include <string.h>

#include "klefr/config.h"

static size_t stub_fill(klefr_afe *self, int32_t *v, int32_t *i, size_t n)
{
    klefr_synth *s = (klefr_synth *)self;
    const klefr_load *l = &s->load;
    double kv = KLEFR_ADC_FULL_SCALE / KLEFR_V_FULL_SCALE_PEAK, ki = KLEFR_ADC_FULL_SCALE / KLEFR_I_FULL_SCALE_PEAK;
    for (size_t k = 0; k < n; k++, s->n++) {
        double w = 2 * M_PI * l->freq_hz * (double)s->n / KLEFR_FS_HZ;
        v[k] = (int32_t)lround(sqrt(2) * l->v_rms * sin(w) * kv);
        i[k] = (int32_t)lround(sqrt(2) * l->i_rms * sin(w - l->phi_deg * M_PI / 180) * ki);
    }
    return n;
}

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc)
{
    memset(s, 0, sizeof *s);
    s->afe.fill = stub_fill;
    s->load = *load;
    if (adc)
        s->adc = *adc;
}

void klefr_synth_set_load(klefr_synth *s, const klefr_load *load) { s->load = *load; }

double klefr_load_active_w(const klefr_load *l) { return l->v_rms * l->i_rms * cos(l->phi_deg * M_PI / 180); }

double klefr_load_reactive_var(const klefr_load *l) { return l->v_rms * l->i_rms * sin(l->phi_deg * M_PI / 180); }
