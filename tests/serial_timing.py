#!/usr/bin/python3
"""klefr-sim's serial line timing, measured on the master's side (pyserial on
a pty, rfc2217://HOST:PORT or socket://HOST:PORT), against the limits in
docs/serial.md.

    serial_timing.py modbus URL BAUD,BAUD,...   read 50 registers at each baud;
                                                the meter is switched by a write
                                                of 0x4004 and the next request
                                                goes out at once at the new baud
    serial_timing.py mbus URL BAUD,BAUD,...     SND_NKE, REQ_UD2 at each baud;
                                                switched by CI B8..BD, at once
    serial_timing.py iec URL Z                  sign-on at 300, readout at the
                                                baud of Z (0: stays at 300, 5:
                                                9600), then at once a sign-on
    serial_timing.py modbus-parity URL          over RFC 2217: 8E1 answered,
                                                8N1 and 8O1 not

For every exchange: the response time (from the end of the request on the
wire, i.e. our write plus its characters at our baud, to the first reply byte)
and the largest gap between reply bytes. Checked: never earlier than the
meter's reaction time plus one character (the line model cannot be early),
at most the documented reaction + one character + SLACK (the master runs in
wall time on a shared machine), gaps at most one character + SLACK, and a long
reply is spread over its wire time (streamed, not sent in one burst).

On a pty (no parity on a pty, GUIDE 7) the port is opened without parity;
over RFC 2217 with the meter's real format. Exit 0 when every check holds."""
import struct
import sys
import time

import serial

SLACK = 0.4  # s: a loaded machine may run the simulator or us late
EARLY = 0.003  # s: clock and scheduling granularity


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def char_s(baud, bits):
    return bits / baud


class Master:
    def __init__(self, url, baud, bytesize=8, parity="N"):
        self.url = url
        self.is_pty = not (url.startswith("rfc2217://") or url.startswith("socket://"))
        self.bits = 1 + bytesize + (parity != "N") + 1
        kw = {"baudrate": baud, "timeout": 0.05}
        if not url.startswith("socket://"):  # a pty carries neither (GUIDE 7)
            kw.update(bytesize=8 if self.is_pty else bytesize, parity="N" if self.is_pty else parity)
        self.port = serial.serial_for_url(url, **kw)
        self.baud = baud
        self.bytesize = bytesize

    def set_baud(self, baud):
        self.baud = baud
        if not self.url.startswith("socket://"):
            self.port.baudrate = baud

    def char(self):
        return char_s(self.baud, self.bits)

    def exchange(self, req, done, timeout, meter_bits=None):
        """Write req, read until done(reply) or timeout. Returns the reply, the
        response time and the arrival time of each byte (relative)."""
        self.port.reset_input_buffer()
        t_write = time.monotonic()  # before: the simulator cannot have it earlier
        self.port.write(req)
        req_end = t_write + len(req) * self.char()
        got, times = b"", []
        while time.monotonic() - t_write < timeout and not done(got):
            b = self.port.read(1)
            if b:
                times.append(time.monotonic())
                got += b
                n = self.port.in_waiting
                if n:
                    more = self.port.read(n)
                    now = time.monotonic()
                    got += more
                    times += [now] * len(more)
        return got, [t - req_end for t in times]


def check(what, times, n, reaction, char, limit):
    """Response and gaps of one reply against the documented timing."""
    if not times:
        fail("%s: no reply" % what)
    first = times[0]
    want = reaction + char
    if first < want - EARLY:
        fail("%s: first reply byte %.1f ms after the request, before the meter's reaction "
             "time + one character (%.1f ms)" % (what, first * 1e3, want * 1e3))
    if first > limit + char + SLACK:
        fail("%s: first reply byte after %.1f ms, limit %.1f ms + %.0f ms slack"
             % (what, first * 1e3, (limit + char) * 1e3, SLACK * 1e3))
    gaps = [b - a for a, b in zip(times, times[1:])]
    gap = max(gaps) if gaps else 0.0
    if gap > char + SLACK:
        fail("%s: %.1f ms between reply bytes (one character is %.1f ms)" % (what, gap * 1e3, char * 1e3))
    wire = (n - 1) * char
    span = times[-1] - times[0]
    if wire >= 0.05 and span < 0.5 * wire:
        fail("%s: %d bytes in %.1f ms: not streamed (wire time %.1f ms)" % (what, n, span * 1e3, wire * 1e3))
    print("ok: %-28s response %7.1f ms (model %7.1f, limit %7.1f)  max gap %6.1f ms (char %5.1f)  "
          "%3d bytes in %7.1f ms" % (what, first * 1e3, want * 1e3, (limit + char) * 1e3, gap * 1e3,
                                      char * 1e3, n, span * 1e3))


