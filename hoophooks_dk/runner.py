"""Running one rendered hook script the way Hoop's agent runs it.

agent/controller/system/runbookhook/runbookhook.go: ``python3`` with the script on
standard input, the payload in the environment, stdout and stderr copied into one buffer,
the buffer cut to 4096 bytes. The gateway gives up after 15 seconds and records exit code
-2 (HOOP_RUNTIME.md section 3). ``SubprocessRunner`` is that, one interpreter per event;
the fast runner in ``forkserver`` keeps the same observables at a fraction of the cost.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from .errors import HookdkError

MAX_OUTPUT_BYTES = 4096
TIMEOUT_EXIT_CODE = -2
DEFAULT_TIMEOUT = 15.0


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    output: str  # as Hoop records it: cut, and decoded as Go's JSON encoder does
    raw_output: bytes  # every byte the hook wrote, uncut
    timed_out: bool
    duration: float  # seconds, precise

    @property
    def execution_time_sec(self) -> int:
        """Whole seconds, truncated, as ``int(time.Since(start).Seconds())`` in Go."""
        return int(self.duration)


class Runner(Protocol):
    def run(self, script: bytes, env: Mapping[str, str], timeout: float) -> RunResult: ...

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


class SubprocessRunner:
    """One fresh ``python3`` per event: exactly the agent's process model."""

    def __init__(self, python: str = "python3") -> None:
        self.python = python

    def run(self, script: bytes, env: Mapping[str, str], timeout: float) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="hookdk-run-") as scratch:
            started = time.perf_counter()
            process = start_python(
                [self.python],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=scratch,
                env=dict(env),
                start_new_session=True,  # its own process group, so a timeout kills it all
            )
            try:
                output, _ = process.communicate(script, timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                kill_group(process.pid)
                output = _drain(process)
                timed_out = True
            except BaseException:
                # Interrupted (Ctrl-C, or SIGTERM made KeyboardInterrupt by the CLI): the
                # hook runs in a session of its own, so nothing else would stop its group.
                kill_group(process.pid)
                process.wait()
                raise
            duration = time.perf_counter() - started
        exit_code = TIMEOUT_EXIT_CODE if timed_out else exit_code_of(process.returncode)
        return RunResult(exit_code, hoop_output(output), output, timed_out, duration)

    def close(self) -> None:
        pass


def start_python(argv: list[str], **options) -> subprocess.Popen:
    try:
        return subprocess.Popen(argv, **options)
    except OSError as error:
        raise HookdkError(f"cannot run {argv[0]!r}: {error.strerror}") from None


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _drain(process: subprocess.Popen) -> bytes:
    """What the hook wrote before it was killed; a grandchild that escaped the group and
    still holds the pipe open is not waited for (what arrived so far is kept)."""
    try:
        output, _ = process.communicate(timeout=2)
    except subprocess.TimeoutExpired as still_open:
        process.kill()
        output = still_open.output
    return output or b""
