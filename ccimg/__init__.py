"""ccimg: the command-line face of the project (select, probe, train, eval, score, convert, demo)."""

__version__ = "0.1.0"  # the one place the version is written: setup.py reads it from here
