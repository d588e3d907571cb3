#include "profile.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_pos.h"
#include "load_spec.h"

typedef struct {
    const char *name;
    klefr_json_lines lines;
    char *err;
    size_t errlen;
} ctx;

static int fail_at(ctx *c, const cJSON *item, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->name, klefr_json_line_of(&c->lines, item), msg);
    return -1;
}

int klefr_load_field_spec(const cJSON *f, char *spec, size_t len, char *why, size_t whylen,
                          const cJSON **bad)
{
    const char *k = f->string;
    *bad = f;
    if (!strcmp(k, "load")) {
        if (!cJSON_IsString(f))
            return snprintf(why, whylen, "\"load\" must be a load spec string like \"230V,10A,pf=1\""), -1;
        snprintf(spec, len, "%s", f->valuestring);
    } else if (!strcmp(k, "v") || !strcmp(k, "i") || !strcmp(k, "p") || !strcmp(k, "f") ||
               !strcmp(k, "phi")) {
        if (!cJSON_IsNumber(f))
            return snprintf(why, whylen, "\"%s\" must be a number", k), -1;
        snprintf(spec, len, "%s=%.17g", k, f->valuedouble);
    } else if (!strcmp(k, "pf")) {
        if (cJSON_IsNumber(f))
            snprintf(spec, len, "pf=%.17g", f->valuedouble);
        else if (cJSON_IsString(f))
            snprintf(spec, len, "pf=%s", f->valuestring);
        else
            return snprintf(why, whylen, "\"pf\" must be a number or a string like \"0.8C\""), -1;
    } else if (!strcmp(k, "direction")) {
        if (!cJSON_IsString(f) ||
            (strcmp(f->valuestring, "import") && strcmp(f->valuestring, "export")))
            return snprintf(why, whylen, "\"direction\" must be \"import\" or \"export\""), -1;
        snprintf(spec, len, "%s", f->valuestring);
    } else if (!strcmp(k, "harmonics")) {
        if (!cJSON_IsArray(f))
            return snprintf(why, whylen, "\"harmonics\" must be a list of {order, v_pct, i_pct}"), -1;
        size_t at = 0;
        spec[0] = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, f)
        {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(h, "order");
            const cJSON *vp = cJSON_GetObjectItemCaseSensitive(h, "v_pct");
            const cJSON *ip = cJSON_GetObjectItemCaseSensitive(h, "i_pct");
            const cJSON *va = cJSON_GetObjectItemCaseSensitive(h, "v_phase");
            const cJSON *ia = cJSON_GetObjectItemCaseSensitive(h, "i_phase");
            if (!cJSON_IsObject(h) || !cJSON_IsNumber(o) || (vp && !cJSON_IsNumber(vp)) ||
                (ip && !cJSON_IsNumber(ip)) || (va && !cJSON_IsNumber(va)) ||
                (ia && !cJSON_IsNumber(ia))) {
                *bad = h;
                return snprintf(why, whylen,
                                "a harmonic is {\"order\": N, \"v_pct\": %%, \"i_pct\": %%"
                                "[, \"v_phase\": deg, \"i_phase\": deg]}"), -1;
            }
            for (const cJSON *x = h->child; x; x = x->next) /* a typo is not a 0 % harmonic */
                if (strcmp(x->string, "order") && strcmp(x->string, "v_pct") &&
                    strcmp(x->string, "i_pct") && strcmp(x->string, "v_phase") &&
                    strcmp(x->string, "i_phase")) {
                    *bad = x;
                    return snprintf(why, whylen,
                                    "unknown key \"%.40s\" in a harmonic (expected order, v_pct, "
                                    "i_pct, v_phase, i_phase)", x->string), -1;
                }
            at += (size_t)snprintf(spec + at, at < len ? len - at : 0,
                                   "%sh%d=%.17g/%.17g@%.17g/%.17g", at ? "," : "", o->valueint,
                                   vp ? vp->valuedouble : 0, ip ? ip->valuedouble : 0,
                                   va ? va->valuedouble : 0, ia ? ia->valuedouble : 0);
        }
    } else {
        return 1; /* not a load field */
    }
    return 0;
}

/* JSON fields that are load-spec items: turned into spec text and parsed by
 * the --load grammar, so both mean exactly the same. */
static int field_to_spec(ctx *c, const cJSON *f, char *spec, size_t len)
{
    char why[256];
    const cJSON *bad;
    int r = klefr_load_field_spec(f, spec, len, why, sizeof why, &bad);
    return r < 0 ? fail_at(c, bad, "%s", why) : r;
}

