/* Running a scenario: the meter powers up from its image, then one chained
 * sim event (KLEFR_EV_CALL) does, at each time something is due, in this
 * order: the timeline, the second halves of events (release, restore), the
 * events, the expectations; windows are watched every 10 ms slice. The loop
 * runs as fast as possible. A scenario with "meters" runs an installation
 * (sim/fleet.h) in one world: one klefr_scn_play per meter, each drawing its
 * share of the timeline; every event and expectation is for one of them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "klefr/meter.h"
#include "scenario_priv.h"

#define PLOT_POINTS 1200u

typedef enum { A_AFTER, A_EVENT, A_AT, A_OPEN, A_CLOSE } action_type;

typedef struct {
    uint64_t t_us;
    action_type type;
    uint32_t idx;
} action;

typedef struct klefr_scn_runner {
    klefr_scn_play *plays; /* one per meter */
    size_t nplays;
    klefr_fleet *fleet;    /* "meters": their world and lines */
    action *act;
    size_t nact, next;
    uint64_t sample_us, next_sample;
    size_t cap_samples;
    uint64_t progress_wall;
} run_state; /* = klefr_scn_runner */

void klefr_scn_trace(klefr_scn_play *r, const char *fmt, ...)
{
    if (!r->o->trace || !r->o->trace_events)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->o->trace(r->o->trace_arg, line);
}

/* ---- the truth -------------------------------------------------------------- */

/* The energy of the signal at the terminals, as the front end published it
 * (afe.h): the synthetic source's, plus every recording's own. */
static void truth_sum(klefr_scn_play *r)
{
    const klefr_afe_truth *a = klefr_afe_truth_now(&r->synth.afe), *b = &r->replayed;
    const klefr_afe_truth *c =
        r->replaying ? klefr_afe_truth_now(&r->replay.afe) : &(klefr_afe_truth){0};
    klefr_afe_truth *t = &r->mux.afe.truth;
    t->act_fwd_wh = a->act_fwd_wh + b->act_fwd_wh + c->act_fwd_wh;
    t->act_rev_wh = a->act_rev_wh + b->act_rev_wh + c->act_rev_wh;
    t->react_fwd_varh = a->react_fwd_varh + b->react_fwd_varh + c->react_fwd_varh;
    t->react_rev_varh = a->react_rev_varh + b->react_rev_varh + c->react_rev_varh;
    t->seconds = a->seconds + b->seconds + c->seconds;
    t->samples = a->samples + b->samples + c->samples;
}

/* Keep the truth at the end of this fill. */
static void truth_mark(klefr_scn_play *r)
{
    const klefr_afe_truth *t = &r->mux.afe.truth;
    size_t k = r->ntruth_mark++ % KLEFR_SCN_TRUTH_MARKS;
    r->truth_mark[k].samples = t->samples;
    r->truth_mark[k].kwh[0] = t->act_fwd_wh / 1000;
    r->truth_mark[k].kwh[1] = t->act_rev_wh / 1000;
    r->truth_mark[k].kwh[2] = t->react_fwd_varh / 1000;
    r->truth_mark[k].kwh[3] = t->react_rev_varh / 1000;
}

/* The truth of the samples the registers hold: the meter adds a block's
 * energy at its end, so its registers lag the terminals by the block in
 * progress (up to 0.2 s at 50 Hz). Compared at the same sample, a short run
 * shows the metering's error, not the lag (a 100 s run ending just before a
 * block end read 0.18 % low). Linear within a fill of 10 ms. */
