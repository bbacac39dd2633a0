"""The fast runner: one warm ``python3`` that forks a fresh hook process per event.

``SubprocessRunner`` pays a whole interpreter start-up per event; a test suite firing
thousands of events spends most of its time there. ``ForkServerRunner`` starts the hook's
``python3`` once, running ``forkserver_main.py`` (standard library only, so any Python
3.9+ with ctypes will do). That server imports the modules hooks use, then keeps two
children forked ahead of time, so an event never waits for a fork. The child that takes
an event undoes what a fork inherits (environment, working directory, session, signal
handlers, ``__main__``, ``sys.argv``, ``sys.path``, time zone) and runs the script with
CPython's own parser and compiler on a stdin pipe, as ``python3 < script`` does. Around
it the caller does what ``SubprocessRunner`` does: a fresh scratch directory, stdin a pipe
holding the script, stdout and stderr merged into one pipe it owns, Hoop's timeout rule
(``runner.follow``), the output cut as Hoop cuts it. Events may run concurrently, as on
the agent: only handing a child its event is serialised.

What a fork cannot make identical, and no hook should rely on:

- the parent process is the warm server, not the caller (``os.getppid()``), and the
  command line (``/proc/self/cmdline``, ``ps``) is the server's;
- str hashes use the server's seed, the same for every event of one server (set
  ``PYTHONHASHSEED`` for runs that must not depend on it);
- ``sys.modules`` already holds the preloaded modules, the process is that much bigger,
  and the preloaded heap is frozen for the garbage collector (``gc.get_freeze_count()``);
- the hook's module frame has the server's frames below it (``inspect.stack()``,
  ``warnings.warn(stacklevel=2)`` at module level);
- at exit, the hook's own globals are finalized as CPython does, but not other modules'
  (``os._exit`` ends the process), and daemon threads run a few milliseconds longer.

Interpreter start-up reads some variables (``PYTHON*``, locale, ``PATH``, ``HOME``,
loader and OpenSSL settings); a change in those starts a new warm server rather than
reuse one that started differently. When ``python3`` is a launcher script (pyenv's shim),
what it adds to the environment is replayed on every event, as the launcher would.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import select
import shutil
import socket
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..errors import HookdkError
from . import forkserver_main as protocol
from . import tempdirs
from .keeper import Keeper, KeeperGone, Survivor, let_linger
from .runner import (
    DEFAULT_PYTHON,
    DRAIN_TIMEOUT,
    REAP_TIMEOUT,
    RunResult,
    exit_code_of,
    follow,
    kill_group,
    kill_limit,
    running,
    start_python,
)

SERVER_SCRIPT = Path(protocol.__file__)

STARTUP_TIMEOUT = 30.0  # a cold interpreter importing ssl on a loaded CI machine
REPLY_TIMEOUT = 10.0  # a waiting child answers at once; longer means the server is stuck
_MAX_STRAYS = 5  # statuses of children that died unused, before the server counts as broken

# Read by the interpreter (or a launcher such as pyenv's shim) while it starts: a child
# forked from a server started with other values would not be a fresh python3.
_STARTUP_NAMES = {"PATH", "HOME", "LANG", "LANGUAGE"}
_STARTUP_PREFIXES = ("PYTHON", "LC_", "LD_", "DYLD_", "OPENSSL_", "PYENV", "MALLOC")


def fork_supported() -> bool:
    """The fast runner needs POSIX fork and descriptor passing over unix sockets."""
    return (
        os.name == "posix"
        and hasattr(os, "fork")
        and hasattr(socket, "AF_UNIX")
        and hasattr(socket, "send_fds")
    )


def startup_key(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The part of an environment that shapes an interpreter at start-up."""
    return tuple(
        sorted(
            (name, value)
            for name, value in env.items()
            if name in _STARTUP_NAMES or name.startswith(_STARTUP_PREFIXES)
        )
    )


