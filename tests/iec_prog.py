"""IEC 62056-21 programming-mode round trip against klefr-sim's optical port,
like the KLEFR IR PC software (manual appendix 4): read the meter address,
log in (P1), write the calculation code (W1), read it back (R1), break (B0),
then check the readout shows the new total (16.8.0 follows the calc code).

    /usr/bin/python3 iec_prog.py PORT [SERIAL] [--baud-check]

--baud-check: a master that stays at 300 baud after the option select gets
the meter's 9600-baud message garbled and is not understood (klefr-sim
decodes the line at the baud the master set on its pty).

A pty carries no parity (docs/protocols/iec62056-21.md): the port is opened
8N1 at 300 baud and bytes are sent as plain 7-bit ASCII. Exit 0 when all
checks hold."""
import sys
import time

import serial

SOH, STX, ETX, ACK, NAK = b"\x01", b"\x02", b"\x03", b"\x06", b"\x15"


def bcc(data):
    b = 0
    for c in data:
        b ^= c
    return bytes([b & 0x7F])


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def read_until(port, end, timeout=3.0):
    buf = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        buf += port.read(1)
        if buf.endswith(end):
            return buf
    fail("timeout waiting for %r, got %r" % (end, buf))


def read_block(port):
    """STX/SOH ... ETX BCC, the BCC checked; or a single ACK/NAK."""
    first = b""
    t0 = time.monotonic()
    while not first and time.monotonic() - t0 < 3.0:  # after the reaction time
        first = port.read(1)
    if first in (ACK, NAK):
        return first
    if first not in (SOH, STX):
        fail("unexpected start %r" % first)
    body = read_until(port, ETX, timeout=60.0)  # a readout at 300 baud takes ~15 s
    got = port.read(1)
    if bcc(body) != got:
        fail("bad BCC in %r%r" % (first, body))
    return first + body


def prog(port, cmd, data=None):
    """SOH C D [STX data] ETX BCC, returns the reply block."""
    msg = cmd.encode() + (STX + data.encode() if data is not None else b"") + ETX
    write(port, SOH + msg + bcc(msg))
    return read_block(port)


LAST_WRITE = [0.0, 0]  # when, and how many characters


def write(port, data):
    port.write(data)
    LAST_WRITE[0], LAST_WRITE[1] = time.monotonic(), len(data)


def drain(port):
    """Wait as long as a real port's tcdrain would: until what we wrote last
    has left the wire at our baud (10 bits a character). On a pty tcdrain
    returns at once; changing the baud before the simulator has read our
    bytes would send them at the new baud, garbled, as on a real port."""
    left = LAST_WRITE[0] + LAST_WRITE[1] * 10.0 / port.baudrate + 0.02 - time.monotonic()
    if left > 0:
        time.sleep(left)


def identify(port, serial_no):
    drain(port)  # what we sent at the old baud must leave first
    port.baudrate = 300
    port.reset_input_buffer()
    write(port, b"/?" + serial_no.encode() + b"!\r\n")
    ident = read_until(port, b"\r\n")
    if not ident.startswith(b"/KLF5"):
        fail("identification %r" % ident)
    print("ok: identification", ident.decode().strip())


def sign_on(port, serial_no, mode, z=b"5"):
    """Sign on, select mode (b"0" readout, b"1" programming) at the baud of
    z (b"5" 9600, b"0" stays at 300); returns the meter's first block."""
    identify(port, serial_no)
    write(port, ACK + b"0" + z + mode + b"\r\n")
    # The meter answers at the new baud 200 ms (its reaction time) after the
    # option select has reached it: switch as soon as the option select has
    # left our side, as a master on a real port does after tcdrain.
    drain(port)
    port.baudrate = {b"0": 300, b"5": 9600}[z]
    return read_block(port)


def readout_values(block):
    lines = block[1:-1].decode().split("\r\n")
    return {l.split("(")[0]: l.split("(")[1].rstrip(")") for l in lines if "(" in l}