static void truth_advance(run_state *st)
{
    for (size_t m = 0; m < st->nplays; m++) {
        klefr_scn_play *r = &st->plays[m];
        uint64_t now = r->mux.afe.truth.samples;
        uint64_t lag = klefr_meter_pending_samples(&r->sim->meter);
        uint64_t want = now > lag ? now - lag : 0;
        uint64_t n = r->ntruth_mark;
        uint64_t oldest = n > KLEFR_SCN_TRUTH_MARKS ? n - KLEFR_SCN_TRUTH_MARKS : 0;
        uint64_t j = n - 1; /* the newest mark at or before want (or the oldest kept) */
        while (j > oldest && r->truth_mark[j % KLEFR_SCN_TRUTH_MARKS].samples > want)
            j--;
        const klefr_scn_truth_mark *a = &r->truth_mark[j % KLEFR_SCN_TRUTH_MARKS];
        const klefr_scn_truth_mark *b =
            j + 1 < n ? &r->truth_mark[(j + 1) % KLEFR_SCN_TRUTH_MARKS] : a;
        double f = b->samples > a->samples && want > a->samples
                       ? (double)(want - a->samples) / (double)(b->samples - a->samples)
                       : 0;
        f = f > 1 ? 1 : f;
        for (int k = 0; k < 4; k++)
            r->truth_kwh[k] = a->kwh[k] + (b->kwh[k] - a->kwh[k]) * f;
    }
}

void klefr_scn_replay_close(klefr_scn_play *r)
{
    if (!r->replaying)
        return;
    const klefr_afe_truth *c = klefr_afe_truth_now(&r->replay.afe);
    r->replayed.act_fwd_wh += c->act_fwd_wh;
    r->replayed.act_rev_wh += c->act_rev_wh;
    r->replayed.react_fwd_varh += c->react_fwd_varh;
    r->replayed.react_rev_varh += c->react_rev_varh;
    r->replayed.seconds += c->seconds;
    r->replayed.samples += c->samples;
    klefr_replay_close(&r->replay);
    r->replaying = false;
    truth_sum(r);
}

/* ---- the terminals -------------------------------------------------------------- */

/* The run behind the mux's afe. */
static klefr_scn_play *mux_run(klefr_afe *self)
{
    return ((struct { klefr_afe afe; klefr_scn_play *run; } *)self)->run;
}

/* ADC overload, whatever the source: what src counted since c, ci. */
static void mux_clips(klefr_afe *self, const klefr_afe *src, uint64_t c, uint64_t ci)
{
    self->clipped += src->clipped - c;
    self->clipped_i += src->clipped_i - ci;
}

static size_t mux_fill(klefr_afe *self, int32_t *v, int32_t *i, size_t n)
{
    klefr_scn_play *r = mux_run(self);
    size_t got = 0;
    if (r->replaying) {
        uint64_t c = r->replay.afe.clipped, ci = r->replay.afe.clipped_i;
        got = r->replay.afe.fill(&r->replay.afe, v, i, n);
        mux_clips(self, &r->replay.afe, c, ci);
        if (got < n) /* the recording ended early: the synthetic load goes on */
            klefr_scn_replay_close(r);
    }
    if (got < n) {
        uint64_t c = r->synth.afe.clipped, ci = r->synth.afe.clipped_i;
        got += r->synth.afe.fill(&r->synth.afe, v + got, i + got, n - got);
        mux_clips(self, &r->synth.afe, c, ci);
    }
    truth_sum(r);
    truth_mark(r);
    return got;
}

/* The mux's take: the synthetic source's samples in place (no recording
 * playing), else 0 and the slice fills. */
static size_t mux_take(klefr_afe *self, const int32_t **v, const int32_t **i, size_t n)
{
    klefr_scn_play *r = mux_run(self);
    if (r->replaying)
        return 0;
    uint64_t c = r->synth.afe.clipped, ci = r->synth.afe.clipped_i;
    size_t got = r->synth.afe.take(&r->synth.afe, v, i, n);
    if (!got)
        return 0;
    mux_clips(self, &r->synth.afe, c, ci);
    truth_sum(r);
    truth_mark(r);
    return got;
}

/* The mux's truth (its truth_sync): the sources', when read. */
static void mux_truth_sync(klefr_afe *self)
{
    truth_sum(mux_run(self));
}

