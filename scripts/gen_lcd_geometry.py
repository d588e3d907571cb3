#!/usr/bin/python3
"""Generate assets/lcd.json: the KLEFR 692x LCD glass geometry (segments of a
7-segment digit and a 14-segment character, icons, row positions). The JSON
is the data the panel reads; edit it directly or change this script and run
    /usr/bin/python3 scripts/gen_lcd_geometry.py > assets/lcd.json
Units: 0.1 mm (the panel draws the meter at 10 units per mm)."""
import json, math

def r(v):
    return round(v, 2)

def hseg(xl, xr, y, t, g):
    return [(xl + g, y), (xl + g + t / 2, y - t / 2), (xr - g - t / 2, y - t / 2),
            (xr - g, y), (xr - g - t / 2, y + t / 2), (xl + g + t / 2, y + t / 2)]

def vseg(x, yt, yb, t, g):
    return [(x, yt + g), (x + t / 2, yt + g + t / 2), (x + t / 2, yb - g - t / 2),
            (x, yb - g), (x - t / 2, yb - g - t / 2), (x - t / 2, yt + g + t / 2)]

def dseg(x0, y0, x1, y1, t):
    """A diagonal bar from (x0,y0) to (x1,y1), t wide."""
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy)
    px, py = -dy / n * t / 2, dx / n * t / 2
    return [(x0 + px, y0 + py), (x1 + px, y1 + py), (x1 - px, y1 - py), (x0 - px, y0 - py)]

def slant(poly, h, k):
    return [[r(x + (h - y) * k), r(y)] for x, y in poly]

def circle(cx, cy, rad, n=12):
    return [(cx + rad * math.cos(2 * math.pi * i / n), cy + rad * math.sin(2 * math.pi * i / n))
            for i in range(n)]

def seven(w, h, t, g, k):
    l, rr, top, mid, bot = t / 2, w - t / 2, t / 2, h / 2, h - t / 2
    s = {"a": hseg(l, rr, top, t, g), "b": vseg(rr, top, mid, t, g), "c": vseg(rr, mid, bot, t, g),
         "d": hseg(l, rr, bot, t, g), "e": vseg(l, mid, bot, t, g), "f": vseg(l, top, mid, t, g),
         "g": hseg(l, rr, mid, t, g), "dp": circle(w + t * 0.9, bot, t * 0.62)}
    return {"w": w, "h": h, "segments": {n: slant(p, h, k) for n, p in s.items()}}

def fourteen(w, h, t, g, k):
    l, rr, top, mid, bot, c = t / 2, w - t / 2, t / 2, h / 2, h - t / 2, w / 2
    d = t * 0.8  # diagonal width
    s = {"a": hseg(l, rr, top, t, g), "b": vseg(rr, top, mid, t, g), "c": vseg(rr, mid, bot, t, g),
         "d": hseg(l, rr, bot, t, g), "e": vseg(l, mid, bot, t, g), "f": vseg(l, top, mid, t, g),
         "g1": hseg(l, c, mid, t, g), "g2": hseg(c, rr, mid, t, g),
         "i": vseg(c, top, mid, t * 0.85, g), "l": vseg(c, mid, bot, t * 0.85, g),
         "h": dseg(l + t * 0.95, top + t * 1.0, c - t * 0.75, mid - t * 0.8, d),
         "j": dseg(rr - t * 0.95, top + t * 1.0, c + t * 0.75, mid - t * 0.8, d),
         "k": dseg(l + t * 0.95, bot - t * 1.0, c - t * 0.75, mid + t * 0.8, d),
         "m": dseg(rr - t * 0.95, bot - t * 1.0, c + t * 0.75, mid + t * 0.8, d),
         "dp": circle(w + t * 0.85, bot, t * 0.55)}
    return {"w": w, "h": h, "segments": {n: slant(p, h, k) for n, p in s.items()}}

def arrow(x, y, w, h, right):
    """Energy flow arrow in a box (x, y, w, h)."""
    sh = h * 0.3
    pts = [(0, h / 2 - sh / 2), (w * 0.55, h / 2 - sh / 2), (w * 0.55, 0), (w, h / 2),
           (w * 0.55, h), (w * 0.55, h / 2 + sh / 2), (0, h / 2 + sh / 2)]
    if not right:
        pts = [(w - px, py) for px, py in pts]
    return [[r(x + px), r(y + py)] for px, py in pts]

