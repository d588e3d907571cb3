/* Fleet files (docs/fleet.md): the lines, the site's load and the meters of
 * an installation, read with the scenario parser's helpers so a setting or
 * a time means the same everywhere and every error is "file:line: path:
 * message". A scenario's "meters" list goes through klefr_fleet_parse_into
 * too. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "load_spec.h"
#include "mb_gateway.h"
#include "ports.h"
#include "scenario_priv.h"

const char *klefr_bus_to_str(klefr_bus b)
{
    return b == KLEFR_BUS_MBUS ? "mbus" : "rs485";
}

static int src_line(klefr_scn_pctx *c, const cJSON *j)
{
    int l = klefr_json_line_of(&c->lines, j);
    return l > 0 ? l : 1;
}

/* splitmix64: the seed of meter k from the fleet's seed. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Ids name directories and pty links: letters, digits, '-', '_', '.'. */
static int check_id(klefr_scn_pctx *c, const cJSON *j, const char *path, const char *id, size_t max)
{
    size_t n = strlen(id);
    if (n == 0 || n >= max)
        return klefr_scn_fail(c, j, path, "id", "must be 1 to %zu characters", max - 1);
    for (size_t k = 0; k < n; k++)
        if (!isalnum((unsigned char)id[k]) && !strchr("-_.", id[k]))
            return klefr_scn_fail(c, j, path, "id",
                                  "\"%s\": only letters, digits, '-', '_' and '.'", id);
    if (id[0] == '.')
        return klefr_scn_fail(c, j, path, "id", "\"%s\" must not start with '.'", id);
    return 0;
}

/* ---- lines ---------------------------------------------------------------- */

