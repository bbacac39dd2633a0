"""hoophooks_dk: build and test Hoop runbook hooks before you push them.

The package is a small core (payload, hooks, render, runner, emulator, capture) with two
thin faces over it: the ``hookdk`` command line and a pytest plugin.
"""

__version__ = "0.1.0"
