/* What a "value" expectation can name: one row per path, read from the
 * running meter. Names follow the headless JSON output (docs/cli.md). */
#include <stdio.h>
#include <string.h>

#include "klefr/meter.h"
#include "scenario_priv.h"

const char *const klefr_scn_energy_names[5] = {"active_fwd_kwh", "active_rev_kwh",
                                                "reactive_fwd_kvarh", "reactive_rev_kvarh", NULL};

static const klefr_meter *meter(const klefr_scn_play *r)
{
    return &r->sim->meter;
}

/* arg: 0..5 active fwd, rev, total, reactive fwd, rev, total */
static bool g_energy(const klefr_scn_play *r, int arg, int tariff, double *num, const char **str)
{
    (void)str;
    const klefr_meter *m = meter(r);
    const klefr_regs *g = &m->regs;
    double u;
    switch (arg) {
    case 0:
        u = (double)klefr_act_fwd_uwh(g, tariff);
        break;
    case 1:
        u = (double)klefr_act_rev_uwh(g, tariff);
        break;
    case 2:
        u = (double)klefr_total_active_uwh(m, tariff);
        break;
    case 3:
        u = (double)klefr_react_fwd_uvarh(g, tariff);
        break;
    case 4:
        u = (double)klefr_react_rev_uvarh(g, tariff);
        break;
    default:
        u = (double)klefr_total_react_uvarh(g, tariff);
        break;
    }
    *num = u / 1e9;
    return true;
}

double klefr_scn_energy_kwh(const klefr_sim *sim, int n)
{
    const klefr_regs *g = &sim->meter.regs;
    uint64_t u = n == 0   ? klefr_act_fwd_uwh(g, -1)
                 : n == 1 ? klefr_act_rev_uwh(g, -1)
                 : n == 2 ? klefr_react_fwd_uvarh(g, -1)
                          : klefr_react_rev_uvarh(g, -1);
    return (double)u / 1e9;
}

static bool g_day(const klefr_scn_play *r, int arg, int sel, double *num, const char **str)
{
    (void)arg, (void)sel, (void)str;
    *num = (double)meter(r)->regs.day_fwd_uwh / 1e9;
    return true;
}

/* arg: v, i, f, p, q, s, pf, quadrant; 0 without supply (a dead meter shows nothing) */
static bool g_measure(const klefr_scn_play *r, int arg, int sel, double *num, const char **str)
{
    (void)sel, (void)str;
    const klefr_measure *q = &meter(r)->meas;
    const double v[] = {q->v_rms, q->i_rms, q->freq_hz, q->p_w, q->q_var, q->s_va, q->pf,
                        q->quadrant};
    *num = r->sim->powered ? v[arg] : 0.0;
    return true;
}

/* arg: power_downs, error, tariff, powered, backlight */
static bool g_state(const klefr_scn_play *r, int arg, int sel, double *num, const char **str)
{
    (void)sel, (void)str;
    const klefr_meter *m = meter(r);
    const double v[] = {m->regs.power_downs, m->error, m->tariff, r->sim->powered,
                        r->sim->powered && r->sim->out.backlight};
    *num = v[arg];
    return true;
}

static bool g_setting(const klefr_scn_play *r, int arg, int row, double *num, const char **str)
{
    (void)arg;
    return klefr_scn_setting_get(row, &meter(r)->settings, num, str);
}

static const klefr_scn_value rows[] = {
    {"energy.active_fwd_kwh", "kWh", 0, g_energy},
    {"energy.active_rev_kwh", "kWh", 1, g_energy},
    {"energy.active_total_kwh", "kWh", 2, g_energy},
    {"energy.reactive_fwd_kvarh", "kvarh", 3, g_energy},
    {"energy.reactive_rev_kvarh", "kvarh", 4, g_energy},
    {"energy.reactive_total_kvarh", "kvarh", 5, g_energy},
    {"energy.day_fwd_kwh", "kWh", 0, g_day},
    {"measure.v", "V", 0, g_measure},
    {"measure.i", "A", 1, g_measure},
    {"measure.f", "Hz", 2, g_measure},
    {"measure.p_w", "W", 3, g_measure},
    {"measure.q_var", "var", 4, g_measure},
    {"measure.s_va", "VA", 5, g_measure},
    {"measure.pf", "", 6, g_measure},
    {"measure.quadrant", "", 7, g_measure},
    {"power_downs", "", 0, g_state},
    {"error", "", 1, g_state},
    {"tariff", "", 2, g_state},
    {"powered", "", 3, g_state},
    {"backlight", "", 4, g_state},
    {"settings.*", "", 0, g_setting},
};
#define NROWS (sizeof rows / sizeof rows[0])

const klefr_scn_value *klefr_scn_value_find(const char *path, int *sel, bool *is_num)
{
    *sel = -1;
    *is_num = true;
    if (!strncmp(path, "settings.", 9)) {
        int row = klefr_scn_setting_find(path + 9);
        if (row < 0)
            return NULL;
        klefr_settings d;
        klefr_settings_defaults(&d, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL);
        double x;
        const char *t;
        *is_num = klefr_scn_setting_get(row, &d, &x, &t);
        *sel = row;
        return &rows[NROWS - 1];
    }
    char base[64];
    snprintf(base, sizeof base, "%s", path);
    size_t n = strlen(base);
    bool per_tariff = n > 3 && (!strcmp(base + n - 3, ".t1") || !strcmp(base + n - 3, ".t2"));
    if (per_tariff) {
        *sel = base[n - 1] - '1';
        base[n - 3] = 0;
    }
    for (size_t k = 0; k < NROWS; k++)
        if (!strcmp(rows[k].path, base))
            return per_tariff && rows[k].get != g_energy ? NULL : &rows[k];
    return NULL;
}

const char *klefr_scn_value_names(void)
{
    return "energy.NAME[.t1|.t2] (active_fwd_kwh, active_rev_kwh, active_total_kwh, "
           "reactive_fwd_kvarh, reactive_rev_kvarh, reactive_total_kvarh), "
           "energy.day_fwd_kwh, measure.v|i|f|p_w|q_var|s_va|pf|quadrant, power_downs, error, "
           "tariff, powered, backlight, settings.NAME";
}