static int parse_lines(klefr_scn_pctx *c, const cJSON *j, klefr_fleet_spec *f)
{
    static const char *const keys[] = {"id", "bus", "baud", "parity", "port", "gateway",
                                       "gateway_timeout", "comment", NULL};
    static const char *const buses[] = {"mbus", "rs485", NULL};
    static const char *const parities[] = {"none", "even", "odd", NULL};
    if (!cJSON_IsArray(j))
        return klefr_scn_fail(c, j, "", "lines", "must be a list of lines");
    size_t n = (size_t)cJSON_GetArraySize(j);
    if (n > KLEFR_FLEET_MAX_LINES)
        return klefr_scn_fail(c, j, "", "lines", "at most %d lines", KLEFR_FLEET_MAX_LINES);
    f->lines = calloc(n ? n : 1, sizeof *f->lines);
    if (!f->lines)
        return klefr_scn_fail(c, j, "", "lines", "out of memory");
    const cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        char path[64];
        snprintf(path, sizeof path, "lines[%zu]", f->nlines);
        klefr_fleet_line_spec *l = &f->lines[f->nlines];
        if (!cJSON_IsObject(o))
            return klefr_scn_fail(c, o, path, NULL, "must be an object");
        if (klefr_scn_keys(c, o, path, keys, NULL) < 0)
            return -1;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bus");
        int bus;
        if (!b)
            return klefr_scn_fail(c, o, path, "bus", "is required (\"mbus\" or \"rs485\")");
        if (klefr_scn_enum(c, b, path, "bus", buses, &bus) < 0)
            return -1;
        l->bus = (klefr_bus)bus;
        l->fmt = (klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1};
        l->gateway_timeout_ms = KLEFR_MBGW_TIMEOUT_MS;
        l->src_line = src_line(c, o);
        snprintf(l->id, sizeof l->id, "%s", bus == KLEFR_BUS_MBUS ? "mbus" : "modbus");
        const cJSON *k;
        cJSON_ArrayForEach(k, o)
        {
            const char *key = k->string, *str;
            double x;
            int idx;
            if (!strcmp(key, "id")) {
                if (klefr_scn_string(c, k, path, key, &str) < 0 ||
                    check_id(c, k, path, str, sizeof l->id) < 0)
                    return -1;
                snprintf(l->id, sizeof l->id, "%s", str);
            } else if (!strcmp(key, "baud")) {
                if (klefr_scn_number(c, k, path, key, 300, 9600, &x) < 0)
                    return -1;
                static const uint32_t mbus[] = {300, 600, 1200, 2400, 4800, 9600};
                static const uint32_t rtu[] = {1200, 2400, 4800, 9600};
                bool ok = l->bus == KLEFR_BUS_MBUS ? klefr_u32_in((uint32_t)x, mbus, 6)
                                                   : klefr_u32_in((uint32_t)x, rtu, 4);
                if (!ok || x != floor(x))
                    return klefr_scn_fail(c, k, path, key, "must be %s",
                                          l->bus == KLEFR_BUS_MBUS
                                              ? "300, 600, 1200, 2400, 4800 or 9600 on M-bus"
                                              : "1200, 2400, 4800 or 9600 on RS-485");
                l->fmt.baud = (uint32_t)x;
            } else if (!strcmp(key, "parity")) {
                if (klefr_scn_enum(c, k, path, key, parities, &idx) < 0)
                    return -1;
                if (l->bus == KLEFR_BUS_MBUS && idx != KLEFR_PARITY_EVEN)
                    return klefr_scn_fail(c, k, path, key, "M-bus is always even");
                l->fmt.parity = (klefr_parity)idx;
            } else if (!strcmp(key, "port") || !strcmp(key, "gateway")) {
                char why[256];
                if (klefr_scn_string(c, k, path, key, &str) < 0)
                    return -1;
                if (klefr_ports_check_spec(str, why, sizeof why) < 0)
                    return klefr_scn_fail(c, k, path, key, "%s", why);
                if (!strcmp(key, "gateway") && strncmp(str, "tcp:", 4))
                    return klefr_scn_fail(c, k, path, key,
                                          "a Modbus TCP gateway listens on \"tcp:[HOST:]PORT\"");
                if (!strcmp(key, "gateway") && l->bus != KLEFR_BUS_RS485)
                    return klefr_scn_fail(c, k, path, key, "a Modbus gateway needs an RS-485 line");
                char **dst = !strcmp(key, "port") ? &l->port : &l->gateway;
                if (!(*dst = strdup(str)))
                    return klefr_scn_fail(c, k, path, key, "out of memory");
            } else if (!strcmp(key, "gateway_timeout")) {
                uint64_t us;
                if (klefr_scn_time(c, k, path, key, &us, false, NULL) < 0)
                    return -1;
                if (us < 10000 || us > 60000000)
                    return klefr_scn_fail(c, k, path, key, "must be 10 ms to 60 s");
                l->gateway_timeout_ms = (uint32_t)(us / 1000);
            }
        }
        for (size_t p = 0; p < f->nlines; p++)
            if (!strcmp(f->lines[p].id, l->id))
                return klefr_scn_fail(c, o, path, "id", "\"%s\" is already line %zu's id", l->id,
                                      p);
        f->nlines++;
    }
    return 0;
}

static int line_by_id(const klefr_fleet_spec *f, const char *id)
{
    for (size_t k = 0; k < f->nlines; k++)
        if (!strcmp(f->lines[k].id, id))
            return (int)k;
    return -1;
}

/* ---- profiles and loads ---------------------------------------------------- */

static int load_profile(klefr_scn_pctx *c, const cJSON *j, const char *path, klefr_fleet_spec *f,
                        const klefr_load *base, int *out)
{
    const char *name;
    if (klefr_scn_string(c, j, path, "profile", &name) < 0)
        return -1;
    klefr_profile *p = realloc(f->profiles, (f->nprofiles + 1) * sizeof *p);
    if (!p)
        return klefr_scn_fail(c, j, path, "profile", "out of memory");
    f->profiles = p;
    char file[8300], err[512];
    klefr_scn_path(c->s, name, file, sizeof file);
    if (klefr_profile_load(&f->profiles[f->nprofiles], file, base, err, sizeof err) < 0)
        return klefr_scn_fail(c, j, path, "profile", "%s", err);
    *out = (int)f->nprofiles++;
    return 0;
}

