"""The old name of `lessonkit` (renamed: `notebook` is also the name of Jupyter's own
package). Generators may still write `from notebook import code, lab, md, write`."""
from lessonkit import LAB_CELL, NOTEBOOKS, ROOT, build, code, lab, md, write  # noqa: F401
