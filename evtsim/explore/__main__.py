"""Run the schedule explorer's command line: `python -m evtsim.explore SCENARIO ...`.

The same as `evtsim explore SCENARIO ...` (see `evtsim.explore.cli.main`); the exit
status is 1 when a schedule fails, 2 for a usage error.
"""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
