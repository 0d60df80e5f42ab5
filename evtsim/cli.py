"""The command line: `evtsim` (or `python -m evtsim`).

    evtsim list                                   the scenarios
    evtsim run NAME [--policy P] [--seed N] [--param k=v ...]
                    [--text] [--png F] [--svg F] [--trace F] [--perfetto F]
    evtsim replay FILE [--text] [--png F] [--svg F] [--perfetto F]
    evtsim lab [JupyterLab arguments]             JupyterLab on the notebooks
    evtsim explore NAME [--strategy S] [--param k=v ...]   every schedule (evtsim.explore)
    evtsim --version                              the kit's version

`run` prints the text timeline unless it writes a file (add --text to get both).
Mistakes (an unknown scenario or parameter, a bad or hostile trace file, a replay that
differs from its file) print one line starting with "evtsim: error:" and exit with
status 2, never a traceback: every EvtsimError ends there.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .errors import EvtsimError
from .tracecheck import MAX_RUN_STEPS
from .version import __version__

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise _Usage(message)


class _Usage(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="evtsim", description="Windows kernel event objects, simulated.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("list", help="list the scenarios")

    def outputs(p, trace=True):
        p.add_argument("--text", action="store_true", help="print the text timeline")
        p.add_argument("--png", metavar="PATH", help="write the timeline as PNG")
        p.add_argument("--svg", metavar="PATH", help="write the timeline as SVG")
        if trace:
            p.add_argument("--trace", metavar="PATH", help="write the trace file (JSON)")
        p.add_argument("--perfetto", metavar="PATH",
                       help="write Chrome/Perfetto trace JSON (open it in ui.perfetto.dev)")
        p.add_argument("--font-scale", type=_font_scale, default=1.0,
                       help="text size in the picture (2 for a projector), 0.25 to 8")
        p.add_argument("--axis", choices=("steps", "time"), default="steps",
                       help="x axis of the picture: one column per step, or virtual time")

    run = sub.add_parser("run", help="run a scenario")
    run.add_argument("name", help="scenario name (see `evtsim list`)")
    run.add_argument("--policy", help="round_robin, run_until_block, random or manual")
    run.add_argument("--seed", type=int, help="seed of the random policy")
    run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a scenario parameter, e.g. --param waiters=5 (repeatable)")
    run.add_argument("--max-steps", type=_max_steps, default=MAX_RUN_STEPS,
                     help=f"step budget, at most {MAX_RUN_STEPS:,} (a trace file's limit)")
    outputs(run)
    replay = sub.add_parser("replay", help="replay a trace file and check it matches")
    replay.add_argument("file", help="a trace file written by `evtsim run --trace`")
    outputs(replay, trace=False)
    lab = sub.add_parser("lab", help="start JupyterLab on the lesson notebooks")
    lab.add_argument("args", nargs=argparse.REMAINDER, help="passed to JupyterLab")
    sub.add_parser("explore", add_help=False,
                   help="run a scenario under many schedules (evtsim explore -h)")
    return parser


def _font_scale(text: str) -> float:
    """--font-scale: a number from 0.25 to 8 (a larger one makes no picture)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.25 <= value <= 8:
        raise argparse.ArgumentTypeError(f"must be from 0.25 to 8, not {text!r}")
    return value


def _max_steps(text: str) -> int:
    """--max-steps: a whole number up to the limit a trace file's `run` action has."""
    if not text.isdigit() or len(text) > 12 or int(text) > MAX_RUN_STEPS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 0 to {MAX_RUN_STEPS:,}, not {text[:40]!r} (a "
            f"trace file's limit, see docs/engine.md)")
    return int(text)


def _value(text: str, key: str = "value"):
    """A --param value: JSON if it reads as JSON (3, true, "x"), else the string. Its
    nesting and its numbers are bounded as a trace file's are."""
    from .tracefile import parse_json
    try:
        return parse_json(text, f"--param {key}")
    except ValueError as error:
        if isinstance(error, EvtsimError):
            raise
        return {"True": True, "False": False, "None": None}.get(text, text)


def _params(pairs) -> dict:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _Usage(f"--param takes KEY=VALUE, e.g. --param waiters=5 (got {pair!r})")
        params[key.strip()] = _value(value.strip(), key.strip())
    return params


