/* klefr-bench --fleet: installations of many meters (src/bench_fleet.c). */
#ifndef KLEFR_BENCH_FLEET_H
#define KLEFR_BENCH_FLEET_H

#include <stddef.h>

/* Sizes 1, 10, 100, ... up to max_meters, sim_s simulated seconds each.
 * Returns the exit status. */
int klefr_bench_fleet(double sim_s, size_t max_meters);

#endif
