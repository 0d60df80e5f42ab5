"""The SVG timeline's toolbox: escaping, text measures, ticks, colours and mark shapes.

Built as plain string helpers for `evtsim.timeline.svg` (no matplotlib, no browser):
`esc` makes learner text safe inside XML, `text_width` guesses a text's width on the
wide side so a label placed with it stays inside the picture, `fit_text` and
`wrap_text` shorten or wrap a label to a width, `ticks` picks axis ticks that do not
collide (whole numbers on a step axis), `mark_shape` draws a marker kind in the same
shape the matplotlib picture uses (the meaning never rests on colour alone), and
`defs`, `fill` and `swatch` give the hatching, the fills and the legend's swatches.
"""
from __future__ import annotations

import math
import re

from .marks import MARK_TEXTS, NOW_TEXT, SPAN_TEXTS

# Colour roles in the Okabe-Ito colours (evtsim.plot's "okabe-ito" palette is this one).
COLOURS = {
    "running_kernel": "#0072B2", "running_user": "#E69F00", "ready": "#56B4E9",
    "waiting": "#D55E00", "waiting_face": "#FBE3D6", "signaled": "#009E73",
    "not_signaled": "#7F7F7F", "arrow": "#000000", "recheck": "#CC79A7",
    "user_tint": "#FBE6BC", "group_tint": "#F2F2F2", "cursor": "#000000",
    "bugcheck": "#D55E00", "marker": "#000000", "timeout": "#D55E00",
    "pulse": "#CC79A7", "text": "#000000",
}

# Marker kind -> (colour role, legend text); the texts are evtsim.timeline.marks'.
_ROLES = {"pulse": "pulse", "timeout": "timeout", "error": "bugcheck", "bugcheck": "bugcheck",
          "blip": "signaled"}
MARKS = {kind: (_ROLES.get(kind, "marker"), text) for kind, text in MARK_TEXTS.items()}

# Every kind of mark the picture can draw, in legend order, with its legend text.
LEGEND = {
    **SPAN_TEXTS,
    **{"marker:" + kind: text for kind, text in MARK_TEXTS.items()},
    "now": NOW_TEXT,
}

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
ID_TOKEN = "\x00ID"      # the picture's id prefix until svg.py puts a content hash there

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text) -> str:
    """Text safe inside an XML element or a double-quoted attribute.

    Names are learner input: `<`, `&` and quotes are escaped, and characters XML
    cannot hold at all (control characters) become U+FFFD.
    """
    text = _BAD_XML.sub("\ufffd", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def num(value: float) -> str:
    """A coordinate with at most two decimals, always written the same way."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_WIDE = set("mwMW@%")
_NARROW = set("ilj.,:;|!'`")


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A text's width in user units, guessed on the wide side.

    No font metrics in a browser-free Python: lower case counts 0.62 em, capitals and
    digits 0.75 em, m / w / M / W 1 em, anything outside ASCII 1 em; bold adds a tenth.
    Real sans-serif fonts are narrower, so a label placed with this never overflows.
    """
    em = 0.0
    for ch in text:
        if ch in _WIDE or ord(ch) > 127:
            em += 1.0
        elif ch in _NARROW:
            em += 0.45
        elif ch.isupper() or ch.isdigit():
            em += 0.75
        else:
            em += 0.62
    return em * size * (1.1 if bold else 1.0)


def fit_text(text: str, size: float, width: float, bold: bool = False) -> str:
    """`text`, cut with an ellipsis so that it fits in `width`."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "\u2026", size, bold) > width:
        text = text[:-1]
    return text + "\u2026" if text else ""


def wrap_text(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """`text` in lines that each fit in `width` (long words are cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size, bold) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while text_width(word, size, bold) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut], size, bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines or [""]


