"""The fast runner: one warm ``python3`` that forks a fresh hook process per event.

``SubprocessRunner`` pays a whole interpreter start-up per event; a test suite firing
thousands of events spends most of its time there. ``ForkServerRunner`` starts the hook's
``python3`` once, running ``_forkserver_main.py`` (standard library only, so any Python
3.9+ with ctypes will do). That server imports the modules hooks use, then keeps two
children forked ahead of time, so an event never waits for a fork. The child that takes
an event undoes what a fork inherits (environment, working directory, session, signal
handlers, ``__main__``, ``sys.argv``, ``sys.path``, time zone) and runs the script with
CPython's own parser and compiler on a stdin pipe, as ``python3 < script`` does. Around
it the caller does what ``SubprocessRunner`` does: a fresh scratch directory, stdin a pipe
holding the script, stdout and stderr merged into one pipe it owns, a timeout killing the
process group, the output cut as Hoop cuts it.

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
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

from . import _forkserver_main as protocol
from .errors import HookdkError
from .runner import (
    TIMEOUT_EXIT_CODE,
    Runner,
    RunResult,
    SubprocessRunner,
    exit_code_of,
    hoop_output,
    start_python,
)

SERVER_SCRIPT = Path(protocol.__file__)
RUNNER_KINDS = ("auto", "fast", "subprocess")

STARTUP_TIMEOUT = 30.0  # a cold interpreter importing ssl on a loaded CI machine
REPLY_TIMEOUT = 10.0  # a waiting child answers at once; longer means the server is stuck
DRAIN_TIMEOUT = 2.0  # as SubprocessRunner: output still arriving after a kill
REAP_TIMEOUT = 5.0
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


def make_runner(kind: str, python: str = "python3") -> Runner:
    """``fast`` (fork server), ``subprocess`` (one interpreter per event) or ``auto``."""
    if kind == "auto":
        kind = "fast" if fork_supported() else "subprocess"
    if kind == "subprocess":
        return SubprocessRunner(python)
    if kind == "fast":
        if not fork_supported():
            raise HookdkError(
                "the fast runner needs POSIX fork and unix sockets; use the subprocess runner"
            )
        return ForkServerRunner(python)
    raise HookdkError(f"unknown runner {kind!r}: expected one of {', '.join(RUNNER_KINDS)}")


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

    Runs are serialised by a lock (one child at a time). A warm server that died is
    replaced transparently, once per run; ``close()`` stops it.
    """

    def __init__(self, python: str = "python3") -> None:
        self.python = python
        self._lock = threading.Lock()
        self._server: _WarmServer | None = None
        self._folders = _ScratchFolders()

    @property
    def server_pid(self) -> int | None:
        """The warm interpreter's pid, None before the first run (for tests and tools)."""
        return self._server.process.pid if self._server else None

    def run(self, script: bytes, env: Mapping[str, str], timeout: float) -> RunResult:
        _check_environment(env)
        with self._lock, self._folders.one() as scratch:
            started = time.perf_counter()
            server, child = self._spawn(env)
            stdin = event_details(scratch, env) + script
            try:
                output, status = self._follow(server, child, stdin, started + timeout)
            except BaseException:
                # Interrupted (Ctrl-C, or SIGTERM made KeyboardInterrupt by the CLI): the
                # child runs in a session of its own, so nothing else would stop its group.
                _kill_group(child.pid)
                raise
            finally:
                child.close()
            duration = time.perf_counter() - started
        timed_out = status is None
        exit_code = (
            TIMEOUT_EXIT_CODE if timed_out else exit_code_of(os.waitstatus_to_exitcode(status))
        )
        return RunResult(exit_code, hoop_output(output), output, timed_out, duration)

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

    def _follow(
        self, server: _WarmServer, child: _Child, stdin: bytes, deadline: float
    ) -> tuple[bytes, int | None]:
        """Feed stdin, collect the output, and get the wait status (None: timed out)."""
        output, finished = _exchange(child, stdin, deadline)
        status = None
        if finished:
            status = self._wait(server, child, deadline - time.perf_counter())
        if status is None:
            _kill_group(child.pid)
            output += _drain(child.output, DRAIN_TIMEOUT)
            if self._wait(server, child, REAP_TIMEOUT) is None:
                self._discard()  # a child that outlives SIGKILL this long: start afresh
        return output, status

    def _wait(self, server: _WarmServer, child: _Child, timeout: float) -> int | None:
        try:
            return server.wait_status(child.pid, timeout)
        except _ServerGone:
            _kill_group(child.pid)
            self._discard()
            raise HookdkError(
                f"{self.python}: the fast runner's warm interpreter died during the event"
            ) from None

    def _discard(self) -> str:
        """Stop the warm server, if any; return its last words."""
        server, self._server = self._server, None
        return server.close() if server is not None else ""


