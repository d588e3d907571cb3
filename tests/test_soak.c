/* Soak (issue 13): a 6922 on the whole simulated hardware (klefr_sim, the
 * synthetic AFE, the profile player) under a repeating daily profile with
 * import at two tariffs, export, harmonics and two power cuts a day, for
 * KLEFR_SOAK_DAYS days (CI: 3; scripts/soak.sh: ten years). Every day:
 *  - each register against an independent integration of the same load
 *    (the profile's segments times the analytic power of their loads):
 *    within 0.05 % + what the start-up blocks after the cuts may miss;
 *  - the registers never go back, and survive every cut exactly;
 *  - LED and S0 pulse counts = floor(energy x rate), less at most one per
 *    power-up (the residue of a pulse in RAM goes with the supply);
 *  - the display of the registers, through the 99999.99 -> 100000.0 and
 *    9999999 -> 10000000 ranges and the roll-over past 99999999 kWh (the
 *    registers start just below them), as the manual's 7 digits show it.
 * Prints the figures docs/reliability.md records. */
#include "check_run.h"
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "afe_synth.h"
#include "load_spec.h"
#include "profile.h"
#include "sim.h"
#include "ui/ui_priv.h" /* klefr_fmt_energy */

/* One day: night on T2, a cut, cooking with harmonics, solar export, a
 * capacitive load, a short cut, the evening. */
static const char *day =
    "{\"repeat\": true, \"segments\": ["
    "{\"duration\": \"6h\", \"load\": \"230V,1.5A,pf=0.9L\", \"tariff_input\": true},"
    "{\"duration\": \"5min\", \"power\": false},"
    "{\"duration\": \"1h55m\", \"load\": \"232V,12A,pf=1\", \"tariff_input\": false},"
    "{\"duration\": \"2h\", \"load\": \"228V,9A,pf=0.95L,h5=4%/30%,h7=2%/12%\"},"
    "{\"duration\": \"4h\", \"load\": \"235V,8A,pf=1,export\"},"
    "{\"duration\": \"2h\", \"load\": \"230V,5A,pf=0.8C\"},"
    "{\"duration\": \"1min\", \"power\": false},"
    "{\"duration\": \"3h59m\", \"load\": \"229V,3A,pf=0.95L\"},"
    "{\"duration\": \"4h\", \"load\": \"231V,2A,pf=0.9L\", \"tariff_input\": true}"
    "]}";

static klefr_sim sim;
static klefr_synth syn;
static klefr_profile prof;
static klefr_profile_player pl;

/* The truth: the analytic energy of each powered segment, per register. */
typedef struct {
    double act_fwd[2], act_rev[2], react_fwd[2], react_rev[2]; /* uWh, uvarh */
    double start_loss_w;                                         /* power at each power-up */
    unsigned powerups;
} truth;

static void integrate(truth *tr, unsigned days)
{
    memset(tr, 0, sizeof *tr);
    int tariff = 0; /* the input's level: T1 at the start */
    bool was_on = true;
    for (unsigned d = 0; d < days; d++)
        for (size_t k = 0; k < prof.nseg; k++) {
            const klefr_segment *s = &prof.seg[k];
            if (s->tariff_input >= 0)
                tariff = s->tariff_input;
            if (!s->power) {
                was_on = false;
                continue;
            }
            double hours = (double)s->duration_us / 3.6e9;
            double p = klefr_load_active_w(&s->load), q = klefr_load_reactive_var(&s->load);
            if (!was_on) {
                tr->powerups++;
                tr->start_loss_w += fabs(p) + fabs(q);
                was_on = true;
            }
            (p >= 0 ? tr->act_fwd : tr->act_rev)[tariff] += fabs(p) * hours * 1e6;
            (q >= 0 ? tr->react_fwd : tr->react_rev)[tariff] += fabs(q) * hours * 1e6;
        }
}

/* Where the registers start: just below each range of the display, so the
 * run crosses them (kWh). */
static const double start_kwh[3] = {99999.0, 999997.0, 99999998.0};