class ForkServerRunner:
    """Same observables as ``SubprocessRunner``, a fork instead of a start-up per event.

    Runs may overlap (threads): a lock serialises only taking a child and replacing the
    server. A warm server that died is replaced transparently, once per run; one whose
    start-up environment no longer fits is retired when its running events end;
    ``close()`` stops it.
    """

    def __init__(self, python: str = DEFAULT_PYTHON) -> None:
        self.python = python
        self._lock = threading.Lock()
        self._server: _WarmServer | None = None
        self._folders = _ScratchFolders()

    @property
    def server_pid(self) -> int | None:
        """The warm interpreter's pid, None before the first run (for tests and tools)."""
        return self._server.process.pid if self._server else None

    def run(
        self,
        script: bytes,
        env: Mapping[str, str],
        timeout: float,
        kill_after: float | None = None,
    ) -> RunResult:
        _check_environment(env)
        limit = kill_limit(timeout, kill_after)
        with self._folders.one() as scratch:
            with self._lock:
                server, child = self._spawn(env)
                server.in_flight += 1
            try:
                started = time.perf_counter()
                hook = _ForkedHook(self, server, child, event_details(scratch, env) + script)
                with running(child.keeper):
                    return follow(hook, started, timeout, limit)  # ends the hook if interrupted
            finally:
                child.close()
                let_linger(child.keeper)
                with self._lock:
                    server.in_flight -= 1
                    if server is not self._server and not server.in_flight:
                        server.close()

    def close(self) -> None:
        with self._lock:
            self._discard()
            self._folders.close()

    def __enter__(self) -> ForkServerRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _spawn(self, env: Mapping[str, str]) -> tuple[_WarmServer, _Child]:
        last_words = ""
        for _attempt in range(2):
            server = self._server_for(env)
            try:
                return server, server.spawn()
            except _ServerGone:
                last_words = self._discard()
        raise HookdkError(
            f"{self.python}: the fast runner's warm interpreter keeps dying"
            + (f" ({last_words})" if last_words else "")
        )

    def _server_for(self, env: Mapping[str, str]) -> _WarmServer:
        server = self._server
        if server is not None and (server.key != startup_key(env) or not server.alive()):
            self._discard()
        if self._server is None:
            self._server = _WarmServer(self.python, env)
        return self._server

    def _discard(self) -> str:
        """Stop the warm server, if any (once its running events end); its last words."""
        server, self._server = self._server, None
        if server is None or server.in_flight:
            return ""
        return server.close()


class _ForkedHook:
    """One event's child as ``runner.follow`` drives it: stdin fed and output read through
    ``_exchange``, the exit status and what it left from its keeper."""

    def __init__(
        self, runner: ForkServerRunner, server: _WarmServer, child: _Child, stdin: bytes
    ) -> None:
        self.runner, self.server, self.child = runner, server, child
        self.pending = memoryview(stdin)
        self.chunks: list[bytes] = []
        self.closed = False

    def wait_closed(self, deadline: float) -> bool:
        if not self.closed:
            self.pending, self.closed = _exchange(self.child, self.pending, self.chunks, deadline)
        return self.closed

    def wait_exit(self, deadline: float) -> int | None:
        self.wait_closed(deadline)  # keep reading, or the hook blocks on a full pipe
        status = self._wait(deadline)
        return None if status is None else exit_code_of(os.waitstatus_to_exitcode(status))

    def kill(self) -> int:
        self.child.keeper.kill()
        status = self._wait(time.perf_counter() + REAP_TIMEOUT)
        return -1 if status is None else exit_code_of(os.waitstatus_to_exitcode(status))

    def drain(self) -> bytes:
        if not self.closed:
            self.chunks.append(_drain(self.child.output, DRAIN_TIMEOUT))
        return b"".join(self.chunks)

    def survivors(self) -> list[Survivor]:
        return self.child.keeper.survivors()

    def _wait(self, deadline: float) -> int | None:
        try:
            return self.child.keeper.wait_status(deadline)
        except KeeperGone:
            kill_group(self.child.pid)
            raise HookdkError(
                f"{self.runner.python}: the fast runner's keeper of the event died during it"
            ) from None


class _ServerGone(Exception):
    """The warm server closed its socket: crashed, killed, or never started."""


class _Child:
    """One event's process as the caller holds it: its pid, its two pipe ends, and the
    keeper that answers for it."""

    def __init__(self, pid: int, stdin: int, output: int, keeper: Keeper) -> None:
        self.pid, self.stdin, self.output, self.keeper = pid, stdin, output, keeper

    def close_stdin(self) -> None:
        if self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1

    def close(self) -> None:
        self.close_stdin()
        os.close(self.output)