def baud_check(port, serial_no):
    identify(port, serial_no)
    write(port, ACK + b"051\r\n")
    drain(port)
    garbled = b""  # the P0 at 9600, read at 300: not the P0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        garbled += port.read(64)
    if STX + b"(" + serial_no.encode() + b")" in garbled:
        fail("a master still at 300 baud read the 9600-baud P0: %r" % garbled)
    print("ok: at 300 baud the 9600-baud P0 is garbage:", garbled.hex())
    msg = b"R1" + STX + b"0.0.0()" + ETX
    write(port, SOH + msg + bcc(msg))
    time.sleep(1.0)
    if port.in_waiting:
        fail("a master still at 300 baud was answered: %r" % port.read(port.in_waiting))
    print("ok: a master still at 300 baud is not understood")
    port.baudrate = 9600
    if prog(port, "R1", "0.0.0()") != STX + b"0.0.0(" + serial_no.encode() + b")" + ETX:
        fail("R1 at 9600 after the garbled message")
    print("ok: at 9600 baud the meter answers")
    write(port, SOH + b"B0" + ETX + bcc(b"B0" + ETX))
    print("iec baud check: ok")


def main():
    path = sys.argv[1]
    serial_no = sys.argv[2] if len(sys.argv) > 2 else "17060102"
    port = serial.Serial(path, 300, bytesize=8, parity="N", stopbits=1, timeout=0.5)
    if "--baud-check" in sys.argv:
        baud_check(port, serial_no)
        return

    # A readout at 9600, then at once (no pause) a programming session: the
    # meter is back at 300 baud the moment its readout's last stop bit ends.
    vals = readout_values(sign_on(port, serial_no, b"0"))
    if vals.get("0.0.0") != serial_no:
        fail("readout at 9600: %r" % vals)
    print("ok: readout at 9600 baud, then straight to programming")
    p0 = sign_on(port, serial_no, b"1")
    if p0 != SOH + b"P0" + STX + b"(" + serial_no.encode() + b")" + ETX:
        fail("P0 %r" % p0)
    print("ok: P0 meter address", serial_no)
    if prog(port, "R1", "0.0.0()") != STX + b"0.0.0(" + serial_no.encode() + b")" + ETX:
        fail("R1 meter address")
    print("ok: R1 meter address")
    if prog(port, "W1", "C.90.1(10)") != STX + b"(ERROR)" + ETX:
        fail("W1 before the password was accepted")
    if prog(port, "P1", "(1111)") != STX + b"(ERROR)" + ETX:
        fail("wrong password accepted")
    print("ok: wrong password -> (ERROR)")
    if prog(port, "P1", "(0000)") != ACK:
        fail("password 0000 refused")
    print("ok: P1 0000 -> ACK")
    # "Save mode": several writes in one session.
    for addr, value in (("C.90.1", "4"), ("C.90.3", "15"), ("C.90.12", "1")):
        if prog(port, "W1", "%s(%s)" % (addr, value)) != ACK:
            fail("W1 %s(%s)" % (addr, value))
        got = prog(port, "R1", addr + "()")
        if got != STX + ("%s(%s)" % (addr, value.zfill(2) if addr != "C.90.12" else value)).encode() + ETX:
            fail("R1 %s: %r" % (addr, got))
        print("ok: W1/R1 %s = %s" % (addr, value))
    if prog(port, "W1", "C.90.1(7)") != STX + b"(ERROR)" + ETX:
        fail("calc code 7 accepted")
    print("ok: W1 calc code 7 -> (ERROR)")
    # A bad BCC is answered with NAK; a NAK repeats the last reply.
    write(port, SOH + b"R1" + STX + b"C.90.1()" + ETX + b"\x00")
    if read_block(port) != NAK:
        fail("bad BCC not NAKed")
    write(port, NAK)
    if read_block(port) != NAK:
        fail("NAK did not repeat the last reply")
    print("ok: bad BCC -> NAK, NAK repeats")
    write(port, SOH + b"B0" + ETX + bcc(b"B0" + ETX))

    # A readout right after the break that stays at 300 baud (Z = 0): calc
    # code 4, so total = 2.8.0.
    vals = readout_values(sign_on(port, "", b"0", z=b"0"))
    if vals.get("16.8.0") != vals.get("2.8.0"):
        fail("16.8.0 %r != 2.8.0 %r with calc code 4" % (vals.get("16.8.0"), vals.get("2.8.0")))
    print("ok: readout at 300 baud after B0, 16.8.0 = 2.8.0 =", vals.get("2.8.0"))
    print("iec programming round trip: ok")


if __name__ == "__main__":
    main()
