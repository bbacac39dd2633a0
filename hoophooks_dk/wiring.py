"""The one wiring: settings in, a ready run out (runner, capture, emulator).

Every face fires hooks through here: the ``hookdk`` commands (``fire``, ``session``,
``watch``, ``fuzz``), ``check``'s dynamic rules, ``hookdk demo``, the pytest plugin and the
benchmarks. Before there was one place, each face assembled the run itself and they
drifted apart (the plugin ignored the settings file and always ran ``python3``), so the
same repository ran differently under ``hookdk fire`` and under ``pytest``.

The settings a run uses are ``settings.RunSettings``: the command line (or the ``hoop``
marker) over the repository's settings file over the defaults, read by
``settings.resolve``. From them:

* ``open_capture``: the local capture, answering with the settings' default status and
  ``respond`` routes (a test's own respx routes come first), with the syslog receiver;
* ``make_runner``: how hook scripts run (one ``python3`` per event, the warm fork server,
  or the Linux sandbox that reaches only the capture), with the settings' interpreter;
* ``make_emulator``: the emulator over a runner and a capture, with the settings'
  timeout, environment and environment mode;
* ``run``: all three for one command, closed again when it ends.

Nothing here prints; every problem is a ``HookdkError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .runtime.runner import DEFAULT_PYTHON
from .settings import RunSettings, resolve

if TYPE_CHECKING:
    from .capture import Capture
    from .emulator import Emulator
    from .runtime import Runner

__all__ = [
    "RUNNERS",
    "RunSettings",
    "make_emulator",
    "make_runner",
    "open_capture",
    "resolve",
    "run",
]

#: How hooks run: ``subprocess`` (one interpreter per event, as the agent), ``fast`` (a
#: warm fork server), ``auto`` (fast where it can be, else subprocess).
RUNNERS = ("auto", "fast", "subprocess")


def open_capture(settings: RunSettings, *, syslog: bool = True) -> Capture:
    """The capture these settings describe, not started (use it as a context manager):
    unmatched requests get ``default_status``; the ``respond`` routes answer before it,
    after any route a test programs on ``router``; both survive ``reset()``."""
    from .capture import Capture

    return Capture(default_status=settings.default_status, routes=settings.routes, syslog=syslog)


def make_runner(
    kind: str,
    python: str = DEFAULT_PYTHON,
    *,
    capture: Capture | None = None,
    sandbox: bool = False,
) -> Runner:
    """A runner for ``python``: ``kind`` is one of ``RUNNERS``; ``sandbox`` (Linux) runs
    each hook in a network namespace that reaches only ``capture``, one interpreter per
    event, whatever ``kind`` says."""
    from .errors import HookdkError

    if kind not in RUNNERS:
        raise HookdkError(f"unknown runner {kind!r}: expected one of {', '.join(RUNNERS)}")
    if sandbox:
        if capture is None:
            raise HookdkError("the sandbox needs the capture: it is the only way out")
        from .runtime.sandbox import sandboxed_runner

        return sandboxed_runner(python, capture)
    if kind == "subprocess":  # the common case skips importing the fork server
        from .runtime.runner import SubprocessRunner

        return SubprocessRunner(python)
    from .runtime.forkserver import ForkServerRunner, fork_supported

    if kind == "auto":
        return ForkServerRunner(python) if fork_supported() else make_runner("subprocess", python)
    if not fork_supported():
        raise HookdkError(
            "the fast runner needs POSIX fork and unix sockets; use the subprocess runner"
        )
    return ForkServerRunner(python)


def make_emulator(
    root: Path,
    settings: RunSettings,
    runner: Runner,
    capture: Capture | None,
    *,
    ref: str | None = None,
    kill_after: float | None = None,
    env: Mapping[str, str] | None = None,
) -> Emulator:
    """The emulator for the repository at ``root``: the settings' timeout, environment
    (``settings.env`` on top of ``env``, the caller's environment by default) and mode;
    ``kill_after`` ends a hook that runs on past the timeout (default 60 s)."""
    from .emulator import Emulator

    return Emulator(
        root,
        ref=ref,
        timeout=settings.timeout,
        runner=runner,
        capture=capture,
        env=env,
        extra_env=settings.env,
        kill_after=kill_after,
        env_mode=settings.env_mode or "inherit",
    )


@contextmanager
def run(
    root: Path,
    settings: RunSettings,
    *,
    ref: str | None = None,
    runner: str = "subprocess",
    live: bool = False,
    sandbox: bool = False,
    syslog: bool = True,
    kill_after: float | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Emulator]:
    """An emulator ready to fire, its runner and capture running until the block ends.

    Nothing leaves the machine unless ``live``: the capture answers every request.
    """
    if live:
        hooks = make_runner(runner, settings.python)
        try:
            yield make_emulator(
                root, settings, hooks, None, ref=ref, kill_after=kill_after, env=env
            )
        finally:
            hooks.close()
        return
    with open_capture(settings, syslog=syslog) as capture:
        hooks = make_runner(runner, settings.python, capture=capture, sandbox=sandbox)
        try:
            yield make_emulator(
                root, settings, hooks, capture, ref=ref, kill_after=kill_after, env=env
            )
        finally:
            hooks.close()
