#include "proto/trace_text.h"

void klefr_trace_line(const klefr_trace_sink *t, const char *line)
{
    if (klefr_tracing(t))
        t->fn(t->arg, line);
}

void klefr_tb_str(klefr_tbuf *b, const char *s)
{
    while (*s && b->n + 1 < b->cap)
        b->p[b->n++] = *s++;
    b->p[b->n] = 0;
}

void klefr_tb_uint(klefr_tbuf *b, uint64_t v, int min_digits)
{
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || k < min_digits);
    while (k && b->n + 1 < b->cap)
        b->p[b->n++] = d[--k];
    b->p[b->n] = 0;
}

void klefr_tb_hex(klefr_tbuf *b, uint32_t v, int digits)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int s = (digits - 1) * 4; s >= 0 && b->n + 1 < b->cap; s -= 4)
        b->p[b->n++] = hex[(v >> s) & 0xF];
    b->p[b->n] = 0;
}

void klefr_tb_time(klefr_tbuf *b, uint64_t t_us)
{
    klefr_tb_str(b, " t=");
    klefr_tb_uint(b, t_us / 1000000u, 1);
    klefr_tb_str(b, ".");
    klefr_tb_uint(b, t_us % 1000000u, 6);
}

void klefr_trace_hex(const klefr_trace_sink *t, const char *prefix, const char *dir,
                     const uint8_t *f, size_t n, uint64_t t_us)
{
    char line[KLEFR_TRACE_HEX_MAX * 3 + 64];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, prefix);
    klefr_tb_str(&b, dir);
    for (size_t k = 0; k < n; k++) {
        klefr_tb_str(&b, " ");
        klefr_tb_hex(&b, f[k], 2);
    }
    klefr_tb_time(&b, t_us);
    klefr_trace_line(t, line);
}

void klefr_trace_text(const klefr_trace_sink *t, const char *prefix, const char *a, const char *c,
                      uint64_t t_us)
{
    char line[160];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, prefix);
    klefr_tb_str(&b, a);
    klefr_tb_str(&b, c);
    klefr_tb_time(&b, t_us);
    klefr_trace_line(t, line);
}
