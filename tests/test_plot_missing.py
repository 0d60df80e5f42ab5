"""Without matplotlib (Pyodide on the offline JupyterLite site), a picture is one line.

Each test runs a fresh Python in which matplotlib cannot be imported
(`sys.modules["matplotlib"] = None`, what Python does for a package that is not
there). `evtsim.plot` still imports; `timeline`, `wait_queues`, `namespace` and
`Timeline` give an object that shows one plain sentence in a notebook and in a print,
naming what shows the same run as text; the style names keep their values; and the
event lab builds, draws its SVG timeline and answers a click. A matplotlib that is
installed but cannot load (here: numpy missing) still raises. docs/jupyterlite.md.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evtsim.plot import missing, style

ROOT = Path(__file__).resolve().parent.parent
NO_MATPLOTLIB = "import sys\nsys.modules['matplotlib'] = None\n"


def run(code: str, prelude: str = NO_MATPLOTLIB) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter after `prelude`, importing this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def answer(code: str) -> dict:
    """Run `code` without matplotlib; it prints one JSON object last."""
    done = run(code)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_matplotlib_every_picture_is_one_line_that_names_the_text_timeline():
    got = answer("""
        import json
        import evtsim.plot as plot
        import evtsim.trace
        from evtsim import scenarios
        m = scenarios.build("notification_broadcast", waiters=3)
        m.run()
        named = scenarios.build("driverstudio_tip", namespace="modern")
        named.run()
        shown = {"timeline": plot.timeline(m), "wait_queues": plot.wait_queues(m),
                 "Timeline": plot.Timeline(m).update(m), "namespace": plot.namespace(named)}
        text = evtsim.trace.text_timeline(m)        # the advice in the line works here
        print(json.dumps({
            "repr": {k: repr(v) for k, v in shown.items()},
            "html": {k: v._repr_html_() for k, v in shown.items()},
            "matplotlib": sys.modules["matplotlib"] is None,
            "text_steps": str(text).count("KeWaitForSingleObject"),
            "objects": str(named.objects)}))
    """)
    assert got["matplotlib"], "the test's Python loaded matplotlib after all"
    for name in ("timeline", "wait_queues", "Timeline"):
        line = got["repr"][name]
        assert line == missing.MESSAGE
        assert "\n" not in line and "matplotlib" in line
        assert "evtsim.trace.text_timeline(m)" in line
        assert got["html"][name] == f'<p class="evtsim-no-picture">{line}</p>'
    assert got["repr"]["namespace"] == missing.NAMESPACE_MESSAGE
    assert "print(m.objects)" in got["repr"]["namespace"]
    assert got["text_steps"] >= 3            # three waiters waited: the text shows the run
    assert "SynchEvent  Event" in got["objects"]     # and so does print(m.objects)


def test_without_matplotlib_the_style_names_keep_their_values():
    got = answer("""
        import json
        import evtsim.plot as plot
        print(json.dumps({name: getattr(plot, name) for name in (
            "OKABE_ITO", "PALETTES", "MARKERS", "RUN_H", "READY_H", "HATCH_WAIT",
            "HATCH_USER")} | {"all": sorted(plot.__all__)}))
    """)
    expected = {name: getattr(style, name) for name in (
        "OKABE_ITO", "PALETTES", "MARKERS", "RUN_H", "READY_H", "HATCH_WAIT", "HATCH_USER")}
    assert {k: v for k, v in got.items() if k != "all"} == json.loads(json.dumps(expected))
    assert got["all"] == sorted(["Timeline", "timeline", "wait_queues", "namespace",
                                 "OKABE_ITO", "PALETTES", "MARKERS"])


def test_without_matplotlib_the_event_lab_draws_svg_and_set_releases_the_waiters():
    got = answer("""
        import json
        from evtsim.widgets import EventLab
        from test_widgets import assert_picture_shows_model, click
        lab = EventLab("notification_broadcast", waiters=3)
        for name in ("waiter1", "waiter2", "waiter3"):
            click(lab, "Step", name)
        before = lab.image.value
        lines = click(lab, "Set", "DataReady")          # checks the panel is the machine
        assert_picture_shows_model(lab)
        print(json.dumps({"kind": lab.picture.kind, "lines": lines,
                          "changed": lab.image.value != before,
                          "signaled": [o.SignalState for o in lab.machine.dispatcher_objects
                                       if o.name == "DataReady"],
                          "states": [t.state for t in lab.machine.threads][:3]}))
    """)
    assert got["kind"] == "svg"
    assert any("released waiter1, waiter2, waiter3" in line for line in got["lines"])
    assert got["changed"] and got["signaled"] == [1]
    assert got["states"] == ["ready", "ready", "ready"]


BROKEN = {
    "numpy missing": ("numpy", "ModuleNotFoundError"),
    "a part that fails to load": ("matplotlib._path", "ImportError"),
}


@pytest.mark.parametrize("blocked, error", BROKEN.values(), ids=list(BROKEN))
def test_a_matplotlib_that_is_installed_but_cannot_load_still_raises(blocked, error):
    """Only a missing matplotlib is forgiven; a broken one must show its real error."""
    prelude = textwrap.dedent(f"""
        import sys

        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name == {blocked!r}:
                    raise {error}(f"test: {{name}} refused", name=name)
                return None

        sys.meta_path.insert(0, Refuse())
    """)
    done = run("import evtsim.plot\n", prelude=prelude)
    assert done.returncode != 0, "evtsim.plot hid a broken matplotlib"
    assert f"{error}: test: {blocked} refused" in done.stderr
