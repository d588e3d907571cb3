/* Serial steps of scenarios (docs/scenarios.md, "Serial steps"): an
 * in-process master on a port's line that sends requests at virtual times
 * and decodes the replies as a real master would, and the `reply`
 * expectation that checks them. Private to the scenario engine.
 *
 *   scenario_serial.c         what the step kinds share (common keys, port,
 *                             duration bound), decoded records, `send`
 *   scenario_master.c         the master per port (queue, exchanges,
 *                             timeouts), traces, the report's records
 *   scenario_reply.c          the `reply` expectation: hex pattern, field,
 *                             timing
 *   scenario_decode_modbus.c  Modbus RTU master: the manual's register map,
 *                             requests, replies
 *   scenario_decode_mbus.c    M-bus master: frames, RSP_UD records (DIF/VIF)
 *   scenario_decode_iec.c     IEC 62056-21 master: sign-on, readout, R1/W1
 *
 * The decoders are a master's view, written from the manual and the
 * standards; they share only the pure check helpers (CRC, checksum, BCC)
 * with the firmware, never its slaves or maps. */
#ifndef KLEFR_SIM_SCENARIO_SERIAL_H
#define KLEFR_SIM_SCENARIO_SERIAL_H

#include "scenario_priv.h"

/* ---- a decoded reply ---------------------------------------------------- */

typedef enum {
    KLEFR_SCN_ST_PENDING = 0, /* not sent yet or still running */
    KLEFR_SCN_ST_NONE,        /* no byte came within the timeout */
    KLEFR_SCN_ST_OK,          /* a valid reply (data, echo, RSP_UD, identification) */
    KLEFR_SCN_ST_ACK,         /* M-bus E5, IEC ACK */
    KLEFR_SCN_ST_NAK,         /* IEC NAK */
    KLEFR_SCN_ST_ERROR,       /* IEC (ERROR) */
    KLEFR_SCN_ST_EXCEPTION,   /* Modbus exception */
    KLEFR_SCN_ST_BAD          /* bytes that are not a valid reply (check, framing, cut off) */
} klefr_scn_status;

const char *klefr_scn_status_to_str(klefr_scn_status st);

/* One decoded value of a reply: "voltage", "0x5000", "1.8.0", "record.2". */
typedef struct {
    char name[40];
    bool has_num;
    double num;
    char text[72]; /* as sent ("230.0*V"), or the number as text */
    char unit[12];
    bool alias; /* another name of a value already there ("0x5000"): not traced or reported */
} klefr_scn_field;

/* One request and what came back. Times are ends of stop bits. */
#define KLEFR_SCN_XMAX 6
typedef struct {
    uint8_t *req, *rep;
    size_t nreq, nrep, caprep;
    uint8_t rep_flags;            /* KLEFR_RX_ERR_* of any reply byte */
    uint64_t req_t0, req_t1;      /* request on the wire: start, end */
    uint64_t first_us, last_us;   /* first and last reply byte; 0: none */
    uint64_t max_gap_us;          /* largest idle between reply characters */
    uint32_t char_us;             /* the master's character time */
    uint64_t lim_min, lim_max;    /* the protocol's window for the reply's start */
    uint64_t lim_gap;             /* and its largest idle inside a reply */
} klefr_scn_xchg;

/* A step's run: its exchanges, status and fields. */
typedef struct {
    int ev;                  /* the occurrence: index into klefr_scn.ev */
    uint64_t t_us, done_us;  /* started, finished */
    klefr_scn_status status;
    char why[120];           /* what went wrong, for messages */
    klefr_scn_xchg x[KLEFR_SCN_XMAX];
    int nx;
    klefr_scn_field *f;
    size_t nf, capf;
} klefr_scn_xrec;

void klefr_scn_xrec_clear(klefr_scn_xrec *r);
/* Add a field (number and/or text); a name already there is replaced. */
klefr_scn_field *klefr_scn_field_num(klefr_scn_xrec *r, const char *name, double num,
                                     const char *unit);
klefr_scn_field *klefr_scn_field_text(klefr_scn_xrec *r, const char *name, const char *text);
const klefr_scn_field *klefr_scn_field_find(const klefr_scn_xrec *r, const char *name);
/* The last exchange (the reply a hex pattern is matched against). */
const klefr_scn_xchg *klefr_scn_xrec_last(const klefr_scn_xrec *r);

/* ---- steps -------------------------------------------------------------- */

struct klefr_scn_master;
typedef struct klefr_scn_serial klefr_scn_serial;

