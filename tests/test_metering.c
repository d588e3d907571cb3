/* Metering: accuracy (manual 5.2 with influences), quadrants, export,
 * starting and no-load, calc codes, tariffs, day counter, pulses, power-fail,
 * determinism. Runs the real firmware on the synthetic AFE through the sim
 * loop; each point lasts a few simulated seconds. */
#include "check_run.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_synth.h"
#include "sim.h"

#define IB KLEFR_IB_A
#define IMAX KLEFR_IMAX_A
#define UN KLEFR_UN_V

typedef struct {
    klefr_sim sim;
    klefr_synth syn;
} rig;

static rig R, R2;

/* Pulses seen by the HAL, for timing checks. */
#define MAX_REC 4096
static struct {
    unsigned n;
    uint64_t t[MAX_REC];
    uint32_t w[MAX_REC];
    klefr_output out[MAX_REC];
} rec;

static void rec_pulse(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us)
{
    klefr_sim *s = arg;
    s->out.count[out]++;
    s->out.last_width_us[out] = width_us;
    if (rec.n < MAX_REC) {
        rec.t[rec.n] = t_us;
        rec.w[rec.n] = width_us;
        rec.out[rec.n] = out;
        rec.n++;
    }
}

static klefr_load mk_load(double v, double i, double phi, double f)
{
    return (klefr_load){.v_rms = v, .i_rms = i, .phi_deg = phi, .freq_hz = f, .seed = 12345};
}

/* Realistic imperfections: noise, DC at the terminals, ADC offsets. */
static klefr_load noisy(klefr_load l)
{
    l.noise_v_rms = 0.1;
    l.noise_i_rms = 0.002;
    l.dc_v = 0.5;
    l.dc_i = 0.02;
    return l;
}

static const klefr_adc_model adc_off = {
    .gain_v = 1.0, .gain_i = 1.0, .offset_v = 1500, .offset_i = -800};

static void rig_start(rig *r, const klefr_load *l, const klefr_adc_model *adc)
{
    char err[128];
    klefr_synth_init(&r->syn, l, adc);
    ck_assert_int_eq(klefr_sim_init(&r->sim, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL, &r->syn.afe,
                                    NULL, err, sizeof err),
                     0);
    r->sim.hal.pulse = rec_pulse;
    rec.n = 0;
}

static void rig_run(rig *r, double seconds)
{
    ck_assert(klefr_sim_run_until(&r->sim, r->sim.t_us + (uint64_t)(seconds * 1e6 + 0.5)));
}

/* A test gate like a meter test bench's: after warm-up, compare the energy
 * registered between two block ends (voltage zero crossings, so whole
 * cycles) with the load's true power over the same samples. The first,
 * partial block after power-up is not a whole number of cycles. */
static struct {
    klefr_regs regs;
    uint64_t samples;
} gate;

static void gate_open(const rig *r)
{
    gate.regs = r->sim.meter.regs;
    gate.samples = r->sim.meter.metering.samples_done;
}

/* Registers minus their value at gate_open. */
static klefr_regs gated(const rig *r)
{
    klefr_regs d = r->sim.meter.regs;
    for (int t = 0; t < KLEFR_TARIFFS; t++) {
        d.act_fwd_uwh[t] -= gate.regs.act_fwd_uwh[t];
        d.act_rev_uwh[t] -= gate.regs.act_rev_uwh[t];
        d.react_fwd_uvarh[t] -= gate.regs.react_fwd_uvarh[t];
        d.react_rev_uvarh[t] -= gate.regs.react_rev_uvarh[t];
    }
    d.day_fwd_uwh -= gate.regs.day_fwd_uwh;
    return d;
}

/* Energy a load delivers over the gated samples, uWh. */
static double expected_uwh(const rig *r, double power)
{
    return power * (double)(r->sim.meter.metering.samples_done - gate.samples) * KLEFR_TS_US /
           3600.0;
}

/* Start, warm up 1 s, open the gate. */
static void rig_warm(rig *r, const klefr_load *l, const klefr_adc_model *adc)
{
    rig_start(r, l, adc);
    rig_run(r, 1.0);
    gate_open(r);
}

static double err_pct(double got, double want)
{
    return (got - want) / want * 100.0;
}

/* ---- accuracy ---- */

typedef struct {
    const char *name;
    double i, phi;
} point;

