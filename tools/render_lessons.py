#!/usr/bin/env python3
"""Render the lessons for a classroom with no network: static HTML plus slide pictures.

    .venv/bin/python tools/render_lessons.py OUTDIR                 every lesson
    .venv/bin/python tools/render_lessons.py OUTDIR --only 00       lessons whose name contains 00
    .venv/bin/python tools/render_lessons.py OUTDIR --scenario hardware_lock

(`python3 run.py lab` or `python3 run.py test` makes `.venv` the first time.)

For each lesson's source in notebooks/ (`NN-name.md`, the MyST text that JupyterLab
saves with its paired notebook) it

- runs the lesson top to bottom with a Jupyter kernel, as `python3 run.py test` does;
- writes `OUTDIR/NAME.html`: the executed lesson as one self-contained page. Pictures
  are embedded in the page; no script, style sheet, font or picture is fetched from the
  internet (the page loads no MathJax, require.js, Mermaid or widget manager), so it
  opens from a USB stick on a projector PC with no kernel and no network. The live lab
  widget needs a kernel: in the page it is replaced by a sentence that says so;
- writes every timeline the lesson draws (each `evtsim.plot.timeline(...)` figure) as
  `OUTDIR/slides/NAME-timeline-N.png` and `.svg`, for slides and handouts. A lesson
  that draws no timeline gets the timelines of the ready-made scenarios it builds.

`OUTDIR/index.html` links the pages and pictures. `--scenario NAME` (repeatable, or
`all`) also writes `OUTDIR/slides/scenario-NAME.png`/`.svg` for a ready-made scenario.
Exit status: 0 when every lesson ran; 1 when one failed (its page is still written,
with the error in it).
"""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON_NAME = re.compile(r"\d\d-[\w-]+\.md")     # 00-start-here.md, ...: one per lesson
CELL_TIMEOUT = 300          # seconds, per cell
SLIDE_DPI = 150

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("An interactive widget: its buttons work when the lesson runs in Jupyter. "
               "This is how it looked when the lesson was run.")

# Runs first in the kernel, then is removed from the page: every timeline figure the
# lesson makes is also saved for the slides.
CAPTURE_CELL = '''
def __evtsim_capture():
    import evtsim.plot as _plot
    original = _plot.timeline
    count = [0]

    def timeline(*args, **kwargs):
        figure = original(*args, **kwargs)
        count[0] += 1
        stem = {stem!r} + "-timeline-" + str(count[0])
        for ext in ("png", "svg"):
            figure.savefig({slides!r} + "/" + stem + "." + ext, format=ext, dpi={dpi},
                           bbox_inches="tight")
        return figure

    timeline.__doc__ = original.__doc__
    timeline.__wrapped__ = original
    _plot.timeline = timeline

__evtsim_capture()
del __evtsim_capture
'''

# The offline page: the JupyterLab look, without anything loaded from a CDN.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
ASSET_ATTRS = {"src", "href", "data", "poster", "srcset", "background", "action", "formaction"}


class RemoteAssets(HTMLParser):
    """Collects everything in a page that a browser would fetch from the network."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self._in = tag if tag in ("script", "style") else None
        for name, value in attrs:
            if value is None:
                continue
            if tag == "a" and name == "href":
                continue                    # a link is followed only when clicked
            if name in ASSET_ATTRS and any(REMOTE.match(part.strip().split(" ")[0])
                                           for part in value.split(",")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style" and re.search(r"url\(\s*['\"]?\s*(https?:)?//", value, re.I):
                self.found.append(f"<{tag} style={value!r}>")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            for match in re.finditer(r"(https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s'\"`)]*", data):
                # a URL in a script can be fetched (import(), script.src = ...)
                before = data[max(0, match.start() - 1):match.start()]
                if before in ("'", '"', "`", "(") or match.group(1):
                    self.found.append(f"<script> ... {match.group(0)}")
        elif self._in == "style":
            without_comments = re.sub(r"/\*.*?\*/", "", data, flags=re.S)
            for match in re.finditer(r"(url\(\s*['\"]?\s*(https?:)?//[^)]*\)|@import[^;]*)",
                                     without_comments, re.I):
                self.found.append(f"<style> ... {match.group(0)}")


def remote_assets(page: str) -> list[str]:
    """The remote assets a page would load (empty for a page that works offline)."""
    parser = RemoteAssets()
    parser.feed(page)
    parser.close()
    return parser.found


def lessons(only=None) -> list[Path]:
    """The lessons' MyST sources (the classroom pages are made from the same text as the
    notebooks)."""
    paths = sorted(p for p in NOTEBOOKS.glob("*.md") if LESSON_NAME.fullmatch(p.name))
    if only:
        paths = [p for p in paths if any(word in p.name for word in only)]
    return paths


def kernel_env() -> dict:
    env = dict(os.environ)
    parts = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def execute(path: Path, slides: Path):
    """The executed notebook (capture cell removed) and the error text, if a cell failed."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = jupytext.read(path)
    capture = nbformat.v4.new_code_cell(CAPTURE_CELL.format(
        stem=path.stem, slides=str(slides), dpi=SLIDE_DPI))
    capture["id"] = "evtsim-render-capture"
    nb.cells.insert(0, capture)
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    error = None
    try:
        client.execute(env=kernel_env())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as failure:
        error = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(failure))
    nb.cells.pop(0)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            cell.execution_count -= 1
    return nb, error