/* A protocol as a master sees it. */
typedef struct {
    const char *name; /* "modbus", "mbus", "iec": trace prefix, port name */
    bool text;        /* frames are text: traced as such (IEC) */
    /* The master's patience at format f: to the first byte, between bytes. */
    uint64_t (*first_timeout)(const klefr_uart_cfg *f);
    uint64_t (*gap_timeout)(const klefr_uart_cfg *f);
    /* Reply bytes so far are a whole frame (nothing more to wait for). */
    bool (*complete)(const uint8_t *b, size_t n);
    /* The standard's window for the start of a reply to a request that
     * ended, and the largest idle inside it ("timing": "limits"). */
    void (*limits)(const struct klefr_scn_master *m, const klefr_uart_cfg *f, uint64_t *min_us,
                   uint64_t *max_us, uint64_t *gap_us);
} klefr_scn_proto;

extern const klefr_scn_proto klefr_scn_modbus, klefr_scn_mbus, klefr_scn_iec;

/* What a step kind does (one per event kind; tables in the decode files). */
typedef struct {
    const char *kind;             /* "modbus_read" */
    const klefr_scn_proto *proto; /* NULL: the port's (send) */
    /* Its own fields (after the common step fields are read). */
    int (*parse)(klefr_scn_pctx *c, const cJSON *o, const char *path, klefr_scn_serial *st);
    /* The request of exchange n (0 first) into out (room for
     * KLEFR_SCN_REQ_MAX); 0 = the step is done. *delay_us: wait this long
     * after the previous reply first (IEC's reaction time). */
    size_t (*request)(struct klefr_scn_master *m, const klefr_scn_serial *st, int n, uint8_t *out,
                      uint64_t *delay_us);
    /* Decode exchange n into rec (status, fields); false: stop the step. */
    bool (*decode)(struct klefr_scn_master *m, const klefr_scn_serial *st, int n,
                   klefr_scn_xrec *rec);
    /* Is name a field this step's reply can have? (parse time; NULL: any) */
    bool (*has_field)(const klefr_scn_serial *st, const char *name);
    /* A generous bound on the step's duration (the run's default length). */
    uint64_t (*span)(const klefr_scn_serial *st);
} klefr_scn_op;

#define KLEFR_SCN_REQ_MAX 300
#define KLEFR_SCN_MB_REGS 125

struct klefr_scn_serial {
    klefr_scn_serial *next; /* the scenario's list */
    char name[64];
    int line, first_ev, nocc; /* file line; its occurrences in klefr_scn.ev */
    const klefr_scn_op *op;
    const klefr_scn_proto *proto;
    klefr_port port;
    /* the master's format: 0 / -1 = the meter's at the step's start */
    uint32_t baud;
    int parity, data_bits;
    uint32_t span_baud;  /* the baud its duration bound assumes (span) */
    uint64_t timeout_us; /* 0: the protocol's */
    int address;         /* Modbus slave, M-bus primary; -1: the meter's */
    /* what to send (per kind) */
    uint8_t raw[KLEFR_SCN_REQ_MAX]; /* send: the bytes; M-bus: the record / selection */
    size_t nraw;
    int fc;                          /* Modbus function */
    uint16_t reg, count;             /* Modbus register and count */
    uint16_t regs[KLEFR_SCN_MB_REGS]; /* Modbus values to write */
    int sel;                         /* M-bus: FCB (-1 alternate), write row */
    char code[40], value[64];        /* IEC: address and value; sign-on device address */
    char password[16];
    uint32_t session_baud;           /* IEC option select (0: the offered) */
    /* results of the run */
    klefr_scn_xrec last;             /* the last finished run */
    bool has_last;
    bool busy;                       /* an occurrence queued or running */
    size_t nrec;                     /* report records kept */
    struct cJSON **rec;              /* per occurrence (the first KLEFR_SCN_REC_MAX) */
};
#define KLEFR_SCN_REC_MAX 500

/* A hex pattern byte: (byte & mask) == val; run: any number of bytes (".."). */
typedef struct {
    uint8_t val, mask;
    bool run;
} klefr_scn_hexpat;
/* "01 03 2C ?? .." (spaces optional between bytes; wild: `?` nibbles and
 * `..` allowed) into out[max]; -1 with why for bad text. */
int klefr_scn_hex_parse(const char *text, bool wild, klefr_scn_hexpat *out, size_t max,
                        size_t *n, char *why, size_t whylen);

