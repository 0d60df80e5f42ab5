#!/usr/bin/env python3
"""Build the lessons as a JupyterLite site that runs Python in the browser, with no server.

    .venv/bin/python tools/lite.py [--serve] [--port N] [--online] [--out DIR]

(or `python3 run.py lite ...`). The site in DIR (default build/lite/) holds JupyterLite's
lab, the lessons (`notebooks/NN-*.ipynb`), the ipywidgets lab extension and the Pyodide
kernel. `--serve` then serves it on http://127.0.0.1:PORT (8000 by default) until Ctrl+C.
docs/jupyterlite.md says how to publish it.

Python in the browser is Pyodide. The default build is offline: the site carries
Pyodide itself (the npm package `pyodide`, `static/pyodide/`) with every wheel the
kernel loads, so the browser asks no other host for anything. Matplotlib for Pyodide is
a compiled build that is neither on PyPI nor in the npm package, so offline lessons draw no
matplotlib picture (`evtsim.plot` says so in one line); the lab's SVG timeline needs
no matplotlib. `--online` builds a site that takes Pyodide and its packages, matplotlib
too, from Pyodide's CDN (for GitHub Pages); only the offline build is tested here.

How `import evtsim` works with no `%pip` cell: the site's `pyodide-lock.json` lists the
evtsim wheel (built from this checkout), ipywidgets and comm next to Pyodide's own
packages, and the kernel's `loadPyodideOptions.packages` names them, so Pyodide
installs them while it starts, before the first cell. (piplite's wheel index would need
a `%pip install` in every lesson; the lock is also where Pyodide checks each wheel's
sha256.) Offline, the lock lists only the files the site ships, each with its own
sha256: the PyPI wheels differ from the ones Pyodide's lock was made with. Online, the
lock is Pyodide's with absolute CDN addresses plus the site's own wheels.

Every download is in tools/lite-lock.json and checked against it (tools/lite_fetch.py);
the cache build/lite-cache/ makes a second build offline. A missing download with no
network is an error with a message and exit status 1.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lite_fetch  # noqa: E402  (tools/ is not a package)

ROOT = lite_fetch.ROOT
CACHE = ROOT / "build" / "lite-cache"
DEFAULT_OUT = ROOT / "build" / "lite"
LESSON = re.compile(r"\d\d-[\w-]+\.ipynb")
LABEXTENSIONS = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
EXTENSIONS = ["@jupyter-widgets/jupyterlab-manager", "@jupyterlite/pyodide-kernel-extension"]
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"
ONLINE_LOCK_DIR = "static/evtsim"       # the online site's lock and its own wheels
# What Pyodide itself needs from the npm package (no source maps, consoles, typings).
PYODIDE_CORE = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                "pyodide-lock.json", "package.json"]
# Wheels that Pyodide's lock does not list: added to it, described from their metadata.
EXTRA_WHEELS = ["comm", "ipywidgets"]
# Installed while Pyodide starts (the kernel then skips its own installs of these).
PRELOAD = ["micropip", "ipython", "jedi", "comm", "ipywidgets", "evtsim"]
# ipywidgets names these, but they hold only the browser side, which the site has as
# the lab extension @jupyter-widgets/jupyterlab-manager.
BROWSER_SIDE_ONLY = {"widgetsnbextension", "jupyterlab-widgets"}
# Every cell stays on the page (no windowing), so the browser's find and a screen
# reader see the whole lesson, and nothing is drawn only when scrolled to.
SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
MIME = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
        ".json": "application/json", ".whl": "application/zip", ".zip": "application/zip",
        ".ipynb": "application/json", ".svg": "image/svg+xml"}


class BuildError(RuntimeError):
    """A build step that failed, with what to do about it."""


def say(message: str) -> None:
    print(f"[lite] {message}", flush=True)


def normal(name: str) -> str:
    """A package name as Pyodide's lock keys it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ------------------------------------------------------------------ the evtsim wheel

