"""The kit's version, in one place (base layer: the package, the trace files and the
command line all read it from here)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
