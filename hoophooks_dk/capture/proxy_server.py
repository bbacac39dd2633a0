"""The capture's listening side: accept connections, hold idle ones, hand busy ones to threads.

Why it is built this way:

* **Idle connections cost a file descriptor, not a thread.** One selector thread
  (``selectors.DefaultSelector``: epoll or kqueue, no 1024-descriptor ceiling as with
  ``select()``) accepts connections and watches every idle one. When an idle connection
  has bytes, it goes to a thread of its own (``proxy_connection``), which serves it while
  it stays busy, lingers a moment for the next request on a kept-alive connection, then
  hands it back. Thousands of idle keep-alive connections are a few thousand descriptors
  and one thread.
* **It keeps serving when descriptors run out.** ``accept()`` failing with EMFILE (or
  ENFILE, ENOBUFS, ENOMEM) pauses accepting for a short, growing delay and then retries;
  waiting clients sit in the listen backlog meanwhile. At start the process raises its own
  soft ``RLIMIT_NOFILE`` towards the hard limit (macOS starts at 256).
* **HTTP and TLS load with the first client.** The selector thread imports
  ``proxy_connection`` (h11, ssl) before its first accept, so a ``hookdk fire`` whose
  hook sends nothing never pays for them (warming them up front, overlapped with the
  hook's start, measured slower on a busy two-core machine: the import competes for the
  CPU and the GIL with the start-up it was meant to hide).
* **Idle connections are closed after ``idle_timeout``** (the busy thread enforces its own
  deadlines), so a client that connects and says nothing holds nothing for long.
* **``is_quiet`` cannot miss a request that just began.** A connection is either idle (in
  ``_idle``, its socket empty of buffered bytes) or busy, and it moves from idle to busy
  under ``lock`` before any byte is read: ``is_quiet`` looks under the same lock at the
  busy count and at whether any idle socket (or the listener) is readable.
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
from typing import TYPE_CHECKING

from .exchange import Exchange, ServerSide

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


class ProxyServer:
    """Listens on 127.0.0.1 (ephemeral port); serves each busy connection in a thread."""

    def __init__(
        self,
        side: ServerSide,
        *,
        idle_timeout: float,
        linger: float = 1.0,
        unix_path: str | None = None,
    ) -> None:
        self.side = side  # what connections need: answer, certificates, limits, auth
        self.idle_timeout = idle_timeout
        self.linger = min(linger, idle_timeout)
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
        self.lock = threading.Lock()  # guards the sets below and every idle/busy move
        self._connections: set[Connection] = set()
        self._idle: set[Connection] = set()  # idle: here or lingering in its thread
        self._to_watch: list[Connection] = []  # handed back by threads, not yet registered
        self._closing = False
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
        self._thread = threading.Thread(target=self._loop, name="hookdk-capture", daemon=True)
        self._thread.start()

    # --- the selector thread -----------------------------------------------------------

    def _loop(self) -> None:
        next_sweep = time.monotonic() + self.idle_timeout / 4
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
                    self._activate(key.data)
            self._watch_handed_back()
            if self._paused_until is not None and time.monotonic() >= self._paused_until:
                self._paused_until = None
                for listener in self._listeners:
                    self._selector.register(listener, selectors.EVENT_READ, _LISTENER)
            if time.monotonic() >= next_sweep:
                self._close_idle_past_deadline()
                next_sweep = time.monotonic() + min(1.0, self.idle_timeout / 4)

    def _accept_some(self, listener: socket.socket) -> None:
        if self._connection_type is None:  # HTTP (h11) and TLS, before the first accept
            try:
                from .proxy_connection import Connection
            except OSError as error:  # importing opens files: descriptors may have run out
                if error.errno not in _RESOURCE_ERRORS:
                    raise
                self._pause_accepting(error)  # and try again, as when accept() runs out
                return
            self._connection_type = Connection
        for _ in range(64):  # a burst at a time, then let idle connections be served
            with self.lock:  # accept and register as one step, for is_quiet
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
                self._connections.add(connection)
                self._idle.add(connection)
                connection.idle_since = time.monotonic()
                self._selector.register(sock, selectors.EVENT_READ, connection)

    def _pause_accepting(self, error: OSError) -> None:
        """Out of descriptors: stop watching the listener for a while, then try again."""
        _warn("hookdk capture: accept failed (%s); retrying in %.2fs", error, self._backoff)
        for listener in self._listeners:
            self._selector.unregister(listener)
        self._paused_until = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, _BACKOFF_MAX)

    def _activate(self, connection: Connection) -> None:
        """An idle connection has bytes (or closed): serve it in a thread of its own."""
        with self.lock:
            self._selector.unregister(connection.sock)
            self._idle.discard(connection)
        connection.thread = threading.Thread(
            target=connection.serve, name="hookdk-capture-conn", daemon=True
        )
        try:
            connection.thread.start()
        except RuntimeError:  # no thread to be had: this client loses its connection
            self.forget(connection)
            connection.close()

    def _watch_handed_back(self) -> None:
        with self.lock:
            handed_back, self._to_watch = self._to_watch, []
            for connection in handed_back:
                if connection in self._idle:
                    self._selector.register(connection.sock, selectors.EVENT_READ, connection)

    def _close_idle_past_deadline(self) -> None:
        now = time.monotonic()
        with self.lock:
            watched = {key.data for key in self._selector.get_map().values() if key.data}
            expired = [
                c for c in watched if c in self._idle and now - c.idle_since > self.idle_timeout
            ]
            for connection in expired:
                self._selector.unregister(connection.sock)
                self._idle.discard(connection)
                self._connections.discard(connection)
        for connection in expired:
            connection.close()

    # --- called by connection threads ---------------------------------------------------

    def went_idle(self, connection: Connection) -> None:
        """The connection finished a request with nothing more buffered."""
        with self.lock:
            connection.idle_since = time.monotonic()
            self._idle.add(connection)

    def became_busy(self, connection: Connection) -> bool:
        """A lingering connection has bytes; False if it was closed meanwhile."""
        with self.lock:
            if connection not in self._connections:
                return False
            self._idle.discard(connection)
            return True

    def watch(self, connection: Connection) -> None:
        """Take back an idle connection its thread stopped lingering on."""
        with self.lock:
            if connection not in self._connections:
                return
            self._to_watch.append(connection)
        self._wake()

    def forget(self, connection: Connection) -> None:
        with self.lock:
            self._connections.discard(connection)
            self._idle.discard(connection)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe is awake already
            self._wake_w.send(b"x")

    # --- for Capture --------------------------------------------------------------------

    def is_quiet(self) -> bool:
        """No request in flight: none half-read, none waiting to be accepted or read."""
        with self.lock:
            if len(self._idle) != len(self._connections):
                return False
            poller = select.poll()
            for listener in self._listeners:
                poller.register(listener, select.POLLIN)
            for connection in self._idle:
                try:
                    poller.register(connection.sock, select.POLLIN)
                except (OSError, ValueError):  # closed while we looked: look again
                    return False
            return not poller.poll(0)

    def close(self) -> None:
        """Stop accepting, close every connection, and wait for their threads briefly."""
        with self.lock:
            self._closing = True
            connections = list(self._connections)
        self._wake()
        self._thread.join()
        for listener in self._listeners:
            listener.close()
        self._selector.close()
        for connection in connections:
            connection.abort()  # wakes a thread blocked on the socket
        for connection in connections:
            if connection.thread is not None and connection.thread.is_alive():
                connection.thread.join(timeout=1.0)
            connection.close()
        self._wake_r.close()
        self._wake_w.close()
