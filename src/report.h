/* The meter's registers and measurements as JSON (what --headless prints). */
#ifndef KLEFR_REPORT_H
#define KLEFR_REPORT_H

#include "sim.h"

/* Returns a malloc'ed, formatted JSON text (free() it), NULL if out of memory.
 * end: why the run stopped (klefr_loop_result_to_str). */
char *klefr_report_json(const klefr_sim *s, const char *end);

/* The same fields added to object j (a fleet's report has one per meter).
 * false when out of memory. */
struct cJSON;
bool klefr_report_add(struct cJSON *j, const klefr_sim *s, const char *end);

#endif