/* Helpers of the decoders. */
/* A bound on a step's duration: bytes on the wire at its baud (its own, or
 * the meter's at the start; 300 for the optical port), and the master's
 * wait for each exchange. */
uint64_t klefr_scn_span(const klefr_scn_serial *st, size_t bytes, int exchanges);
void klefr_scn_hex_text(const uint8_t *b, size_t n, char *out, size_t size);
/* As text, control characters named: "<SOH>R1<STX>C.90.1()<ETX><18>". */
void klefr_scn_ascii_text(const uint8_t *b, size_t n, char *out, size_t size);
/* "9600 8E1" */
void klefr_scn_fmt_text(const klefr_uart_cfg *f, char *out, size_t size);
/* The meter under test (defaults of addresses and formats). */
const klefr_meter *klefr_scn_master_meter(const struct klefr_scn_master *m);
/* Per port memory of the master: M-bus FCB, IEC identification. */
bool *klefr_scn_master_fcb(struct klefr_scn_master *m);
char *klefr_scn_master_ident(struct klefr_scn_master *m); /* 40 bytes */
/* Switch the master to baud once the request being built is out (IEC's
 * baud changeover after the option select). */
void klefr_scn_master_switch(struct klefr_scn_master *m, uint32_t baud);
/* A master-side trace line "<proto>: [name] text t=..". */
void klefr_scn_master_trace(struct klefr_scn_master *m, uint64_t t_us, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Kinds (scenario_decode_*.c) and their keys (the events table's rows). */
#define KLEFR_SCN_STEP_KEYS "name", "port", "baud", "parity", "data_bits", "timeout"
extern const char *const klefr_scn_f_send[], *const klefr_scn_f_modbus_read[],
    *const klefr_scn_f_modbus_write[], *const klefr_scn_f_mbus_req_ud2[],
    *const klefr_scn_f_mbus_snd_nke[], *const klefr_scn_f_mbus_select[],
    *const klefr_scn_f_mbus_write[], *const klefr_scn_f_iec_sign_on[],
    *const klefr_scn_f_iec_readout[], *const klefr_scn_f_iec_r1[], *const klefr_scn_f_iec_w1[],
    *const klefr_scn_f_iec_b0[];
extern const klefr_scn_op klefr_scn_op_send, klefr_scn_op_modbus_read, klefr_scn_op_modbus_write,
    klefr_scn_op_mbus_req_ud2, klefr_scn_op_mbus_snd_nke, klefr_scn_op_mbus_select,
    klefr_scn_op_mbus_write, klefr_scn_op_iec_sign_on, klefr_scn_op_iec_readout,
    klefr_scn_op_iec_r1, klefr_scn_op_iec_w1, klefr_scn_op_iec_b0;

/* Decoding a reply of a port's protocol when the request is raw (send);
 * the IEC one remembers an identification in m (may be NULL). */
bool klefr_scn_modbus_decode_any(const uint8_t *req, size_t nreq, klefr_scn_xrec *rec,
                                 klefr_scn_xchg *x);
bool klefr_scn_mbus_decode_any(klefr_scn_xrec *rec, const klefr_scn_xchg *x);
bool klefr_scn_iec_decode_any(struct klefr_scn_master *m, klefr_scn_xrec *rec,
                              const klefr_scn_xchg *x);

/* Modbus register names (the manual's A3.2 map, the master's copy). */
int klefr_scn_modbus_reg_find(const char *name, uint16_t *addr, int *len);

/* ---- the steps' hooks into the engine ------------------------------------ */

/* Parse a serial step (every kind: the events table's parse for them). */
int klefr_scn_serial_parse(klefr_scn_pctx *c, const cJSON *o, const char *path,
                         klefr_scn_event *ev);
void klefr_scn_serial_act(klefr_scn_play *r, const klefr_scn_event *ev, uint64_t t_us);
klefr_scn_serial *klefr_scn_serial_find(const klefr_scn *s, const char *name);

/* The reply expectation (scenario_reply.c): a row of the expectations table,
 * and the check of every reply of a step as it finishes. */
extern const char *const klefr_scn_f_reply[];
int klefr_scn_reply_parse(klefr_scn_pctx *c, const cJSON *o, const char *path,
                          klefr_scn_expect *e);
bool klefr_scn_reply_holds(klefr_scn_play *r, klefr_scn_expect *e);
void klefr_scn_reply_done(klefr_scn_play *r, klefr_scn_serial *st, uint64_t t_us);
void klefr_scn_replies_start(klefr_scn *s); /* a new run */

#endif
