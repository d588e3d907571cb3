/* klefr-sim: the KLEFR 692x digital twin. SKELETON: the runtime work fills
 * in load profiles, replay, speed control, ports and the panel. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "lcd_text_out.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim [--headless] [--model 6921|6922|6923|6924] [--duration SECONDS]\n"
                 "       [--lcd-text] [--press L|R|B@T[+D],...]\n");
}

int main(int argc, char **argv)
{
    int model = 6924;
    double duration_s = 1.0;
    int lcd_text = 0;
    const char *press_spec = NULL;
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"headless", no_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},
                                         {"lcd-text", no_argument, 0, 'L'},
                                         {"press", required_argument, 0, 'P'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = atoi(optarg); break;
        case 'd': duration_s = atof(optarg); break;
        case 'H': break;
        case 'h': usage(stdout); return 0;
        case 'L': lcd_text = 1; break;
        case 'P': press_spec = optarg; break;
        default: usage(stderr); return 2;
        }
    }
    if (!klefr_model_valid(model)) {
        fprintf(stderr, "klefr-sim: --model %d: expected 6921, 6922, 6923 or 6924\n", model);
        return 2;
    }
    static klefr_sim sim;
    char err[256];
    if (klefr_sim_init(&sim, (klefr_model)model, KLEFR_DEFAULT_SERIAL, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "klefr-sim: %s\n", err);
        return 1;
    }
    if (press_spec && klefr_press_post(&sim, press_spec) < 0) {
        fprintf(stderr, "klefr-sim: --press %s: expected L|R|B@SECONDS[+HELD],...\n", press_spec);
        return 2;
    }
    if (lcd_text)
        klefr_lcd_text_follow(&sim, stdout);
    klefr_sim_run_until(&sim, (uint64_t)(duration_s * 1e6));
    klefr_sim_power(&sim, false);
    printf("{\"model\": %d, \"t_s\": %.3f}\n", model, (double)sim.t_us / 1e6);
    return 0;
}
