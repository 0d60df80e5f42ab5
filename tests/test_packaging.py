"""The project's setup files agree with each other, with the README and with the venv.

- pyproject.toml's extras and environment.yml (conda) list the same packages;
- requirements/lock.txt pins every package of every extra (and what each one needs, by
  its metadata and markers) to one version, and the running environment has exactly
  those versions: the tests ran with them. binder/requirements.txt is the lab's part
  of the lock, complete on its own and without test tools; tools/lock.py would write
  both files as they are;
- run.py installs with the lock as constraints (and says so, then retries without it,
  on a Python the lock was not made for), copies the kit's Jupyter settings, starts the
  lab on lesson 00, and uses nothing but the standard library;
- .ci/run runs the README's test command; the README's quick start is the two commands.
"""

import ast
import importlib.metadata as metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
BINDER_REQUIREMENTS = ROOT / "binder" / "requirements.txt"
LAB_COMMAND = "python3 run.py lab"
TEST_COMMAND = "python3 run.py test"
PIN = re.compile(r"^([a-z0-9][a-z0-9.-]*)==([0-9][0-9A-Za-z.+!-]*)$")
# Tools that only the tests use; a learner's Binder must not carry them.
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "simpy", "playwright",
              "axe-playwright-python", "jupyter-repo2docker"}


def normalize(requirement):
    """'Jupyter_Lab>=4' -> 'jupyter-lab' (PEP 503 name, no version, extras or markers)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def extras():
    return pyproject()["project"]["optional-dependencies"]


def load_run_py():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conda_environment(path):
    """Read the small subset of YAML our environment file uses.

    Returns (channels, conda package specs, pip lines). Kept to the standard library
    on purpose: PyYAML is not one of our packages.
    """
    channels, conda, pip = [], [], []
    section = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if indent == 0:
            section = text.rstrip(":") if text.endswith(":") else None
            continue
        if not text.startswith("- "):
            continue
        item = text[2:].strip()
        if section == "channels":
            channels.append(item)
        elif section == "dependencies" and item == "pip:":
            section = "pip"
        elif section == "dependencies":
            conda.append(item)
        elif section == "pip":
            pip.append(item)
    return channels, conda, pip


def conda_names(specs):
    return {normalize(re.split(r"[=<>!~ ]", spec, maxsplit=1)[0]) for spec in specs} - {"python", "pip"}


def pins(path):
    """{name: version} of a pin file; every line that is not a comment must be name==version."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name} line {number} is not one exact pin: {line!r}"
        assert match.group(1) == canonicalize_name(match.group(1)), line
        assert match.group(1) not in found, f"{match.group(1)} is pinned twice"
        found[match.group(1)] = match.group(2)
    return found


def walk(pinned, roots):
    """Follow the roots' requirements through each pinned package's metadata here.

    Every requirement whose marker holds (for the extras it was asked with) must name a
    pinned package at a version that meets it; then that package's own requirements are
    followed, with those extras. Returns (what is unmet, the names reached)."""
    problems, reached, seen = [], set(), set()
    todo = [("pyproject.toml", Requirement(text), "") for text in roots]
    while todo:
        who, req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name == "evtsim":
            continue
        if name not in pinned or pinned[name] not in req.specifier:
            problems.append(f"{who} needs {req}; pinned: {pinned.get(name)}")
            continue
        reached.add(name)
        for asked in ("", *sorted(req.extras)):
            if (name, asked) not in seen:
                seen.add((name, asked))
                requires = metadata.distribution(name).requires or []
                todo.extend((name, Requirement(text), asked) for text in requires)
    return problems, reached


def quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Quick start\s*$(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "README.md has no '## Quick start' section"
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", match.group(1), re.S | re.M)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


# ----------------------------------------------------------------- extras and conda

def test_lab_extra_is_jupyterlab_ipywidgets_matplotlib_and_jupytext():
    """jupytext pairs each lesson's notebook with its MyST source (notebooks/README.md)."""
    assert {normalize(r) for r in extras()["lab"]} == {"jupyterlab", "ipywidgets", "matplotlib",
                                                      "jupytext"}


def test_test_extra_includes_the_lab_extra():
    lab = {normalize(r) for r in extras()["lab"]}
    test = {normalize(r) for r in extras()["test"]}
    assert lab <= test
    assert {"pytest", "hypothesis", "nbclient", "nbformat", "ipykernel", "simpy"} <= test


def test_package_has_no_runtime_dependencies():
    project = pyproject()["project"]
    assert project.get("dependencies", []) == []
    assert project["requires-python"] == ">=3.10"


def test_conda_environment_lists_the_same_packages_as_pyproject():
    """conda-forge packages, plus pip lines for what conda-forge does not carry."""
    channels, conda, pip = conda_environment(ROOT / "environment.yml")
    wanted = {normalize(r) for group in extras().values() for r in group}
    assert channels == ["conda-forge"]
    assert "python=3.11" in conda
    from_pip = {normalize(line) for line in pip if not line.startswith("-")}
    assert conda_names(conda) | from_pip == wanted, "environment.yml and pyproject.toml disagree"
    assert not conda_names(conda) & from_pip, "environment.yml lists a package twice"
    assert "-e ." in pip


# ------------------------------------------------------------------------- the pins

def test_every_binder_requirement_is_one_exact_version():
    pinned = pins(BINDER_REQUIREMENTS)
    assert {"jupyterlab", "ipywidgets", "matplotlib", "jupytext"} <= set(pinned)


def test_binder_requirements_are_part_of_the_lock_at_the_same_versions():
    binder, lock = pins(BINDER_REQUIREMENTS), pins(LOCK)
    assert {name: lock.get(name) for name in binder} == binder


def test_the_tests_run_with_exactly_the_locked_versions():
    """Every locked package is installed here at its locked version."""
    installed = {}
    for name in pins(LOCK):
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed[name] = None
    assert installed == pins(LOCK), "run `python3 run.py test`, or lock again: tools/lock.py"


def test_binder_requirements_pin_everything_the_lab_needs():
    """The lab extra's closure, by each package's metadata and markers, is pinned."""
    problems, reached = walk(pins(BINDER_REQUIREMENTS), extras()["lab"])
    assert problems == []
    assert reached == set(pins(BINDER_REQUIREMENTS)), "pinned but not needed by the lab"


def test_lock_pins_everything_every_extra_needs():
    roots = [text for group in extras().values() for text in group]
    assert {"lab", "test", "lite"} <= set(extras())
    problems, reached = walk(pins(LOCK), roots + ["pip"])
    assert problems == []
    assert reached == set(pins(LOCK)), "pinned but needed by no extra"


def test_binder_requirements_carry_no_test_tools():
    binder = pins(BINDER_REQUIREMENTS)
    _, lab_closure = walk(pins(LOCK), extras()["lab"])
    test_only = {normalize(r) for r in extras()["test"]} - lab_closure
    assert TEST_TOOLS <= test_only
    assert sorted(set(binder) & (test_only | TEST_TOOLS)) == []


def test_lock_files_are_what_tools_lock_writes_now():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "lock.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_binder_builds_from_pinned_requirements_on_python_3_11():
    assert (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").split() == ["python-3.11"]
    # repo2docker would take an environment.yml in binder/ first and ignore the pins
    assert not (ROOT / "binder" / "environment.yml").exists()
    assert re.search(r"^# Markers evaluated for Python 3\.11 ", LOCK.read_text("utf-8"), re.M)


def test_binder_post_build_installs_the_kit_and_its_jupyter_settings():
    post_build = ROOT / "binder" / "postBuild"
    text = post_build.read_text(encoding="utf-8")
    assert re.search(r"^python -m pip install --no-deps -e \.\s*$", text, re.M), text
    assert re.search(r'^cp -r jupyter-env/etc jupyter-env/share "\$prefix/"$', text, re.M)
    if os.name != "nt":
        assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


# -------------------------------------------------------------------------- run.py

FAKE_PYTHON = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(1 if "-c" in sys.argv else 0)
"""


@pytest.fixture
def fake_python(tmp_path):
    """A stand-in interpreter: records each pip command; a constrained install fails."""
    log = tmp_path / "calls.jsonl"
    exe = tmp_path / "python"
    exe.write_text(FAKE_PYTHON.format(python=sys.executable, log=str(log)), encoding="utf-8")
    exe.chmod(0o755)
    return exe, lambda: [json.loads(line) for line in log.read_text().splitlines()]


def test_run_py_installs_with_the_lock_as_constraints(fake_python, tmp_path, capsys):
    run = load_run_py()
    exe, calls = fake_python
    here = f"Python {sys.version_info[0]}.{sys.version_info[1]} on {sys.platform}"
    run.LOCK = tmp_path / "lock.txt"
    run.LOCK.write_text(f"# Markers evaluated for {here} (x86_64).\nsix==1.0\n")
    run.ROOT = tmp_path
    with pytest.raises(SystemExit):            # the lock's own Python: a failure is final
        run.pip_install(exe, ["-e", ".[lab]"], "Installing evtsim")
    assert calls() == [["-m", "pip", "install", "-c", str(run.LOCK), "-e", ".[lab]"]]


def test_run_py_retries_without_the_lock_on_another_python(fake_python, tmp_path, capsys):
    run = load_run_py()
    exe, calls = fake_python
    run.LOCK = tmp_path / "lock.txt"
    run.LOCK.write_text("# Markers evaluated for Python 2.7 on linux (x86_64).\nsix==1.0\n")
    run.ROOT = tmp_path
    run.pip_install(exe, ["-e", ".[lab]"], "Installing evtsim")
    assert calls() == [["-m", "pip", "install", "-c", str(run.LOCK), "-e", ".[lab]"],
                       ["-m", "pip", "install", "-e", ".[lab]"]]
    said = capsys.readouterr().out
    assert "made for Python 2.7 on linux" in said and "without the pinned versions" in said


def test_run_py_test_installs_the_lab_test_and_lite_extras(monkeypatch):
    run = load_run_py()
    asked = []
    monkeypatch.setattr(run, "ensure_chromium", lambda: None)
    monkeypatch.setattr(run, "ensure_venv", lambda wanted: asked.append(wanted) or "py")
    monkeypatch.setattr(run, "call", lambda cmd: 0)
    assert run.test([]) == 0
    monkeypatch.setattr(run, "call", lambda cmd: asked.append(cmd[1:]) or 0)
    assert run.lite(["--serve"]) == 0
    assert asked == [["lab", "test", "lite"], ["lab", "lite"],
                     [ROOT / "tools" / "lite.py", "--serve"]]


def test_run_py_lab_opens_lesson_00_with_no_news_and_no_update_check():
    run = load_run_py()
    cmd = run.lab_command("python", ["--port", "1"])
    assert cmd[:4] == ["python", "-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in cmd
    assert "--LabApp.default_url=/lab/tree/00-start-here.ipynb" in cmd
    assert (ROOT / "notebooks" / "00-start-here.ipynb").is_file()
    assert "--LabApp.news_url=None" in cmd
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in cmd
    import jupyterlab
    assert jupyterlab.NeverCheckForUpdate.__name__ == "NeverCheckForUpdate"
    assert cmd[-2:] == ["--port", "1"]


def test_run_py_copies_the_jupyter_settings_onto_a_prefix(tmp_path):
    run = load_run_py()
    assert run.install_jupyter_env(tmp_path) == 4
    overrides = json.loads((tmp_path / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false", "checkForUpdates": False}
    voila = json.loads((tmp_path / "etc/jupyter/voila.json").read_text())
    assert voila["VoilaConfiguration"]["template"] == "evtsim"
    assert (tmp_path / "share/jupyter/voila/templates/evtsim/index.html.j2").is_file()
    assert run.install_jupyter_env(tmp_path) == 0          # nothing changed, nothing copied


def test_this_environment_has_the_kit_s_jupyter_settings():
    """run.py copied jupyter-env/ into this .venv, as it is now."""
    source = ROOT / "jupyter-env"
    files = [p for top in ("etc", "share") for p in (source / top).rglob("*") if p.is_file()]
    assert files
    for path in files:
        installed = Path(sys.prefix) / path.relative_to(source)
        assert installed.is_file() and installed.read_bytes() == path.read_bytes(), (
            f"{installed} is not {path}: `python3 run.py test` copies jupyter-env/ into .venv")


def test_readme_quick_start_is_exactly_the_two_commands():
    assert quick_start_commands() == [LAB_COMMAND, TEST_COMMAND]


def test_ci_runs_exactly_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    lines = [
        line.strip()
        for line in ci.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    commands = [line for line in lines if not line.startswith(("set ", "cd "))]
    assert commands == [f"exec {TEST_COMMAND}"]
    assert TEST_COMMAND in quick_start_commands()
    if os.name != "nt":
        assert os.access(ci, os.X_OK), ".ci/run must be executable"


def test_run_script_uses_only_the_standard_library():
    tree = ast.parse((ROOT / "run.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_gitignore_keeps_generated_files_out():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for entry in [".venv/", "__pycache__/", "*.egg-info/", ".ipynb_checkpoints/",
                  ".pytest_cache/", ".hypothesis/", ".mypy_cache/", ".ruff_cache/", "build/",
                  "bench/results/", "classroom/", "answers/"]:
        assert entry in ignored