def wheel_sources() -> list[Path]:
    """What the evtsim wheel is built from: the checkout's top-level files and evtsim/."""
    files = [p for p in ROOT.iterdir() if p.is_file()]
    files += [p for p in (ROOT / "evtsim").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return sorted(files)


def build_evtsim_wheel(cache: Path) -> Path:
    """The evtsim wheel, built from a copy of its sources (so nothing is written into the
    checkout), or the one built before from the same sources (`cache/<digest>/`)."""
    sources = wheel_sources()
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    dest = cache / digest.hexdigest()[:16]
    built = sorted(dest.glob("evtsim-*.whl"))
    if len(built) == 1:
        return built[0]
    shutil.rmtree(cache, ignore_errors=True)          # an older wheel is of no more use
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path in sources:
            copy = Path(tmp) / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        # no build isolation: the venv's setuptools (the lite extra) builds it offline
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                   "--no-build-isolation", "--wheel-dir", str(dest), tmp]
        done = subprocess.run(command, capture_output=True, text=True)
    built = sorted(dest.glob("evtsim-*.whl"))
    if done.returncode != 0 or len(built) != 1:
        shutil.rmtree(dest, ignore_errors=True)
        raise BuildError(f"building the evtsim wheel failed:\n{done.stderr.strip()}\n"
                         f"  Is the lite extra installed? `python3 run.py lite` installs it.")
    return built[0]


# ------------------------------------------------------------------ Pyodide's lock

def wheel_metadata(wheel: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """(the wheel's METADATA headers, its Requires-Dist lines, its top-level imports)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(meta_name).decode("utf-8"))
    tops = sorted({n.split("/")[0].removesuffix(".py") for n in names
                   if not n.split("/")[0].endswith((".dist-info", ".data"))})
    return dict(message.items()), message.get_all("Requires-Dist") or [], tops


def runtime_depends(requires: list[str]) -> list[str]:
    """The packages a wheel needs at run time in Pyodide: no extras, markers that hold
    for CPython 3.14 on Emscripten, and no browser-side-only packages."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    environment = {key: str(value) for key, value in default_environment().items()}
    environment.update(python_version=lite_fetch.PYTHON_IN_BROWSER,
                       python_full_version=lite_fetch.PYTHON_IN_BROWSER + ".0",
                       sys_platform="emscripten", platform_system="Emscripten",
                       platform_machine="wasm32", extra="")
    depends = []
    for line in requires:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        if normal(requirement.name) not in BROWSER_SIDE_ONLY:
            depends.append(normal(requirement.name))
    return depends


def new_entry(wheel: Path, file_name: str) -> dict:
    """A pyodide-lock.json entry for a pure-Python wheel Pyodide's lock does not list."""
    headers, requires, tops = wheel_metadata(wheel)
    return {"name": headers["Name"], "version": headers["Version"], "file_name": file_name,
            "install_dir": "site", "sha256": lite_fetch.sha256_of(wheel),
            "package_type": "package", "imports": tops,
            "depends": runtime_depends(requires), "unvendored_tests": False}


def site_lock(npm_lock: dict, wheels: dict[str, Path], own: list[Path],
              cdn: str | None, lock: lite_fetch.Lock) -> dict:
    """The site's pyodide-lock.json.

    Offline (`cdn` None): only the packages in `wheels` and `own`, each entry naming
    the file the site ships and its sha256. Online: every package of Pyodide's lock at
    its CDN address, plus the wheels in `own` (next to the lock). Either way every
    dependency must be in the lock."""
    packages: dict[str, dict] = {}
    if cdn is None:
        for name, wheel in wheels.items():
            entry = dict(npm_lock["packages"][normal(name)])
            version = lock.wheels[name].version
            if entry["version"] != version:
                raise BuildError(f"{name}: tools/lite-lock.json pins {version}, Pyodide's "
                                 f"lock has {entry['version']}: pin the same version")
            entry.update(file_name=wheel.name, sha256=lite_fetch.sha256_of(wheel))
            packages[normal(name)] = entry
    else:
        for key, entry in npm_lock["packages"].items():
            absolute = re.match(r"^https?://", entry["file_name"])
            packages[key] = {**entry, "file_name": entry["file_name"] if absolute
                             else cdn + entry["file_name"]}
    for wheel in own:
        entry = new_entry(wheel, wheel.name)
        packages[normal(entry["name"])] = entry
    missing = sorted({dep for entry in packages.values() for dep in entry["depends"]
                      if normal(dep) not in packages})
    if missing:
        raise BuildError(f"the site's pyodide-lock.json lacks {missing}: add them to "
                         f"tools/lite-lock.json")
    return {"info": npm_lock["info"], "packages": dict(sorted(packages.items()))}


def unpack_pyodide(tarball: Path, dest: Path | None = None) -> dict:
    """Pyodide's pyodide-lock.json, read from the npm tarball; with `dest`, also
    Pyodide's core files unpacked into it."""
    with tarfile.open(tarball) as archive:
        for name in PYODIDE_CORE if dest else ["pyodide-lock.json"]:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise BuildError(f"{tarball.name} has no {name}")
            data = member.read()
            if dest:
                dest.mkdir(parents=True, exist_ok=True)
                (dest / name).write_bytes(data)
            if name == "pyodide-lock.json":
                npm_lock = json.loads(data)
    return npm_lock


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ the site

def lessons() -> list[Path]:
    return sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if LESSON.fullmatch(p.name))


