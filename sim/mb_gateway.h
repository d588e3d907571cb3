/* A Modbus TCP to RTU gateway in front of an RS-485 line, as the gateways
 * sold for these meters behave (docs/fleet.md, "The gateway"):
 *
 *   TCP client  --MBAP: tid pid len unit PDU-->  gateway  --RTU: unit PDU CRC, line timing-->  meters
 *               <--MBAP: tid 0 len unit reply--           <--RTU reply (byte by byte)--
 *
 * One request on the line at a time: requests from every client (up to
 * KLEFR_MBGW_MAX_CLIENTS at once) wait in one queue in the order they
 * arrived; the gateway sends the next one t3.5 after the line went quiet.
 * A reply is the first RTU frame from the unit addressed with a good CRC
 * and the request's function code (or its exception); when none has come
 * timeout_ms after the request's last byte, the client gets exception 0x0B
 * (gateway target device failed to respond). Unit 0 is a broadcast: the
 * frame goes on the line, nobody answers, the client gets no reply (Modbus
 * TCP), and the next request waits KLEFR_MBGW_BROADCAST_US. A queue that is
 * full answers 0x06 (server busy). Everything happens at virtual times on
 * the world's event queue: the same requests at the same times give the
 * same replies. */
#ifndef KLEFR_SIM_MB_GATEWAY_H
#define KLEFR_SIM_MB_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "world.h"

#define KLEFR_MBGW_MAX_CLIENTS 16   /* TCP connections at once (a 17th is refused) */
#define KLEFR_MBGW_QUEUE 64         /* requests waiting for the line */
#define KLEFR_MBGW_BROADCAST_US 100000u /* after a broadcast, before the next request */
/* Response timeout by default: from the end of the request to the first
 * byte of the reply (a reply that has started is let finish). Shorter than
 * the masters' own (mbpoll 1 s, pymodbus 3 s), so they see 0x0B. */
#define KLEFR_MBGW_TIMEOUT_MS 500u

typedef struct klefr_mbgw klefr_mbgw;

typedef struct {
    klefr_world *world;
    klefr_line *line;
    klefr_line_ep *ref;  /* the serial side uses this endpoint's format (the line's settings) */
    const char *listen;  /* "tcp:[HOST:]PORT" */
    uint32_t timeout_ms; /* response timeout (0: KLEFR_MBGW_TIMEOUT_MS) */
    const char *name;    /* for messages: "modbus-gw" */
    bool quiet;          /* no "listening on" line */
} klefr_mbgw_opts;

typedef struct {
    uint64_t requests;   /* taken from clients */
    uint64_t replies;    /* relayed */
    uint64_t timeouts;   /* answered 0x0B */
    uint64_t broadcasts;
    uint64_t busy;       /* answered 0x06: queue full */
    uint64_t bad;        /* malformed MBAP (connection closed) */
} klefr_mbgw_stats;

/* Listen and attach to the line. NULL with a message in err. */
klefr_mbgw *klefr_mbgw_open(const klefr_mbgw_opts *o, char *err, size_t errlen);
void klefr_mbgw_close(klefr_mbgw *g);
/* "127.0.0.1:5020" as bound. */
const char *klefr_mbgw_address(const klefr_mbgw *g);
klefr_mbgw_stats klefr_mbgw_get_stats(const klefr_mbgw *g);

/* ---- the pieces, for tests ---- */

/* Bytes of a complete MBAP frame at the start of buf (n bytes): its length
 * (7 + PDU), 0 when more bytes are needed, -1 when it can never be one
 * (protocol id not 0, length field outside 2..254). */
int klefr_mbap_frame_len(const uint8_t *buf, size_t n);

/* Length of the RTU reply frame at buf (n bytes so far) to a request with
 * function code fc: > 0 known, 0 need more bytes. */
size_t klefr_rtu_reply_len(const uint8_t *buf, size_t n);

#endif
