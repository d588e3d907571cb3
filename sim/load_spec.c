#include "load_spec.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "klefr/config.h"

void klefr_load_defaults(klefr_load *l)
{
    memset(l, 0, sizeof *l);
    l->v_rms = KLEFR_UN_V;
    l->freq_hz = KLEFR_FN_HZ;
}

/* A number at the start of s; *end after it. */
static bool num(const char *s, double *x, const char **end)
{
    char *e;
    *x = strtod(s, &e);
    if (e == s || !isfinite(*x))
        return false;
    *end = e;
    return true;
}

/* "a/b" with optional % signs. */
static bool pair(const char *s, double *a, double *b, const char **end)
{
    if (!num(s, a, &s))
        return false;
    if (*s == '%')
        s++;
    if (*s != '/')
        return false;
    if (!num(s + 1, b, &s))
        return false;
    if (*s == '%')
        s++;
    *end = s;
    return true;
}

typedef struct {
    double v, i, p, pf, phi;
    bool have_i, have_p, have_pf, have_phi, export_, harm_named;
    char pf_kind; /* 'L', 'C' or 0 */
} spec_state;

static int fail(char *err, size_t errlen, const char *item, const char *why)
{
    snprintf(err, errlen, "'%s': %s", item, why);
    return -1;
}

static int parse_item(const char *item, spec_state *st, klefr_load *l, char *err, size_t errlen)
{
    const char *e;
    double x, y;
    if (!strcasecmp(item, "export")) {
        st->export_ = true;
        return 0;
    }
    if (!strcasecmp(item, "import")) {
        st->export_ = false;
        return 0;
    }
    const char *eq = strchr(item, '=');
    if (eq) {
        size_t klen = (size_t)(eq - item);
        const char *val = eq + 1;
        char key[16];
        if (klen == 0 || klen >= sizeof key)
            return fail(err, errlen, item, "unknown key");
        memcpy(key, item, klen);
        key[klen] = 0;
        if ((key[0] == 'h' || key[0] == 'H') && isdigit((unsigned char)key[1])) {
            char *ke;
            long order = strtol(key + 1, &ke, 10);
            if (*ke || order < 2 || order > 40)
                return fail(err, errlen, item, "harmonic order must be 2..40");
            if (!st->harm_named) { /* harmonics named in a spec replace the earlier ones */
                l->n_harm = 0;
                st->harm_named = true;
            }
            if (l->n_harm >= KLEFR_MAX_HARMONICS)
                return fail(err, errlen, item, "too many harmonics (at most 8)");
            klefr_harmonic h = {.order = (unsigned)order};
            if (!pair(val, &h.v_pct, &h.i_pct, &e))
                return fail(err, errlen, item, "expected hN=V%/I% (e.g. h5=10%/40%)");
            if (*e == '@') {
                if (!pair(e + 1, &h.v_phase_deg, &h.i_phase_deg, &e))
                    return fail(err, errlen, item, "expected @Vdeg/Ideg after the amplitudes");
            }
            if (*e)
                return fail(err, errlen, item, "unexpected text after the harmonic");
            if (h.v_pct < 0 || h.v_pct > 100 || h.i_pct < 0 || h.i_pct > 100)
                return fail(err, errlen, item, "harmonic amplitudes must be 0..100 %");
            l->harm[l->n_harm++] = h;
            return 0;
        }
        if (!strcasecmp(key, "noise") || !strcasecmp(key, "dc")) {
            if (!pair(val, &x, &y, &e) || *e)
                return fail(err, errlen, item, "expected VOLTS/AMPERES (e.g. noise=0.5/0.01)");
            if (!strcasecmp(key, "noise")) {
                if (x < 0 || y < 0)
                    return fail(err, errlen, item, "noise must be >= 0");
                l->noise_v_rms = x;
                l->noise_i_rms = y;
            } else {
                l->dc_v = x;
                l->dc_i = y;
            }
            return 0;
        }
        if (!num(val, &x, &e))
            return fail(err, errlen, item, "expected a number after '='");
        if (!strcasecmp(key, "pf")) {
            if (*e == 'L' || *e == 'l' || *e == 'C' || *e == 'c')
                st->pf_kind = (char)toupper((unsigned char)*e++);
            else
                st->pf_kind = 0;
            if (*e)
                return fail(err, errlen, item, "expected pf=NUMBER[L|C] (e.g. pf=0.5L)");
            if (x < -1 || x > 1)
                return fail(err, errlen, item, "power factor must be -1..1");
            st->pf = x;
            st->have_pf = true;
            st->have_phi = false;
            return 0;
        }
        if (*e)
            return fail(err, errlen, item, "unexpected text after the number");
        if (!strcasecmp(key, "phi")) {
            st->phi = x;
            st->have_phi = true;
            st->have_pf = false;
        } else if (!strcasecmp(key, "v")) {
            st->v = x;
        } else if (!strcasecmp(key, "i")) {
            st->i = x, st->have_i = true, st->have_p = false;
        } else if (!strcasecmp(key, "p")) {
            st->p = x, st->have_p = true, st->have_i = false;
        } else if (!strcasecmp(key, "f")) {
            l->freq_hz = x;
        } else {
            return fail(err, errlen, item,
                        "unknown key (expected v, i, p, f, pf, phi, hN, noise, dc)");
        }
        return 0;
    }
    if (!num(item, &x, &e))
        return fail(err, errlen, item,
                    "expected a number with a unit, a key=value, import or export");
    if (!strcasecmp(e, "V"))
        st->v = x;
    else if (!strcasecmp(e, "A"))
        st->i = x, st->have_i = true, st->have_p = false;
    else if (!strcmp(e, "mA"))
        st->i = x / 1000, st->have_i = true, st->have_p = false;
    else if (!strcasecmp(e, "W"))
        st->p = x, st->have_p = true, st->have_i = false;
    else if (!strcmp(e, "kW"))
        st->p = x * 1000, st->have_p = true, st->have_i = false;
    else if (!strcasecmp(e, "Hz"))
        l->freq_hz = x;
    else
        return fail(err, errlen, item,
                    *e ? "unknown unit (expected V, A, mA, W, kW, Hz)"
                       : "a number needs a unit (V, A, mA, W, kW, Hz)");
    return 0;
}

