/* Building trace lines without stdio: append text, numbers and times to a
 * caller's buffer (always NUL-terminated, silently truncated). Shared by the
 * protocol slaves; only used when the HAL has a trace sink. */
#ifndef KLEFR_TRACE_TEXT_H
#define KLEFR_TRACE_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;
    size_t n, cap;
} klefr_tbuf;

void klefr_tb_str(klefr_tbuf *b, const char *s);
/* Decimal, at least min_digits (zero-padded). */
void klefr_tb_uint(klefr_tbuf *b, uint64_t v, int min_digits);
/* Upper-case hex, exactly digits nibbles. */
void klefr_tb_hex(klefr_tbuf *b, uint32_t v, int digits);
/* " t=S.UUUUUU" */
void klefr_tb_time(klefr_tbuf *b, uint64_t t_us);

struct klefr_meter;

/* Longest frame one hex trace line holds whole (an M-bus long frame). */
#define KLEFR_TRACE_HEX_MAX 264
/* "<prefix><dir> XX XX .. t=.." to the meter's trace sink. */
void klefr_trace_hex(struct klefr_meter *m, const char *prefix, const char *dir, const uint8_t *f,
                     size_t n, uint64_t t_us);
/* "<prefix><a><c> t=.." to the meter's trace sink. */
void klefr_trace_text(struct klefr_meter *m, const char *prefix, const char *a, const char *c,
                      uint64_t t_us);

#endif
