/* Metering: DSP on ADC samples, energy registers, calculation codes, tariff,
 * pulse outputs (LED, S0 forward/reverse). */
#ifndef KLEFR_METERING_H
#define KLEFR_METERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/types.h"

struct klefr_meter;

typedef struct {
    int64_t dummy_acc; /* TODO(metering): real DSP state */
} klefr_metering;

void klefr_metering_init(struct klefr_meter *m, uint64_t t_us);
void klefr_metering_adc(struct klefr_meter *m, const int32_t *v, const int32_t *i, size_t n, uint64_t t_us);
void klefr_metering_tick(struct klefr_meter *m, uint64_t t_us);

/* Energy views. tariff: KLEFR_T1, KLEFR_T2, or -1 for the sum of both. */
uint64_t klefr_act_fwd_uwh(const klefr_regs *r, int tariff);
uint64_t klefr_act_rev_uwh(const klefr_regs *r, int tariff);
uint64_t klefr_react_fwd_uvarh(const klefr_regs *r, int tariff);
uint64_t klefr_react_rev_uvarh(const klefr_regs *r, int tariff);
/* Total active energy per the calculation code (manual 7.11); may be negative. */
int64_t klefr_total_active_uwh(const struct klefr_meter *m, int tariff);
/* Total reactive energy: forward + reverse (calc codes apply to active only). */
uint64_t klefr_total_react_uvarh(const klefr_regs *r, int tariff);

bool klefr_calc_code_valid(unsigned code);
/* S0 rates in imp/kWh x 100 that the meter accepts (manual 5, 7.10). */
bool klefr_s0_rate_valid(uint32_t centi);

/* Reset the resettable day counter (manual 7.9). */
void klefr_day_counter_reset(struct klefr_meter *m, uint64_t t_us);

#endif
