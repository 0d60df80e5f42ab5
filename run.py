#!/usr/bin/env python3
"""Task script for the evtsim kit. It needs only Python 3.10+ with venv and pip.

    python3 run.py lab     set up .venv, then start JupyterLab on lesson 00
    python3 run.py lite    set up .venv, then build the lessons as a JupyterLite site
                           (tools/lite.py; add --serve to serve it on 127.0.0.1)
    python3 run.py test    set up .venv, then run every test with pytest (first
                           installs Debian's chromium for the browser test if it
                           is missing and we are root; otherwise says how)

On Windows, type `py` instead of `python3`. Extra arguments go to JupyterLab, to
tools/lite.py or to pytest, for example `python3 run.py lab --port 8890` or
`python3 run.py test -k status`.

The virtual environment is `.venv` in the repository. The script installs the kit
into it once, with the exact versions in requirements/lock.txt (the ones the tests
passed with), and writes a stamp file there; it installs again only when
pyproject.toml or the lock changes, or a command needs more extras. Each run also
copies the kit's Jupyter settings (jupyter-env/) into .venv: JupyterLab asks no
question about Jupyter news and checks for no update, and Voila uses the kit's
template, which loads nothing from the internet. This file uses the standard
library only.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "evtsim-install.json"
NOTEBOOKS = ROOT / "notebooks"
FIRST_LESSON = "00-start-here.ipynb"
LOCK = ROOT / "requirements" / "lock.txt"
# A prefix tree (etc/jupyter, share/jupyter) copied onto the environment's own prefix.
JUPYTER_ENV = ROOT / "jupyter-env"

COMMANDS = {
    "lab": "set up .venv and start JupyterLab on lesson 00 (http://127.0.0.1, token on)",
    "lite": "set up .venv and build the JupyterLite site (tools/lite.py; --serve to serve it)",
    "test": "set up .venv and run every test with pytest",
}
# What each extra brings, for the progress messages.
EXTRA_NAMES = {
    "lab": "JupyterLab, ipywidgets, matplotlib and jupytext",
    "lite": "JupyterLite and its Pyodide kernel",
    "test": "pytest, Hypothesis, Playwright, Notebook 7, Voila and the other test tools",
}


def say(message):
    print(f"[run.py] {message}", flush=True)


def fail(message, code=1):
    print(f"[run.py] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def venv_python():
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def call(cmd):
    """Run cmd in the repository root and return its exit code.

    Ctrl-C goes to the child too (same console); we let the child decide what to
    do with it (JupyterLab asks for confirmation) and keep waiting for it.
    """
    shown = " ".join(str(part) for part in cmd)
    say(f"$ {shown}")
    proc = subprocess.Popen([str(part) for part in cmd], cwd=ROOT)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            continue


def check(cmd, what):
    code = call(cmd)
    if code != 0:
        fail(f"{what} failed (exit code {code}). Read the messages above.", code)


def digest(path):
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def wanted_stamp():
    """What the stamp must say for the current checkout to count as installed."""
    # An editable install made before evtsim/ existed maps no package: redo it then.
    has_package = (ROOT / "evtsim" / "__init__.py").is_file()
    return {"pyproject_sha256": digest(ROOT / "pyproject.toml"),
            "lock_sha256": digest(LOCK), "package_present": has_package}


def read_stamp():
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def lock_made_for():
    """What requirements/lock.txt was made for, for example 'Python 3.11 on linux'."""
    try:
        text = LOCK.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"^# Markers evaluated for (Python \d+\.\d+ on \S+)", text, re.M)
    return found.group(1) if found else None


def pip_install(python, args, what):
    """pip install ARGS with the lock as constraints. A Python (or a system) the lock was
    not made for may need other versions: then say so and try once more without it."""
    if not LOCK.is_file():
        say(f"{LOCK.relative_to(ROOT)} is missing: installing without pinned versions.")
        check([python, "-m", "pip", "install", *args], what)
        return
    code = call([python, "-m", "pip", "install", "-c", LOCK, *args])
    if code == 0:
        return
    here = f"Python {sys.version_info[0]}.{sys.version_info[1]} on {sys.platform}"
    made_for = lock_made_for()
    if made_for == here:
        fail(f"{what} failed (exit code {code}). Read the messages above.", code)
    say(f"{what} with the pinned versions of {LOCK.relative_to(ROOT)} failed. The lock was "
        f"made for {made_for}; this is {here}, which may need other versions.")
    say("Trying again without the pinned versions (the tests passed with the pinned ones) ...")
    check([python, "-m", "pip", "install", *args], what)


def install_jupyter_env(prefix=VENV):
    """Copy jupyter-env/ (etc/jupyter, share/jupyter) onto the environment's prefix.

    overrides.json turns off JupyterLab's news question and update check; voila.json
    picks the evtsim Voila template. Cheap, so it runs every time and follows edits."""
    copied = 0
    for top in ("etc", "share"):
        for source in sorted((JUPYTER_ENV / top).rglob("*")):
            if source.is_file():
                target = Path(prefix) / source.relative_to(JUPYTER_ENV)
                if not target.is_file() or target.read_bytes() != source.read_bytes():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
                    copied += 1
    return copied


def ensure_venv(extras):
    """Create .venv if needed and install the kit with the given extras into it."""
    if sys.version_info < (3, 10):
        fail(f"evtsim needs Python 3.10 or newer; this is Python {sys.version.split()[0]}.")
    python = venv_python()
    stamp, want = read_stamp(), wanted_stamp()
    installed = (python.exists() and all(stamp.get(key) == value for key, value in want.items())
                 and set(extras) <= set(stamp.get("extras", [])))
    if installed:
        say(f"Using {VENV}: evtsim[{','.join(extras)}] is already installed for this "
            "pyproject.toml and lock; skipping the install.")
        install_jupyter_env()
        return python

    total = 4
    say(f"Setting up {VENV} for evtsim[{','.join(extras)}]. The first time this downloads "
        "and installs a few hundred MB and can take several minutes; later runs start at once.")
    if not python.exists():
        say(f"Step 1 of {total}: creating the virtual environment {VENV} "
            f"(Python {sys.version.split()[0]}) ...")
        try:
            venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            fail(
                f"could not create {VENV}: {error}\n"
                "  On Debian or Ubuntu, install the venv module first: sudo apt install python3-venv\n"
                "  Then delete the .venv folder and run this command again."
            )
    else:
        say(f"Step 1 of {total}: the virtual environment {VENV} is there already.")
    if STAMP.exists():
        STAMP.unlink()

    say(f"Step 2 of {total}: updating pip inside the virtual environment ...")
    pip_install(python, ["--upgrade", "pip"], "Updating pip")

    what = "; ".join(f"{extra}: {EXTRA_NAMES.get(extra, extra)}" for extra in extras)
    say(f"Step 3 of {total}: installing evtsim (editable) with its extras ({what}), and "
        f"everything they need at the versions in {LOCK.relative_to(ROOT)}. This is the "
        "long step: pip prints each package as it goes.")
    pip_install(python, ["-e", f".[{','.join(extras)}]"], "Installing evtsim")

    say(f"Step 4 of {total}: copying the kit's Jupyter settings ({JUPYTER_ENV.name}/) into "
        f"{VENV} ...")
    install_jupyter_env()
    want["extras"] = sorted(extras)
    STAMP.write_text(json.dumps(want, indent=1) + "\n", encoding="utf-8")
    say(f"Installed. Stamp written to {STAMP}")
    return python


def lab_command(python, args):
    """The JupyterLab command line: the notebooks folder, opened on lesson 00.

    No news and no update check on the server's side either (the settings in
    jupyter-env/ stop the question in the browser)."""
    # Containers and classroom images often run as root, which Jupyter refuses
    # unless told; the server still listens only on 127.0.0.1 with its token.
    as_root = ["--allow-root"] if getattr(os, "geteuid", lambda: 1)() == 0 else []
    return [
        str(python), "-m", "jupyter", "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        f"--LabApp.default_url=/lab/tree/{FIRST_LESSON}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *as_root,
        *args,
    ]


def lab(args):
    python = ensure_venv(["lab"])
    say(f"Starting JupyterLab on notebooks/ at 127.0.0.1; it opens {FIRST_LESSON}. "
        "Open the link with the token that it prints.")
    say("Press Ctrl-C twice to stop it.")
    return call(lab_command(python, args))


def lite(args):
    python = ensure_venv(["lab", "lite"])
    say("Building the JupyterLite site with tools/lite.py ...")
    return call([python, ROOT / "tools" / "lite.py", *args])


CHROMIUM = Path(os.environ.get("EVTSIM_CHROMIUM", "/usr/bin/chromium"))


def ensure_chromium():
    """The browser test drives Debian's chromium; it is never skipped, so get it first.

    As root (CI, containers) a missing browser is installed with apt-get; otherwise
    the command stops here and says how to install it. Playwright's own browser
    download is never used.
    """
    if CHROMIUM.exists():
        say(f"Browser for the browser test: {CHROMIUM}")
        return
    install = "apt-get update && apt-get install -y chromium"
    if os.name != "posix" or os.geteuid() != 0:
        fail(f"the browser test needs Chromium at {CHROMIUM}, and it is missing.\n"
             f"  On Debian or Ubuntu: sudo sh -c '{install}'\n"
             "  Elsewhere, install Chromium and set EVTSIM_CHROMIUM to its path.\n"
             "  (The browser test is part of every test run; it is never skipped.)")
    say(f"{CHROMIUM} is missing; installing Debian's chromium (running as root) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        say("$ " + " ".join(cmd))
        try:
            code = subprocess.call(cmd, cwd=ROOT, env=env)
        except OSError as error:
            fail(f"could not run {cmd[0]} ({error}); install Chromium at {CHROMIUM} by hand.")
        if code != 0:
            fail(f"{' '.join(cmd)} failed (exit code {code}); the browser test cannot run.",
                 code)
    if not CHROMIUM.exists():
        fail(f"chromium was installed but {CHROMIUM} is still missing; set EVTSIM_CHROMIUM "
             "to the browser's path.")


def test(args):
    ensure_chromium()
    python = ensure_venv(["lab", "test", "lite"])
    say("Running the tests with pytest ...")
    code = call([python, "-m", "pytest", *args])
    say(f"pytest finished with exit code {code}.")
    return code


def usage(stream):
    print("usage: python3 run.py COMMAND [extra arguments]   (on Windows: py run.py ...)", file=stream)
    print("", file=stream)
    for name, text in COMMANDS.items():
        print(f"  {name:5} {text}", file=stream)
    print("", file=stream)
    print("Extra arguments go to JupyterLab (lab), tools/lite.py (lite) or pytest (test).",
          file=stream)


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        usage(sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"[run.py] unknown command {command!r}", file=sys.stderr)
        usage(sys.stderr)
        return 2
    os.chdir(ROOT)
    return {"lab": lab, "lite": lite, "test": test}[command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
