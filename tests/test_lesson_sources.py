"""Each lesson has one text source: a MyST file paired with its notebook by jupytext.

An instructor edits `notebooks/NN-name.md` (or the notebook) in JupyterLab and saves;
jupytext writes both files. These tests check that every numbered notebook has its
MyST source and that the two say the same, cell for cell; that no generator or shim is
left; and, with a real JupyterLab server, that saving either file through the contents
API (what JupyterLab's Save does) updates the other one.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from servers import jupyterlab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
LESSONS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if re.match(r"\d\d-", p.name))
PAIRING = "ipynb,md:myst"


def cells_of(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def test_there_are_nine_numbered_lessons():
    assert [p.name[:2] for p in LESSONS] == [f"{n:02d}" for n in range(9)]


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_notebook_is_paired_with_an_in_sync_myst_source(path):
    import jupytext
    source = path.with_suffix(".md")
    assert source.is_file(), f"{path.name} has no MyST source {source.name}"
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.get("jupytext", {}).get("formats") == PAIRING
    text = jupytext.read(source)
    assert text.metadata.get("jupytext", {}).get("formats") == PAIRING
    assert text.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    assert cells_of(text) == cells_of(notebook), (
        f"{source.name} and {path.name} differ; open one in JupyterLab and save it, or "
        f"run `.venv/bin/jupytext --sync notebooks/{source.name}`")


def test_no_lesson_generator_or_notebook_shim_is_left():
    assert not (ROOT / "tools" / "lessons").exists()
    assert not list(ROOT.rglob("make_0*.py"))
    assert not (ROOT / "notebook.py").exists() and not (ROOT / "tests" / "notebook.py").exists()


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_lesson_carries_the_stale_not_in_this_version_fallback(path):
    source = path.with_suffix(".md").read_text(encoding="utf-8")
    assert "not in this version" not in source
    assert "except ImportError" not in source


# --- saving in JupyterLab -----------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A real JupyterLab server (with the jupytext extension that installing the lab
    extra enables) on a copy of notebooks/."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, work)
    with jupyterlab(work, tmp / "home") as (base, token):
        yield base, token, work


def contents(base, token, path, method="GET", model=None, query=""):
    """One call of the server's contents API, as JupyterLab makes it."""
    data = json.dumps(model).encode() if model is not None else None
    request = urllib.request.Request(
        f"{base}/api/contents/{path}?{query}", data=data, method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def test_saving_the_notebook_in_jupyterlab_writes_the_edit_into_the_myst_source(lab):
    base, token, work = lab
    name = LESSONS[1].name
    model = contents(base, token, name, query="type=notebook&content=1")
    sentence = "An instructor added this sentence in JupyterLab."
    first = next(c for c in model["content"]["cells"] if c["cell_type"] == "markdown")
    first["source"] = first["source"] + "\n\n" + sentence
    contents(base, token, name, "PUT", {"type": "notebook", "format": "json",
                                        "content": model["content"]})
    source = (work / name).with_suffix(".md").read_text(encoding="utf-8")
    assert sentence in source
    assert source.count(sentence) == 1
    assert sentence not in LESSONS[1].with_suffix(".md").read_text(encoding="utf-8")


def test_saving_the_myst_source_opened_as_a_notebook_writes_the_edit_into_the_ipynb(lab):
    base, token, work = lab
    name = LESSONS[2].with_suffix(".md").name
    model = contents(base, token, name, query="type=notebook&content=1")
    assert model["type"] == "notebook"          # jupytext opens the text as a notebook
    code = next(c for c in model["content"]["cells"] if c["cell_type"] == "code")
    code["source"] = code["source"] + "\n# edited in JupyterLab"
    contents(base, token, name, "PUT", {"type": "notebook", "format": "json",
                                        "content": model["content"]})
    saved = nbformat.read(work / LESSONS[2].name, as_version=4)
    assert any(c.source.endswith("# edited in JupyterLab") for c in saved.cells
               if c.cell_type == "code")
    assert "# edited in JupyterLab" in (work / name).read_text(encoding="utf-8")


# --- the instructor's copies -------------------------------------------------------------
def test_answer_key_puts_each_exercise_answer_right_after_the_cell_that_asks_for_it(tmp_path):
    from evtsim.exercises import get
    out = tmp_path / "answers"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "answer_key.py"), str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for path in LESSONS:
        key = nbformat.read(out / f"{path.stem}-answers.ipynb", as_version=4)
        nbformat.validate(key)
        assert "jupytext" not in key.metadata       # saving the copy writes no .md
        assert "Instructor's copy" in key.cells[0].source
        source = path.with_suffix(".md").read_text(encoding="utf-8")
        asked = list(dict.fromkeys(re.findall(r'\bget\("(\d\d-[^"]+)"\)', source)))
        notes = [i for i, c in enumerate(key.cells) if c.source.startswith("> **Answer key")]
        assert len(notes) == len(asked), path.name
        for ex_id, at in zip(asked, notes):
            asking = key.cells[at - 1]
            assert asking.cell_type == "code" and f'get("{ex_id}")' in asking.source
            assert f"`{ex_id}`" in key.cells[at].source
            assert f"**Answer:** {get(ex_id).answer}" in key.cells[at].source
        assert not any(c.get("outputs") for c in key.cells if c.cell_type == "code")


def test_the_template_copied_as_a_new_lesson_is_paired_in_sync_and_runs(tmp_path):
    """What the instructor guide says to do to add lesson 09."""
    import jupytext
    from jupytext.cli import jupytext as jupytext_cli
    from nbclient import NotebookClient

    lesson = tmp_path / "09-my-new-lesson.md"
    shutil.copy(NOTEBOOK_DIR / "templates" / "lesson-template.md", lesson)
    jupytext_cli(["--sync", str(lesson)])
    notebook = nbformat.read(lesson.with_suffix(".ipynb"), as_version=4)
    assert notebook.metadata["jupytext"]["formats"] == PAIRING
    assert cells_of(jupytext.read(lesson)) == cells_of(notebook)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    NotebookClient(notebook, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    shown = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in shown if o.output_type == "error"]
    assert any("All threads have ended" in o.get("text", "") for o in shown)
    assert any("Not yet" in o.get("data", {}).get("text/markdown", "") for o in shown)


def test_instructor_guide_says_how_to_change_add_and_key_a_lesson():
    guide = (NOTEBOOK_DIR / "instructor-guide.md").read_text(encoding="utf-8")
    section = guide[guide.index("## Changing the lessons"):]
    for step in ("jupytext --sync", "Clear Outputs", "show_source",
                 "cp notebooks/templates/lesson-template.md", "tools/answer_key.py",
                 "tools/render_lessons.py"):
        assert step in section, step
    for path in re.findall(r"(?:notebooks|tools)/[\w./-]+\.(?:md|py)", section):
        if "NN-" not in path and "09-" not in path:
            assert (ROOT / path).exists(), path
