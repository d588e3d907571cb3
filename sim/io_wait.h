/* How the real-time loop waits for its world's host fds, and how the ports
 * read and write them: io_uring where the kernel allows it (one system call
 * submits the replies queued since the last wait, waits for the next input,
 * and the kernel has already read a pty's bytes when it returns), ppoll with
 * plain read() and write() otherwise (docs/serial.md, "How the loop waits").
 *
 * The loop opens one for its world when it starts and closes it when it
 * returns; the world tells it about fds that come and go (a client connects
 * or leaves). Outside the loop (w->io NULL) reads and writes are plain. */
#ifndef KLEFR_SIM_IO_WAIT_H
#define KLEFR_SIM_IO_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct klefr_world;
typedef struct klefr_io klefr_io;

typedef enum { KLEFR_IO_POLL, KLEFR_IO_URING } klefr_io_kind;

const char *klefr_io_kind_to_str(klefr_io_kind k);

/* For the fds w has and those it gets. io_uring unless KLEFR_IO=poll is in
 * the environment, the build has no liburing, or the kernel refuses it
 * (kernel.io_uring_disabled, an old kernel): then ppoll. NULL: no memory. */
klefr_io *klefr_io_open(struct klefr_world *w);
/* Submit the queued writes, take back the kernel's polls and reads (the fds
 * are plain fds again), hand bytes the kernel had read to their ready() at
 * t_us, and free. */
void klefr_io_close(klefr_io *io, uint64_t t_us);
klefr_io_kind klefr_io_kind_of(const klefr_io *io);

/* Wait up to timeout_ns for input. The fds that have some (readable, or
 * bytes the kernel read for them) go into out, in the world's order (so a
 * pty's open watch comes before its bytes, as with ppoll). The count; 0 on
 * timeout or a signal. */
int klefr_io_wait(klefr_io *io, uint64_t timeout_ns, int *out, int max);
/* Submit the queued writes now: the loop calls it before work that may take
 * a while (a slice of the sim, a panel frame), so no reply waits for it. */
void klefr_io_kick(klefr_io *io);

/* The world's fds (world.c): reads = the kernel may read it for the ready()
 * (which takes the bytes with klefr_io_read). 0, or -1 (no memory). */
int klefr_io_fd_added(klefr_io *io, int fd, bool reads);
/* Before the fd is closed: its queued writes go out, the kernel lets go. */
void klefr_io_fd_removed(klefr_io *io, int fd);

/* As read(2) on a non-blocking fd (-1 with errno EAGAIN: nothing): the
 * bytes the kernel read for it first. io NULL: read(2). */
long klefr_io_read(klefr_io *io, int fd, void *buf, size_t n);
/* Write all n bytes to a non-blocking fd, in order with the fd's earlier
 * writes; what cannot be written (nobody reads and the buffer is full, an
 * error) is added to *dropped, now or when the write completes. io NULL or
 * ppoll: now. */
void klefr_io_write(klefr_io *io, int fd, const void *d, size_t n, uint64_t *dropped);

#endif