int klefr_load_spec_parse(const char *spec, klefr_load *l, char *err, size_t errlen)
{
    /* Start from what l says now, so a spec may change only one thing. */
    spec_state st = {.v = l->v_rms,
                     .i = l->i_rms,
                     .pf = cos(l->phi_deg * M_PI / 180),
                     .phi = l->phi_deg,
                     .have_phi = true};
    if (cos(l->phi_deg * M_PI / 180) < 0) { /* already export: keep the direction */
        st.export_ = true;
        st.phi = l->phi_deg - 180;
    }
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "load spec too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    bool any = false;
    for (char *save = NULL, *item = strtok_r(buf, ", \t", &save); item;
         item = strtok_r(NULL, ", \t", &save)) {
        if (parse_item(item, &st, l, err, errlen) < 0)
            return -1;
        any = true;
    }
    if (!any) {
        snprintf(err, errlen, "empty load spec");
        return -1;
    }
    if (st.v < 0 || st.v > 1000) {
        snprintf(err, errlen, "voltage %g V out of range 0..1000", st.v);
        return -1;
    }
    if (l->freq_hz < 1 || l->freq_hz > 1000) {
        snprintf(err, errlen, "frequency %g Hz out of range 1..1000", l->freq_hz);
        return -1;
    }

    /* Angle between voltage and current, import side. */
    double phi;
    bool export_ = st.export_;
    if (st.have_pf) {
        if (st.pf < 0)
            export_ = true;
        double a = acos(fmin(fabs(st.pf), 1.0)) * 180 / M_PI;
        phi = st.pf_kind == 'C' ? -a : a; /* no suffix: inductive */
    } else {
        phi = st.phi;
    }
    double i = st.i;
    if (st.have_p) {
        double pf = cos(phi * M_PI / 180);
        if (st.p < 0)
            export_ = true;
        if (st.v <= 0 || fabs(pf) < 1e-6) {
            snprintf(err, errlen, "a power needs a voltage and a power factor above 0");
            return -1;
        }
        i = fabs(st.p) / (st.v * fabs(pf));
    }
    if (i < 0) {
        export_ = true;
        i = -i;
    }
    if (i > 1000) {
        snprintf(err, errlen, "current %g A out of range 0..1000", i);
        return -1;
    }
    l->v_rms = st.v;
    l->i_rms = i;
    phi = export_ ? phi + 180 : phi;
    while (phi > 180)
        phi -= 360;
    while (phi <= -180)
        phi += 360;
    l->phi_deg = phi;
    return 0;
}

