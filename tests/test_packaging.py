"""The project's setup files agree with each other and with the README.

pyproject.toml, environment.yml and binder/environment.yml list the same packages;
.ci/run runs the README's test command; the README's quick start is exactly the two
commands of run.py; run.py needs nothing but the standard library.
"""

import ast
import os
import re
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LAB_COMMAND = "python3 run.py lab"
TEST_COMMAND = "python3 run.py test"


def normalize(requirement):
    """'Jupyter_Lab>=4' -> 'jupyter-lab' (PEP 503 name, no version, extras or markers)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def extras():
    return pyproject()["project"]["optional-dependencies"]


def conda_environment(path):
    """Read the small subset of YAML our environment files use.

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


@pytest.mark.parametrize("path", ["environment.yml", "binder/environment.yml"])
def test_conda_environment_lists_the_same_packages_as_pyproject(path):
    """conda-forge packages, plus pip lines for what conda-forge does not carry."""
    channels, conda, pip = conda_environment(ROOT / path)
    wanted = {normalize(r) for group in extras().values() for r in group}
    assert channels == ["conda-forge"]
    assert "python=3.11" in conda
    from_pip = {normalize(line) for line in pip if not line.startswith("-")}
    assert conda_names(conda) | from_pip == wanted, f"{path} and pyproject.toml disagree"
    assert not conda_names(conda) & from_pip, f"{path} lists a package twice"


def test_environment_files_agree_with_each_other():
    _, local, local_pip = conda_environment(ROOT / "environment.yml")
    _, binder, binder_pip = conda_environment(ROOT / "binder/environment.yml")
    assert sorted(local) == sorted(binder)
    assert [p for p in local_pip if p != "-e ."] == binder_pip


def test_local_environment_installs_the_kit():
    _, _, pip = conda_environment(ROOT / "environment.yml")
    assert "-e ." in pip


def test_binder_post_build_installs_the_kit():
    post_build = ROOT / "binder" / "postBuild"
    text = post_build.read_text(encoding="utf-8")
    assert re.search(r"pip install (--no-deps )?(-e )?\.\s*$", text, re.M), text
    if os.name != "nt":
        assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


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
                  ".pytest_cache/", ".hypothesis/", "build/", "bench/results/"]:
        assert entry in ignored
