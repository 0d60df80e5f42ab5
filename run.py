#!/usr/bin/env python3
"""Task script for the evtsim kit. It needs only Python 3.10+ with venv and pip.

    python3 run.py lab     set up .venv, then start JupyterLab on notebooks/
    python3 run.py test    set up .venv, then run every test with pytest (first
                           installs Debian's chromium for the browser test if it
                           is missing and we are root; otherwise says how)

On Windows, type `py` instead of `python3`. Extra arguments go to JupyterLab or
pytest, for example `python3 run.py lab --port 8890` or `python3 run.py test -k status`.

The virtual environment is `.venv` in the repository. The script installs the kit
into it once and writes a stamp file there; it installs again only when
pyproject.toml changes or a command needs more extras. This file uses the standard
library only.
"""

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "evtsim-install.json"
NOTEBOOKS = ROOT / "notebooks"

COMMANDS = {
    "lab": "set up .venv and start JupyterLab on notebooks/ (http://127.0.0.1, token on)",
    "test": "set up .venv and run every test with pytest",
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


def wanted_stamp():
    """What the stamp must say for the current checkout to count as installed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    # An editable install made before evtsim/ existed maps no package: redo it then.
    has_package = (ROOT / "evtsim" / "__init__.py").is_file()
    return {"pyproject_sha256": digest, "package_present": has_package}


def read_stamp():
    try:
        return json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def ensure_venv(extras):
    """Create .venv if needed and install the kit with the given extras into it."""
    if sys.version_info < (3, 10):
        fail(f"evtsim needs Python 3.10 or newer; this is Python {sys.version.split()[0]}.")
    python = venv_python()
    if not python.exists():
        say(f"Creating the virtual environment {VENV} (Python {sys.version.split()[0]}) ...")
        try:
            venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            fail(
                f"could not create {VENV}: {error}\n"
                "  On Debian or Ubuntu, install the venv module first: sudo apt install python3-venv\n"
                "  Then delete the .venv folder and run this command again."
            )
    else:
        say(f"Using the virtual environment {VENV}")

    stamp = read_stamp()
    want = wanted_stamp()
    have_extras = set(stamp.get("extras", []))
    if all(stamp.get(key) == value for key, value in want.items()) and set(extras) <= have_extras:
        say(f"evtsim[{','.join(extras)}] is already installed for this pyproject.toml; skipping the install.")
        return python

    if STAMP.exists():
        STAMP.unlink()
    say("Upgrading pip inside the virtual environment ...")
    check([python, "-m", "pip", "install", "--upgrade", "pip"], "Upgrading pip")
    spec = f".[{','.join(extras)}]"
    say(f"Installing evtsim in editable mode with the extras {', '.join(extras)} (the first time takes a few minutes) ...")
    check([python, "-m", "pip", "install", "-e", spec], "Installing evtsim")
    want["extras"] = sorted(extras)
    STAMP.write_text(json.dumps(want, indent=1) + "\n", encoding="utf-8")
    say(f"Installed. Stamp written to {STAMP}")
    return python


def lab(args):
    python = ensure_venv(["lab"])
    say("Starting JupyterLab on notebooks/ at 127.0.0.1. Open the link with the token that it prints.")
    say("Press Ctrl-C twice to stop it.")
    # Containers and classroom images often run as root, which Jupyter refuses
    # unless told; the server still listens only on 127.0.0.1 with its token.
    as_root = ["--allow-root"] if getattr(os, "geteuid", lambda: 1)() == 0 else []
    return call([
        python, "-m", "jupyter", "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        *as_root,
        *args,
    ])


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
    python = ensure_venv(["lab", "test"])
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
    print("Extra arguments go to JupyterLab (lab) or to pytest (test).", file=stream)


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
    return {"lab": lab, "test": test}[command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
