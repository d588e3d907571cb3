#include "uart_pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const struct {
    speed_t code;
    uint32_t baud;
} speeds[] = {{B300, 300},   {B600, 600},     {B1200, 1200},   {B2400, 2400},   {B4800, 4800},
              {B9600, 9600}, {B19200, 19200}, {B38400, 38400}, {B57600, 57600}, {B115200, 115200}};

static speed_t to_speed(uint32_t baud)
{
    for (size_t k = 0; k < sizeof speeds / sizeof speeds[0]; k++)
        if (speeds[k].baud == baud)
            return speeds[k].code;
    return B9600;
}

int klefr_pty_open(klefr_pty *p, uint32_t baud)
{
    p->fd = p->slave_fd = p->lock_fd = p->watch_fd = -1;
    p->readers = 0;
    p->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->fd < 0 || grantpt(p->fd) || unlockpt(p->fd) ||
        ptsname_r(p->fd, p->slave_path, sizeof p->slave_path))
        goto fail;
    p->slave_fd = open(p->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->slave_fd < 0)
        goto fail;
    /* Raw from the start: a master that opens the port before configuring it
     * must not see our replies echoed or bytes cooked. */
    struct termios tio;
    if (tcgetattr(p->slave_fd, &tio))
        goto fail;
    cfmakeraw(&tio);
    cfsetispeed(&tio, to_speed(baud));
    cfsetospeed(&tio, to_speed(baud));
    if (tcsetattr(p->slave_fd, TCSANOW, &tio))
        goto fail;
    /* Masters opening the slave from now on (ours is open already). Without
     * inotify (the user's instances used up) stale bytes stay: not fatal. */
    p->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (p->watch_fd >= 0 && inotify_add_watch(p->watch_fd, p->slave_path, IN_OPEN | IN_CLOSE) < 0) {
        close(p->watch_fd);
        p->watch_fd = -1;
    }
    return 0;
fail:;
    int e = errno;
    klefr_pty_close(p);
    errno = e;
    return -1;
}

void klefr_pty_close(klefr_pty *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->slave_fd >= 0)
        close(p->slave_fd);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    if (p->watch_fd >= 0)
        close(p->watch_fd);
    p->fd = p->slave_fd = p->lock_fd = p->watch_fd = -1;
}

bool klefr_pty_take_open(klefr_pty *p)
{
    char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool opened = false;
    ssize_t n;
    while (p->watch_fd >= 0 && (n = read(p->watch_fd, ev, sizeof ev)) > 0)
        for (ssize_t k = 0; k + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *e = (const struct inotify_event *)(ev + k);
            if (e->mask & IN_Q_OVERFLOW)
                p->readers = -1; /* lost count: write to it as before */
            else if ((e->mask & IN_OPEN) && p->readers >= 0) {
                p->readers++;
                opened = true;
            } else if ((e->mask & IN_CLOSE) && p->readers > 0)
                p->readers--;
            k += (ssize_t)sizeof *e + e->len;
        }
    if (opened)
        tcflush(p->slave_fd, TCIFLUSH); /* what the master has not read: from before it came */
    return opened;
}

void klefr_pty_master_settings(const klefr_pty *p, uint32_t *baud, klefr_pty_err_mode *err)
{
    struct termios tio;
    *baud = 0;
    *err = KLEFR_PTY_ERR_AS_IS;
    if (tcgetattr(p->slave_fd, &tio))
        return;
    speed_t s = cfgetospeed(&tio);
    for (size_t k = 0; k < sizeof speeds / sizeof speeds[0]; k++)
        if (speeds[k].code == s)
            *baud = speeds[k].baud;
    if (tio.c_iflag & INPCK)
        *err = tio.c_iflag & IGNPAR ? KLEFR_PTY_ERR_DROP : KLEFR_PTY_ERR_NUL;
}

int klefr_pty_link(klefr_pty *p, const char *link_path)
{
    struct stat st;
    if (lstat(link_path, &st) == 0 && !S_ISLNK(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    /* Two klefr-sims with the same link (two --ephemeral runs share the
     * default directory): the second would re-point the first one's link,
     * and the first would remove it on exit. */
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", link_path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        errno = EBUSY;
        return -1;
    }
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    p->lock_fd = fd;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", link_path, (long)getpid());
    unlink(tmp);
    if (symlink(p->slave_path, tmp) || rename(tmp, link_path)) {
        int e = errno;
        unlink(tmp);
        close(p->lock_fd);
        p->lock_fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

void klefr_pty_unlink(klefr_pty *p, const char *link_path)
{
    char to[sizeof p->slave_path];
    ssize_t n = readlink(link_path, to, sizeof to - 1);
    if (n > 0 && (size_t)n < sizeof to) {
        to[n] = 0;
        if (!strcmp(to, p->slave_path))
            unlink(link_path);
    }
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    p->lock_fd = -1;
}
