/* Metering glue: block results -> measurements, no-load, energy registers of
 * the active tariff, pulses, power-fail save, the block in progress folded in
 * at a power fail. */
#include <math.h>
#include <string.h>

#include "klefr/meter.h"

/* Volts and amperes per ADC code (config.h). */
#define KLEFR_KV (KLEFR_V_FULL_SCALE_PEAK / KLEFR_ADC_FULL_SCALE)
#define KLEFR_KI (KLEFR_I_FULL_SCALE_PEAK / KLEFR_ADC_FULL_SCALE)

/* No-load (anti-creep): below the starting-current threshold, or below these
 * powers, nothing is registered. Starting at 20 mA PF 1 is 4.6 W at Un. */
#define KLEFR_NOLOAD_W 2.0
#define KLEFR_NOLOAD_VAR 2.0
/* Blocks shorter than this do not update the display values nor judge the
 * supply. */
#define KLEFR_MIN_BLOCK 40u
/* Power-fail re-arms when the voltage is back above this. */
#define KLEFR_POWER_BACK_V (KLEFR_POWER_FAIL_V + 20.0)

void klefr_metering_init(struct klefr_meter *m, uint64_t t_us)
{
    (void)t_us;
    memset(&m->metering, 0, sizeof m->metering);
    klefr_dsp_init(&m->metering.dsp);
}

void klefr_metering_adc(struct klefr_meter *m, const int32_t *v, const int32_t *i, size_t n,
                        uint64_t t_us)
{
    klefr_dsp_run(m, v, i, n, t_us);
}

void klefr_metering_flush(struct klefr_meter *m, uint64_t t_us)
{
    klefr_dsp_flush(m, t_us);
}

uint32_t klefr_meter_pending_samples(const struct klefr_meter *m)
{
    const klefr_dsp *d = &m->metering.dsp;
    return m->powered ? d->first.n + d->s.n + d->nbuf : 0; /* with those held back unsummed */
}

static int64_t round_pos(double x)
{
    return x > 0 ? (int64_t)(x + 0.5) : 0;
}

/* v, i: true rms (AC + DC); p: active (all harmonics); q, p1: fundamental. */
static void update_meas(struct klefr_meter *m, const klefr_block *b, double v, double i, double p,
                        double q, double p1)
{
    klefr_measure *me = &m->meas;
    me->v_rms = (float)v;
    me->i_rms = (float)i;
    if (b->locked)
        me->freq_hz = (float)b->freq_hz;
    else if (v < KLEFR_POWER_FAIL_V)
        me->freq_hz = 0.0f;
    me->p_w = (float)p;
    me->q_var = (float)q;
    double s = v * i;
    me->s_va = (float)s;
    me->pf = s > 0 && (p != 0 || q != 0) ? (float)(p / s) : 1.0f;
    if (me->pf > 1.0f)
        me->pf = 1.0f;
    if (me->pf < -1.0f)
        me->pf = -1.0f;
    me->reverse = p < 0;
    /* Quadrants follow the fundamental (IEC 62053-24). */
    me->quadrant = p1 >= 0 ? (q >= 0 ? 1 : 4) : (q >= 0 ? 2 : 3);
    me->valid = true;
}

static void power_fail_check(struct klefr_meter *m, double v_rms, uint64_t t_us)
{
    klefr_metering *mt = &m->metering;
    if (!mt->pf_saved && v_rms < KLEFR_POWER_FAIL_V) {
        mt->pf_saved = true;
        mt->pf_saves++;
        klefr_store_save(m, t_us);
    } else if (mt->pf_saved && v_rms >= KLEFR_POWER_BACK_V) {
        mt->pf_saved = false;
    }
}

/* No-load: below the starting current (AC: a DC current carries no energy)
 * or the power thresholds nothing registers. Judged on whole blocks; a piece
 * measured apart (power-up, power fail) follows the last whole block, or
 * itself when there was none since power-up. */
