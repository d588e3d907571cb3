#!/usr/bin/python3
"""Live-port abuse (issue 13): klefr-sim --model 6924 on its pty links, from
the outside only (its command line, the links, /proc): garbage at random,
requests split at every byte boundary, frames glued together, a master at
the wrong baud, the port opened and closed 1,000 times, floods at the
meter's and the pty's highest baud. Afterwards the meter still answers
every good frame, holds no more descriptors than before and its memory is
flat.  usage: port_abuse.py KLEFR_SIM"""
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serial_timing import crc16  # frame + CRC-16/MODBUS, low byte first

sim = sys.argv[1]
rng = random.Random(13)
fails = []


def fail(msg):
    print("FAIL:", msg)
    fails.append(msg)


def ok(msg):
    print("ok:", msg)


READ_ID = crc16(bytes.fromhex("01 03 40 02 00 01"))  # meter code 0x6924
ID_REPLY = crc16(bytes.fromhex("01 03 02 69 24"))
READ_V = crc16(bytes.fromhex("01 03 50 00 00 02"))    # voltage, float

SPEEDS = {4800: termios.B4800, 9600: termios.B9600, 115200: termios.B115200}


def open_port(path, baud=9600):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    a = termios.tcgetattr(fd)
    a[0] = a[1] = a[3] = 0                              # raw
    a[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
    a[4] = a[5] = SPEEDS[baud]
    termios.tcsetattr(fd, termios.TCSANOW, a)
    return fd


def write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
            data = data[n:]
        except BlockingIOError:
            select.select([], [fd], [], 1)


def drain(fd, quiet=0.15):
    """Everything the meter sends until it is quiet for `quiet` s."""
    got = b""
    while select.select([fd], [], [], quiet)[0]:
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        got += chunk
    return got


def read_reply(fd, n, timeout=5.0):  # generous: a loaded machine may stall us
    got = b""
    end = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        if select.select([fd], [], [], end - time.monotonic())[0]:
            try:
                got += os.read(fd, 4096)
            except BlockingIOError:
                pass
    return got


def answers(fd, what):
    drain(fd, 0.05)
    write_all(fd, READ_ID)
    got = read_reply(fd, len(ID_REPLY))
    if got != ID_REPLY:
        fail("%s: reply %s, want %s" % (what, got.hex(" "), ID_REPLY.hex(" ")))
        return False
    return True


def proc_state(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return fds, rss


tmp = tempfile.mkdtemp()
env = dict(os.environ, KLEFR_STATE_DIR=tmp)
port = os.path.join(tmp, "modbus")
proc = subprocess.Popen([sim, "--headless", "--ephemeral", "--model", "6924",
                         "--load", "230V,5A", "--speed", "1", "--modbus-port", port],
                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    for _ in range(600):
        if os.path.exists(port):
            break
        time.sleep(0.05)
    else:
        sys.exit("FAIL: klefr-sim did not open its port: %s" % proc.stderr.read())
    fd = open_port(port)
    answers(fd, "at start")
    # Warm up what a long session uses once (buffers, the event queue), then
    # take the figures to compare with.
    for _ in range(50):
        write_all(fd, READ_ID)
        read_reply(fd, len(ID_REPLY))
    fds0, rss0 = proc_state(proc.pid)

    # 1. Garbage at random, between good requests.
    good = 0
    for r in range(200):
        write_all(fd, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 300))))
        time.sleep(0.01)  # t3.5 of silence ends the junk
        good += answers(fd, "after garbage round %d" % r)
    ok("200 rounds of random garbage, %d good answers" % good)

    # 2. A request split at every byte boundary, written in two pieces at once.
    # (If this process is descheduled between the two writes for longer than
    # t3.5, 4 ms, the meter rightly sees two frames: a split is tried up to
    # three times, so only a meter that never joins the pieces fails.)
    retried = 0
    for frame in (READ_ID, crc16(bytes.fromhex("01 10 40 0D 00 02 04 41 20 00 00"))):
        want = ID_REPLY if frame == READ_ID else crc16(bytes.fromhex("01 10 40 0D 00 02"))
        for k in range(1, len(frame)):
            for attempt in range(3):
                drain(fd, 0.02)
                write_all(fd, frame[:k])
                write_all(fd, frame[k:])
                got = read_reply(fd, len(want), 1.0 if attempt < 2 else 5.0)
                if got == want:
                    break
                retried += 1
            else:
                fail("split after byte %d of %s: %s" % (k, frame.hex(" "), got.hex(" ")))
    ok("requests split at every byte boundary answered (%d tried again)" % retried)

    # 3. Frames glued together: junk, a request to another meter and ours,
    # back to back: one answer, ours. (Four requests to this meter in one
    # write cannot all be answered on RS-485: the master would talk into the
    # replies, and the line garbles both, docs/serial.md; the meter must
    # still answer afterwards.)
    other = crc16(bytes.fromhex("02 03 40 02 00 01"))
    drain(fd, 0.05)
    write_all(fd, b"\x00" + other + b"\xff\x13" + READ_ID)
    got = read_reply(fd, len(ID_REPLY))
    time.sleep(0.1)
    got += drain(fd, 0.2)
    if got != ID_REPLY:
        fail("glued frames: %s" % got.hex(" "))
    drain(fd, 0.05)
    write_all(fd, READ_ID * 4)
    time.sleep(0.3)
    drain(fd, 0.3)
    if answers(fd, "after four glued requests") and got == ID_REPLY:
        ok("glued frames: ours answered, the other meter's not; answering after four glued")

    # 4. A master at the wrong baud is not understood; at the right one it is.
    os.close(fd)
    fd = open_port(port, 4800)
    write_all(fd, READ_ID)
    got = drain(fd, 0.5)
    if got:
        fail("a master at 4800 got an answer: %s" % got.hex(" "))
    os.close(fd)
    fd = open_port(port)
    if answers(fd, "back at 9600") and not got:
        ok("at 4800 no answer, at 9600 answered")

    # 5. The port opened and closed 1,000 times (a request now and then).
    os.close(fd)
    for k in range(1000):
        f = open_port(port)
        if k % 100 == 99:
            answers(f, "open %d" % k)
        os.close(f)
    fd = open_port(port)
    if answers(fd, "after 1,000 opens"):
        ok("opened and closed 1,000 times")

    # 6. Floods: 10 s of line time of junk at the meter's highest baud, then
    # at the pty's (written at once: the line carries it at its baud, so the
    # meter can answer once it has passed).
    for baud in (9600, 115200):
        os.close(fd)
        fd = open_port(port, baud)
        size = baud // 11 * 10
        junk = bytes(rng.getrandbits(8) for _ in range(size))
        t0 = time.monotonic()
        for k in range(0, size, 4096):
            write_all(fd, junk[k:k + 4096])
            drain(fd, 0)  # whatever the meter says meanwhile
        os.close(fd)
        fd = open_port(port)
        end = time.monotonic() + 30
        while time.monotonic() < end:  # until the flood has left the line
            drain(fd, 0.05)
            write_all(fd, READ_ID)
            if read_reply(fd, len(ID_REPLY), 0.5) == ID_REPLY:
                break
            time.sleep(0.5)
        if answers(fd, "after a flood at %d" % baud):
            ok("%d KiB flood at %d baud, answered %.1f s after it started" %
               (size // 1024, baud, time.monotonic() - t0))

    # Afterwards: every good frame answered, the voltage too.
    drain(fd, 0.05)
    write_all(fd, READ_V)
    got = read_reply(fd, 9)
    if len(got) != 9 or crc16(got[:7]) != got:
        fail("voltage read after the abuse: %s" % got.hex(" "))
    good = sum(answers(fd, "final %d" % k) for k in range(100))
    ok("100 of 100 final requests answered" if good == 100 else "%d of 100" % good)
    os.close(fd)
    time.sleep(0.2)
    fds1, rss1 = proc_state(proc.pid)
    if fds1 > fds0:
        fail("descriptors: %d before, %d after" % (fds0, fds1))
    else:
        ok("descriptors: %d before, %d after" % (fds0, fds1))
    if rss1 > rss0 + 2048:
        fail("memory grew: VmRSS %d kB before, %d kB after" % (rss0, rss1))
    else:
        ok("memory flat: VmRSS %d kB before, %d kB after" % (rss0, rss1))
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "hung"
    if rc != 0:
        fail("klefr-sim ended with %s: %s" % (rc, proc.stderr.read().decode(errors="replace")[-500:]))
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)

if fails:
    print("%d failure(s)" % len(fails))
    sys.exit(1)
