/* Source lines of the values in a cJSON tree (cJSON keeps none), so input
 * files can report "file:line: message".
 *
 * A light scanner walks the text in the order cJSON parsed it and records
 * the line of every value; a pre-order walk of the tree gives the same order,
 * so the k-th node of the walk starts at the k-th recorded line. The pairs
 * are kept sorted by node, so a look-up is a binary search (a profile asks
 * for the line of each of its segments). */
#ifndef KLEFR_SIM_JSON_POS_H
#define KLEFR_SIM_JSON_POS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const cJSON *node;
    int line;
} klefr_json_node_line;

typedef struct {
    klefr_json_node_line *at; /* sorted by node address */
    size_t n;
} klefr_json_lines;

/* text must be what root was parsed from. Returns 0 or -1 (out of memory). */
int klefr_json_lines_init(klefr_json_lines *jl, const cJSON *root, const char *text);
void klefr_json_lines_free(klefr_json_lines *jl);
/* Line (1-based) where item's value starts; 0 if item is not in the tree. */
int klefr_json_line_of(const klefr_json_lines *jl, const cJSON *item);

/* Make s one line: every control character (a key may hold "\n") becomes
 * '?'. Messages quote what the file says; an error is one line. */
void klefr_one_line(char *s);

/* Line of position at in text (e.g. cJSON_GetErrorPtr()). */
int klefr_text_line(const char *text, const char *at);

/* The whole text file at path (64 MiB at most, no NUL bytes), NUL-terminated,
 * to be freed; NULL with "path: why" in err (errno kept when it cannot be
 * opened, so a caller can tell a missing file). */
char *klefr_text_file_read(const char *path, char *err, size_t errlen);

/* The first key of object obj (in file order) that repeats an earlier key
 * of it, *first that earlier one; NULL if none (or *oom). cJSON keeps both
 * and its look-ups find the first, so the value written last would be lost
 * without a word. */
const cJSON *klefr_json_repeat(const cJSON *obj, const cJSON **first, bool *oom);

/* 0, or -1 with "name:line: duplicate key ..." in err: an object of root
 * repeats a key (cJSON keeps both and finds the first: the value written
 * last would be lost without a word). */
int klefr_json_check_keys(const cJSON *root, const char *name, const char *text, char *err,
                          size_t errlen);

/* Parse text; on a syntax error write "name:line: not valid JSON ..." to err,
 * and refuse repeated keys (klefr_json_check_keys). */
cJSON *klefr_json_parse(const char *name, const char *text, char *err, size_t errlen);

#endif
