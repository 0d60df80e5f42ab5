"""The engine runs where there are no threads, processes or sockets (JupyterLite).

Pyodide runs Python in the browser: it cannot start a thread, a process or open a
socket. The simulator promises to be pure Python with no threads, so it must run
there. These tests prove it the strict way: a fresh Python subprocess installs an
import hook that refuses `threading`, `subprocess`, `socket`, `multiprocessing` and
`asyncio` (and their C parts), then imports the engine and runs it: every scenario,
the kernel, Win32 and DriverWorks surfaces, the text timeline, and a trace saved to
JSON and replayed. Any import of a blocked module, even an indirect one, fails the test
with the chain of imports that led to it.

The views (`evtsim.plot`, `evtsim.widgets`) and the command line are left out on
purpose: matplotlib and ipywidgets have their own Pyodide builds, and the command line
starts JupyterLab with subprocess.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCKER = r'''
import sys

BLOCKED = ("threading", "_thread", "subprocess", "_posixsubprocess", "socket", "_socket",
           "multiprocessing", "_multiprocessing", "asyncio", "_asyncio", "selectors")
# `_thread` is built into CPython and imported by functools/io at start-up; Pyodide has
# it too (it can create locks, not threads), so it stays importable.
BLOCKED = tuple(name for name in BLOCKED if name != "_thread")


class NoThreadsFinder:
    """A meta-path finder that refuses the modules a browser cannot provide."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            importer = sys._getframe(1)
            chain = []
            while importer is not None and len(chain) < 40:
                name = importer.f_globals.get("__name__", "?")
                if not chain or chain[-1] != name:
                    chain.append(name)
                importer = importer.f_back
            raise ImportError(
                f"blocked import of {fullname!r} (not available in the browser); "
                f"imported from: {' <- '.join(n for n in chain if not n.startswith('importlib'))}")
        return None


for name in list(sys.modules):
    if name.split(".")[0] in BLOCKED:
        del sys.modules[name]
sys.meta_path.insert(0, NoThreadsFinder())

try:
    import threading  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("the import hook did not block threading")
'''


def run_blocked(code, timeout=60):
    """Run `code` after the blocker in a fresh interpreter; return the completed process."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONPATH")}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    source = BLOCKER + "\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", source], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=timeout)


def check(code):
    proc = run_blocked(code)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_blocker_really_blocks():
    proc = run_blocked("import subprocess")
    assert proc.returncode != 0
    assert "blocked import of 'subprocess'" in proc.stderr


def test_engine_modules_import_without_threads_processes_or_sockets():
    out = check("""
        import importlib, pkgutil
        import evtsim
        names = ["evtsim", "evtsim.machine", "evtsim.scheduler", "evtsim.dispatcher",
                 "evtsim.objects", "evtsim.io", "evtsim.status", "evtsim.errors",
                 "evtsim.trace", "evtsim.timeline", "evtsim.invariants",
                 "evtsim.api.kernel", "evtsim.api.win32", "evtsim.api.driverworks",
                 "evtsim.scenarios", "evtsim.exercises"]
        names += ["evtsim.scenarios." + m.name for m in pkgutil.iter_modules(
            importlib.import_module("evtsim.scenarios").__path__)]
        # The schedule explorer is part of the engine too, when this checkout has it.
        if importlib.util.find_spec("evtsim.explore") is not None:
            names.append("evtsim.explore")
        for name in names:
            importlib.import_module(name)
        print("imported", len(names))
    """)
    assert "imported" in out


def test_every_scenario_runs_and_prints_its_timeline():
    """Without threads, every scenario ends exactly as it does in an ordinary Python:
    the same reason, the same number of trace records and the same text timeline."""
    from evtsim import scenarios
    from evtsim.timeline import text
    expected = []
    for name in scenarios.names():
        m = scenarios.build(name)
        result = m.run(max_steps=20_000)
        expected.append(f"{name} {result.reason} {len(m.trace)} {len(text(m).splitlines())}")
    out = check("""
        from evtsim import scenarios
        from evtsim.timeline import text
        for name in scenarios.names():
            m = scenarios.build(name)
            result = m.run(max_steps=20_000)
            print(name, result.reason, len(m.trace), len(text(m).splitlines()))
    """)
    assert out.splitlines() == expected
    assert "notification_broadcast done" in expected[0]


def test_kernel_win32_and_driverworks_surfaces_run():
    out = check("""
        from evtsim import Machine
        from evtsim.status import INFINITE, WAIT_OBJECT_0, STATUS_SUCCESS
        from evtsim.api.kernel import NotificationEvent, SynchronizationEvent, Executive, KernelMode

        m = Machine()
        ev = m.kernel.KeInitializeEvent(SynchronizationEvent, False, name="Lock")

        def kwaiter(k, ev):
            status = yield k.KeWaitForSingleObject(ev, Executive, KernelMode, False, None)
            return status

        def app_main(api):
            h = yield api.CreateEvent(None, True, False, "SynchEvent")
            assert h is not None
            r = yield api.WaitForSingleObject(h, 0)
            r2 = yield api.WaitForSingleObject(h, INFINITE)
            return (r, r2)

        def setter(api):
            h = yield api.OpenEvent(0x1F0003, False, "SynchEvent")
            ok = yield api.SetEvent(h)
            yield api.CloseHandle(h)
            return ok

        w = m.system.start(kwaiter, ev, name="kwaiter")
        app = m.process("app.exe")
        t = app.start(app_main, name="main")
        m.run()
        assert w.state == "waiting" and t.state == "waiting"
        m.kernel.KeSetEvent(ev, 0, False)
        s = app.start(setter, name="setter")
        m.run()
        assert w.result == STATUS_SUCCESS, w.result
        assert s.result is True, s.result
        assert t.result[1] == WAIT_OBJECT_0, t.result
        print("ops", sorted({r.op for r in m.trace}))

        from evtsim.api.driverworks import KEvent, KUstring
        d = Machine()

        def dw(k):
            e = yield KEvent(KUstring(r"\\BaseNamedObjects\\SynchEvent"), SynchronizationEvent)
            yield e.Set()
            state = yield e.State()
            return state

        th = d.system.start(dw, name="dw")
        d.run()
        print("driverworks", th.state, th.result)
    """)
    assert "SetEvent" in out and "KeSetEvent" in out
    assert "driverworks terminated" in out


def test_trace_saves_as_json_and_replays():
    out = check("""
        import json
        from evtsim import scenarios, trace
        m = scenarios.build("notification_broadcast", waiters=3)
        m.run()
        data = json.loads(trace.dumps(trace.to_data(m)))
        saved = trace.from_data(data)
        again = trace.replay(saved)
        assert len(again.trace) == len(m.trace)
        print("replayed", len(again.trace), "text lines", len(trace.text_timeline(m).splitlines()))
    """)
    assert "replayed" in out
