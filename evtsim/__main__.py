"""`python -m evtsim`: the command line (see evtsim.cli)."""
import sys

from .cli import main

sys.exit(main())
