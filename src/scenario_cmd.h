/* The "scenario" subcommand of klefr-sim (docs/scenarios.md). */
#ifndef KLEFR_SCENARIO_CMD_H
#define KLEFR_SCENARIO_CMD_H

/* argv[0] is "scenario". Returns the exit status. */
int klefr_scenario_main(int argc, char **argv);

#endif