int klefr_duration_parse(const char *text, uint64_t *us)
{
    static const struct {
        const char *unit;
        double us;
    } units[] = {{"ms", 1e3},   {"s", 1e6},    {"", 1e6},     {"m", 60e6},
                 {"min", 60e6}, {"h", 3600e6}, {"d", 86400e6}};
    const char *s = text;
    double total = 0;
    bool any = false;
    double last_us = INFINITY;
    while (*s) {
        /* Decimal digits only: strtod would also take " 5", "+5", "0x10" (16). */
        if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
            return -1;
        char *e;
        double x = strtod(s, &e);
        if (e == s || !isfinite(x) || x < 0 || strspn(s, "0123456789.eE+-") < (size_t)(e - s))
            return -1;
        const char *u = e;
        while (isalpha((unsigned char)*e))
            e++;
        size_t ulen = (size_t)(e - u);
        bool found = false;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
            if (strlen(units[k].unit) == ulen && !strncmp(units[k].unit, u, ulen)) {
                /* A bare number is seconds only on its own: "1h30" reads as
                 * 1 h 30 min to a person, so it is refused, not 3630 s. */
                if (ulen == 0 && (*e || any))
                    return -1;
                if (units[k].us >= last_us) /* "1h1h", "30s1h": a slip, not a sum */
                    return -1;
                last_us = units[k].us;
                total += x * units[k].us;
                found = true;
                break;
            }
        }
        if (!found)
            return -1;
        any = true;
        s = e;
    }
    if (!any || total > 1e17) /* ~3000 years */
        return -1;
    *us = (uint64_t)llround(total);
    return 0;
}

int klefr_load_spec_format(const klefr_load *l, char *out, size_t size)
{
    bool exp_ = cos(l->phi_deg * M_PI / 180) < 0; /* as the parser reads an earlier load */
    double phi = exp_ ? l->phi_deg - 180 : l->phi_deg;
    while (phi <= -180)
        phi += 360;
    int n = snprintf(out, size, "v=%.17g,i=%.17g,phi=%.17g,f=%.17g,%s", l->v_rms, l->i_rms, phi,
                     l->freq_hz, exp_ ? "export" : "import");
    for (unsigned k = 0; k < l->n_harm && n >= 0 && (size_t)n < size; k++) {
        const klefr_harmonic *h = &l->harm[k];
        n += snprintf(out + n, size - (size_t)n, ",h%u=%.17g/%.17g@%.17g/%.17g", h->order, h->v_pct,
                      h->i_pct, h->v_phase_deg, h->i_phase_deg);
    }
    if ((l->noise_v_rms || l->noise_i_rms) && n >= 0 && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, ",noise=%.17g/%.17g", l->noise_v_rms,
                      l->noise_i_rms);
    if ((l->dc_v || l->dc_i) && n >= 0 && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, ",dc=%.17g/%.17g", l->dc_v, l->dc_i);
    return n;
}
