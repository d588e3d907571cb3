/* The meter's settings and starting registers as a scenario names them: one
 * row per setting (meter.settings, the "set" event, settings.* values). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klefr/meter.h"
#include "scenario_priv.h"

typedef enum { ST_INT, ST_TEXT, ST_BOOL, ST_BCD8, ST_S0 } st_type;

typedef struct {
    const char *name;
    size_t off, size;    /* the klefr_settings field */
    st_type type;
    double lo, hi;       /* ST_INT range */
    const char *const *names; /* ST_TEXT: raw value = index */
    bool (*valid)(klefr_model model, uint32_t raw);
    const char *expect;  /* for the message when valid() says no */
} setting_row;

static bool v_baud(klefr_model m, uint32_t raw) { return klefr_baud_valid(m, raw); }
static bool v_parity(klefr_model m, uint32_t raw)
{
    return klefr_parity_valid(m, (klefr_parity)raw);
}
static bool v_calc(klefr_model m, uint32_t raw)
{
    (void)m;
    return klefr_calc_code_valid(raw);
}
static bool v_s0(klefr_model m, uint32_t raw)
{
    (void)m;
    return klefr_s0_rate_valid(raw);
}
static bool v_tariff(klefr_model m, uint32_t raw)
{
    return raw == 1 || (raw == 2 && klefr_model_has_tariffs(m));
}

/* klefr_parity order: none, even, odd */
static const char *const parities[] = {"none", "even", "odd", NULL};
static const char *const backlights[] = {"button", "on", "off", NULL};

#define F(field) offsetof(klefr_settings, field), sizeof(((klefr_settings *)0)->field)
static const setting_row rows[] = {
    {"modbus_id", F(modbus_id), ST_INT, 1, 247, NULL, NULL, NULL},
    {"mbus_id", F(mbus_id), ST_INT, 0, 250, NULL, NULL, NULL},
    {"mbus_secondary", F(mbus_secondary), ST_BCD8, 0, 0, NULL, NULL, NULL},
    {"baud", F(baud), ST_INT, 300, 9600, NULL, v_baud,
     "one of the model's rates (6924: 1200, 2400, 4800, 9600; 6923: 300..9600)"},
    {"parity", F(parity), ST_TEXT, 0, 0, parities, v_parity,
     "\"even\" on the 6923 (M-bus parity is fixed)"},
    {"s0_rate", F(s0_rate_centi), ST_S0, 0, 0, NULL, v_s0,
     "one of 10000, 2000, 1000, 100, 10, 1, 0.1, 0.01 imp/kWh"},
    {"calc_code", F(calc_code), ST_INT, 1, 10, NULL, v_calc, "one of 1, 4, 5, 6, 9, 10"},
    {"lcd_cycle_s", F(lcd_cycle_s), ST_INT, 1, 30, NULL, NULL, NULL},
    {"backlight", F(backlight), ST_TEXT, 0, 0, backlights, NULL, NULL},
    {"password", F(password), ST_INT, 0, 9999, NULL, NULL, NULL},
    {"obis", F(obis), ST_BOOL, 0, 0, NULL, NULL, NULL},
    {"tariff", F(tariff), ST_INT, 1, 2, NULL, v_tariff, "1 (the 6921 has one tariff)"},
    {"scroll_mask", F(scroll_mask), ST_INT, 0, 4294967295.0, NULL, NULL, NULL},
};
#undef F
#define NROWS (sizeof rows / sizeof rows[0])
_Static_assert(NROWS <= KLEFR_SCN_SETTINGS_MAX, "settings table too long");

static uint32_t field_get(const klefr_settings *s, const setting_row *r)
{
    const unsigned char *p = (const unsigned char *)s + r->off;
    switch (r->size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    default: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    }
}

static void field_put(klefr_settings *s, const setting_row *r, uint32_t v)
{
    unsigned char *p = (unsigned char *)s + r->off;
    if (r->type == ST_BOOL) {
        bool b = v != 0;
        memcpy(p, &b, sizeof b);
    } else if (r->size == 1) {
        *p = (unsigned char)v;
    } else if (r->size == 2) {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
    } else {
        memcpy(p, &v, 4); /* uint32_t, or an int-sized enum */
    }
}

