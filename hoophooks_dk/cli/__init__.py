"""The ``hookdk`` command line: one module per command, thin faces over ``wiring``.

``main`` holds the group, the commands that fire hooks and the entry point; ``report``
prints results; ``init``, ``check``, ``fuzz``, ``render`` and ``watch`` are loaded when
their command runs.
"""

from .main import cli, main

__all__ = ["cli", "main"]
