#include "json_pos.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void klefr_one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7F)
            *s = '?';
}

int klefr_text_line(const char *text, const char *at)
{
    int line = 1;
    for (const char *c = text; at && c < at && *c; c++)
        line += *c == '\n';
    return line;
}

char *klefr_text_file_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: is a directory, not a file", path);
        errno = EISDIR;
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    for (size_t got; text && (got = fread(text + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *t = cap > (64u << 20) ? NULL : realloc(text, cap *= 2);
            if (!t) {
                free(text);
                text = NULL;
            } else {
                text = t;
            }
        }
    }
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (!text) {
        snprintf(err, errlen, "%s: too large (64 MiB at most)", path);
        return NULL;
    }
    if (read_errno) {
        free(text);
        snprintf(err, errlen, "%s: read error: %s", path, strerror(read_errno));
        errno = read_errno;
        return NULL;
    }
    text[n] = 0;
    if (strlen(text) != n) {
        free(text);
        snprintf(err, errlen, "%s:1: not a text file (NUL byte)", path);
        return NULL;
    }
    return text;
}

typedef struct {
    const cJSON *item;
    size_t index; /* position in the object, so the later duplicate is known */
} key_at;

static int by_key(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

const cJSON *klefr_json_repeat(const cJSON *obj, const cJSON **first, bool *oom)
{
    const cJSON *found = NULL;
    if (!cJSON_IsObject(obj) || !obj->child || !obj->child->next)
        return NULL;
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    key_at *k = malloc(n * sizeof *k);
    if (!k) {
        *oom = true;
        return NULL;
    }
    n = 0;
    for (const cJSON *c = obj->child; c; c = c->next, n++)
        k[n] = (key_at){c, n};
    qsort(k, n, sizeof *k, by_key);
    size_t best = n;
    for (size_t i = 1; i < n; i++)
        if (!strcmp(k[i].item->string, k[i - 1].item->string) && k[i].index < best &&
            (i == 1 || strcmp(k[i - 1].item->string, k[i - 2].item->string))) {
            best = k[i].index;
            found = k[i].item;
            *first = k[i - 1].item;
        }
    free(k);
    return found;
}

/* klefr_json_repeat over node and everything in it, in file order. */
static const cJSON *dup_key(const cJSON *node, const cJSON **first, bool *oom)
{
    const cJSON *found = klefr_json_repeat(node, first, oom);
    for (const cJSON *c = node->child; c && !found && !*oom; c = c->next)
        found = dup_key(c, first, oom);
    return found;
}

int klefr_json_check_keys(const cJSON *root, const char *name, const char *text, char *err,
                          size_t errlen)
{
    const cJSON *first = NULL;
    bool oom = false;
    const cJSON *dup = dup_key(root, &first, &oom);
    if (!dup && !oom)
        return 0;
    klefr_json_lines jl;
    if (oom || klefr_json_lines_init(&jl, root, text) < 0)
        snprintf(err, errlen, "%s: out of memory", name);
    else
        snprintf(err, errlen, "%s:%d: duplicate key \"%s\" (first on line %d)", name,
                 klefr_json_line_of(&jl, dup), dup->string, klefr_json_line_of(&jl, first));
    if (!oom)
        klefr_json_lines_free(&jl);
    return -1;
}

cJSON *klefr_json_parse(const char *name, const char *text, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, true);
    if (j) {
        if (klefr_json_check_keys(j, name, text, err, errlen) == 0)
            return j;
        cJSON_Delete(j);
        return NULL;
    }
    const char *at = cJSON_GetErrorPtr();
    size_t len = strlen(text);
    if (!at || at < text || at > text + len)
        at = end ? end : text + len;
    /* cJSON points at the bad token, or just past it (then at whitespace):
     * report the line of that token and the text leading up to it. */
    const char *p = at;
    if ((unsigned char)*p > ' ')
        p++;
    else
        while (p > text && (unsigned char)p[-1] <= ' ')
            p--;
    const char *from = p;
    while (from > text && p - from < 20 && from[-1] != '\n')
        from--;
    const char *rest = at;
    while (*rest && (unsigned char)*rest <= ' ')
        rest++;
    bool at_end = !*rest;
    int line = klefr_text_line(text, p > text ? p - 1 : p);
    if (p == text)
        snprintf(err, errlen, "%s:%d: not valid JSON (empty)", name, line);
    else if (at_end && *at != '}' && *at != ']')
        snprintf(err, errlen, "%s:%d: not valid JSON (unexpected end after '%.*s')", name, line,
                 (int)(p - from), from);
    else
        snprintf(err, errlen, "%s:%d: not valid JSON at '%.*s'", name, line, (int)(p - from), from);
    return NULL;
}

