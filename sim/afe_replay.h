/* Replay of recorded waveforms as an analog front end.
 *
 * Sources (docs/cli.md has the details):
 *  - CSV: columns time,v,i (seconds, volts, amperes) or v,i with a fixed
 *    rate; optional header naming the columns (any order); '#' comments;
 *    separators , ; tab or space. Checked completely at open, so a bad line
 *    is reported before the run starts.
 *  - WAV: 2 channels (V, I), 16/24/32-bit PCM or 32/64-bit float; full scale
 *    (1.0) = v_scale volts / i_scale amperes, from the options, a sidecar
 *    FILE.json {"v_scale":..,"i_scale":..}, or 500 V / 200 A.
 *  - A periodic waveform in memory (one period of samples, repeated for
 *    ever): what the test bench and the tests generate.
 * Streamed (not loaded whole) as a uniform stream at the recording's rate
 * (a CSV whose times are not evenly spaced is first interpolated linearly
 * onto an even grid of at least 16 kHz) and resampled to KLEFR_FS_HZ through
 * the front end's anti-alias filter (afe_filter.h): each ADC sample is the
 * recording convolved with the filter's kernel at that instant, the same on
 * both channels. Near the ends of a recording the kernel is cut and
 * renormalised; a periodic source wraps around. Values beyond the ADC's range
 * clip and are counted (afe.h). The truth (afe.h) is the recording's own.
 * fill() returns fewer samples than asked once the recording has ended (at
 * its last sample's time). */
#ifndef KLEFR_SIM_AFE_REPLAY_H
#define KLEFR_SIM_AFE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "afe.h"
#include "afe_truth.h"

typedef struct {
    double rate_hz; /* CSV without a time column: samples per second */
    double v_scale; /* WAV: volts at full scale; 0 = sidecar or default */
    double i_scale; /* WAV: amperes at full scale */
} klefr_replay_opts;

typedef struct {
    double t, v, i; /* seconds from the first sample, volts, amperes */
} klefr_replay_point;

typedef enum { KLEFR_REPLAY_CSV, KLEFR_REPLAY_WAV, KLEFR_REPLAY_PERIODIC } klefr_replay_kind;

/* WAV full scale when neither the options nor a sidecar say. */
#define KLEFR_WAV_V_SCALE 500.0
#define KLEFR_WAV_I_SCALE 200.0

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

    /* The uniform stream the filter reads: frame j at t = j / fs_in. */
    double fs_in;
    uint64_t in_total;   /* frames in the stream (UINT64_MAX: periodic) */
    bool uniform;        /* source points are the frames; else linear onto the grid */
    klefr_replay_point pa, pb; /* non-uniform: source points around the next frame */
    bool pb_ok;
    double *rv, *ri;     /* ring of frames (periodic: the whole period) */
    uint64_t ring_mask;  /* ring size - 1; periodic: unused */
    uint64_t period;     /* periodic: frames per period */
    uint64_t in_n;       /* frames pulled into the ring */
    /* Filter: output k sits at stream position u = k fs_in / KLEFR_FS_HZ and
     * takes frames j with |u - j| <= half; kernel at (u - j) * kx. */
    double half, kx;
    uint32_t in_rate;    /* fs_in when it is a whole number, else 0 */
    double *wcache;      /* in_rate: weights per phase (k fs_in mod KLEFR_FS_HZ) */
    uint32_t wphases, wtaps;
    int32_t woff;        /* first tap relative to floor(u) */
    double *wtmp;        /* weights of one output (no cache) */
    uint64_t out_n;      /* output samples produced */
    uint64_t truth_n;    /* frames the truth has taken */
    uint64_t src_index;  /* source points read so far */
    bool ended;
    klefr_stream_truth truth; /* of the stream's frames (afe.h) */
} klefr_replay;

/* Open and check the whole file (CSV) or its header (WAV). Returns 0, or -1
 * with "file:line: message" (binary files: "file: message") in err. Out of
 * memory is "file: out of memory". */
int klefr_replay_open(klefr_replay *r, const char *path, const klefr_replay_opts *o, char *err,
                      size_t errlen);
/* A periodic source: one period of n samples (volts, amperes) at rate_hz,
 * copied. Returns 0 or -1 (n < 2, bad rate, out of memory). */
int klefr_replay_open_periodic(klefr_replay *r, const double *v, const double *i, size_t n,
                               double rate_hz);
void klefr_replay_close(klefr_replay *r);

/* Volts/amperes to ADC codes with the config.h scaling, clipped (*clipped
 * says so; may be NULL). */
int32_t klefr_adc_code_v(double volts, bool *clipped);
int32_t klefr_adc_code_i(double amperes, bool *clipped);

#endif
