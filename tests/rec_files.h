/* Recordings the tests write: a temporary directory per test (a Check
 * fixture: tcase_add_checked_fixture(tc, setup, teardown)), paths in it,
 * and the little-endian writers WAV headers need. */
#ifndef KLEFR_TESTS_REC_FILES_H
#define KLEFR_TESTS_REC_FILES_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_DIR_TEMPLATE "/tmp/klefr-rec-XXXXXX"
static char dir[] = REC_DIR_TEMPLATE;

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, REC_DIR_TEMPLATE);
}

/* dir/name (a static buffer: use it before the next call). */
static const char *file(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void put16(FILE *f, unsigned x)
{
    fputc((int)(x & 0xFF), f), fputc((int)(x >> 8 & 0xFF), f);
}
static void put32(FILE *f, uint32_t x)
{
    put16(f, x & 0xFFFF), put16(f, x >> 16);
}

#endif
