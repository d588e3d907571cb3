/* Host bottom of the network ports (tcp:, rfc2217:): a TCP listener and its
 * clients, plain C types only; ports.c never sees a sockaddr. */
#ifndef KLEFR_SIM_NET_PORT_H
#define KLEFR_SIM_NET_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Split "HOST:PORT", ":PORT", "PORT" or "[V6ADDR]:PORT" (what follows
 * "tcp:" or "rfc2217:"). No host: 127.0.0.1. PORT 0..65535, 0 = any free
 * one. 0, or -1 with a message in err. */
int klefr_net_parse(const char *spec, char *host, size_t hostsz, char *port, size_t portsz,
                    char *err, size_t errlen);

/* Listen on host:port (non-blocking). Returns the fd, or -1 with a message
 * in err. bound gets "ADDR:PORT" as bound (the port chosen for port 0). */
int klefr_net_listen(const char *host, const char *port, char *bound, size_t boundsz, char *err,
                     size_t errlen);

/* Accept one waiting client: a non-blocking fd with Nagle off (every
 * character leaves when the wire hands it over), or -1 if none. peer gets
 * "ADDR:PORT". */
int klefr_net_accept(int listen_fd, char *peer, size_t peersz);

/* Send without blocking or SIGPIPE: bytes sent, or -1 when the client is
 * gone. A client that does not read loses what does not fit. */
long klefr_net_send(int fd, const uint8_t *data, size_t n);
/* Receive what is there: bytes, 0 when the client closed, -1 on error, -2
 * when nothing is waiting. */
long klefr_net_recv(int fd, uint8_t *buf, size_t cap);

#endif