static const point points[] = {
    {"0.05Ib PF1", 0.05 * IB, 0},
    {"0.1Ib PF1", 0.1 * IB, 0},
    {"0.1Ib 0.5L", 0.1 * IB, 60},
    {"0.1Ib 0.8C", 0.1 * IB, -36.8699},
    {"0.2Ib 0.5L", 0.2 * IB, 60},
    {"0.2Ib 0.8C", 0.2 * IB, -36.8699},
    {"Ib PF1", IB, 0},
    {"Ib 0.5L", IB, 60},
    {"Ib 0.8C", IB, -36.8699},
    {"10Ib PF1", 10 * IB, 0},
    {"10Ib 0.5L", 10 * IB, 60},
    {"10Ib 0.8C", 10 * IB, -36.8699},
    {"Imax PF1", IMAX, 0},
    {"Imax 0.5L", IMAX, 60},
    {"Imax 0.8C", IMAX, -36.8699},
};
#define NPOINTS (sizeof points / sizeof points[0])

typedef struct {
    const char *name;
    double v, f;
    bool harm;
} condition;

static const condition conds[] = {
    {"Un 50Hz", UN, 50, false},     {"Un 45Hz", UN, 45, false},     {"Un 55Hz", UN, 55, false},
    {"0.9Un", 0.9 * UN, 50, false}, {"1.1Un", 1.1 * UN, 50, false}, {"5th harm", UN, 50, true},
};
#define NCONDS (sizeof conds / sizeof conds[0])

START_TEST(accuracy_table)
{
    double worst_p = 0, worst_q = 0;
    printf("\nActive energy error %% (reactive in brackets), %g s per point, noise + offsets\n",
           4.0);
    printf("| point |");
    for (unsigned c = 0; c < NCONDS; c++)
        printf(" %s |", conds[c].name);
    printf("\n|---|");
    for (unsigned c = 0; c < NCONDS; c++)
        printf("---|");
    printf("\n");
    for (unsigned p = 0; p < NPOINTS; p++) {
        printf("| %s |", points[p].name);
        for (unsigned c = 0; c < NCONDS; c++) {
            klefr_load l = noisy(mk_load(conds[c].v, points[p].i, points[p].phi, conds[c].f));
            if (conds[c].harm) {
                l.n_harm = 1;
                l.harm[0] = (klefr_harmonic){.order = 5, .v_pct = 10, .i_pct = 40};
            }
            rig_warm(&R, &l, &adc_off);
            rig_run(&R, 4.0);
            klefr_regs gr = gated(&R);
            const klefr_regs *g = &gr;
            double ep = err_pct((double)klefr_act_fwd_uwh(g, -1),
                                expected_uwh(&R, klefr_load_active_w(&l)));
            double q = klefr_load_reactive_var(&l);
            double qgot =
                q > 0 ? (double)klefr_react_fwd_uvarh(g, -1) : (double)klefr_react_rev_uvarh(g, -1);
            ck_assert_uint_eq(klefr_act_rev_uwh(g, -1), 0);
            if (fabs(points[p].phi) > 1) {
                double eq = err_pct(qgot, expected_uwh(&R, fabs(q)));
                printf(" %+.4f (%+.3f) |", ep, eq);
                if (fabs(eq) > worst_q)
                    worst_q = fabs(eq);
                ck_assert_msg(fabs(eq) <= 0.5, "%s %s reactive error %.4f %%", points[p].name,
                              conds[c].name, eq);
            } else {
                printf(" %+.4f |", ep);
                /* PF 1: reactive registers stay near zero (< 0.1 % of active). */
                ck_assert_double_le((double)klefr_total_react_uvarh(g, -1),
                                    0.001 * (double)klefr_act_fwd_uwh(g, -1) + 1.0);
            }
            if (fabs(ep) > worst_p)
                worst_p = fabs(ep);
            ck_assert_msg(fabs(ep) <= 0.1, "%s %s active error %.4f %%", points[p].name,
                          conds[c].name, ep);
        }
        printf("\n");
    }
    printf("worst active %.4f %%, worst reactive %.4f %%\n", worst_p, worst_q);
}
END_TEST

START_TEST(instantaneous_values)
{
    const double fs[] = {45, 50, 55};
    for (unsigned k = 0; k < 3; k++) {
        klefr_load l = noisy(mk_load(UN, 10, 60, fs[k]));
        rig_start(&R, &l, &adc_off);
        rig_run(&R, 2.0);
        const klefr_measure *me = &R.sim.meter.meas;
        ck_assert(me->valid);
        ck_assert_double_eq_tol(me->freq_hz, fs[k], 0.01);
        ck_assert_double_eq_tol(me->v_rms, UN, UN * 0.001);
        ck_assert_double_eq_tol(me->i_rms, 10, 10 * 0.001);
        ck_assert_double_eq_tol(me->p_w, klefr_load_active_w(&l), 2300 * 0.001);
        ck_assert_double_eq_tol(me->q_var, klefr_load_reactive_var(&l), 2300 * 0.002);
        ck_assert_double_eq_tol(me->s_va, 2300, 2300 * 0.002);
        ck_assert_double_eq_tol(me->pf, 0.5, 0.002);
    }
}
END_TEST