/* Mean squares (AC) of a block, over its span (metering.h). */
static double mean_vv(const klefr_block *b)
{
    return b->vv_raw > 0 ? b->vv_raw / b->span : 0.0;
}
static double mean_ii(const klefr_block *b)
{
    double ii = b->ii_raw + (b->span - (double)b->n) * b->ii_b;
    return ii > 0 ? ii / b->span : 0.0;
}

void klefr_metering_judge(struct klefr_meter *m, const klefr_block *b)
{
    double n = (double)b->n;
    double i_ac = sqrt(mean_ii(b)) * KLEFR_KI;
    double p = b->p_raw / b->span * KLEFR_KV * KLEFR_KI, q = b->q_raw / n * KLEFR_KV * KLEFR_KI;
    m->metering.act_on = i_ac >= KLEFR_START_CURRENT_A && fabs(p) >= KLEFR_NOLOAD_W;
    m->metering.react_on = i_ac >= KLEFR_START_CURRENT_A && fabs(q) >= KLEFR_NOLOAD_VAR;
    m->metering.judged = true;
}

void klefr_metering_block(struct klefr_meter *m, const klefr_block *b, uint64_t t_end_us)
{
    klefr_metering *mt = &m->metering;
    double n = (double)b->n;
    /* True rms: AC and DC, as a shunt sees them. */
    double v = sqrt(mean_vv(b) + b->dc_v * b->dc_v) * KLEFR_KV;
    double i = sqrt(mean_ii(b) + b->dc_i * b->dc_i) * KLEFR_KI;
    double p = b->p_raw / b->span * KLEFR_KV * KLEFR_KI;
    double q = b->q_raw / n * KLEFR_KV * KLEFR_KI;
    double p1 = b->p1_raw / n * KLEFR_KV * KLEFR_KI;
    double p_raw = b->p_raw, q_raw = b->q_raw;

    if (!b->partial || !mt->judged) /* a piece before any whole block: its own */
        klefr_metering_judge(m, b);
    if (!mt->act_on)
        p = p1 = p_raw = 0.0;
    if (!mt->react_on)
        q = q_raw = 0.0;
    if (i < KLEFR_START_CURRENT_A)
        i = 0.0;

    int t = m->tariff == 2 ? KLEFR_T2 : KLEFR_T1;
    uint64_t fwd = klefr_eacc_add(&mt->acc[KLEFR_E_ACT_FWD], round_pos(p_raw));
    uint64_t rev = klefr_eacc_add(&mt->acc[KLEFR_E_ACT_REV], round_pos(-p_raw));
    m->regs.act_fwd_uwh[t] += fwd;
    m->regs.act_rev_uwh[t] += rev;
    m->regs.day_fwd_uwh += fwd;
    m->regs.react_fwd_uvarh[t] += klefr_eacc_add(&mt->acc[KLEFR_E_REACT_FWD], round_pos(q_raw));
    m->regs.react_rev_uvarh[t] += klefr_eacc_add(&mt->acc[KLEFR_E_REACT_REV], round_pos(-q_raw));

    uint64_t t0 = t_end_us - (uint64_t)b->n * KLEFR_TS_US;
    klefr_pulse_add(m, KLEFR_OUT_LED, KLEFR_LED_IMP_PER_KWH * 100u, fwd + rev, p, t0, t_end_us);
    klefr_pulse_add(m, KLEFR_OUT_S0_FWD, m->settings.s0_rate_centi, fwd, p, t0, t_end_us);
    klefr_pulse_add(m, KLEFR_OUT_S0_REV, m->settings.s0_rate_centi, rev, p, t0, t_end_us);
    mt->samples_done += b->n;

    /* A piece (or a block too short to judge) shows nothing. */
    if (b->n >= KLEFR_MIN_BLOCK && !b->partial) {
        update_meas(m, b, v, i, p, q, p1);
        power_fail_check(m, v, t_end_us);
    }
}
