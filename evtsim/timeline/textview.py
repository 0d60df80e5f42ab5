"""The timeline as text: one line per step, one aligned column per thread and event.

Built from a `RunView`'s trace rows: each thread's column says what it does after the
step, each event's column its signal state, and the last column what happened in
words. It is the accessible equivalent of the picture that the lessons print next to it.
`text` returns a `TextTimeline`: a plain `str` for `print()` and a terminal, which a
notebook shows as a scrollable HTML table (words never break in the middle). A trace
file of version 1 prints exactly as evtsim 0.1.0 printed it.
"""
from __future__ import annotations

import html

from ..records import describe
from ..units import time_us
from .notes import call_text, result_text, result_text_v1
from .runview import PSEUDO_THREADS, view_of

# The notebook table scrolls inside its own box instead of growing the page. No cell
# breaks a word: the table does not wrap at all (inline, so it holds even where a
# notebook drops <style>); only the last column wraps, between words.
_BOX = "overflow-x: auto; max-height: 28em; overflow-y: auto; max-width: 100%"
_TABLE = "white-space: nowrap; border-collapse: collapse; font-family: monospace"
_STYLE = ("<style>"
          ".evtsim-text-timeline th, .evtsim-text-timeline td {text-align: left; "
          "vertical-align: top; padding: 1px 8px}"
          ".evtsim-text-timeline thead th {position: sticky; top: 0; "
          "background: var(--jp-layout-color1, #fff); border-bottom: 1px solid #8888}"
          ".evtsim-text-timeline tbody th {font-weight: normal}"
          ".evtsim-text-timeline td.what {white-space: normal; overflow-wrap: normal; "
          "word-break: normal; min-width: 24em}"
          ".evtsim-text-timeline caption {text-align: left; caption-side: top}"
          "</style>")
HTML_ROWS = 2_000       # a longer log shows its last rows in a notebook (print shows all)


class TextTimeline(str):
    """The text timeline: the plain text itself, plus an HTML table for notebooks.

    It is a `str` (print it, compare it, slice it); Jupyter shows it as a table with a
    header row that stays in view while the log scrolls.
    """

    header: list
    rows: list
    footer: str | None

    def __new__(cls, plain: str, header: list | None = None, rows: list | None = None,
                footer: str | None = None):
        self = super().__new__(cls, plain)
        self.header, self.rows, self.footer = header or [], rows or [], footer
        return self

    def _repr_pretty_(self, printer, cycle) -> None:
        """IPython in a terminal: the lines themselves, not a quoted string."""
        printer.text(str.__str__(self))

    def _repr_html_(self) -> str:
        """A table: one row per step, escaped cells, scrolling in its own box."""
        esc = html.escape
        last = len(self.header) - 1
        head = "".join(f'<th scope="col">{esc(name)}</th>' for name in self.header)
        body = []
        rows = self.rows[-HTML_ROWS:]
        for cells in rows:
            parts = [f'<th scope="row">{esc(cells[0])}</th>']
            parts += [f'<td class="what">{esc(cell)}</td>' if i == last else
                      f"<td>{esc(cell)}</td>" for i, cell in enumerate(cells[1:], 1)]
            body.append("<tr>" + "".join(parts) + "</tr>")
        foot = (f'<tfoot><tr><td class="what" colspan="{len(self.header)}">'
                f"<strong>{esc(self.footer)}</strong></td></tr></tfoot>"
                if self.footer else "")
        cut = (f" It shows the last {len(rows):,} of {len(self.rows):,} steps: print() "
               f"shows them all." if len(rows) < len(self.rows) else "")
        # tabindex: a region that scrolls must take the keyboard's focus (axe-core's
        # scrollable-region-focusable rule), so arrow keys scroll it
        return (f'<div class="evtsim-text-timeline" style="{_BOX}" tabindex="0" '
                f'role="region" aria-label="Text log of the run">{_STYLE}'
                f'<table style="{_TABLE}"><caption>The run as text: one row per step. '
                "Each thread's column says what it does after the step; each event's "
                f"column says its state.{esc(cut)}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>{foot}"
                "</table></div>")


