"""The timeline as text: one line per step, one aligned column per thread and event.

Built from a `RunView`'s trace rows: each thread's column says what it does after the
step, each event's column its signal state, and the last column what happened in
words. It is the accessible equivalent of the picture that the lessons print next to it.
"""
from __future__ import annotations

from ..records import describe
from .notes import call_text, result_text
from .runview import PSEUDO_THREADS, view_of


def text(source, threads=None, events=None, window=None, last: int | None = None,
         width: int | None = None) -> str:
    """The timeline as text: one line per step, one aligned column per thread.

    Each thread's column says what it is doing after the step: `RUN` for the thread
    that took the step, `wait`, `ready`, `woken` (released by this step), `ended`, or
    blank before it exists. Each event's column shows its state, `0->1` when the step
    changed it, `0->1->0` for a set consumed at once. The last column says what
    happened in words. `last=N` shows only the last N steps.
    """
    from ..errors import BadArgumentError
    view = view_of(source)
    rows = view.rows
    names = [t.name for t in view.threads]
    if threads is not None:
        for name in threads:
            if name not in names and name not in PSEUDO_THREADS:
                raise BadArgumentError(f"no thread named {name!r} in this run")
        names = list(threads)
    objects = [o.name for o in view.objects]
    if events is False:
        objects = []
    elif events is not None:
        for name in events:
            if name not in objects:
                raise BadArgumentError(f"no event named {name!r} in this run")
        objects = list(events)
    created = {t.name: t.created_seq for t in view.threads}
    created_obj = {o.name: o.created_seq for o in view.objects}
    obj_value = {o.name: o.created_state for o in view.objects}
    status = {name: "" for name in names}
    widths = [max(8, len(name)) for name in names]
    ewidths = [max(7, len(name)) for name in objects]
    head = (f"{'step':>5} {'time(us)':>9} | " + "  ".join(
        f"{name:<{w}}" for name, w in zip(names, widths)) + " | "
            + ("  ".join(f"{name:<{w}}" for name, w in zip(objects, ewidths)) + " | "
               if objects else "") + "what happened")
    lines = []
    t0, t1 = window if window is not None else (None, None)
    for index, row in enumerate(rows):
        seq, time, thread, after, changes = row.seq, row.time, row.thread, row.state, row.changes
        for name in names:
            if status[name] == "" and created.get(name, 0) <= index:
                status[name] = "ready"
            if status[name] in ("RUN", "woken"):
                status[name] = "ready"
        if thread in status:
            status[thread] = {"waiting": "wait", "terminated": "ended"}.get(after, "RUN")
            if after == "ready" or after == "running":
                status[thread] = "RUN"
        woken = row.released + row.rechecked
        for name in woken:
            if name in status:
                status[name] = "woken"
        cells = []
        for name, w in zip(names, widths):
            cell = status[name]
            if name == thread and cell == "wait":
                cell = "RUN>wait"
            elif name == thread and cell == "ended":
                cell = "RUN>end"
            cells.append(f"{cell:<{w}}")
        ecells = []
        moved: dict[str, list] = {}
        for name, old, new in changes:
            moved.setdefault(name, [old]).append(new)
        for name, w in zip(objects, ewidths):
            if name in moved:
                path = moved[name]
                obj_value[name] = path[-1]
                cell = "->".join(str(v) for v in path)
            elif created_obj.get(name, 0) > index:
                cell = ""
            else:
                cell = str(obj_value.get(name, 0))
            ecells.append(f"{cell:<{w}}")
        if t0 is not None and not (t0 <= time <= t1):
            continue
        what = _what_happened(row)
        lines.append(f"{seq:>5} {time / 10:>9.1f} | " + "  ".join(cells) + " | "
                     + ("  ".join(ecells) + " | " if objects else "") + what)
    if last is not None:
        lines = lines[-last:]
    text_lines = [head, "-" * min(len(head), 160)] + lines
    if view.bugcheck:
        b = view.bugcheck
        text_lines.append(f"BUG CHECK 0x{b['code']:X} ({b['name']}) in {b['thread']} at step "
                          f"{b['seq']}: {b['rule']}")
    if width:
        text_lines = [ln[:width] for ln in text_lines]
    return "\n".join(text_lines)


def _what_happened(row) -> str:
    thread, op, args, result = row.thread, row.op, row.args, row.result
    if op == "Timeout":
        return f"clock: the wait of {describe(args[0]) if args else '?'} timed out"
    again = row.rechecked
    if row.resumed is not None and row.enters is None:
        text = f"{thread} returns from {op} -> {result_text(op, result)}"
    else:
        text = f"{thread}: {call_text(op, args)}"
        waited = row.wait_label
        if row.enters is not None:
            text += f" enters {row.enters}"
            if waited:
                text += f"; the driver pended it: waits on {waited}"
        elif waited:
            text += f" blocks: waits on {waited}"
        elif result == "bug check":
            text += " -> BUG CHECK"
        elif isinstance(result, str) and result.endswith("Error"):
            text += f" raised {result}: {row.note}"
            again = ()                  # the note above already says whom it woke
        elif row.state != "waiting":
            text += f" -> {result_text(op, result)}"
    released, changes, line = row.released, row.changes, row.line
    if released:
        text += f"; releases {', '.join(released)}"
    if again:
        text += f"; wakes {', '.join(again)} to re-check"
    moved: dict[str, list] = {}
    for name, old, new in changes:
        moved.setdefault(name, [old]).append(new)
    for name, path in moved.items():
        text += f"; {name} " + "->".join(str(v) for v in path)
    if line:
        text += f"  [line {line}]"
    return text
