/* Building trace lines without stdio: append text, numbers and times to a
 * caller's buffer (always NUL-terminated, silently truncated). Shared by the
 * protocol slaves; only used when the HAL has a trace sink. */
#ifndef KLEFR_TRACE_TEXT_H
#define KLEFR_TRACE_TEXT_H

#include <stdbool.h>
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

/* Where a slave's trace lines go (its view's trace hook and arg); a NULL fn
 * means tracing is off, and nothing is formatted. on, if set, is asked each
 * time: a meter's HAL may take its hook away after the slaves started
 * (klefr-sim does when no --trace is asked for). */
typedef struct {
    void (*fn)(void *arg, const char *line);
    void *arg;
    bool (*on)(void *arg);
} klefr_trace_sink;

static inline bool klefr_tracing(const klefr_trace_sink *t)
{
    return t->fn != NULL && (!t->on || t->on(t->arg));
}

/* One whole line to the sink, if it has one. */
void klefr_trace_line(const klefr_trace_sink *t, const char *line);

/* Longest frame one hex trace line holds whole (an M-bus long frame). */
#define KLEFR_TRACE_HEX_MAX 264
/* "<prefix><dir> XX XX .. t=.." to the sink. */
void klefr_trace_hex(const klefr_trace_sink *t, const char *prefix, const char *dir,
                     const uint8_t *f, size_t n, uint64_t t_us);
/* "<prefix><a><c> t=.." to the sink. */
void klefr_trace_text(const klefr_trace_sink *t, const char *prefix, const char *a, const char *c,
                      uint64_t t_us);

#endif
