/* A small Modbus RTU master on libmodbus, for the integration tests and the
 * benchmark.
 *
 *   mb_client PORT BAUD PARITY(N|E|O) ID read ADDR COUNT      registers in hex
 *   mb_client PORT BAUD PARITY ID readf ADDR COUNT            ABCD floats
 *   mb_client PORT BAUD PARITY ID write ADDR VALUE            FC 06
 *   mb_client PORT BAUD PARITY ID writef ADDR FLOAT           FC 10, 2 registers
 *   mb_client PORT BAUD PARITY ID bench ADDR COUNT SECONDS    requests/s, median RTT
 *
 * PORT tcp:HOST:PORT is Modbus TCP (a gateway; BAUD and PARITY are then
 * ignored, the response timeout is 2 s, so a gateway's 0x0B comes first).
 *
 * ADDR is the PDU address (0x5000). Exit 0 on success, 1 on a Modbus error
 * (message on stderr: e.g. "Connection timed out", "Illegal data value"). */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Float ABCD by hand: some libmodbus releases (3.1.6) swap the bytes of
 * each word in modbus_{get,set}_float_abcd. */
static float get_abcd(const uint16_t *r)
{
    uint32_t u = (uint32_t)r[0] << 16 | r[1];
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void set_abcd(float f, uint16_t *r)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    r[0] = (uint16_t)(u >> 16);
    r[1] = (uint16_t)u;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(modbus_t *ctx, int addr, int count, double seconds)
{
    uint16_t regs[125];
    size_t cap = 1 << 20, n = 0;
    double *rtt = malloc(cap * sizeof *rtt);
    int errors = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds && n < cap) {
        double a = now_s();
        if (modbus_read_registers(ctx, addr, count, regs) != count)
            errors++;
        t = now_s();
        rtt[n++] = t - a;
    }
    qsort(rtt, n, sizeof *rtt, cmp_double);
    printf("requests=%zu errors=%d seconds=%.3f req_per_s=%.0f median_rtt_ms=%.4f\n", n, errors,
           t - t0, (double)n / (t - t0), n ? rtt[n / 2] * 1e3 : 0.0);
    free(rtt);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: mb_client PORT BAUD N|E|O ID read|readf|write|writef|bench ARGS\n");
        return 2;
    }
    modbus_t *ctx;
    if (!strncmp(argv[1], "tcp:", 4)) {
        char host[256];
        snprintf(host, sizeof host, "%s", argv[1] + 4);
        char *colon = strrchr(host, ':');
        if (!colon) {
            fprintf(stderr, "mb_client: expected tcp:HOST:PORT\n");
            return 2;
        }
        *colon = 0;
        ctx = modbus_new_tcp(host, atoi(colon + 1));
        if (ctx)
            modbus_set_response_timeout(ctx, 2, 0);
    } else {
        ctx = modbus_new_rtu(argv[1], atoi(argv[2]), argv[3][0], 8, 1);
    }
    if (!ctx || modbus_set_slave(ctx, atoi(argv[4])) || modbus_connect(ctx)) {
        fprintf(stderr, "mb_client: %s: %s\n", argv[1], modbus_strerror(errno));
        return 1;
    }
    const char *cmd = argv[5];
    int addr = (int)strtol(argv[6], NULL, 0);
    int rc = 0;
    if (!strcmp(cmd, "read") || !strcmp(cmd, "readf")) {
        int count = argc > 7 ? atoi(argv[7]) : 1;
        uint16_t regs[125];
        if (modbus_read_registers(ctx, addr, count, regs) != count) {
            rc = 1;
        } else if (cmd[4] == 'f') {
            for (int k = 0; k + 1 < count; k += 2)
                printf("%s%.6g", k ? " " : "", get_abcd(regs + k));
            printf("\n");
        } else {
            for (int k = 0; k < count; k++)
                printf("%s0x%04X", k ? " " : "", regs[k]);
            printf("\n");
        }
    } else if (!strcmp(cmd, "write") && argc > 7) {
        rc = modbus_write_register(ctx, addr, (uint16_t)strtol(argv[7], NULL, 0)) != 1;
    } else if (!strcmp(cmd, "writef") && argc > 7) {
        uint16_t regs[2];
        set_abcd((float)atof(argv[7]), regs);
        rc = modbus_write_registers(ctx, addr, 2, regs) != 2;
    } else if (!strcmp(cmd, "bench") && argc > 8) {
        rc = bench(ctx, addr, atoi(argv[7]), atof(argv[8]));
    } else {
        fprintf(stderr, "mb_client: bad command\n");
        rc = 2;
    }
    if (rc == 1)
        fprintf(stderr, "mb_client: %s\n", modbus_strerror(errno));
    modbus_close(ctx);
    modbus_free(ctx);
    return rc;
}
