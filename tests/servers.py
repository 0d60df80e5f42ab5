"""Helpers for the tests that start a server (JupyterLab, Notebook 7, Voila) or a browser.

Such a test has to wait for something outside its own process. `poll` waits until a
condition holds. Its limit is a guard against a hang, not a claim about speed: it is many
times what the slowest machine needs, so a busy machine never fails a test, and no test
asserts how long anything took (timing figures live in bench/). `stop` ends a server and
everything it started, in bounded time, so nothing is left running.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, TypeVar

import pytest

T = TypeVar("T")

HANG_GUARD_S = 300          # a server start or a kernel run that takes longer has hung
HANG_GUARD_MS = HANG_GUARD_S * 1000     # the same, for Playwright's timeouts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines: int = 40) -> str:
    """The last lines of a log file, for a failure message."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def poll(ready: Callable[[], T], what: str, *, died: Callable[[], str | None] = lambda: None,
         every_s: float = 0.25, limit_s: float = HANG_GUARD_S) -> T:
    """Call `ready()` until it returns something true, and return that.

    `died()` says why the awaited thing can no longer come (a server that exited), and
    the test fails at once with that text. After `limit_s` the wait counts as hung and
    the test fails naming `what`.
    """
    deadline = time.monotonic() + limit_s
    while True:
        value = ready()
        if value:
            return value
        reason = died()
        if reason:
            pytest.fail(f"{what}: {reason}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: nothing after {limit_s:.0f} s, so it counts as hung",
                        pytrace=False)
        time.sleep(every_s)


def exited(server: subprocess.Popen, log_path) -> Callable[[], str | None]:
    """A `died` check for `poll`: the server's exit, with the end of its log."""
    def check() -> str | None:
        if server.poll() is None:
            return None
        return f"the server exited with {server.returncode}:\n{tail(log_path)}"
    return check


def stop(server: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True and everything it started
    (its kernels), in bounded time."""
    if server.poll() is None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(server.pid, sig)
            except (ProcessLookupError, PermissionError, AttributeError):
                server.terminate() if sig == signal.SIGTERM else server.kill()
            try:
                server.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    try:                            # the group may outlive its leader (a kernel)
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        pass


@contextlib.contextmanager
def jupyterlab(work: Path, home: Path, *, settings: dict | None = None):
    """A real JupyterLab server on 127.0.0.1 (a free port, a random token) serving
    `work`, with its config, runtime and settings under `home`. Yields (base URL,
    token). No news or update pop-ups; `settings` adds JupyterLab settings files
    ({"@jupyterlab/notebook-extension/tracker": {...}}). Always stopped."""
    home.mkdir(parents=True, exist_ok=True)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), PYTHONUNBUFFERED="1",
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    wanted = {"@jupyterlab/apputils-extension/notification":
              {"checkForUpdates": False, "fetchNews": "false"}, **(settings or {})}
    for key, values in wanted.items():
        package, plugin = key.rsplit("/", 1)
        folder = home / "settings" / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values),
                                                             encoding="utf-8")
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log_path = home / "jupyter.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={work}", "--LabApp.news_url=", *as_root],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}",
                                            timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        try:
            poll(answers, "JupyterLab did not start", died=exited(server, log_path))
            yield base, token
        finally:
            stop(server)


def wait_for_kernel(page):
    """Until the notebook's kernel is idle (answering a kernel dialog if one shows):
    Run All before that would be lost."""
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")

    def ready():
        select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
        if select.count():
            select.first.click()
        elif idle.count() and "No Kernel" not in page.locator(
                ".jp-Toolbar-kernelName").first.inner_text():
            page.wait_for_timeout(500)         # and still no dialog: ready
            return not page.locator(".jp-Dialog").count()
        return False

    poll(ready, "the notebook's kernel did not become idle")
