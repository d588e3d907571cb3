/* What the panel tests share (offscreen and X11): a meter with a 5 A load
 * behind a window, the recorder fed by the window's load controls, and a
 * recorded scenario read back. */
#ifndef KLEFR_PANEL_HARNESS_H
#define KLEFR_PANEL_HARNESS_H

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "afe_synth.h"
#include "panel.h"
#include "recorder.h"
#include "sim.h"

/* A meter of model at 230 V 5 A PF 1 and its window (SDL driver, size),
 * running at 1x. */
static klefr_panel *harness_open(klefr_sim *sim, klefr_synth *synth, const char *driver,
                                 klefr_model model, int w, int h)
{
    setenv("SDL_VIDEODRIVER", driver, 1);
    char err[256];
    klefr_synth_init(synth, &(klefr_load){.v_rms = 230, .i_rms = 5, .freq_hz = 50}, NULL);
    ck_assert_int_eq(
        klefr_sim_init(sim, model, KLEFR_DEFAULT_SERIAL, &synth->afe, NULL, err, sizeof err), 0);
    klefr_panel_opts o = {.synth = synth, .speed = 1, .width = w, .height = h};
    klefr_panel *p = klefr_panel_open(sim, &o, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

/* --record as src/main.c wires it: the sim reports presses, tariff input and
 * supply; the window its load controls. */
static void harness_rec_input(void *arg, const klefr_panel_input *in)
{
    if (in->kind == KLEFR_PANEL_IN_LOAD)
        klefr_recorder_load(arg, &in->load, in->t_us);
}

static klefr_recorder *harness_record(klefr_sim *sim, klefr_synth *synth, klefr_panel *p,
                                      char *path)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char err[256];
    klefr_recorder *rec = klefr_recorder_start(sim, &synth->load, path, err, sizeof err);
    ck_assert_msg(rec != NULL, "%s", err);
    klefr_panel_on_input(p, harness_rec_input, rec);
    return rec;
}

/* Finish the recording, play it back with 'klefr-sim scenario' ($KLEFR_SIM,
 * set by meson): it must reach the same LCD states (its expectations hold),
 * then parse the file (removed); cJSON_Delete the result. */
static cJSON *harness_recorded(klefr_recorder *rec, const char *path)
{
    char err[256];
    ck_assert_msg(klefr_recorder_finish(rec, err, sizeof err) == 0, "%s", err);
    const char *sim = getenv("KLEFR_SIM");
    if (sim && *sim) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "'%s' scenario --quiet '%s' >&2", sim, path);
        ck_assert_msg(system(cmd) == 0, "the recording does not play back: %s", cmd);
    } else {
        fprintf(stderr, "note: KLEFR_SIM not set, playback not checked\n");
    }
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    remove(path);
    text[n] = 0;
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "not JSON: %s", text);
    return root;
}

#endif