class _WarmServer:
    """One warm interpreter running ``forkserver_main.py``, and the socket to it."""

    def __init__(self, python: str, env: Mapping[str, str]) -> None:
        self.key = startup_key(env)
        self.in_flight = 0  # events running on it (guarded by the runner's lock)
        # Messages arrive on one socket for every running child: one thread at a time
        # reads, and files each message here for whichever thread waits for it.
        self._messages = threading.Condition()
        self._reading = False
        self._pids: list[tuple[int, int]] = []  # (keeper, hook) that took an event, unclaimed
        self._running: set[int] = set()  # keepers claimed, not yet ended
        self._strays = 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # A working directory of its own: whatever a launcher derives from it is recognisable.
        home = tempdirs.make("warm")
        try:
            # stdin, stdout and stderr are pipes, as SubprocessRunner's are: the child
            # inherits the sys.stdin/stdout/stderr objects built over them at start-up.
            self.process = start_python(
                [python, str(SERVER_SCRIPT), str(theirs.fileno())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=home,
                env=dict(env),
                pass_fds=[theirs.fileno()],
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            os.rmdir(home)
            raise
        finally:
            theirs.close()
        self.process.stdin.close()
        self.sock = ours
        self._stop = weakref.finalize(self, _stop_server, self.process, ours)
        try:
            self._handshake(python, env)
        finally:
            os.rmdir(home)

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self) -> _Child:
        """Hand a waiting keeper the event's pipes and its socket; the hook runs once the
        caller writes to its stdin (``event_details``, then the script). One spawn at a
        time (the runner's lock)."""
        stdin_read, stdin_write = os.pipe()
        output_read, output_write = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.sock, [b"E"], [stdin_read, output_write, theirs.fileno()])
            pids = self._await(self._claim_pid, time.perf_counter() + REPLY_TIMEOUT)
            if pids is None:
                raise _ServerGone
        except (OSError, _ServerGone):
            os.close(stdin_write)
            os.close(output_read)
            ours.close()
            raise _ServerGone from None
        finally:
            os.close(stdin_read)
            os.close(output_write)
            theirs.close()
        keeper_pid, hook_pid = pids
        keeper = Keeper(ours, keeper_pid)
        keeper.hook_pid = hook_pid
        return _Child(hook_pid, stdin_write, output_read, keeper)

    def _claim_pid(self) -> tuple[int, int] | None:
        if not self._pids:
            return None
        pids = self._pids.pop(0)
        self._running.add(pids[0])
        return pids

    def _await(self, take, deadline: float):
        """What ``take`` finds among the messages read so far, reading more (one thread at a
        time) until it finds it or ``deadline`` (``time.perf_counter``) passes."""
        looked = False  # past the deadline, still read once what has already arrived
        with self._messages:
            while (found := take()) is None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0 and looked:
                    return None
                looked = True
                if self._reading:
                    self._messages.wait(max(remaining, 0.001))
                    continue
                self._reading = True
                self._messages.release()
                try:
                    message = self._read_message(max(remaining, 0))
                finally:
                    self._messages.acquire()
                    self._reading = False
                    self._messages.notify_all()
                if message is not None:
                    self._file(*message)
            return found

    def _read_message(self, timeout: float) -> tuple[bytes, int, int] | None:
        """One message, or None when none came within ``timeout``."""
        try:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return None
            data = protocol.receive_exactly(self.sock, protocol.MESSAGE.size)
        except (OSError, ValueError):
            raise _ServerGone from None
        if len(data) < protocol.MESSAGE.size:
            raise _ServerGone
        return protocol.MESSAGE.unpack(data)

    def _file(self, tag: bytes, who: int, status: int) -> None:
        """Keep a message for its taker. The hook's status comes from its keeper; the
        status of a keeper that never took an event died waiting: skipped, unless keepers
        keep dying, which means a broken server."""
        if tag == b"P":
            self._pids.append((who, status))  # the keeper, and its hook's pid
            self._strays = 0
        elif who in self._running:  # a keeper that took an event has ended
            self._running.discard(who)
        else:
            self._strays += 1
            if self._strays >= _MAX_STRAYS:
                raise _ServerGone

    def close(self) -> str:
        """Stop the server; return the last line it wrote, if it wrote anything."""
        return self._stop() or ""

    def _handshake(self, python: str, env: Mapping[str, str]) -> None:
        body = protocol.frame(_encode(env))
        try:
            self.sock.settimeout(STARTUP_TIMEOUT)
            self.sock.sendall(protocol.HEADER.pack(len(body)) + body)
            ready = self.sock.recv(1)
            self.sock.settimeout(REPLY_TIMEOUT)  # reads wait in select(); sends never block long
        except OSError:
            ready = b""
        if ready != b"R":
            self._stop.detach()
            self.sock.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            with self.process.stdout as output:
                why = output.read().decode(errors="replace").strip().splitlines()
            reason = why[-1] if why else "it exited without a word"
            raise HookdkError(
                f"{python}: the fast runner's warm interpreter did not start ({reason}); "
                "it needs Python 3.9 or later with ctypes, or use the subprocess runner"
            )


def _stop_server(process: subprocess.Popen, sock: socket.socket) -> str:
    """Hang up (the server exits on end of file), reap it, killing it if it lingers, and
    return the last line it wrote (a traceback's, when it died of a bug)."""
    sock.close()
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with process.stdout as output:
        lines = output.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def event_details(scratch: str, env: Mapping[str, str]) -> bytes:
    """What a child reads from its stdin before the script: where and with what to run."""
    body = protocol.frame([os.fsencode(scratch), *_encode(env)])
    return protocol.HEADER.pack(len(body)) + body


