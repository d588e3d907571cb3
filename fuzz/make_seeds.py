#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/NAME/) from the
golden frames of the tests and the examples of the docs. Run it again when
they change: python3 fuzz/make_seeds.py. Slave inputs use slave.h's events:
ESC (F5) 10 = 17 characters of silence, ESC 81 = 200 ms pass, ESC C0 = power
cycle; a literal F5 is doubled."""
import os, struct, math

HERE = os.path.dirname(os.path.abspath(__file__))
ESC = 0xF5
SIL = bytes([ESC, 0x10])      # a pause between frames
WAIT = bytes([ESC, 0x81])     # 200 ms: the IEC reaction time
LONG_WAIT = bytes([ESC, 0xBF])  # 6.4 s
CYCLE = bytes([ESC, 0xC0])
ERR = bytes([ESC, 0x40])      # the next byte has a framing error


def esc(b):
    return b.replace(bytes([ESC]), bytes([ESC, ESC]))


def crc_reflected(b, poly, init):
    """CRC-16/MODBUS (0xA001, 0xFFFF) or, with init and result inverted, CRC-32."""
    c = init
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (poly if c & 1 else 0)
    return c


def crc16(b):
    return crc_reflected(b, 0xA001, 0xFFFF)


def mb(h):
    b = bytes.fromhex(h)
    c = crc16(b)
    return b + bytes([c & 0xFF, c >> 8])


def mb_cs(b):
    return sum(b) & 0xFF


def short(c, a):
    return bytes([0x10, c, a, (c + a) & 0xFF, 0x16])


def long_(body_hex):
    b = bytes.fromhex(body_hex)
    return bytes([0x68, len(b), len(b), 0x68]) + b + bytes([mb_cs(b), 0x16])


def bcc(b):
    x = 0
    for c in b:
        x ^= c
    return bytes([x & 0x7F])


def prog(cmd, data):
    body = cmd.encode() + b"\x02" + data.encode() + b"\x03"
    return b"\x01" + body + bcc(body)


def write(name, seeds):
    """seed-NN files; other files there (regress-*: inputs a campaign found) stay."""
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.unlink(os.path.join(d, f))
    for k, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % k), "wb") as f:
            f.write(s)


def join(frames, sep=SIL):
    return sep.join(esc(f) for f in frames)


# ---- Modbus RTU (tests/test_modbus.c, manual A3.2) ----
modbus_frames = ["01 03 40 00 00 02", "01 03 50 00 00 2C", "01 04 60 00 00 4B",
                 "01 06 40 03 00 0A", "0A 03 40 03 00 01", "01 06 40 04 25 80",
                 "01 10 40 0D 00 02 04 41 20 00 00", "01 06 40 0F 00 0A", "01 06 40 10 00 25",
                 "01 06 40 16 00 00", "01 06 40 11 00 02", "01 06 60 48 00 02",
                 "01 06 60 48 00 0B", "01 10 60 49 00 02 04 00 00 00 00", "01 05 00 00 FF 00",
                 "01 03 50 00 00 00", "01 03 50 00 00 7E", "00 06 40 03 00 05", "01 2B 0E 01 00",
                 "01 06 40 03 00 0F", "0F 03 40 02 00 01", "01 06 40 0F 00 0B"]
mf = [mb(h) for h in modbus_frames]
seeds = [esc(f) for f in mf]
seeds.append(join(mf))
seeds.append(b"\x00" + join([mb("01 06 40 03 00 0F"), mb("0F 03 40 02 00 01")], b""))
seeds.append(esc(bytes.fromhex("FF 13") + mf[0] + mb("01 10 40 0D 00 7F")[:7] + mf[1]))
seeds.append(esc(mf[3]) + CYCLE + esc(mf[4]))
seeds.append(ERR + esc(mf[0]) + SIL + esc(mf[0]))
seeds.append(esc(mf[5]) + WAIT + esc(mb("01 03 40 04 00 01")))
write("modbus", seeds)

# ---- M-bus (tests/test_mbus.c, manual A2) ----
mbus_frames = [short(0x40, 0), short(0x5B, 0), short(0x7B, 0), short(0x40, 0xFD),
               short(0x40, 0xFE), short(0x7B, 0xFE), short(0x5B, 0xFF),
               long_("53 00 51 01 7A 01"), long_("73 01 51 01 7A FA"),
               long_("53 00 51 0C 79 15 01 23 45"), long_("53 00 51 09 7C 01 54 02"),
               long_("53 00 51 09 FD 3A 05"), long_("53 00 51 0C FD 3A 00 00 01 00"),
               long_("53 00 51 0C 04 12 34 56 78"), long_("53 00 51 0A FD 60 00 00"),
               long_("53 00 51 09 FD 3A 04 01 7A 09"), long_("53 00 50"),
               long_("53 FD 52 02 01 06 17 CD 25 01 02"), long_("53 FD 52 FF FF FF 1F FF FF FF FF"),
               long_("53 00 BB"), long_("53 00 B8"), long_("53 00 BD")]
seeds = [esc(f) for f in mbus_frames]
seeds.append(join(mbus_frames[:8]))
seeds.append(esc(bytes.fromhex("68 05 05 68") + short(0x7B, 0)))
seeds.append(join([long_("53 FD 52 02 01 06 17 CD 25 01 02"), short(0x7B, 0xFD), short(0x40, 0xFD)]))
seeds.append(esc(long_("53 00 51 01 7A 05")) + CYCLE + esc(short(0x7B, 5)))
write("mbus", seeds)

# ---- IEC 62056-21 (tests/test_iec.c, manual appendix 4) ----
sign_on = b"/?!\r\n"
readout = sign_on + WAIT + b"\x06050\r\n" + LONG_WAIT
programming = sign_on + WAIT + b"\x06051\r\n" + WAIT
steps = [prog("P1", "(0000)"), prog("R1", "0.0.0()"), prog("R1", "C.90.11()"),
         prog("W1", "C.90.1(10)"), prog("W1", "C.90.2(0.01)"), prog("W1", "C.90.3(30)"),
         prog("W1", "C.90.4(1)"), prog("W1", "C.90.10(2)"), prog("W1", "C.90.11(0042)"),
         prog("W1", "C.90.12(1)"), prog("W1", "C.90.1(7)"), b"\x15", prog("B0", "")]
seeds = [sign_on, b"/?17060102!\r\n", b"\x00\x00/?!\r\n", readout,
         programming + WAIT.join(steps[:3]) + WAIT,
         programming + WAIT.join(steps) + WAIT,
         programming + prog("P1", "(1234)") + WAIT + steps[0] + LONG_WAIT * 2]
for s in steps[3:10]:
    seeds.append(programming + steps[0] + WAIT + s + WAIT + steps[-1])
write("iec", seeds)

# ---- load grammar (docs/cli.md) ----
write("load", [s.encode() for s in [
    "230V,10A,pf=1", "230V,5A,pf=0.5L", "230V,5A,pf=0.8C", "230V,10A,export", "230V,-10A",
    "230V,5A,pf=0.5L,export", "230V,2kW,pf=0.9L,h5=10%/40%", "10A,f=49.5", "phi=30",
    "h3=2/5@10/20,h5=1/2,h7=3/4@-90/90", "noise=0.5/0.01,dc=1/0.1", "250mA", "p=2300,v=230",
    "90", "1h30m", "15min", "250ms", "2d", "1.5h"]])

# ---- profiles (docs/cli.md, scenarios/) ----
def json_files(sub):
    d = os.path.join(HERE, "..", "scenarios", sub)
    return [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))
            if f.endswith(".json") and f != "schema.json"]
prof = json_files("profiles")
prof += [s.encode() for s in [
    '[{"duration": 10}]',
    '{"name": "x", "repeat": true, "segments": [{"duration": "1h", "load": "230V,0.5A,pf=0.9L"},'
    ' {"duration": 1800, "i": 12, "tariff_input": true}, {"duration": "2min", "power": false},'
    ' {"duration": "30s", "i": -4, "pf": "0.8C", "tariff": 2, "direction": "export",'
    ' "harmonics": [{"order": 5, "v_pct": 3, "i_pct": 20, "v_phase": 10, "i_phase": -20}]}]}',
    '[{"duration": 1, "v": 230, "f": 50, "phi": 60, "p": 1000, "comment": "c"}]',
    '[{"duration": 1, "harmonics": []}]']]
write("profile", prof)

# ---- scenarios (scenarios/*.json, docs/scenarios.md) ----
write("scenario", json_files("") + [s.encode() for s in [
    '{"meter": {"model": 6924}, "timeline": [{"duration": "1h", "load": "230V,10A"}],'
    ' "expect": [{"value": "error", "eq": 0}]}']])

# ---- CSV (first byte: --replay-rate choice) ----
def csv(rows, header="time,v,i"):
    return (header + "\n" + "\n".join(rows) + "\n").encode()
sine = ["%.6f,%.3f,%.3f" % (k / 4000, 325 * math.sin(2 * math.pi * 50 * k / 4000),
                            14 * math.sin(2 * math.pi * 50 * k / 4000)) for k in range(80)]
write("csv", [b"\x00" + csv(sine), b"\x02" + csv([r.split(",", 1)[1] for r in sine], "v;i"),
              b"\x00" + b"# c\n0 1 2\n0.00025 3 4\n0.0005 5 6\n", b"\x01" + b"1,2\n3,4\n",
              b"\x00" + csv(["0,1,2", "0.001,1,2"], "i,t,v")])

# ---- WAV ----
def wav(bits, fmt, rate, n, extensible=False):
    bps = bits // 8
    data = bytearray()
    for k in range(n):
        for amp in (0.65, 0.07):
            x = amp * math.sin(2 * math.pi * 50 * k / rate)
            if fmt == 3:
                data += struct.pack("<f" if bits == 32 else "<d", x)
            else:
                data += int(x * (2 ** (bits - 1) - 1)).to_bytes(bps, "little", signed=True)
    if extensible:
        fmtc = struct.pack("<HHIIHHHHIH14s", 0xFFFE, 2, rate, rate * 2 * bps, 2 * bps, bits, 22,
                           bits, 3, fmt, b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    else:
        fmtc = struct.pack("<HHIIHH", fmt, 2, rate, rate * 2 * bps, 2 * bps, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmtc)) + fmtc + b"data" + \
        struct.pack("<I", len(data)) + bytes(data)
    return b"RIFF" + struct.pack("<I", len(body)) + body
write("wav", [wav(16, 1, 8000, 160), wav(24, 1, 44100, 100), wav(32, 1, 4000, 80),
              wav(32, 3, 4000, 80), wav(64, 3, 1000, 40), wav(16, 1, 4000, 80, True)])

# ---- EEPROM images: first byte picks the model; then the 2048-byte image ----
def crc32(b):
    return crc_reflected(b, 0xEDB88320, 0xFFFFFFFF) ^ 0xFFFFFFFF

def image(seq, kind=1, version=2, energy=123456789, downs=3):
    p = struct.pack("<BBIIBIBBBHBBI", 1, 0, 0x17060102, 9600, 1, 100000, 1, 10, 0, 0, 0, 1, 0)
    p += struct.pack("<8Q", energy, 0, 0, 0, 0, 0, 0, 0) + struct.pack("<QI", energy, downs)
    if version == 2:
        p += bytes([kind])
    h = struct.pack("<IHHI", 0x52464C4B, version, len(p), seq) + p
    return h + struct.pack("<I", crc32(h))

def eeprom(c0, c1):
    m = bytearray(b"\xff" * 2048)
    m[0:len(c0)] = c0
    m[1024:1024 + len(c1)] = c1
    return bytes(m)
blank = b""
torn = image(5)[:40]
write("eeprom", [bytes([m]) + e for m, e in [
    (3, eeprom(blank, blank)), (3, eeprom(image(1), blank)), (2, eeprom(image(7), image(8, 0))),
    (1, eeprom(image(0xFFFFFFFF), image(0, 0))), (0, eeprom(image(2, version=1), blank)),
    (3, eeprom(torn, image(4))), (3, eeprom(torn, torn))]])
print("seeds written to", os.path.join(HERE, "corpus"))
