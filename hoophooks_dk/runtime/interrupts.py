"""SIGTERM (and SIGHUP) unwind like Ctrl-C, so interrupting the kit leaves nothing behind.

Python's default for SIGTERM is to die on the spot: no ``finally``, no ``with`` exit, no
``atexit``. The kit's clean-up lives in exactly those places (the capture's CA folder,
runner scratch folders, the hook's process group, which runs in a session of its own and
so never sees the terminal's signals). Turning SIGTERM into ``KeyboardInterrupt`` makes
one path for every way a run is stopped. SIGKILL cannot be caught: then each hook's
keeper sees its socket to the kit close and ends the hook's processes (``keeper``), and
the next run removes the temporary folders the killed one left (``tempdirs``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["received", "sigterm_interrupts"]

_CAUGHT = (signal.SIGTERM, signal.SIGHUP)
#: The signal that stopped the run, once one did (for the exit status: 128 + number).
received: int | None = None


def _interrupt(number: int, frame: FrameType | None) -> None:
    global received
    received = number
    raise KeyboardInterrupt(signal.Signals(number).name)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread.

    Handlers someone else installed are left alone, and the previous handlers come back
    on exit. Outside the main thread (where handlers cannot be set) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in _CAUGHT}
    for number, handler in previous.items():
        if handler in (signal.SIG_DFL, None):
            signal.signal(number, _interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler in (signal.SIG_DFL, None):
                signal.signal(number, signal.SIG_DFL)