def _encode(env: Mapping[str, str]) -> list[bytes]:
    return [os.fsencode(part) for item in env.items() for part in item]


def _check_environment(env: Mapping[str, str]) -> None:
    """Refuse what subprocess.Popen refuses, with its messages."""
    for name, value in env.items():
        if "=" in name or not name:
            raise ValueError("illegal environment variable name")
        if "\0" in name or "\0" in value:
            raise ValueError("embedded null byte")


def _exchange(
    child: _Child, pending: memoryview, chunks: list[bytes], deadline: float
) -> tuple[memoryview, bool]:
    """Write what is ``pending`` of the child's stdin and read its output into ``chunks``
    until end of file or ``deadline`` (``time.perf_counter`` seconds).

    As ``Popen.communicate`` does: both at once, so a big script cannot deadlock against
    a full output pipe. Returns what is still to write and whether end of file came; call
    it again to go on.
    """
    poller = select.poll()
    poller.register(child.output, select.POLLIN)
    if pending and child.stdin >= 0:
        os.set_blocking(child.stdin, False)
        poller.register(child.stdin, select.POLLOUT)
    else:
        child.close_stdin()
    while (remaining := deadline - time.perf_counter()) > 0:
        for fd, _ in poller.poll(math.ceil(remaining * 1000)):
            if fd == child.output:
                data = os.read(fd, 65536)
                if not data:
                    return pending, True
                chunks.append(data)
                continue
            try:
                pending = pending[os.write(fd, pending) :]
            except BrokenPipeError:  # the hook died before reading it all
                pending = pending[:0]
            if not pending:
                poller.unregister(fd)
                child.close_stdin()
    return pending, False


def _drain(fd: int, seconds: float) -> bytes:
    """What is still in the pipe after a kill; a grandchild that escaped the process
    group and holds the pipe open is not waited for past ``seconds``."""
    chunks: list[bytes] = []
    deadline = time.perf_counter() + seconds
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while (remaining := deadline - time.perf_counter()) > 0:
        if not poller.poll(math.ceil(remaining * 1000)):
            break
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


class _ScratchFolders:
    """A new empty working directory per event, made and removed off the event's path.

    SubprocessRunner makes a temporary directory before each event and removes it after.
    Here a background thread makes the next one in advance and removes used ones, because
    on some disks mkdir and rmdir cost milliseconds each, more than a fork. A used folder
    is first renamed into a trash folder beside it (cheap), so that, as with the standard
    runner, the path the hook saw is gone when ``run`` returns.
    """

    def __init__(self) -> None:
        self._ready: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._chores: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._trash = ""
        self._stop: weakref.finalize | None = None
        self._starting = threading.Lock()  # events may start at once: one janitor only

    @contextlib.contextmanager
    def one(self) -> Iterator[str]:
        self._start()
        try:
            path = self._ready.get_nowait()
        except queue.Empty:
            path = tempdirs.make("run")
        self._chores.put(_MAKE)
        try:
            yield path
        finally:
            self._throw_away(path)

    def close(self) -> None:
        """Stop the thread and remove what is left: spare folders and the trash."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _start(self) -> None:
        with self._starting:
            self._start_once()

    def _start_once(self) -> None:
        if self._stop is None:
            self._trash = tempdirs.make("trash")
            thread = threading.Thread(
                target=_janitor, args=(self._chores, self._ready), name="hookdk-scratch"
            )
            thread.daemon = True
            thread.start()
            args = (thread, self._chores, self._ready, self._trash)
            self._stop = weakref.finalize(self, _stop_janitor, *args)

    def _throw_away(self, path: str) -> None:
        trashed = os.path.join(self._trash, os.path.basename(path))
        try:
            os.rename(path, trashed)
        except OSError:  # another file system (TMPDIR changed): remove it here
            shutil.rmtree(path, ignore_errors=True)
        else:
            self._chores.put(trashed)


_MAKE = "make a folder"  # a chore for the janitor (compared by identity); None stops it


def _janitor(chores: queue.SimpleQueue, ready: queue.SimpleQueue) -> None:
    while (chore := chores.get()) is not None:
        if chore is _MAKE:
            ready.put(tempdirs.make("run"))
        else:
            shutil.rmtree(chore, ignore_errors=True)


def _stop_janitor(
    thread: threading.Thread, chores: queue.SimpleQueue, ready: queue.SimpleQueue, trash: str
) -> None:
    chores.put(None)
    thread.join()
    while not ready.empty():
        shutil.rmtree(ready.get_nowait(), ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)


__all__ = ["ForkServerRunner", "fork_supported", "startup_key"]
