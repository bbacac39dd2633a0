"""The ``hookdk`` command line: one module per command, thin faces over ``wiring``.

``app`` holds the group and the entry point, ``options`` the run options; ``report``
prints results; ``init``, ``check``, ``fuzz``, ``render`` and ``watch`` are loaded when
their command runs.
"""

from .app import cli, main

__all__ = ["cli", "main"]
