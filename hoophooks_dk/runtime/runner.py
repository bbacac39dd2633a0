"""Running one rendered hook script the way Hoop's agent runs it.

agent/controller/system/runbookhook/runbookhook.go: ``python3`` with the script on
standard input, the payload in the environment, stdout and stderr copied into one buffer,
the buffer cut to 4096 bytes. The gateway gives up after 15 seconds and records exit code
-2 (docs/hoop-runtime.md section 3). ``SubprocessRunner`` is that, one interpreter per event;
the fast runner in ``forkserver`` keeps the same observables at a fraction of the cost.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ..errors import HookdkError, SettingsError
from .keeper import Keeper, KeeperServer, Survivor, let_linger
from .tempdirs import scratch_folder

MAX_OUTPUT_BYTES = 4096
TIMEOUT_EXIT_CODE = -2
#: The agent's interpreter: Hoop runs ``python3`` with the script on stdin.
DEFAULT_PYTHON = "python3"
#: Seconds the gateway waits for a hook before it records -2.
DEFAULT_TIMEOUT = 15.0
DEFAULT_KILL_AFTER = 60.0  # the kit's hard limit: on the agent nothing ends a slow hook
DRAIN_TIMEOUT = 2.0  # output still arriving after a kill
REAP_TIMEOUT = 5.0  # a killed hook's status arrives at once unless the machine stalls
AGENT_NAME = "hookdk"  # the gateway names the agent in its timeout text; the kit has none


@dataclass(frozen=True)
class RunResult:
    """One hook run: what the gateway records (``exit_code``, ``output``, ``timed_out``),
    and what the hook really did (``hook_exit_code``, ``raw_output``), which differ when
    the gateway stopped waiting (docs/hoop-runtime.md section 3)."""

    exit_code: int  # as the gateway records it: -2 once it stopped waiting
    output: str  # as the gateway records it: cut, decoded as Go's JSON encoder does
    raw_output: bytes  # every byte the hook wrote, uncut, until it ended
    timed_out: bool  # the gateway stopped waiting before the hook answered
    duration: float  # seconds, precise: the hook's whole run
    hook_exit_code: int | None = None  # the hook's own exit code (None: same as exit_code)
    started_at: float = 0.0  # time.time() when the hook started
    warnings: tuple[str, ...] = ()
    #: What the hook started that still ran when it ended: on the agent it would keep
    #: running; the kit ends it when the fire, session or test ends (``keeper``).
    left_running: tuple[Survivor, ...] = ()

    @property
    def execution_time_sec(self) -> int:
        """Whole seconds, truncated, as ``int(time.Since(start).Seconds())`` in Go; 0 when
        the gateway timed out (its error response carries no time)."""
        return 0 if self.timed_out else int(self.duration)

    @property
    def shows_traceback(self) -> bool:
        """The hook's output holds a Python traceback (it may have exited 0 all the same)."""
        return b"Traceback (most recent call last):" in self.raw_output

    @property
    def hook_output(self) -> str:
        """The hook's own output, cut as the agent cuts it (the agent logs it)."""
        return hoop_output(self.raw_output)


class Runner(Protocol):
    def run(
        self, script: bytes, env: Mapping[str, str], timeout: float, kill_after: float | None
    ) -> RunResult: ...

    def close(self) -> None: ...


def _go_replace(error: UnicodeDecodeError) -> tuple[str, int]:
    """One U+FFFD per invalid byte, as Go's encoding/json writes invalid UTF-8."""
    return "\ufffd", error.start + 1


codecs.register_error("hoophooks_dk.go", _go_replace)


def hoop_output(raw: bytes) -> str:
    """The output field Hoop reports: first 4096 bytes, then ` [truncated N byte(s)]`."""
    if len(raw) <= MAX_OUTPUT_BYTES:
        return raw.decode("utf-8", "hoophooks_dk.go")
    kept = raw[:MAX_OUTPUT_BYTES].decode("utf-8", "hoophooks_dk.go")
    return f"{kept} [truncated {len(raw) - MAX_OUTPUT_BYTES} byte(s)]"


