"""How many examples each property test and fuzzer runs.

`python3 run.py test` runs the everyday budgets: about half the full ones, so the whole
suite stays short on a busy 2-core machine while every property and every surface is
still tried (each fuzzer also checks that it reached every routine it must cover). The
examples are derandomized, so the everyday run is the same every time.

Run the full budgets before a release, or after a change to the engine's core:

    EVTSIM_TEST_BUDGET=full python3 run.py test

EVTSIM_FUZZ_EXAMPLES=N (see test_fuzz_surfaces.py) still sets one number for the fuzzers.
"""
from __future__ import annotations

import os

FULL = os.environ.get("EVTSIM_TEST_BUDGET", "").lower() == "full"


def examples(full: int) -> int:
    """The number of examples for a test whose full budget is `full`."""
    return full if FULL else max(10, full // 2)
