/* The transport ceiling for scripts/bench-modbus.sh: a "slave" on a pty that
 * answers every 8 bytes it reads with a precomputed reply to a read of 44
 * registers, doing nothing else.
 *
 *   mb_null_responder LINK */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static unsigned crc16(const unsigned char *d, size_t n)
{
    unsigned c = 0xFFFF;
    while (n--) {
        c ^= *d++;
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (c >> 1) ^ 0xA001 : c >> 1;
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mb_null_responder LINK\n");
        return 2;
    }
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    char name[64];
    if (fd < 0 || grantpt(fd) || unlockpt(fd) || ptsname_r(fd, name, sizeof name))
        return 1;
    int slave = open(name, O_RDWR | O_NOCTTY); /* held: clients may come and go */
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    unlink(tmp);
    if (symlink(name, tmp) || rename(tmp, argv[1]))
        return 1;
    unsigned char reply[3 + 88 + 2] = {1, 3, 88};
    for (int k = 0; k < 88; k++)
        reply[3 + k] = (unsigned char)k;
    unsigned c = crc16(reply, 91);
    reply[91] = (unsigned char)c;
    reply[92] = (unsigned char)(c >> 8);
    printf("ready\n");
    fflush(stdout);
    unsigned char buf[512];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0)
            continue;
        have += (size_t)n;
        while (have >= 8) {
            if (write(fd, reply, sizeof reply) < 0)
                return 1;
            memmove(buf, buf + 8, have - 8);
            have -= 8;
        }
    }
}
