"""Rectangles for the timeline's spans, as one compound path per kind of span.

Built from (x0, x1, y0, y1) tuples: `_rects_path` turns thousands of them into a single
matplotlib Path that Agg fills (and hatches) in one go, and `_SpanCollection` is the
collection that holds it and keeps the rectangles for tests and tools.
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.path import Path


def _rect(x0, x1, y0, y1):
    return ((x0, y0), (x0, y1), (x1, y1), (x1, y0))


class _SpanCollection(PathCollection):
    """Rectangles of one kind, for all lanes, as one compound path (see `_rects_path`);
    `rects` keeps them as (x0, x1, y0, y1) for tests and tools."""

    def __init__(self, paths, **kwargs):
        super().__init__(paths, sizes=None, **kwargs)
        self.rects = []


_RECT_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO,
                        Path.CLOSEPOLY], dtype=Path.code_type)


def _rects_path(rects) -> list:
    """Rectangles (x0, x1, y0, y1) as one compound Path (in a list, for set_paths).

    Agg fills (and hatches) one compound path in one go; a collection of thousands of
    small paths costs a call each. This is what keeps a redraw cheap.
    """
    if not rects:
        return []
    r = np.asarray(rects, dtype=float)
    x0, x1, y0, y1 = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
    verts = np.empty((len(r), 5, 2))
    verts[:, 0] = np.column_stack((x0, y0))
    verts[:, 1] = np.column_stack((x0, y1))
    verts[:, 2] = np.column_stack((x1, y1))
    verts[:, 3] = np.column_stack((x1, y0))
    verts[:, 4] = verts[:, 0]
    codes = np.tile(_RECT_CODES, len(r))
    return [Path(verts.reshape(-1, 2), codes)]


_EMPTY = np.empty((0, 2))
