#include "eeprom.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int flush_file(klefr_eeprom *e)
{
    if (!e->path[0])
        return 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", e->path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(e->mem, 1, sizeof e->mem, f);
    if (fclose(f) != 0 || n != sizeof e->mem)
        return -1;
    return rename(tmp, e->path) == 0 ? 0 : -1;
}

int klefr_eeprom_open(klefr_eeprom *e, const char *path, char *err, int errlen)
{
    memset(e, 0, sizeof *e);
    memset(e->mem, 0xFF, sizeof e->mem);
    if (!path)
        return 0;
    snprintf(e->path, sizeof e->path, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0; /* a new, blank EEPROM */
        snprintf(err, (size_t)errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(e->mem, 1, sizeof e->mem, f);
    fclose(f);
    if (n != sizeof e->mem) {
        snprintf(err, (size_t)errlen, "%s: expected %u bytes, found %zu", path, KLEFR_NVM_SIZE, n);
        return -1;
    }
    return 0;
}

int klefr_eeprom_read(void *arg, uint32_t addr, void *buf, uint32_t len)
{
    klefr_eeprom *e = arg;
    if (addr > KLEFR_NVM_SIZE || len > KLEFR_NVM_SIZE - addr)
        return -1;
    memcpy(buf, e->mem + addr, len);
    return 0;
}

int klefr_eeprom_write(void *arg, uint32_t addr, const void *buf, uint32_t len)
{
    klefr_eeprom *e = arg;
    if (addr > KLEFR_NVM_SIZE || len > KLEFR_NVM_SIZE - addr)
        return -1;
    memcpy(e->mem + addr, buf, len);
    e->bytes_written += len;
    return flush_file(e);
}