START_TEST(load_steps_keep_accuracy)
{
    /* Steps in current, phase and frequency mid-block: every sample is still
     * registered once, at the power it had. */
    const struct {
        double i, phi, f;
    } steps[] = {{5, 0, 50}, {60, 30, 50}, {0.5, -36.87, 49.5}, {100, 0, 50.5}, {2, 60, 50}};
    klefr_load l = noisy(mk_load(UN, steps[0].i, steps[0].phi, steps[0].f));
    rig_warm(&R, &l, &adc_off);
    uint64_t from = R.sim.meter.metering.samples_done;
    double want = 0;
    for (unsigned k = 0; k < 5; k++) {
        l.i_rms = steps[k].i, l.phi_deg = steps[k].phi, l.freq_hz = steps[k].f;
        klefr_synth_set_load(&R.syn, &l);
        uint64_t at = R.syn.n;
        rig_run(&R, 1.537);
        uint64_t end = k < 4 ? R.syn.n : R.sim.meter.metering.samples_done;
        want +=
            klefr_load_active_w(&l) * (double)(end - (k == 0 ? from : at)) * KLEFR_TS_US / 3600.0;
    }
    klefr_regs g = gated(&R);
    double got = (double)klefr_act_fwd_uwh(&g, -1);
    printf("load steps: %.4f %% error\n", err_pct(got, want));
    ck_assert_double_eq_tol(got, want, want * 0.001);
}
END_TEST

/* ---- quadrants, export ---- */

START_TEST(quadrants_and_registers)
{
    /* phi: current lag. Q1 import inductive, Q2 export inductive (+Q),
     * Q3 export capacitive, Q4 import capacitive. */
    const struct {
        double phi;
        uint8_t quad;
        bool rev, qpos;
    } c[] = {
        {60, 1, false, true}, {120, 2, true, true}, {-120, 3, true, false}, {-60, 4, false, false}};
    for (unsigned k = 0; k < 4; k++) {
        klefr_load l = noisy(mk_load(UN, 10, c[k].phi, 50));
        rig_warm(&R, &l, &adc_off);
        rig_run(&R, 3.0);
        const klefr_meter *m = &R.sim.meter;
        klefr_regs g = gated(&R);
        ck_assert_uint_eq(m->meas.quadrant, c[k].quad);
        ck_assert(m->meas.reverse == c[k].rev);
        ck_assert(c[k].rev ? m->meas.pf < 0 : m->meas.pf > 0);
        ck_assert(c[k].qpos ? m->meas.q_var > 0 : m->meas.q_var < 0);
        double ep = expected_uwh(&R, fabs(klefr_load_active_w(&l)));
        double eq = expected_uwh(&R, fabs(klefr_load_reactive_var(&l)));
        uint64_t act = c[k].rev ? klefr_act_rev_uwh(&g, -1) : klefr_act_fwd_uwh(&g, -1);
        uint64_t other =
            c[k].rev ? klefr_act_fwd_uwh(&m->regs, -1) : klefr_act_rev_uwh(&m->regs, -1);
        uint64_t re = c[k].qpos ? klefr_react_fwd_uvarh(&g, -1) : klefr_react_rev_uvarh(&g, -1);
        uint64_t rother =
            c[k].qpos ? klefr_react_rev_uvarh(&m->regs, -1) : klefr_react_fwd_uvarh(&m->regs, -1);
        ck_assert_double_eq_tol((double)act, ep, ep * 0.001);
        ck_assert_double_eq_tol((double)re, eq, eq * 0.005);
        ck_assert_uint_eq(other, 0);
        ck_assert_uint_eq(rother, 0);
        /* Day counter follows forward active only. */
        ck_assert_uint_eq(m->regs.day_fwd_uwh, klefr_act_fwd_uwh(&m->regs, -1));
    }
}
END_TEST

