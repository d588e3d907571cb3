/* Pulse outputs: red LED (10,000 imp/kWh, |P| both directions), S0 forward
 * and S0 reverse at the set rate. Each output counts whole uWh toward one
 * pulse (exact: 1e11 / rate_centi uWh per pulse is an integer for every
 * allowed rate) and keeps the residue. Pulses are placed inside the block
 * where the energy crossed the threshold, assuming constant power in the
 * block, and never overlap (a new pulse starts >= 1 ms after the last ended). */
#include "klefr/meter.h"

#define KLEFR_PULSE_GAP_US 1000u

uint64_t klefr_pulse_quantum_uwh(uint32_t centi)
{
    return centi ? 100000000000ull / centi : 100000000000ull;
}

/* Manual 5: widths by rate and power. */
uint32_t klefr_pulse_width_us(uint32_t centi, double p_w)
{
    if (p_w < 0)
        p_w = -p_w;
    if (centi >= 1000000u) /* 10,000 imp/kWh */
        return p_w > 12000.0 ? 5000u : p_w > 6000.0 ? 15000u : 31000u;
    if (centi >= 200000u) /* 2,000 imp/kWh */
        return p_w > 30000.0 ? 15000u : 31000u;
    return 31000u;
}

void klefr_pulse_add(struct klefr_meter *m, klefr_output out, uint32_t centi, uint64_t uwh,
                     double p_w, uint64_t t0_us, uint64_t t1_us)
{
    klefr_pulse_gen *g = &m->metering.pulse[out];
    uint64_t q = klefr_pulse_quantum_uwh(centi);
    if (g->quantum_uwh != q) { /* rate changed: the old residue meant another quantum */
        g->quantum_uwh = q;
        g->acc_uwh = 0;
    }
    if (uwh == 0)
        return;
    uint64_t need = q - g->acc_uwh; /* uWh into this block of the next pulse */
    g->acc_uwh += uwh;
    uint32_t width = klefr_pulse_width_us(centi, p_w);
    while (g->acc_uwh >= q) {
        uint64_t t = t0_us + need * (t1_us - t0_us) / uwh;
        if (g->count && t < g->last_end_us + KLEFR_PULSE_GAP_US)
            t = g->last_end_us + KLEFR_PULSE_GAP_US;
        if (m->hal->pulse)
            m->hal->pulse(m->hal->arg, out, t, width);
        g->last_end_us = t + width;
        g->count++;
        g->acc_uwh -= q;
        need += q;
    }
}

/* Manual 5: 10,000/2,000/1,000/100/10/1/0.1/0.01 imp/kWh. */
const uint32_t klefr_s0_rates_centi[8] = {1000000, 200000, 100000, 10000, 1000, 100, 10, 1};

bool klefr_s0_rate_valid(uint32_t c)
{
    return klefr_u32_in(c, klefr_s0_rates_centi, KLEFR_COUNT(klefr_s0_rates_centi));
}