def ticks(lo: float, hi: float, pixels: float, label, size: float,
          integer: bool) -> list[float]:
    """Tick values between lo and hi whose labels (`label(value)`) do not collide.

    Steps are 1, 2 or 5 times a power of ten; on a step axis (`integer`) only whole
    numbers, so a timeline drawn per step never shows 2.5 or 7.5.
    """
    span = hi - lo
    if span <= 0 or pixels <= 0:
        return [lo]
    per_unit = pixels / span
    widest = max(text_width(label(v), size) for v in (lo, hi, (lo + hi) / 2))
    least = (widest + size) / per_unit          # one label and a gap per tick
    power = 10.0 ** math.floor(math.log10(max(least, 1e-9)))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= least)
    if integer:
        step = max(1.0, float(round(step)))
    first = math.ceil(lo / step - 1e-9) * step
    values = []
    k = 0
    while first + k * step <= hi + 1e-9 and k < 1000:
        values.append(round(first + k * step, 6))
        k += 1
    return values


def _points(pairs) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in pairs)


def mark_shape(kind: str, x: float, y: float, r: float) -> str:
    """The SVG element of one marker of `kind`, centred on (x, y), radius `r`."""
    role = MARKS[kind][0]
    fill = COLOURS[role]
    edge = 'stroke="#FFFFFF" stroke-width="0.8"'
    if kind in ("set", "reset", "woken"):
        if kind == "set":
            pts = [(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]
        elif kind == "reset":
            pts = [(x, y + r), (x + r, y - r * 0.8), (x - r, y - r * 0.8)]
        else:
            pts = [(x + r, y), (x - r * 0.8, y - r), (x - r * 0.8, y + r)]
        return f'<polygon points="{_points(pts)}" fill="{fill}" {edge}/>'
    if kind in ("alert", "apc"):
        w = r if kind == "alert" else r * 0.6
        pts = [(x, y - r), (x + w, y), (x, y + r), (x - w, y)]
        return f'<polygon points="{_points(pts)}" fill="{fill}" {edge}/>'
    if kind == "call":
        return (f'<rect x="{num(x - r * 0.85)}" y="{num(y - r * 0.85)}" '
                f'width="{num(r * 1.7)}" height="{num(r * 1.7)}" fill="{fill}" {edge}/>')
    if kind == "timer":
        return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r)}" fill="{fill}" {edge}/>'
    if kind in ("pulse", "timeout"):
        t = r * 0.38                       # a thick plus, or a thick X
        arm = [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r),
               (-t, t), (-r, t), (-r, -t), (-t, -t)]
        if kind == "timeout":
            c = math.sqrt(0.5)
            arm = [((a - b) * c, (a + b) * c) for a, b in arm]
        pts = [(x + a, y + b) for a, b in arm]
        return f'<polygon points="{_points(pts)}" fill="{fill}" {edge}/>'
    if kind == "error":
        d = (f"M{num(x - r)},{num(y - r)} L{num(x + r)},{num(y + r)} "
             f"M{num(x - r)},{num(y + r)} L{num(x + r)},{num(y - r)}")
        return f'<path d="{d}" stroke="{fill}" stroke-width="2.2" fill="none"/>'
    if kind == "bugcheck":
        pts = []
        for i in range(10):
            radius = r * 1.5 if i % 2 == 0 else r * 0.6
            angle = math.pi / 2 + i * math.pi / 5
            pts.append((x + radius * math.cos(angle), y - radius * math.sin(angle)))
        return f'<polygon points="{_points(pts)}" fill="{fill}" {edge}/>'
    # blip: a short upright bar
    return (f'<rect x="{num(x - 1.2)}" y="{num(y - r)}" width="2.4" height="{num(2 * r)}" '
            f'fill="{fill}"/>')


def text_el(x: float, y: float, text: str, size: float, *, anchor: str = "start",
            bold: bool = False, colour: str = "#000000", extra: str = "") -> str:
    """One `<text>` element (no tspans, so every label can be measured alone)."""
    weight = ' font-weight="bold"' if bold else ""
    more = f" {extra}" if extra else ""
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" '
            f'text-anchor="{anchor}"{weight} fill="{colour}"{more}>{esc(text)}</text>')


