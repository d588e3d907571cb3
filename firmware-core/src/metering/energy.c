/* Energy registers: block energy in raw ADC units -> integer uWh / uvarh with
 * every residue kept, so the registers never drift and never lose a sample.
 *
 * One raw unit is one code^2 product for one sample:
 *   (500 / 2^23 V) (400 / 2^23 A) (1/4000 s) / 3600 s/h = 15625 / (9 * 2^43) uWh
 * (config.h: KLEFR_V/I_FULL_SCALE_PEAK, KLEFR_FS_HZ; tests/test_metering.c
 * checks this ratio against config.h). Conversion in two exact steps:
 *   raw -> quanta of 2^20 raw (shift, low bits kept in raw_res)
 *   quanta * 15625 -> uWh in steps of 9 * 2^23 (remainder kept in q_res). */
#include "klefr/meter.h"

#define KLEFR_Q_SHIFT 20
#define KLEFR_Q_NUM 15625u /* uWh per quantum = 15625 / (9 * 2^23) */
#define KLEFR_Q_DEN (9ull << (43 - KLEFR_Q_SHIFT))

uint64_t klefr_eacc_add(klefr_eacc *a, int64_t raw)
{
    if (raw <= 0)
        return 0;
    int64_t t = a->raw_res + raw;
    uint64_t q = (uint64_t)(t >> KLEFR_Q_SHIFT);
    a->raw_res = t & ((1 << KLEFR_Q_SHIFT) - 1);
    a->q_res += q * KLEFR_Q_NUM;
    uint64_t uwh = a->q_res / KLEFR_Q_DEN;
    a->q_res -= uwh * KLEFR_Q_DEN;
    return uwh;
}

static uint64_t sum2(const uint64_t *a, int tariff)
{
    return tariff < 0 ? a[0] + a[1] : a[tariff];
}
uint64_t klefr_act_fwd_uwh(const klefr_regs *r, int t)
{
    return sum2(r->act_fwd_uwh, t);
}
uint64_t klefr_act_rev_uwh(const klefr_regs *r, int t)
{
    return sum2(r->act_rev_uwh, t);
}
uint64_t klefr_react_fwd_uvarh(const klefr_regs *r, int t)
{
    return sum2(r->react_fwd_uvarh, t);
}
uint64_t klefr_react_rev_uvarh(const klefr_regs *r, int t)
{
    return sum2(r->react_rev_uvarh, t);
}
uint64_t klefr_total_react_uvarh(const klefr_regs *r, int t)
{
    return klefr_react_fwd_uvarh(r, t) + klefr_react_rev_uvarh(r, t);
}

/* Manual 7.11. C-10 is printed as "Forward - Reverse" like C-09; this meter
 * makes it the net energy clamped at zero (a total that never runs backwards
 * below zero), see docs/metering.md. */
int64_t klefr_total_active_uwh(const struct klefr_meter *m, int t)
{
    int64_t f = (int64_t)klefr_act_fwd_uwh(&m->regs, t);
    int64_t r = (int64_t)klefr_act_rev_uwh(&m->regs, t);
    switch (m->settings.calc_code) {
    case 4:
        return r;
    case 5:
        return f + r;
    case 6:
        return r - f;
    case 9:
        return f - r;
    case 10:
        return f > r ? f - r : 0;
    default:
        return f;
    }
}

const uint32_t klefr_calc_codes[6] = {1, 4, 5, 6, 9, 10};

bool klefr_calc_code_valid(unsigned c)
{
    return klefr_u32_in(c, klefr_calc_codes, KLEFR_COUNT(klefr_calc_codes));
}

void klefr_day_counter_reset(struct klefr_meter *m, uint64_t t_us)
{
    (void)t_us;
    m->regs.day_fwd_uwh = 0;
}
