"""TCP that is not HTTP: a hook's raw sockets, recorded as connections and answered here.

The agent runtime's start-up module (``runtime/agent_site.py``) sends every TCP connection
a hook makes through the proxy as a CONNECT tunnel marked with the ``Hookdk-Socket``
header. HTTP and HTTPS in such a tunnel are served as any proxied request is; anything
else (a database protocol, a line of text, TLS around something that is not HTTP) is a
*connection*: ``CapturedConnection`` records where it went (the name or address the hook
asked for, and the port), every byte the hook sent (bounded by ``MAX_KEPT``), and what
the capture answered. Nothing ever connects onward.

How a connection is answered, and why:

* **A programmed reply** (``Capture.reply_tcp("db.example.com:5432", b"...")``, the first
  matching ``host:port`` glob) is sent at once, before the client says anything: that
  serves both protocols where the server speaks first (SMTP, MySQL) and those where it
  answers a request (a client that sends and then reads finds the reply waiting).
* **Otherwise the capture reads, then closes**: what the client sends until it closes its
  side, or until it has been quiet for ``QUIET`` seconds after sending (a client waiting
  for an answer that will not come); the client then sees the connection closed.
* **The first bytes decide what a tunnel carries** (``sniff``): a TLS handshake is
  intercepted with a certificate for the target, then the decrypted bytes decide again;
  an HTTP request line is HTTP; anything else is a connection. A client that says nothing
  for ``socket_timeout`` is recorded with no bytes, and closed.

``proxy_connection`` calls ``sniff`` and ``serve`` for tunnels with the header; the
recording itself is ``Capture``'s (``ServerSide.record_connection``).
"""

from __future__ import annotations

import fnmatch
import re
import select
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .records import TCP  # the record kind of connections in the capture's log

__all__ = [
    "MAX_KEPT",
    "QUIET",
    "SOCKET_HEADER",
    "TCP",
    "CapturedConnection",
    "is_socket_tunnel",
    "looks_like_http",
    "reply_for",
    "serve",
]

#: The CONNECT header the agent runtime's start-up module sends (``agent_site``).
SOCKET_HEADER = b"hookdk-socket"
#: Seconds of silence after the client's last bytes before the capture closes.
QUIET = 0.5
#: Bytes of a connection kept in its record; the rest is counted, not kept.
MAX_KEPT = 1 << 20

_REQUEST_LINE = re.compile(rb"[A-Z]{3,10} \S")


@dataclass(frozen=True)
class CapturedConnection:
    """One TCP connection a hook made that was not HTTP."""

    index: int
    time: datetime
    host: str  # the name the hook looked up, or the address it connected to
    port: int
    data: bytes  # what the hook sent, up to MAX_KEPT bytes
    size: int  # how many bytes it sent in all
    reply: bytes  # what the capture answered (a programmed reply, or nothing)
    tls: bool = False  # the hook spoke TLS (intercepted): ``data`` is what it encrypted
    server_name: str | None = None  # the name a TLS client asked for (SNI)
    closed_by: str = "client"  # "client", or "capture" once the client went quiet
    client: str = ""  # the fire it came from (the proxy credentials' tag)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"<CapturedConnection #{self.index} {self.address} {self.size} byte(s)>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "bytes": self.size,
            "data": self.text,
            "tls": self.tls,
            "server_name": self.server_name,
            "reply": self.reply.decode("utf-8", errors="replace"),
            "closed_by": self.closed_by,
            "time": self.time.timestamp(),
        }

    # the leak checks (``leaks.find_leaks``) read any record through these two

    def leak_places(self) -> list[tuple[str, list[tuple[bytes, str | None]]]]:
        return [("address", [(self.host.encode(), None)]), ("data", [(self.data, None)])]

    def leak_source(self) -> tuple[str, dict[str, Any]]:
        """How a leak's report names this record: words, and JSON fields."""
        return f"the connection #{self.index} to {self.address}", {
            "connection": self.index,
            "address": self.address,
        }


def is_socket_tunnel(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a CONNECT came from the agent runtime's start-up module."""
    return any(name.lower() == SOCKET_HEADER for name, _ in headers)


def looks_like_http(first: bytes) -> bool | None:
    """Whether a stream that starts with ``first`` is HTTP: True, False, or None when
    there are too few bytes to tell (an upper-case word still arriving)."""
    if _REQUEST_LINE.match(first):
        return True
    head = first[:11]
    if head.isalpha() and head.isupper() and b" " not in head and len(first) < 11:
        return None
    return False


def reply_for(replies: Sequence[tuple[str, bytes]], authority: str) -> bytes | None:
    """The first programmed reply whose ``host:port`` glob matches ``authority``."""
    for pattern, data in replies:
        if fnmatch.fnmatchcase(authority.lower(), pattern.lower()):
            return data
    return None


def sniff(sock: socket.socket, timeout: float) -> bytes | None:
    """The first bytes of a plain tunnel, left in the socket (peeked) so that whoever
    serves it reads them again: enough to tell HTTP, or what came before the client went
    quiet; None when nothing came within ``timeout``."""
    deadline = time.monotonic() + timeout
    seen, quiet_after = b"", deadline
    while _readable(sock, deadline - time.monotonic()):
        now_seen = sock.recv(64, socket.MSG_PEEK)
        if not now_seen or looks_like_http(now_seen) is not None or len(now_seen) >= 64:
            return now_seen
        if now_seen != seen:  # an upper-case word still arriving: give it QUIET more
            seen, quiet_after = now_seen, time.monotonic() + QUIET
        elif time.monotonic() >= quiet_after:
            return seen
        time.sleep(0.001)
    return seen or None


def read_first(sock: ssl.SSLSocket, timeout: float) -> bytes | None:
    """The first decrypted bytes of a TLS tunnel (they cannot be peeked: the caller hands
    them on to whichever side serves the tunnel); None when nothing came in time."""
    deadline = time.monotonic() + timeout
    first = b""
    while not first or looks_like_http(first) is None:
        if not sock.pending() and not _readable(sock, deadline - time.monotonic()):
            return first or None
        chunk = sock.recv(65536)
        if not chunk:
            return first
        first += chunk
        deadline = time.monotonic() + QUIET
    return first


def serve(
    sock: socket.socket,
    authority: str,
    record: Callable[..., Any],
    *,
    first: bytes = b"",
    reply: bytes | None = None,
    server_name: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Serve one connection that is not HTTP: send ``reply`` (if any), read until the
    client closes or goes quiet, record it. ``first``: bytes already read from it."""
    host, port = _split(authority)
    tls = isinstance(sock, ssl.SSLSocket)
    if reply:
        sock.sendall(reply)
    kept, size, closed_by = bytearray(first[:MAX_KEPT]), len(first), "client"
    deadline = time.monotonic() + timeout  # for the first bytes; then QUIET after each
    while True:
        pending = tls and sock.pending() > 0
        if not pending and not _readable(sock, deadline - time.monotonic()):
            closed_by = "capture"
            break
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            break
        if not chunk:
            break
        kept += chunk[: max(0, MAX_KEPT - len(kept))]
        size += len(chunk)
        deadline = time.monotonic() + QUIET
    record(
        host=host,
        port=port,
        data=bytes(kept),
        size=size,
        reply=reply or b"",
        tls=tls,
        server_name=server_name,
        closed_by=closed_by,
    )


def _readable(sock: socket.socket, seconds: float) -> bool:
    if seconds <= 0:
        seconds = 0
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


def _split(authority: str) -> tuple[str, int]:
    host, _, port = authority.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port) if port.isdigit() else 0