class _ServerGone(Exception):
    """The warm server closed its socket: crashed, killed, or never started."""


class _Child:
    """One event's process as the caller holds it: its pid and its two pipe ends."""

    def __init__(self, pid: int, stdin: int, output: int) -> None:
        self.pid, self.stdin, self.output = pid, stdin, output

    def close_stdin(self) -> None:
        if self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1

    def close(self) -> None:
        self.close_stdin()
        os.close(self.output)


class _WarmServer:
    """One warm interpreter running ``_forkserver_main.py``, and the socket to it."""

    def __init__(self, python: str, env: Mapping[str, str]) -> None:
        self.key = startup_key(env)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # A working directory of its own: whatever a launcher derives from it is recognisable.
        home = tempfile.mkdtemp(prefix="hookdk-warm-")
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
        """Hand a waiting child its pipes; it runs once the caller writes to its stdin
        (``event_details``, then the script)."""
        stdin_read, stdin_write = os.pipe()
        output_read, output_write = os.pipe()
        try:
            self.sock.settimeout(REPLY_TIMEOUT)
            socket.send_fds(self.sock, [b"E"], [stdin_read, output_write])
            pid = self._receive(b"P")
        except (OSError, _ServerGone):
            os.close(stdin_write)
            os.close(output_read)
            raise _ServerGone from None
        finally:
            os.close(stdin_read)
            os.close(output_write)
        return _Child(pid, stdin_write, output_read)

    def wait_status(self, pid: int, timeout: float) -> int | None:
        """The child's wait status, or None if it is still running after ``timeout``."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            return self._receive(b"S", pid)
        except TimeoutError:
            return None
        except OSError:
            raise _ServerGone from None

    def close(self) -> str:
        """Stop the server; return the last line it wrote, if it wrote anything."""
        return self._stop() or ""

    def _receive(self, kind: bytes, pid: int = 0) -> int:
        """A child's pid (kind P) or the wait status of child ``pid`` (kind S).

        The status of another child is one that died before taking an event: skipped,
        unless children keep dying, which means this server is broken.
        """
        for _ in range(_MAX_STRAYS):
            data = protocol.receive_exactly(self.sock, protocol.MESSAGE.size)
            if len(data) < protocol.MESSAGE.size:
                raise _ServerGone
            tag, who, status = protocol.MESSAGE.unpack(data)
            if tag == kind == b"P":
                return who
            if tag == kind == b"S" and who == pid:
                return status
        raise _ServerGone

    def _handshake(self, python: str, env: Mapping[str, str]) -> None:
        body = protocol.frame(_encode(env))
        try:
            self.sock.settimeout(STARTUP_TIMEOUT)
            self.sock.sendall(protocol.HEADER.pack(len(body)) + body)
            ready = self.sock.recv(1)
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


def _exchange(child: _Child, stdin: bytes, deadline: float) -> tuple[bytes, bool]:
    """Write ``stdin`` to the child and read its output until end of file.

    As ``Popen.communicate`` does: both at once, so a big script cannot deadlock against
    a full output pipe. Returns the output and whether end of file came before the
    deadline (``time.perf_counter`` seconds).
    """
    chunks: list[bytes] = []
    pending = memoryview(stdin)
    poller = select.poll()
    poller.register(child.output, select.POLLIN)
    if pending:
        os.set_blocking(child.stdin, False)
        poller.register(child.stdin, select.POLLOUT)
    else:
        child.close_stdin()
    while (remaining := deadline - time.perf_counter()) > 0:
        for fd, _ in poller.poll(math.ceil(remaining * 1000)):
            if fd == child.output:
                data = os.read(fd, 65536)
                if not data:
                    return b"".join(chunks), True
                chunks.append(data)
                continue
            try:
                pending = pending[os.write(fd, pending) :]
            except BrokenPipeError:  # the hook died before reading it all
                pending = pending[:0]
            if not pending:
                poller.unregister(fd)
                child.close_stdin()
    return b"".join(chunks), False


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

    @contextlib.contextmanager
    def one(self) -> Iterator[str]:
        self._start()
        try:
            path = self._ready.get_nowait()
        except queue.Empty:
            path = tempfile.mkdtemp(prefix="hookdk-run-")
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
        if self._stop is None:
            self._trash = tempfile.mkdtemp(prefix="hookdk-trash-")
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
            ready.put(tempfile.mkdtemp(prefix="hookdk-run-"))
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


def _kill_group(pid: int) -> None:
    """Kill the child's session (children call ``setsid`` before they take an event; the
    fallback to the pid alone is for a child that somehow has no group yet)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass


__all__ = ["ForkServerRunner", "fork_supported", "make_runner", "startup_key"]
