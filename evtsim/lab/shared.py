"""The data a scenario's threads share outside the kernel, as rows of a small table.

Scenarios put their shared state on the machine: `m.hardware` (who uses the device, how
many times two drivers were inside at once), `m.items` (the producer's list), `m.shared`
(the data and what the consumer read). `shared_state(m)` finds every such attribute (an
attribute a plain Machine does not have) and turns it into rows: a dict key by key, a
list or tuple as one row, another object by its public data attributes. No widgets.
"""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["SharedRow", "shared_state", "value_words"]

MAX_ROWS = 12            # rows per attribute before "n more"
MAX_TEXT = 80            # characters of one value before "..."
_MACHINE_KEYS: set[str] = set()


class SharedRow(NamedTuple):
    """One row: `hardware["overlaps"]` and `0`."""
    name: str
    value: str


def _machine_keys(m) -> set[str]:
    """The attributes every Machine has (so the scenario's own ones stand out)."""
    if not _MACHINE_KEYS:
        from ..machine import Machine
        _MACHINE_KEYS.update(vars(Machine()))
        _MACHINE_KEYS.update(("scenario", "interactive"))
    return _MACHINE_KEYS


def value_words(value, depth: int = 0) -> str:
    """A value as the table shows it: objects by name, events with their state."""
    from ..machine import Machine
    if value is None or isinstance(value, (bool, float, str)):
        text = repr(value)
    elif isinstance(value, int):
        text = f"0x{value:X}" if abs(value) > 0xFFFF else str(value)
    elif isinstance(value, Machine):
        text = "the machine"
    elif isinstance(getattr(value, "kind", None), str) and isinstance(
            getattr(value, "name", None), str):
        text = f"{value.kind} {value.name}"
        if hasattr(value, "SignalState"):
            text += " (SIGNALED)" if value.SignalState else " (not signaled)"
    elif isinstance(value, (list, tuple, set, frozenset)) and depth < 2:
        items = [value_words(v, depth + 1) for v in value]
        open_, close = ("(", ")") if isinstance(value, tuple) else (
            ("{", "}") if isinstance(value, (set, frozenset)) else ("[", "]"))
        text = open_ + ", ".join(items) + close
    elif isinstance(value, dict) and depth < 2:
        text = "{" + ", ".join(f"{k!r}: {value_words(v, depth + 1)}"
                               for k, v in value.items()) + "}"
    else:
        text = repr(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def _rows_of(name: str, value) -> list[SharedRow]:
    if isinstance(value, dict):
        rows = [SharedRow(f"{name}[{key!r}]", value_words(v)) for key, v in value.items()]
    elif isinstance(value, (list, tuple, set, frozenset)) or not hasattr(value, "__dict__"):
        rows = [SharedRow(name, value_words(value))]
    else:
        rows = [SharedRow(f"{name}.{key}", value_words(v)) for key, v in vars(value).items()
                if not key.startswith("_") and not callable(v)]
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        rows = rows[:MAX_ROWS] + [SharedRow(name, f"... and {more} more")]
    return rows


def shared_state(m) -> list[SharedRow]:
    """Rows for every attribute the scenario put on the machine, in the order it did."""
    own = _machine_keys(m)
    rows: list[SharedRow] = []
    for key, value in vars(m).items():
        if key in own or key.startswith("_") or callable(value):
            continue
        rows.extend(_rows_of(key, value))
    return rows
