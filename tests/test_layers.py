"""evtsim's modules form layers, and imports flow one way: down.

The graph is read from the source (ast), so an import inside a function counts as much
as one at the top of a file. From the bottom up:

  base        status, errors, version, units: plain constants, the error classes and
              how time reads
  core        calls (the yield protocol), records (what one step did)
  kernel      dispatcher, scheduler, the object manager (security, namespace, handles,
              objects), io, process, invariants, reports
  surfaces    api.*: the kernel, Win32 and DriverWorks routines threads call
  machine     machine and its parts (observed, protocol, waits, deferred, stepping,
              runloop):
              boots, runs threads, records steps
  scenarios   scenarios.*: the documented patterns, ready to build
  view model  timeline: lanes, spans and arrows read from the records
  files       instructor (the routines a trace file may call), tracecheck (the fields
              and limits of a trace file), tracefile (write, read safely), replay,
              trace (their public face), perfetto (export)
  tools       plot (matplotlib), explore (schedule search), lab (the lab session)
  widgets     widgets (ipywidgets)
  top         exercises, cli, __main__ and the package itself

A module may import from its own layer or any layer below, never from above, and the
whole graph has no cycle. Every module also stays under 500 lines.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "evtsim"
LAYERS = [
    ("base", ["status", "errors", "version", "units"]),
    ("core", ["calls", "records"]),
    ("kernel", ["dispatcher", "scheduler", "security", "namespace", "handles", "objects",
                "io", "process", "invariants", "reports"]),
    ("surfaces", ["api"]),
    ("machine", ["machine", "observed", "protocol", "waits", "deferred", "stepping",
                 "runloop"]),
    ("scenarios", ["scenarios"]),
    ("view model", ["timeline"]),
    ("files", ["perfetto", "instructor", "tracecheck", "tracefile", "replay", "trace"]),
    ("tools", ["plot", "explore", "lab"]),
    ("widgets", ["widgets"]),
    ("top", ["exercises", "cli", "__main__", ""]),
]
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The layer of `evtsim.x.y`: that of its first part after `evtsim`."""
    first = module.split(".")[1] if "." in module else ""
    for index, (_, members) in enumerate(LAYERS):
        if first in members:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def imports_of(module: str) -> dict[str, int]:
    """The evtsim modules `module` imports, anywhere in it, with the line of each."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from . import x` imports the module x when there is one, else a name of `.`
            names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                     for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES and "." in name:
                name = name.rpartition(".")[0]      # `import evtsim.api.kernel as k`...
            if name in MODULES and name != module:
                found.setdefault(name, node.lineno)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_from_a_higher_layer(module):
    mine = layer_of(module)
    upward = [f"{other} (line {line}, layer {LAYERS[layer_of(other)][0]})"
              for other, line in GRAPH[module].items() if layer_of(other) > mine]
    assert not upward, (f"{module} (layer {LAYERS[mine][0]}) imports from above: "
                        + "; ".join(upward))


def test_the_import_graph_has_no_cycle():
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = path[path.index(module):] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for other in sorted(GRAPH[module]):
            visit(other, path + [module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])


def test_the_checker_sees_imports_inside_functions():
    """The rule is about every import: one hidden in a function body is found too."""
    assert "evtsim.exercises.lesson07" in MODULES
    inner = [line for other, line in GRAPH["evtsim.exercises.lesson07"].items()
             if other.startswith("evtsim.explore")]
    assert inner, "lesson07 imports the explorer inside Level.play and Level.verify"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_stays_under_500_lines(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by job"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_opens_with_a_paragraph_on_what_it_does(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and len(doc.split()) >= 8, f"{module} has no opening docstring to speak of"
