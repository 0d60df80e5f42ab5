#!/usr/bin/env python3
"""Write an instructor's copy of the lessons with every answer shown.

    .venv/bin/python tools/answer_key.py OUTDIR                every lesson
    .venv/bin/python tools/answer_key.py OUTDIR --only 07      lessons whose name contains 07

It reads each lesson's MyST source (notebooks/NN-name.md). After the first cell that
asks for an exercise (`get("NN-id")`), it adds a note for the instructor with the
question, every hint and the answer, taken from the exercise itself (evtsim.exercises),
so the key cannot disagree with the checker. It writes `OUTDIR/NN-name-answers.ipynb`:
not paired with any text file and without outputs. Keep the copies away from learners
(`answers/` is in .gitignore). Exit status 2 if no lesson matches.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON_NAME = re.compile(r"\d\d-[\w-]+\.md")
ASKS = re.compile(r'\bget\("(\d\d-[^"]+)"\)')
BANNER = ("**Instructor's copy: every answer is shown.** Do not give this notebook to "
          "learners. It was made by `tools/answer_key.py` from `{source}`.")


def lessons(only=None) -> list[Path]:
    paths = sorted(p for p in NOTEBOOKS.glob("*.md") if LESSON_NAME.fullmatch(p.name))
    return [p for p in paths if not only or any(word in p.name for word in only)]


def answer_note(ex) -> str:
    """The question, the hint ladder and the answer, as one Markdown cell."""
    hints = "\n".join(f"{i}. {hint}" for i, hint in enumerate(ex.hints, 1))
    return (f"> **Answer key, exercise `{ex.id}`.** {ex.question}\n>\n"
            + "".join(f"> {line}\n" for line in hints.splitlines())
            + f">\n> **Answer:** {ex.answer}")


def answer_key(source: Path):
    """The lesson as a notebook with an answer note after each exercise's first cell."""
    import jupytext
    from nbformat.v4 import new_markdown_cell

    from evtsim.exercises import get

    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)          # a plain notebook: saving it writes no .md
    cells, seen = [new_markdown_cell(BANNER.format(source=f"notebooks/{source.name}"))], set()
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        for ex_id in ASKS.findall(cell.source):
            if ex_id not in seen:
                seen.add(ex_id)
                cells.append(new_markdown_cell(answer_note(get(ex_id))))
    nb.cells = cells
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"answers-{index:03d}"
    return nb, sorted(seen)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="answer_key.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="folder to write into (made if missing)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="only the lessons whose file name contains TEXT (repeatable)")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import nbformat

    chosen = lessons(args.only)
    if not chosen:
        print(f"answer_key.py: no lesson matches {args.only}", file=sys.stderr)
        return 2
    args.outdir.mkdir(parents=True, exist_ok=True)
    for source in chosen:
        nb, ids = answer_key(source)
        target = args.outdir / f"{source.stem}-answers.ipynb"
        nbformat.write(nb, target)
        print(f"wrote {target} ({len(ids)} answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