static void preload(klefr_regs *r)
{
    r->act_fwd_uwh[KLEFR_T1] = (uint64_t)(start_kwh[0] * 1e9);
    r->act_fwd_uwh[KLEFR_T2] = (uint64_t)(start_kwh[1] * 1e9);
    r->react_fwd_uvarh[KLEFR_T1] = (uint64_t)(start_kwh[2] * 1e9);
}

/* The manual's 7 digits, from the kWh figure (docs/lcd-and-menus.md): 2
 * decimals below 100000, 1 below 1000000, none above, past 99999999 the
 * count starts again; truncated. */
static void display_expected(uint64_t uwh, char *out)
{
    uint64_t centi = uwh / 10000000u;
    if (centi <= 9999999u)
        sprintf(out, "%" PRIu64 ".%02" PRIu64, centi / 100, centi % 100);
    else if (centi / 10 <= 9999999u)
        sprintf(out, "%" PRIu64 ".%" PRIu64, centi / 100, centi / 10 % 10);
    else
        sprintf(out, "%" PRIu64, (uwh / 1000000000u) % 100000000u);
}

static void check_display(const char *what, uint64_t uwh)
{
    char got[32], want[32];
    klefr_fmt_energy((int64_t)uwh, got);
    display_expected(uwh, want);
    ck_assert_msg(!strcmp(got, want), "%s: the LCD shows %s for %" PRIu64 " uWh, want %s", what,
                  got, uwh, want);
}

static void check_register(const char *what, uint64_t got, double start, double want,
                           double allow)
{
    double d = (double)got - start - want;
    ck_assert_msg(fabs(d) <= allow, "%s: %.0f Wh counted, %.0f Wh true (%+.3f Wh, allowed %.3f)",
                  what, ((double)got - start) / 1e6, want / 1e6, d / 1e6, allow / 1e6);
}

