/* One simulated meter: its firmware context on the simulated hardware (AFE,
 * EEPROM, outputs, UARTs on serial lines), fed by the world's loop
 * (world.h: virtual clock, events, host fds). A meter alone has a world of
 * its own; a fleet's meters share one (sim/fleet.h). Deterministic:
 * everything happens at virtual times; host threads only queue events for
 * the loop. */
#ifndef KLEFR_SIM_H
#define KLEFR_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "afe.h"
#include "eeprom.h"
#include "klefr/meter.h"
#include "line.h"
#include "world.h"

typedef struct {
    uint64_t count[KLEFR_OUT_COUNT];      /* pulses emitted */
    uint64_t on_until_us[KLEFR_OUT_COUNT]; /* pin active until (for drawing) */
    uint32_t last_width_us[KLEFR_OUT_COUNT];
    bool backlight;
    klefr_lcd_fb lcd;
} klefr_sim_outputs;

/* One UART of the meter: where a character it received goes, and its
 * settings while no line exists yet. */
typedef struct {
    struct klefr_sim *sim;
    klefr_port port;
    bool has_cfg, pending;
    klefr_uart_cfg cfg;  /* in force */
    klefr_uart_cfg next; /* from next_t on */
    uint64_t next_t;
} klefr_sim_uart;

/* Recent ADC samples kept for the panel's scope (a power of two). */
#define KLEFR_SIM_SCOPE_N 1024u

/* What a meter alone needs besides itself: its own world and the scope
 * ring. A fleet's meters share one world and keep no scope (the window
 * lends its ring to the meter it shows), so sim/fleet.c allocates them
 * without this part: it comes last in klefr_sim, and KLEFR_SIM_SHARED_SIZE
 * is the size of a klefr_sim without it. */
typedef struct {
    klefr_world world;
    int32_t scope_v[KLEFR_SIM_SCOPE_N], scope_i[KLEFR_SIM_SCOPE_N];
} klefr_sim_alone;

typedef struct klefr_sim {
    klefr_meter meter;
    klefr_hal hal;
    klefr_model model;
    uint32_t serial;
    uint64_t t_us; /* virtual time of this meter: slices it has run */
    bool powered;
    bool program_corrupt; /* inject Err 02 at next power-up */
    /* Levels at the terminals and on the front, whatever the supply: what
     * the last events set. The tariff input is seen again at power-up. */
    bool tariff_input;    /* 6922 terminals 12/13: T2 */
    uint8_t buttons;      /* KLEFR_BTN_* held */
    uint64_t button_down_us[2]; /* when each was pressed */
    klefr_afe *afe;
    klefr_eeprom eeprom;
    /* The EEPROM's 64-byte pages written since it was opened (bit k: page
     * k): klefr_sim_unboot erases them, taking back the first power-up's
     * save (docs/nvm.md) without a copy of the image in every meter. */
    uint32_t nvm_written;
    klefr_sim_outputs out;

    /* The serial lines of the ports (NULL: not asked for yet, or the model
     * has no such port) and the meter's UART on each. The meter's replies go
     * on the line; host ports and in-process masters attach to it. A line
     * the sim made is its own (freed by klefr_sim_close); a fleet's shared
     * lines are the fleet's (klefr_sim_join_line). */
    klefr_line *line[KLEFR_PORT_COUNT];
    klefr_line_ep *uart_ep[KLEFR_PORT_COUNT];
    klefr_sim_uart uart[KLEFR_PORT_COUNT];
    bool line_shared[KLEFR_PORT_COUNT];
    /* Added to the start of every reply the firmware queues: a fleet's
     * meters answer with a spread of reaction times, as real ones do (their
     * clocks and firmware loops differ), so two answering at once collide
     * as on a real bus instead of lining up bit for bit. 0 for a meter alone. */
    uint32_t tx_delay_us;

    klefr_world *world; /* the clock, events and fds it runs on */

    /* Called with every button, tariff input and supply event as it is
     * delivered, whoever posted it (a recorder); NULL = none. */
    void (*input_tap)(void *arg, const klefr_sim_event *e);
    void *input_tap_arg;
    /* Pulse tap (scenarios count pulses and their widths); NULL = off. */
    void (*on_pulse)(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us);
    void *on_pulse_arg;

    /* Trace sink; NULL = off. Lines reach it in the order of the times they
     * carry (" t=S.UUUUUU" at the end): the firmware traces a reply when it
     * decides it, at the future time it goes on the wire, so the world holds
     * lines until it has run KLEFR_SIM_TRACE_HOLD_US past their time. */
    void (*trace)(void *arg, const char *line);
    void *trace_arg;

    /* Scope tap: the last KLEFR_SIM_SCOPE_N ADC codes of each channel, a ring
     * indexed by sample number % KLEFR_SIM_SCOPE_N (NULL: not kept);
     * scope_n = samples so far. */
    int32_t *scope_v, *scope_i;
    uint64_t scope_n;

    /* ADC overload: when the AFE's clipped count first and last grew (the
     * panel shows it, klefr-sim warns). */
    bool clip_any;
    uint64_t clip_first_us, clip_last_us, clip_seen;

    klefr_sim_alone alone; /* last (see klefr_sim_alone); only a meter alone has it */
} klefr_sim;

