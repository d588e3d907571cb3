#include "net_port.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int klefr_net_parse(const char *spec, char *host, size_t hostsz, char *port, size_t portsz,
                    char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    const char *p = colon ? colon + 1 : spec;
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    const char *h = spec;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [v6]:port */
        h++;
        hl -= 2;
    } else if (colon && memchr(spec, ':', hl)) {
        snprintf(err, errlen, "an IPv6 address goes in brackets: [::1]:PORT");
        return -1;
    }
    char *end;
    long n = strtol(p, &end, 10);
    if (!*p || *end || n < 0 || n > 65535) {
        snprintf(err, errlen, "'%s' is not a TCP port (0..65535, 0 = any free port)", p);
        return -1;
    }
    if (!hl) {
        h = "127.0.0.1";
        hl = strlen(h);
    }
    if (hl >= hostsz) {
        snprintf(err, errlen, "host name too long");
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, portsz, "%ld", n);
    return 0;
}

static void name_of(const struct sockaddr *sa, socklen_t len, char *out, size_t outsz)
{
    char h[NI_MAXHOST], s[NI_MAXSERV];
    if (getnameinfo(sa, len, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(out, outsz, "?");
        return;
    }
    snprintf(out, outsz, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, s);
}

int klefr_net_listen(const char *host, const char *port, char *bound, size_t boundsz, char *err,
                     size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 8) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        snprintf(err, errlen, "%s:%s: %s", host, port, strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    name_of((struct sockaddr *)&ss, len, bound, boundsz);
    return fd;
}

int klefr_net_accept(int listen_fd, char *peer, size_t peersz)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    name_of((struct sockaddr *)&ss, len, peer, peersz);
    return fd;
}

long klefr_net_send(int fd, const uint8_t *data, size_t n)
{
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return (long)w;
}

long klefr_net_recv(int fd, uint8_t *buf, size_t cap)
{
    ssize_t r = recv(fd, buf, cap, MSG_DONTWAIT);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? -2 : -1;
    return (long)r;
}
