/* A bus monitor on a fleet's lines: the characters every line carries
 * (line.h's monitor hook) grouped into frames and decoded, as a protocol
 * analyser clipped onto the bus would show them:
 *
 *   12.345678 mbus  master   10 7B 05 80 16      REQ_UD2 a=5
 *   12.352121 mbus  flat-05  68 4B 4B 68 08 ...  RSP_UD a=5 id=21050105 access=3
 *   12.9      mbus  flat-02+ E5 (collision)      garbled: two senders at once
 *
 * A frame is the run of characters one sender puts on the line back to
 * back (a gap of more than two character times, or another sender, ends
 * it); senders whose characters collide make one garbled frame together,
 * named after the first ("flat-02+"). Each line keeps its last
 * KLEFR_BUSMON_KEEP frames. */
#ifndef KLEFR_SIM_BUSMON_H
#define KLEFR_SIM_BUSMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

#define KLEFR_BUSMON_KEEP 256
#define KLEFR_BUSMON_BYTES 24 /* bytes of a frame kept for the hex column */

typedef struct {
    uint64_t t_us;    /* start of its first character */
    uint64_t end_us;  /* end of its last */
    char sender[KLEFR_FLEET_ID];
    uint16_t n;       /* characters */
    uint8_t bytes[KLEFR_BUSMON_BYTES];
    bool collided;    /* another sender overlapped one of its characters */
    bool flagged;     /* a character came with a framing or parity error */
    char text[96];    /* decoded */
} klefr_busmon_frame;

typedef struct klefr_busmon klefr_busmon;

/* Watch every line of the fleet. NULL when out of memory. */
klefr_busmon *klefr_busmon_new(klefr_fleet *f);
void klefr_busmon_free(klefr_busmon *m);

/* Frames of line k, oldest first, up to the present t_us (a frame still
 * going on is shown as it is so far). Returns how many are kept (at most
 * KLEFR_BUSMON_KEEP); *total counts every frame since the start. */
size_t klefr_busmon_frames(klefr_busmon *m, size_t line, uint64_t t_us,
                           const klefr_busmon_frame **out, uint64_t *total);

/* One line of text for a frame, its first hex_bytes bytes shown:
 * "12.345678 flat-05  68 4B 4B ..  RSP_UD a=5 ...". */
size_t klefr_busmon_format(const klefr_busmon_frame *f, size_t hex_bytes, char *buf, size_t size);

/* Decode a complete frame of bus bytes (M-bus or Modbus RTU) into text. */
void klefr_busmon_decode(klefr_bus bus, const uint8_t *b, size_t n, char *text, size_t size);

#endif
