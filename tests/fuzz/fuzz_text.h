/* What the parser fuzz targets share: the bytes as a NUL-terminated text,
 * handed to a parser that must give a result (freed) or exactly one error
 * line, never a crash, a hang or a leak. */
#ifndef KLEFR_FUZZ_TEXT_H
#define KLEFR_FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* parse: 0 with *out set (then free_fn(*out)), or -1 with err. */
static inline int klefr_fuzz_text(const uint8_t *data, size_t size,
                                  int (*parse)(void **out, const char *text, char *err,
                                               size_t errlen),
                                  void (*free_fn)(void *))
{
    if (size > 1 << 20)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    void *out = NULL;
    char err[1024];
    err[0] = 0;
    if (parse(&out, text, err, sizeof err) == 0)
        free_fn(out);
    else if (!err[0] || strchr(err, '\n'))
        abort(); /* an error is exactly one line */
    free(text);
    return 0;
}

#endif
