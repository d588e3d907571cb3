/* --report: one JSON document with everything about the scenarios that ran.
 * Wall-clock data lives only under "wall", so two runs give the same bytes
 * everywhere else. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "scenario_priv.h"

int klefr_scn_fclose(FILE *f)
{
    errno = 0;
    bool ok = !ferror(f) && fflush(f) == 0;
    if (fclose(f) != 0 || !ok) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

static double r6(double x)
{
    return isfinite(x) ? round(x * 1e6) / 1e6 : x;
}

static void num_or_null(cJSON *o, const char *k, double x)
{
    if (isfinite(x))
        cJSON_AddNumberToObject(o, k, r6(x));
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *load_json(const klefr_load *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "v", r6(l->v_rms));
    cJSON_AddNumberToObject(o, "i", r6(l->i_rms));
    cJSON_AddNumberToObject(o, "phi_deg", r6(l->phi_deg));
    cJSON_AddNumberToObject(o, "f", r6(l->freq_hz));
    cJSON_AddNumberToObject(o, "p_w", r6(klefr_load_active_w(l)));
    cJSON_AddNumberToObject(o, "harmonics", l->n_harm);
    return o;
}

static cJSON *timeline_json(const klefr_scn *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < s->nseg; k++) {
        const klefr_scn_seg *g = &s->seg[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t_s", (double)g->start_us / 1e6);
        cJSON_AddNumberToObject(o, "duration_s", (double)g->dur_us / 1e6);
        cJSON_AddNumberToObject(o, "line", g->line);
        cJSON_AddStringToObject(o, "label", g->label);
        cJSON_AddItemToObject(o, "load", load_json(&g->load));
        if (g->ramp_keys)
            cJSON_AddItemToObject(o, "ramp_to", load_json(&g->end));
        cJSON_AddBoolToObject(o, "power", g->power);
        if (g->v_pct > 0)
            cJSON_AddNumberToObject(o, "v_pct", r6(g->v_pct));
        if (g->replay >= 0)
            cJSON_AddStringToObject(o, "replay", s->replay[g->replay].path);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *events_json(const klefr_scn *s)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < s->nev; k++) {
        const klefr_scn_event *ev = &s->ev[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t_s", (double)ev->t_us / 1e6);
        cJSON_AddStringToObject(o, "do", ev->kind->name);
        cJSON_AddNumberToObject(o, "line", ev->line);
        if (ev->label[0])
            cJSON_AddStringToObject(o, "label", ev->label);
        if (ev->text)
            cJSON_AddStringToObject(o, "text", ev->text);
        if (ev->step)
            cJSON_AddNumberToObject(o, "step", ev->step);
        cJSON *serial = klefr_scn_serial_record(s, ev); /* a serial step's exchanges */
        if (serial)
            cJSON_AddItemToObject(o, "serial", serial);
        if (klefr_scn_event_end(ev) > ev->t_us)
            cJSON_AddNumberToObject(o, "until_s", (double)klefr_scn_event_end(ev) / 1e6);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static const char *state_str(klefr_scn_state st)
{
    return st == KLEFR_SCN_PASS ? "pass" : st == KLEFR_SCN_FAIL ? "fail" : "pending";
}