def flow(entries: list[tuple[str, str]], size: float, left: float, right: float,
         swatch: float) -> list[list[tuple[str, str, float]]]:
    """Legend entries `(key, text)` in rows that fit between left and right: each row
    a list of `(key, text, x)`."""
    rows: list[list[tuple[str, str, float]]] = [[]]
    x = left
    for key, text in entries:
        width = swatch + size * 0.4 + text_width(text, size)
        if rows[-1] and x + width > right:
            rows.append([])
            x = left
        rows[-1].append((key, text, x))
        x += width + size * 1.5
    return [row for row in rows if row]


def defs(fs: float) -> str:
    """The hatching patterns: waiting, signaled, user mode (ids start with ID_TOKEN)."""
    c = COLOURS
    s = num(6 * max(fs, 1))
    return (
        "<defs>"
        f'<pattern id="{ID_TOKEN}-wait" patternUnits="userSpaceOnUse" width="{s}" '
        f'height="{s}" patternTransform="rotate(45)"><rect width="{s}" height="{s}" '
        f'fill="{c["waiting_face"]}"/><line x1="0" y1="0" x2="0" y2="{s}" '
        f'stroke="{c["waiting"]}" stroke-width="1.6"/></pattern>'
        f'<pattern id="{ID_TOKEN}-signaled" patternUnits="userSpaceOnUse" width="{s}" '
        f'height="{s}" patternTransform="rotate(45)"><rect width="{s}" height="{s}" '
        f'fill="{c["signaled"]}"/><path d="M0,0 V{s} M0,0 H{s}" stroke="#000000" '
        f'stroke-width="0.8"/></pattern>'
        f'<pattern id="{ID_TOKEN}-user" patternUnits="userSpaceOnUse" width="4" height="4">'
        f'<rect width="4" height="4" fill="{c["running_user"]}"/><circle cx="2" cy="2" '
        f'r="0.7" fill="#000000"/></pattern>'
        "</defs>")


def fill(key: str) -> str:
    """The fill (and outline) attributes of a span or event-state kind."""
    return {"running_kernel": f'fill="{COLOURS["running_kernel"]}"',
            "running_user": f'fill="url(#{ID_TOKEN}-user)" stroke="#000000" '
                            'stroke-width="0.4"',
            "ready": f'fill="{COLOURS["ready"]}"',
            "waiting": f'fill="url(#{ID_TOKEN}-wait)" stroke="{COLOURS["waiting"]}" '
                       'stroke-width="0.8"',
            "signaled": f'fill="url(#{ID_TOKEN}-signaled)" stroke="#000000" '
                        'stroke-width="0.4"',
            "not_signaled": f'fill="{COLOURS["not_signaled"]}"'}[key]


def swatch(key: str, x: float, yc: float, w: float, size: float) -> str:
    """The small picture of a mark kind at the start of its legend entry."""
    h = size * 0.9
    if key.startswith("marker:"):
        return mark_shape(key[7:], x + w / 2, yc, size * 0.42)
    if key in ("arrow", "recheck", "now"):
        colour = COLOURS["cursor" if key == "now" else key]
        dash = {"arrow": "", "recheck": ' stroke-dasharray="4 3"',
                "now": ' stroke-dasharray="5 3"'}[key]
        line = (f'<line x1="{num(x)}" y1="{num(yc)}" x2="{num(x + w - 5)}" y2="{num(yc)}" '
                f'stroke="{colour}" stroke-width="1.6"{dash}/>')
        if key != "now":
            line += (f'<polygon points="{num(x + w)},{num(yc)} {num(x + w - 6)},'
                     f'{num(yc - 3.5)} {num(x + w - 6)},{num(yc + 3.5)}" fill="{colour}"/>')
        return line
    y0, y1 = yc - h / 2, yc + h / 2
    if key in ("ready", "not_signaled"):
        y0 = yc + h / 2 - h * 0.3 if key == "not_signaled" else yc - h * 0.17
        y1 = yc + h / 2 if key == "not_signaled" else yc + h * 0.17
    return (f'<rect x="{num(x)}" y="{num(y0)}" width="{num(w)}" height="{num(y1 - y0)}" '
            f'{fill(key)}/>')
