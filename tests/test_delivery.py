"""Delivery: Binder, the offline classroom pages, and the README that explains them.

- Binder: `repo2docker --no-build --debug` prints the Dockerfile that Binder would
  build (no container engine needed). The plan must use Python 3.11 (binder/runtime.txt),
  install the pinned binder/requirements.txt, run binder/postBuild (which installs
  evtsim, the kit's Jupyter settings and the start configuration), and the start
  configuration must open JupyterLab on the first lesson: checked by starting a server
  with exactly that configuration and following its `/` redirect.
- Offline classroom: tools/render_lessons.py runs a lesson and writes a static page
  that loads nothing from the network (checked by parsing it, and by opening it in
  Chromium with every non-file request recorded), plus its timelines as PNG and SVG.
- README: the three ways to use the kit, the Binder link, the bug report with a trace.
(tests/test_packaging.py checks the pins; tests/test_links.py the links' address.)
"""
from __future__ import annotations

import json
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

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FIRST_LESSON = "notebooks/00-start-here.ipynb"
START_URL = "/lab/tree/" + FIRST_LESSON


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- Binder

@pytest.fixture(scope="module")
def binder_plan(tmp_path_factory):
    """The Dockerfile repo2docker would build for this checkout (no Docker needed)."""
    exe = Path(sys.executable).with_name("repo2docker")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "repo2docker"]
    work = tmp_path_factory.mktemp("r2d")      # repo2docker reads a config from its cwd
    proc = subprocess.run(
        [*cmd, "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", str(ROOT)],
        cwd=work, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FROM " in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def test_binder_plan_installs_the_pinned_requirements_on_python_3_11(binder_plan):
    dockerfile, log = binder_plan
    assert "Building conda environment for python=3.11" in log
    assert "COPY --chown=1000:1000 src/binder/requirements.txt" in dockerfile
    assert re.search(r'^RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip install --no-cache-dir '
                     r'-r "binder/requirements\.txt"\s*$', dockerfile, re.M), dockerfile
    # the top-level environment.yml is for local conda users; Binder must not use it
    assert "environment.yml" not in dockerfile
    # nor the repository's own pyproject.toml: postBuild installs the kit, with no deps
    assert not re.search(r"pip install --no-cache-dir \.\s*$", dockerfile, re.M)


def test_binder_plan_runs_post_build_which_installs_evtsim(binder_plan):
    dockerfile, _ = binder_plan
    assert re.search(r"^RUN \./binder/postBuild\s*$", dockerfile, re.M), dockerfile
    post_build = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert re.search(r"^python -m pip install --no-deps -e \.\s*$", post_build, re.M)
    assert re.search(r'^cp -r jupyter-env/etc jupyter-env/share "\$prefix/"$', post_build, re.M)
    assert "cp binder/jupyter_server_config.json" in post_build
    assert re.search(r'config_dir="\$\(python -c .import sys; print\(sys.prefix\).\)/etc/jupyter"',
                     post_build), post_build
    assert '"$config_dir/jupyter_server_config.json"' in post_build


def test_binder_start_configuration_names_the_first_lesson():
    config = json.loads((ROOT / "binder" / "jupyter_server_config.json").read_text("utf-8"))
    for app in ("ServerApp", "LabApp", "JupyterNotebookApp"):
        assert config[app]["default_url"] == START_URL, app
    assert (ROOT / FIRST_LESSON).is_file()
    # the server fetches no news and checks for no update (the settings in jupyter-env/
    # stop the browser's question)
    assert config["LabApp"]["news_url"] is None
    assert config["LabApp"]["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"


def _redirect_of_root(app: str, tmp_path: Path) -> str:
    """Start `jupyter APP` with the Binder start configuration; where does / lead?"""
    config_path = tmp_path / f"env-{app}"          # stands for $NB_PYTHON_PREFIX/etc/jupyter
    config_path.mkdir(parents=True)
    shutil.copy(ROOT / "binder" / "jupyter_server_config.json",
                config_path / "jupyter_server_config.json")
    home = tmp_path / f"home-{app}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_CONFIG_PATH=str(config_path),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    port, token = free_port(), "evtsim-binder-check"
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log = tmp_path / f"{app}.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", *as_root],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    base = f"http://127.0.0.1:{port}"
    def answers():
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                return True
        except OSError:
            return False

    try:
        poll(answers, f"jupyter {app} did not start", died=exited(server, log))
        try:
            opener.open(f"{base}/?token={token}", timeout=10)
            pytest.fail("/ did not redirect")
        except urllib.error.HTTPError as answer:
            assert answer.code == 302, answer.code
            location = answer.headers["Location"]
        target = location.split("?")[0]
        with urllib.request.urlopen(f"{base}{target}?token={token}", timeout=20) as page:
            assert page.status == 200
        return target
    finally:
        stop(server)


@pytest.mark.slow
@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_binder_server_opens_jupyterlab_on_the_first_lesson(app, tmp_path):
    # Binder starts the server from the image; repo2docker's own default command is
    # `jupyter notebook`. Both must land on JupyterLab's view of lesson 00.
    assert _redirect_of_root(app, tmp_path) == START_URL


def test_readme_links_the_first_lesson_on_binder():
    text = readme()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\]]+", text)
    assert len(links) == 2, "README.md has the Binder badge and the Binder link"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    owner_name = meta["urls"]["Repository"].removeprefix("https://github.com/")
    for link in links:
        assert re.search(r"[?&]urlpath=(lab/tree/|lab%2Ftree%2F)notebooks(/|%2F)00-start-here\.ipynb",
                         link), link
        assert link.startswith(f"https://mybinder.org/v2/gh/{owner_name}/HEAD?"), link
    assert "OWNER/REPOSITORY" not in text
    assert "badge_logo.svg" in text


