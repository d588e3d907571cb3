/* A fleet at run time (fleet.h): one world, its lines, its meters. */
#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "klefr/meter.h"
#include "scenario_priv.h"

/* A meter's draw of the site's load: its share of the current, spread by
 * u in [-1, 1] from its seed, with its own noise seed. */
typedef struct {
    double scale;
    uint64_t seed;
} share;

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Uniform in [0, 1) from a seed and a purpose (so the spread and the reply
 * time of a meter are independent). */
static double unit(uint64_t seed, uint64_t what)
{
    return (double)(mix(seed ^ mix(what)) >> 11) / 9007199254740992.0;
}

void klefr_fleet_meter_load(const klefr_fleet_spec *spec, size_t k, double *scale, klefr_load *out)
{
    const klefr_fleet_meter_spec *m = &spec->meters[k];
    *scale = 1;
    if (m->load_kind == KLEFR_FLEET_LOAD_OWN) {
        *out = m->load;
    } else if (m->load_kind == KLEFR_FLEET_LOAD_PROFILE) {
        *out = spec->profiles[m->profile].seg[0].load;
    } else {
        *scale = m->share * (1.0 + spec->spread * (2.0 * unit(m->seed, 1) - 1.0));
        *out = spec->site_profile >= 0 ? spec->profiles[spec->site_profile].seg[0].load
                                       : spec->site_load;
        out->i_rms *= *scale;
        out->dc_i *= *scale;
        out->noise_i_rms *= *scale;
    }
    out->seed = m->seed;
}

/* Profile segments through the meter's share. */
static void adjust(void *arg, klefr_load *l)
{
    const klefr_fleet_meter *fm = arg;
    const klefr_fleet_meter_spec *m = fm->spec;
    double scale = fm->scale;
    l->i_rms *= scale;
    l->dc_i *= scale;
    l->noise_i_rms *= scale;
    l->seed = m->seed;
}

/* The image a blank EEPROM holds: factory defaults with the spec's settings
 * and registers. */
static void factory_image(const klefr_fleet_meter_spec *m, uint8_t img[KLEFR_NVM_SIZE])
{
    klefr_settings set;
    klefr_settings_defaults(&set, m->model, m->serial);
    klefr_scn_settings_apply(&m->settings, &set);
    memset(img, 0xFF, KLEFR_NVM_SIZE);
    klefr_store_encode(img, &set, &m->regs, 1);
}

static int mkdirs(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0700);
            *s = '/';
        }
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int open_meter(klefr_fleet *f, size_t k, const char *state_dir, klefr_fleet_afe_fn afe_fn,
                      void *afe_arg, char *err, size_t errlen)
{
    const klefr_fleet_spec *spec = f->spec;
    const klefr_fleet_meter_spec *m = &spec->meters[k];
    klefr_fleet_meter *fm = &f->meters[k];
    fm->spec = m;
    klefr_load load;
    klefr_fleet_meter_load(spec, k, &fm->scale, &load);
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    klefr_synth_init(&fm->synth, &load, &adc);
    fm->sim = calloc(1, KLEFR_SIM_SHARED_SIZE);
    if (!fm->sim) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[4096] = "";
    if (state_dir) {
        int n = snprintf(path, sizeof path, "%s/%s", state_dir, m->id);
        if (n < 0 || n >= (int)sizeof path - 16) {
            snprintf(err, errlen, "%s: state directory path too long", state_dir);
            return -1;
        }
        if (mkdirs(path, err, errlen) < 0)
            return -1;
        memcpy(path + n, "/eeprom.bin", 12);
    }
    uint8_t img[KLEFR_NVM_SIZE];
    factory_image(m, img);
    char why[512];
    klefr_afe *afe = afe_fn ? afe_fn(afe_arg, k) : &fm->synth.afe;
    if (klefr_sim_init_in(fm->sim, &f->world, m->model, m->serial, afe, state_dir ? path : NULL,
                          img, why, sizeof why) != 0) {
        snprintf(err, errlen, "meter %s: %s", m->id, why);
        free(fm->sim);
        fm->sim = NULL;
        return -1;
    }
    fm->sim->tx_delay_us = (uint32_t)(unit(m->seed, 2) * KLEFR_FLEET_REPLY_SPREAD_US);
    if (m->line >= 0 &&
        klefr_sim_join_line(fm->sim, KLEFR_PORT_BUS, f->lines[m->line].line, m->id) != 0) {
        snprintf(err, errlen, "meter %s: out of memory", m->id);
        return -1;
    }
    const klefr_profile *p = m->load_kind == KLEFR_FLEET_LOAD_PROFILE ? &spec->profiles[m->profile]
                             : m->load_kind == KLEFR_FLEET_LOAD_SITE && spec->site_profile >= 0
                                 ? &spec->profiles[spec->site_profile]
                                 : NULL;
    if (p && !afe_fn)
        klefr_profile_start_adjusted(&fm->player, p, fm->sim, &fm->synth, adjust, fm);
    return 0;
}