/* The size of a meter in a shared world (without klefr_sim_alone). */
#define KLEFR_SIM_SHARED_SIZE offsetof(klefr_sim, alone)

/* Set up the hardware of a meter alone (in its own world) and power it up
 * at t = 0. eeprom_path NULL = RAM only. Returns 0 or -1 with a message in
 * err. */
int klefr_sim_init(klefr_sim *s, klefr_model model, uint32_t serial, klefr_afe *afe,
                   const char *eeprom_path, char *err, int errlen);
/* The same for a meter that joins a shared world (a fleet) and powers up at
 * its present time. s may be an allocation of KLEFR_SIM_SHARED_SIZE bytes:
 * nothing past that is touched. factory (KLEFR_NVM_SIZE bytes, or NULL) is
 * what a blank EEPROM holds: the settings it was programmed with at the
 * factory; an EEPROM that holds anything keeps it. */
int klefr_sim_init_in(klefr_sim *s, klefr_world *w, klefr_model model, uint32_t serial,
                      klefr_afe *afe, const char *eeprom_path, const uint8_t *factory, char *err,
                      int errlen);
/* Free what init allocated: its own lines (a meter alone: also its world,
 * printing the held trace lines first); a shared line keeps running
 * without it. */
void klefr_sim_close(klefr_sim *s);

/* ---- the world's loop, for a meter (the world of a fleet runs them all) ---- */

/* Advance virtual time by whole slices up to t_end_us. Returns false when the
 * AFE source has ended (a recording ran out). */
bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us);

/* Run the events due by t_us that belong before the current slice's work
 * (never past s->t_us + KLEFR_SIM_SLICE_US): the paced loop calls it as
 * wall time passes, so bytes leave for the host when the wire would hand
 * them over, not at the next slice boundary. */
void klefr_sim_run_events(klefr_sim *s, uint64_t t_us);

/* Print the held trace lines stamped up to t_us (UINT64_MAX: all). */
void klefr_sim_trace_flush(klefr_sim *s, uint64_t t_us);

/* Queue an event (an input event is for this meter). Returns false when the
 * queue is full (event dropped); for input events that is
 * KLEFR_SIM_CALL_RESERVE slots earlier. */
bool klefr_sim_post(klefr_sim *s, const klefr_sim_event *ev);

/* Register a host fd for the real-time loop to poll. Returns 0 or -1 (full). */
int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg);
/* Stop polling fd. */
void klefr_sim_remove_fd(klefr_sim *s, int fd);

/* ---- what the world calls ---- */

typedef enum {
    KLEFR_SLICE_RAN,    /* a whole slice: ADC block, tick */
    KLEFR_SLICE_ENDED,  /* the AFE source ended inside it: its part ran, the last */
    KLEFR_SLICE_NOTHING /* the AFE source had ended before: nothing ran */
} klefr_sim_slice_result;

/* The meter's work for the slice starting at t0_us: its ADC block, then
 * the tick at its end (s->t_us becomes t0_us + KLEFR_SIM_SLICE_US). */
