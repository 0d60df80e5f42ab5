"""The look every picture shares, with no matplotlib: colours, marker shapes, bar heights.

Built from the Okabe-Ito colour-blind-safe palette (or a grey one, or a dict of roles):
`PALETTES` maps each role (running, waiting, signaled, arrow ...) to a colour, and
`MARKERS` gives every marker kind a shape too, so no meaning rests on colour alone. It
imports no matplotlib, so `evtsim.plot` keeps these names where matplotlib cannot load
(`missing`), and the SVG timeline's roles are the same palette.
"""
from __future__ import annotations

from ..errors import BadArgumentError
from ..timeline.marks import MARK_TEXTS
from ..timeline.svg_layout import COLOURS

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}

PALETTES = {
    "okabe-ito": dict(COLOURS),       # the SVG timeline's roles: one palette
    "grey": {
        "running_kernel": "#404040", "running_user": "#8C8C8C", "ready": "#C8C8C8",
        "waiting": "#000000", "waiting_face": "#FFFFFF", "signaled": "#595959",
        "not_signaled": "#A6A6A6", "arrow": "#000000", "recheck": "#595959",
        "user_tint": "#EEEEEE", "group_tint": "#F7F7F7", "cursor": "#000000",
        "bugcheck": "#000000", "marker": "#000000", "timeout": "#000000",
        "pulse": "#404040", "text": "#000000",
    },
}

# Marker shapes: the meaning never rests on colour alone.
MARKERS = {
    "set": ("^", "marker", MARK_TEXTS["set"]),
    "pulse": ("P", "pulse", MARK_TEXTS["pulse"]),
    "reset": ("v", "marker", MARK_TEXTS["reset"]),
    "timeout": ("X", "timeout", MARK_TEXTS["timeout"]),
    "alert": ("D", "marker", MARK_TEXTS["alert"]),
    "apc": ("d", "marker", MARK_TEXTS["apc"]),
    "call": ("s", "marker", MARK_TEXTS["call"]),
    "timer": ("o", "marker", MARK_TEXTS["timer"]),
    "woken": (">", "marker", MARK_TEXTS["woken"]),
    "error": ("x", "bugcheck", MARK_TEXTS["error"]),
    "bugcheck": ("*", "bugcheck", MARK_TEXTS["bugcheck"]),
    "blip": ("|", "signaled", MARK_TEXTS["blip"]),
}

RUN_H, READY_H = 0.36, 0.12          # half heights, in lane units
HATCH_WAIT, HATCH_USER = "////", "...."


def _palette(palette: object) -> dict:
    if palette is None:
        palette = "okabe-ito"
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise BadArgumentError(f"unknown palette {palette!r}; choose one of "
                                   f"{', '.join(PALETTES)} or pass a dict of colours")
        return dict(PALETTES[palette])
    if isinstance(palette, dict):
        colours = dict(PALETTES["okabe-ito"])
        unknown = set(palette) - set(colours)
        if unknown:
            raise BadArgumentError(f"unknown palette role {sorted(unknown)[0]!r}; roles are "
                                   f"{', '.join(colours)}")
        colours.update(palette)
        return colours
    raise BadArgumentError("palette is 'okabe-ito', 'grey', or a dict of role -> colour")
