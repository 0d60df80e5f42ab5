"""The namespace picture: the object directory tree and, optionally, a handle table.

Built from a live Machine's object manager (`machine.objects.root`, walked in name
order): one node per directory, symbolic link, event or device with its type, state
and handle / pointer counts; with `process`, that process's handles and the access
each grants. Trace files do not keep the namespace, so they are refused.
"""
from __future__ import annotations

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ..errors import BadArgumentError
from .style import OKABE_ITO, _new_figure

_NODE = {
    "Directory": ("s", OKABE_ITO["sky"]),
    "SymbolicLink": (">", OKABE_ITO["purple"]),
    "Event": ("o", OKABE_ITO["green"]),
    "Device": ("D", OKABE_ITO["blue"]),
}


def namespace(machine, process=None, font_scale: float = 1.0) -> Figure:
    """The object namespace as a tree (type, state, handle and pointer counts), and,
    with `process` (a Process or its name), that process's handle table with the
    access each handle grants."""
    if not hasattr(machine, "objects") or not hasattr(machine.objects, "root"):
        raise BadArgumentError("namespace() needs a live Machine: trace files keep the "
                               "records, not the namespace (replay the file first)")
    if isinstance(process, str):
        found = [p for p in machine.processes if p.name == process]
        if not found:
            raise BadArgumentError(f"no process named {process!r}; there are "
                                   f"{', '.join(p.name for p in machine.processes)}")
        process = found[0]
    root = machine.objects.root
    nodes = [(0, "\\", "Directory", "", None, root)]
    _walk_children(root, 1, nodes, (0.0, 0))
    rows = len(nodes)
    handles = list(process.handles) if process is not None else []
    fs = 9 * font_scale
    height = max(2.5, 0.6 + 0.3 * max(rows, len(handles) + 2) * font_scale)
    fig = _new_figure(14 if process is not None else 9, height)
    fig.alt = (f"Object namespace: {rows} directories and objects"
               + (f", and {len(handles)} handles of {process.name}" if process is not None
                  else "") + ".")
    ax = fig.add_axes((0.01, 0.01, 0.6 if process is not None else 0.98, 0.93))
    ax.set_axis_off()
    ax.set_title("Object namespace", loc="left", fontsize=fs * 1.2)
    ax.set_ylim(rows, -1)
    ax.set_xlim(-0.5, 12)
    lines: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for i, (depth, name, type_name, detail, parent, obj) in enumerate(nodes):
        if parent is not None:
            lines.append(((parent[0] + 0.0, parent[1] + 0.3), (parent[0], i)))
            lines.append(((parent[0], i), (depth * 0.8, i)))
        shape, colour = _NODE.get(type_name, ("p", OKABE_ITO["yellow"]))
        filled = not (type_name == "Event" and not getattr(obj, "SignalState", 1))
        ax.scatter([depth * 0.8], [i], marker=shape, s=70 * font_scale,
                   facecolors=colour if filled else "white", edgecolors="black",
                   zorder=3, gid=f"node:{type_name}:{name}")
        ax.text(depth * 0.8 + 0.3, i, f"{name}  ", va="center", fontsize=fs,
                fontweight="bold" if type_name == "Directory" else "normal")
        joined = (" " if detail.startswith("->") else ", ") + detail if detail else ""
        ax.text(depth * 0.8 + 0.3 + 0.13 * len(name) * font_scale + 0.4, i,
                f"{type_name}{joined}", va="center", fontsize=fs * 0.85, color="#333333")
    ax.add_collection(LineCollection(lines, colors="#888888", linewidths=0.8, zorder=1))
    if process is not None:
        from ..handles import KERNEL_HANDLE_BITS, describe_object
        from ..status import access_names
        tab = fig.add_axes((0.63, 0.01, 0.36, 0.93))
        tab.set_axis_off()
        tab.set_title(f"{process.name} handle table", loc="left", fontsize=fs * 1.2)
        if not handles:
            tab.text(0, 0.9, "no handles", fontsize=fs, transform=tab.transAxes)
        else:
            cells = []
            for value, entry in handles:
                shown = value | KERNEL_HANDLE_BITS if process.handles.kernel else value
                cells.append([f"0x{shown:X}", entry.object.header.type.name,
                              describe_object(entry.object),
                              access_names(entry.granted_access)])
            table = tab.table(cellText=cells, colLabels=["handle", "type", "object",
                                                         "granted access"],
                              loc="upper left", cellLoc="left", gid="handle-table")
            table.auto_set_font_size(False)
            table.set_fontsize(fs * 0.8)
            table.auto_set_column_width(range(4))
    return fig


def _walk_children(directory, depth, nodes, parent):
    items = sorted(directory.entries.items(), key=lambda kv: kv[0].casefold())
    for name, obj in items:
        header = obj.header
        type_name = header.type.name
        target = getattr(obj, "target", None)
        if target is not None:
            detail = f"-> {target}"
        elif type_name == "Directory":
            detail = ""
        elif hasattr(obj, "SignalState"):
            kind = "synchronization" if obj.Type == 1 else "notification"
            detail = (f"{kind}, {'signaled' if obj.SignalState else 'not signaled'}, "
                      f"handles {header.handle_count}, pointers {header.pointer_count}")
        else:
            detail = f"handles {header.handle_count}, pointers {header.pointer_count}"
        nodes.append((depth, name, type_name, detail, parent, obj))
        if hasattr(obj, "entries"):
            _walk_children(obj, depth + 1, nodes, (depth * 0.8, len(nodes) - 1))