START_TEST(soak)
{
    const char *e = getenv("KLEFR_SOAK_DAYS");
    unsigned days = e && atoi(e) > 0 ? (unsigned)atoi(e) : 3;
    klefr_load base;
    klefr_load_defaults(&base);
    char err[512];
    ck_assert_msg(klefr_profile_parse(&prof, "day", day, &base, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(prof.total_us, 86400000000ull);
    klefr_synth_init(&syn, &base, NULL);
    ck_assert(klefr_sim_init(&sim, KLEFR_MODEL_6922, KLEFR_DEFAULT_SERIAL, &syn.afe, NULL, err,
                             sizeof err) == 0);
    preload(&sim.meter.regs);
    klefr_regs r0 = sim.meter.regs;
    klefr_profile_start(&pl, &prof, &sim, &syn);

    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    uint64_t last_total = 0;
    truth tr;
    for (unsigned d = 1; d <= days; d++) {
        ck_assert(klefr_sim_run_until(&sim, (uint64_t)d * 86400000000ull));
        const klefr_regs *r = &sim.meter.regs;
        ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
        integrate(&tr, d);
        /* 0.05 % of each register's energy, + one 50 Hz cycle of the load
         * after each power-up (the start-up block registers nothing), + 1 Wh */
        double slack = 0.02 / 3600 * 1e6 * tr.start_loss_w + 1e6;
#define REG(name, reg, field, t, start)                                                            \
    check_register(name, r->reg[t], start, tr.field[t], tr.field[t] * 5e-4 + slack)
        REG("import T1", act_fwd_uwh, act_fwd, 0, start_kwh[0] * 1e9);
        REG("import T2", act_fwd_uwh, act_fwd, 1, start_kwh[1] * 1e9);
        REG("export T1", act_rev_uwh, act_rev, 0, 0);
        REG("export T2", act_rev_uwh, act_rev, 1, 0);
        REG("Q+ T1", react_fwd_uvarh, react_fwd, 0, start_kwh[2] * 1e9);
        REG("Q+ T2", react_fwd_uvarh, react_fwd, 1, 0);
        REG("Q- T1", react_rev_uvarh, react_rev, 0, 0);
        REG("Q- T2", react_rev_uvarh, react_rev, 1, 0);
#undef REG
        uint64_t total = 0;
        for (int t = 0; t < 2; t++)
            total += r->act_fwd_uwh[t] + r->act_rev_uwh[t] + r->react_fwd_uvarh[t] +
                     r->react_rev_uvarh[t];
        ck_assert_msg(total >= last_total, "day %u: registers went back", d);
        last_total = total;
        ck_assert_uint_eq(r->power_downs, 2 * d); /* the profile's two cuts a day */

        /* Pulses: floor(energy x rate) per power-up session. */
        uint64_t act = r->act_fwd_uwh[0] + r->act_fwd_uwh[1] + r->act_rev_uwh[0] +
                       r->act_rev_uwh[1] - (r0.act_fwd_uwh[0] + r0.act_fwd_uwh[1]);
        uint64_t fwd = r->act_fwd_uwh[0] + r->act_fwd_uwh[1] - r0.act_fwd_uwh[0] - r0.act_fwd_uwh[1];
        uint64_t rev = r->act_rev_uwh[0] + r->act_rev_uwh[1];
        uint64_t sessions = 1 + tr.powerups;
        struct {
            const char *name;
            uint64_t count, want;
        } pulses[] = {{"LED", sim.out.count[KLEFR_OUT_LED], act / 100000u},     /* 10,000/kWh */
                      {"S0 fwd", sim.out.count[KLEFR_OUT_S0_FWD], fwd / 1000000u}, /* 1000/kWh */
                      {"S0 rev", sim.out.count[KLEFR_OUT_S0_REV], rev / 1000000u}};
        for (size_t k = 0; k < 3; k++)
            ck_assert_msg(pulses[k].count <= pulses[k].want &&
                              pulses[k].count + sessions >= pulses[k].want,
                          "day %u: %" PRIu64 " %s pulses, floor(energy x rate) = %" PRIu64, d,
                          pulses[k].count, pulses[k].name, pulses[k].want);

        check_display("import T1", r->act_fwd_uwh[0]);
        check_display("import T2", r->act_fwd_uwh[1]);
        check_display("Q+ T1", r->react_fwd_uvarh[0]);
        check_display("export", r->act_rev_uwh[0] + r->act_rev_uwh[1]);
        if (d == days || d % 365 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &w1);
            double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
            char d0[32], d1[32];
            klefr_fmt_energy((int64_t)r->act_fwd_uwh[0], d0);
            klefr_fmt_energy((int64_t)r->react_fwd_uvarh[0], d1);
            printf("day %u (%.2f years): wall %.0f s (%.0fx real time); import %+.1f Wh / "
                   "export %+.1f Wh against the integration (%.0f / %.0f kWh counted); "
                   "%" PRIu64 " LED pulses; %u power downs; LCD T1 %s, Q+ T1 %s\n",
                   d, d / 365.0, wall, d * 86400.0 / wall,
                   ((double)(r->act_fwd_uwh[0] + r->act_fwd_uwh[1] - r0.act_fwd_uwh[0] -
                             r0.act_fwd_uwh[1]) -
                    tr.act_fwd[0] - tr.act_fwd[1]) / 1e6,
                   ((double)(r->act_rev_uwh[0] + r->act_rev_uwh[1]) - tr.act_rev[0] -
                    tr.act_rev[1]) / 1e6,
                   (double)fwd / 1e9, (double)rev / 1e9, sim.out.count[KLEFR_OUT_LED],
                   r->power_downs, d0, d1);
            fflush(stdout);
        }
    }
    /* The display ranges were crossed (the registers started below them). */
    ck_assert_uint_ge(sim.meter.regs.act_fwd_uwh[0], 100000ull * 1000000000u);
    klefr_profile_free(&prof);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("days");
    tcase_set_timeout(tc, 0); /* scripts/soak.sh runs for hours; meson's timeout guards CI */
    tcase_add_test(tc, soak);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
