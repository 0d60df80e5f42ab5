"""Shared helpers for the lesson generators in this folder.

Each `make_NN.py` lists its cells with `md()` and `code()` and calls `write()`. The
notebook is written without outputs or execution counts and with fixed cell ids
(`<prefix>-00`, `<prefix>-01`, ...), so running a generator twice gives the same bytes.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

# The lab widget is written in parallel with the lessons: show it when it is there.
LAB_CELL = '''
try:
    from evtsim.widgets import EventLab
except ImportError:
    EventLab = None
if EventLab is None:
    print("The lab widget is not in this version of the kit yet. "
          "The timeline and the text log above show the same run.")
else:
    display(EventLab({args}))
'''


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


def lab(args: str):
    """A cell that shows the event lab; `args` is the Python text of EventLab's
    arguments: a scenario name and its parameters, or a function that builds a
    Machine (both let the lab's Undo and Reset rebuild the run)."""
    return code(LAB_CELL.format(args=args))


def build(cells, prefix: str):
    nb = new_notebook(cells=cells)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{prefix}-{index:02d}"
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)",
                                 "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def write(cells, filename: str, prefix: str) -> Path:
    target = NOTEBOOKS / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(cells, prefix), target)
    print(f"wrote {target.relative_to(ROOT)}")
    return target
