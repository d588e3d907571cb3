#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "png.h"

uint32_t klefr_png_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t k = 0; k < n; k++) {
        crc ^= p[k];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int chunk(FILE *f, const char *type, const uint8_t *data, size_t len)
{
    uint8_t hdr[8];
    be32(hdr, (uint32_t)len);
    memcpy(hdr + 4, type, 4);
    uint32_t crc = klefr_png_crc32(0, hdr + 4, 4);
    crc = klefr_png_crc32(crc, data, len);
    uint8_t tail[4];
    be32(tail, crc);
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                   fwrite(tail, 1, 4, f) == 4
               ? 0
               : -1;
}

int klefr_png_write(const char *path, const uint32_t *px, int w, int h)
{
    size_t row = (size_t)w * 3 + 1, raw_len = row * (size_t)h;
    uint8_t *raw = malloc(raw_len);
    if (!raw)
        return -1;
    for (int y = 0; y < h; y++) {
        uint8_t *r = raw + row * (size_t)y;
        r[0] = 0; /* filter: none */
        for (int x = 0; x < w; x++) {
            uint32_t p = px[(size_t)y * (size_t)w + (size_t)x];
            r[1 + 3 * x] = (uint8_t)(p >> 16);
            r[2 + 3 * x] = (uint8_t)(p >> 8);
            r[3 + 3 * x] = (uint8_t)p;
        }
    }
    uLongf zn = compressBound((uLong)raw_len);
    uint8_t *z = malloc(zn);
    if (!z || compress2(z, &zn, raw, (uLong)raw_len, 6) != Z_OK) {
        free(raw);
        free(z);
        return -1;
    }
    int rc = -1;
    FILE *f = fopen(path, "wb");
    if (f) {
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        uint8_t ihdr[13];
        be32(ihdr, (uint32_t)w);
        be32(ihdr + 4, (uint32_t)h);
        ihdr[8] = 8;  /* bit depth */
        ihdr[9] = 2;  /* RGB */
        ihdr[10] = 0; /* deflate */
        ihdr[11] = 0;
        ihdr[12] = 0; /* no interlace */
        rc = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) == 0 &&
                     chunk(f, "IDAT", z, zn) == 0 && chunk(f, "IEND", NULL, 0) == 0
                 ? 0
                 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(raw);
    free(z);
    return rc;
}

uint32_t *klefr_png_read(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = len > 8 ? malloc((size_t)len) : NULL;
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    uint8_t *z = malloc((size_t)len);
    if (!z) {
        free(buf);
        return NULL;
    }
    size_t zn = 0;
    int W = 0, H = 0;
    int ok = 1;
    for (size_t p = 8; p + 12 <= (size_t)len && ok;) {
        uint32_t n = rd32(buf + p);
        const uint8_t *type = buf + p + 4, *data = buf + p + 8;
        if (p + 12 + n > (size_t)len)
            break;
        if (!memcmp(type, "IHDR", 4)) {
            W = (int)rd32(data);
            H = (int)rd32(data + 4);
            ok = data[8] == 8 && data[9] == 2 && data[12] == 0;
        } else if (!memcmp(type, "IDAT", 4)) {
            memcpy(z + zn, data, n);
            zn += n;
        }
        p += 12 + n;
    }
    free(buf);
    size_t row = (size_t)W * 3 + 1;
    uint32_t *px = ok && W > 0 && H > 0 ? malloc((size_t)W * (size_t)H * 4) : NULL;
    uint8_t *raw = px ? malloc(row * (size_t)H) : NULL;
    if (raw) {
        uLongf rn = (uLongf)(row * (size_t)H);
        ok = ok && uncompress(raw, &rn, z, (uLong)zn) == Z_OK && rn == row * (size_t)H;
        for (int y = 0; ok && y < H; y++) {
            const uint8_t *r = raw + row * (size_t)y;
            ok = r[0] == 0;
            for (int x = 0; x < W; x++)
                px[(size_t)y * (size_t)W + (size_t)x] = 0xff000000u | (uint32_t)r[1 + 3 * x] << 16 |
                                                        (uint32_t)r[2 + 3 * x] << 8 | r[3 + 3 * x];
        }
    }
    free(raw);
    free(z);
    if (!ok || !raw) {
        free(px);
        return NULL;
    }
    *w = W;
    *h = H;
    return px;
}