static int duration_of(ctx *c, const cJSON *d, uint64_t *us)
{
    if (cJSON_IsNumber(d)) {
        if (!(d->valuedouble >= 0) || d->valuedouble > 1e11)
            return fail_at(c, d, "\"duration\" must be >= 0 seconds");
        *us = (uint64_t)llround(d->valuedouble * 1e6);
        return 0;
    }
    if (cJSON_IsString(d) && klefr_duration_parse(d->valuestring, us) == 0)
        return 0;
    return fail_at(c, d,
                   "\"duration\" must be seconds or a string like \"1h30m\", \"15min\", \"90s\"");
}

static int parse_segment(ctx *c, const cJSON *js, klefr_segment *seg, const klefr_segment *prev)
{
    if (!cJSON_IsObject(js))
        return fail_at(c, js, "a segment must be an object with a \"duration\"");
    *seg = *prev;
    seg->power = true; /* a power cut lasts one segment; loads carry on */
    seg->tariff_input = -1;
    seg->tariff = 0;
    seg->line = klefr_json_line_of(&c->lines, js);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(js, "duration");
    if (!d)
        return fail_at(c, js, "segment without \"duration\"");
    if (duration_of(c, d, &seg->duration_us) < 0)
        return -1;
    /* "load" first, then the single fields on top of it, in file order. */
    const cJSON *f;
    for (int pass = 0; pass < 2; pass++) {
        cJSON_ArrayForEach(f, js)
        {
            if ((pass == 0) != !strcmp(f->string, "load"))
                continue;
            char spec[600], msg[256];
            int r = field_to_spec(c, f, spec, sizeof spec);
            if (r < 0)
                return -1;
            if (r == 0 && !strcmp(f->string, "harmonics") && !spec[0]) {
                seg->load.n_harm = 0; /* "harmonics": [] = a clean sine */
                continue;
            }
            if (r == 0 && klefr_load_spec_parse(spec, &seg->load, msg, sizeof msg) < 0)
                return fail_at(c, f, "%s", msg);
            if (r == 0 || pass == 0)
                continue;
            if (!strcmp(f->string, "duration") || !strcmp(f->string, "comment") ||
                !strcmp(f->string, "name")) {
            } else if (!strcmp(f->string, "power")) {
                if (!cJSON_IsBool(f))
                    return fail_at(c, f, "\"power\" must be true (supply on) or false (power cut)");
                seg->power = cJSON_IsTrue(f);
            } else if (!strcmp(f->string, "tariff_input")) {
                if (!cJSON_IsBool(f))
                    return fail_at(c, f, "\"tariff_input\" must be true (T2) or false (T1)");
                seg->tariff_input = cJSON_IsTrue(f);
            } else if (!strcmp(f->string, "tariff")) {
                if (!cJSON_IsNumber(f) || (f->valuedouble != 1 && f->valuedouble != 2))
                    return fail_at(c, f, "\"tariff\" must be 1 or 2");
                seg->tariff = f->valueint;
            } else {
                return fail_at(
                    c, f,
                    "unknown key \"%s\" in a segment (expected duration, load, v, i, p, "
                    "pf, phi, f, direction, harmonics, power, tariff_input, tariff, comment)",
                    f->string);
            }
        }
    }
    return 0;
}

static int parse_tree(ctx *c, klefr_profile *p, const cJSON *root, const klefr_load *base)
{
    const cJSON *segs = root;
    if (cJSON_IsObject(root)) {
        segs = NULL;
        const cJSON *f;
        cJSON_ArrayForEach(f, root)
        {
            if (!strcmp(f->string, "segments")) {
                segs = f;
            } else if (!strcmp(f->string, "name")) {
                if (!cJSON_IsString(f))
                    return fail_at(c, f, "\"name\" must be a string");
                snprintf(p->name, sizeof p->name, "%s", f->valuestring);
            } else if (!strcmp(f->string, "repeat")) {
                if (!cJSON_IsBool(f))
                    return fail_at(c, f, "\"repeat\" must be true or false");
                p->repeat = cJSON_IsTrue(f);
            } else if (!strcmp(f->string, "comment") || !strcmp(f->string, "description")) {
            } else if (!strcmp(f->string, "events") || !strcmp(f->string, "expect")) {
                return fail_at(c, f, "\"%s\" is reserved for scenarios and not supported yet",
                               f->string);
            } else {
                return fail_at(c, f,
                               "unknown key \"%s\" (expected name, repeat, segments, comment)",
                               f->string);
            }
        }
        if (!segs)
            return fail_at(c, root, "no \"segments\" list");
    }
    if (!cJSON_IsArray(segs))
        return fail_at(c, segs, "\"segments\" must be a list of segments");
    int n = cJSON_GetArraySize(segs);
    if (n == 0)
        return fail_at(c, segs, "the profile has no segments");
    p->seg = calloc((size_t)n, sizeof *p->seg);
    if (!p->seg)
        return fail_at(c, segs, "out of memory");
    klefr_segment prev = {.load = *base, .power = true, .tariff_input = -1};
    const cJSON *js;
    cJSON_ArrayForEach(js, segs)
    {
        if (parse_segment(c, js, &p->seg[p->nseg], &prev) < 0)
            return -1;
        prev = p->seg[p->nseg++];
        p->total_us += prev.duration_us;
    }
    if (p->repeat && p->total_us < KLEFR_SIM_SLICE_US)
        return fail_at(c, segs, "a repeating profile must last at least %u ms",
                       KLEFR_SIM_SLICE_US / 1000);
    return 0;
}

