/* IEC 62056-21 (IEC 1107) optical port slave engine, mode C, of every model
 * (manual 5.3, appendix 4): sign-on, identification, option select, readout
 * and programming mode. It sees the meter only through klefr_iec_view (the
 * data items, address, password, the optical UART); the items are in
 * iec62056_map.c, the view's callbacks in slave_views.c. Choices:
 * docs/protocols/iec62056-21.md. */
#ifndef KLEFR_IEC62056_H
#define KLEFR_IEC62056_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"
#include "proto/trace_text.h"

/* Control characters of the protocol. */
enum {
    KLEFR_IEC_SOH = 0x01,
    KLEFR_IEC_STX = 0x02,
    KLEFR_IEC_ETX = 0x03,
    KLEFR_IEC_EOT = 0x04,
    KLEFR_IEC_ACK = 0x06,
    KLEFR_IEC_NAK = 0x15
};

/* Identification: manufacturer "KLF" (upper-case third letter: reaction
 * time 200 ms), baud character '5' (mode C, up to 9600 baud). */
#define KLEFR_IEC_MANUFACTURER "KLF"
#define KLEFR_IEC_BAUD_CHAR '5'
#define KLEFR_IEC_START_BAUD 300u
/* Reaction time before every meter message: IEC 62056-21 allows 200 ms to
 * 1500 ms, or from 20 ms when the identification's third letter is lower
 * case; the meter takes the minimum its identification promises. */
#define KLEFR_IEC_REACTION_US                                                                    \
    (KLEFR_IEC_MANUFACTURER[2] >= 'a' && KLEFR_IEC_MANUFACTURER[2] <= 'z' ? 20000u : 200000u)
/* No option select this long after the identification left: back to idle. */
#define KLEFR_IEC_ACK_TIMEOUT_US 5000000u
/* Programming mode without any traffic this long: back to idle. */
#define KLEFR_IEC_INACTIVITY_US 120000000u
/* The communication icon stays lit this long after traffic. */
#define KLEFR_IEC_ICON_US 1000000u

#define KLEFR_IEC_BUF 128   /* one received message */
#define KLEFR_IEC_LAST 96   /* the last programming reply (NAK repeats it) */
/* The readout is written in pieces of this size, back to back: the RAM it
 * needs stays fixed however many data lines the table grows. */
#define KLEFR_IEC_CHUNK 128
#define KLEFR_IEC_VALUE 24  /* longest value text, unit included */

typedef enum {
    KLEFR_IEC_IDLE = 0,    /* 300 baud, waiting for a sign-on /?..! */
    KLEFR_IEC_IDENTIFIED,  /* identification sent, waiting for ACK 0 Z Y */
    KLEFR_IEC_READOUT,     /* data message going out at the new baud */
    KLEFR_IEC_PROGRAMMING, /* P0 sent: P1, R1, W1, B0 at the new baud */
    KLEFR_IEC_STATE_COUNT
} klefr_iec_state;

/* What the slave sees of the meter. Every callback gets arg first; those up
 * to write are required, the others may be NULL. */
typedef struct {
    void *arg;
    /* Identification after "/KLF5" (e.g. "KLEFR6924"). */
    const char *ident;
    /* The meter address (8 serial digits) into out, NUL-terminated. */
    void (*address)(void *arg, char out[9]);
    /* The password programming mode's P1 must give (0..9999). */
    uint32_t (*password)(void *arg);
    /* The data readout, line by line: the line at cursor *pos (0 first),
     * its address and value text (< KLEFR_IEC_VALUE, unit after '*');
     * advances *pos; false after the last line. */
    bool (*readout)(void *arg, size_t *pos, const char **code, char *value);
    /* Programming mode R1 / W1 of the item at addr[0..alen): false refuses
     * it ((ERROR)). A read of a password-protected item needs logged_in; a
     * write is only asked for when logged in, and names the item written
     * (trace). */
    bool (*read)(void *arg, const char *addr, size_t alen, bool logged_in, char *value);
    bool (*write)(void *arg, const char *addr, size_t alen, const char *value, uint64_t t_us,
                  const char **name);
    /* The optical UART: bytes queued from t_us; new settings from t_us. NULL:
     * no line. */
    void (*uart_write)(void *arg, const uint8_t *d, size_t n, uint64_t t_us);
    void (*uart_config)(void *arg, const klefr_uart_cfg *cfg, uint64_t t_us);
    /* Traffic for this meter until end_us (the communication icon). */
    void (*frame_for_me)(void *arg, uint64_t end_us);
    klefr_trace_sink trace; /* fn NULL: tracing off */
} klefr_iec_view;

typedef struct {
    klefr_iec_view view;
    klefr_iec_state state;
    uint8_t buf[KLEFR_IEC_BUF]; /* the message being received (bit 7 stripped) */
    uint16_t len;
    bool bad;                     /* a byte of it had a UART error */
    bool in_msg;                  /* programming: SOH seen */
    bool want_bcc;                /* programming: ETX seen, the BCC byte comes next */
    uint8_t last[KLEFR_IEC_LAST]; /* last programming reply, for NAK */
    uint16_t last_len;
    bool logged_in;     /* P1 with the right password */
    uint32_t baud;      /* the port's baud now */
    uint32_t next_baud; /* applied once the line is idle (cfg_pending) */
    bool cfg_pending;
    uint64_t tx_end_us;  /* end of the meter's last message on the line */
    uint64_t last_us;    /* last traffic (inactivity timeout) */
    uint32_t sessions;   /* option selects accepted */
    uint32_t bcc_errors; /* programming messages with a bad BCC */
    uint32_t dropped;    /* junk bytes, UART errors, overflows */
} klefr_iec;

/* Start the slave with its view (copied): idle at 300 baud. */
void klefr_iec_init(klefr_iec *s, const klefr_iec_view *view, uint64_t t_us);
void klefr_iec_rx(klefr_iec *s, uint8_t byte, uint8_t flags, uint64_t t_us);
/* Call at least every 10 ms: timeouts, the end of a readout. */
void klefr_iec_tick(klefr_iec *s, uint64_t t_us);

const char *klefr_iec_state_to_str(klefr_iec_state st);

/* BCC: XOR of the bytes after the first SOH or STX up to and including ETX
 * (pass exactly those bytes). */
uint8_t klefr_iec_bcc(const uint8_t *data, size_t len);

/* Baud rate of a mode C baud character '0'..'6'; 0 for another character. */
uint32_t klefr_iec_baud_of(char z);

#endif
