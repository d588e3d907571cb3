/* Metering: DSP on ADC samples, energy registers, calculation codes, tariff,
 * pulse outputs (LED, S0 forward/reverse). See docs/metering.md.
 *
 *   dsp.c     per-sample loop (DC trackers, sums, windowed fundamental
 *             correlation, zero crossings) and the block results (Vrms,
 *             Irms, P, fundamental P1/Q1, f)
 *   energy.c  block energy -> integer registers with exact residues, calc
 *             codes, day counter, register views
 *   pulse.c   LED and S0 pulse generators (energy quanta, widths, timing)
 *   metering.c glue: init, adc entry point, no-load, power-fail, meas */
#ifndef KLEFR_METERING_H
#define KLEFR_METERING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/types.h"

struct klefr_meter;

/* The sums of a block: what the per-sample loop adds up. Every sample of a
 * block has the block's DC estimate (dv, di, whole codes, fixed for the
 * block) taken off; the fundamental is a Hann-windowed correlation of sample
 * pairs with e^{-j 2w m} (m = pair index from the block's first sample),
 * window x rotor read from a table (klefr_dsp.tc, ts). */
typedef struct {
    int64_t svv, sii, svi;  /* sums of x*x, y*y, x*y (x = v - dv, y = i - di) */
    int64_t sv, si;         /* sums of x, y (the DC the estimate still misses) */
    int64_t vre, vim;       /* sum (x_2m + x_2m+1) w_m cos, ... sin (Q26) */
    int64_t ire, iim;       /* the same for i */
    int32_t dv, di;         /* the block's DC estimate, codes */
    int32_t xh, yh;         /* first sample of the pair in progress */
    uint32_t n;             /* samples in the block */
} klefr_dsp_sums;

/* Pairs of samples a block can hold (KLEFR_BLOCK_MAX / 2). */
#define KLEFR_DSP_PAIRS 1024u
/* Samples held back before they are summed (the sums run on long runs,
 * where the vector loop pays off; like an ADC's DMA buffer). */
#define KLEFR_DSP_BUF 256u

/* e^{j wp n} and e^{j wp n / 10} for the pair step wp and n pairs. */
typedef struct {
    double wp, n;
    double zpn[2], zwn[2];
} klefr_dsp_pow;

/* Per-sample DSP state and the sums of the block in progress. */
typedef struct {
    klefr_dsp_sums s;    /* up to the samples held in bv, bi */
    int32_t bv[KLEFR_DSP_BUF], bi[KLEFR_DSP_BUF]; /* samples of the block not yet summed */
    uint32_t nbuf;
    int64_t dc_v, dc_i;  /* DC trackers, code << 14: moved once a block by the
                            block's sum of x (the per-sample tracker of time
                            constant 2^14 samples, taken a block at a time) */
    double dc_est_v, dc_est_i; /* DC of the last whole block, codes */
    /* Window x rotor of the correlation, Q26, per pair: w_m cos(2 wp m),
     * w_m sin(2 wp m), w_m = (1 - cos(2 wp m / 10)) / 2; built for the
     * frequency f_tab and rebuilt when the measured frequency leaves it by
     * more than KLEFR_CORR_TOL (docs/metering.md). */
    int32_t tc[KLEFR_DSP_PAIRS], ts[KLEFR_DSP_PAIRS];
    double f_tab;
    double wp;           /* rotor step of the table, rad/sample */
    double zp[2], zw[2]; /* e^{j 2wp}, e^{j 2wp / 10}: the pair steps, exactly */
    /* The steps' n-th powers e^{j 2wp n}, e^{j 2wp n / 10} of the last blocks
     * of n pairs, by the parity of n (blocks at a steady frequency are n or
     * n +- 1 pairs: two sincos a block saved). */
    klefr_dsp_pow zn[2];
    int32_t prev_v, prev_i; /* last DC-free samples */
    double ib_start;     /* i (codes, interpolated) at the block's first crossing */
    bool armed;          /* voltage went below -hysteresis since the last crossing */
    bool locked;         /* block started at a zero crossing */
    uint32_t cycles;     /* rising crossings in the block */
    uint32_t cyc_n;      /* samples of the block up to its last crossing (whole cycles) */
    int64_t cyc_sv, cyc_si; /* and their sums of v, i */
    double x_start;      /* interpolated position of the block's first crossing (samples) */
    uint64_t k;          /* absolute sample index of the next sample */
    uint64_t blk_k0;     /* absolute index of the block's first sample */
    uint32_t blocks;     /* blocks finished (startup: DC trackers snap to block means) */
    double freq_hz;      /* last measured frequency (50 until measured) */
    double q_rate;       /* fundamental reactive raw units per sample of the last block */
    /* The partial block from power-up to the first crossing: registered with
     * the first whole block (its DC is known only then). */
    klefr_dsp_sums first;
    uint64_t first_t_us; /* its end */
} klefr_dsp;