static const char *names_of(void)
{
    static char all[300];
    if (!all[0])
        for (size_t k = 0, at = 0; k < NROWS; k++)
            at += (size_t)snprintf(all + at, sizeof all - at, "%s%s", k ? ", " : "",
                                   rows[k].name);
    return all;
}

static int parse_one(klefr_scn_pctx *c, const cJSON *f, const char *path, const setting_row *r,
                     uint32_t *raw)
{
    double x;
    int idx;
    bool b;
    switch (r->type) {
    case ST_INT:
        if (klefr_scn_whole(c, f, path, r->name, r->lo, r->hi, &x) < 0)
            return -1;
        *raw = (uint32_t)x;
        break;
    case ST_TEXT:
        if (klefr_scn_enum(c, f, path, r->name, r->names, &idx) < 0)
            return -1;
        *raw = (uint32_t)idx;
        break;
    case ST_BOOL:
        if (klefr_scn_bool(c, f, path, r->name, &b) < 0)
            return -1;
        *raw = b;
        break;
    case ST_BCD8:
        if (!cJSON_IsString(f) || strlen(f->valuestring) != 8 ||
            strspn(f->valuestring, "0123456789") != 8)
            return klefr_scn_fail(c, f, path, r->name, "must be 8 digits as a string");
        *raw = (uint32_t)strtoul(f->valuestring, NULL, 16);
        break;
    case ST_S0:
        if (klefr_scn_number(c, f, path, r->name, 0.01, 10000, &x) < 0)
            return -1;
        *raw = (uint32_t)llround(x * 100);
        if (fabs(x * 100 - *raw) > 1e-6)
            *raw = 0; /* not one of the rates */
        break;
    }
    if (r->valid && !r->valid(c->s->model, *raw))
        return klefr_scn_fail(c, f, path, r->name, "must be %s", r->expect);
    return 0;
}

int klefr_scn_settings_parse(klefr_scn_pctx *c, const cJSON *j, const char *path,
                             klefr_scn_settings *out)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(j))
        return klefr_scn_fail(c, j, path, NULL, "must be an object of settings (%s)",
                              names_of());
    const cJSON *f;
    cJSON_ArrayForEach(f, j)
    {
        int row = klefr_scn_setting_find(f->string);
        if (row < 0)
            return klefr_scn_fail(c, f, path, f->string, "unknown setting (expected %s)",
                                  names_of());
        if (parse_one(c, f, path, &rows[row], &out->raw[row]) < 0)
            return -1;
        out->mask |= 1u << row;
    }
    return 0;
}

void klefr_scn_settings_apply(const klefr_scn_settings *in, klefr_settings *s)
{
    for (size_t k = 0; k < NROWS; k++)
        if (in->mask & (1u << k))
            field_put(s, &rows[k], in->raw[k]);
}

int klefr_scn_setting_find(const char *name)
{
    for (size_t k = 0; k < NROWS; k++)
        if (!strcmp(rows[k].name, name))
            return (int)k;
    return -1;
}

bool klefr_scn_setting_get(int row, const klefr_settings *s, double *num, const char **text)
{
    const setting_row *r = &rows[row];
    uint32_t raw = field_get(s, r);
    if (r->type == ST_BOOL)
        raw = raw & 0xFFu;
    *text = NULL;
    switch (r->type) {
    case ST_TEXT:
        *text = raw < 3 ? r->names[raw] : "?";
        return false;
    case ST_BCD8: {
        static char digits[16];
        snprintf(digits, sizeof digits, "%08x", (unsigned)raw);
        *text = digits;
        return false;
    }
    case ST_S0:
        *num = raw / 100.0;
        return true;
    default:
        *num = raw;
        return true;
    }
}