def _widget_html(model_id: str, state: dict, depth: int = 0) -> str:
    """A static picture of one widget from the saved widget state (no JavaScript)."""
    model = state.get(model_id.replace("IPY_MODEL_", ""))
    if model is None or depth > 30:
        return ""
    kind = model.get("model_name", "")
    values = model.get("state", {})

    def children():
        return "".join(_widget_html(child, state, depth + 1) for child in values.get("children", []))

    if kind in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{values.get('value', '')}</div>"
    if kind == "LabelModel":
        return f"<div>{html.escape(str(values.get('value', '')))}</div>"
    if kind in ("ButtonModel", "ToggleButtonModel"):
        return f"<button disabled>{html.escape(str(values.get('description', '')))}</button> "
    if kind == "ImageModel":
        buffers = [b for b in model.get("buffers", []) if b.get("path") == ["value"]]
        if buffers and buffers[0].get("encoding", "base64") == "base64":
            fmt = html.escape(str(values.get("format", "png")))
            return (f'<div><img alt="timeline" style="max-width:100%" '
                    f'src="data:image/{fmt};base64,{buffers[0]["data"]}"></div>')
        return ""
    if kind == "OutputModel":
        parts = []
        for output in values.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                parts.append(f'<img alt="figure" style="max-width:100%" src="data:image/png;base64,{data["image/png"]}">')
            elif "text/plain" in data or "text" in output:
                text = data.get("text/plain", output.get("text", ""))
                parts.append(f"<pre>{html.escape(''.join(text))}</pre>")
        return "".join(parts)
    if kind in ("AccordionModel", "TabModel"):
        titles = list(values.get("titles", []))
        blocks = []
        for index, child in enumerate(values.get("children", [])):
            title = titles[index] if index < len(titles) and titles[index] else ""
            blocks.append(f"<details><summary>{html.escape(title)}</summary>"
                          f"{_widget_html(child, state, depth + 1)}</details>")
        return "".join(blocks)
    if kind in ("HBoxModel", "GridBoxModel"):
        return f'<div style="display:flex;flex-wrap:wrap;gap:4px;align-items:center">{children()}</div>'
    if kind in ("VBoxModel", "BoxModel"):
        return f"<div>{children()}</div>"
    if "description" in values and values.get("description"):
        return f"<div><i>{html.escape(str(values['description']))}</i></div>"
    return children()


def drop_live_widgets(nb) -> None:
    """Replace each live widget by a static copy of how it looked when the lesson ran.

    The page loads no widget manager from the internet, so the widget cannot work; a
    line says so above the copy (buttons are shown disabled)."""
    saved = nb.metadata.pop("widgets", {}) or {}
    state = saved.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_MIME in data:
                view = data.pop(WIDGET_MIME)
                picture = _widget_html(view.get("model_id", ""), state)
                data["text/plain"] = WIDGET_NOTE
                data["text/html"] = (
                    '<div class="evtsim-static-widget" style="border:1px dashed #888;padding:6px">'
                    f"<p><i>{html.escape(WIDGET_NOTE)}</i></p>{picture}</div>")


def to_html(nb, title: str) -> str:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            extra_loaders=[DictLoader({"evtsim_offline.html.j2": OFFLINE_TEMPLATE})],
                            template_file="evtsim_offline.html.j2")
    nb.metadata["title"] = title
    page, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(NOTEBOOKS)}})
    found = remote_assets(page)
    if found:
        raise RuntimeError("the offline page would still load from the internet:\n  "
                           + "\n  ".join(found))
    return page


