/* libFuzzer target for the serial steps' reply decoders (sim/scenario_decode_*.c):
 * any bytes on the line, as a Modbus, M-bus or IEC reply (and for Modbus
 * after any request), must decode to a status and fields or be refused,
 * never crash or read out of bounds; "complete" must hold for no prefix
 * longer than the frame it recognised.
 *   input: byte 0 = protocol (mod 3), byte 1 = request length (Modbus, mod
 *   32), then the request, then the reply.
 * With clang: -Dfuzz as fuzz_scenario.c; otherwise fuzz_driver.c runs it
 * over files in CI (tests/fuzz/corpus-decode). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 4096)
        return 0;
    int proto = data[0] % 3;
    size_t nreq = data[1] % 32;
    if (nreq > size - 2)
        nreq = size - 2;
    const uint8_t *req = data + 2;
    size_t nrep = size - 2 - nreq;
    if (nrep == 0)
        return 0;
    /* exact-size copies: ASan sees any read past the end */
    uint8_t *rq = malloc(nreq ? nreq : 1), *rp = malloc(nrep);
    if (!rq || !rp) {
        free(rq);
        free(rp);
        return 0;
    }
    memcpy(rq, req, nreq);
    memcpy(rp, req + nreq, nrep);
    const klefr_scn_proto *p = proto == 0 ? &klefr_scn_modbus : proto == 1 ? &klefr_scn_mbus
                                                                         : &klefr_scn_iec;
    for (size_t k = 1; k <= nrep; k++) /* as the bytes arrive */
        if (p->complete(rp, k))
            break;
    klefr_scn_xrec rec = {0};
    rec.nx = 1;
    klefr_scn_xchg *x = &rec.x[0];
    x->rep = rp;
    x->nrep = x->caprep = nrep;
    x->req = rq;
    x->nreq = nreq;
    if (proto == 0)
        klefr_scn_modbus_decode_any(rq, nreq, &rec, x);
    else if (proto == 1)
        klefr_scn_mbus_decode_any(&rec, x);
    else
        klefr_scn_iec_decode_any(NULL, &rec, x);
    if (rec.status == KLEFR_SCN_ST_PENDING)
        abort(); /* every reply gets a verdict */
    klefr_scn_xrec_clear(&rec); /* frees rq, rp and the fields */
    return 0;
}
