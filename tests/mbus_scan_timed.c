/* A libmbus secondary scan at 2400 baud, timed against what a real line
 * would take (scripts/bench-fleet.sh; a benchmark helper, not a test).
 *
 *   mbus_scan_timed DEVICE
 *
 * Runs libmbus's own mbus_scan_2nd_address_range() (what
 * mbus-serial-scan-secondary does) on DEVICE at 2400 8E1 and records every
 * frame it sends and every receive with its outcome. The real line's time
 * of the same exchanges is then the sum, in order, of
 *   send n bytes:          the wire is busy n x 11 bits / 2400 from now
 *   receive m bytes:       after the wire is free, the slave's reaction
 *                          (11 bit times + 2 ms, EN 13757-2 minimum + the
 *                          meter's processing) and m characters
 *   receive nothing:       libmbus's read timeout (VTIME 0.3 s at 2400), from
 *                          the call, as on a real port
 *   a garbled frame:       its bytes, then three read timeouts if libmbus
 *                          could still complete it (none if not)
 * and the program prints both and their ratio.
 *
 * libmbus's serial tools cannot open a pty at 2400 (GUIDE 7: after
 * mbus_serial_connect set 2400 with PARENB, which the pty drops, the tools'
 * mbus_serial_set_baudrate asks again for PARENB alone and the kernel says
 * EINVAL). This program leaves the pty at another baud first, so that
 * mbus_connect's own 2400 + PARENB is a change of baud, and skips
 * mbus_serial_set_baudrate. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <mbus.h>

#define CHAR_S (11.0 / 2400.0)
#define REACTION_S (11.0 / 2400.0 + 0.002)
#define VTIME_S 0.3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int (*real_send)(mbus_handle *, mbus_frame *);
static int (*real_recv)(mbus_handle *, mbus_frame *);
static double model_s, wire_free_s;
static size_t sends, recvs_ok, recvs_none, recvs_bad, last_len;
static unsigned char last_buf[1024];
static int found;

static void on_recv_bytes(unsigned char type, const char *buf, size_t len)
{
    (void)type;
    last_len = len;
    memcpy(last_buf, buf, len < sizeof last_buf ? len : sizeof last_buf);
}

static int timed_send(mbus_handle *h, mbus_frame *f)
{
    unsigned char buf[300];
    int n = mbus_frame_pack(f, buf, sizeof buf);
    sends++;
    double start = model_s > wire_free_s ? model_s : wire_free_s;
    wire_free_s = start + (n > 0 ? n : 0) * CHAR_S;
    return real_send(h, f);
}

static int timed_recv(mbus_handle *h, mbus_frame *f)
{
    last_len = 0;
    int r = real_recv(h, f);
    double from = model_s > wire_free_s ? model_s : wire_free_s;
    if (r == MBUS_RECV_RESULT_TIMEOUT || last_len == 0) {
        recvs_none++;
        model_s += VTIME_S; /* the read started at once; nothing came */
        if (model_s < wire_free_s)
            model_s = wire_free_s;
    } else if (r == MBUS_RECV_RESULT_OK) {
        recvs_ok++;
        model_s = from + REACTION_S + (double)last_len * CHAR_S;
    } else {
        /* Garbled: libmbus waits three read timeouts for the rest of a frame
         * it could still complete, none when the bytes cannot start one. */
        mbus_frame tmp;
        size_t n = last_len < sizeof last_buf ? last_len : sizeof last_buf;
        bool more = mbus_parse(&tmp, last_buf, n) > 0;
        recvs_bad++;
        model_s = from + REACTION_S + (double)last_len * CHAR_S + (more ? 3 * VTIME_S : 0);
    }
    return r;
}

static void on_found(mbus_handle *h, mbus_frame *f)
{
    (void)h;
    (void)f;
    found++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mbus_scan_timed DEVICE\n");
        return 2;
    }
    /* Another baud first (see the top of the file). */
    int fd = open(argv[1], O_RDWR | O_NOCTTY);
    struct termios t;
    if (fd < 0 || tcgetattr(fd, &t) != 0) {
        perror(argv[1]);
        return 1;
    }
    cfsetispeed(&t, B9600);
    cfsetospeed(&t, B9600);
    tcsetattr(fd, TCSANOW, &t);
    close(fd);
    mbus_handle *h = mbus_context_serial(argv[1]);
    if (!h || mbus_connect(h) == -1) {
        fprintf(stderr, "mbus_scan_timed: cannot open %s at 2400 baud\n", argv[1]);
        return 1;
    }
    real_send = h->send;
    real_recv = h->recv;
    h->send = timed_send;
    h->recv = timed_recv;
    h->recv_event = on_recv_bytes;
    h->found_event = on_found;
    double t0 = now_s();
    mbus_send_ping_frame(h, MBUS_ADDRESS_NETWORK_LAYER, 1); /* deselect, as the tool does */
    mbus_send_ping_frame(h, MBUS_ADDRESS_NETWORK_LAYER, 1);
    mbus_scan_2nd_address_range(h, 0, strdup("FFFFFFFFFFFFFFFF"));
    double wall = now_s() - t0;
    printf("found=%d sends=%zu replies=%zu no_reply=%zu garbled=%zu wall_s=%.2f model_s=%.2f "
           "ratio=%.3f\n",
           found, sends, recvs_ok, recvs_none, recvs_bad, wall, model_s, wall / model_s);
    mbus_disconnect(h);
    mbus_context_free(h);
    return 0;
}
