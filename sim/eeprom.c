#include "eeprom.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Make the rename itself durable. Best effort: not every filesystem allows it. */
static void sync_dir(const char *path)
{
    char dir[sizeof((klefr_eeprom *)0)->path];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Returns 0 or an errno. */
static int save_file(const klefr_eeprom *e)
{
    char tmp[sizeof e->path + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", e->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    if (write_all(fd, e->mem, sizeof e->mem) != 0 || fsync(fd) != 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        return err;
    }
    if (close(fd) != 0 || rename(tmp, e->path) != 0) {
        int err = errno;
        unlink(tmp);
        return err;
    }
    sync_dir(e->path);
    return 0;
}

static void flush_file(klefr_eeprom *e)
{
    if (!e->path[0])
        return;
    e->host_errno = save_file(e);
    if (!e->host_errno)
        return;
    e->host_failures++;
    if (e->host_error)
        e->host_error(e->host_error_arg, e->path, e->host_errno);
}

int klefr_eeprom_open(klefr_eeprom *e, const char *path, char *err, int errlen)
{
    memset(e, 0, sizeof *e);
    memset(e->mem, 0xFF, sizeof e->mem);
    e->page_size = KLEFR_EEPROM_PAGE_SIZE;
    e->cut_after_pages = -1;
    if (!path)
        return 0;
    if (strlen(path) >= sizeof e->path) {
        snprintf(err, (size_t)errlen, "%.64s...: path too long", path);
        return -1;
    }
    snprintf(e->path, sizeof e->path, "%s", path);
    struct stat stb;
    if (lstat(path, &stb) == 0 && S_ISLNK(stb.st_mode)) {
        /* Write the file the link names, not a new file over the link; a
         * link to nothing would silently start a blank meter. */
        char target[sizeof e->path];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        char *real = realpath(path, NULL);
        if (!real) {
            snprintf(err, (size_t)errlen, "%s: symlink to %s: %s", path, target, strerror(errno));
            return -1;
        }
        int too_long = strlen(real) >= sizeof e->path;
        snprintf(e->path, sizeof e->path, "%s", real);
        free(real);
        if (too_long) {
            snprintf(err, (size_t)errlen, "%.64s...: path too long", path);
            return -1;
        }
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0; /* a new, blank EEPROM */
        snprintf(err, (size_t)errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &stb) != 0) {
        snprintf(err, (size_t)errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(stb.st_mode)) {
        snprintf(err, (size_t)errlen, "%s: %s", path,
                 S_ISDIR(stb.st_mode) ? "is a directory, not an EEPROM image"
                                      : "not a regular file");
        close(fd);
        return -1;
    }
    if (stb.st_size != (off_t)KLEFR_NVM_SIZE) {
        snprintf(err, (size_t)errlen, "%s: expected a %u-byte EEPROM image, found %lld bytes", path,
                 KLEFR_NVM_SIZE, (long long)stb.st_size);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < sizeof e->mem) {
        ssize_t k = read(fd, e->mem + got, sizeof e->mem - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, (size_t)errlen, "%s: %s", path, k < 0 ? strerror(errno) : "short read");
            close(fd);
            return -1;
        }
        got += (size_t)k;
    }
    close(fd);
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

/* One page write cycle of n bytes at addr (all within one page). */
static void page_write(klefr_eeprom *e, uint32_t addr, const uint8_t *src, uint32_t n)
{
    e->pages_written++;
    if (e->worn_out)
        return;
    memcpy(e->mem + addr, src, n);
    e->bytes_written += n;
}

/* The interrupted page write: a prefix lands, the rest may be garbage. */
static void page_torn(klefr_eeprom *e, uint32_t addr, const uint8_t *src, uint32_t n)
{
    uint32_t keep = e->torn_bytes < n ? e->torn_bytes : n;
    memcpy(e->mem + addr, src, keep);
    e->bytes_written += keep;
    if (e->torn_garble)
        for (uint32_t k = keep; k < n; k++)
            e->mem[addr + k] = (uint8_t)(e->mem[addr + k] ^ src[k] ^ 0xA5u ^ (uint8_t)k);
}

int klefr_eeprom_write(void *arg, uint32_t addr, const void *buf, uint32_t len)
{
    klefr_eeprom *e = arg;
    if (addr > KLEFR_NVM_SIZE || len > KLEFR_NVM_SIZE - addr)
        return -1;
    uint32_t page = e->page_size ? e->page_size : KLEFR_EEPROM_PAGE_SIZE;
    const uint8_t *src = buf;
    int32_t pages = 0;
    int rc = 0;
    while (len) {
        /* A page write never crosses a page boundary (it would wrap on a real part). */
        uint32_t n = page - addr % page;
        if (n > len)
            n = len;
        if (e->cut_after_pages >= 0 && pages == e->cut_after_pages) {
            page_torn(e, addr, src, n);
            e->cut_after_pages = -1;
            e->cuts++;
            rc = -1;
            break;
        }
        page_write(e, addr, src, n);
        pages++;
        addr += n;
        src += n;
        len -= n;
    }
    flush_file(e); /* the part itself wrote: a host failure is no EEPROM fault */
    return rc;
}
