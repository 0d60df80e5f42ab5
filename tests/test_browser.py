"""The event lab in a real browser: JupyterLab, Debian's Chromium, Playwright.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token) in a temporary
folder holding a small notebook that shows the lab for `notification_broadcast` with
its three waiters already in their wait. Chromium (the Debian package, never a
Playwright download) opens the notebook, runs every cell, clicks Set on DataReady and
checks that the panel and the SVG timeline's state now show the three waiters
released and DataReady signaled; then it presses Enter on Undo (the keyboard works) and checks they wait
again. Screenshots go to tests/artifacts/. Every wait is bounded and the server is
always stopped. `python3 run.py test` installs chromium first when it is missing, so
this test is never skipped.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import servers
from servers import HANG_GUARD_MS, wait_for_kernel

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("EVTSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
KERNEL_RUN_MS = HANG_GUARD_MS     # hang guards (tests/servers.py), not speed claims
UPDATE_MS = HANG_GUARD_MS
WAITERS = ("waiter1", "waiter2", "waiter3")

CELLS = [
    "from evtsim.widgets import EventLab",
    "lab = EventLab('notification_broadcast', waiters=3)\n"
    "for name in ('waiter1', 'waiter2', 'waiter3'):\n"
    "    lab.button('Step', name).click()      # each waiter now waits on DataReady\n"
    "lab",
]


def notebook() -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}",
                   "metadata": {}, "outputs": [], "source": source}
                  for i, source in enumerate(CELLS)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                    "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a token, in a temporary folder."""
    work = tmp_path / "lab"
    work.mkdir()
    (work / "lab.ipynb").write_text(json.dumps(notebook(), indent=1), encoding="utf-8")
    # start the notebook's kernel without asking which one
    settings = {"@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True}}
    with servers.jupyterlab(work, tmp_path / "home", settings=settings) as (base, token):
        yield base, token, tmp_path


def row(page, css, name):
    return page.locator(css).filter(has_text=name).first


def test_set_in_the_browser_releases_the_waiters_and_redraws_the_timeline(jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    base, token, tmp_path = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("browser-*.png"):
        old.unlink()
    shots = []

    def shot(page, name):
        path = ARTIFACTS / f"browser-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(UPDATE_MS)
            page.goto(f"{base}/lab/tree/lab.ipynb?token={token}", timeout=KERNEL_RUN_MS)
            page.locator(".jp-Notebook").wait_for(timeout=KERNEL_RUN_MS)
            wait_for_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(
                timeout=KERNEL_RUN_MS)
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(
                timeout=KERNEL_RUN_MS)
            lab = page.locator(".evtsim-lab")
            lab.wait_for(timeout=KERNEL_RUN_MS)
            image = page.locator(".evtsim-timeline svg").first
            expect(image).to_be_visible()
            lane = image.locator('[data-event="DataReady"]').first
            expect(lane).to_have_attribute("data-state-now", "0")
            for name in WAITERS:
                expect(row(page, ".evtsim-thread", name)).to_contain_text(
                    "waiting on Wait(DataReady)")
            event = row(page, ".evtsim-event", "DataReady")
            expect(event).to_contain_text("1. waiter1")
            expect(event).to_contain_text("not signaled")
            lab.scroll_into_view_if_needed()
            shot(page, "1-waiters-waiting")
            before_png = image.screenshot()

            event.get_by_role("button", name="Set", exact=True).click()

            expect(event).to_contain_text("SIGNALED")
            expect(event).to_contain_text("no waiters")
            for name in WAITERS:
                expect(row(page, ".evtsim-thread", name).locator("span").filter(
                    has_text="ready").first).to_be_visible()
                expect(row(page, ".evtsim-thread", name)).not_to_contain_text("waiting")
            expect(page.locator(".evtsim-log")).to_contain_text(
                "released waiter1, waiter2, waiter3")
            # the timeline's state now is the machine's: DataReady signaled, all ready
            expect(lane).to_have_attribute("data-state-now", "1")
            for name in WAITERS:
                expect(image.locator(f'[data-thread="{name}"]').first).to_have_attribute(
                    "data-state-now", "ready")
            after_png = image.screenshot()
            assert after_png != before_png, "the timeline image did not change"
            shot(page, "2-after-set")

            # Keyboard: focus Undo and press Enter; the waiters wait again.
            undo = lab.locator("button", has_text="Undo").first
            undo.focus()
            page.keyboard.press("Enter")
            for name in WAITERS:
                expect(row(page, ".evtsim-thread", name)).to_contain_text(
                    "waiting on Wait(DataReady)")
            expect(event).to_contain_text("not signaled")
            expect(lane).to_have_attribute("data-state-now", "0")
            for name in WAITERS:
                expect(image.locator(f'[data-thread="{name}"]').first).to_have_attribute(
                    "data-state-now", "waiting")
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                   ).to_have_count(1)
            assert image.screenshot() != after_png, "Undo did not redraw the timeline"
            shot(page, "3-after-undo-by-keyboard")
        except Exception:
            try:
                shot(page, "failure")
            except Exception:
                pass
            raise
        finally:
            browser.close()
    assert all(path.stat().st_size > 10_000 for path in shots)
    # the token stays private to the test: nothing logs it into the artifacts
    assert not any(token.encode() in path.read_bytes() for path in shots)