static int parse_site(klefr_scn_pctx *c, const cJSON *j, klefr_fleet_spec *f)
{
    static const char *const keys[] = {"load", "profile", "spread", "comment", NULL};
    if (!cJSON_IsObject(j))
        return klefr_scn_fail(c, j, "", "site", "must be an object");
    if (klefr_scn_keys(c, j, "site", keys, NULL) < 0)
        return -1;
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(j, "load"))) {
        const char *str;
        char why[256];
        if (klefr_scn_string(c, k, "site", "load", &str) < 0)
            return -1;
        if (klefr_load_spec_parse(str, &f->site_load, why, sizeof why) < 0)
            return klefr_scn_fail(c, k, "site", "load", "%s", why);
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(j, "profile")) &&
        load_profile(c, k, "site", f, &f->site_load, &f->site_profile) < 0)
        return -1;
    if ((k = cJSON_GetObjectItemCaseSensitive(j, "spread")) &&
        klefr_scn_number(c, k, "site", "spread", 0, 1, &f->spread) < 0)
        return -1;
    return 0;
}

/* ---- meters ------------------------------------------------------------------ */

/* The BCD serial n meters after bcd (decimal digits). */
static uint32_t bcd_plus(uint32_t bcd, uint32_t n)
{
    uint32_t v = 0, b = 0;
    for (int k = 7; k >= 0; k--)
        v = v * 10 + ((bcd >> (4 * k)) & 0xFu);
    v += n;
    for (int k = 0; k < 8; k++, v /= 10)
        b |= (v % 10) << (4 * k);
    return b;
}

static uint32_t bcd_value(uint32_t bcd)
{
    uint32_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v * 10 + ((bcd >> (4 * k)) & 0xFu);
    return v;
}

