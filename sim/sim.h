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

/* Something that happens at a virtual time: delivered by the loop, in time
 * order (ties in posting order), before the slice that starts at or after it. */
typedef enum {
    KLEFR_EV_UART_RX,      /* port, byte, flags */
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

/* Host file descriptors (ptys, serial ports) the real-time loop waits on. */
typedef struct {
    int fd;
    void (*ready)(void *arg, uint64_t t_us); /* called from the loop when readable */
    void *arg;
} klefr_sim_fd;

#define KLEFR_SIM_MAX_FDS 8

/* Recent ADC samples kept for the panel's scope (a power of two). */
#define KLEFR_SIM_SCOPE_N 1024u

typedef struct klefr_sim {
    klefr_meter meter;
    klefr_hal hal;
    klefr_model model;
    uint32_t serial;
    uint64_t t_us; /* virtual time now */
    bool powered;
    bool program_corrupt; /* inject Err 02 at next power-up */
    klefr_afe *afe;
    klefr_eeprom eeprom;
    klefr_sim_outputs out;
    klefr_uart_cfg uart_cfg[KLEFR_PORT_COUNT];

    /* Where bytes the meter sends go (the serial layer); NULL = dropped. */
    void (*uart_tx)(void *arg, klefr_port port, const uint8_t *data, size_t len, uint64_t t_us);
    void *uart_tx_arg;
    /* Pending events: a binary heap on (t_us, seq). */
    klefr_sim_event ev[KLEFR_SIM_MAX_EVENTS];
    size_t nev;
    uint64_t ev_seq;
    klefr_sim_fd fds[KLEFR_SIM_MAX_FDS];
    int nfds;

    /* Pulse tap (scenarios count pulses and their widths); NULL = off. */
    void (*on_pulse)(void *arg, klefr_output out, uint64_t t_us, uint32_t width_us);
    void *on_pulse_arg;

    /* Trace sink; NULL = off. */
    void (*trace)(void *arg, const char *line);
    void *trace_arg;

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

/* Advance virtual time by whole slices up to t_end_us. Returns false when the
 * AFE source has ended (a recording ran out). */
bool klefr_sim_run_until(klefr_sim *s, uint64_t t_end_us);

/* Queue an event. Returns false when the queue is full (event dropped);
 * for input events that is KLEFR_SIM_CALL_RESERVE slots earlier. */
bool klefr_sim_post(klefr_sim *s, const klefr_sim_event *ev);

/* Register a host fd for the real-time loop to poll. Returns 0 or -1 (full). */
int klefr_sim_add_fd(klefr_sim *s, int fd, void (*ready)(void *arg, uint64_t t_us), void *arg);

/* Cut or restore the supply. A cut raises the supply monitor interrupt. */
void klefr_sim_power(klefr_sim *s, bool on);

#endif
