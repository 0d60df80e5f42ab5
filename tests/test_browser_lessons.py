"""Every lesson in a real browser: Run All, re-run the checks, axe-core, screenshots.

JupyterLab serves a copy of notebooks/; Debian's Chromium (driven by Playwright, never a
Playwright download) opens each lesson as a learner would and runs all its cells. Then:

- every check cell (a code cell that calls `check(`) is run again, alone, and must print
  exactly what it printed after Run All: a check names its exercise, so the order the
  cells ran in does not matter;
- in every lab on the page, Step is clicked on a ready thread a few times; after each
  click the SVG timeline's state now (each lane's `data-state-now`) must agree with
  what the lab's panel says of each thread and event;
- axe-core (the axe.min.js that the axe-playwright-python package ships) checks what the
  kit put on the page (the cells' outputs: its widgets, tables and text) and finds no
  serious or critical problem;
- screenshots at 1280×720 and at 150 % zoom (853×480 CSS pixels at a device scale of
  1.5: what a 1280×720 projector shows at 150 %) go to tests/artifacts/.

The lessons of one file share one server and one browser; the lessons are split over
two files (this one and test_browser_lessons_more.py) so two workers share them. Every wait
is a hang guard (tests/servers.py), never a speed claim.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import servers
from servers import HANG_GUARD_MS, poll, wait_for_kernel

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("EVTSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ALL_LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")
                     if re.match(r"\d\d-", p.name))
# Lessons 00-04 here, 05-08 in test_browser_lessons_more.py: each file has its own server
# and browser, so two workers share the lessons.
LESSONS = [name for name in ALL_LESSONS if name < "05"]
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
SEVERE = ("serious", "critical")


def axe_script() -> Path:
    import axe_playwright_python
    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    assert path.is_file(), f"{path} is missing: reinstall the test extra"
    return path


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    """One JupyterLab on a copy of notebooks/ and one Chromium context, for every lesson."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: run `python3 run.py test` (it installs Debian's chromium "
        f"as root) or `apt-get install -y chromium`; this test is never skipped")
    tmp = tmp_path_factory.mktemp("lessons")
    work = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", work)
    settings = {"@jupyterlab/notebook-extension/tracker":
                {"autoStartDefaultKernel": True, "windowingMode": "none"}}
    env_path = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get(
        "PYTHONPATH", "").split(os.pathsep) if p])
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path           # the kernels import this checkout
    try:
        with servers.jupyterlab(work, tmp / "home", settings=settings) as (base, token):
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
                # One context for every lesson: its pages share the HTTP cache, so
                # JupyterLab's scripts load once, not once per lesson.
                context = browser.new_context(viewport={"width": 1280, "height": 720},
                                              device_scale_factor=1.5)
                try:
                    yield context, base, token
                finally:
                    browser.close()
    finally:
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path


def code_cells(page):
    return page.locator(".jp-Notebook .jp-CodeCell")


def prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        ".jp-Notebook .jp-CodeCell .jp-InputPrompt", "els => els.map(e => e.innerText)")


def settled(page) -> bool:
    """The kernel is idle and every code cell has run (no "[ ]:" or "[*]:" left), or a
    cell raised (Run All stops there; the test then names the cell)."""
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
    if not idle:
        return False
    if page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                    ).filter(has_text="Traceback").count():
        return True
    shown = prompts(page)
    return bool(shown and all(re.search(r"\[\d+\]", p) for p in shown))


def output_text(cell) -> str:
    """What a cell shows, without its "[n]:" prompts (they count up on every run)."""
    shown = cell.locator(".jp-OutputArea-output").all_inner_texts()
    return ADDRESS.sub("0x…", "\n".join(shown))


def open_and_run_all(page, base, token, name):
    # ?reset: a fresh workspace, so the lessons opened before are not open here too
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    wait_for_kernel(page)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    poll(lambda: settled(page), f"{name}: Run All did not finish")


def rerun(page, cell, name, index):
    """Run one cell again, alone (select it, Ctrl+Enter), and wait until it has."""
    before = cell.locator(".jp-InputPrompt").inner_text()
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    poll(lambda: cell.locator(".jp-InputPrompt").inner_text() != before and settled(page),
         f"{name}: check cell {index} did not run again")


