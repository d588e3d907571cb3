/* STUB: replaced by the metering work. */
#include "klefr/meter.h"

void klefr_metering_init(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }
void klefr_metering_adc(struct klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us)
{
    (void)m; (void)v; (void)i; (void)n; (void)t_us;
}
void klefr_metering_tick(struct klefr_meter *m, uint64_t t_us) { (void)m; (void)t_us; }

static uint64_t sum2(const uint64_t *a, int tariff) { return tariff < 0 ? a[0] + a[1] : a[tariff]; }
uint64_t klefr_act_fwd_uwh(const klefr_regs *r, int t) { return sum2(r->act_fwd_uwh, t); }
uint64_t klefr_act_rev_uwh(const klefr_regs *r, int t) { return sum2(r->act_rev_uwh, t); }
uint64_t klefr_react_fwd_uvarh(const klefr_regs *r, int t) { return sum2(r->react_fwd_uvarh, t); }
uint64_t klefr_react_rev_uvarh(const klefr_regs *r, int t) { return sum2(r->react_rev_uvarh, t); }
uint64_t klefr_total_react_uvarh(const klefr_regs *r, int t)
{
    return klefr_react_fwd_uvarh(r, t) + klefr_react_rev_uvarh(r, t);
}
int64_t klefr_total_active_uwh(const struct klefr_meter *m, int t)
{
    return (int64_t)klefr_act_fwd_uwh(&m->regs, t);
}
bool klefr_calc_code_valid(unsigned c) { return c == 1 || c == 4 || c == 5 || c == 6 || c == 9 || c == 10; }
bool klefr_s0_rate_valid(uint32_t c)
{
    return c == 1000000 || c == 200000 || c == 100000 || c == 10000 || c == 1000 || c == 100 || c == 10 || c == 1;
}
void klefr_day_counter_reset(struct klefr_meter *m, uint64_t t_us) { m->regs.day_fwd_uwh = 0; (void)t_us; }
