/* Fuzz target: the IEC 62056-21 optical port (6924) through the meter's byte
 * input (slave.h). Every write is at most KLEFR_IEC_CHUNK bytes; the meter's
 * messages, read back as one stream, are well formed: an identification
 * "/KLF5..." CR LF of at most 32 characters, ACK or NAK alone, or SOH/STX ...
 * ETX with the right BCC, at most 4 KiB; 7-bit characters only. No reply
 * without something received since the last one. Settings stay in range. */
#include "proto/iec62056.h"
#include "slave.h"

typedef struct {
    uint8_t msg[4096];
    size_t n;
    size_t fed_at_last; /* bytes fed when the last message was complete */
} iec_out;
static iec_out O;

static void message_done(fuzz_slave *f)
{
    O.n = 0;
    O.fed_at_last = f->nhist;
}

static void out_byte(fuzz_slave *f, uint8_t c)
{
    FUZZ_ASSERT(c < 0x80, "8-bit character %02X", c);
    FUZZ_ASSERT(O.n < sizeof O.msg, "message longer than 4 KiB");
    if (O.n == 0) {
        FUZZ_ASSERT(f->nhist > O.fed_at_last, "a message without a request (%02X)", c);
        if (c == KLEFR_IEC_ACK || c == KLEFR_IEC_NAK) {
            message_done(f);
            return;
        }
        FUZZ_ASSERT(c == '/' || c == KLEFR_IEC_STX || c == KLEFR_IEC_SOH, "message starts %02X",
                    c);
    }
    O.msg[O.n++] = c;
    if (O.msg[0] == '/') {
        FUZZ_ASSERT(O.n <= 32, "identification too long");
        if (O.n >= 2 && O.msg[O.n - 2] == '\r' && c == '\n') {
            FUZZ_ASSERT(O.n > 6 && !memcmp(O.msg, "/KLF5", 5), "identification");
            message_done(f);
        }
        return;
    }
    /* SOH/STX ... ETX BCC: done when the byte after ETX arrives. */
    if (O.n >= 3 && O.msg[O.n - 2] == KLEFR_IEC_ETX) {
        FUZZ_ASSERT(klefr_iec_bcc(O.msg + 1, O.n - 2) == c, "BCC");
        message_done(f);
    }
}

static void check_reply(fuzz_slave *f, klefr_port port, const uint8_t *d, size_t n)
{
    FUZZ_ASSERT(port == KLEFR_PORT_IR, "reply on port %d", port);
    FUZZ_ASSERT(n >= 1 && n <= KLEFR_IEC_CHUNK, "write of %zu bytes", n);
    for (size_t k = 0; k < n; k++)
        out_byte(f, d[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slave_setup(KLEFR_MODEL_6924, NULL);
    memset(&O, 0, sizeof O);
    slave_run(KLEFR_PORT_IR, data, size);
    /* Whatever was started was finished (the readout is written at once). */
    FUZZ_ASSERT(O.n == 0, "an unfinished message of %zu bytes", O.n);
    return 0;
}
