/* Minimal PNG writer/reader for the panel's screenshots and reference
 * images: RGB 8-bit, filter 0, deflate by zlib. */
#ifndef KLEFR_PNG_H
#define KLEFR_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Write w*h pixels 0xAARRGGBB (alpha ignored) as an RGB PNG. 0 or -1. */
int klefr_png_write(const char *path, const uint32_t *px, int w, int h);

/* Read a PNG written by klefr_png_write (RGB 8-bit, no interlace, filter
 * 0 only). Returns a malloc'd 0xffRRGGBB buffer or NULL. */
uint32_t *klefr_png_read(const char *path, int *w, int *h);

uint32_t klefr_png_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
