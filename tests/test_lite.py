"""The no-server JupyterLite site (tools/lite.py, docs/jupyterlite.md), built and run offline.

The module builds the offline site once (the downloads come from build/lite-cache/,
checked against tools/lite-lock.json) and checks what it holds: every lesson, the evtsim
wheel, a local Pyodide whose lock names exactly the files shipped, each with its sha256,
and the ipywidgets lab extension. Then it serves the site on 127.0.0.1 and opens lesson
00 in Debian's Chromium (Playwright, never a Playwright download) with the network cut:
every request to any other host is aborted and recorded, and host names do not resolve.
All cells run in the Pyodide kernel; no cell has an error output, the matplotlib
pictures are the one line of `evtsim.plot.missing`, and Set in the lab signals DataReady
in the panel and in its SVG timeline. Finally no request left the machine.

Also: a download that is not the locked file is refused; a missing download with no
network is an error with a message and exit status 1; the `--online` site takes Pyodide
and matplotlib from Pyodide's CDN (only its configuration is checked here: this machine
cannot reach the CDN). Every wait is a hang guard (tests/servers.py), never a speed claim.
"""
from __future__ import annotations

import json
import sys
import threading
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from servers import HANG_GUARD_MS, free_port, poll, wait_for_kernel
from test_browser_lessons import CHROMIUM, CHROMIUM_ARGS, MISMATCHES, code_cells, settled

from evtsim.plot import missing

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import lite  # noqa: E402
import lite_fetch  # noqa: E402

sys.path.remove(str(ROOT / "tools"))