# ---- Modbus RTU ----

def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes(data) + bytes([crc & 0xFF, crc >> 8])


def mb_crc_ok(f):
    return len(f) >= 4 and crc16(f[:-2]) == f


def t35(baud, bits=11):
    return 0.00175 if baud > 19200 else 3.5 * bits / baud


def modbus(url, bauds):
    m = Master(url, bauds[0], 8, "E")
    for k, baud in enumerate(bauds):
        reaction = t35(baud) + 0.0005
        req = crc16([1, 3, 0x60, 0x00, 0x00, 50])
        r, times = m.exchange(req, lambda g: len(g) >= 105, 3.0)
        if len(r) != 105 or not mb_crc_ok(r) or r[:3] != bytes([1, 3, 100]):
            fail("modbus %d: read 50 registers: %s" % (baud, r.hex(" ")))
        check("modbus %d read 50 regs" % baud, times, len(r), reaction, m.char(), reaction)
        nxt = bauds[k + 1] if k + 1 < len(bauds) else bauds[0]
        if nxt == baud:
            continue
        req = crc16([1, 6, 0x40, 0x04, nxt >> 8, nxt & 0xFF])
        r, times = m.exchange(req, lambda g: len(g) >= 8, 3.0)
        if r != req:
            fail("modbus %d: write baud %d: %s" % (baud, nxt, r.hex(" ")))
        check("modbus %d write baud" % baud, times, len(r), reaction, m.char(), reaction)
        m.set_baud(nxt)  # and the next request goes out at once
    print("modbus timing: ok")


def modbus_parity(url):
    """The meter is 8E1: a master at 8N1 or 8O1 is not understood."""
    req = crc16([1, 3, 0x40, 0x00, 0x00, 0x02])
    for parity, answered in (("E", True), ("N", False), ("O", False), ("E", True)):
        m = Master(url, 9600, 8, parity)
        r, times = m.exchange(req, lambda g: len(g) >= 9, 1.0)
        m.port.close()
        if answered and (len(r) != 9 or not mb_crc_ok(r)):
            fail("8%s1: no good reply (%s)" % (parity, r.hex(" ")))
        if not answered and mb_crc_ok(r):
            fail("8%s1 was answered by an 8E1 meter: %s" % (parity, r.hex(" ")))
        if answered:
            check("modbus 9600 8%s1" % parity, times, len(r), t35(9600) + 0.0005, 11 / 9600,
                  t35(9600) + 0.0005)
        else:
            print("ok: 8%s1 master not understood (got %d garbled bytes back)" % (parity, len(r)))
    print("modbus parity over RFC 2217: ok")


# ---- M-bus ----

MBUS_CI_BAUD = {300: 0xB8, 600: 0xB9, 1200: 0xBA, 2400: 0xBB, 4800: 0xBC, 9600: 0xBD}


def mbus_reaction(baud):
    return 11 / baud + 0.002


def mbus_limit(baud):
    return 330 / baud + 0.050  # EN 13757-2: the master waits this long


def mbus_long(c, a, ci, data=b""):
    body = bytes([c, a, ci]) + data
    return bytes([0x68, len(body), len(body), 0x68]) + body + bytes([sum(body) & 0xFF, 0x16])


def mbus_frame_done(g):
    if g[:1] == b"\xe5":
        return True
    return len(g) >= 4 and g[0] == 0x68 and len(g) >= g[1] + 6