def chevrons(x, y, w, h, right):
    polys = []
    for i in range(2):
        ox = x + i * w * 0.45
        cw, t = w * 0.5, w * 0.2
        pts = [(0, 0), (t, 0), (cw, h / 2), (t, h), (0, h), (cw - t, h / 2)]
        if not right:
            pts = [(cw - px, py) for px, py in pts]
        polys.append([[r(ox + px), r(y + py)] for px, py in pts])
    return polys

def padlock(x, y, w, h):
    """Body and shackle (an arch: outer half circle out, inner half circle back)."""
    by = y + h * 0.45
    body = [(x, by), (x + w, by), (x + w, y + h), (x, y + h)]
    cx, ro, ri, ay = x + w / 2, w * 0.4, w * 0.22, y + h * 0.4
    top = ay - ro
    outer = [(cx + ro * math.cos(math.pi + math.pi * i / 10), ay + (ay - top) * math.sin(math.pi + math.pi * i / 10)) for i in range(11)]
    inner = [(cx + ri * math.cos(2 * math.pi - math.pi * i / 10), ay + (ay - top - (ro - ri)) * math.sin(2 * math.pi - math.pi * i / 10)) for i in range(11)]
    arch = outer + [(cx + ro, by + 0.5), (cx + ri, by + 0.5)] + inner + [(cx - ri, by + 0.5), (cx - ro, by + 0.5)]
    return [[[r(a), r(b)] for a, b in body], [[r(a), r(b)] for a, b in arch]]

def comm(x, y, w, h):
    """Antenna: a mast and two pairs of waves (bars)."""
    cx = x + w / 2
    polys = [[[r(cx - 1.2), r(y + h * 0.35)], [r(cx + 1.2), r(y + h * 0.35)], [r(cx + 1.2), r(y + h)], [r(cx - 1.2), r(y + h)]]]
    polys.append([[r(a), r(b)] for a, b in circle(cx, y + h * 0.3, 2.6, 10)])
    for side in (-1, 1):
        for k, rad in enumerate((w * 0.28, w * 0.46)):
            a0, a1 = -0.6, 0.6
            outer = [(cx + side * (rad + 1.1) * math.cos(a0 + (a1 - a0) * i / 6), y + h * 0.3 + (rad + 1.1) * math.sin(a0 + (a1 - a0) * i / 6)) for i in range(7)]
            inner = [(cx + side * (rad - 1.1) * math.cos(a1 - (a1 - a0) * i / 6), y + h * 0.3 + (rad - 1.1) * math.sin(a1 - (a1 - a0) * i / 6)) for i in range(7)]
            polys.append([[r(a), r(b)] for a, b in outer + inner])
    return polys

lcd = {
    "comment": "KLEFR 692x LCD glass. Units 0.1 mm. Generated by scripts/gen_lcd_geometry.py.",
    "glass": {"w": 300, "h": 172, "radius": 6},
    "digit": seven(24, 50, 5.2, 0.7, 0.09),
    "char14": fourteen(19, 32, 3.6, 0.5, 0.09),
    "digits": {"x": 12, "y": 48, "pitch": 34.5},
    "chars": {"x": 10, "y": 124, "pitch": 28.2},
    "icons": [
        {"bit": "T1", "text": "T1", "x": 8, "y": 30, "size": 17},
        {"bit": "T2", "text": "T2", "x": 32, "y": 30, "size": 17},
        {"bit": "FW", "polys": [arrow(60, 15, 21, 15, True)]},
        {"bit": "RV", "polys": [arrow(84, 15, 21, 15, False)]},
        {"bit": "COMM", "polys": comm(108, 11, 18, 21)},
        {"bit": "LOCK", "polys": padlock(132, 11, 12, 20)},
        {"bit": "BACK", "polys": chevrons(149, 14, 13, 15, False)},
        {"bit": "NEXT", "polys": chevrons(165, 14, 13, 15, True)},
        {"bit": "K", "text": "k", "x": 187, "y": 30, "size": 17},
        {"bit": "V", "text": "V", "x": 198, "y": 30, "size": 17},
        {"bit": "A", "text": "A", "x": 211, "y": 30, "size": 17},
        {"bit": "W", "text": "W", "x": 225, "y": 30, "size": 17},
        {"bit": "VAR", "text": "var", "x": 225, "y": 42, "size": 12},
        {"bit": "H", "text": "h", "x": 244, "y": 30, "size": 17},
        {"bit": "HZ", "text": "Hz", "x": 265, "y": 30, "size": 17}
    ]
}
print(json.dumps(lcd, indent=1))
