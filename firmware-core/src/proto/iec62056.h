/* IEC 62056-21 (IEC 1107) optical port slave, mode C, of every model
 * (manual 5.3, appendix 4). Choices: docs/protocols/iec62056-21.md. */
#ifndef KLEFR_IEC62056_H
#define KLEFR_IEC62056_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"

struct klefr_meter;

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

typedef struct {
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

void klefr_iec_init(struct klefr_meter *m, uint64_t t_us);
void klefr_iec_rx(struct klefr_meter *m, uint8_t byte, uint8_t flags, uint64_t t_us);
void klefr_iec_tick(struct klefr_meter *m, uint64_t t_us);

const char *klefr_iec_state_to_str(klefr_iec_state st);

/* BCC: XOR of the bytes after the first SOH or STX up to and including ETX
 * (pass exactly those bytes). */
uint8_t klefr_iec_bcc(const uint8_t *data, size_t len);

/* Baud rate of a mode C baud character '0'..'6'; 0 for another character. */
uint32_t klefr_iec_baud_of(char z);

/* ---- iec62056_map.c: the data items, one row per data line ---- */
enum {
    KLEFR_IEC_F_READOUT = 0x01, /* in the data readout */
    KLEFR_IEC_F_TARIFF = 0x02,  /* only on models with two tariffs */
    KLEFR_IEC_F_LOGIN = 0x04    /* R1 needs the password too */
};

/* Results of a write. */
typedef enum { KLEFR_IEC_W_OK = 0, KLEFR_IEC_W_BAD_VALUE, KLEFR_IEC_W_READ_ONLY } klefr_iec_wres;

typedef struct {
    const char *code; /* address: OBIS short form or C.90.n (manufacturer) */
    uint8_t flags;
    /* Value text as in the data line, unit after '*' (at most KLEFR_IEC_VALUE-1). */
    void (*get)(const struct klefr_meter *m, char *out);
    /* Parse and store; NULL = read only. */
    klefr_iec_wres (*set)(struct klefr_meter *m, const char *value, uint64_t t_us);
    const char *name; /* for traces and docs */
} klefr_iec_item;

extern const klefr_iec_item klefr_iec_items[];
extern const size_t klefr_iec_items_len;

/* The item of an address on this model, NULL if none. */
const klefr_iec_item *klefr_iec_find(const struct klefr_meter *m, const char *code, size_t len);
bool klefr_iec_item_on_model(const struct klefr_meter *m, const klefr_iec_item *it);

/* The 8 serial digits (the meter address), NUL-terminated. */
void klefr_iec_serial_text(const struct klefr_meter *m, char out[9]);

#endif
