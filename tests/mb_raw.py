#!/usr/bin/python3
"""Robustness: malformed frames, wrong CRC, truncated frames and random garbage
between good frames never wedge the meter's port. Raw bytes on the pty.

  mb_raw.py PORT"""
import os
import random
import sys
import termios
import time
import tty

from serial_timing import crc16  # the same directory

fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
attrs = termios.tcgetattr(fd)
attrs[4] = attrs[5] = termios.B9600
termios.tcsetattr(fd, termios.TCSANOW, attrs)
termios.tcflush(fd, termios.TCIOFLUSH)
GOOD = crc16([1, 3, 0x40, 0x02, 0, 1])
WANT = crc16([1, 3, 2, 0x69, 0x24])


def read_for(seconds, want=1 << 30):
    out = b""
    end = time.monotonic() + seconds
    os.set_blocking(fd, False)
    while time.monotonic() < end and len(out) < want:
        try:
            out += os.read(fd, 512)
        except BlockingIOError:
            time.sleep(0.002)
    return out


def exchange(frame, wait=1.0, want=len(WANT)):
    os.write(fd, frame)
    got = read_for(wait, want)
    return got + read_for(0.01)  # anything extra would be a bug


def check_good(what):
    got = exchange(GOOD)
    if got != WANT:
        print("FAIL after %s: got %s" % (what, got.hex(" ")))
        sys.exit(1)


rnd = random.Random(692)
check_good("start")
cases = [
    ("wrong CRC", GOOD[:-1] + bytes([GOOD[-1] ^ 0xFF])),
    ("truncated", GOOD[:5]),
    ("other address", crc16([7, 3, 0x40, 0x02, 0, 1])),
    ("FC 10 with a huge byte count", crc16([1, 0x10, 0x40, 0x0D, 0, 2, 250, 1, 2])),
    ("unknown function", bytes([1, 0x44, 0, 0])),
    ("one byte", b"\x01"),
]
for what, junk in cases:
    got = exchange(junk, 0.1, 1 << 30)
    if got:
        print("FAIL: %s was answered: %s" % (what, got.hex(" ")))
        sys.exit(1)
    check_good(what)
for r in range(30):
    junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 60)))
    exchange(junk, 0.02, 1 << 30)
    check_good("garbage %s" % junk.hex())
# garbage glued to the front of a good frame, no silence between
got = exchange(bytes([0xFF, 0x13, 0x77]) + GOOD)
if got != WANT:
    print("FAIL: junk glued to a good frame: got %s" % got.hex(" "))
    sys.exit(1)
print("robustness ok")
