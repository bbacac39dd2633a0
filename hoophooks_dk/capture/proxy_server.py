"""The capture's listening side: one selector thread for every waiting connection, a
bounded pool of workers for complete requests.

Why it is built this way:

* **A waiting connection costs a file descriptor, never a thread.** One selector thread
  (``selectors.DefaultSelector``: epoll or kqueue, no 1024-descriptor ceiling as with
  ``select()``) accepts connections and watches every one that waits: idle between
  requests, halfway through a request head, before a tunnel's first byte, in a TLS
  handshake. It reads what arrives without blocking (``Connection.advance``); only when a
  head is complete does the connection go to a worker, which reads the body, answers,
  and hands the connection back. Ten thousand clients that send half a head and stop
  are ten thousand sockets and one thread; a legitimate request among them is read as
  soon as its bytes arrive and answered by the next free worker.
* **Workers are bounded** (``WORKERS``, a ``worker_pool.WorkerPool`` of daemon threads),
  so no crowd of clients can exhaust the process's threads; a request finds a worker as
  soon as one finishes its request. (A worker waits on a client only for a body that is
  slow to come, up to the request's deadline.)
* **It keeps serving when descriptors run out.** ``accept()`` failing with EMFILE (or
  ENFILE, ENOBUFS, ENOMEM) pauses accepting for a short, growing delay and then retries;
  waiting clients sit in the listen backlog meanwhile. At start the process raises its own
  soft ``RLIMIT_NOFILE`` towards the hard limit (macOS starts at 256).
* **HTTP and TLS load with the first client.** The selector thread imports
  ``proxy_connection`` (h11, ssl) before its first accept, so a ``hookdk fire`` whose
  hook sends nothing never pays for them (warming them up front, overlapped with the
  hook's start, measured slower on a busy two-core machine: the import competes for the
  CPU and the GIL with the start-up it was meant to hide).
* **Deadlines are the selector's**: a connection with nothing to say is closed after
  ``idle_timeout``, a head (or handshake) that takes longer than ``socket_timeout`` from
  its first byte is cut off (``Connection.deadline``); a worker enforces the body's.
* **``is_quiet`` cannot miss a request that just began.** The selector thread reads from
  a connection and records that a head has begun (``Connection.partial``) under
  ``lock``, and a connection goes to a worker under it too; ``is_quiet`` looks under the
  same lock at the workers' connections, at every connection with part of a request,
  and at whether any waiting socket (or the listener) is readable.
"""

from __future__ import annotations

import contextlib
import errno
import resource
import select
import selectors
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from .exchange import Exchange, ServerSide
from .worker_pool import WorkerPool

if TYPE_CHECKING:
    from .proxy_connection import Connection

__all__ = ["Exchange", "ProxyServer", "ServerSide", "raise_fd_limit"]

#: accept() errors that mean "no descriptors or memory right now": back off and retry.
_RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_BACKOFF_FIRST, _BACKOFF_MAX = 0.02, 1.0
#: Ceiling for the raised soft limit where the hard limit is "unlimited" (macOS OPEN_MAX).
_UNLIMITED_CAP = 10240
_LISTENER = "listener"  # selector data marking a listening socket


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE towards its hard limit; the new soft limit.

    The capture, the hook and the tests share one process's descriptors; a low soft limit
    (256 on macOS, 1024 on many Linux hosts) is the first thing a crowd of idle
    connections hits. Only the soft limit moves, which any process may do; hooks started
    afterwards inherit it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _UNLIMITED_CAP if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        for candidate in (target, _UNLIMITED_CAP):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (candidate, hard))
                return candidate
            except (ValueError, OSError):
                continue
    return soft


def _warn(message: str, *args: object) -> None:
    """A warning on the ``hoophooks_dk.capture`` logger. logging loads with the first client
    (``proxy_connection`` imports it); a proxy out of descriptors before it ever served
    one cannot load it, and goes on without the warning rather than stop."""
    try:
        import logging
    except OSError:
        return
    logging.getLogger("hoophooks_dk.capture").warning(message, *args)


#: Workers that serve complete requests: far more than hooks send at once, far fewer than
#: a process may start (a crowd of clients never takes more than these).
WORKERS = 32