/* One entry of "meters" (with "count": that many meters). */
static int parse_meter(klefr_scn_pctx *c, const cJSON *o, size_t entry, klefr_fleet_spec *f)
{
    static const char *const keys[] = {"id",       "count",    "model",  "serial",  "seed",
                                       "line",     "settings", "registers", "load", "profile",
                                       "share",    "addresses", "ir_port", "comment", NULL};
    char path[64];
    snprintf(path, sizeof path, "meters[%zu]", entry);
    if (!cJSON_IsObject(o))
        return klefr_scn_fail(c, o, path, NULL, "must be an object");
    if (klefr_scn_keys(c, o, path, keys, NULL) < 0)
        return -1;
    klefr_fleet_meter_spec m = {.line = -1, .profile = -1, .share = 1,
                                .load_kind = KLEFR_FLEET_LOAD_SITE, .src_line = src_line(c, o)};
    const cJSON *k;
    double x;
    const char *str;
    size_t count = 1;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "count"))) {
        if (klefr_scn_whole(c, k, path, "count", 1, KLEFR_FLEET_MAX_METERS, &x) < 0)
            return -1;
        count = (size_t)x;
    }
    if (f->nmeters + count > KLEFR_FLEET_MAX_METERS)
        return klefr_scn_fail(c, o, path, NULL, "at most %d meters", KLEFR_FLEET_MAX_METERS);
    /* The line: named, else the one line there is for the model's bus. */
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "line"))) {
        if (cJSON_IsNull(k)) {
            m.line = -2; /* on no line, said so */
        } else {
            if (klefr_scn_string(c, k, path, "line", &str) < 0)
                return -1;
            if ((m.line = line_by_id(f, str)) < 0)
                return klefr_scn_fail(c, k, path, "line", "no line \"%s\" in \"lines\"", str);
        }
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "model"))) {
        if (!cJSON_IsNumber(k) || !klefr_model_valid(k->valueint) || k->valuedouble != k->valueint)
            return klefr_scn_fail(c, k, path, "model", "must be 6921, 6922, 6923 or 6924");
        m.model = (klefr_model)k->valueint;
    } else if (m.line >= 0) {
        m.model = f->lines[m.line].bus == KLEFR_BUS_MBUS ? KLEFR_MODEL_6923 : KLEFR_MODEL_6924;
    } else {
        /* The model of the one kind of bus the file has (a 6924 if none). */
        bool kinds[2] = {false, false};
        for (size_t l = 0; l < f->nlines; l++)
            kinds[f->lines[l].bus] = true;
        if (kinds[0] && kinds[1] && m.line == -1)
            return klefr_scn_fail(c, o, path, "model",
                                  "is required when there are M-bus and RS-485 lines");
        m.model = kinds[KLEFR_BUS_MBUS] && m.line == -1 ? KLEFR_MODEL_6923 : KLEFR_MODEL_6924;
    }
    klefr_bus want = m.model == KLEFR_MODEL_6923 ? KLEFR_BUS_MBUS : KLEFR_BUS_RS485;
    bool has_bus = klefr_model_has_mbus(m.model) || klefr_model_has_modbus(m.model);
    if (m.line >= 0 && (!has_bus || f->lines[m.line].bus != want))
        return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(o, "line"), path, "line",
                              "a %d %s; line \"%s\" is %s", (int)m.model,
                              has_bus ? (want == KLEFR_BUS_MBUS ? "speaks M-bus" : "speaks Modbus on RS-485")
                                      : "has no bus port (only pulses and the optical port)",
                              f->lines[m.line].id,
                              f->lines[m.line].bus == KLEFR_BUS_MBUS ? "M-bus" : "RS-485");
    if (m.line == -1 && has_bus) {
        for (size_t l = 0; l < f->nlines; l++)
            if (f->lines[l].bus == want) {
                if (m.line >= 0)
                    return klefr_scn_fail(c, o, path, "line",
                                          "which line? (%s and %s are both %s)", f->lines[m.line].id,
                                          f->lines[l].id, want == KLEFR_BUS_MBUS ? "M-bus" : "RS-485");
                m.line = (int)l;
            }
    }
    if (m.line < 0)
        m.line = -1;
    uint32_t serial = bcd_plus(KLEFR_DEFAULT_SERIAL, (uint32_t)f->nmeters); /* one a meter */
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "serial")) &&
        klefr_scn_serial_number(c, k, path, &serial) < 0)
        return -1;
    if (bcd_value(serial) + (count - 1) > 99999999u)
        return klefr_scn_fail(c, k ? k : o, path, "serial", "the serial numbers run past 99999999");
    bool have_seed = false;
    uint64_t seed = 0;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "seed"))) {
        if (klefr_scn_whole(c, k, path, "seed", 0, 9007199254740992.0, &x) < 0)
            return -1;
        seed = (uint64_t)x;
        have_seed = true;
    }
    /* Settings are checked for the model (the scenario table's rows). */
    klefr_model saved_model = c->s->model;
    c->s->model = m.model;
    int rc = 0;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "settings"))) {
        char sp[80];
        snprintf(sp, sizeof sp, "%s.settings", path);
        rc = klefr_scn_settings_parse(c, k, sp, &m.settings);
    }
    c->s->model = saved_model;
    if (rc < 0)
        return -1;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "registers"))) {
        char sp[80];
        klefr_regs saved = c->s->regs;
        memset(&c->s->regs, 0, sizeof c->s->regs);
        snprintf(sp, sizeof sp, "%s.registers", path);
        rc = klefr_scn_registers_parse(c, k, sp);
        m.regs = c->s->regs;
        m.regs_mask = 1;
        c->s->regs = saved;
        if (rc < 0)
            return -1;
    }
    /* The line's settings are the meters' factory settings unless they say. */
    if (m.line >= 0) {
        const klefr_fleet_line_spec *l = &f->lines[m.line];
        int baud = klefr_scn_setting_find("baud"), par = klefr_scn_setting_find("parity");
        if (!(m.settings.mask & 1u << baud)) {
            m.settings.mask |= 1u << baud;
            m.settings.raw[baud] = l->fmt.baud;
        }
        if (l->bus == KLEFR_BUS_RS485 && !(m.settings.mask & 1u << par)) {
            m.settings.mask |= 1u << par;
            m.settings.raw[par] = (uint32_t)l->fmt.parity;
        }
    }
    /* Loads. */
    int nload = 0;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "load"))) {
        char why[256];
        m.load = f->site_load;
        if (klefr_scn_string(c, k, path, "load", &str) < 0)
            return -1;
        if (klefr_load_spec_parse(str, &m.load, why, sizeof why) < 0)
            return klefr_scn_fail(c, k, path, "load", "%s", why);
        m.load_kind = KLEFR_FLEET_LOAD_OWN;
        nload++;
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "profile"))) {
        if (load_profile(c, k, path, f, &f->site_load, &m.profile) < 0)
            return -1;
        m.load_kind = KLEFR_FLEET_LOAD_PROFILE;
        nload++;
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "share"))) {
        if (klefr_scn_number(c, k, path, "share", 0, 1000, &m.share) < 0)
            return -1;
        nload++;
    }
    if (nload > 1)
        return klefr_scn_fail(c, o, path, NULL,
                              "\"load\", \"profile\" and \"share\" exclude each other (its own "
                              "load, its own profile, or a share of the site's)");
    bool sequential = false;
    const cJSON *addresses = cJSON_GetObjectItemCaseSensitive(o, "addresses");
    if (addresses) {
        static const char *const modes[] = {"same", "sequential", NULL};
        int mode;
        if (klefr_scn_enum(c, addresses, path, "addresses", modes, &mode) < 0)
            return -1;
        sequential = mode == 1;
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "ir_port"))) {
        char why[256];
        if (count > 1)
            return klefr_scn_fail(c, k, path, "ir_port", "one port per meter: not with \"count\"");
        if (klefr_scn_string(c, k, path, "ir_port", &str) < 0)
            return -1;
        if (klefr_ports_check_spec(str, why, sizeof why) < 0)
            return klefr_scn_fail(c, k, path, "ir_port", "%s", why);
    }
    const char *id = NULL;
    if ((k = cJSON_GetObjectItemCaseSensitive(o, "id"))) {
        if (klefr_scn_string(c, k, path, "id", &id) < 0 ||
            check_id(c, k, path, id, KLEFR_FLEET_ID - 8) < 0)
            return -1;
    }
    int addr_row[2] = {klefr_scn_setting_find("mbus_id"), klefr_scn_setting_find("modbus_id")};
    /* Sequential from the address given, else from 1 (the model's bus). */
    int own = m.model == KLEFR_MODEL_6923 ? 0 : 1;
    if (sequential && has_bus && !(m.settings.mask & 1u << addr_row[own])) {
        m.settings.mask |= 1u << addr_row[own];
        m.settings.raw[addr_row[own]] = 1;
    }
    int width = count >= 1000 ? 4 : count >= 100 ? 3 : 2;
    for (size_t n = 0; n < count; n++) {
        klefr_fleet_meter_spec *d = &f->meters[f->nmeters];
        *d = m;
        if (id && count > 1)
            snprintf(d->id, sizeof d->id, "%s-%0*zu", id, width, n + 1);
        else if (id)
            snprintf(d->id, sizeof d->id, "%s", id);
        else
            snprintf(d->id, sizeof d->id, "m%zu", f->nmeters + 1);
        d->serial = bcd_plus(serial, (uint32_t)n);
        d->seed = seed + n;
        d->seed_given = have_seed;
        if (sequential)
            for (int a = 0; a < 2; a++) {
                uint32_t bit = 1u << addr_row[a];
                if (!(d->settings.mask & bit))
                    continue;
                uint32_t v = d->settings.raw[addr_row[a]] + (uint32_t)n;
                if (v > (a == 0 ? 250u : 247u))
                    return klefr_scn_fail(c, addresses, path, "addresses",
                                          "%s runs past %u (%zu meters from %u)",
                                          a == 0 ? "mbus_id" : "modbus_id", a == 0 ? 250u : 247u,
                                          count, d->settings.raw[addr_row[a]]);
                d->settings.raw[addr_row[a]] = v;
            }
        if ((k = cJSON_GetObjectItemCaseSensitive(o, "ir_port")) && !(d->ir_port = strdup(k->valuestring)))
            return klefr_scn_fail(c, k, path, "ir_port", "out of memory");
        for (size_t p = 0; p < f->nmeters; p++)
            if (!strcmp(f->meters[p].id, d->id)) {
                free(d->ir_port);
                return klefr_scn_fail(c, cJSON_GetObjectItemCaseSensitive(o, "id"), path, "id",
                                      "\"%s\" is already the id of meter %zu", d->id, p + 1);
            }
        f->meters[f->nmeters++] = *d;
    }
    return 0;
}