int klefr_profile_parse(klefr_profile *p, const char *name, const char *text,
                        const klefr_load *base, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    cJSON *root = klefr_json_parse(name, text, err, errlen);
    if (!root)
        return -1;
    ctx c = {.name = name, .err = err, .errlen = errlen};
    int rc = klefr_json_lines_init(&c.lines, root, text);
    if (rc == 0)
        rc = parse_tree(&c, p, root, base);
    else
        snprintf(err, errlen, "%s: out of memory", name);
    klefr_json_lines_free(&c.lines);
    cJSON_Delete(root);
    if (rc < 0)
        klefr_profile_free(p);
    return rc;
}

int klefr_profile_load(klefr_profile *p, const char *path, const klefr_load *base, char *err,
                       size_t errlen)
{
    memset(p, 0, sizeof *p);
    char *text = klefr_text_file_read(path, err, errlen);
    if (!text)
        return -1;
    int rc = klefr_profile_parse(p, path, text, base, err, errlen);
    free(text);
    return rc;
}

void klefr_profile_free(klefr_profile *p)
{
    free(p->seg);
    p->seg = NULL;
    p->nseg = 0;
}

/* ---- playing ------------------------------------------------------------- */

static void apply(klefr_profile_player *pl, uint64_t t_us)
{
    const klefr_segment *s = &pl->p->seg[pl->index];
    klefr_sim *sim = pl->sim;
    klefr_load load = s->load;
    if (pl->adjust)
        pl->adjust(pl->adjust_arg, &load);
    klefr_synth_set_load(pl->synth, &load);
    if (s->tariff_input >= 0)
        pl->tariff_input = s->tariff_input;
    bool was = sim->powered;
    if (s->power != was)
        klefr_sim_power(sim, s->power);
    if (sim->powered) {
        /* A fresh power-up has to see the input level again. */
        if (pl->tariff_input >= 0 && (s->tariff_input >= 0 || !was))
            klefr_meter_tariff_input(&sim->meter, pl->tariff_input != 0, t_us);
        /* Only the bus models take a tariff command (Modbus 6048, M-bus). */
        bool has_cmd = klefr_model_has_modbus(sim->model) || klefr_model_has_mbus(sim->model);
        if (s->tariff && has_cmd)
            klefr_meter_set_tariff(&sim->meter, (uint8_t)s->tariff, false, t_us);
    }
}

static void on_boundary(void *arg, uint64_t t_us)
{
    klefr_profile_player *pl = arg;
    const klefr_profile *p = pl->p;
    /* Skip zero-length segments, but still apply their power/tariff changes. */
    for (;;) {
        if (pl->index + 1 < p->nseg) {
            pl->index++;
        } else if (p->repeat) {
            pl->index = 0;
        } else {
            pl->done = true;
            return;
        }
        apply(pl, t_us);
        if (p->seg[pl->index].duration_us > 0)
            break;
    }
    pl->next_us += p->seg[pl->index].duration_us;
    klefr_sim_post(pl->sim,
                   &(klefr_sim_event){
                       .t_us = pl->next_us, .kind = KLEFR_EV_CALL, .fn = on_boundary, .arg = pl});
}

void klefr_profile_start(klefr_profile_player *pl, const klefr_profile *p, klefr_sim *sim,
                         klefr_synth *synth)
{
    klefr_profile_start_adjusted(pl, p, sim, synth, NULL, NULL);
}

void klefr_profile_start_adjusted(klefr_profile_player *pl, const klefr_profile *p, klefr_sim *sim,
                                  klefr_synth *synth, void (*adjust)(void *arg, klefr_load *l),
                                  void *adjust_arg)
{
    *pl = (klefr_profile_player){.p = p, .sim = sim, .synth = synth, .tariff_input = -1,
                                 .adjust = adjust, .adjust_arg = adjust_arg};
    apply(pl, sim->t_us);
    pl->next_us = sim->t_us + p->seg[0].duration_us;
    if (p->seg[0].duration_us == 0)
        on_boundary(pl, sim->t_us);
    else
        klefr_sim_post(
            sim, &(klefr_sim_event){
                     .t_us = pl->next_us, .kind = KLEFR_EV_CALL, .fn = on_boundary, .arg = pl});
}
