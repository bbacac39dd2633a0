"""The kit's side of a hook's keeper, and how long what a hook left running may live.

Every hook runs below a keeper (``keeper_main``): the standard runner starts one per
event, the fast runner's fork server forks one. Through it the kit learns the hook's
pid and exit status, lists what still runs once the hook has ended, and ends everything
the hook started, detached processes included. Its socket is the hook tree's lifeline:
if the kit dies, even by SIGKILL, the keeper kills the tree.

What a hook leaves running outlives the hook on Hoop's agent: a detached sender goes on
sending. The kit reports it (``RunResult.left_running``) and lets it run until the end
of the fire, or of the session or test around the fire (``lingering``), then ends it:
so its requests count for the test that started it, and never reach the next one.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import HookdkError
from . import keeper_main as protocol

__all__ = [
    "Keeper",
    "KeeperGone",
    "KeeperServer",
    "Lingering",
    "Survivor",
    "hook_processes",
    "let_linger",
    "lingering",
]

KEEPER_SCRIPT = Path(protocol.__file__)
#: Seconds to wait for a keeper's answer: it answers at once unless the machine stalls.
ANSWER_TIMEOUT = 30.0


@dataclass(frozen=True)
class Survivor:
    """A process a hook started that still ran when the hook ended."""

    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}, {self.command}"

    def to_dict(self) -> dict[str, object]:
        return {"pid": self.pid, "command": self.command}


class KeeperGone(Exception):
    """The keeper closed its end (killed from outside, or a bug in it)."""


class Keeper:
    """The kit's end of one keeper: the hook's status, what runs below, ending it all.

    One thread at a time reads its answers (the run's, then whoever ends it); ``kill``
    may come from any thread (an interrupt ending every running hook)."""

    def __init__(self, channel: socket.socket, pid: int | None = None) -> None:
        self.channel = channel
        self.pid = pid  # the keeper's own, once known
        self.hook_pid: int | None = None
        self.status: int | None = None  # the hook's wait status, once it has ended
        self._reading = threading.Lock()
        self._ended = False
        self._nothing_left = False  # the hook ended leaving nothing: ``end`` need not wait
        with _LIVE_LOCK:
            _LIVE.add(self)

    def hook_started(self, program: str) -> int:
        """The hook's pid, once the keeper says it runs (and the keeper's own)."""
        found = self._message(time.perf_counter() + ANSWER_TIMEOUT)
        if found is None:
            raise KeeperGone
        tag, who, keeper, _ = found
        if tag == b"X":
            raise HookdkError(f"cannot run {program!r}: {os.strerror(who)}")
        if tag != b"P":
            raise KeeperGone
        self.hook_pid, self.pid = who, keeper
        return who

    def wait_status(self, deadline: float) -> int | None:
        """The hook's wait status once it has ended, None if it still runs at ``deadline``
        (``time.perf_counter`` seconds)."""
        while self.status is None:
            if self._message(deadline, wanted=b"S") is None:
                return None
        return self.status

    def kill(self) -> None:
        """Kill the hook and everything below the keeper (any thread)."""
        with contextlib.suppress(OSError):
            self.channel.send(b"K")

    def survivors(self) -> list[Survivor]:
        """What ran below the keeper when the hook ended (the keeper says so with the
        hook's status, unasked); call it once the hook has ended."""
        with contextlib.suppress(OSError, KeeperGone):
            found = self._message(time.perf_counter() + ANSWER_TIMEOUT, wanted=b"L")
            if found is not None:
                left = [Survivor(pid, command) for pid, command in json.loads(found[3])]
                self._nothing_left = not left
                return left
        return []

    def end(self) -> None:
        """End everything below the keeper, then the keeper; once (later calls do nothing)."""
        with _LIVE_LOCK:
            if self._ended:
                return
            self._ended = True
            _LIVE.discard(self)
        try:
            self.channel.send(b"E")
            if not self._nothing_left:  # else there is nothing to wait for
                self._message(time.perf_counter() + ANSWER_TIMEOUT, wanted=b"D")
        except (OSError, KeeperGone):
            pass  # gone already: its end of file ended everything below it
        finally:
            self.channel.close()

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def nothing_left(self) -> bool:
        """The hook ended and left nothing running (``survivors`` said so)."""
        return self._nothing_left

    def _message(self, deadline: float, wanted: bytes | None = None) -> tuple | None:
        """Read messages until one tagged ``wanted`` (any, when None) arrives; None at
        ``deadline``. A status met on the way is kept. Raises KeeperGone at end of file."""
        with self._reading:
            while True:
                # past the deadline, what has already arrived is still read
                remaining = max(deadline - time.perf_counter(), 0)
                ready, _, _ = select.select([self.channel], [], [], remaining)
                if not ready:
                    return None
                data = _receive(self.channel, protocol.MESSAGE.size)
                tag, who, value = protocol.MESSAGE.unpack(data)
                extra = _receive(self.channel, value) if tag == b"L" else b""
                if tag == b"S":
                    self.status = value
                if wanted is None or tag == wanted:
                    return tag, who, value, extra


class KeeperServer:
    """The standard runner's source of keepers: one small process (``keeper_main``,
    started with the kit's interpreter) that forks a keeper per event, so an event costs
    a fork, not a second interpreter's start-up. Started when made, so that its start
    overlaps the kit's own work before the first event; restarted if it dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request at a time on the socket
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._stop: Callable[[], object] | None = None
        with self._lock:
            self._start()

    def keeper(
        self, argv: list[str], cwd: str, env: Mapping[str, str], stdin: int, output: int
    ) -> Keeper:
        """A new keeper running ``argv`` as the hook (``stdin`` and ``output``, pipe ends,
        become its standard input, output and error). HookdkError when it cannot run."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                for attempt in range(2):
                    try:
                        socket.send_fds(self._running(), [b"E"], [stdin, output, theirs.fileno()])
                        break
                    except OSError:
                        if attempt:
                            raise HookdkError("the hooks' keeper process keeps dying") from None
                        self._close()
            ours.sendall(protocol.event_frame(argv, cwd, env))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        keeper = Keeper(ours)
        try:
            keeper.hook_started(argv[0])
        except BaseException:
            keeper.end()
            raise
        return keeper

    def close(self) -> None:
        with self._lock:
            self._close()

    def _running(self) -> socket.socket:
        if self._process is None or self._process.poll() is not None:
            self._close()
            self._start()
        assert self._sock is not None
        return self._sock

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        python = sys.executable or "python3"
        command = [python, "-I", "-S", str(KEEPER_SCRIPT), str(theirs.fileno())]
        try:
            self._process = subprocess.Popen(
                command, pass_fds=[theirs.fileno()], start_new_session=True
            )
        except OSError as error:
            ours.close()
            raise HookdkError(f"cannot run {python!r}: {error.strerror}") from None
        finally:
            theirs.close()
        self._sock = ours
        self._stop = weakref.finalize(self, _stop_server, self._process, ours)

    def _close(self) -> None:
        if self._stop is not None:
            self._stop()
        self._stop = self._sock = self._process = None


def _stop_server(process: subprocess.Popen, sock: socket.socket) -> None:
    """Hang up: the server exits at end of file (its keepers go on until their own end)."""
    sock.close()
    try:
        process.wait(timeout=ANSWER_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _receive(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        try:
            chunk = sock.recv(left)
        except OSError:
            chunk = b""
        if not chunk:
            raise KeeperGone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_LIVE: set[Keeper] = set()  # keepers not yet ended, in any thread
_LIVE_LOCK = threading.Lock()


def hook_processes() -> set[int]:
    """The pids of every process below a live keeper of this process (Linux), keepers
    included: what the kit's hooks are running now. Empty where /proc is missing."""
    with _LIVE_LOCK:
        roots = [keeper.pid for keeper in _LIVE if keeper.pid]
    if not roots:
        return set()
    table = protocol._processes()
    found = set(roots)
    for root in roots:
        found.update(protocol.descendants(root, table))
    return found


# --- how long what a hook left may run ------------------------------------------------------


class Lingering:
    """Keepers of hooks that have ended, whose processes run on until ``end``."""

    def __init__(self) -> None:
        self._keepers: list[Keeper] = []
        self._lock = threading.Lock()

    def hold(self, keeper: Keeper) -> None:
        with self._lock:
            self._keepers.append(keeper)

    def end(self) -> None:
        """End every process the hooks left running; the scope may be used again."""
        with self._lock:
            keepers, self._keepers = self._keepers, []
        for keeper in keepers:
            keeper.end()


_SCOPE: contextvars.ContextVar[Lingering | None] = contextvars.ContextVar(
    "hookdk_lingering", default=None
)


@contextlib.contextmanager
def lingering(scope: Lingering | None = None) -> Iterator[Lingering]:
    """Inside, what a hook leaves running runs on until the block ends, then is ended.

    With ``scope``, until that scope's ``end()`` instead (a test's, called at its
    teardown). Inside a block already, the outer one decides (a session in a test lives
    as long as the test). Threads started inside see the block only if they run in a copy
    of the context (``contextvars.copy_context().run``), as a session's steps do."""
    outer = _SCOPE.get()
    own = scope is None and outer is None
    chosen = scope or outer or Lingering()
    token = _SCOPE.set(chosen)
    try:
        yield chosen
    finally:
        _SCOPE.reset(token)
        if own:
            chosen.end()


def let_linger(keeper: Keeper) -> None:
    """A hook has ended: keep what it left running until the current ``lingering`` block
    ends, or end it now, when the run is the whole fire."""
    scope = _SCOPE.get()
    if scope is None or keeper.ended or keeper.nothing_left:
        keeper.end()  # nothing to keep: a keeper held for nothing holds its process
    else:
        scope.hold(keeper)