static int parse_meters(klefr_scn_pctx *c, const cJSON *j, klefr_fleet_spec *f)
{
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0)
        return klefr_scn_fail(c, j, "", "meters", "must be a list of meters (at least one)");
    /* Room for every "count" (checked against the maximum as they come). */
    size_t total = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, j)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "count");
        double x = n && cJSON_IsNumber(n) ? n->valuedouble : 1;
        total += x >= 1 && x <= KLEFR_FLEET_MAX_METERS ? (size_t)x : 1;
        if (total > KLEFR_FLEET_MAX_METERS)
            return klefr_scn_fail(c, o, "", "meters", "at most %d meters", KLEFR_FLEET_MAX_METERS);
    }
    f->meters = calloc(total, sizeof *f->meters);
    if (!f->meters)
        return klefr_scn_fail(c, j, "", "meters", "out of memory");
    size_t entry = 0;
    cJSON_ArrayForEach(o, j)
    {
        if (parse_meter(c, o, entry++, f) < 0)
            return -1;
    }
    return 0;
}

int klefr_fleet_parse_into(klefr_scn_pctx *c, const cJSON *obj, klefr_fleet_spec *f)
{
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(obj, "lines")) && parse_lines(c, k, f) < 0)
        return -1;
    if ((k = cJSON_GetObjectItemCaseSensitive(obj, "site")) && parse_site(c, k, f) < 0)
        return -1;
    if (!(k = cJSON_GetObjectItemCaseSensitive(obj, "meters")))
        return klefr_scn_fail(c, obj, "", "meters", "is required: the meters of the installation");
    return parse_meters(c, k, f);
}

