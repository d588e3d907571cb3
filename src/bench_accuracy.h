/* klefr-sim bench-accuracy: the meter test bench a firmware developer runs
 * after touching the DSP (manual 5.2 and the influence tests of
 * EN 50470-3 / IEC 62053-21), as Markdown, JSON and SVG. docs/metering.md. */
#ifndef KLEFR_BENCH_ACCURACY_H
#define KLEFR_BENCH_ACCURACY_H

/* argv[0] is "bench-accuracy". Returns the exit code: 0 every point within
 * its limit, 1 a point outside (or a file that cannot be written), 2 usage. */
int klefr_bench_accuracy_main(int argc, char **argv);

#endif
