/* Fuzz target: the M-bus slave of the 6923 through the meter's byte input
 * (slave.h). Every reply: E5, or an RSP_UD long frame of at most 261 bytes
 * with L twice, C = 08, CI = 72, a good checksum and the stop byte; and a
 * request behind it: a frame with a good checksum ending at the byte just
 * received, for this meter (its primary address, 254, or 253 = selected or a
 * selection), never 255 (broadcast without reply). Settings stay in range. */
#include "proto/mbus.h"
#include "slave.h"

static bool request_for_us(const uint8_t *b, size_t n, const fuzz_slave *f)
{
    uint8_t a;
    if (n == 5 && b[0] == 0x10) {
        if (b[4] != 0x16 || b[3] != klefr_mbus_cs(b + 1, 2))
            return false;
        a = b[2];
    } else if (n >= 9 && b[0] == 0x68 && b[3] == 0x68 && b[1] == b[2] && b[1] + 6u == n) {
        if (b[n - 1] != 0x16 || b[n - 2] != klefr_mbus_cs(b + 4, n - 6))
            return false;
        a = b[5];
    } else {
        return false;
    }
    return a != 255 && (a == f->before.mbus_id || a == 253 || a == 254);
}

static void check_reply(fuzz_slave *f, klefr_port port, const uint8_t *d, size_t n)
{
    FUZZ_ASSERT(port == KLEFR_PORT_BUS, "reply on port %d", port);
    if (n == 1) {
        FUZZ_ASSERT(d[0] == 0xE5, "single byte %02X", d[0]);
    } else {
        FUZZ_ASSERT(n >= 9 && n <= 261, "reply of %zu bytes", n);
        FUZZ_ASSERT(d[0] == 0x68 && d[3] == 0x68 && d[1] == d[2] && d[1] + 6u == n, "header");
        FUZZ_ASSERT(d[4] == 0x08 && d[6] == 0x72, "C %02X CI %02X", d[4], d[6]);
        FUZZ_ASSERT(d[n - 1] == 0x16 && d[n - 2] == klefr_mbus_cs(d + 4, n - 6), "checksum");
    }
    FUZZ_ASSERT(some_frame_ends_here(f, 261, request_for_us), "a reply without a request");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slave_setup(KLEFR_MODEL_6923, NULL);
    slave_run(KLEFR_PORT_BUS, data, size);
    return 0;
}
