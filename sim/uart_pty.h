/* Host bottom of a virtual serial port: a pseudo-terminal. Plain C types only;
 * the line model (line.c) and the port glue (ports.c) never see termios. */
#ifndef KLEFR_SIM_UART_PTY_H
#define KLEFR_SIM_UART_PTY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int fd;       /* our (ptmx) side, non-blocking */
    int slave_fd; /* the slave, held open so masters may close and reopen it */
    int watch_fd; /* inotify on the slave: masters opening and closing it; -1: none */
    int readers;  /* masters that have the slave open (from the watch); -1: unknown */
    char slave_path[64];
    int lock_fd;  /* flock on "<link>.lock" while we own the link, or -1 */
} klefr_pty;

/* Open a pty in raw 8-bit mode at baud. Returns 0 or -1 with errno. */
int klefr_pty_open(klefr_pty *p, uint32_t baud);
void klefr_pty_close(klefr_pty *p);

/* How the master's tty reports a character received with a framing or
 * parity error (its termios c_iflag), so we hand it over as a Linux serial
 * port would: */
typedef enum {
    KLEFR_PTY_ERR_AS_IS, /* INPCK off: the byte as received */
    KLEFR_PTY_ERR_NUL,   /* INPCK on: a NUL instead */
    KLEFR_PTY_ERR_DROP   /* INPCK and IGNPAR: nothing */
} klefr_pty_err_mode;

/* What the master's side set (one tcgetattr on the pty): its baud rate (0
 * unknown) and how it takes line errors. Parity and character size are
 * invisible on a Linux pty. */
void klefr_pty_master_settings(const klefr_pty *p, uint32_t *baud, klefr_pty_err_mode *err);

/* Whether a master opened the slave since the last call. What the line
 * sent while nobody had it open is dropped then (a real port that is not
 * open hears nothing): a master opening a pty on a busy RS-485 line, or after
 * another master gave up on a late reply, starts with an empty buffer.
 * ports.c calls it when watch_fd is readable (polled before the pty). */
bool klefr_pty_take_open(klefr_pty *p);

/* Whether a master may be reading: bytes for nobody are not written (a port
 * that is not open hears nothing; the kernel would keep them for the next
 * master, who could read them before we see its open and flush). True when
 * the watch cannot tell. */
static inline bool klefr_pty_has_reader(const klefr_pty *p)
{
    return p->watch_fd < 0 || p->readers != 0;
}

/* Point a symlink at the slave, atomically replacing an old symlink, and
 * hold a lock on "<link_path>.lock" so no other klefr-sim re-points it while
 * we run. -1 with errno (EBUSY: another live klefr-sim owns the link). */
int klefr_pty_link(klefr_pty *p, const char *link_path);

/* Remove the link if it still points at our slave, and release the lock. */
void klefr_pty_unlink(klefr_pty *p, const char *link_path);

#endif
