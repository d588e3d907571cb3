/* The simulated meter hardware: virtual clock, AFE, EEPROM, outputs, and the
 * loop that feeds the firmware. Deterministic: everything happens at virtual
 * times; host threads only queue events for the loop. */
#ifndef KLEFR_SIM_H
#define KLEFR_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "afe.h"
#include "eeprom.h"
#include "klefr/meter.h"
#include "line.h"

/* Length of one loop slice: ADC block and tick period. */
#define KLEFR_SIM_SLICE_US 10000u
#define KLEFR_SIM_SLICE_SAMPLES (KLEFR_SIM_SLICE_US / KLEFR_TS_US)

typedef struct {
    uint64_t count[KLEFR_OUT_COUNT];      /* pulses emitted */
    uint64_t on_until_us[KLEFR_OUT_COUNT]; /* pin active until (for drawing) */
    uint32_t last_width_us[KLEFR_OUT_COUNT];
    bool backlight;
    klefr_lcd_fb lcd;
} klefr_sim_outputs;

/* Something that happens at a virtual time: delivered by the loop in time
 * order (ties in posting order). An event at t runs before the work of the
 * slice that holds t (its ADC block and the tick at its end), so the
 * firmware sees inputs and ticks in time order; the paced loop may run it
 * early in wall time (as soon as its virtual time has come), which changes
 * nothing about that order. */
typedef enum {
    KLEFR_EV_UART_RX,      /* port, byte, flags: straight to the firmware,
                              bypassing the line (prefer klefr_line_send) */
    KLEFR_EV_BUTTONS,      /* held mask in byte */
    KLEFR_EV_TARIFF_INPUT, /* byte != 0: T2 */
    KLEFR_EV_POWER,        /* byte != 0: supply on */
    KLEFR_EV_CALL          /* fn(arg, t_us): sim-side changes (load, AFE, ...) */
} klefr_sim_event_kind;

typedef struct {
    uint64_t t_us;
    uint64_t seq; /* set by klefr_sim_post */
    klefr_sim_event_kind kind;
    uint8_t port;
    uint8_t byte;
    uint8_t flags;
    void (*fn)(void *arg, uint64_t t_us);
    void *arg;
} klefr_sim_event;

#define KLEFR_SIM_MAX_EVENTS 8192
/* The last slots of the queue take only KLEFR_EV_CALL events: a flood of
 * input (a master writing faster than the line) loses bytes, never the
 * sim's own self-rescheduling work (profile boundaries, --lcd-text). */
#define KLEFR_SIM_CALL_RESERVE 256

/* Host file descriptors (ptys, serial ports, sockets) the loop waits on. */
typedef struct {
    int fd;
    void (*ready)(void *arg, uint64_t t_us); /* called from the loop when readable */
    void *arg;
} klefr_sim_fd;

#define KLEFR_SIM_MAX_FDS 40

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

/* Trace lines waiting to be printed in time order (see klefr_sim.trace). */
typedef struct {
    uint64_t t_us;
    uint64_t seq;
    char *text;
} klefr_sim_trace_line;

/* Recent ADC samples kept for the panel's scope (a power of two). */
#define KLEFR_SIM_SCOPE_N 1024u

/* How long a trace line waits for earlier-stamped ones (virtual time). */
#define KLEFR_SIM_TRACE_HOLD_US 100000u

typedef struct klefr_sim {
    klefr_meter meter;
    klefr_hal hal;
    klefr_model model;
    uint32_t serial;
    uint64_t t_us; /* virtual time now */
    bool powered;
    bool program_corrupt; /* inject Err 02 at next power-up */
    /* Levels at the terminals and on the front, whatever the supply: what
     * the last events set. The tariff input is seen again at power-up. */
    bool tariff_input;    /* 6922 terminals 12/13: T2 */
    uint8_t buttons;      /* KLEFR_BTN_* held */
    uint64_t button_down_us[2]; /* when each was pressed */
    klefr_afe *afe;
    klefr_eeprom eeprom;
    /* The EEPROM as opened, before the first power-up wrote its power-up save
     * (docs/nvm.md): klefr_sim_unboot puts it back. */
    uint8_t nvm_at_open[KLEFR_NVM_SIZE];
    klefr_sim_outputs out;

    /* The serial lines of the ports (NULL: not asked for yet, or the model
     * has no such port) and the meter's UART on each. The meter's replies go
     * on the line; host ports and in-process masters attach to it. */
    klefr_line *line[KLEFR_PORT_COUNT];
    klefr_line_ep *uart_ep[KLEFR_PORT_COUNT];
    klefr_sim_uart uart[KLEFR_PORT_COUNT];
    /* Pending events: a binary heap on (t_us, seq). */
    klefr_sim_event ev[KLEFR_SIM_MAX_EVENTS];
    size_t nev;
    uint64_t ev_seq;
    uint64_t ev_done_us; /* events up to here have run */
    klefr_sim_fd fds[KLEFR_SIM_MAX_FDS];
    int nfds;

    /* Called with every button, tariff input and supply event as it is
     * delivered, whoever posted it (a recorder); NULL = none. */
    void (*input_tap)(void *arg, const klefr_sim_event *e);
    void *input_tap_arg;
    /* Pulse tap (scenarios count pulses and their widths); NULL = off. */
    void (*on_pulse)(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us);
    void *on_pulse_arg;

    /* Trace sink; NULL = off. Lines reach it in the order of the times they
     * carry (" t=S.UUUUUU" at the end): the firmware traces a reply when it
     * decides it, at the future time it goes on the wire, so lines wait
     * until the sim has run KLEFR_SIM_TRACE_HOLD_US past their time. */
    void (*trace)(void *arg, const char *line);
    void *trace_arg;
    klefr_sim_trace_line *trace_q;
    size_t trace_n, trace_cap;
    uint64_t trace_seq;

    /* Scope tap: the last KLEFR_SIM_SCOPE_N ADC codes of each channel, a ring
     * indexed by sample number % KLEFR_SIM_SCOPE_N; scope_n = samples so far. */
    int32_t scope_v[KLEFR_SIM_SCOPE_N], scope_i[KLEFR_SIM_SCOPE_N];
    uint64_t scope_n;

    /* ADC overload: when the AFE's clipped count first and last grew (the
     * panel shows it, klefr-sim warns). */
    bool clip_any;
    uint64_t clip_first_us, clip_last_us, clip_seen;
} klefr_sim;

/* Set up the hardware and power the meter up at t = 0. eeprom_path NULL =
 * RAM only. Returns 0 or -1 with a message in err. */
int klefr_sim_init(klefr_sim *s, klefr_model model, uint32_t serial, klefr_afe *afe,
                   const char *eeprom_path, char *err, int errlen);
/* Free what init allocated (the lines, held trace lines: printed first). */
void klefr_sim_close(klefr_sim *s);

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

/* Queue an event. Returns false when the queue is full (event dropped);
 * for input events that is KLEFR_SIM_CALL_RESERVE slots earlier. */
bool klefr_sim_post(klefr_sim *s, const klefr_sim_event *ev);

/* Register a host fd for the real-time loop to poll. Returns 0 or -1 (full). */
int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg);
/* Stop polling fd. */
void klefr_sim_remove_fd(klefr_sim *s, int fd);

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

/* Undo the power-up of klefr_sim_init (the EEPROM as it was opened: the
 * power-up save and its count gone), for a caller that powers the meter up
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

#endif