def mbus_check_long(f):
    """A long frame as libmbus checks it: start, lengths, checksum, stop."""
    return (len(f) >= 9 and f[0] == 0x68 and f[3] == 0x68 and f[1] == f[2] and len(f) == f[1] + 6
            and f[-1] == 0x16 and sum(f[4:-2]) & 0xFF == f[-2])


def mbus(url, bauds):
    m = Master(url, bauds[0], 8, "E")
    for k, baud in enumerate(bauds):
        what = "mbus %d" % baud
        r, times = m.exchange(bytes([0x10, 0x40, 0x00, 0x40, 0x16]), mbus_frame_done, 3.0)
        if r != b"\xe5":
            fail("%s: SND_NKE: %s" % (what, r.hex(" ")))
        check(what + " SND_NKE", times, 1, mbus_reaction(baud), m.char(), mbus_limit(baud))
        r, times = m.exchange(bytes([0x10, 0x7B, 0x00, 0x7B, 0x16]), mbus_frame_done, 10.0)
        if not mbus_check_long(r) or r[6] != 0x72:
            fail("%s: REQ_UD2: %s" % (what, r.hex(" ")))
        ident = "%08x" % struct.unpack("<I", r[7:11])[0]
        check(what + " REQ_UD2 id " + ident, times, len(r), mbus_reaction(baud), m.char(),
              mbus_limit(baud))
        nxt = bauds[k + 1] if k + 1 < len(bauds) else bauds[0]
        if nxt == baud:
            continue
        r, times = m.exchange(mbus_long(0x53, 0, MBUS_CI_BAUD[nxt]), mbus_frame_done, 3.0)
        if r != b"\xe5":
            fail("%s: switch to %d: %s" % (what, nxt, r.hex(" ")))
        check(what + " switch baud", times, 1, mbus_reaction(baud), m.char(), mbus_limit(baud))
        m.set_baud(nxt)  # and the next request goes out at once
    print("mbus timing: ok")


# ---- IEC 62056-21 ----

IEC_REACTION = 0.200
IEC_MAX = 1.500


def iec(url, z):
    m = Master(url, 300, 7, "E")
    for session in ("readout", "sign-on right after it"):
        m.set_baud(300)
        r, times = m.exchange(b"/?!\r\n", lambda g: g.endswith(b"\r\n"), 3.0)
        if not r.startswith(b"/KLF5"):
            fail("identification: %r" % r)
        check("iec identification (%s)" % session, times, len(r), IEC_REACTION, m.char(), IEC_MAX)
        if session != "readout":
            break
        baud = {"0": 300, "5": 9600}[z]
        ack = b"\x060" + z.encode() + b"0\r\n"
        t_ack_end = time.monotonic() + len(ack) * m.char()
        m.port.write(ack)
        # like a master after tcdrain: switch once the option select has left
        time.sleep(max(0.0, t_ack_end - time.monotonic()) + 0.02)
        m.set_baud(baud)
        got, times = b"", []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (len(got) >= 2 and got[-2:-1] == b"\x03"):
            b = m.port.read(1)
            if b:
                times.append(time.monotonic())
                got += b
        got = bytes(c & 0x7F for c in got)
        if got[:1] != b"\x02" or got[-2:-1] != b"\x03" or b"0.0.0(" not in got:
            fail("readout at %d: %r" % (baud, got[:80]))
        bcc = 0
        for c in got[1:-1]:
            bcc ^= c
        if bcc & 0x7F != got[-1]:
            fail("readout BCC")
        check("iec readout at %d" % baud, [t - t_ack_end for t in times], len(got), IEC_REACTION,
              m.char(), IEC_MAX)
    print("iec timing: ok")


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "modbus":
        modbus(url, [int(b) for b in sys.argv[3].split(",")])
    elif cmd == "modbus-parity":
        modbus_parity(url)
    elif cmd == "mbus":
        mbus(url, [int(b) for b in sys.argv[3].split(",")])
    elif cmd == "iec":
        iec(url, sys.argv[3])
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