static cJSON *expect_json(const klefr_scn *s)
{
    static const char *const when[] = {"at", "during", "within"};
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; k < s->nex; k++) {
        const klefr_scn_expect *e = &s->ex[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "line", e->line);
        cJSON_AddStringToObject(o, "kind", e->kind->key);
        cJSON_AddStringToObject(o, "expect", e->what);
        cJSON_AddStringToObject(o, "when", when[e->when]);
        cJSON_AddNumberToObject(o, "t_s", (double)e->t_us / 1e6);
        if (e->when != KLEFR_SCN_AT)
            cJSON_AddNumberToObject(o, "to_s", (double)e->t2_us / 1e6);
        if (e->label[0])
            cJSON_AddStringToObject(o, "label", e->label);
        cJSON_AddStringToObject(o, "result", state_str(e->state));
        cJSON_AddNumberToObject(o, "decided_s", (double)e->at_us / 1e6);
        if (e->got_is_str)
            cJSON_AddStringToObject(o, "got", e->got_str);
        else
            num_or_null(o, "got", e->got);
        if (e->state == KLEFR_SCN_FAIL) {
            char line[900];
            klefr_scn_failure_line(s, e, line, sizeof line);
            cJSON_AddStringToObject(o, "message", line);
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *truth_json(const klefr_scn *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < 4; k++) {
        cJSON *o = cJSON_CreateObject();
        double reg = s->final_reg_kwh[k], truth = s->final_truth_kwh[k];
        cJSON_AddStringToObject(o, "register", klefr_scn_energy_names[k]);
        num_or_null(o, "start", s->start_reg_kwh[k]);
        num_or_null(o, "registered", reg);
        num_or_null(o, "truth", truth);
        /* under 1 mWh of truth a relative error says nothing (1e14 % of a rounding residue) */
        num_or_null(o, "error_pct", fabs(truth) >= 1e-6 ? (reg - truth) / fabs(truth) * 100
                                    : reg == 0 && truth == 0 ? 0 : NAN);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *scenario_json(const klefr_scn *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", s->file);
    cJSON_AddStringToObject(o, "name", s->name);
    if (s->description)
        cJSON_AddStringToObject(o, "description", s->description);
    cJSON_AddStringToObject(o, "result", s->ran && !s->nfail ? "pass" : "fail");
    cJSON_AddNumberToObject(o, "duration_s", (double)s->duration_us / 1e6);
    cJSON_AddNumberToObject(o, "passed", (double)s->npass);
    cJSON_AddNumberToObject(o, "failed", (double)s->nfail);
    cJSON *in = s->input ? cJSON_Parse(s->input) : NULL;
    cJSON_AddItemToObject(o, "input", in ? in : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "timeline", timeline_json(s));
    cJSON_AddItemToObject(o, "events", events_json(s));
    cJSON_AddItemToObject(o, "expectations", expect_json(s));
    cJSON_AddItemToObject(o, "truth", truth_json(s));
    cJSON *fin = s->final_json ? cJSON_Parse(s->final_json) : NULL;
    cJSON_AddItemToObject(o, "final", fin ? fin : cJSON_CreateNull());
    return o;
}

int klefr_scn_report_json(klefr_scn *const *s, size_t n, const char *path, const char *started)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        errno = ENOMEM;
        return -1;
    }
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "name", "klefr-sim scenario");
    cJSON_AddNumberToObject(tool, "report_version", 1);
    /* The one place with wall-clock data. */
    cJSON *wall = cJSON_AddObjectToObject(root, "wall");
    cJSON_AddStringToObject(wall, "started", started);
    cJSON *runs = cJSON_AddArrayToObject(wall, "runs");
    size_t pass = 0, held = 0, total = 0;
    cJSON *list = cJSON_CreateArray();
    for (size_t k = 0; k < n; k++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "file", s[k]->file);
        cJSON_AddNumberToObject(w, "elapsed_s", round(s[k]->wall_s * 1000) / 1000);
        cJSON_AddNumberToObject(w, "speed",
                                s[k]->wall_s > 0
                                    ? round((double)s[k]->duration_us / 1e6 / s[k]->wall_s)
                                    : 0);
        cJSON_AddItemToArray(runs, w);
        cJSON_AddItemToArray(list, scenario_json(s[k]));
        pass += s[k]->ran && !s[k]->nfail;
        held += s[k]->npass;
        total += s[k]->nex;
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "scenarios", (double)n);
    cJSON_AddNumberToObject(sum, "passed", (double)pass);
    cJSON_AddNumberToObject(sum, "failed", (double)(n - pass));
    cJSON_AddNumberToObject(sum, "expectations", (double)total);
    cJSON_AddNumberToObject(sum, "expectations_held", (double)held);
    cJSON_AddItemToObject(root, "scenarios", list);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    klefr_scn_utf8_fix(text); /* texts cut by their buffers (a name, a message) */
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (f) {
        fputs(text, f);
        fputc('\n', f);
        rc = klefr_scn_fclose(f);
    }
    free(text);
    return rc;
}