START_TEST(export_pf1)
{
    klefr_load l = noisy(mk_load(UN, 20, 180, 50));
    rig_warm(&R, &l, &adc_off);
    rig_run(&R, 5.0);
    const klefr_meter *m = &R.sim.meter;
    klefr_regs g = gated(&R);
    double want = expected_uwh(&R, 4600);
    ck_assert_double_eq_tol((double)klefr_act_rev_uwh(&g, -1), want, want * 0.001);
    ck_assert_uint_eq(klefr_act_fwd_uwh(&m->regs, -1), 0);
    ck_assert(m->meas.reverse);
    ck_assert_double_eq_tol(m->meas.p_w, -4600, 4.6);
    /* LED flashes for export too; S0 reverse only. */
    ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_LED], klefr_act_rev_uwh(&m->regs, -1) / 100000);
    ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_S0_REV], klefr_act_rev_uwh(&m->regs, -1) / 1000000);
    ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_S0_FWD], 0);
}
END_TEST

/* ---- starting and no-load ---- */

START_TEST(starting_current_registers)
{
    klefr_load l = noisy(mk_load(UN, 0.004 * IB, 0, 50));
    rig_warm(&R, &l, &adc_off);
    rig_run(&R, 200.0);
    klefr_regs g = gated(&R);
    double want = expected_uwh(&R, klefr_load_active_w(&l));
    /* 20 mA registers, with the accuracy of class B's lowest point or better. */
    ck_assert_double_eq_tol((double)klefr_act_fwd_uwh(&g, -1), want, want * 0.015);
    /* 4.6 W: one LED pulse every ~78 s. */
    ck_assert_uint_ge(R.sim.out.count[KLEFR_OUT_LED], 2);
    printf("starting 20 mA: %.3f %% error, %llu LED pulses in 200 s\n",
           err_pct((double)klefr_act_fwd_uwh(&g, -1), want),
           (unsigned long long)R.sim.out.count[KLEFR_OUT_LED]);
}
END_TEST

/* crosstalk_a: a small in-phase current picked up from the voltage circuit,
 * the classic creep source (below the 20 mA the meter must start at). */
static void noload_run(double noise_i, double crosstalk_a)
{
    klefr_load l = mk_load(1.15 * UN, crosstalk_a, 0, 50);
    l.noise_v_rms = 0.5;
    l.noise_i_rms = noise_i;
    l.dc_v = 1.0;
    l.dc_i = 0.05;
    rig_start(&R, &l, &adc_off);
    R.sim.meter.settings.s0_rate_centi = 1000000; /* the most sensitive S0 */
    rig_run(&R, 15 * 60.0);
    const klefr_meter *m = &R.sim.meter;
    printf("no-load 115 %% Un, noise %.0f mA, crosstalk %.0f mA: LED %llu, S0 %llu/%llu pulses, "
           "%llu uWh\n",
           noise_i * 1000, crosstalk_a * 1000, (unsigned long long)R.sim.out.count[KLEFR_OUT_LED],
           (unsigned long long)R.sim.out.count[KLEFR_OUT_S0_FWD],
           (unsigned long long)R.sim.out.count[KLEFR_OUT_S0_REV],
           (unsigned long long)(klefr_act_fwd_uwh(&m->regs, -1) + klefr_act_rev_uwh(&m->regs, -1)));
    ck_assert_uint_le(R.sim.out.count[KLEFR_OUT_LED], 1);
    ck_assert_uint_le(R.sim.out.count[KLEFR_OUT_S0_FWD] + R.sim.out.count[KLEFR_OUT_S0_REV], 1);
    /* Stricter than the pulse limit: nothing creeps into the registers. */
    ck_assert_uint_lt(klefr_act_fwd_uwh(&m->regs, -1) + klefr_act_rev_uwh(&m->regs, -1), 1000);
    ck_assert_uint_lt(klefr_total_react_uvarh(&m->regs, -1), 1000);
    ck_assert_double_eq_tol(m->meas.v_rms, 1.15 * UN, 0.3);
}

START_TEST(no_load_no_creep)
{
    noload_run(0.003, 0);
    noload_run(0.02, 0); /* noise above the starting threshold itself */
    noload_run(0.003, 0.004);
}
END_TEST

/* ---- calc codes, tariffs, day counter ---- */

