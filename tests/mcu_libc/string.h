/* The <string.h> of a bare-metal C library (as newlib declares it), for
 * tests/check_firmware_mcu.sh: only the standard's prototypes, no host. */
#ifndef KLEFR_MCU_STRING_H
#define KLEFR_MCU_STRING_H
#include <stddef.h>
void *memchr(const void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *s, int c, size_t n);
char *strcat(char *restrict d, const char *restrict s);
int strcmp(const char *a, const char *b);
char *strcpy(char *restrict d, const char *restrict s);
size_t strlen(const char *s);
char *strncpy(char *restrict d, const char *restrict s, size_t n);
#endif