def _write_outputs(args, source, out) -> bool:
    """Write the files asked for; True if any was written."""
    from . import trace
    wrote = False
    if getattr(args, "trace", None):
        trace.save(source, args.trace)
        print(f"wrote trace file {args.trace}", file=out)
        wrote = True
    if args.perfetto:
        with open(args.perfetto, "w", encoding="utf-8") as f:
            json.dump(trace.to_perfetto(source), f)
        print(f"wrote Perfetto trace {args.perfetto} (open it at https://ui.perfetto.dev)",
              file=out)
        wrote = True
    for path in (args.png, args.svg):
        if path:
            from . import plot
            fig = plot.timeline(source, font_scale=args.font_scale, axis=args.axis)
            fig.savefig(path, format="png" if path is args.png else "svg", dpi=110)
            print(f"wrote timeline {path}", file=out)
            wrote = True
    return wrote


def _cmd_list(args, out) -> int:
    from . import scenarios
    for name in scenarios.names():
        s = scenarios.get(name)
        params = ", ".join(f"{k}={v!r}" for k, v in s.defaults.items()
                           if k not in ("policy", "seed"))
        print(f"{name:<28} {s.title}", file=out)
        if params:
            print(f"{'':<28}   parameters: {params}", file=out)
    return 0


def _cmd_run(args, out) -> int:
    from . import scenarios
    from .timeline import text
    params = _params(args.param)
    if args.policy is not None:
        params["policy"] = args.policy
    if args.seed is not None:
        params["seed"] = args.seed
    machine = scenarios.build(args.name, **params)
    result = machine.run(max_steps=args.max_steps)
    wrote = _write_outputs(args, machine, out)
    if args.text or not wrote:
        print(text(machine), file=out)
    print(f"{args.name}: {result.reason}. {result.message.splitlines()[0]}", file=out)
    return 0


def _cmd_replay(args, out) -> int:
    from . import trace
    from .timeline import text
    saved = trace.load(args.file)
    machine = trace.replay(saved)
    wrote = _write_outputs(args, machine, out)
    if args.text or not wrote:
        print(text(machine), file=out)
    print(f"replayed {args.file}: {len(machine.trace)} steps, identical to the file "
          f"(scenario {saved.scenario}, policy {saved.policy}, seed {saved.seed})", file=out)
    return 0


FIRST_LESSON = "00-start-here.ipynb"


def notebooks_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "notebooks"


def lab_command(extra) -> list[str]:
    """The JupyterLab command that `python run.py lab` runs, for this interpreter: on
    lesson 00, with no news and no update check. The checkout's jupyter-env/ settings
    (which run.py copies into its venv) stop the news question in the browser."""
    notebooks = notebooks_dir()
    settings = notebooks.parent / "jupyter-env" / "share" / "jupyter" / "lab" / "settings"
    as_root = ["--allow-root"] if getattr(os, "geteuid", lambda: 1)() == 0 else []
    in_checkout = [f"--LabApp.app_settings_dir={settings}"] if settings.is_dir() else []
    return [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={notebooks}",
            f"--LabApp.default_url=/lab/tree/{FIRST_LESSON}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *in_checkout, *as_root, *extra]


def _call(command) -> int:
    return subprocess.call(command)


def _cmd_lab(args, out) -> int:
    if not notebooks_dir().is_dir():
        raise _Usage(f"no notebooks folder at {notebooks_dir()}: `evtsim lab` works in a "
                     f"checkout of the evtsim repository (pip install -e .)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise _Usage("JupyterLab is not installed here: pip install 'evtsim[lab]', or "
                     "run `python run.py lab` in the repository") from None
    print(f"starting JupyterLab on {notebooks_dir()} (Ctrl-C twice to stop)", file=out)
    return _call(lab_command(args.args))


def main(argv=None, out=None) -> int:
    """Run the command line; returns the exit status (0, or 2 for a mistake)."""
    out = out or sys.stdout
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["lab"]:          # everything after `lab` goes to JupyterLab
            return _cmd_lab(argparse.Namespace(args=argv[1:]), out)
        if argv[:1] == ["explore"]:      # the explorer parses its own options
            from .explore import main as explore
            return explore(argv[1:], out)
        args = parser.parse_args(argv)
        if args.version:
            print(f"evtsim {__version__}", file=out)
            return 0
        if args.command is None:
            parser.print_help(out)
            return EXIT_USAGE
        command = {"list": _cmd_list, "run": _cmd_run, "replay": _cmd_replay,
                   "lab": _cmd_lab}[args.command]
        return command(args, out)
    except (_Usage, EvtsimError) as error:
        print(f"evtsim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"evtsim: error: {error.filename or ''}: {error.strerror or error}",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
