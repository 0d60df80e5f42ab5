"""The package's code passes its linter and its type checker, and says it is typed.

`ruff check evtsim` and `mypy` (both configured in pyproject.toml: the rules, the
Python version, the modules that ship no types) must find nothing anywhere in
`evtsim/`; each test prints the findings when they do not. The wheel carries the
`py.typed` marker (PEP 561), so a learner's own type checker reads evtsim's hints.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_ruff_finds_nothing_in_the_package():
    # --no-cache: the check writes nothing into the checkout
    proc = run([str(BIN / "ruff"), "check", "--no-cache", "evtsim"])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "All checks passed" in proc.stdout


def test_mypy_finds_nothing_in_the_package():
    # `files` in pyproject.toml says what to check; the cache is .mypy_cache/ here
    proc = run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("Success: no issues found")


def test_mypy_checks_the_whole_package_and_switches_no_error_off():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]
    assert settings["files"] == ["evtsim"]
    assert settings["check_untyped_defs"] is True
    assert "ignore_errors" not in settings      # errors are fixed, never switched off


def test_no_module_switches_the_type_checker_off():
    """No file-level `# type: ignore` and no bare one: an ignore names its error code."""
    for path in sorted((ROOT / "evtsim").rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            assert not line.startswith("# type: ignore"), f"{where} ignores the whole file"
            if "# type: ignore" in line:
                assert "# type: ignore[" in line, f"{where} has an ignore with no code"


def test_the_type_marker_is_package_data():
    """evtsim/py.typed exists and setuptools is told to ship it (the wheel built in
    tests/test_licences.py is checked to carry it)."""
    assert (ROOT / "evtsim" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["evtsim"]
