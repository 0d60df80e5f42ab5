"""Trace files in a notebook: download the current run, upload a saved one again.

`TraceFiles(lab)` works on an EventLab (an upload is shown in the lab, and can be
undone action by action); `TraceFiles(machine)` on a Machine (an uploaded run is
rebuilt and kept in `.machine`). A culled Binder session then loses nothing.
"""
from __future__ import annotations

import base64
from typing import Any

import ipywidgets as W

from .. import trace as tracefiles
from ..errors import EvtsimError
from ..lab import LabSession
from ..lab.rebuild import start_again
from ..machine import Machine
from .panel import Panel, button, esc, guarded

__all__ = ["TraceFiles"]


class TraceFiles(Panel):
    """Download the current trace and upload one again (so a culled Binder session
    loses nothing). `TraceFiles(lab)` works on an EventLab; `TraceFiles(machine)` on a
    Machine (an uploaded run is then in `.machine`)."""

    def __init__(self, lab_or_machine):
        super().__init__()
        self._init_panel()
        # An EventLab is the view over a LabSession.
        is_lab = isinstance(getattr(lab_or_machine, "session", None), LabSession)
        self.lab = lab_or_machine if is_lab else None
        self._machine: Any = None if self.lab is not None else lab_or_machine
        self.download_button = button("Download trace", "Make a link to save this run "
                                      "as an evtsim trace file (JSON) on your computer",
                                      "download")
        self.download_button.on_click(self._on_download)
        self.link = W.HTML()
        self.upload = W.FileUpload(accept=".json", multiple=False,
                                   description="Upload trace",
                                   tooltip="Load a trace file saved earlier: the run is "
                                   "built again and shown")
        self.upload.observe(self._on_upload, names="value")
        self.children = [W.HBox([self.download_button, self.link, self.upload],
                                layout=W.Layout(align_items="center",
                                                flex_flow="row wrap")),
                         self.status]
        if self.lab is not None:
            self.log_box, self.captured = self.lab.log_box, self.lab.captured

    def say(self, text: str) -> None:
        """Into the lab's log when this panel is part of a lab, else into its own."""
        if self.lab is not None:
            self.lab.say(text)
        else:
            super().say(text)

    @property
    def machine(self) -> Machine:
        return self.lab.machine if self.lab is not None else self._machine

    def data(self) -> str:
        """The trace file's text for the current run."""
        return tracefiles.dumps(tracefiles.to_data(self.machine))

    @guarded
    def _on_download(self, _button=None):
        text = self.data()
        m = self.machine
        name = (m.scenario[0] if m.scenario else "machine") + f"-step{len(m.trace)}.json"
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.link.value = (f'<a download="{esc(name)}" href="data:application/json;'
                           f'base64,{payload}" title="Save the trace file">\u2b07 Save '
                           f'{esc(name)}</a>')
        self.say(f"Download: {name} is ready ({len(m.trace)} steps, {len(text)} bytes); "
                 f"click the link to save it.")

    @guarded
    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = item.get("name", "upload") if isinstance(item, dict) else item.name
        content: Any = item.get("content") if isinstance(item, dict) else item.content
        self.load_bytes(bytes(content), name)

    def load_bytes(self, content: bytes, name: str = "upload") -> Machine | None:
        """Load an uploaded trace file: read as `evtsim.trace.load` reads a file and
        replayed as `evtsim.trace.replay` replays one, so the lab says what the command
        line says. A refused file leaves the lab and the machine as they were."""
        try:
            saved = tracefiles.from_bytes(bytes(content), source=name)
            if self.lab is not None:
                return self.lab.load(saved)
            machine = tracefiles.replay(saved, start_again=start_again)
            self._machine = machine
            self.say(f"Upload {name}: rebuilt {saved.scenario} with "
                     f"{len(saved.actions)} action(s), {len(machine.trace)} steps, "
                     f"identical to the file.")
            return machine
        except EvtsimError as error:
            text = str(error)
            self.say(f"Upload {text}" if text.startswith(f"{name}: ")
                     else f"Upload {name}: {text}")
            return None