klefr_fleet *klefr_fleet_open(const klefr_fleet_spec *spec, const char *state_dir, char *err,
                              size_t errlen)
{
    return klefr_fleet_open_with(spec, state_dir, NULL, NULL, err, errlen);
}

klefr_fleet *klefr_fleet_open_with(const klefr_fleet_spec *spec, const char *state_dir,
                                   klefr_fleet_afe_fn afe, void *afe_arg, char *err, size_t errlen)
{
    klefr_fleet *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->spec = spec;
    klefr_world_init(&f->world);
    /* Room for every meter's profile boundary and a busy line or two. */
    f->world.max_events = KLEFR_SIM_MAX_EVENTS + 4 * spec->nmeters;
    f->lines = calloc(spec->nlines ? spec->nlines : 1, sizeof *f->lines);
    f->meters = calloc(spec->nmeters ? spec->nmeters : 1, sizeof *f->meters);
    if (!f->lines || !f->meters) {
        snprintf(err, errlen, "out of memory");
        klefr_fleet_close(f);
        return NULL;
    }
    for (size_t k = 0; k < spec->nlines; k++, f->nlines++) {
        const klefr_fleet_line_spec *ls = &spec->lines[k];
        klefr_fleet_line *l = &f->lines[k];
        l->spec = ls;
        /* M-bus: the master modulates the voltage, slaves the current
         * (DUPLEX); RS-485: one shared pair (BUS). */
        l->line = klefr_line_new(ls->id, ls->bus == KLEFR_BUS_MBUS ? KLEFR_LINE_DUPLEX : KLEFR_LINE_BUS,
                                 klefr_world_line_clock(&f->world));
        l->settings = l->line ? klefr_line_attach(l->line, "line", KLEFR_LINE_SLAVE, &ls->fmt, NULL,
                                                  NULL)
                              : NULL;
        if (!l->settings) {
            snprintf(err, errlen, "out of memory");
            klefr_line_free(l->line);
            klefr_fleet_close(f);
            return NULL;
        }
    }
    for (size_t k = 0; k < spec->nmeters; k++, f->nmeters++)
        if (open_meter(f, k, state_dir, afe, afe_arg, err, errlen) < 0) {
            f->nmeters++; /* closed with the others */
            klefr_fleet_close(f);
            return NULL;
        }
    return f;
}

void klefr_fleet_power_off(klefr_fleet *f)
{
    for (size_t k = 0; k < f->nmeters; k++)
        if (f->meters[k].sim)
            klefr_sim_power(f->meters[k].sim, false);
}

void klefr_fleet_close(klefr_fleet *f)
{
    if (!f)
        return;
    for (size_t k = 0; k < f->nmeters; k++) {
        klefr_world_cancel(&f->world, &f->meters[k].player);
        if (f->meters[k].sim)
            klefr_sim_close(f->meters[k].sim);
        free(f->meters[k].sim);
    }
    for (size_t k = 0; k < f->nlines; k++)
        klefr_line_free(f->lines[k].line);
    klefr_world_free(&f->world);
    free(f->meters);
    free(f->lines);
    free(f);
}

int klefr_fleet_find(const klefr_fleet *f, const char *id)
{
    for (size_t k = 0; k < f->nmeters; k++)
        if (!strcmp(f->meters[k].spec->id, id))
            return (int)k;
    return -1;
}

size_t klefr_fleet_meter_bytes(void)
{
    return KLEFR_SIM_SHARED_SIZE + sizeof(klefr_fleet_meter) + klefr_line_ep_bytes();
}