# ------------------------------------------------------------------ offline classroom

def _render_module():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import render_lessons
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return render_lessons


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("classroom")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "render_lessons.py"), str(out),
         "--only", "00-start-here", "--scenario", "hardware_lock"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_offline_checker_finds_cdn_assets():
    check = _render_module().remote_assets
    assert check('<script src="https://cdnjs.cloudflare.com/mathjax/latest.js"></script>')
    assert check('<link rel="stylesheet" href="//fonts.example.org/a.css">')
    assert check('<img src="http://example.org/a.png">')
    assert check("<script>var s = document.createElement('script'); "
                 "s.src = 'https://unpkg.com/@jupyter-widgets/html-manager/dist/embed.js';</script>")
    assert check('<style>@import url("https://example.org/x.css");</style>')
    # links followed only on a click, data: pictures and comments are fine
    assert not check('<a href="https://learn.microsoft.com/">docs</a>'
                     '<img src="data:image/png;base64,AAAA">'
                     "<style>/* see https://example.org */ body{}</style>")


def test_render_writes_an_offline_page_per_lesson(rendered):
    page = (rendered / "00-start-here.html").read_text(encoding="utf-8")
    assert _render_module().remote_assets(page) == []
    for cdn in ("mathjax", "require.js", "require.min.js", "unpkg.com", "jsdelivr", "cdnjs"):
        assert cdn not in page.lower(), cdn
    assert not re.search(r"""<(script|link|img|iframe|source|video|audio)\b[^>]*"""
                         r"""\b(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    # executed: outputs are in the page, pictures embedded, the widget shown statically
    assert "state of Go:" in page
    assert "data:image/png;base64," in page
    assert "evtsim-static-widget" in page
    assert "In&nbsp;[1]:" in page or "[1]:" in page
    index = (rendered / "index.html").read_text(encoding="utf-8")
    assert 'href="00-start-here.html"' in index


def test_render_writes_each_lesson_timeline_as_png_and_svg(rendered):
    slides = rendered / "slides"
    pngs = sorted(slides.glob("00-start-here-timeline-*.png"))
    assert pngs, sorted(p.name for p in slides.iterdir())
    for png in pngs + [slides / "scenario-hardware_lock.png"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        svg = png.with_suffix(".svg").read_text(encoding="utf-8")
        assert "<svg" in svg and "</svg>" in svg
        assert not re.search(r"""(href|src)=["']https?://""", svg)
    assert "hardware_lock" in (slides / "scenario-hardware_lock.svg").read_text("utf-8")


@pytest.mark.slow
def test_rendered_page_fetches_nothing_in_a_browser(rendered, tmp_path):
    """Chromium opens the page from disk; every request that is not file: or data:
    is recorded and refused."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("EVTSIM_CHROMIUM", "/usr/bin/chromium")
    assert Path(chromium).exists(), f"{chromium} is missing: apt-get install -y chromium"
    fetched = []

    def refuse(route):
        fetched.append(route.request.url)
        route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking",
                                          "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route(re.compile(r"^(https?|wss?|ftp):"), refuse)
            page.goto((rendered / "00-start-here.html").as_uri(), wait_until="load",
                      timeout=60_000)
            page.wait_for_timeout(500)
            assert page.locator("h1").first.inner_text().strip()
            assert page.locator("img").count() >= 1
            broken = page.evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length")
            assert broken == 0
        finally:
            browser.close()
    assert fetched == []


# -------------------------------------------------------------------------- README

def test_readme_explains_the_three_ways_and_the_two_commands():
    text = readme()
    for heading in ("## Three ways to use the kit", "## Quick start", "## On Binder",
                    "## In a classroom", "## Run one lesson"):
        assert re.search(rf"^{heading}\s*$", text, re.M), heading
    ways = text[text.index("## Three ways"):text.index("## Quick start")]
    assert "own machine" in ways and "Binder" in ways and "classroom" in ways
    assert "tools/render_lessons.py" in text
    assert "python3 run.py lab" in text and "python3 run.py test" in text


def test_readme_says_how_to_file_a_bug_with_a_trace_file():
    text = readme()
    section = text[text.index("## Report a bug"):]
    assert 'evtsim.trace.save(m, "run.json")' in section
    assert re.search(r"python -m evtsim run \S+ .*--trace \S+", section)
    # the command shown must work as written
    proc = subprocess.run([sys.executable, "-m", "evtsim", "run", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert "--trace" in proc.stdout