def exit_code_of(returncode: int) -> int:
    """A process killed by a signal reports -1, as Go's ProcessState.ExitCode does."""
    return returncode if returncode >= 0 else -1


def kill_limit(timeout: float, kill_after: float | None) -> float:
    """The hard limit: ``kill_after``, or by default 60 s (``timeout`` when larger)."""
    if kill_after is None:
        return max(timeout, DEFAULT_KILL_AFTER)
    if kill_after < timeout:
        raise SettingsError(
            f"kill_after {kill_after:g} s (--kill-after) is below the timeout {timeout:g} s "
            "(--timeout): the hard limit must leave the hook at least the time the gateway waits"
        )
    return kill_after


def go_duration(seconds: float) -> str:
    """A duration as Go's ``time.Duration.String`` writes it: ``15s``, ``500ms``, ``1m30s``."""
    ns = round(seconds * 1e9)
    if ns < 1000:
        return f"{ns}ns" if ns else "0s"
    if ns < 1_000_000:
        return _decimal(ns, 1000) + "µs"
    if ns < 1_000_000_000:
        return _decimal(ns, 1_000_000) + "ms"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if hours or minutes else ""
    return text + _decimal(rest, 1_000_000_000) + "s"


def _decimal(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def gateway_timeout_text(timeout: float) -> str:
    """What the gateway logs when it stops waiting (gateway/transport/system/runbookhook.go).
    The agent's name and version are placeholders: ``hookdk`` and the kit's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        kit = version("hoophooks_dk")
    except PackageNotFoundError:
        kit = "unknown"
    return (
        f"timeout ({go_duration(timeout)}) waiting for a response from agent, "
        f"name={AGENT_NAME}, version={kit}"
    )


class HookProcess(Protocol):
    """One running hook as ``follow`` drives it; each runner provides its own."""

    def wait_exit(self, deadline: float) -> int | None:
        """The hook's exit code once it has exited, None if it still runs at ``deadline``
        (``time.perf_counter`` seconds). Keeps reading its output meanwhile."""

    def wait_closed(self, deadline: float) -> bool:
        """Whether the output reached end of file by ``deadline``."""

    def kill(self) -> int:
        """End the hook and everything it started; return its exit code (-1 when killed)."""

    def drain(self) -> bytes:
        """Everything the hook wrote, reading what is left for at most a few seconds."""

    def survivors(self) -> list[Survivor]:
        """What the hook started that runs now (the hook itself has ended)."""


def follow(hook: HookProcess, started: float, timeout: float, kill_after: float) -> RunResult:
    """Hoop's rule: the gateway waits ``timeout`` seconds, then records -2 and stops
    waiting, but nothing ends the hook; the kit ends it at ``kill_after``.

    The agent answers when the process has exited *and* its output is closed (Go's process
    runner waits for both). When the hook exited but a process it started still holds the
    output open, the answer never comes: the kit says so and ends that process. What the
    hook started and left running when it exited is listed (``left_running``).
    """
    try:
        return _follow(hook, started, timeout, kill_after)
    except BaseException:
        # Interrupted (Ctrl-C, or SIGTERM made KeyboardInterrupt by the CLI): the hook runs
        # in a session of its own, so nothing else would stop its group. One place, for
        # every runner.
        hook.kill()
        raise


def _follow(hook: HookProcess, started: float, timeout: float, kill_after: float) -> RunResult:
    started_at = time.time() - (time.perf_counter() - started)
    warnings: list[str] = []
    left: list[Survivor] = []
    code = hook.wait_exit(started + timeout)
    if code is not None:
        left = hook.survivors()
        if hook.wait_closed(started + timeout):
            output = hook.drain()
            warnings += left_running_warnings(left)
            return _result(code, output, False, started, started_at, timeout, warnings, left)
    if code is None:  # still running: the gateway gives up, the hook runs on
        code = hook.wait_exit(started + kill_after)
        if code is None:
            code = hook.kill()
            warnings.append(
                f"the hook was still running after {kill_after:g} s (--kill-after): the kit "
                "ended it and everything it started; on the agent nothing ends a slow hook"
            )
        else:
            left = hook.survivors()
            if not hook.wait_closed(started + kill_after):
                hook.kill()
                warnings.append(HELD_OPEN)
    else:
        hook.kill()
        warnings.append(HELD_OPEN)
    output = hook.drain()
    warnings += left_running_warnings(left)
    return _result(code, output, True, started, started_at, timeout, warnings, left)


def left_running_warnings(left: list[Survivor]) -> list[str]:
    """One line naming what the hook left running, which the agent would not end."""
    if not left:
        return []
    named = "; ".join(str(survivor) for survivor in left)
    return [
        f"the hook exited and left {len(left)} process(es) running; on the agent it would "
        f"keep running: {named} (the kit ends it when the fire, session or test ends)"
    ]


HELD_OPEN = (
    "the hook exited, but a process it started kept its output open, so the agent never "
    "answered (Go waits for the output to close): the kit ended that process; do not leave "
    "background processes holding stdout or stderr"
)


def _result(
    code: int,
    output: bytes,
    timed_out: bool,
    started: float,
    started_at: float,
    timeout: float,
    warnings: list[str],
    left: list[Survivor],
) -> RunResult:
    duration = time.perf_counter() - started
    exit_code, recorded = code, None
    if timed_out:
        exit_code, recorded = TIMEOUT_EXIT_CODE, gateway_timeout_text(timeout)
    return RunResult(
        exit_code,
        hoop_output(output) if recorded is None else recorded,
        output,
        timed_out,
        duration,
        hook_exit_code=code,
        started_at=started_at,
        warnings=tuple(warnings),
        left_running=tuple(left),
    )


class SubprocessRunner:
    """One fresh ``python3`` per event: exactly the agent's process model, below a keeper
    (``keeper``) that knows every process the hook starts."""

    def __init__(self, python: str = DEFAULT_PYTHON) -> None:
        self.python = python
        # started now: its start-up overlaps the kit's own work before the first event
        self._keepers: KeeperServer | None = KeeperServer()

    def run(
        self,
        script: bytes,
        env: Mapping[str, str],
        timeout: float,
        kill_after: float | None = None,
    ) -> RunResult:
        limit = kill_limit(timeout, kill_after)
        if self._keepers is None:
            self._keepers = KeeperServer()
        with scratch_folder("run") as scratch:
            started = time.perf_counter()
            stdin_read, stdin_write = os.pipe()
            output_read, output_write = os.pipe()
            try:
                keeper = self._keepers.keeper([self.python], scratch, env, stdin_read, output_write)
            except BaseException:
                os.close(stdin_write)
                os.close(output_read)
                raise
            finally:
                os.close(stdin_read)
                os.close(output_write)
            hook = _Subprocess(keeper, stdin_write, output_read, script)
            try:
                with running(keeper):
                    return follow(hook, started, timeout, limit)
            finally:
                hook.close()
                let_linger(keeper)

    def close(self) -> None:
        if self._keepers is not None:
            self._keepers.close()
            self._keepers = None


class _Subprocess:
    """A hook started by ``SubprocessRunner``: threads feed its stdin and read its output,
    as ``Popen.communicate`` does, so that exit and end of output can be told apart; its
    keeper says when it exited and ends what it started. The script goes into the pipe at
    once when the pipe holds it all (64 KiB on Linux: every hook the templates make); only
    a larger one has a thread write the rest."""

    def __init__(self, keeper: Keeper, stdin: int, output: int, script: bytes) -> None:
        self.keeper = keeper
        self._stdin = os.fdopen(stdin, "wb")
        self._output = os.fdopen(output, "rb")
        self._chunks: list[bytes] = []
        self._closed = threading.Event()
        rest = self._feed_now(script)
        if rest:
            threading.Thread(target=self._feed, args=(rest,), daemon=True).start()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _feed_now(self, script: bytes) -> bytes:
        """Write what the pipe takes without waiting; the rest (closes stdin when none)."""
        stdin = self._stdin
        os.set_blocking(stdin.fileno(), False)
        try:
            written = os.write(stdin.fileno(), script) if script else 0
        except BlockingIOError:
            written = 0
        except OSError:  # the hook died before reading it
            written = len(script)
        if written < len(script):
            os.set_blocking(stdin.fileno(), True)
            return script[written:]
        with contextlib.suppress(OSError):
            stdin.close()
        return b""

    def _feed(self, script: bytes) -> None:
        with contextlib.suppress(OSError):  # the hook died before reading it all
            self._stdin.write(script)
        with contextlib.suppress(OSError):
            self._stdin.close()

    def _read(self) -> None:
        while chunk := self._output.read1(65536):
            self._chunks.append(chunk)
        self._closed.set()

    def wait_exit(self, deadline: float) -> int | None:
        # A hook's output closes when it exits: wait for that first (an event, woken at
        # once), then for the keeper's word.
        self._closed.wait(max(deadline - time.perf_counter(), 0))
        status = self.keeper.wait_status(deadline)
        return None if status is None else exit_code_of(os.waitstatus_to_exitcode(status))

    def wait_closed(self, deadline: float) -> bool:
        return self._closed.wait(max(deadline - time.perf_counter(), 0))

    def kill(self) -> int:
        self.keeper.kill()
        status = self.keeper.wait_status(time.perf_counter() + REAP_TIMEOUT)
        return -1 if status is None else exit_code_of(os.waitstatus_to_exitcode(status))

    def drain(self) -> bytes:
        """A process that escaped the keeper (none should) and holds the pipe is not
        waited for past ``DRAIN_TIMEOUT``: what arrived so far is kept."""
        self._reader.join(DRAIN_TIMEOUT)
        return b"".join(self._chunks)

    def survivors(self) -> list[Survivor]:
        return self.keeper.survivors()

    def close(self) -> None:
        """The output pipe, once its reader is done (a reader still blocked on it keeps
        it: closing under it could hand its descriptor number to another file)."""
        if not self._reader.is_alive():
            self._output.close()


def start_python(argv: list[str], **options) -> subprocess.Popen:
    try:
        return subprocess.Popen(argv, **options)
    except OSError as error:
        raise HookdkError(f"cannot run {argv[0]!r}: {error.strerror}") from None


_RUNNING: set[Keeper] = set()  # keepers of hooks running now, in any thread
_RUNNING_LOCK = threading.Lock()


@contextlib.contextmanager
def running(keeper: Keeper):
    """Count a hook as running while the block runs (see ``end_running``)."""
    with _RUNNING_LOCK:
        _RUNNING.add(keeper)
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(keeper)


def end_running() -> None:
    """End every hook still running, and all it started. An interrupt reaches only the
    main thread; hooks that a session runs in other threads are ended here
    (``sessions``)."""
    with _RUNNING_LOCK:
        keepers = list(_RUNNING)
    for keeper in keepers:
        keeper.kill()


def kill_group(pgid: int) -> None:
    """SIGKILL a hook's whole process group (the keeper kills the group and everything
    else below it; this is for a group the kit leads itself).

    Every hook leads a group of its own before anyone learns its pid (``SubprocessRunner``
    starts it in a new session; a fork-server child calls ``setsid`` before it reports
    its pid), so the group is ``pgid`` and holds whatever the hook started that stayed
    in it. The group lasts while any member lives, and an unreaped (zombie) leader still
    counts as one, so a kill after the hook exited reaches what it left behind.

    A failure means nothing of ours is left to kill, so it is not an error: ESRCH
    (``ProcessLookupError``) when every member has exited and been reaped, the usual end
    of a race with the hook's own exit (an interrupt, ``end_running`` from another thread);
    EPERM (``PermissionError``) when no member may be signalled, as when the group is only
    zombies on macOS. There is deliberately no retry with ``kill(pid)``: once the group is
    gone the pid has been reaped, and may already belong to another process.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
