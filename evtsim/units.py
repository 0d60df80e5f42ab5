"""Virtual time as learners read it: one unit, microseconds, everywhere (base layer).

The machine counts time in 100 ns units, as the Windows interrupt time does and as
relative timeouts are written (`-10_000` is 1 ms). People read microseconds: the lab,
the plots, the text log, run messages and bug checks all say time through `time_us`,
so the same moment never reads "t=30" in one place and "3 µs" in another.
"""
from __future__ import annotations

TICKS_PER_US = 10           # 100 ns units in a microsecond


def time_us(ticks: int | float) -> str:
    """`30` -> "3 µs", `15` -> "1.5 µs", `10030` -> "1,003 µs" (at most one decimal)."""
    if isinstance(ticks, bool) or not isinstance(ticks, (int, float)):
        raise TypeError(f"time_us takes a time in 100 ns units, not {ticks!r}")
    if ticks == float("inf"):
        return "for ever"
    text = f"{ticks / TICKS_PER_US:,.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text} \u00b5s"


__all__ = ["TICKS_PER_US", "time_us"]
