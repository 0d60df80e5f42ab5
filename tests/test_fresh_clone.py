"""The README's two commands work on a fresh machine, from a clean clone.

The test clones the repository's committed HEAD into a temporary folder (nothing of
this checkout's .venv or uncommitted files comes along) and, as a learner would:

1. runs `python3 run.py lab --port N --no-browser`: it must create `.venv`, install the
   kit and start JupyterLab on 127.0.0.1:N. The test polls until the server answers,
   checks that it refuses a request without the token and serves the lab (on the
   notebooks) with the token that it printed, then stops it (the whole process group);
2. runs `python3 run.py test tests/test_packaging.py -q` in the same clone: the test
   command must complete its environment and pass (a small subset, to keep CI short).

Packages come from the package index as for a learner; pip's own cache is allowed, so
a second run downloads little. Every step has a time limit; nothing is left running.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLONE_S = 120
INSTALL_AND_START_S = 900      # first run: make .venv, install the kit, start JupyterLab
TEST_COMMAND_S = 900
STOP_S = 20

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def stop(proc: subprocess.Popen) -> None:
    """Stop proc and everything it started (JupyterLab, its kernels), in bounded time."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, STOP_S), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    # the group may outlive its leader (a kernel): end it too
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
        pytest.skip("not a git checkout: there is nothing to clone")
    tmp = tmp_path_factory.mktemp("fresh")
    target = tmp / "evtsim"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
                   check=True, timeout=CLONE_S, capture_output=True)
    assert not (target / ".venv").exists()
    return tmp, target


def test_lab_command_sets_up_and_serves_jupyterlab_with_a_token(clone):
    tmp, repo = clone
    port = free_port()
    log_path = tmp / "lab.log"
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [python3(), "run.py", "lab", "--port", str(port), "--no-browser",
             "--ServerApp.port_retries=0", "--LabApp.news_url="],
            cwd=repo, env=clean_env(tmp), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        token = None
        deadline = start + INSTALL_AND_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`python3 run.py lab` exited with {proc.returncode}:\n"
                            + tail(log_path))
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {INSTALL_AND_START_S} s:\n"
                            + tail(log_path))
            if token is None:
                found = re.search(rf"127\.0\.0\.1:{port}/\S*?token=([0-9a-f]+)",
                                  log_path.read_text(errors="replace"))
                token = found and found.group(1)
            if token:
                try:
                    if get(f"{base}/api/status?token={token}", timeout=3).status == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.5)
        ready_s = time.monotonic() - start

        # It listens on 127.0.0.1 and refuses anyone without the token.
        assert get(f"{base}/api/contents").status == 403
        page = get(f"{base}/lab")
        assert page.status == 302 and "/login" in page.headers.get("Location", ""), page.status
        assert get(f"{base}/api/contents?token=0{token[1:]}x").status == 403

        # With the token: the JupyterLab page, on the notebooks folder.
        page = get(f"{base}/lab?token={token}", timeout=15)
        assert page.status == 200
        assert b"jupyter-config-data" in page.body and b"JupyterLab" in page.body
        listing = get(f"{base}/api/contents?token={token}", timeout=15)
        assert listing.status == 200
        assert b'"00-start-here.ipynb"' in listing.body, listing.body[:500]
        assert (repo / ".venv").is_dir()
        text = log_path.read_text(errors="replace")
        assert "Creating the virtual environment" in text
        print(f"lab command: environment made and JupyterLab answering after {ready_s:.0f} s")
    finally:
        stop(proc)
    assert proc.poll() is not None
    with pytest.raises(OSError):
        get(f"{base}/api/status", timeout=2)


def test_test_command_completes_the_environment_and_passes(clone):
    tmp, repo = clone
    start = time.monotonic()
    proc = subprocess.run(
        [python3(), "run.py", "test", "tests/test_packaging.py", "-q", "-p", "no:cacheprovider"],
        cwd=repo, env=clean_env(tmp), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=TEST_COMMAND_S, start_new_session=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert re.search(r"^\d+ passed", proc.stdout, re.M), output[-3000:]
    assert (repo / ".venv" / "evtsim-install.json").is_file()
    print(f"test command: done in {time.monotonic() - start:.0f} s")