def kernel_settings(online: bool, version: str) -> dict:
    """The Pyodide kernel's settings in jupyter-lite.json."""
    if not online:      # pyodideUrl: set by the kernel's addon to static/pyodide/
        return {"disablePyPIFallback": True, "loadPyodideOptions": {"packages": PRELOAD}}
    return {"pyodideUrl": CDN.format(version=version) + "pyodide.mjs",
            "disablePyPIFallback": False,
            "loadPyodideOptions": {"lockFileURL": f"./{ONLINE_LOCK_DIR}/pyodide-lock.json",
                                   "packages": [*PRELOAD, "matplotlib"]}}


def stage(lite_dir: Path, online: bool) -> None:
    """Write the JupyterLite project into `lite_dir`: its build config, the site's
    config, the settings, and Pyodide with its lock and wheels (`static/pyodide/`),
    or online only the lock and the site's own wheels (`static/evtsim/`)."""
    lock = lite_fetch.read_lock()
    tarball, wheels = lite_fetch.fetch_all(CACHE / "downloads",
                                           EXTRA_WHEELS if online else None, lock)
    say(f"downloads verified against tools/lite-lock.json ({len(wheels)} wheels, "
        f"{tarball.name})")
    own = [build_evtsim_wheel(CACHE / "evtsim-wheel"), *(wheels[n] for n in EXTRA_WHEELS)]
    say(f"the evtsim wheel: {own[0].name} ({own[0].parent.name})")
    missing = [e for e in EXTENSIONS if not (LABEXTENSIONS / e / "package.json").is_file()]
    if missing:
        raise BuildError(f"lab extensions {missing} are not in {LABEXTENSIONS}: install "
                         f"the lab and lite extras (python3 run.py lite)")
    write_json(lite_dir / "jupyter_lite_config.json", {"LiteBuildConfig": {
        "contents": [str(p) for p in lessons()],
        "federated_extensions": [str(LABEXTENSIONS / e) for e in EXTENSIONS],
        "ignore_sys_prefix": True, "no_sourcemaps": True,
        "apps": ["lab", "notebooks", "tree"]}})
    write_json(lite_dir / "jupyter-lite.json", {
        "jupyter-lite-schema-version": 0, "jupyter-config-data": {
            "appName": "evtsim lessons", "litePluginSettings": {
                KERNEL_PLUGIN: kernel_settings(online, lock.pyodide.version)}}})
    write_json(lite_dir / "overrides.json", SETTINGS)
    if online:
        folder = lite_dir / ONLINE_LOCK_DIR
        cdn = CDN.format(version=lock.pyodide.version)
        site = site_lock(unpack_pyodide(tarball), {}, own, cdn, lock)
        shipped = own
    else:
        folder = lite_dir / "static" / "pyodide"
        plain = {n: w for n, w in wheels.items() if n not in EXTRA_WHEELS}
        site = site_lock(unpack_pyodide(tarball, folder), plain, own, None, lock)
        shipped = [*plain.values(), *own]
    folder.mkdir(parents=True, exist_ok=True)
    for wheel in shipped:
        shutil.copy2(wheel, folder / wheel.name)
    write_json(folder / "pyodide-lock.json", site)