struct cJSON *klefr_scn_settings_json(const klefr_settings *s, const klefr_settings *base)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t k = 0; o && k < NROWS; k++) {
        const setting_row *r = &rows[k];
        uint32_t v = field_get(s, r);
        if (base && v == field_get(base, r))
            continue;
        char digits[16];
        switch (r->type) {
        case ST_TEXT:
            cJSON_AddStringToObject(o, r->name, v < 3 ? r->names[v] : "?");
            break;
        case ST_BOOL:
            cJSON_AddBoolToObject(o, r->name, (v & 0xFFu) != 0);
            break;
        case ST_BCD8:
            snprintf(digits, sizeof digits, "%08x", (unsigned)v);
            cJSON_AddStringToObject(o, r->name, digits);
            break;
        case ST_S0:
            cJSON_AddNumberToObject(o, r->name, v / 100.0);
            break;
        default:
            cJSON_AddNumberToObject(o, r->name, v);
            break;
        }
    }
    return o;
}

/* ---- starting registers --------------------------------------------------- */

static int kwh_to_micro(klefr_scn_pctx *c, const cJSON *f, const char *path, const char *field,
                        uint64_t *out)
{
    double x;
    if (klefr_scn_number(c, f, path, field, 0, 1e9, &x) < 0)
        return -1;
    *out = (uint64_t)llround(x * 1e9);
    return 0;
}

static int per_tariff(klefr_scn_pctx *c, const cJSON *f, const char *path, uint64_t reg[2])
{
    if (cJSON_IsNumber(f))
        return kwh_to_micro(c, f, path, f->string, &reg[0]);
    if (!cJSON_IsObject(f))
        return klefr_scn_fail(c, f, path, f->string,
                              "must be a number (tariff 1) or {\"t1\": x, \"t2\": y}");
    char sub[200];
    snprintf(sub, sizeof sub, "%s.%s", path, f->string);
    static const char *const keys[] = {"t1", "t2", NULL};
    if (klefr_scn_keys(c, f, sub, keys, NULL) < 0)
        return -1;
    const cJSON *t;
    cJSON_ArrayForEach(t, f)
    {
        int k = !strcmp(t->string, "t2");
        if (k && !klefr_model_has_tariffs(c->s->model))
            return klefr_scn_fail(c, t, sub, "t2", "the 6921 has one tariff");
        if (kwh_to_micro(c, t, sub, t->string, &reg[k]) < 0)
            return -1;
    }
    return 0;
}

int klefr_scn_registers_parse(klefr_scn_pctx *c, const cJSON *j, const char *path)
{
    static const char *const keys[] = {"active_fwd_kwh",     "active_rev_kwh", "reactive_fwd_kvarh",
                                       "reactive_rev_kvarh", "day_fwd_kwh",    "power_downs",
                                       NULL};
    klefr_regs *r = &c->s->regs;
    if (!cJSON_IsObject(j))
        return klefr_scn_fail(c, j, path, NULL, "must be an object of registers");
    if (klefr_scn_keys(c, j, path, keys, NULL) < 0)
        return -1;
    const cJSON *f;
    cJSON_ArrayForEach(f, j)
    {
        const char *k = f->string;
        int rc;
        double x;
        if (!strcmp(k, "active_fwd_kwh"))
            rc = per_tariff(c, f, path, r->act_fwd_uwh);
        else if (!strcmp(k, "active_rev_kwh"))
            rc = per_tariff(c, f, path, r->act_rev_uwh);
        else if (!strcmp(k, "reactive_fwd_kvarh"))
            rc = per_tariff(c, f, path, r->react_fwd_uvarh);
        else if (!strcmp(k, "reactive_rev_kvarh"))
            rc = per_tariff(c, f, path, r->react_rev_uvarh);
        else if (!strcmp(k, "day_fwd_kwh"))
            rc = kwh_to_micro(c, f, path, k, &r->day_fwd_uwh);
        else {
            rc = klefr_scn_whole(c, f, path, k, 0, 4294967295.0, &x);
            r->power_downs = (uint32_t)x;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}
