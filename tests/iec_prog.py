"""IEC 62056-21 programming-mode round trip against klefr-sim's optical port,
like the KLEFR IR PC software (manual appendix 4): read the meter address,
log in (P1), write the calculation code (W1), read it back (R1), break (B0),
then check the readout shows the new total (16.8.0 follows the calc code).

    /usr/bin/python3 iec_prog.py PORT [SERIAL] [--baud-check]

--baud-check: a master that stays at 300 baud after the option select is not
understood (klefr-sim compares the pty's baud with the meter's).

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
    body = read_until(port, ETX)
    got = port.read(1)
    if bcc(body) != got:
        fail("bad BCC in %r%r" % (first, body))
    return first + body


def prog(port, cmd, data=None):
    """SOH C D [STX data] ETX BCC, returns the reply block."""
    msg = cmd.encode() + (STX + data.encode() if data is not None else b"") + ETX
    port.write(SOH + msg + bcc(msg))
    return read_block(port)


def sign_on(port, serial_no, mode, switch=True):
    port.baudrate = 300
    port.reset_input_buffer()
    port.write(b"/?" + serial_no.encode() + b"!\r\n")
    ident = read_until(port, b"\r\n")
    if not ident.startswith(b"/KLF5"):
        fail("identification %r" % ident)
    print("ok: identification", ident.decode().strip())
    port.write(ACK + b"05" + mode + b"\r\n")
    # The meter's first message (P0, or the readout) comes at the new baud; a
    # pty carries it whatever ours is. Changing baud once it is here, not
    # after a fixed wait for the option select to leave the wire, cannot
    # garble an option select the simulator has not read yet.
    port.flush()
    block = read_block(port)
    if switch:
        port.baudrate = 9600
    return block


def baud_check(port, serial_no):
    sign_on(port, serial_no, b"1", switch=False)  # P0 (read at 300 baud)
    msg = b"R1" + STX + b"0.0.0()" + ETX
    port.write(SOH + msg + bcc(msg))
    time.sleep(1.0)
    if port.in_waiting:
        fail("a master still at 300 baud was answered: %r" % port.read(port.in_waiting))
    print("ok: a master still at 300 baud is not understood")
    port.baudrate = 9600
    if prog(port, "R1", "0.0.0()") != STX + b"0.0.0(" + serial_no.encode() + b")" + ETX:
        fail("R1 at 9600 after the garbled message")
    print("ok: at 9600 baud the meter answers")
    port.write(SOH + b"B0" + ETX + bcc(b"B0" + ETX))
    print("iec baud check: ok")


def main():
    path = sys.argv[1]
    serial_no = sys.argv[2] if len(sys.argv) > 2 else "17060102"
    port = serial.Serial(path, 300, bytesize=8, parity="N", stopbits=1, timeout=0.5)
    if "--baud-check" in sys.argv:
        baud_check(port, serial_no)
        return

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
    port.write(SOH + b"R1" + STX + b"C.90.1()" + ETX + b"\x00")
    if read_block(port) != NAK:
        fail("bad BCC not NAKed")
    port.write(NAK)
    if read_block(port) != NAK:
        fail("NAK did not repeat the last reply")
    print("ok: bad BCC -> NAK, NAK repeats")
    port.write(SOH + b"B0" + ETX + bcc(b"B0" + ETX))
    time.sleep(0.3)

    # A readout after the break: at 300 baud again, calc code 4 total = 2.8.0.
    data = sign_on(port, "", b"0", switch=False)
    lines = data[1:-1].decode().split("\r\n")
    vals = {l.split("(")[0]: l.split("(")[1].rstrip(")") for l in lines if "(" in l}
    if vals.get("16.8.0") != vals.get("2.8.0"):
        fail("16.8.0 %r != 2.8.0 %r with calc code 4" % (vals.get("16.8.0"), vals.get("2.8.0")))
    print("ok: readout after B0, 16.8.0 = 2.8.0 =", vals.get("2.8.0"))
    print("iec programming round trip: ok")


if __name__ == "__main__":
    main()