def clear(out: Path) -> None:
    """Remove an old site in `out`; refuse to empty a folder that is not one."""
    if not out.exists():
        return
    if any(out.iterdir()) and not (out / "jupyter-lite.json").is_file():
        raise BuildError(f"{out} is not empty and is not a JupyterLite site: choose "
                         f"another --out")
    shutil.rmtree(out)


def build(out: Path, online: bool = False) -> Path:
    """Build the site into `out` and return it."""
    clear(out)
    with tempfile.TemporaryDirectory() as tmp:
        lite_dir = Path(tmp)
        stage(lite_dir, online)
        command = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir",
                   str(lite_dir), "--output-dir", str(out)]
        say("jupyter lite build ...")
        done = subprocess.run(command, cwd=lite_dir, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"jupyter lite build failed:\n{done.stdout[-3000:]}\n"
                             f"{done.stderr[-3000:]}")
        if online:          # jupyter lite build copies static/pyodide/ only
            shutil.copytree(lite_dir / ONLINE_LOCK_DIR, out / ONLINE_LOCK_DIR)
    check_site(out, online)
    return out


def kernel_config(out: Path) -> dict:
    """The Pyodide kernel's settings in the built site's jupyter-lite.json."""
    config = json.loads((out / "jupyter-lite.json").read_text(encoding="utf-8"))
    return config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]


def check_site(out: Path, online: bool) -> None:
    """Fail loudly if the built site lacks what the lessons need."""
    settings = kernel_config(out)
    url = settings.get("pyodideUrl", "")
    wanted = "https://" if online else "./static/pyodide/"
    problems = [] if url.startswith(wanted) else [f"pyodideUrl is {url!r}"]
    problems += [f"no lesson {p.name}" for p in lessons()
                 if not (out / "files" / p.name).is_file()]
    problems += [f"no lab extension {e}" for e in EXTENSIONS
                 if not (out / "extensions" / e / "package.json").is_file()]
    if problems:
        raise BuildError(f"the site in {out} is not right: {'; '.join(problems)}")


# ------------------------------------------------------------------ serving

class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the types browsers insist on (.wasm, .mjs)."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME}


class QuietHandler(Handler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class SiteServer(http.server.ThreadingHTTPServer):
    """A browser that leaves a page mid-download closes its connection: that is not an
    error of the site, so it is not printed as a traceback."""

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def make_server(out: Path, port: int, quiet: bool = False) -> http.server.ThreadingHTTPServer:
    """A static server for the site on 127.0.0.1:port (0: a free port)."""
    handler = functools.partial(QuietHandler if quiet else Handler, directory=str(out))
    return SiteServer(("127.0.0.1", port), handler)


def serve(out: Path, port: int) -> None:
    server = make_server(out, port)
    try:
        say(f"serving {out} on http://127.0.0.1:{server.server_address[1]}/lab/index.html"
            f"?path=00-start-here.ipynb (Ctrl+C stops)")
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/lite.py", description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help="serve the site after building")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (8000)")
    parser.add_argument("--online", action="store_true",
                        help="take Pyodide and matplotlib from Pyodide's CDN (GitHub Pages)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the site's folder")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    try:
        build(out, args.online)
    except (BuildError, lite_fetch.FetchError) as error:
        print(f"[lite] ERROR: {error}", file=sys.stderr, flush=True)
        return 1
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    say(f"built {'online' if args.online else 'offline'} site in {out} "
        f"({size / 1e6:.1f} MB)")
    if args.serve:
        serve(out, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