START_TEST(calc_codes)
{
    klefr_meter m;
    memset(&m, 0, sizeof m);
    m.regs.act_fwd_uwh[0] = 5000, m.regs.act_fwd_uwh[1] = 2000;
    m.regs.act_rev_uwh[0] = 1000, m.regs.act_rev_uwh[1] = 4000;
    const struct {
        uint8_t code;
        int64_t total, t1, t2;
    } c[] = {{1, 7000, 5000, 2000},   {4, 5000, 1000, 4000},  {5, 12000, 6000, 6000},
             {6, -2000, -4000, 2000}, {9, 2000, 4000, -2000}, {10, 2000, 4000, 0}};
    for (unsigned k = 0; k < 6; k++) {
        ck_assert(klefr_calc_code_valid(c[k].code));
        m.settings.calc_code = c[k].code;
        ck_assert_int_eq(klefr_total_active_uwh(&m, -1), c[k].total);
        ck_assert_int_eq(klefr_total_active_uwh(&m, KLEFR_T1), c[k].t1);
        ck_assert_int_eq(klefr_total_active_uwh(&m, KLEFR_T2), c[k].t2);
    }
    /* C-10 never goes below zero where C-09 does. */
    m.regs.act_rev_uwh[0] = 9000;
    m.settings.calc_code = 9;
    ck_assert_int_lt(klefr_total_active_uwh(&m, -1), 0);
    m.settings.calc_code = 10;
    ck_assert_int_eq(klefr_total_active_uwh(&m, -1), 0);
    ck_assert(!klefr_calc_code_valid(0) && !klefr_calc_code_valid(2) && !klefr_calc_code_valid(11));
}
END_TEST

START_TEST(tariffs_select_registers)
{
    klefr_load l = mk_load(UN, 10, 30, 50);
    rig_warm(&R, &l, NULL);
    rig_run(&R, 2.0);
    klefr_meter *m = &R.sim.meter;
    uint64_t t1 = m->regs.act_fwd_uwh[KLEFR_T1], q1 = m->regs.react_fwd_uvarh[KLEFR_T1];
    ck_assert_uint_gt(t1, 0);
    ck_assert_uint_gt(q1, 0);
    ck_assert_uint_eq(m->regs.act_fwd_uwh[KLEFR_T2], 0);
    ck_assert(klefr_meter_set_tariff(m, 2, false, R.sim.t_us));
    uint64_t before = m->regs.act_fwd_uwh[KLEFR_T1];
    rig_run(&R, 2.0);
    /* T1 stands still (at most the block in progress at the switch). */
    ck_assert_uint_le(m->regs.act_fwd_uwh[KLEFR_T1] - before, 2000 * 0.2 / 3600 * 1e6 * 1.01);
    ck_assert_uint_gt(m->regs.act_fwd_uwh[KLEFR_T2], 900000);
    ck_assert_uint_gt(m->regs.react_fwd_uvarh[KLEFR_T2], 0);
    /* Sum over tariffs is the whole energy. */
    klefr_regs g = gated(&R);
    double want = expected_uwh(&R, klefr_load_active_w(&l));
    ck_assert_double_eq_tol((double)klefr_act_fwd_uwh(&g, -1), want, want * 0.001);
    /* The 6922 tariff input switches back to T1 on its falling edge. */
    klefr_meter_tariff_input(m, true, R.sim.t_us);
    ck_assert_uint_eq(m->tariff, 2);
    klefr_meter_tariff_input(m, false, R.sim.t_us);
    ck_assert_uint_eq(m->tariff, 1);
}
END_TEST

START_TEST(day_counter)
{
    klefr_load l = mk_load(UN, 10, 0, 50);
    rig_start(&R, &l, NULL);
    rig_run(&R, 2.0);
    klefr_meter *m = &R.sim.meter;
    ck_assert_uint_gt(m->regs.day_fwd_uwh, 0);
    ck_assert_uint_eq(m->regs.day_fwd_uwh, klefr_act_fwd_uwh(&m->regs, -1));
    klefr_day_counter_reset(m, R.sim.t_us);
    ck_assert_uint_eq(m->regs.day_fwd_uwh, 0);
    uint64_t f0 = klefr_act_fwd_uwh(&m->regs, -1);
    rig_run(&R, 2.0);
    ck_assert_uint_eq(m->regs.day_fwd_uwh, klefr_act_fwd_uwh(&m->regs, -1) - f0);
    /* Export does not count in the day counter. */
    uint64_t d0 = m->regs.day_fwd_uwh;
    l.phi_deg = 180;
    klefr_synth_set_load(&R.syn, &l);
    rig_run(&R, 2.0);
    ck_assert_uint_le(m->regs.day_fwd_uwh - d0, 2300 * 0.2 / 3600 * 1e6); /* block in progress */
    ck_assert_uint_gt(klefr_act_rev_uwh(&m->regs, -1), 0);
}
END_TEST

/* ---- pulses ---- */

