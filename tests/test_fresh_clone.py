"""The README's two commands work on a fresh machine, from a clean clone.

The test clones the repository's committed HEAD into a temporary folder (nothing of
this checkout's .venv or uncommitted files comes along) and, as a learner would:

1. runs `python3 run.py lab --port N --no-browser`: it must create `.venv`, install the
   kit with the pinned versions of requirements/lock.txt (saying what it does, step by
   step) and start JupyterLab on 127.0.0.1:N. The test polls until the server answers,
   checks that it refuses a request without the token, that the link it printed opens
   lesson 00 (and `/` leads there too), that it serves the notebooks, and that the kit's
   Jupyter settings are in the new .venv; then it stops it (the whole process group);
2. runs `python3 run.py test tests/test_packaging.py -q` in the same clone: the test
   command must complete its environment and pass (a small subset, to keep CI short).

Packages come from the package index as for a learner; pip's own cache is allowed, so
a second run downloads little. Every step has a time limit; nothing is left running.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import exited, free_port, poll, stop

ROOT = Path(__file__).resolve().parent.parent
CLONE_S = 120
INSTALL_AND_START_S = 900      # first run: make .venv, install the kit, start JupyterLab
TEST_COMMAND_S = 900

# Both tests use one clone (the second finds the .venv the first made); with
# --dist loadfile they run on one worker.
pytestmark = pytest.mark.slow


def python3() -> str:
    """The interpreter a learner types: `python3` on PATH (this one if there is none)."""
    return shutil.which("python3") or sys.executable


def clean_env(tmp: Path) -> dict:
    """The environment of a learner's shell: no venv of ours, no test settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
                        "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "JUPYTER_TOKEN")
           and not k.startswith(("JUPYTER_", "JUPYTERLAB_"))}
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if os.path.abspath(p) != os.path.abspath(venv_bin))
    # Jupyter's own folders (config, runtime, settings) in the temp folder, not the user's.
    for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTER_DATA_DIR", "data"), ("IPYTHONDIR", "ipython"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        env[name] = str(tmp / "jupyter" / sub)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["CI"] = env.get("CI", "true")
    return env


class Answer:
    def __init__(self, status, url, headers, body):
        self.status, self.url, self.headers, self.body = status, url, headers, body


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, timeout: float = 5) -> Answer:
    """GET url without following redirects; HTTP errors are answers too."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return Answer(response.status, url, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, url, error.headers, error.read())


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.fail("this test clones the repository: run it in a git checkout with git "
                    "installed")
    tmp = tmp_path_factory.mktemp("fresh")
    target = tmp / "evtsim"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
                   check=True, timeout=CLONE_S, capture_output=True)
    assert not (target / ".venv").exists()
    return tmp, target


def test_lab_command_sets_up_and_serves_jupyterlab_with_a_token(clone):
    """The README's lab command on a fresh clone. It takes about a minute, longer than
    the other tests: it really makes a virtual environment and installs JupyterLab into
    it (from pip's cache when there is one), as a learner's first run does."""
    tmp, repo = clone
    port = free_port()
    log_path = tmp / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [python3(), "run.py", "lab", "--port", str(port), "--no-browser",
             "--ServerApp.port_retries=0"],
            cwd=repo, env=clean_env(tmp), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def token_that_works():
        found = re.search(rf"127\.0\.0\.1:{port}/lab/tree/00-start-here\.ipynb\?token=([0-9a-f]+)",
                          log_path.read_text(errors="replace"))
        if not found:
            return None
        try:
            ok = get(f"{base}/api/status?token={found.group(1)}", timeout=3).status == 200
        except OSError:
            return None
        return found.group(1) if ok else None

    try:
        # The first run makes .venv and installs the kit: the one long wait of the suite.
        token = poll(token_that_works, "`python3 run.py lab` did not serve JupyterLab",
                     died=exited(proc, log_path), every_s=0.5,
                     limit_s=INSTALL_AND_START_S)

        # It listens on 127.0.0.1 and refuses anyone without the token.
        assert get(f"{base}/api/contents").status == 403
        page = get(f"{base}/lab")
        assert page.status == 302 and "/login" in page.headers.get("Location", ""), page.status
        assert get(f"{base}/api/contents?token=0{token[1:]}x").status == 403

        # With the token: / leads to lesson 00, and the printed link opens it.
        root = get(f"{base}/?token={token}", timeout=15)
        assert root.status == 302, root.status
        assert root.headers["Location"].split("?")[0] == "/lab/tree/00-start-here.ipynb"
        page = get(f"{base}/lab/tree/00-start-here.ipynb?token={token}", timeout=15)
        assert page.status == 200
        assert b"jupyter-config-data" in page.body and b"JupyterLab" in page.body
        listing = get(f"{base}/api/contents?token={token}", timeout=15)
        assert listing.status == 200
        assert b'"00-start-here.ipynb"' in listing.body, listing.body[:500]
        assert (repo / ".venv").is_dir()
        text = log_path.read_text(errors="replace")
        # progress, in numbered steps, and the pinned install
        for step in ("Step 1 of 4: creating the virtual environment",
                     "Step 2 of 4: updating pip", "Step 3 of 4: installing evtsim",
                     "Step 4 of 4: copying the kit's Jupyter settings"):
            assert step in text, step
        assert "can take several minutes" in text
        assert re.search(r"pip install -c \S+requirements/lock\.txt -e \.\[lab\]", text)
        # the kit's settings: no news question, and Voila's offline template
        settings = repo / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
        assert settings.read_bytes() == (repo / "jupyter-env" / settings.relative_to(
            repo / ".venv")).read_bytes()
    finally:
        stop(proc)
    assert proc.poll() is not None
    with pytest.raises(OSError):
        get(f"{base}/api/status", timeout=2)


def test_test_command_completes_the_environment_and_passes(clone):
    """The README's test command on the same clone: it installs the test extra into the
    clone's .venv (about a minute on a busy machine: real pip work) and runs a small
    part of the suite."""
    tmp, repo = clone
    proc = subprocess.run(
        [python3(), "run.py", "test", "tests/test_packaging.py", "-q", "-p", "no:cacheprovider"],
        cwd=repo, env=clean_env(tmp), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=TEST_COMMAND_S, start_new_session=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert re.search(r"^\d+ passed", proc.stdout, re.M), output[-3000:]
    assert (repo / ".venv" / "evtsim-install.json").is_file()
