#include "proto/trace_text.h"

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
