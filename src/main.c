/* klefr-sim: the KLEFR 692x digital twin. SKELETON: the runtime work fills
 * in load profiles, replay, speed control, ports and the panel. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"
#include "sim.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: klefr-sim [--headless] [--model 6921|6922|6923|6924] [--duration SECONDS]\n");
    fprintf(f, "  --modbus-port PATH|serial:DEV  symlink to the Modbus pty (default <state-dir>/modbus),\n"
               "                                 or a real serial port through libserialport\n"
               "  --line-timing on|off           deliver bytes at the virtual time the wire would\n"
               "                                 (default on; off with --headless)\n"
               "  --baud-check on|off            a master at another baud is not understood (on)\n"
               "  --trace modbus                 log every Modbus frame (hex + decoded) to stderr\n");
}

static void trace_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
    int model = 6924;
    double duration_s = 1.0;
    klefr_ports_opts popts;
    klefr_ports_opts_init(&popts);
    bool trace_modbus = false;
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"headless", no_argument, 0, 'H'},
                                         {"modbus-port", required_argument, 0, 'P'},
                                         {"line-timing", required_argument, 0, 'L'},
                                         {"baud-check", required_argument, 0, 'B'},
                                         {"trace", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = atoi(optarg); break;
        case 'd': duration_s = atof(optarg); break;
        case 'H': popts.headless = true; break;
        case 'P': popts.path[KLEFR_PORT_BUS] = optarg; break;
        case 'L':
        case 'B': {
            int on = klefr_ports_onoff(optarg);
            if (on < 0) {
                fprintf(stderr, "klefr-sim: --%s: expected on or off\n", c == 'L' ? "line-timing" : "baud-check");
                return 2;
            }
            if (c == 'L')
                popts.line_timing = on;
            else
                popts.check_baud = on;
            break;
        }
        case 'T': trace_modbus = trace_modbus || strstr(optarg, "modbus") != NULL; break;
        case 'h': usage(stdout); return 0;
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
    if (trace_modbus) {
        sim.trace = trace_stderr;
        sim.trace_arg = NULL;
    } else {
        sim.hal.trace = NULL; /* the firmware formats trace lines only when this is set */
    }
    klefr_ports *ports = klefr_ports_open(&sim, &popts);
    if (!ports && (klefr_model_has_modbus(sim.model) || klefr_model_has_mbus(sim.model)))
        return 1;
    if (ports && sim.nfds)
        klefr_ports_run(&sim, duration_s); /* real time, serving the ports */
    else
        klefr_sim_run_until(&sim, (uint64_t)(duration_s * 1e6));
    klefr_ports_close(ports);
    klefr_sim_power(&sim, false);
    printf("{\"model\": %d, \"t_s\": %.3f}\n", model, (double)sim.t_us / 1e6);
    return 0;
}
