/* The loop's wait (sim/io_wait.c), each case on both paths: io_uring and
 * ppoll (KLEFR_IO=poll) must hand over the same bytes, in the same order. */
#include "check_run.h"
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "io_wait.h"
#include "uart_pty.h"
#include "world.h"

static const char *const modes[] = {"auto", "poll"};

static klefr_world w;
static klefr_pty pty;
static klefr_io *io;

/* What the ready() callbacks took, in order. */
static char got[8192];
static size_t ngot;
static size_t take = 4096; /* bytes one ready() reads */
static int order[8], norder;

static void pty_ready(void *arg, uint64_t t_us)
{
    (void)arg, (void)t_us;
    long n = klefr_io_read(w.io, pty.fd, got + ngot, take);
    if (n > 0)
        ngot += (size_t)n;
    order[norder++ % 8] = 1;
}

static int pipe_rd;
static void pipe_ready(void *arg, uint64_t t_us)
{
    (void)arg, (void)t_us;
    char b[64];
    ck_assert_int_gt(read(pipe_rd, b, sizeof b), 0);
    order[norder++ % 8] = 2;
}

static void open_world(int mode)
{
    if (mode == 1)
        setenv("KLEFR_IO", "poll", 1);
    else
        unsetenv("KLEFR_IO");
    klefr_world_init(&w);
    ck_assert_int_eq(klefr_pty_open(&pty, 9600), 0);
    ck_assert_int_eq(klefr_world_add_reader(&w, pty.fd, pty_ready, NULL), 0);
    ck_assert_ptr_nonnull(io = klefr_io_open(&w));
    w.io = io;
    ngot = 0, norder = 0, take = 4096;
    printf("%s: the loop waits in %s\n", modes[mode], klefr_io_kind_to_str(klefr_io_kind_of(io)));
    if (mode == 1)
        ck_assert_int_eq(klefr_io_kind_of(io), KLEFR_IO_POLL);
#if defined(KLEFR_HAVE_LIBURING)
    /* Where the kernel allows io_uring, the default path is it. */
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    int disabled = 0;
    if (f) {
        if (fscanf(f, "%d", &disabled) != 1)
            disabled = 0;
        fclose(f);
    }
    if (mode == 0 && disabled == 0)
        ck_assert_int_eq(klefr_io_kind_of(io), KLEFR_IO_URING);
#endif
}

static void close_world(void)
{
    klefr_io_close(io, 0);
    w.io = NULL;
    klefr_world_remove_fd(&w, pty.fd);
    klefr_pty_close(&pty);
    klefr_world_free(&w);
    unsetenv("KLEFR_IO");
}

/* One wait, and the ready() of each fd with input, as the loop does. */
static int wait_once(uint64_t timeout_ns)
{
    int fds[8];
    int n = klefr_io_wait(io, timeout_ns, fds, 8);
    for (int k = 0; k < n; k++)
        for (int j = 0; j < w.nfds; j++)
            if (w.fds[j].fd == fds[k]) {
                w.fds[j].ready(w.fds[j].arg, 0);
                break;
            }
    return n;
}

/* What the master side of the pty (its slave) has to read now. */
static size_t slave_read(char *buf, size_t size)
{
    int fl = fcntl(pty.slave_fd, F_GETFL);
    fcntl(pty.slave_fd, F_SETFL, fl | O_NONBLOCK);
    size_t n = 0;
    ssize_t r;
    while (n < size && (r = read(pty.slave_fd, buf + n, size - n)) > 0)
        n += (size_t)r;
    fcntl(pty.slave_fd, F_SETFL, fl);
    return n;
}

START_TEST(bytes_from_the_master_come_whole_and_in_order)
{
    open_world(_i);
    ck_assert_int_eq(wait_once(20000000), 0); /* nothing: the timeout */
    ck_assert_int_eq(write(pty.slave_fd, "abc", 3), 3);
    take = 2; /* a ready() that reads less than there is */
    ck_assert_int_eq(wait_once(1000000000), 1);
    ck_assert_uint_eq(ngot, 2);
    /* the rest is input at once, as ppoll's level would say */
    ck_assert_int_eq(wait_once(1000000000), 1);
    ck_assert_uint_eq(ngot, 3);
    ck_assert_int_eq(memcmp(got, "abc", 3), 0);
    ck_assert_int_eq(write(pty.slave_fd, "de", 2), 2);
    take = 4096;
    ck_assert_int_eq(wait_once(1000000000), 1);
    ck_assert_int_eq(memcmp(got, "abcde", 5), 0);
    ck_assert_int_eq(wait_once(20000000), 0);
    close_world();
}
END_TEST