def text(source, threads=None, events=None, window=None, last: int | None = None,
         width: int | None = None) -> TextTimeline:
    """The timeline as text: one line per step, one aligned column per thread.

    Each thread's column says what it is doing after the step: `RUN` for the thread
    that took the step, `wait`, `ready`, `woken` (released by this step), `ended`, or
    blank before it exists. Each event's column shows its state, `0->1` when the step
    changed it, `0->1->0` for a set consumed at once. The last column says what
    happened in words, with statuses by name. Time is in microseconds. `last=N` shows
    only the last N steps; `width` cuts the plain lines (not the notebook table).
    """
    from ..errors import BadArgumentError
    view = view_of(source)
    v1 = getattr(source, "version", None) == 1        # a 0.1.0 file prints as 0.1.0 did
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
    table = []
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
        for name in names:
            cell = status[name]
            if name == thread and cell == "wait":
                cell = "RUN>wait"
            elif name == thread and cell == "ended":
                cell = "RUN>end"
            cells.append(cell)
        moved: dict[str, list] = {}
        for name, old, new in changes:
            moved.setdefault(name, [old]).append(new)
        ecells = []
        for name in objects:
            if name in moved:
                path = moved[name]
                obj_value[name] = path[-1]
                cell = "->".join(str(v) for v in path)
            elif created_obj.get(name, 0) > index:
                cell = ""
            else:
                cell = str(obj_value.get(name, 0))
            ecells.append(cell)
        if t0 is not None and not (t0 <= time <= t1):
            continue
        shown_time = f"{time / 10:.1f}" if v1 else time_us(time)
        table.append([str(seq), shown_time, *cells, *ecells, _what_happened(row, v1)])
    if last is not None:
        table = table[-last:]
    footer = None
    if view.bugcheck:
        b = view.bugcheck
        footer = (f"BUG CHECK 0x{b['code']:X} ({b['name']}) in {b['thread']} at step "
                  f"{b['seq']}: {b['rule']}")
    header = ["step", "time(us)" if v1 else "time", *names, *objects, "what happened"]
    plain = _plain(header, table, len(names), footer, v1, width)
    return TextTimeline(plain, header, table, footer)


def _plain(header: list, table: list, threads: int, footer: str | None, v1: bool,
           width: int | None) -> str:
    """The aligned lines: `step time | threads | events | what happened`."""
    widths = [max(8, len(name)) for name in header[2:-1]]
    widths[threads:] = [max(7, len(name)) for name in header[2 + threads:-1]]
    if v1:
        step_w, time_w = 5, 9
    else:
        step_w = max([4] + [len(r[0]) for r in table]) + 1
        time_w = max([len(header[1])] + [len(r[1]) for r in table])

    def line(cells: list) -> str:
        columns = [f"{c:<{w}}" for c, w in zip(cells[2:-1], widths, strict=False)]
        out = f"{cells[0]:>{step_w}} {cells[1]:>{time_w}} | " + "  ".join(columns[:threads])
        out += " | "
        if len(columns) > threads:
            out += "  ".join(columns[threads:]) + " | "
        return out + cells[-1]
    head = line(header)
    lines = [head, "-" * min(len(head), 160)] + [line(r) for r in table]
    if footer:
        lines.append(footer)
    if width:
        lines = [ln[:width] for ln in lines]
    return "\n".join(lines)


def _what_happened(row, v1: bool = False) -> str:
    thread, op, args, result = row.thread, row.op, row.args, row.result
    words = result_text_v1 if v1 else result_text
    if op == "Timeout":
        return f"clock: the wait of {describe(args[0]) if args else '?'} timed out"
    again = row.rechecked
    if row.resumed is not None and row.enters is None:
        text = f"{thread} returns from {op} -> {words(op, result)}"
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
            text += f" -> {words(op, result)}"
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
