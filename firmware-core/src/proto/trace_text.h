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

#endif
