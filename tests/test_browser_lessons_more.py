"""Lessons 05-08 in a real browser: the same checks as test_browser_lessons.py (read its
docstring), in a file of their own so that a second worker runs them."""
from __future__ import annotations

import pytest

from test_browser_lessons import ALL_LESSONS, browser_page, run_lesson  # noqa: F401

LESSONS = [name for name in ALL_LESSONS if name >= "05"]


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS, ids=[n[:-6] for n in LESSONS])
def test_lesson_in_the_browser_checks_again_the_same_and_passes_axe(browser_page, name):
    run_lesson(browser_page, name)