class ProxyServer:
    """Listens on 127.0.0.1 (ephemeral port); serves each complete request on a worker."""

    def __init__(
        self,
        side: ServerSide,
        *,
        idle_timeout: float,
        workers: int = WORKERS,
        unix_path: str | None = None,
    ) -> None:
        self.side = side  # what connections need: answer, certificates, limits, auth
        self.idle_timeout = idle_timeout
        raise_fd_limit()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.port: int = self._listener.getsockname()[1]
        self._listeners = [self._listener]
        if unix_path is not None:  # the way in from a sandbox's network namespace
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            unix.bind(unix_path)
            unix.listen(1024)
            self._listeners.append(unix)
        for listener in self._listeners:
            listener.setblocking(False)
        self.lock = threading.Lock()  # guards the sets below and every wait/serve move
        self._waiting: set[Connection] = set()  # watched by the selector thread
        self._serving: set[Connection] = set()  # on a worker (or queued for one)
        self._to_watch: list[Connection] = []  # handed back by workers, not yet watched
        self._closing = False
        self._workers = WorkerPool(workers, name="hookdk-capture-conn")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        for listener in self._listeners:
            self._selector.register(listener, selectors.EVENT_READ, _LISTENER)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._paused_until: float | None = None  # accepting paused after EMFILE
        self._backoff = _BACKOFF_FIRST
        self._connection_type: type[Connection] | None = None  # loaded by the first accept
        self._step_type: Any = None
        self._thread = threading.Thread(target=self._loop, name="hookdk-capture", daemon=True)
        self._thread.start()

    @property
    def threads(self) -> int:
        """Threads serving clients now: the selector thread and the workers started."""
        return 1 + self._workers.threads

    # --- the selector thread -----------------------------------------------------------

    def _loop(self) -> None:
        next_sweep = time.monotonic() + min(1.0, self.idle_timeout / 4)
        while not self._closing:
            timeout = max(0.0, next_sweep - time.monotonic())
            if self._paused_until is not None:
                timeout = min(timeout, max(0.0, self._paused_until - time.monotonic()))
            for key, _ in self._selector.select(timeout):
                if key.data is _LISTENER:
                    self._accept_some(key.fileobj)
                elif key.fileobj is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                else:
                    self._advance(key.data, watched=True)
            self._watch_handed_back()
            if self._paused_until is not None and time.monotonic() >= self._paused_until:
                self._paused_until = None
                for listener in self._listeners:
                    self._selector.register(listener, selectors.EVENT_READ, _LISTENER)
            if time.monotonic() >= next_sweep:
                self._close_past_deadline()
                next_sweep = time.monotonic() + min(1.0, self.idle_timeout / 4)

    def _accept_some(self, listener: socket.socket) -> None:
        if self._connection_type is None:  # HTTP (h11) and TLS, before the first accept
            try:
                from .proxy_connection import Connection, Step
            except OSError as error:  # importing opens files: descriptors may have run out
                if error.errno not in _RESOURCE_ERRORS:
                    raise
                self._pause_accepting(error)  # and try again, as when accept() runs out
                return
            self._connection_type, self._step_type = Connection, Step
        for _ in range(64):  # a burst at a time, then let waiting connections be served
            with self.lock:  # accept and watch as one step, for is_quiet
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    return
                except OSError as error:
                    if error.errno in _RESOURCE_ERRORS:
                        self._pause_accepting(error)
                    return  # ECONNABORTED and the like: the next readiness retries
                self._backoff = _BACKOFF_FIRST
                connection = self._connection_type(sock, self)
                self._waiting.add(connection)
                self._selector.register(sock, selectors.EVENT_READ, connection)

    def _pause_accepting(self, error: OSError) -> None:
        """Out of descriptors: stop watching the listener for a while, then try again."""
        _warn("hookdk capture: accept failed (%s); retrying in %.2fs", error, self._backoff)
        for listener in self._listeners:
            self._selector.unregister(listener)
        self._paused_until = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, _BACKOFF_MAX)

    def _advance(self, connection: Connection, *, watched: bool) -> None:
        """Let ``connection`` read what arrived; then watch it for what it waits for, hand
        it to a worker, or close it (all under ``lock``: see ``is_quiet``)."""
        step = self._step_type
        with self.lock:
            if connection not in self._waiting:
                return  # closed meanwhile (stop)
            outcome = connection.advance()
            if outcome is step.READ or outcome is step.WRITE:
                events = selectors.EVENT_READ if outcome is step.READ else selectors.EVENT_WRITE
                if watched:
                    self._selector.modify(connection.sock, events, connection)
                else:
                    self._selector.register(connection.sock, events, connection)
                return
            if watched:
                self._selector.unregister(connection.sock)
            self._waiting.discard(connection)
            if outcome is step.SERVE:
                self._serving.add(connection)
        if outcome is step.SERVE:
            try:
                self._workers.submit(connection.serve)
                return
            except RuntimeError:  # no thread at all to be had: this client loses out
                self.forget(connection)
        connection.close()

    def _watch_handed_back(self) -> None:
        with self.lock:
            handed_back, self._to_watch = self._to_watch, []
        for connection in handed_back:  # what TLS or h11 already holds is read at once
            self._advance(connection, watched=False)

    def _close_past_deadline(self) -> None:
        now = time.monotonic()
        with self.lock:
            expired = [c for c in self._waiting if now > c.deadline]
            for connection in expired:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(connection.sock)
                self._waiting.discard(connection)
        for connection in expired:
            connection.close()

    # --- called by workers ------------------------------------------------------------

    def watch(self, connection: Connection) -> None:
        """Take back a connection that waits again (its worker is done with it)."""
        with self.lock:
            self._serving.discard(connection)
            if self._closing:
                connection.close()
                return
            self._waiting.add(connection)
            self._to_watch.append(connection)
        self._wake()

    def forget(self, connection: Connection) -> None:
        with self.lock:
            self._serving.discard(connection)
            self._waiting.discard(connection)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe is awake already
            self._wake_w.send(b"x")

    # --- for Capture --------------------------------------------------------------------

    def is_quiet(self) -> bool:
        """No request in flight: none on a worker, none partly read, none waiting to be
        accepted or read."""
        with self.lock:
            if self._serving or self._to_watch:
                return False
            if any(connection.partial for connection in self._waiting):
                return False
            poller = select.poll()
            for listener in self._listeners:
                poller.register(listener, select.POLLIN)
            for connection in self._waiting:
                try:
                    poller.register(connection.sock, select.POLLIN)
                except (OSError, ValueError):  # closed while we looked: look again
                    return False
            return not poller.poll(0)

    def close(self) -> None:
        """Stop accepting, close every connection, and wait for the workers briefly."""
        with self.lock:
            self._closing = True
        self._wake()
        self._thread.join()
        with self.lock:
            waiting, serving = list(self._waiting), list(self._serving)
            self._waiting.clear()
        for listener in self._listeners:
            listener.close()
        self._selector.close()
        for connection in serving:
            connection.abort()  # wakes a worker blocked on the socket
        for connection in waiting:
            connection.close()
        self._workers.close()
        for connection in serving:
            connection.close()
        self._wake_r.close()
        self._wake_w.close()
