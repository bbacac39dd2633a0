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
  or the Linux sandbox that reaches only the capture), with the agent runtime (the
  agent image's Python packages, every socket through the capture: ``runtime.agent``)
  unless the settings name an interpreter (``--python``, ``python`` in the file);
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

from .settings import RunSettings, resolve

if TYPE_CHECKING:
    from .capture import Capture
    from .emulator import Emulator
    from .runtime import Runner
    from .runtime.agent import Progress, Runtime

__all__ = [
    "RUNNERS",
    "RunSettings",
    "make_emulator",
    "make_runner",
    "open_capture",
    "resolve",
    "run",
    "runtime_for",
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


def runtime_for(python: str | None, progress: Progress | None = None) -> Runtime:
    """What hooks run with: the interpreter ``python`` names, as given, or (None) the agent
    runtime, built first if this machine has none (``progress`` hears how that goes)."""
    from .runtime import agent

    return agent.chosen(python) if python else agent.ensure(progress)


def make_runner(
    kind: str,
    python: str | None = None,
    *,
    capture: Capture | None = None,
    sandbox: bool = False,
    progress: Progress | None = None,
) -> Runner:
    """A runner for ``python`` (None: the agent runtime, see ``runtime_for``): ``kind`` is
    one of ``RUNNERS``; ``sandbox`` (Linux) runs each hook in a network namespace that
    reaches only ``capture``, one interpreter per event, whatever ``kind`` says. The
    runner carries ``runtime`` (what its hooks run with) and ``sandboxed``, which the
    emulator applies and reports."""
    from .errors import HookdkError

    if kind not in RUNNERS:
        raise HookdkError(f"unknown runner {kind!r}: expected one of {', '.join(RUNNERS)}")
    if sandbox and capture is None:
        raise HookdkError("the sandbox needs the capture: it is the only way out")
    runtime = runtime_for(python, progress)
    runner = _runner(kind, runtime.python, capture, sandbox)
    runner.runtime = runtime  # type: ignore[attr-defined]
    runner.sandboxed = sandbox  # type: ignore[attr-defined]
    return runner


def _runner(kind: str, python: str, capture: Capture | None, sandbox: bool) -> Runner:
    from .errors import HookdkError

    if sandbox:
        from .runtime.sandbox import sandboxed_runner

        assert capture is not None
        return sandboxed_runner(python, capture)
    if kind == "subprocess":  # the common case skips importing the fork server
        from .runtime.runner import SubprocessRunner

        return SubprocessRunner(python)
    from .runtime.forkserver import ForkServerRunner, fork_supported

    if kind == "auto":
        return (
            ForkServerRunner(python)
            if fork_supported()
            else _runner("subprocess", python, None, False)
        )
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
    progress: Progress | None = None,
) -> Iterator[Emulator]:
    """An emulator ready to fire, its runner and capture running until the block ends.

    Nothing leaves the machine unless ``live``: the capture answers every request, and
    in the agent runtime every connection goes to it, whatever the client.
    """
    if live:
        hooks = make_runner(runner, settings.python, progress=progress)
        try:
            yield make_emulator(
                root, settings, hooks, None, ref=ref, kill_after=kill_after, env=env
            )
        finally:
            hooks.close()
        return
    with open_capture(settings, syslog=syslog) as capture:
        hooks = make_runner(
            runner, settings.python, capture=capture, sandbox=sandbox, progress=progress
        )
        try:
            yield make_emulator(
                root, settings, hooks, capture, ref=ref, kill_after=kill_after, env=env
            )
        finally:
            hooks.close()