LESSON = "00-start-here.ipynb"
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lite") / "site"
    assert lite.main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def served(site):
    """The site on a free port of 127.0.0.1, served from a thread of this process."""
    server = lite.make_server(site, 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def lock_of(folder: Path) -> dict:
    return json.loads((folder / "pyodide-lock.json").read_text(encoding="utf-8"))


def test_the_site_has_every_lesson_the_lab_extensions_and_a_local_pyodide(site):
    lessons = sorted(p.name for p in lite.lessons())
    assert len(lessons) == 9 and lessons[0] == LESSON
    assert sorted(p.name for p in (site / "files").iterdir()) == lessons   # nothing else
    for extension in lite.EXTENSIONS:
        assert (site / "extensions" / extension / "package.json").is_file(), extension
    settings = lite.kernel_config(site)
    assert settings["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert (site / "static" / "pyodide" / "pyodide.asm.wasm").is_file()
    assert settings["disablePyPIFallback"] is True
    assert {"evtsim", "ipywidgets"} <= set(settings["loadPyodideOptions"]["packages"])
    assert not (site / "static" / "evtsim").exists()       # that is the online lock's place


def test_the_pyodide_lock_names_exactly_the_shipped_wheels_with_their_sha256(site):
    pyodide = site / "static" / "pyodide"
    packages = lock_of(pyodide)["packages"]
    shipped = sorted(p.name for p in pyodide.glob("*.whl"))
    assert sorted(entry["file_name"] for entry in packages.values()) == shipped
    for entry in packages.values():
        assert entry["sha256"] == lite_fetch.sha256_of(pyodide / entry["file_name"]), entry
        assert all(dep.replace("_", "-").lower() in packages for dep in entry["depends"])
    locked = lite_fetch.read_lock().wheels.values()
    for artifact in locked:                         # the PyPI wheels are the locked files
        assert lite_fetch.sha256_of(pyodide / artifact.file) == artifact.sha256
    evtsim = packages["evtsim"]
    assert evtsim["imports"] == ["evtsim"]
    with zipfile.ZipFile(pyodide / evtsim["file_name"]) as wheel:
        assert "evtsim/plot/missing.py" in wheel.namelist()
    assert packages["ipywidgets"]["depends"] == ["comm", "ipython", "traitlets"]
    assert "matplotlib" not in packages


def test_the_server_gives_wasm_and_modules_their_types(served):
    for path, wanted in [("/static/pyodide/pyodide.asm.wasm", "application/wasm"),
                         ("/static/pyodide/pyodide.mjs", "text/javascript")]:
        with urllib.request.urlopen(served + path, timeout=30) as response:
            assert response.headers["Content-Type"] == wanted, path


def test_a_download_that_is_not_the_locked_file_is_refused_and_deleted(tmp_path):
    artifact = lite_fetch.read_lock().wheels["comm"]
    fake = tmp_path / artifact.file
    fake.write_bytes(b"not the wheel")
    with pytest.raises(lite_fetch.FetchError, match="sha256 is .* tools/lite-lock.json says"):
        lite_fetch.fetch_wheels([artifact], tmp_path)
    assert not fake.exists()


def test_a_missing_download_with_no_network_fails_with_a_message(tmp_path, monkeypatch, capsys):
    lock = lite_fetch.read_lock()
    nowhere = f"http://127.0.0.1:{free_port()}/pyodide.tgz"   # nothing listens there
    offline = replace(lock, pyodide=replace(lock.pyodide, url=nowhere))
    monkeypatch.setattr(lite_fetch, "read_lock", lambda path=None: offline)
    monkeypatch.setattr(lite, "CACHE", tmp_path / "empty-cache")
    assert lite.main(["--out", str(tmp_path / "site")]) == 1
    error = capsys.readouterr().err
    assert "ERROR: pyodide-314.0.6.tgz (pyodide 314.0.6) is not in the download cache" in error
    assert "The first build needs the network" in error
    # pip, with no index and no local wheels, fails the same way
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    with pytest.raises(lite_fetch.FetchError, match="could not be downloaded .pip download"):
        lite_fetch.fetch_wheels([lock.wheels["comm"]], tmp_path / "downloads")


def test_the_online_site_takes_pyodide_and_matplotlib_from_the_cdn(tmp_path):
    out = tmp_path / "online"
    assert lite.main(["--online", "--out", str(out)]) == 0
    settings = lite.kernel_config(out)
    cdn = "https://cdn.jsdelivr.net/pyodide/v314.0.6/full/"
    assert settings["pyodideUrl"] == cdn + "pyodide.mjs"
    assert not (out / "static" / "pyodide").exists()
    options = settings["loadPyodideOptions"]
    assert {"evtsim", "ipywidgets", "matplotlib"} <= set(options["packages"])
    assert options["lockFileURL"] == "./static/evtsim/pyodide-lock.json"
    packages = lock_of(out / "static" / "evtsim")["packages"]
    assert packages["matplotlib"]["file_name"].startswith(cdn)
    for name in ("evtsim", "ipywidgets", "comm"):          # the site's own, beside the lock
        entry = packages[name]
        assert entry["sha256"] == lite_fetch.sha256_of(out / "static/evtsim" /
                                                       entry["file_name"])


@pytest.mark.slow
def test_lesson_00_runs_in_pyodide_with_the_network_cut_and_set_works(served):
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `apt-get install -y chromium`; this test is never skipped")
    left = []                          # every request that was not for the site

    def only_the_site(route):
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*CHROMIUM_ARGS, "--disable-quic", NO_DNS])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", only_the_site)
            page = context.new_page()
            page.set_default_timeout(HANG_GUARD_MS)
            page.goto(f"{served}/lab/index.html?path={LESSON}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            wait_for_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            poll(lambda: settled(page), f"{LESSON}: Run All did not finish in Pyodide")

            cells = code_cells(page)
            sources = [cells.nth(i).locator(".jp-InputArea").inner_text()
                       for i in range(cells.count())]
            errors = {i: cells.nth(i).locator(".jp-OutputArea-output").all_inner_texts()
                      for i in range(cells.count()) if cells.nth(i).locator(
                          "[data-mime-type='application/vnd.jupyter.stderr']").count()}
            assert errors == {}, f"{LESSON}: cells with an error output: {errors}"
            drawn = [i for i, source in enumerate(sources) if "evtsim.plot.timeline(" in source
                     and not source.lstrip().startswith("#")]
            assert drawn, f"{LESSON} draws no timeline any more: update this test"
            for i in drawn:
                note = cells.nth(i).locator(".evtsim-no-picture")
                assert note.count() == 1 and note.inner_text() == missing.MESSAGE, sources[i]

            lab = page.locator(".evtsim-lab")
            assert lab.count() == 1
            lab.scroll_into_view_if_needed()
            lane = lab.locator('.evtsim-timeline svg [data-event="DataReady"]').first
            expect(lane).to_have_attribute("data-state-now", "0")
            event = lab.locator(".evtsim-event").filter(has_text="DataReady").first
            expect(event).to_contain_text("not signaled")
            event.get_by_role("button", name="Set", exact=True).click()
            expect(event).to_contain_text("SIGNALED")
            expect(lab.locator(".evtsim-log")).to_contain_text("KeSetEvent(DataReady")
            expect(lane).to_have_attribute("data-state-now", "1")
            assert lab.evaluate(MISMATCHES) == []      # panel and timeline agree

            assert left == [], f"requests left the machine: {left}"
            # the cut is real: a request for another host is aborted and recorded
            tried = page.evaluate("fetch('https://pypi.org/simple/').then(() => 'answered',"
                                  " () => 'refused')")
            assert (tried, left) == ("refused", ["https://pypi.org/simple/"])
        finally:
            browser.close()
