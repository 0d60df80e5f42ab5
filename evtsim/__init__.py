"""evtsim: a deterministic simulator of Windows kernel event objects, for teaching.

Threads are generator functions; every API call is yielded and is one atomic step.
The engine is pure Python with no threads, processes or network (it runs in Pyodide);
matplotlib and ipywidgets are imported only by the view modules.
"""
from . import trace  # noqa: F401  (evtsim.trace.save/load/replay after `import evtsim`)
from .errors import (
    BadArgumentError,
    BugCheckError,
    EvtsimError,
    MachineStateError,
    MissingYieldError,
    NotACallError,
    ProtocolError,
    WouldBlockError,
    WrongSurfaceError,
)
from .machine import BugCheckInfo, DeadlockReport, Machine, Process, RunResult
from .records import TraceRecord
from .scheduler import Thread, WaitInfo
from .version import __version__

__all__ = [
    "Machine", "Process", "Thread", "WaitInfo", "RunResult", "BugCheckInfo",
    "DeadlockReport", "TraceRecord", "EvtsimError", "ProtocolError", "MissingYieldError",
    "NotACallError", "WrongSurfaceError", "BadArgumentError", "MachineStateError",
    "WouldBlockError", "BugCheckError", "__version__",
]