void klefr_scn_terminals(klefr_scn_play *r, uint64_t t_us)
{
    bool on = r->tl_power && !r->ev_cut;
    klefr_load l = r->load;
    if (r->i_scale != 1) { /* a meter of an installation: its share of the site's current */
        l.i_rms *= r->i_scale;
        l.dc_i *= r->i_scale;
        l.noise_i_rms *= r->i_scale;
    }
    if (r->own_seed)
        l.seed = r->seed;
    if (r->v_pct > 0)
        l.v_rms *= r->v_pct / 100;
    if (!on) { /* no supply: nothing at the terminals */
        l.v_rms = l.i_rms = 0;
        l.n_harm = 0;
    }
    if (memcmp(&l, &r->synth.load, sizeof l) != 0)
        klefr_synth_set_load(&r->synth, &l);
    klefr_sim *sim = r->sim;
    if (on != sim->powered) {
        klefr_sim_power(sim, on);
        klefr_scn_trace(r, "t=%.3f s: supply %s", (double)t_us / 1e6, on ? "on" : "cut");
        if (on && r->tariff_input >= 0) /* a fresh power-up sees the input level again */
            klefr_meter_tariff_input(&sim->meter, r->tariff_input != 0, t_us);
    }
}

/* ---- actions ------------------------------------------------------------------- */