/* Result of one block. Raw units: code^2 summed over samples. */
typedef struct {
    uint32_t n;    /* samples */
    bool locked;   /* whole cycles, frequency valid */
    bool partial;  /* a piece measured apart (power-up, power fail): registers
                      with the no-load decision of the last whole block,
                      shows nothing */
    double freq_hz;
    double p_raw;  /* sum v*i with DC removed (all harmonics) */
    double q_raw;  /* fundamental reactive, same units */
    double p1_raw; /* fundamental active (for the quadrant) */
    double vv_raw, ii_raw; /* AC only */
    /* Means are over the block's span of whole cycles (interpolated between
     * its crossings, in samples; n when not locked), not its sample count: a
     * sum over n samples covers n sample intervals, the cycles span +- 1.
     * v and v*i are ~0 at the voltage's crossings; i is not: ii_b is i^2 (AC)
     * at the crossings, the sum's end correction (span - n) * ii_b. */
    double span, ii_b;
    double dc_v, dc_i;     /* DC in codes (true rms = AC + DC) */
} klefr_block;
/* Energy quantum accumulator: raw units -> integer uWh/uvarh, exactly. */
typedef struct {
    int64_t raw_res; /* raw units below one quantum (1 << KLEFR_Q_SHIFT) */
    uint64_t q_res;  /* quanta x 15625 below one uWh */
} klefr_eacc;

enum { KLEFR_E_ACT_FWD, KLEFR_E_ACT_REV, KLEFR_E_REACT_FWD, KLEFR_E_REACT_REV, KLEFR_E_COUNT };

/* A pulse output: energy residue and the end of the last pulse. */
typedef struct {
    uint64_t acc_uwh;
    uint64_t quantum_uwh; /* pulse energy acc_uwh counts toward (rate changes reset it) */
    uint64_t last_end_us;
    uint64_t count; /* pulses emitted since power-up */
} klefr_pulse_gen;

typedef struct {
    klefr_dsp dsp;
    klefr_eacc acc[KLEFR_E_COUNT];
    klefr_pulse_gen pulse[3]; /* indexed by klefr_output */
    uint64_t samples_done;    /* samples in finished blocks (= time registered) */
    bool act_on, react_on;    /* the last whole block passed the no-load thresholds */
    bool judged;              /* act_on, react_on are from a block since power-up */
    bool pf_saved;            /* power-fail save done, waiting for voltage */
    uint32_t pf_saves;        /* power-fail saves since power-up */
} klefr_metering;

void klefr_metering_init(struct klefr_meter *m, uint64_t t_us);
void klefr_metering_adc(struct klefr_meter *m, const int32_t *v, const int32_t *i, size_t n,
                        uint64_t t_us);
/* Register the energy of the block in progress (the supply is failing, the
 * run stops): nothing measured is lost. t_us: now. */
void klefr_metering_flush(struct klefr_meter *m, uint64_t t_us);

/* Energy views. tariff: KLEFR_T1, KLEFR_T2, or -1 for the sum of both. */
uint64_t klefr_act_fwd_uwh(const klefr_regs *r, int tariff);
uint64_t klefr_act_rev_uwh(const klefr_regs *r, int tariff);
uint64_t klefr_react_fwd_uvarh(const klefr_regs *r, int tariff);
uint64_t klefr_react_rev_uvarh(const klefr_regs *r, int tariff);
/* Total active energy per the calculation code (manual 7.11); may be negative. */
int64_t klefr_total_active_uwh(const struct klefr_meter *m, int tariff);
/* Total reactive energy: forward + reverse (calc codes apply to active only). */
uint64_t klefr_total_react_uvarh(const klefr_regs *r, int tariff);

/* Calculation codes (manual 7.11) and S0 rates in imp/kWh x 100 (manual 5,
 * 7.10) the meter accepts, in the order the menu offers them. */
extern const uint32_t klefr_calc_codes[6];
extern const uint32_t klefr_s0_rates_centi[8];
bool klefr_calc_code_valid(unsigned code);
bool klefr_s0_rate_valid(uint32_t centi);

/* Reset the resettable day counter (manual 7.9). */
void klefr_day_counter_reset(struct klefr_meter *m, uint64_t t_us);

/* --- internal to src/metering/ --- */
void klefr_dsp_init(klefr_dsp *d);
/* Runs samples through the DSP; calls klefr_metering_block() for each
 * finished block with the time of the sample that ends it. */
void klefr_dsp_run(struct klefr_meter *m, const int32_t *v, const int32_t *i, size_t n,
                   uint64_t t_us);
/* The block in progress as a partial block (klefr_metering_flush). */
void klefr_dsp_flush(struct klefr_meter *m, uint64_t t_us);
void klefr_metering_block(struct klefr_meter *m, const klefr_block *b, uint64_t t_end_us);
/* The no-load decision of a whole block (act_on, react_on). */
void klefr_metering_judge(struct klefr_meter *m, const klefr_block *b);
/* Adds raw energy (>= 0) to accumulator a; returns whole uWh (uvarh) won. */
uint64_t klefr_eacc_add(klefr_eacc *a, int64_t raw);
/* Pulse energy in uWh for an S0 rate in imp/kWh x 100 (LED: 1000000). */
uint64_t klefr_pulse_quantum_uwh(uint32_t centi);
/* Pulse width in us for a rate at active power p_w (manual 5 table). */
uint32_t klefr_pulse_width_us(uint32_t centi, double p_w);
/* Adds uwh to a pulse output over the block [t0, t1) and emits the pulses due. */
void klefr_pulse_add(struct klefr_meter *m, klefr_output out, uint32_t centi, uint64_t uwh,
                     double p_w, uint64_t t0_us, uint64_t t1_us);

#endif
