#!/usr/bin/env python3
"""Downloads for the JupyterLite site, each checked against tools/lite-lock.json.

The lock names every file the site takes from the internet, with its exact version,
address and sha256: the `pyodide` package from the npm registry (the Python runtime
compiled to WebAssembly, with its own `pyodide-lock.json`) and the pure-Python wheels
from PyPI that the Pyodide kernel loads (micropip, IPython and its dependencies, comm,
ipywidgets). A file is downloaded once into the cache (`build/lite-cache/downloads/`);
a later build finds it there and needs no network. A file whose sha256 is not the
lock's is an error, never used.

The npm tarball comes by its registry address with urllib; each wheel comes with
`pip download --no-deps --python-version 3.14 --only-binary=:all: NAME==VERSION`, so
pip's own settings (a mirror, a proxy, certificates) apply, and pip's result must still
be the lock's file, byte for byte.

    .venv/bin/python tools/lite_fetch.py --relock

writes the lock again for the versions it names: the address and sha256 of each file,
read from the npm registry and PyPI. Change a version in the lock, then run it.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "tools" / "lite-lock.json"
PYTHON_IN_BROWSER = "3.14"          # Pyodide 314.x runs CPython 3.14
# PyPI refuses urllib's default user agent
HEADERS = {"User-Agent": "evtsim-lite-builder (+https://pypi.org/project/evtsim)"}


class FetchError(RuntimeError):
    """A download that is missing, failed, or is not the file the lock names."""


@dataclass(frozen=True)
class Artifact:
    """One file the lock names."""

    name: str
    version: str
    file: str
    url: str
    sha256: str


@dataclass(frozen=True)
class Lock:
    """tools/lite-lock.json read: the pyodide tarball and the wheels, by name."""

    pyodide: Artifact
    wheels: dict[str, Artifact]


def read_lock(path: Path = LOCK) -> Lock:
    data = json.loads(path.read_text(encoding="utf-8"))
    wheels = {entry["name"]: Artifact(**entry) for entry in data["wheels"]}
    return Lock(Artifact(**data["pyodide"]), wheels)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked(path: Path, artifact: Artifact) -> Path:
    """`path` if it is the lock's file; else remove it and raise a FetchError."""
    found = sha256_of(path)
    if found != artifact.sha256:
        path.unlink()
        raise FetchError(
            f"{artifact.file}: sha256 is {found}, but tools/lite-lock.json says "
            f"{artifact.sha256}. The download is not the locked file, so it was deleted. "
            f"If you changed the version on purpose, run "
            f"`.venv/bin/python tools/lite_fetch.py --relock`.")
    return path


def _missing(artifact: Artifact, how: str, error: object) -> FetchError:
    return FetchError(
        f"{artifact.file} ({artifact.name} {artifact.version}) is not in the download cache "
        f"and could not be downloaded ({how}): {error}\n"
        f"  The first build needs the network (the npm registry and PyPI); later builds "
        f"use the cache in build/lite-cache/downloads/.")


def fetch_url(artifact: Artifact, downloads: Path) -> Path:
    """The artifact from the cache, or downloaded from its address into the cache."""
    target = downloads / artifact.file
    if target.is_file():
        return _checked(target, artifact)
    downloads.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        request = urllib.request.Request(artifact.url, headers=HEADERS)
        with urllib.request.urlopen(request, timeout=60) as response, \
                open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
    except (OSError, urllib.error.URLError) as error:
        partial.unlink(missing_ok=True)
        raise _missing(artifact, artifact.url, error) from error
    partial.replace(target)
    return _checked(target, artifact)


def fetch_wheels(artifacts: list[Artifact], downloads: Path) -> dict[str, Path]:
    """The wheels from the cache; the missing ones from one `pip download` into it."""
    wanted = [a for a in artifacts if not (downloads / a.file).is_file()]
    if wanted:
        downloads.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                       "--python-version", PYTHON_IN_BROWSER, "--only-binary=:all:",
                       "--dest", tmp, *(f"{a.name}=={a.version}" for a in wanted)]
            done = subprocess.run(command, capture_output=True, text=True)
            got = {p.name: p for p in Path(tmp).glob("*.whl")}
            for artifact in wanted:
                if artifact.file not in got:
                    raise _missing(artifact, "pip download",
                                   done.stderr.strip() or f"pip got {sorted(got)}")
                got[artifact.file].replace(downloads / artifact.file)
    return {a.name: _checked(downloads / a.file, a) for a in artifacts}


def fetch_all(downloads: Path, names: list[str] | None = None,
              lock: Lock | None = None) -> tuple[Path, dict[str, Path]]:
    """The pyodide tarball and the wheels (all, or those in `names`), each verified."""
    lock = lock or read_lock()
    tarball = fetch_url(lock.pyodide, downloads)
    chosen = list(lock.wheels.values()) if names is None else [lock.wheels[n] for n in names]
    return tarball, fetch_wheels(chosen, downloads)


# ------------------------------------------------------------------ writing the lock

def _get_json(url: str, accept: str = "application/json") -> dict:
    request = urllib.request.Request(url, headers={**HEADERS, "Accept": accept})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def _npm_entry(name: str, version: str) -> dict:
    dist = _get_json(f"https://registry.npmjs.org/{name}/{version}")["dist"]
    url = dist["tarball"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "package.tgz"
        request = urllib.request.Request(url, headers=HEADERS)
        with urllib.request.urlopen(request, timeout=120) as response, \
                open(path, "wb") as out:
            shutil.copyfileobj(response, out)
        sha = sha256_of(path)
    return {"name": name, "version": version, "file": url.rsplit("/", 1)[1], "url": url,
            "sha256": sha}


def _pypi_entry(name: str, version: str) -> dict:
    """The pure-Python wheel of `name` `version`, from PyPI's simple index (PEP 691)."""
    index = _get_json(f"https://pypi.org/simple/{name}/",
                      accept="application/vnd.pypi.simple.v1+json")
    stem = f"{name.replace('-', '_')}-{version}-".lower()
    pure = [f for f in index["files"] if f["filename"].lower().startswith(stem)
            and f["filename"].endswith("-none-any.whl")]
    if len(pure) != 1:
        raise FetchError(f"{name} {version}: expected one pure-Python wheel on PyPI, "
                         f"found {[f['filename'] for f in pure]}")
    return {"name": name, "version": version, "file": pure[0]["filename"],
            "url": pure[0]["url"], "sha256": pure[0]["hashes"]["sha256"]}


def relock(path: Path = LOCK) -> None:
    """Write the lock again: the address and sha256 of each version it names."""
    data = json.loads(path.read_text(encoding="utf-8"))
    pyodide = data["pyodide"]
    data["pyodide"] = _npm_entry(pyodide["name"], pyodide["version"])
    data["wheels"] = [_pypi_entry(w["name"], w["version"]) for w in data["wheels"]]
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}: pyodide {pyodide['version']} and {len(data['wheels'])} wheels")


if __name__ == "__main__":
    if sys.argv[1:] != ["--relock"]:
        sys.exit("usage: python tools/lite_fetch.py --relock")
    relock()