static int by_action(const void *a, const void *b)
{
    const action *x = a, *y = b;
    if (x->t_us != y->t_us)
        return x->t_us < y->t_us ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int build_actions(run_state *st)
{
    const klefr_scn *s = st->plays[0].s;
    st->act = malloc((2 * s->nev + 2 * s->nex + 1) * sizeof *st->act);
    if (!st->act)
        return -1;
    size_t n = 0;
    for (size_t k = 0; k < s->nev; k++) {
        const klefr_scn_event *ev = &s->ev[k];
        st->act[n++] = (action){ev->t_us, A_EVENT, (uint32_t)k};
        if (klefr_scn_event_end(ev) > ev->t_us)
            st->act[n++] = (action){klefr_scn_event_end(ev), A_AFTER, (uint32_t)k};
    }
    for (size_t k = 0; k < s->nex; k++) {
        const klefr_scn_expect *e = &s->ex[k];
        bool pulses = e->kind->counts && strcmp(e->kind->key, "accuracy");
        if (e->when == KLEFR_SCN_AT && !pulses) {
            st->act[n++] = (action){e->t_us, A_AT, (uint32_t)k};
            continue;
        }
        uint64_t open = e->when == KLEFR_SCN_AT ? 0 : e->t_us;
        uint64_t close = pulses ? s->duration_us : e->t2_us;
        st->act[n++] = (action){open, A_OPEN, (uint32_t)k};
        st->act[n++] = (action){close, A_CLOSE, (uint32_t)k};
    }
    qsort(st->act, n, sizeof *st->act, by_action);
    st->nact = n;
    return 0;
}

static void watch_add(klefr_scn_play *r, klefr_scn_expect *e)
{
    r->watch[r->nwatch++] = e;
}

static void watch_remove(klefr_scn_play *r, klefr_scn_expect *e)
{
    for (size_t k = 0; k < r->nwatch; k++)
        if (r->watch[k] == e) {
            r->watch[k] = r->watch[--r->nwatch];
            return;
        }
}

static void do_action(run_state *st, const action *a, uint64_t t_us)
{
    klefr_scn *s = st->plays[0].s;
    if (a->type == A_EVENT || a->type == A_AFTER) {
        const klefr_scn_event *ev = &s->ev[a->idx];
        klefr_scn_play *r = &st->plays[ev->meter];
        klefr_scn_trace(r, "t=%.3f s: %s%s%s%s (line %d)", (double)t_us / 1e6, ev->kind->name,
                        a->type == A_AFTER ? " ends" : "", *ev->label ? ": " : "", ev->label,
                        ev->line);
        if (a->type == A_EVENT)
            ev->kind->act(r, ev, t_us);
        else
            klefr_scn_event_after(r, ev, t_us);
        return;
    }
    klefr_scn_expect *e = &s->ex[a->idx];
    klefr_scn_play *r = &st->plays[e->meter];
    bool pulses = e->kind->counts && strcmp(e->kind->key, "accuracy");
    switch (a->type) {
    case A_AT:
        if (!strcmp(e->kind->key, "accuracy"))
            klefr_scn_expect_window_open(r, e);
        klefr_scn_expect_check(r, e, t_us);
        break;
    case A_OPEN:
        klefr_scn_expect_window_open(r, e);
        if (!e->kind->counts) {
            klefr_scn_expect_check(r, e, t_us);
            if (e->state == KLEFR_SCN_PENDING)
                watch_add(r, e);
        }
        break;
    case A_CLOSE:
        if (!e->kind->counts)
            klefr_scn_expect_check(r, e, t_us);
        watch_remove(r, e);
        klefr_scn_expect_window_close(r, e, pulses && e->when == KLEFR_SCN_AT ? e->t_us
                                            : pulses ? e->t2_us
                                                     : t_us);
        break;
    default:
        break;
    }
}

/* ---- samples for the plot ------------------------------------------------------- */

/* A point of the plot: the meter's, or the installation's (voltage of the
 * first meter, currents, powers and energies summed). */
static void sample(run_state *st, uint64_t t_us)
{
    klefr_scn *s = st->plays[0].s;
    if (s->nsamples == st->cap_samples)
        return;
    klefr_scn_sample *p = &s->samples[s->nsamples++];
    *p = (klefr_scn_sample){.t_s = (double)t_us / 1e6};
    for (size_t m = 0; m < st->nplays; m++) {
        const klefr_scn_play *r = &st->plays[m];
        const klefr_measure *q = &r->sim->meter.meas;
        bool on = r->sim->powered;
        if (m == 0) {
            p->v = on ? q->v_rms : 0;
            p->powered = on;
        }
        p->i += on ? q->i_rms : 0;
        p->p_kw += on ? q->p_w / 1000 : 0;
        p->q_kvar += on ? q->q_var / 1000 : 0;
        for (int k = 0; k < 4; k++) {
            p->e_kwh[k] += klefr_scn_energy_kwh(r->sim, k);
            p->truth_kwh[k] += r->start_kwh[k] + r->truth_kwh[k]; /* beside the registers */
        }
    }
}

/* ---- the chained event ------------------------------------------------------------ */

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void tick(void *arg, uint64_t t_us)
{
    run_state *st = arg;
    const klefr_scn *s = st->plays[0].s;
    truth_advance(st);
    for (size_t m = 0; m < st->nplays; m++)
        klefr_scn_timeline_due(&st->plays[m], t_us);
    while (st->next < st->nact && st->act[st->next].t_us <= t_us)
        do_action(st, &st->act[st->next++], t_us);
    bool watching = false;
    for (size_t m = 0; m < st->nplays; m++) { /* windows: every slice */
        klefr_scn_play *r = &st->plays[m];
        for (size_t k = 0; k < r->nwatch;) {
            klefr_scn_expect *e = r->watch[k];
            klefr_scn_expect_check(r, e, t_us);
            if (e->state != KLEFR_SCN_PENDING)
                watch_remove(r, e);
            else
                k++;
        }
        watching |= r->nwatch > 0;
    }
    if (t_us >= st->next_sample) {
        sample(st, t_us);
        st->next_sample += st->sample_us;
    }
    uint64_t next = st->next_sample;
    for (size_t m = 0; m < st->nplays; m++)
        next = min64(next, klefr_scn_timeline_next(&st->plays[m]));
    if (st->next < st->nact)
        next = min64(next, st->act[st->next].t_us);
    if (watching)
        next = min64(next, (t_us / KLEFR_SIM_SLICE_US + 1) * KLEFR_SIM_SLICE_US);
    if (next <= t_us) /* never twice at one time: the next slice */
        next = t_us + 1;
    if (next <= s->duration_us)
        klefr_world_post(st->plays[0].sim->world,
                         &(klefr_sim_event){.t_us = next, .kind = KLEFR_EV_CALL, .fn = tick,
                                            .arg = st});
}

static void on_pulse(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us)
{
    klefr_scn_expect_pulse(arg, out, t_us, width_us);
}

static void on_trace(void *arg, const char *line)
{
    klefr_scn_play *r = arg;
    if (!r->s->fleet) {
        r->o->trace(r->o->trace_arg, line);
        return;
    }
    char buf[1200]; /* whose frame: "flat-03 mbus: rx ..." */
    snprintf(buf, sizeof buf, "%s %s", klefr_scn_meter_id(r->s, r->meter), line);
    r->o->trace(r->o->trace_arg, buf);
}

static bool loop_hook(void *arg, klefr_sim *sim, uint64_t t_us)
{
    run_state *st = arg;
    (void)sim;
    if (st->plays[0].o->progress)
        st->plays[0].o->progress(st->plays[0].o->progress_arg, t_us, st->plays[0].s->duration_us);
    return true;
}

/* ---- setting up ---------------------------------------------------------------- */

/* The EEPROM image the meter powers up from: factory defaults with the
 * scenario's settings and registers (or the state_dir image). */
static void write_image(klefr_scn *s, klefr_sim *sim)
{
    klefr_sim_unboot(sim); /* the EEPROM before klefr_sim_init's power-up */
    if (s->have_state) {
        memcpy(sim->eeprom.mem, s->eeprom, sizeof sim->eeprom.mem);
        return;
    }
    if (!s->have_settings && !s->have_regs)
        return; /* a new meter: blank EEPROM */
    klefr_settings set;
    klefr_settings_defaults(&set, s->model, s->serial);
    klefr_scn_settings_apply(&s->settings, &set);
    uint8_t img[KLEFR_STORE_IMAGE_LEN];
    /* as a power-fail save left it: the power-up counts no power-down */
    klefr_store_encode(img, &set, &s->regs, 1, KLEFR_SAVE_POWER_FAIL);
    memcpy(sim->eeprom.mem, img, sizeof img);
}

static klefr_afe *play_afe(void *arg, size_t k)
{
    run_state *st = arg;
    return &st->plays[k].mux.afe;
}

/* A play per meter, with its AFE (the synth, or a recording through the mux). */
static int plays_init(run_state *st, klefr_scn *s, const klefr_scn_run_opts *o)
{
    st->nplays = klefr_scn_meter_count(s);
    st->plays = calloc(st->nplays, sizeof *st->plays);
    if (!st->plays)
        return -1;
    static const klefr_adc_model adc = {.gain_v = 1, .gain_i = 1};
    for (size_t k = 0; k < st->nplays; k++) {
        klefr_scn_play *r = &st->plays[k];
        *r = (klefr_scn_play){.s = s, .o = o, .meter = k, .i_scale = 1, .tl_power = true,
                              .tariff_input = -1, .load = s->base};
        if (!(r->watch = calloc(s->nex + 1, sizeof *r->watch)))
            return -1;
        klefr_load l = s->base;
        if (s->fleet) {
            klefr_fleet_meter_load(s->fleet, k, &r->i_scale, &l);
            r->own_seed = true;
            r->seed = l.seed;
            l = s->base;
            l.i_rms *= r->i_scale;
            l.seed = r->seed;
        }
        klefr_synth_init(&r->synth, &l, &adc);
        r->mux.afe.fill = mux_fill;
        r->mux.afe.take = mux_take;
        r->mux.afe.truth_sync = mux_truth_sync;
        r->mux.run = r;
        truth_mark(r); /* nothing yet at t = 0 */
    }
    return 0;
}

/* The meters: one alone, or an installation's in one world. */
static int sims_open(run_state *st, klefr_scn *s, char *err, size_t errlen)
{
    if (s->fleet) {
        st->fleet = klefr_fleet_open_with(s->fleet, NULL, play_afe, st, err, errlen);
        if (!st->fleet)
            return -1;
        for (size_t k = 0; k < st->nplays; k++)
            st->plays[k].sim = st->fleet->meters[k].sim;
        return 0;
    }
    klefr_sim *sim = calloc(1, sizeof *sim);
    if (!sim) {
        snprintf(err, errlen, "%s: out of memory", s->file);
        return -1;
    }
    st->plays[0].sim = sim;
    if (klefr_sim_init(sim, s->model, s->serial, &st->plays[0].mux.afe, NULL, err, (int)errlen) != 0)
        return -1;
    /* Power up again from the scenario's image, as if programmed at the factory. */
    write_image(s, sim);
    sim->powered = false;
    klefr_sim_power(sim, true);
    return 0;
}

static void sims_close(run_state *st)
{
    for (size_t k = 0; st->plays && k < st->nplays; k++)
        klefr_scn_replay_close(&st->plays[k]);
    if (st->fleet) {
        klefr_fleet_close(st->fleet); /* the trace lines still held, the serial lines */
    } else if (st->plays && st->plays[0].sim) {
        klefr_sim_close(st->plays[0].sim);
        free(st->plays[0].sim);
    }
    for (size_t k = 0; st->plays && k < st->nplays; k++) {
        klefr_scn_serial_stop(&st->plays[k]);
        free(st->plays[k].watch);
    }
    free(st->plays);
}

static void final(run_state *st, klefr_scn *s, const klefr_scn_run_opts *o)
{
    for (int k = 0; k < 4; k++) {
        s->start_reg_kwh[k] = s->final_reg_kwh[k] = s->final_truth_kwh[k] = 0;
        for (size_t m = 0; m < st->nplays; m++) {
            const klefr_scn_play *r = &st->plays[m];
            s->start_reg_kwh[k] += r->start_kwh[k];
            s->final_reg_kwh[k] += klefr_scn_energy_kwh(r->sim, k) - r->start_kwh[k];
            s->final_truth_kwh[k] += r->truth_kwh[k];
        }
    }
    if (!s->fleet) {
        if (o->final)
            o->final(o->final_arg, s, st->plays[0].sim);
        return;
    }
    if (!o->final_fleet)
        return;
    const klefr_sim **sims = calloc(st->nplays, sizeof *sims);
    const char **ids = calloc(st->nplays, sizeof *ids);
    if (sims && ids) {
        for (size_t m = 0; m < st->nplays; m++) {
            sims[m] = st->plays[m].sim;
            ids[m] = klefr_scn_meter_id(s, m);
        }
        o->final_fleet(o->final_arg, s, sims, ids, st->nplays);
    }
    free(sims);
    free(ids);
}

int klefr_scn_runner_open(klefr_scn *s, const klefr_scn_run_opts *o, klefr_scn_runner **out,
                          char *err, size_t errlen)
{
    *out = NULL;
    run_state *st = calloc(1, sizeof *st);
    free(s->samples);
    s->samples = calloc(PLOT_POINTS + 2, sizeof *s->samples);
    if (!st || !s->samples || plays_init(st, s, o) < 0) {
        klefr_scn_runner_free(st);
        snprintf(err, errlen, "%s: out of memory", s->file);
        return -1;
    }
    s->nsamples = s->npass = s->nfail = 0;
    s->ran = false;
    for (size_t k = 0; k < s->nex; k++)
        s->ex[k].state = KLEFR_SCN_PENDING;
    st->cap_samples = PLOT_POINTS + 2;
    st->sample_us = (s->duration_us / PLOT_POINTS + KLEFR_SIM_SLICE_US - 1) / KLEFR_SIM_SLICE_US *
                    KLEFR_SIM_SLICE_US;
    if (st->sample_us == 0)
        st->sample_us = KLEFR_SIM_SLICE_US;
    if (build_actions(st) < 0) {
        snprintf(err, errlen, "%s: out of memory", s->file);
        klefr_scn_runner_free(st);
        return -1;
    }
    if (sims_open(st, s, err, errlen) < 0) {
        klefr_scn_runner_free(st);
        return -1;
    }
    for (size_t m = 0; m < st->nplays; m++) {
        klefr_scn_play *r = &st->plays[m];
        klefr_sim *sim = r->sim;
        if (s->nseg && !s->seg[0].power) /* the supply is cut from the start: never on */
            sim->powered = sim->meter.powered = false;
        for (int k = 0; k < 4; k++) /* a meter that starts with registers set: the truth starts there */
            r->start_kwh[k] = klefr_scn_energy_kwh(sim, k);
        sim->on_pulse = on_pulse;
        sim->on_pulse_arg = r;
        if (o->trace && o->trace_frames) {
            sim->trace = on_trace;
            sim->trace_arg = r;
        } else {
            sim->hal.trace = NULL;
        }
        if (m == 0)
            klefr_scn_serial_start(r); /* the serial steps' records: the scenario's */
        klefr_scn_timeline_start(r); /* segment 0 at t = 0 */
        klefr_scn_terminals(r, 0);
    }
    tick(st, 0);
    *out = st;
    return 0;
}

klefr_sim *klefr_scn_runner_sim(klefr_scn_runner *st)
{
    return st->plays[st->plays[0].s->tour_meter].sim;
}

klefr_synth *klefr_scn_runner_synth(klefr_scn_runner *st)
{
    return &st->plays[st->plays[0].s->tour_meter].synth;
}

klefr_loop_result klefr_scn_runner_to(klefr_scn_runner *st, uint64_t t_us)
{
    const klefr_scn *s = st->plays[0].s;
    klefr_loop loop = {.sim = st->plays[0].sim, .world = st->plays[0].sim->world, .speed = 0,
                       .t_end_us = t_us < s->duration_us ? t_us : s->duration_us,
                       .stop = st->plays[0].o->stop, .hook = loop_hook, .hook_arg = st};
    return klefr_loop_run(&loop);
}

int klefr_scn_runner_finish(klefr_scn_runner *st, klefr_loop_result res, char *err,
                            size_t errlen)
{
    klefr_scn *s = st->plays[0].s;
    const klefr_scn_run_opts *o = st->plays[0].o;
    uint64_t t_end = st->plays[0].sim->world->t_us;
    truth_advance(st);
    for (size_t k = 0; k < s->nex; k++) { /* what a stop left undecided */
        klefr_scn_expect *e = &s->ex[k];
        if (e->state == KLEFR_SCN_PENDING) {
            snprintf(e->got_str, sizeof e->got_str, "not reached (%s)",
                     klefr_loop_result_to_str(res));
            klefr_scn_expect_window_close(&st->plays[e->meter], e, t_end);
            if (e->state == KLEFR_SCN_PASS && res != KLEFR_LOOP_END) {
                e->state = KLEFR_SCN_FAIL; /* held so far: say why it fails all the same */
                s->npass--, s->nfail++;
                snprintf(e->msg, sizeof e->msg, "t=%.10g s: expect %s: not reached (%s)",
                         (double)t_end / 1e6, e->what, klefr_loop_result_to_str(res));
            }
        }
    }
    if (s->nsamples == 0 || s->samples[s->nsamples - 1].t_s < (double)t_end / 1e6)
        sample(st, t_end);
    final(st, s, o);
    s->ran = true;
    for (size_t m = 0; m < st->nplays; m++)
        if (st->plays[m].err[0]) {
            snprintf(err, errlen, "%s", st->plays[m].err);
            return -1;
        }
    return 0;
}

void klefr_scn_runner_free(klefr_scn_runner *st)
{
    if (!st)
        return;
    sims_close(st);
    free(st->act);
    free(st);
}

/* ---- snapshots ------------------------------------------------------------ */

/* Everything a run changes, copied back into the same places: the pointers
 * inside (the sim's AFE, the chained event's argument, the watch list) stay
 * valid because the addresses do not change. */
struct klefr_scn_snapshot {
    run_state st;
    klefr_scn_play play;
    klefr_sim_copy *sim; /* the meter and its world (events queued) */
    klefr_scn_expect *ex;
    klefr_scn_expect **watch;
    size_t npass, nfail, nsamples;
};

klefr_scn_snapshot *klefr_scn_runner_save(const klefr_scn_runner *st)
{
    const klefr_scn *s = st->plays[0].s;
    if (s->nreplay || s->fleet) /* a recording streams from its file; an installation: no going back */
        return NULL;
    for (int k = 0; k < KLEFR_PORT_COUNT; k++)
        if (st->plays[0].sim->line[k]) /* a serial line in use holds frames and clients of its own */
            return NULL;
    klefr_scn_snapshot *p = malloc(sizeof *p);
    klefr_scn_expect *ex = malloc((s->nex + 1) * sizeof *ex);
    klefr_scn_expect **watch = malloc((s->nex + 1) * sizeof *watch);
    klefr_sim_copy *sim = klefr_sim_copy_save(st->plays[0].sim);
    if (!p || !ex || !watch || !sim) {
        free(p);
        free(ex);
        free(watch);
        klefr_sim_copy_free(sim);
        return NULL;
    }
    memcpy(&p->st, st, sizeof *st); /* bytes: padding too, so a restore is exact */
    memcpy(&p->play, &st->plays[0], sizeof p->play);
    memcpy(ex, s->ex, s->nex * sizeof *ex);
    memcpy(watch, st->plays[0].watch, (s->nex + 1) * sizeof *watch);
    p->sim = sim;
    p->ex = ex;
    p->watch = watch;
    p->npass = s->npass;
    p->nfail = s->nfail;
    p->nsamples = s->nsamples;
    return p;
}

void klefr_scn_runner_restore(klefr_scn_runner *st, const klefr_scn_snapshot *p)
{
    klefr_scn *s = st->plays[0].s;
    klefr_sim *sim = st->plays[0].sim;
    klefr_scn_expect **watch = st->plays[0].watch;
    klefr_scn_play *plays = st->plays;
    memcpy(st, &p->st, sizeof *st);
    memcpy(plays, &p->play, sizeof *plays);
    klefr_sim_copy_restore(sim, p->sim); /* trace lines still waiting are not taken back */
    memcpy(s->ex, p->ex, s->nex * sizeof *s->ex);
    memcpy(watch, p->watch, (s->nex + 1) * sizeof *watch);
    s->npass = p->npass;
    s->nfail = p->nfail;
    s->nsamples = p->nsamples;
}

void klefr_scn_snapshot_free(klefr_scn_snapshot *p)
{
    if (!p)
        return;
    klefr_sim_copy_free(p->sim);
    free(p->ex);
    free(p->watch);
    free(p);
}

int klefr_scn_run(klefr_scn *s, const klefr_scn_run_opts *o, char *err, size_t errlen)
{
    klefr_scn_runner *st;
    if (klefr_scn_runner_open(s, o, &st, err, errlen) < 0)
        return -1;
    klefr_loop_result res = klefr_scn_runner_to(st, s->duration_us);
    int rc = klefr_scn_runner_finish(st, res, err, errlen);
    klefr_scn_runner_free(st);
    return rc;
}
