/* Replay of recorded waveforms as an analog front end.
 *
 * Sources (docs/cli.md has the details):
 *  - CSV: columns time,v,i (seconds, volts, amperes) or v,i with a fixed
 *    rate; optional header naming the columns (any order); '#' comments;
 *    separators , ; tab or space. Checked completely at open, so a bad line
 *    is reported before the run starts.
 *  - WAV: 2 channels (V, I), 16/24/32-bit PCM or 32/64-bit float; full scale
 *    (1.0) = v_scale volts / i_scale amperes, from the options, a sidecar
 *    FILE.json {"v_scale":..,"i_scale":..}, or the ADC's own full scale.
 * Streamed (not loaded whole), resampled to KLEFR_FS_HZ with Catmull-Rom
 * cubic interpolation (linear where the source spacing is not uniform), no
 * anti-alias filter: content above KLEFR_FS_HZ/2 folds back. Values beyond
 * the ADC's range clip and are counted. fill() returns fewer samples than
 * asked once the recording has ended. */
#ifndef KLEFR_SIM_AFE_REPLAY_H
#define KLEFR_SIM_AFE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "afe.h"
#include "afe_truth.h"

/* What a recording may be: a sample rate (WAV, --replay-rate) in this range,
 * CSV times within +-KLEFR_REPLAY_MAX_T_S, and no two consecutive samples
 * more than KLEFR_REPLAY_MAX_GAP_S apart (a waveform needs >= 100 samples a
 * second; a bigger gap is a hole or a typo, and would make a run last for
 * ever). */
#define KLEFR_REPLAY_MIN_RATE_HZ 100.0
#define KLEFR_REPLAY_MAX_RATE_HZ 10000000.0
#define KLEFR_REPLAY_MAX_T_S 1e9
#define KLEFR_REPLAY_MAX_GAP_S 1.0

typedef struct {
    double rate_hz; /* CSV without a time column: samples per second */
    double v_scale; /* WAV: volts at full scale; 0 = sidecar or default */
    double i_scale; /* WAV: amperes at full scale */
} klefr_replay_opts;

typedef struct {
    double t, v, i; /* seconds from the first sample, volts, amperes */
} klefr_replay_point;

typedef enum { KLEFR_REPLAY_CSV, KLEFR_REPLAY_WAV } klefr_replay_kind;

#define KLEFR_CSV_MAX_COLS 8

typedef struct klefr_replay {
    klefr_afe afe; /* first: a klefr_replay * is a klefr_afe * */
    klefr_replay_kind kind;
    FILE *f;
    char path[4096];

    /* What the source holds. */
    double src_rate_hz; /* 0 for a CSV with a time column */
    uint64_t src_frames;
    double duration_s;

    /* CSV layout. */
    int ncols, col_t, col_v, col_i; /* col_t = -1: no time column */
    double t0;                      /* first time value */
    uint64_t line;

    /* WAV layout. */
    int fmt_float, bytes_per_sample;
    uint64_t data_left; /* bytes */
    double v_scale, i_scale;

    /* Resampler: a window of 4 source points around the output time. */
    klefr_replay_point w[4];
    bool ok[4];
    uint64_t src_index; /* frames read so far */
    uint64_t out_n;     /* output samples produced */
    bool ended;
    klefr_stream_truth truth; /* of the recording's own samples (afe.h) */
} klefr_replay;

/* Open and check the whole file (CSV) or its header (WAV). Returns 0, or -1
 * with "file:line: message" (binary files: "file: message") in err. */
int klefr_replay_open(klefr_replay *r, const char *path, const klefr_replay_opts *o, char *err,
                      size_t errlen);
void klefr_replay_close(klefr_replay *r);

/* Volts/amperes to ADC codes with the config.h scaling, clipped. */
int32_t klefr_adc_code_v(double volts, bool *clipped);
int32_t klefr_adc_code_i(double amperes, bool *clipped);

#endif
