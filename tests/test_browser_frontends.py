"""The event lab in the other front ends, and JupyterLab as `python3 run.py lab` starts it.

tests/test_browser.py checks the lab in JupyterLab; this file makes the same kind of
check where classrooms meet it, in Debian's Chromium driven by Playwright (never a
Playwright browser download), reusing that file's helpers:

- **Notebook 7** (`jupyter notebook`): the same small notebook as the JupyterLab test;
  Run All Cells, the lab renders with its timeline picture, Set on DataReady signals it
  and the log says who was released.
- **Voila** (`voila notebooks/dashboard.ipynb`, from the repository's top folder as the
  README says): the classroom page shows the lab and no code at all; Set works there
  too; choosing another scenario shows its lab. The page asks nothing of any host but
  127.0.0.1 (the kit's Voila template, jupyter-env/, drops Voila's CDN style sheets):
  every other request is recorded and refused.
- **The lab as run.py starts it** (run.py's own command line, with the kit's settings
  that run.py copied into the environment and no user settings at all): it opens on
  lesson 00, shows no question about Jupyter news, asks the server for no news and no
  update, and fetches nothing from outside. As a check of the check, the same page
  with the user setting "Ask" does show the question.

The servers listen on 127.0.0.1 with a random token and are always stopped; every
wait is bounded. Screenshots go to tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import HANG_GUARD_MS, exited, free_port, poll, stop, wait_for_kernel

from test_browser import CHROMIUM, CHROMIUM_ARGS, notebook, row

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DASHBOARD = ROOT / "notebooks" / "dashboard.ipynb"
FIRST_LESSON = "00-start-here.ipynb"
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
# The request JupyterLab's announcements plugin makes before it asks (or not).
ANNOUNCEMENTS_CONFIG = "/api/config/jupyterlabapputilsextensionannouncements"
NOTIFICATION_SETTINGS = "/lab/api/settings/@jupyterlab/apputils-extension:notification"
OUTSIDE = re.compile(r"^(https?|wss?|ftp)://(?!127\.0\.0\.1[:/])")
# Hang guards (tests/servers.py), not speed claims. A Run All that shows nothing for
# half the guard is given once more: the first can be lost while the kernel starts.
KERNEL_RUN_MS = PAGE_MS = UPDATE_MS = HANG_GUARD_MS
RUN_ALL_MS = HANG_GUARD_MS // 2
RUN_ALL_TRIES = 2

pytestmark = pytest.mark.slow


def _server(cmd, tmp_path, name, cwd, token, user_settings=True):
    """Start a Jupyter-family server on a free port and return it with its base URL.

    `user_settings`: also write the user setting that turns off the news question (as
    a learner's own settings could); the lab as run.py starts it gets none."""
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `apt-get install -y chromium` (python3 run.py test does it "
        "as root); this test is never skipped")
    home = tmp_path / f"home-{name}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), PYTHONUNBUFFERED="1",
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get(
                   "PYTHONPATH", "").split(os.pathsep) if p]))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    if user_settings:
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"checkForUpdates": False, "fetchNews": "false"}), encoding="utf-8")
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    log = open(log_path, "wb")
    server = subprocess.Popen([*cmd(port)], cwd=cwd, env=env, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    return server, log, log_path, f"http://127.0.0.1:{port}"


def _wait_until_up(server, log_path, url, any_answer=False):
    """Poll url until it answers 200 (or any HTTP answer at all, with any_answer)."""
    def answers():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return any_answer
        except OSError:
            return False

    poll(answers, "the server did not start", died=exited(server, log_path))


@pytest.fixture
def notebook7(tmp_path):
    work = tmp_path / "nb"
    work.mkdir()
    (work / "lab.ipynb").write_text(json.dumps(notebook(), indent=1), encoding="utf-8")
    token = secrets.token_hex(16)
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    server, log, log_path, base = _server(
        lambda port: [sys.executable, "-m", "jupyter", "notebook", "--no-browser",
                      "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                      "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                      f"--ServerApp.root_dir={work}", *as_root],
        tmp_path, "notebook7", work, token)
    try:
        _wait_until_up(server, log_path, f"{base}/api/status?token={token}")
        yield base, token
    finally:
        stop(server)
        log.close()


@pytest.fixture
def voila(tmp_path):
    # as the README says: `voila notebooks/dashboard.ipynb` in the top folder
    token = secrets.token_hex(16)
    server, log, log_path, base = _server(
        lambda port: [sys.executable, "-m", "voila", str(DASHBOARD.relative_to(ROOT)),
                      "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
                      "--Voila.port_retries=0", f"--token={token}", "--show_tracebacks=True"],
        tmp_path, "voila", ROOT, token)
    try:
        # Voila has no /api/status; a request it refuses shows that it listens
        _wait_until_up(server, log_path, f"{base}/voila/static/nothing", any_answer=True)
        yield base, token, log_path
    finally:
        stop(server)
        log.close()


def _run_py():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lab_as_run_py(tmp_path):
    """JupyterLab with run.py's own command line (lab_command) and no user settings.

    The server serves a copy of notebooks/ (its one root_dir argument points there), so
    that nothing it saves touches the lessons."""
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    token = secrets.token_hex(16)
    run = _run_py()

    def command(port):
        cmd = run.lab_command(sys.executable, [
            "--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"])
        root = cmd.index(f"--ServerApp.root_dir={ROOT / 'notebooks'}")
        cmd[root] = f"--ServerApp.root_dir={work}"
        return cmd

    server, log, log_path, base = _server(command, tmp_path, "lab-run-py", work, token,
                                          user_settings=False)
    try:
        _wait_until_up(server, log_path, f"{base}/api/status?token={token}")
        yield base, token
    finally:
        stop(server)
        log.close()


def _api(base, token, path, method="GET", body=None):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode("utf-8")
    return json.loads(text) if text else None


def _refuse_outside(page):
    """Record and refuse every request that leaves 127.0.0.1 (sockets too)."""
    outside = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    page.route(OUTSIDE, refuse)
    page.on("websocket", lambda ws: OUTSIDE.match(ws.url) and outside.append(ws.url))
    return outside


def _wait_for_idle_kernel(base, token, path):
    """Wait until the notebook at path has a session whose kernel is idle."""
    def idle():
        try:
            with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as r:
                sessions = json.load(r)
        except (OSError, ValueError):
            return False
        return any(s.get("path", "").endswith(path)
                   and s.get("kernel", {}).get("execution_state") == "idle" for s in sessions)

    poll(idle, f"no idle kernel for {path}", every_s=0.5)


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _shooter(prefix, token):
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{prefix}-*.png"):
        old.unlink()
    shots = []

    def shot(page, name):
        path = ARTIFACTS / f"{prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    def check():
        assert all(path.stat().st_size > 10_000 for path in shots)
        assert not any(token.encode() in path.read_bytes() for path in shots)

    return shot, check


def _set_signals_the_event(page, lab):
    """Set on DataReady: the event is signaled, its waiters are released, the picture redraws."""
    from playwright.sync_api import expect

    image = lab.locator(".evtsim-timeline svg").first
    expect(image).to_be_visible()
    lane = image.locator('[data-event="DataReady"]').first
    expect(lane).to_have_attribute("data-state-now", "0")
    event = row(page, ".evtsim-event", "DataReady")
    expect(event).to_contain_text("not signaled")
    event.get_by_role("button", name="Set", exact=True).click()
    expect(event).to_contain_text("SIGNALED")
    expect(lab.locator(".evtsim-log")).to_contain_text("KeSetEvent(DataReady")
    expect(lane).to_have_attribute("data-state-now", "1")


def test_lab_works_in_notebook_7(notebook7):
    from playwright.sync_api import expect, sync_playwright

    base, token = notebook7
    shot, check = _shooter("frontend-notebook7", token)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(UPDATE_MS)
            page.goto(f"{base}/notebooks/lab.ipynb?token={token}", timeout=PAGE_MS)
            page.locator(".jp-Notebook").wait_for(timeout=PAGE_MS)
            expect(page).to_have_url(re.compile(r"/notebooks/lab\.ipynb"))
            # The kernel must be up before Run All, or the run is lost: ask the server.
            _wait_for_idle_kernel(base, token, "lab.ipynb")
            lab = page.locator(".evtsim-lab")
            for attempt in range(RUN_ALL_TRIES):
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                try:
                    lab.wait_for(timeout=RUN_ALL_MS)
                    break
                except Exception:
                    if attempt == RUN_ALL_TRIES - 1:
                        raise
            for name in ("waiter1", "waiter2", "waiter3"):
                expect(row(page, ".evtsim-thread", name)).to_contain_text("DataReady")
            lab.scroll_into_view_if_needed()
            shot(page, "1-lab")
            _set_signals_the_event(page, lab)
            expect(lab.locator(".evtsim-log")).to_contain_text("released waiter1, waiter2, waiter3")
            shot(page, "2-after-set")
        except Exception:
            try:
                shot(page, "failure")
            except Exception:
                pass
            raise
        finally:
            browser.close()
    check()


def test_voila_dashboard_shows_the_lab_and_no_code(voila):
    from playwright.sync_api import expect, sync_playwright

    base, token, log_path = voila
    shot, check = _shooter("frontend-voila", token)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(UPDATE_MS)
            outside = _refuse_outside(page)
            page.goto(f"{base}/?token={token}", timeout=KERNEL_RUN_MS)
            lab = page.locator(".evtsim-lab")
            lab.wait_for(timeout=KERNEL_RUN_MS)
            expect(page.locator("h1").first).to_contain_text("classroom lab")
            # Voila shows outputs only: no code cell, no source text, no error
            assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputArea-editor, .cm-editor").count() == 0
            body = page.locator("body").inner_text()
            for code in ("import ipywidgets", "EventLab(FIRST)", "def show(change)"):
                assert code not in body, code
            assert "Traceback" not in body
            shot(page, "1-dashboard")
            _set_signals_the_event(page, lab)
            shot(page, "2-after-set")

            # another scenario: the lab is rebuilt for it
            chooser = page.locator("select").filter(
                has=page.locator("option", has_text="[hardware_lock]")).first
            option = chooser.locator("option", has_text="[hardware_lock]").first
            chooser.select_option(value=option.get_attribute("value"))
            expect(page.locator(".evtsim-lab h3").first).not_to_contain_text(
                "Notification event", timeout=UPDATE_MS)
            expect(page.locator(".evtsim-lab .evtsim-timeline svg").first).to_be_visible()
            shot(page, "3-other-scenario")
            # the kit's template: no style sheet from a CDN, and nothing else from outside
            assert page.locator("link[href^='http'], link[href^='//']").count() == 0
            assert outside == []
        except Exception:
            try:
                shot(page, "failure")
            except Exception:
                pass
            raise
        finally:
            browser.close()
    check()


def test_lab_as_run_py_starts_it_opens_lesson_00_with_no_news_question(lab_as_run_py):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab_as_run_py
    shot, check = _shooter("frontend-lab-run-py", token)
    # the kit's defaults, from jupyter-env/.../overrides.json (no user setting exists)
    schema = _api(base, token, NOTIFICATION_SETTINGS)["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false"
    assert schema["checkForUpdates"]["default"] is False
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(UPDATE_MS)
            outside = _refuse_outside(page)
            asked = []
            page.on("request", lambda r: asked.append(r.url.split("?")[0]))
            answered = []
            page.on("requestfinished", lambda r: answered.append(r.url.split("?")[0]))

            def settled():
                """Lesson 00 is open with its kernel idle, and the announcements plugin
                has its config: it has asked its question by now, if it asks one."""
                wait_for_kernel(page)
                poll(lambda: f"{base}{ANNOUNCEMENTS_CONFIG}" in answered,
                     "JupyterLab's announcements plugin did not start")

            # The address the learner opens: / leads to lesson 00.
            page.goto(f"{base}/?token={token}", timeout=PAGE_MS)
            expect(page).to_have_url(re.compile(rf"/lab/tree/{re.escape(FIRST_LESSON)}$"))
            settled()
            tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
            expect(tab).to_contain_text(FIRST_LESSON)
            expect(page.locator(".jp-Notebook h1").first).to_contain_text("Start here")
            shot(page, "1-lesson-00")
            assert page.get_by_text(NEWS_QUESTION).count() == 0
            expect(page.locator(".jp-Notification-Status")).to_have_text("0")
            assert not [url for url in asked if url.endswith(("/lab/api/news", "/lab/api/update"))]
            assert outside == []

            # Check of the check: with the user setting "Ask", the same page asks.
            _api(base, token, NOTIFICATION_SETTINGS, "PUT", {"raw": '{"fetchNews": "none"}'})
            answered.clear()
            page.reload(timeout=PAGE_MS)
            settled()
            expect(page.get_by_text(NEWS_QUESTION).first).to_be_visible()
            shot(page, "2-control-asks")
        except Exception:
            try:
                shot(page, "failure")
            except Exception:
                pass
            raise
        finally:
            browser.close()
    check()