typedef struct {
    const char *p;
    int line;
    int *out;
    size_t n, cap;
} scan;

/* Whitespace as cJSON skips it: every byte from 0x01 to 0x20, not only the
 * four JSON names (a form feed between tokens is accepted by cJSON). */
static void ws(scan *s)
{
    while (*s->p && (unsigned char)*s->p <= ' ') {
        s->line += *s->p == '\n';
        s->p++;
    }
}

static void skip_string(scan *s)
{
    s->p++; /* opening quote */
    while (*s->p && *s->p != '"') {
        if (*s->p == '\\' && s->p[1])
            s->p++;
        s->p++;
    }
    if (*s->p)
        s->p++;
}

static int value(scan *s)
{
    ws(s);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        int *o = realloc(s->out, cap * sizeof *o);
        if (!o)
            return -1;
        s->out = o;
        s->cap = cap;
    }
    s->out[s->n++] = s->line;
    char c = *s->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        ws(s);
        while (*s->p && *s->p != close) {
            if (c == '{') {
                skip_string(s); /* key */
                ws(s);
                if (*s->p == ':')
                    s->p++;
            }
            if (value(s) < 0)
                return -1;
            ws(s);
            if (*s->p == ',')
                s->p++;
            ws(s);
        }
        if (*s->p)
            s->p++;
    } else if (c == '"') {
        skip_string(s);
    } else {
        const char *from = s->p;
        while ((unsigned char)*s->p > ' ' && !strchr(",]}", *s->p))
            s->p++;
        if (s->p == from && *s->p)
            s->p++; /* never stand still, whatever the text */
    }
    return 0;
}

/* Pair the k-th node of a pre-order walk with the k-th scanned line. */
static void pair(const cJSON *node, const int *line, size_t nline, klefr_json_node_line *at,
                 size_t *k)
{
    if (*k < nline) {
        at[*k] = (klefr_json_node_line){node, line[*k]};
        (*k)++;
    }
    for (const cJSON *c = node->child; c; c = c->next)
        pair(c, line, nline, at, k);
}

static int by_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const klefr_json_node_line *)a)->node,
              y = (uintptr_t)((const klefr_json_node_line *)b)->node;
    return x < y ? -1 : x > y;
}

int klefr_json_lines_init(klefr_json_lines *jl, const cJSON *root, const char *text)
{
    scan s = {.p = text, .line = 1};
    if (!strncmp(s.p, "\xEF\xBB\xBF", 3))
        s.p += 3;
    *jl = (klefr_json_lines){0};
    int rc = value(&s);
    if (rc == 0 && s.n) {
        jl->at = malloc(s.n * sizeof *jl->at);
        if (jl->at)
            pair(root, s.out, s.n, jl->at, &jl->n);
        else
            rc = -1;
        qsort(jl->at, jl->n, sizeof *jl->at, by_node);
    }
    free(s.out);
    return rc;
}

void klefr_json_lines_free(klefr_json_lines *jl)
{
    free(jl->at);
    jl->at = NULL;
    jl->n = 0;
}

int klefr_json_line_of(const klefr_json_lines *jl, const cJSON *item)
{
    klefr_json_node_line key = {.node = item};
    const klefr_json_node_line *f =
        jl->n ? bsearch(&key, jl->at, jl->n, sizeof *jl->at, by_node) : NULL;
    return f ? f->line : 0;
}