static int parse_root(klefr_scn_pctx *c, const cJSON *root, klefr_fleet_spec *f)
{
    static const char *const keys[] = {"$schema", "name",  "description", "comment", "seed",
                                       "duration", "site", "lines",       "meters",  NULL};
    if (!cJSON_IsObject(root))
        return klefr_scn_fail(c, root, "", NULL, "a fleet file is a JSON object (docs/fleet.md)");
    if (klefr_scn_keys(c, root, "", keys, NULL) < 0)
        return -1;
    const cJSON *k;
    cJSON_ArrayForEach(k, root)
    {
        const char *key = k->string, *str;
        double x;
        if (!strcmp(key, "$schema") || !strcmp(key, "comment")) {
            if (klefr_scn_string(c, k, "", key, &str) < 0)
                return -1;
        } else if (!strcmp(key, "name")) {
            if (klefr_scn_string(c, k, "", key, &str) < 0)
                return -1;
            snprintf(f->name, sizeof f->name, "%s", str);
        } else if (!strcmp(key, "description")) {
            if (klefr_scn_string(c, k, "", key, &str) < 0)
                return -1;
            if (!(f->description = strdup(str)))
                return klefr_scn_fail(c, k, "", key, "out of memory");
        } else if (!strcmp(key, "seed")) {
            if (klefr_scn_whole(c, k, "", key, 0, 9007199254740992.0, &x) < 0)
                return -1;
            f->seed = (uint64_t)x;
        } else if (!strcmp(key, "duration")) {
            if (klefr_scn_time(c, k, "", key, &f->duration_us, false, NULL) < 0)
                return -1;
            f->have_duration = true;
        }
    }
    return klefr_fleet_parse_into(c, root, f);
}