def title_of(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def scenario_pictures(names, slides: Path, prefix: str) -> list[Path]:
    """Timelines of ready-made scenarios, run to their end, as PNG and SVG."""
    from evtsim import plot, scenarios

    written = []
    for name in names:
        machine = scenarios.build(name)
        machine.run(max_steps=100_000)
        figure = plot.timeline(machine)
        for ext in ("png", "svg"):
            target = slides / f"{prefix}{name}.{ext}"
            figure.savefig(target, format=ext, dpi=SLIDE_DPI, bbox_inches="tight")
            written.append(target)
    return written


def scenarios_named_in(path: Path) -> list[str]:
    import jupytext

    from evtsim import scenarios

    source = "\n".join(cell.source for cell in jupytext.read(path).cells
                       if cell.cell_type == "code")
    return [name for name in scenarios.names() if re.search(rf"['\"]{re.escape(name)}['\"]", source)]


def render(outdir: Path, only=None, extra_scenarios=(), say=print) -> dict:
    """Render the lessons into outdir; returns {lesson name: error text or None}."""
    outdir = Path(outdir)
    slides = outdir / "slides"
    slides.mkdir(parents=True, exist_ok=True)
    results, entries = {}, []
    for path in lessons(only):
        say(f"running {path.name} ...")
        for old in slides.glob(f"{path.stem}-timeline-*"):
            old.unlink()
        nb, error = execute(path, slides)
        pictures = sorted(slides.glob(f"{path.stem}-timeline-*.png"),
                          key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if not pictures and not error:
            named = scenarios_named_in(path)
            written = scenario_pictures(named, slides, f"{path.stem}-scenario-")
            pictures = [p for p in written if p.suffix == ".png"]
        drop_live_widgets(nb)
        title = title_of(nb, path)
        page = to_html(nb, title)
        (outdir / f"{path.stem}.html").write_text(page, encoding="utf-8")
        results[path.name] = error
        entries.append((path.stem, title, pictures, error))
        say(f"  wrote {path.stem}.html and {len(pictures)} timeline(s)"
            + (f"; FAILED: {error.strip().splitlines()[-1] if error.strip() else error}" if error else ""))
    extra = []
    if extra_scenarios:
        from evtsim import scenarios
        names = scenarios.names() if "all" in extra_scenarios else list(extra_scenarios)
        extra = [p for p in scenario_pictures(names, slides, "scenario-") if p.suffix == ".png"]
        say(f"wrote {len(extra)} scenario timeline(s)")
    write_index(outdir, entries, extra)
    return results


def write_index(outdir: Path, entries, extra) -> None:
    def picture_links(pictures):
        return "".join(
            f'<li><a href="slides/{html.escape(p.name)}">{html.escape(p.stem)}</a> '
            f'(<a href="slides/{html.escape(p.with_suffix(".svg").name)}">SVG</a>)</li>'
            for p in pictures)

    rows = []
    for stem, title, pictures, error in entries:
        status = ' <strong>(a cell failed: see the page)</strong>' if error else ""
        rows.append(f'<li><a href="{html.escape(stem)}.html">{html.escape(title)}</a>{status}'
                    f'<ul>{picture_links(pictures)}</ul></li>')
    if extra:
        rows.append(f"<li>Ready-made scenarios<ul>{picture_links(extra)}</ul></li>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>evtsim lessons (offline)</title>"
            "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;font-size:1.2em}"
            "li{margin:.3em 0}</style></head><body>"
            "<h1>evtsim lessons</h1><p>Static copies of the lessons, already run. "
            "They need no kernel and no network. The timelines are also here as pictures "
            "(PNG, and SVG for printing).</p>"
            f"<ol>{''.join(rows)}</ol></body></html>\n")
    (outdir / "index.html").write_text(page, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="render_lessons.py",
        description="Run every lesson and write static offline HTML and timeline pictures.")
    parser.add_argument("outdir", type=Path, help="folder to write into (made if missing)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="only the lessons whose file name contains TEXT (repeatable)")
    parser.add_argument("--scenario", action="append", default=[], metavar="NAME",
                        help="also draw this ready-made scenario's timeline (repeatable; 'all')")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if not lessons(args.only):
        print(f"render_lessons.py: no lesson matches {args.only}", file=sys.stderr)
        return 2
    results = render(args.outdir, args.only, args.scenario)
    failed = [name for name, error in results.items() if error]
    print(f"wrote {len(results)} lesson page(s) to {args.outdir}"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