START_TEST(pulse_widths_table)
{
    ck_assert_uint_eq(klefr_pulse_width_us(1000000, 3000), 31000);
    ck_assert_uint_eq(klefr_pulse_width_us(1000000, 8000), 15000);
    ck_assert_uint_eq(klefr_pulse_width_us(1000000, 13000), 5000);
    ck_assert_uint_eq(klefr_pulse_width_us(1000000, -13000), 5000);
    ck_assert_uint_eq(klefr_pulse_width_us(200000, 25000), 31000);
    ck_assert_uint_eq(klefr_pulse_width_us(200000, 35000), 15000);
    const uint32_t low[] = {100000, 10000, 1000, 100, 10, 1};
    for (unsigned k = 0; k < 6; k++)
        ck_assert_uint_eq(klefr_pulse_width_us(low[k], 40000), 31000);
}
END_TEST

START_TEST(s0_rates_counts_and_widths)
{
    const uint32_t rates[] = {1000000, 200000, 100000, 10000, 1000, 100, 10, 1};
    for (unsigned k = 0; k < 8; k++) {
        ck_assert(klefr_s0_rate_valid(rates[k]));
        klefr_load l = noisy(mk_load(UN, 100, 0, 50)); /* 23 kW */
        rig_start(&R, &l, &adc_off);
        klefr_meter *m = &R.sim.meter;
        m->settings.s0_rate_centi = rates[k];
        uint64_t q = klefr_pulse_quantum_uwh(rates[k]);
        ck_assert_uint_eq(q * rates[k], 100000000000ull); /* exact for every rate */
        /* Rates too slow to see in seconds: start with the residue just short
         * of a pulse, as after a long run. */
        if (q > 10000000) {
            m->metering.pulse[KLEFR_OUT_S0_FWD].quantum_uwh = q;
            m->metering.pulse[KLEFR_OUT_S0_FWD].acc_uwh = q - 1000000;
        }
        uint64_t acc0 = m->metering.pulse[KLEFR_OUT_S0_FWD].acc_uwh;
        rig_run(&R, 3.0);
        uint64_t e = klefr_act_fwd_uwh(&m->regs, -1);
        ck_assert_uint_ge(R.sim.out.count[KLEFR_OUT_S0_FWD], 1);
        ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_S0_FWD], (acc0 + e) / q);
        ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_S0_REV], 0);
        uint32_t want_w = rates[k] == 1000000 ? 5000 : 31000;
        ck_assert_uint_eq(R.sim.out.last_width_us[KLEFR_OUT_S0_FWD], want_w);
        /* LED: energy x 10,000 / kWh, within one pulse. */
        ck_assert_uint_eq(R.sim.out.count[KLEFR_OUT_LED], e / 100000);
    }
}
END_TEST

START_TEST(pulses_spaced_not_overlapping)
{
    const double amps[] = {100, 40, 10}; /* 23 kW, 9.2 kW, 2.3 kW */
    const uint32_t widths[] = {5000, 15000, 31000};
    for (unsigned k = 0; k < 3; k++) {
        klefr_load l = noisy(mk_load(UN, amps[k], 0, 50));
        rig_start(&R, &l, &adc_off);
        rig_run(&R, 5.0);
        uint64_t last_end = 0, last_t = 0;
        unsigned led = 0;
        double period_us = 360.0 / (UN * amps[k]) * 1e6; /* 0.1 Wh per LED pulse */
        for (unsigned r = 0; r < rec.n; r++) {
            if (rec.out[r] != KLEFR_OUT_LED)
                continue;
            ck_assert_uint_eq(rec.w[r], widths[k]);
            ck_assert_uint_le(rec.t[r], R.sim.t_us);
            if (led) {
                ck_assert_uint_gt(rec.t[r], last_end);
                /* Interpolated in the block: spacing follows the power. */
                ck_assert_double_eq_tol((double)(rec.t[r] - last_t), period_us,
                                        0.02 * period_us + 300);
            }
            last_end = rec.t[r] + rec.w[r];
            last_t = rec.t[r];
            led++;
        }
        ck_assert_uint_gt(led, 5);
    }
}
END_TEST

/* ---- power fail, determinism, units ---- */

START_TEST(power_fail_saves_once)
{
    klefr_load l = mk_load(UN, 5, 0, 50);
    rig_start(&R, &l, NULL);
    rig_run(&R, 1.0);
    klefr_meter *m = &R.sim.meter;
    ck_assert_uint_eq(m->metering.pf_saves, 0);
    l.v_rms = 40;
    klefr_synth_set_load(&R.syn, &l);
    rig_run(&R, 2.0);
    ck_assert_uint_eq(m->metering.pf_saves, 1);
    l.v_rms = 0; /* collapsed entirely: still one save */
    klefr_synth_set_load(&R.syn, &l);
    rig_run(&R, 2.0);
    ck_assert_uint_eq(m->metering.pf_saves, 1);
    ck_assert_double_lt(m->meas.v_rms, 1.0);
    l.v_rms = UN;
    klefr_synth_set_load(&R.syn, &l);
    rig_run(&R, 1.0);
    ck_assert_uint_eq(m->metering.pf_saves, 1);
    l.v_rms = 60;
    klefr_synth_set_load(&R.syn, &l);
    rig_run(&R, 1.0);
    ck_assert_uint_eq(m->metering.pf_saves, 2);
}
END_TEST