static void spec_defaults(klefr_fleet_spec *f, const char *name)
{
    snprintf(f->file, sizeof f->file, "%s", name);
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(f->name, sizeof f->name, "%s", base);
    f->seed = 1;
    f->site_profile = -1;
    f->spread = 0;
    klefr_load_defaults(&f->site_load);
}

bool klefr_fleet_meter_setting(klefr_fleet_meter_spec *m, const char *name, uint32_t raw)
{
    int row = klefr_scn_setting_find(name);
    if (row < 0)
        return false;
    m->settings.mask |= 1u << row;
    m->settings.raw[row] = raw;
    return true;
}

void klefr_fleet_spec_reseed(klefr_fleet_spec *f)
{
    for (size_t k = 0; k < f->nmeters; k++)
        if (!f->meters[k].seed_given)
            f->meters[k].seed = mix(f->seed ^ mix(k + 1));
}

void klefr_fleet_spec_init(klefr_fleet_spec *f, const char *name)
{
    memset(f, 0, sizeof *f);
    spec_defaults(f, name);
}

int klefr_fleet_parse(klefr_fleet_spec **out, const char *name, const char *text, char *err,
                      size_t errlen)
{
    *out = NULL;
    klefr_fleet_spec *f = calloc(1, sizeof *f);
    klefr_scn *carrier = calloc(1, sizeof *carrier); /* messages, paths, the settings' model */
    if (!f || !carrier) {
        free(f);
        free(carrier);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    spec_defaults(f, name);
    snprintf(carrier->file, sizeof carrier->file, "%s", name);
    snprintf(carrier->dir, sizeof carrier->dir, "%s", name);
    char *slash = strrchr(carrier->dir, '/');
    if (slash)
        *slash = 0;
    else
        carrier->dir[0] = 0;
    carrier->model = KLEFR_MODEL_6924;
    cJSON *root = klefr_json_parse(name, text, err, errlen);
    int rc = -1;
    if (root) {
        klefr_scn_pctx c = {.s = carrier, .err = err, .errlen = errlen};
        if (klefr_json_lines_init(&c.lines, root, text) == 0)
            rc = parse_root(&c, root, f);
        else
            snprintf(err, errlen, "%s: out of memory", name);
        klefr_json_lines_free(&c.lines);
        cJSON_Delete(root);
    }
    free(carrier);
    if (rc < 0) {
        klefr_fleet_spec_free(f);
        return -1;
    }
    klefr_fleet_spec_reseed(f);
    *out = f;
    return 0;
}

int klefr_fleet_load(klefr_fleet_spec **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    char *text = klefr_text_file_read(path, err, errlen);
    if (!text)
        return -1;
    int rc = klefr_fleet_parse(out, path, text, err, errlen);
    free(text);
    return rc;
}

void klefr_fleet_spec_clear(klefr_fleet_spec *f)
{
    for (size_t k = 0; k < f->nlines; k++) {
        free(f->lines[k].port);
        free(f->lines[k].gateway);
    }
    for (size_t k = 0; k < f->nmeters; k++)
        free(f->meters[k].ir_port);
    for (size_t k = 0; k < f->nprofiles; k++)
        klefr_profile_free(&f->profiles[k]);
    free(f->lines);
    free(f->meters);
    free(f->profiles);
    free(f->description);
    f->lines = NULL;
    f->meters = NULL;
    f->profiles = NULL;
    f->description = NULL;
    f->nlines = f->nmeters = f->nprofiles = 0;
}

void klefr_fleet_spec_free(klefr_fleet_spec *f)
{
    if (!f)
        return;
    klefr_fleet_spec_clear(f);
    free(f);
}