klefr_sim_slice_result klefr_sim_slice(klefr_sim *s, uint64_t t0_us);
/* An input event for this meter, delivered at its time. */
void klefr_sim_deliver(klefr_sim *s, const klefr_sim_event *e);

/* A copy of a meter alone with its world (the events queued), to go back
 * to (a tour's Back). The host side (fds, trace lines waiting) is not part
 * of it: a restore keeps what is there now. NULL: out of memory, or a meter
 * in a shared world (no going back there). */
typedef struct klefr_sim_copy klefr_sim_copy;
klefr_sim_copy *klefr_sim_copy_save(const klefr_sim *s);
void klefr_sim_copy_restore(klefr_sim *s, const klefr_sim_copy *c);
void klefr_sim_copy_free(klefr_sim_copy *c);

/* The scope ring the meter records into from now on (both NULL: none);
 * the ring is cleared. */
void klefr_sim_set_scope(klefr_sim *s, int32_t *v, int32_t *i);

/* Cut or restore the supply. A cut raises the supply monitor interrupt; a
 * restore boots the firmware, which then reads the tariff input level. */
void klefr_sim_power(klefr_sim *s, bool on);

/* The LCD as one line of text, "FW kWh | 0.00 | TOTAL" (icons | middle row
 * | lower row), as --lcd-text prints it and scenarios compare it. */
size_t klefr_lcd_text_line(const klefr_lcd_fb *fb, char *buf, size_t size);

/* The levels at the front and the terminals, set as a delivered event sets
 * them (the event loop and scenario actions call these): the level is kept
 * (the panel draws it, a power-up hands it to the firmware), the firmware
 * is told if it is powered, and input_tap hears it. */
void klefr_sim_buttons(klefr_sim *s, uint8_t held, uint64_t t_us);
void klefr_sim_tariff_input(klefr_sim *s, bool t2, uint64_t t_us);

/* Undo the power-up of klefr_sim_init (its power-up save and count gone:
 * the pages it wrote are erased, so the newest image is again the one the
 * EEPROM was opened with; the copy it wrote over was the older one, which
 * that power-up replaces anyway), for a caller that powers the meter up
 * again at once as if for the first time (a scenario's factory image, a
 * fault injected before the meter ran). The meter must be powered up next. */
void klefr_sim_unboot(klefr_sim *s);

/* Faults a test bench injects (--fault, scenario events). */
typedef enum {
    KLEFR_FAULT_PROGRAM_CRC, /* Err 02: the program memory's checksum reads wrong */
    KLEFR_FAULT_COUNT
} klefr_sim_fault;

const char *klefr_sim_fault_to_str(klefr_sim_fault f);
/* The fault named s ("program-crc"), or -1. */
int klefr_sim_fault_parse(const char *s);
/* Inject a fault from now on. The firmware checks its program at power-up:
 * Err 02 shows from the next power-up, or at once before the meter has run
 * at all (t = 0: it boots again, nothing is saved or counted). */
void klefr_sim_inject(klefr_sim *s, klefr_sim_fault f);
/* The virtual serial line of a port (sim/line.h) and the meter's UART on
 * it; NULL for a port the model does not have (or out of memory). Made on
 * the first call (klefr_sim_close frees it); until then the meter's replies
 * go nowhere. Attach masters to the line: host ports (sim/ports.c), tests
 * and scenario steps alike. */
klefr_line *klefr_sim_line(klefr_sim *s, klefr_port port);
klefr_line_ep *klefr_sim_uart_ep(klefr_sim *s, klefr_port port);
/* The model has this port (every model the optical port; the 6923 and
 * 6924 the bus port). */
bool klefr_sim_has_port(klefr_model model, klefr_port port);
/* A line clock (line.h) on the world's event queue. */
klefr_line_clock klefr_world_line_clock(klefr_world *w);
/* Put the meter's UART of port on a line someone else owns (a fleet's bus),
 * named name for the monitor. 0, or -1 (no such port, one already, no
 * memory). */
int klefr_sim_join_line(klefr_sim *s, klefr_port port, klefr_line *line, const char *name);

#endif