START_TEST(deterministic)
{
    klefr_load l = noisy(mk_load(UN, 7.3, 25, 49.9));
    l.n_harm = 1;
    l.harm[0] = (klefr_harmonic){.order = 3, .v_pct = 3, .i_pct = 20, .i_phase_deg = 40};
    rig_start(&R, &l, &adc_off);
    rig_run(&R, 5.0);
    rig_start(&R2, &l, &adc_off);
    rig_run(&R2, 5.0);
    ck_assert_int_eq(memcmp(&R.sim.meter.regs, &R2.sim.meter.regs, sizeof R.sim.meter.regs), 0);
    ck_assert_int_eq(memcmp(&R.sim.meter.meas, &R2.sim.meter.meas, sizeof R.sim.meter.meas), 0);
    ck_assert_int_eq(memcmp(R.sim.out.count, R2.sim.out.count, sizeof R.sim.out.count), 0);
    /* A different seed gives different noise (so the seed is really used). */
    l.seed = 999;
    rig_start(&R2, &l, &adc_off);
    rig_run(&R2, 5.0);
    ck_assert_int_ne(memcmp(&R.sim.meter.meas, &R2.sim.meter.meas, sizeof R.sim.meter.meas), 0);
}
END_TEST

START_TEST(energy_unit_matches_config)
{
    /* energy.c's exact ratio uWh per raw unit against config.h's scaling. */
    double per_raw = KLEFR_V_FULL_SCALE_PEAK / KLEFR_ADC_FULL_SCALE * KLEFR_I_FULL_SCALE_PEAK /
                     KLEFR_ADC_FULL_SCALE / KLEFR_FS_HZ / 3600.0 * 1e6;
    ck_assert_double_eq_tol(per_raw, 15625.0 / (9.0 * 8796093022208.0), per_raw * 1e-12);
    /* And the accumulator is exact: 9 * 2^43 raw units at once or in
     * pieces give 15625 uWh and nothing left over. */
    klefr_eacc a = {0}, b = {0};
    uint64_t whole = klefr_eacc_add(&a, 9ll << 43);
    uint64_t parts = 0;
    for (int k = 0; k < 9 * 512; k++)
        parts += klefr_eacc_add(&b, 1ll << 34);
    ck_assert_uint_eq(whole, 15625);
    ck_assert_uint_eq(parts, 15625);
    ck_assert(b.raw_res == 0 && b.q_res == 0);
}
END_TEST

/* ---- synthetic AFE ---- */

START_TEST(synth_amplitude_no_drift)
{
    klefr_load l = mk_load(UN, 10, 0, 50.3);
    klefr_synth s;
    klefr_synth_init(&s, &l, NULL);
    static int32_t v[4000], i[4000];
    int32_t first = 0, last = 0;
    for (int sec = 0; sec < 3600; sec++) {
        s.afe.fill(&s.afe, v, i, 4000);
        int32_t pk = 0;
        for (int j = 0; j < 4000; j++)
            if (v[j] > pk)
                pk = v[j];
        if (sec == 0)
            first = pk;
        last = pk;
    }
    double want = UN * sqrt(2.0) / KLEFR_V_FULL_SCALE_PEAK * KLEFR_ADC_FULL_SCALE;
    ck_assert_double_eq_tol(first, want, want * 2e-4); /* sampled peak vs true peak */
    ck_assert_double_eq_tol(last, want, want * 2e-4);
}
END_TEST

START_TEST(synth_set_load_continuous)
{
    klefr_load l = mk_load(UN, 10, 0, 50);
    klefr_synth s;
    klefr_synth_init(&s, &l, NULL);
    int32_t v[300], i[300];
    s.afe.fill(&s.afe, v, i, 100);
    l.freq_hz = 55;
    l.i_rms = 50;
    klefr_synth_set_load(&s, &l);
    s.afe.fill(&s.afe, v + 100, i + 100, 200);
    /* Voltage has no jump at the change: the step stays below the largest
     * slope of a 55 Hz sine per sample. */
    double amp = UN * sqrt(2.0) / KLEFR_V_FULL_SCALE_PEAK * KLEFR_ADC_FULL_SCALE;
    double max_step = amp * 6.2832 * 55 / KLEFR_FS_HZ * 1.01;
    for (int j = 1; j < 300; j++)
        ck_assert_double_le(fabs((double)v[j] - v[j - 1]), max_step);
    /* Clipping at the ADC's full scale. */
    l.v_rms = 400;
    klefr_synth_set_load(&s, &l);
    s.afe.fill(&s.afe, v, i, 300);
    int32_t mx = 0;
    for (int j = 0; j < 300; j++)
        mx = v[j] > mx ? v[j] : mx;
    ck_assert_int_eq(mx, 8388607);
}
END_TEST

