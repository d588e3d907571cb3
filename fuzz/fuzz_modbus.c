/* Fuzz target: the Modbus RTU slave of the 6924 through the meter's byte
 * input (slave.h). Every reply: at most 256 bytes, a good CRC, this meter's
 * address (never 0: a broadcast is never answered), the request's function
 * code (or it | 0x80 with an exception code 1..4), and a request behind it: a
 * frame with a good CRC addressed to this meter that ends at the byte just
 * received. Settings stay in range. */
#include "proto/modbus_rtu.h"
#include "slave.h"

static bool request_for_us(const uint8_t *b, size_t n, const fuzz_slave *f)
{
    return n >= 4 && b[0] == f->before.modbus_id && klefr_crc16_modbus(b, n) == 0;
}

static void check_reply(fuzz_slave *f, klefr_port port, const uint8_t *d, size_t n)
{
    FUZZ_ASSERT(port == KLEFR_PORT_BUS, "reply on port %d", port);
    FUZZ_ASSERT(n >= 5 && n <= 256, "reply of %zu bytes", n);
    FUZZ_ASSERT(klefr_crc16_modbus(d, n) == 0, "reply CRC");
    FUZZ_ASSERT(d[0] == f->before.modbus_id && d[0] != 0, "reply address %u, meter %u", d[0],
                f->before.modbus_id);
    if (d[1] & 0x80)
        FUZZ_ASSERT(n == 5 && d[2] >= 1 && d[2] <= 4, "exception %02X", d[2]);
    else if (d[1] == 3 || d[1] == 4)
        FUZZ_ASSERT(n == 5u + d[2] && d[2] % 2 == 0, "read reply length");
    else
        FUZZ_ASSERT((d[1] == 6 || d[1] == 0x10) && n == 8, "reply fc %02X", d[1]);
    FUZZ_ASSERT(some_frame_ends_here(f, 256, request_for_us), "a reply without a request");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slave_setup(KLEFR_MODEL_6924, NULL);
    slave_run(KLEFR_PORT_BUS, data, size);
    return 0;
}
