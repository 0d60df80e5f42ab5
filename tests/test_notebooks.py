"""Every lesson notebook runs top to bottom, headless, and is committed clean.

Each notebook in notebooks/ is executed with nbclient on the `python3` kernel of the
environment that runs pytest, with notebooks/ as the working directory, as a learner
would run it in JupyterLab. The repository root is put on the kernel's PYTHONPATH so
the notebooks test this checkout of evtsim, installed or not. Each notebook runs
twice in fresh kernels and must print the same text both times; for the lessons the
first run is tests/test_exercise_check.py's Run All, so that file holds their test.
"""

import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds, per cell: a hang guard (tests/servers.py), not a speed claim
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def kernel_env():
    env = dict(os.environ)
    parts = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def run_notebook(path):
    """Execute a fresh copy of the notebook; returns (executed notebook, error text)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute(env=kernel_env())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        return nb, ANSI.sub("", str(error))
    return nb, None


def text_outputs(nb) -> list[str]:
    """What each code cell showed as text: its streams joined (they may arrive in
    pieces) and its text/plain results, with memory addresses masked."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        streams, plain = {}, []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                streams[out.name] = streams.get(out.name, "") + out.text
            elif "text/plain" in out.get("data", {}):
                plain.append(out.data["text/plain"])
        text = "".join(f"[{k}]{v}" for k, v in sorted(streams.items())) + "|".join(plain)
        texts.append(ADDRESS.sub("0x…", text))
    return texts


# The lessons' second run is in tests/test_exercise_check.py, next to its cached first run.
OTHERS = [p for p in NOTEBOOKS if not re.match(r"\d\d-", p.name)]


@pytest.mark.notebook
@pytest.mark.parametrize("path", OTHERS, ids=[p.stem for p in OTHERS])
def test_notebook_runs_top_to_bottom_twice_with_the_same_text(path):
    first, failure = run_notebook(path)
    if failure:  # outside the except block, so pytest shows only this message
        pytest.fail(f"{path.name} failed:\n{failure}", pytrace=False)
    second, failure = run_notebook(path)
    if failure:
        pytest.fail(f"{path.name} failed on its second run:\n{failure}", pytrace=False)
    for i, (a, b) in enumerate(zip(text_outputs(first), text_outputs(second))):
        assert a == b, f"{path.name}: code cell {i} printed something else the second time"


def test_there_is_at_least_one_notebook():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs_or_execution_counts(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        f"cell {index}: {len(cell.get('outputs', []))} outputs, "
        f"execution_count {cell.get('execution_count')}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name} was saved with outputs; clear them (Edit > Clear Outputs of All Cells) "
        "and save again:\n  " + "\n  ".join(dirty)
    )


# --- the exercises the lessons use --------------------------------------------------------
LESSONS = sorted(p for p in NOTEBOOKS if re.match(r"\d\d-", p.name))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_exercise_a_lesson_uses_exists(path):
    from evtsim.exercises import REGISTRY, all_exercises
    all_exercises()
    source = path.with_suffix(".md").read_text(encoding="utf-8")
    used = set(re.findall(r'\bget\("(\d\d-[^"]+)"\)', source))
    assert used, f"{path.stem}.md uses no exercise"
    assert used <= set(REGISTRY), sorted(used - set(REGISTRY))