START_TEST(ready_fds_come_in_the_worlds_order)
{
    open_world(_i);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pipe_rd = p[0];
    /* added while the loop waits (a client connects): after the pty */
    ck_assert_int_eq(klefr_world_add_fd(&w, p[0], pipe_ready, NULL), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(write(pty.slave_fd, "y", 1), 1);
    usleep(1000);
    int n = 0;
    for (int k = 0; k < 10 && norder < 2; k++)
        n += wait_once(100000000);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    /* gone (a client leaves): no more input from it, and no trouble */
    klefr_world_remove_fd(&w, p[0]);
    ck_assert_int_eq(write(p[1], "z", 1), 1);
    ck_assert_int_eq(wait_once(20000000), 0);
    close(p[0]);
    close(p[1]);
    close_world();
}
END_TEST

START_TEST(writes_reach_the_master_in_order_by_the_next_wait)
{
    open_world(_i);
    uint64_t dropped = 0;
    klefr_io_write(io, pty.fd, "12", 2, &dropped);
    klefr_io_write(io, pty.fd, "34", 2, &dropped);
    wait_once(0);
    char b[16];
    ck_assert_uint_eq(slave_read(b, sizeof b), 4);
    ck_assert_int_eq(memcmp(b, "1234", 4), 0);
    /* a kick sends them without waiting */
    klefr_io_write(io, pty.fd, "56", 2, &dropped);
    klefr_io_kick(io);
    ck_assert_uint_eq(slave_read(b, sizeof b), 2);
    ck_assert_int_eq(memcmp(b, "56", 2), 0);
    /* and so does removing the fd, before the port closes it */
    klefr_io_write(io, pty.fd, "78", 2, &dropped);
    klefr_world_remove_fd(&w, pty.fd);
    ck_assert_uint_eq(slave_read(b, sizeof b), 2);
    ck_assert_int_eq(memcmp(b, "78", 2), 0);
    ck_assert_uint_eq(dropped, 0);
    close_world();
}
END_TEST

START_TEST(what_nobody_reads_is_counted_as_dropped)
{
    open_world(_i);
    static char chunk[1000];
    memset(chunk, 'q', sizeof chunk);
    uint64_t dropped = 0;
    size_t sent = 0;
    /* The pty's buffer fills (no master reads): the rest is lost, counted. */
    for (int k = 0; k < 200 && !dropped; k++) {
        klefr_io_write(io, pty.fd, chunk, sizeof chunk, &dropped);
        sent += sizeof chunk;
        wait_once(0);
    }
    ck_assert_uint_gt(dropped, 0);
    static char all[300000];
    size_t arrived = slave_read(all, sizeof all);
    ck_assert_uint_eq(arrived + dropped, sent);
    close_world();
}
END_TEST

START_TEST(closing_hands_over_what_the_kernel_read)
{
    open_world(_i);
    ck_assert_int_eq(wait_once(10000000), 0); /* armed */
    ck_assert_int_eq(write(pty.slave_fd, "late", 4), 4);
    usleep(20000);
    /* the loop ends without another wait: the bytes are not lost */
    klefr_io_close(io, 0);
    w.io = NULL;
    char b[16];
    long n = read(pty.fd, b, sizeof b); /* with ppoll they are still in the pty */
    if (n > 0) {
        memcpy(got + ngot, b, (size_t)n);
        ngot += (size_t)n;
    }
    ck_assert_uint_eq(ngot, 4);
    ck_assert_int_eq(memcmp(got, "late", 4), 0);
    io = NULL;
    klefr_world_remove_fd(&w, pty.fd);
    klefr_pty_close(&pty);
    klefr_world_free(&w);
    unsetenv("KLEFR_IO");
}
END_TEST

/* Wall time of a wait (ms) and what it returned. */
static double timed_wait(uint64_t timeout_ns, int *n)
{
    uint64_t t0 = klefr_wall_ns();
    *n = wait_once(timeout_ns);
    return (double)(klefr_wall_ns() - t0) * 1e-6;
}

/* A wait ends at its deadline: not before it when nothing comes, and not
 * at a later deadline an earlier wait left in the kernel (io_uring keeps
 * the deadline's timeout armed across waits and moves it when a wait needs
 * an earlier one). The upper bounds are generous: a loaded machine. */
START_TEST(a_wait_ends_at_its_deadline)
{
    open_world(_i);
    int n;
    double ms = timed_wait(50000000, &n); /* 50 ms, nothing comes */
    ck_assert_int_eq(n, 0);
    ck_assert(ms >= 49.0);
    ck_assert(ms < 1000.0);
    /* input while a 2 s deadline is armed: at once */
    ck_assert_int_eq(write(pty.slave_fd, "x", 1), 1);
    ms = timed_wait(2000000000, &n);
    ck_assert_int_eq(n, 1);
    ck_assert(ms < 1000.0);
    /* now a 30 ms deadline: the 2 s one must not hold it */
    ms = timed_wait(30000000, &n);
    ck_assert_int_eq(n, 0);
    ck_assert(ms >= 29.0);
    ck_assert(ms < 1000.0);
    /* and a later one after it again */
    ms = timed_wait(60000000, &n);
    ck_assert_int_eq(n, 0);
    ck_assert(ms < 1000.0);
    close_world();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io-wait");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bytes_from_the_master_come_whole_and_in_order, 0, 2);
    tcase_add_loop_test(tc, ready_fds_come_in_the_worlds_order, 0, 2);
    tcase_add_loop_test(tc, writes_reach_the_master_in_order_by_the_next_wait, 0, 2);
    tcase_add_loop_test(tc, what_nobody_reads_is_counted_as_dropped, 0, 2);
    tcase_add_loop_test(tc, closing_hands_over_what_the_kernel_read, 0, 2);
    tcase_add_loop_test(tc, a_wait_ends_at_its_deadline, 0, 2);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
