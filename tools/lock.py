#!/usr/bin/env python3
"""Pin the kit's packages to the exact versions the tests passed with.

    .venv/bin/python tools/lock.py           write requirements/lock.txt, binder/requirements.txt
    .venv/bin/python tools/lock.py --check   exit 1 (and say why) if either is out of date

It reads the packages installed in the running environment (importlib.metadata), so run
it with the `.venv` that `python3 run.py test` made and in which the tests passed. From
pyproject.toml's extras it follows every requirement, with its markers and extras, to
the installed distribution that meets it, and writes two lists of `name==version`:

- requirements/lock.txt: the whole closure of every extra (lab, test, lite) and pip.
  `python3 run.py` installs with it as pip constraints (`-c`), so the lab and the tests
  run with exactly these versions.
- binder/requirements.txt: the closure of the lab extra only, which is what a learner
  needs: Binder (repo2docker) installs it, and so can a class JupyterHub image. No test
  tools.

Markers are evaluated for this interpreter (the header of each file says which), which
is what Binder runs too (binder/runtime.txt). The script stops with a message when a
required package is missing or does not meet its requirement: the environment is then
not one the tests could have passed in.
"""
from __future__ import annotations

import argparse
import importlib.metadata as metadata
import platform
import sys
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
BINDER = ROOT / "binder" / "requirements.txt"
PROJECT = "evtsim"
LEARNER_EXTRA = "lab"
# Installed by run.py before anything else; pinned too, so a fresh .venv gets the same pip.
TOOLS = ("pip",)


class LockError(Exception):
    """The environment cannot be locked as it is (a package is missing or too old)."""


def extras(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[Requirement]]:
    """pyproject.toml's optional dependencies, parsed."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    groups = data["project"].get("optional-dependencies", {})
    return {name: [Requirement(text) for text in texts] for name, texts in groups.items()}


def applies(requirement: Requirement, extra: str = "") -> bool:
    """Whether a requirement holds here, for a package asked for with `extra`."""
    if requirement.marker is None:
        return True
    environment = dict(default_environment(), extra=extra)
    return requirement.marker.evaluate(environment)


def installed(name: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        raise LockError(f"{name} is required but not installed here: run "
                        "`python3 run.py test` first, then lock with .venv/bin/python") from None


def closure(roots: list[Requirement]) -> dict[str, str]:
    """Every distribution the roots need here, as {canonical name: installed version}."""
    pinned: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()          # (name, extra) already followed
    todo = [(req, "") for req in roots]
    while todo:
        req, asked_extra = todo.pop()
        if not applies(req, asked_extra):
            continue
        name = canonicalize_name(req.name)
        if name == PROJECT:                     # the kit itself is installed from the checkout
            continue
        dist = installed(req.name)
        version = dist.version
        if version not in req.specifier:
            raise LockError(f"{req.name} {version} is installed, but {req} is required")
        pinned[name] = version
        for extra in ("", *sorted(req.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            todo.extend((Requirement(text), extra) for text in dist.requires or [])
    return pinned


def header(what: str) -> str:
    env = default_environment()
    return (f"# {what}\n"
            f"# Written by tools/lock.py from the packages installed when the tests passed;\n"
            f"# do not edit by hand: run `.venv/bin/python tools/lock.py` again.\n"
            f"# Markers evaluated for Python {env['python_version']} on {env['sys_platform']}"
            f" ({platform.machine()}).\n")


def render(pins: dict[str, str], what: str) -> str:
    return header(what) + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


def wanted() -> dict[Path, str]:
    """The two files' contents for this environment."""
    groups = extras()
    everything = [req for group in groups.values() for req in group]
    everything += [Requirement(tool) for tool in TOOLS]
    lock = closure(everything)
    binder = closure(groups[LEARNER_EXTRA])
    return {
        LOCK: render(lock, "Every package of evtsim's extras (" + ", ".join(groups)
                     + ") and pip, at the versions the tests passed with."),
        BINDER: render(binder, f"What a learner needs (the {LEARNER_EXTRA} extra), pinned;"
                       " Binder installs it."),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that both files are up to date")
    args = parser.parse_args(argv)
    try:
        files = wanted()
    except LockError as error:
        print(f"lock.py: {error}", file=sys.stderr)
        return 2
    stale = [path for path, text in files.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"lock.py: {path.relative_to(ROOT)} is out of date: run "
                  "`.venv/bin/python tools/lock.py`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        count = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        print(f"wrote {path.relative_to(ROOT)} ({count} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