MISMATCHES = r"""(lab) => {
    const svg = lab.querySelector('.evtsim-timeline svg');
    if (!svg) return ['the lab shows no SVG timeline'];
    const wrong = [];
    for (const row of lab.querySelectorAll('.evtsim-thread')) {
        if (!row.querySelector('b')) { wrong.push('a thread row is being drawn'); continue; }
        const name = row.querySelector('b').textContent.trim();
        const lane = svg.querySelector(`[data-thread="${CSS.escape(name)}"]`);
        if (!lane) { wrong.push(`${name}: no lane`); continue; }
        const said = row.textContent.slice(row.querySelector('b').textContent.length);
        const word = (said.match(/\b(ready|running|waiting|ended)\b/) || [''])[0];
        const shown = word === 'ended' ? 'terminated' : word;
        const drawn = lane.getAttribute('data-state-now');
        if (shown !== drawn) wrong.push(`${name}: panel ${shown}, timeline ${drawn}`);
    }
    for (const row of lab.querySelectorAll('.evtsim-event')) {
        if (!row.querySelector('b')) { wrong.push('an event row is being drawn'); continue; }
        const name = row.querySelector('b').textContent.trim();
        const lane = svg.querySelector(`[data-event="${CSS.escape(name)}"]`);
        if (!lane) continue;                    // not every object has an event lane
        const shown = row.textContent.includes('SIGNALED') ? '1' : '0';
        const drawn = lane.getAttribute('data-state-now');
        if (shown !== drawn) wrong.push(`${name}: panel ${shown}, timeline ${drawn}`);
    }
    return wrong;
}"""
CLICKS_PER_LAB = 4


def click_through_labs(page, name):
    """Step ready threads in each lab; after each click the timeline agrees with the panel."""
    labs = page.locator(".evtsim-lab")
    for index in range(labs.count()):
        lab = labs.nth(index)
        lab.scroll_into_view_if_needed()
        assert poll(lambda: lab.evaluate(MISMATCHES) == [] or None,
                    f"{name}: lab {index} disagrees with its timeline before any click")
        for click in range(CLICKS_PER_LAB):
            steps = lab.locator(".evtsim-thread button:not([disabled])", has_text="Step")
            if not steps.count():
                break
            before = lab.locator(".evtsim-log").inner_text()
            steps.first.click()
            poll(lambda: lab.locator(".evtsim-log").inner_text() != before,
                 f"{name}: lab {index} did not answer click {click}")
            # (the message must not read the page: it is made before the poll, while the
            # widget may still be drawing its rows)
            agreed = poll(lambda: lab.evaluate(MISMATCHES) == [] or None,
                          f"{name}: lab {index} after click {click}: the timeline's state "
                          f"now never agreed with the panel")
            assert agreed


def axe_findings(page) -> list[dict]:
    page.add_script_tag(path=str(axe_script()))
    return page.evaluate("""async () => {
        const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
        if (!outputs.length) return [];
        const result = await axe.run({include: outputs}, {resultTypes: ['violations']});
        return result.violations
            .filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def screenshots(page, stem):
    """The page at 100 % (one image pixel per CSS pixel) and at 150 % zoom (853×480 CSS
    pixels at the page's device scale of 1.5), both 1280×720 images."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lesson-{stem}-1280x720.png"), scale="css")
    page.set_viewport_size({"width": 853, "height": 480})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.screenshot(path=str(ARTIFACTS / f"lesson-{stem}-150pct.png"), scale="device")


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS, ids=[n[:-6] for n in LESSONS])
def test_lesson_in_the_browser_checks_again_the_same_and_passes_axe(browser_page, name):
    run_lesson(browser_page, name)


def run_lesson(browser_page, name):
    """Open the lesson in a page of its own, check it (check_lesson), close the page."""
    context, base, token = browser_page
    page = context.new_page()                      # a page per lesson, 1280×720 at 1.5
    page.set_default_timeout(HANG_GUARD_MS)
    try:
        check_lesson(page, base, token, name)
    finally:
        page.close()


def check_lesson(page, base, token, name):
    open_and_run_all(page, base, token, name)
    cells = code_cells(page)
    sources = [cells.nth(i).locator(".jp-InputArea").inner_text()
               for i in range(cells.count())]
    checks = [i for i, source in enumerate(sources) if "check(" in source]
    assert checks, f"{name} has no check cell"
    errors = [i for i in range(cells.count())
              if cells.nth(i).locator(".jp-OutputArea-output[data-mime-type="
                                      "'application/vnd.jupyter.stderr']").count()
              and "Traceback" in output_text(cells.nth(i))]
    assert not errors, f"{name}: cells {errors} raised"
    first = {i: output_text(cells.nth(i)) for i in checks}
    for i in checks:
        rerun(page, cells.nth(i), name, i)
        assert output_text(cells.nth(i)) == first[i], (
            f"{name}: check cell {i} printed something else when run again:\n"
            f"{sources[i]}")
    click_through_labs(page, name)
    findings = axe_findings(page)
    assert not findings, f"{name}: axe-core found {findings}"
    screenshots(page, name[:-6])
