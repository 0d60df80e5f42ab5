"""Virtual time as learners read it: one unit, microseconds, everywhere (base layer).

The machine counts time in 100 ns units, as the Windows interrupt time does and as
relative timeouts are written (`-10_000` is 1 ms). People read microseconds: the lab,
the plots, the text log, run messages and bug checks all say time through `time_us`,
so the same moment never reads "t=30" in one place and "3 µs" in another.

Windows has two clocks (docs/semantics.md section 2). `Machine.time` is the interrupt
time: 100 ns units since boot. The system time is the date: 100 ns units since
1 January 1601 (UTC). Every machine boots at the same instant, BOOT_SYSTEM_TIME, so runs
stay repeatable, and the system time is BOOT_SYSTEM_TIME + the interrupt time.
"""
from __future__ import annotations

TICKS_PER_US = 10           # 100 ns units in a microsecond
TICKS_PER_SECOND = 10_000_000
# 2026-01-01 00:00:00 UTC as a system time (100 ns units since 1601-01-01 00:00 UTC).
BOOT_SYSTEM_TIME = 134_116_992_000_000_000


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


__all__ = ["TICKS_PER_US", "TICKS_PER_SECOND", "BOOT_SYSTEM_TIME", "time_us"]