START_TEST(synth_noise_and_offsets)
{
    /* No signal: the codes are noise + DC + ADC offset, with the rms and
     * mean asked for. */
    klefr_load l = mk_load(0, 0, 0, 50);
    l.noise_v_rms = 2.0;
    l.noise_i_rms = 0.5;
    l.dc_v = 3.0;
    klefr_adc_model adc = {.gain_v = 1.0, .gain_i = 1.0, .offset_i = 1000};
    klefr_synth s;
    klefr_synth_init(&s, &l, &adc);
    static int32_t v[200000], i[200000];
    s.afe.fill(&s.afe, v, i, 200000);
    double mv = 0, mi = 0, vv = 0, ii = 0, kv = KLEFR_ADC_FULL_SCALE / KLEFR_V_FULL_SCALE_PEAK,
           ki = KLEFR_ADC_FULL_SCALE / KLEFR_I_FULL_SCALE_PEAK;
    for (int j = 0; j < 200000; j++) {
        mv += v[j], mi += i[j];
        vv += (double)v[j] * v[j], ii += (double)i[j] * i[j];
    }
    mv /= 200000, mi /= 200000;
    ck_assert_double_eq_tol(mv, 3.0 * kv, 0.02 * kv);
    ck_assert_double_eq_tol(mi, 1000, 0.005 * ki);
    ck_assert_double_eq_tol(sqrt(vv / 200000 - mv * mv), 2.0 * kv, 0.02 * kv);
    ck_assert_double_eq_tol(sqrt(ii / 200000 - mi * mi), 0.5 * ki, 0.005 * ki);
    /* Gain error scales the codes. */
    klefr_load l2 = mk_load(UN, 10, 0, 50);
    klefr_adc_model g = {.gain_v = 1.01, .gain_i = 1.0};
    klefr_synth_init(&s, &l2, &g);
    s.afe.fill(&s.afe, v, i, 80);
    ck_assert_int_eq(v[0], (int32_t)lround(UN * sqrt(2.0) * 1.01 * kv));
    ck_assert_int_eq(i[0], (int32_t)lround(10 * sqrt(2.0) * ki));
}
END_TEST

static TCase *tc(const char *name, const TTest *t)
{
    TCase *c = tcase_create(name);
    tcase_set_timeout(c, 120);
    tcase_add_test(c, t);
    return c;
}

int main(void)
{
    Suite *s = suite_create("metering");
    suite_add_tcase(s, tc("accuracy", accuracy_table));
    suite_add_tcase(s, tc("instantaneous", instantaneous_values));
    suite_add_tcase(s, tc("load_steps", load_steps_keep_accuracy));
    suite_add_tcase(s, tc("quadrants", quadrants_and_registers));
    suite_add_tcase(s, tc("export", export_pf1));
    suite_add_tcase(s, tc("starting", starting_current_registers));
    suite_add_tcase(s, tc("no_load", no_load_no_creep));
    suite_add_tcase(s, tc("calc_codes", calc_codes));
    suite_add_tcase(s, tc("tariffs", tariffs_select_registers));
    suite_add_tcase(s, tc("day_counter", day_counter));
    suite_add_tcase(s, tc("pulse_widths", pulse_widths_table));
    suite_add_tcase(s, tc("s0_rates", s0_rates_counts_and_widths));
    suite_add_tcase(s, tc("pulse_spacing", pulses_spaced_not_overlapping));
    suite_add_tcase(s, tc("power_fail", power_fail_saves_once));
    suite_add_tcase(s, tc("deterministic", deterministic));
    suite_add_tcase(s, tc("energy_unit", energy_unit_matches_config));
    suite_add_tcase(s, tc("synth_drift", synth_amplitude_no_drift));
    suite_add_tcase(s, tc("synth_continuity", synth_set_load_continuous));
    suite_add_tcase(s, tc("synth_noise", synth_noise_and_offsets));
    return klefr_check_run(s);
}
