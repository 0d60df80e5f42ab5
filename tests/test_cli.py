"""The command line: `evtsim` / `python -m evtsim`."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from evtsim import cli, scenarios, trace

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*argv):
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def test_list_names_every_scenario():
    code, out = run_cli("list")
    assert code == 0
    for name in scenarios.names():
        assert name in out


@pytest.mark.parametrize("name", scenarios.names())
def test_every_scenario_runs_and_prints_its_timeline(name):
    code, out = run_cli("run", name, "--text")
    assert code == 0
    assert "what happened" in out and f"{name}: " in out


def test_run_writes_the_picture_trace_and_perfetto_files(tmp_path):
    files = {k: tmp_path / f"out.{k}" for k in ("png", "svg")}
    files["trace"] = tmp_path / "run.json"
    files["perfetto"] = tmp_path / "perfetto.json"
    code, out = run_cli("run", "notification_broadcast", "--policy", "random", "--seed", "3",
                        "--param", "waiters=2", "--png", str(files["png"]), "--svg",
                        str(files["svg"]), "--trace", str(files["trace"]), "--perfetto",
                        str(files["perfetto"]))
    assert code == 0 and "what happened" not in out
    assert files["png"].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in files["svg"].read_bytes()[:400]
    saved = trace.load(files["trace"])
    assert saved.params == {"policy": "random", "seed": 3, "waiters": 2, "clear": True}
    assert json.loads(files["perfetto"].read_text())["traceEvents"]


def test_replay_checks_the_file_and_prints_it(tmp_path):
    path = tmp_path / "run.json"
    assert run_cli("run", "hardware_lock", "--trace", str(path))[0] == 0
    code, out = run_cli("replay", str(path), "--text")
    assert code == 0 and "identical to the file" in out and "KeSetEvent" in out


def test_unknown_scenario_is_one_line_and_exit_2(capsys):
    code, _ = run_cli("run", "no_such_scenario")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("evtsim: error: there is no scenario 'no_such_scenario'")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,message", [
    (["run", "hardware_lock", "--param", "bogus=1"], "has no parameter 'bogus'"),
    (["run", "hardware_lock", "--param", "oops"], "--param takes KEY=VALUE"),
    (["run", "hardware_lock", "--policy", "fastest"], "policy='fastest' is not allowed: policy must be one of 'round_robin'"),
    (["replay", "/no/such/file.json"], "no such file"),
])
def test_mistakes_exit_2_with_a_clear_message(capsys, argv, message):
    code, _ = run_cli(*argv)
    assert code == 2 and message in capsys.readouterr().err


def test_truncated_trace_file_exit_2(tmp_path, capsys):
    path = tmp_path / "run.json"
    run_cli("run", "hardware_lock", "--trace", str(path))
    path.write_text(path.read_text()[:300])
    assert run_cli("replay", str(path))[0] == 2
    assert "was the file truncated?" in capsys.readouterr().err


def test_hand_edited_trace_file_names_the_field(tmp_path, capsys):
    path = tmp_path / "run.json"
    run_cli("run", "hardware_lock", "--trace", str(path))
    data = json.loads(path.read_text())
    data["records"][2]["time"] = "soon"
    path.write_text(json.dumps(data))
    assert run_cli("replay", str(path))[0] == 2
    assert "records[2].time must be a whole number, found 'soon'" in capsys.readouterr().err


def test_no_command_prints_help_and_exit_2():
    code, out = run_cli()
    assert code == 2 and "COMMAND" in out


def test_lab_starts_jupyterlab_on_the_notebooks(monkeypatch):
    import jupyterlab  # noqa: F401  (the test extra installs it: no skip)
    calls = []
    monkeypatch.setattr(cli, "_call", lambda command: calls.append(command) or 0)
    code, out = run_cli("lab", "--port", "8899")
    assert code == 0
    (command,) = calls
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in command
    assert "--ServerApp.ip=127.0.0.1" in command and command[-2:] == ["--port", "8899"]


def test_lab_opens_lesson_00_with_no_news_question_as_run_py_does():
    """`evtsim lab` is run.py's lab: lesson 00 first, no news feed, no update check, and
    the checkout's settings folder, whose overrides answer the news question."""
    import json
    sys.path.insert(0, str(ROOT))
    import run
    command = cli.lab_command([])
    assert "--LabApp.default_url=/lab/tree/00-start-here.ipynb" in command
    assert (ROOT / "notebooks" / "00-start-here.ipynb").is_file()
    for flag in ("--LabApp.news_url=None",
                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"):
        assert flag in command and flag in run.lab_command("python", [])
    (settings,) = [c.split("=", 1)[1] for c in command if c.startswith("--LabApp.app_settings_dir=")]
    overrides = json.loads((Path(settings) / "overrides.json").read_text(encoding="utf-8"))
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_python_dash_m_evtsim_works():
    out = subprocess.run([sys.executable, "-m", "evtsim", "list"], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0 and "notification_broadcast" in out.stdout


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["evtsim"] == "evtsim.cli:main"


def test_version_prints_the_kits_version_and_exits_0():
    """`evtsim --version` reads evtsim/version.py, the one place the version lives,
    which is the version pyproject.toml gives the package."""
    from evtsim.version import __version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    code, out = run_cli("--version")
    assert code == 0 and out == f"evtsim {__version__}\n"


@pytest.mark.parametrize("command", [["evtsim"], [sys.executable, "-m", "evtsim"]],
                         ids=["console-script", "python-m"])
def test_version_works_from_the_console_script_and_python_dash_m(command):
    from evtsim.version import __version__
    if command == ["evtsim"]:            # the script pip installed next to this Python
        command = [str(Path(sys.executable).parent / "evtsim")]
    out = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60, stdin=subprocess.DEVNULL)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"evtsim {__version__}\n", "")
