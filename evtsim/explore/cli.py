"""The explorer's command line: `evtsim explore SCENARIO [options]`.

Parses the options (strategy, scenario parameters as K=V with Python literals, a
`--check` expression in `m`, the search bounds, `--symmetry`, `--workers`), runs
`explore()` (or `parallel.explore_parallel` for several workers) and prints the report:
the verdict, the coverage and one replay line per failure. Exit status 0 when nothing
failed, 1 when something did, 2 for a usage error. `evtsim.cli` hands `evtsim explore
...` to `main` here, and `python -m evtsim.explore` runs it directly.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence
from functools import partial
from typing import TextIO

from .. import scenarios
from ..errors import EvtsimError
from .search import STRATEGIES, explore


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """`evtsim explore SCENARIO [--strategy dpor] [--param k=v ...]`: exit 1 on failure."""
    parser = argparse.ArgumentParser(
        prog="evtsim explore",
        description="Run a scenario under many schedules; print failures as replay lines.")
    parser.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    parser.add_argument("--strategy", default="dpor", choices=STRATEGIES)
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="a scenario parameter, e.g. --param fixed=True (repeatable)")
    parser.add_argument("--check", metavar="EXPR", default=None,
                        help="a Python expression in m that must be true at every end, "
                             "e.g. \"m.threads[0].result == 0\"")
    parser.add_argument("--max-schedules", type=int, default=None)
    parser.add_argument("--max-steps", type=int, default=10_000)
    parser.add_argument("--preemptions", type=int, default=2, help="for --strategy bounded")
    parser.add_argument("--depth", type=int, default=3, help="for --strategy pct")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--symmetry", action="store_true",
                        help="for --strategy dpor: threads that run the same code with the "
                             "same arguments are interchangeable (far fewer schedules)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="spread the search over N processes (the same report; "
                             "not in a browser)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--list", action="store_true", help="list the scenarios")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if args.list or not args.scenario:
        print(scenarios.describe(), file=out)
        return 0 if args.list else 2
    params = {}
    for item in args.param:
        key, sep, text = item.partition("=")
        if not sep:
            parser.error(f"--param takes K=V, not {item!r}")
        try:
            params[key.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key.strip()] = text
    check = None
    if args.check:
        expression = compile(args.check, "--check", "eval")

        def check_expression(m):
            return bool(eval(expression, {"m": m}))   # noqa: S307 (the user's own line)
        check = check_expression
    try:
        build = (args.scenario if not params
                 else partial(scenarios.get(args.scenario).build, **params))
        options = dict(preemptions=args.preemptions, depth=args.depth,
                       max_steps=args.max_steps, progress=False if args.quiet else None,
                       symmetry=args.symmetry)
        if args.workers > 1:
            from evtsim_parallel import explore_parallel  # processes: outside the core
            report = explore_parallel(build, args.strategy, check, args.max_schedules,
                                      args.seed, workers=args.workers, **options)
        else:
            report = explore(build, args.strategy, check, args.max_schedules, args.seed,
                             **options)
    except EvtsimError as error:
        print(f"evtsim: error: {error}", file=sys.stderr)
        return 2
    print(report.describe(), file=out)
    return 1 if report.failures else 0
