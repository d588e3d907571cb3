#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

/* Rounded so floats print as 229.998, not 229.99800109863281. */
static double r3(double x)
{
    return round(x * 1000.0) / 1000.0;
}

/* micro-Wh (or micro-varh) to kWh (kvarh). */
static double k(double micro)
{
    return micro / 1e9;
}

static void per_tariff(cJSON *parent, const char *name, double t1, double t2, double sum)
{
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    cJSON_AddNumberToObject(o, "t1", t1);
    cJSON_AddNumberToObject(o, "t2", t2);
    cJSON_AddNumberToObject(o, "total", sum);
}

char *klefr_report_json(const klefr_sim *s, const char *end)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !klefr_report_add(j, s, end)) {
        cJSON_Delete(j);
        return NULL;
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    return text;
}

bool klefr_report_add(cJSON *j, const klefr_sim *s, const char *end)
{
    const klefr_meter *m = &s->meter;
    const klefr_regs *r = &m->regs;
    const klefr_measure *q = &m->meas;
    char serial[16];
    snprintf(serial, sizeof serial, "%08x", (unsigned)s->serial);
    cJSON_AddNumberToObject(j, "model", s->model);
    cJSON_AddStringToObject(j, "serial", serial);
    cJSON_AddNumberToObject(j, "t_s", (double)s->t_us / 1e6);
    cJSON_AddStringToObject(j, "end", end);
    cJSON_AddNumberToObject(j, "error", m->error);
    cJSON_AddNumberToObject(j, "tariff", m->tariff);
    cJSON_AddNumberToObject(j, "calc_code", m->settings.calc_code);

    cJSON *e = cJSON_AddObjectToObject(j, "energy");
    per_tariff(e, "active_fwd_kwh", k((double)klefr_act_fwd_uwh(r, KLEFR_T1)),
               k((double)klefr_act_fwd_uwh(r, KLEFR_T2)), k((double)klefr_act_fwd_uwh(r, -1)));
    per_tariff(e, "active_rev_kwh", k((double)klefr_act_rev_uwh(r, KLEFR_T1)),
               k((double)klefr_act_rev_uwh(r, KLEFR_T2)), k((double)klefr_act_rev_uwh(r, -1)));
    per_tariff(e, "active_total_kwh", k((double)klefr_total_active_uwh(m, KLEFR_T1)),
               k((double)klefr_total_active_uwh(m, KLEFR_T2)),
               k((double)klefr_total_active_uwh(m, -1)));
    per_tariff(e, "reactive_fwd_kvarh", k((double)klefr_react_fwd_uvarh(r, KLEFR_T1)),
               k((double)klefr_react_fwd_uvarh(r, KLEFR_T2)),
               k((double)klefr_react_fwd_uvarh(r, -1)));
    per_tariff(e, "reactive_rev_kvarh", k((double)klefr_react_rev_uvarh(r, KLEFR_T1)),
               k((double)klefr_react_rev_uvarh(r, KLEFR_T2)),
               k((double)klefr_react_rev_uvarh(r, -1)));
    per_tariff(e, "reactive_total_kvarh", k((double)klefr_total_react_uvarh(r, KLEFR_T1)),
               k((double)klefr_total_react_uvarh(r, KLEFR_T2)),
               k((double)klefr_total_react_uvarh(r, -1)));
    cJSON_AddNumberToObject(e, "day_fwd_kwh", k((double)r->day_fwd_uwh));
    cJSON_AddNumberToObject(j, "power_downs", r->power_downs);

    cJSON *mm = cJSON_AddObjectToObject(j, "measure");
    cJSON_AddBoolToObject(mm, "valid", q->valid);
    cJSON_AddNumberToObject(mm, "v", r3(q->v_rms));
    cJSON_AddNumberToObject(mm, "i", r3(q->i_rms));
    cJSON_AddNumberToObject(mm, "f", r3(q->freq_hz));
    cJSON_AddNumberToObject(mm, "p_w", r3(q->p_w));
    cJSON_AddNumberToObject(mm, "q_var", r3(q->q_var));
    cJSON_AddNumberToObject(mm, "s_va", r3(q->s_va));
    cJSON_AddNumberToObject(mm, "pf", r3(q->pf));
    cJSON_AddNumberToObject(mm, "quadrant", q->quadrant);

    cJSON *p = cJSON_AddObjectToObject(j, "pulses");
    cJSON_AddNumberToObject(p, "led", (double)s->out.count[KLEFR_OUT_LED]);
    cJSON_AddNumberToObject(p, "s0_fwd", (double)s->out.count[KLEFR_OUT_S0_FWD]);
    cJSON_AddNumberToObject(p, "s0_rev", (double)s->out.count[KLEFR_OUT_S0_REV]);
    /* ADC samples (V and I counted apart) the load drove to full scale. */
    /* cJSON's adders return NULL when out of memory: the last one tells. */
    return cJSON_AddNumberToObject(j, "clipped_samples", s->afe ? (double)s->afe->clipped : 0.0) !=
           NULL;
}
