/* The --load grammar and durations: short text that becomes a klefr_load.
 *
 *   spec  = item { ("," | " ") item }
 *   item  = NUM "V" | NUM "A" | NUM "mA" | NUM "W" | NUM "Hz"
 *         | "v=" NUM | "i=" NUM | "p=" NUM | "f=" NUM
 *         | "pf=" NUM ["L" | "C"] | "phi=" NUM
 *         | "import" | "export"
 *         | "h" ORDER "=" PCT "/" PCT [ "@" DEG "/" DEG ]
 *         | "noise=" NUM "/" NUM | "dc=" NUM "/" NUM
 *
 * Defaults: 230 V, 0 A, PF 1, 50 Hz, import. A negative current or power, a
 * negative pf, or "export" all mean export (the current turned by 180 deg).
 * Parsed on top of an earlier load, a spec changes only what it names; the
 * harmonics it names replace the earlier list.
 * docs/cli.md has the examples. */
#ifndef KLEFR_SIM_LOAD_SPEC_H
#define KLEFR_SIM_LOAD_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "afe_synth.h"

void klefr_load_defaults(klefr_load *l);

/* Parse spec on top of *l (start from klefr_load_defaults or an earlier
 * load). Returns 0, or -1 with a one-line message in err. */
int klefr_load_spec_parse(const char *spec, klefr_load *l, char *err, size_t errlen);

/* The spec that parses back (from klefr_load_defaults) to l: voltage,
 * current, angle (import side, then import or export), frequency,
 * harmonics, noise and DC, numbers with every digit a double needs. Returns
 * the length (output cut at size). */
int klefr_load_spec_format(const klefr_load *l, char *out, size_t size);

/* "90", "90s", "1.5h", "1h30m", "250ms", "2d", "15min" -> microseconds.
 * A bare number (seconds) only on its own: "1h30" is refused (ambiguous).
 * Returns 0 or -1 (bad text, negative, or too long). */
int klefr_duration_parse(const char *text, uint64_t *us);

#endif
