"""What the listening side, a connection and the capture hand each other.

``proxy_server`` owns the listener and ``proxy_connection`` serves one client; both need
these records, and the capture builds one of them. They live here, below both, so that
neither proxy module imports the other for its types (the server imports the connection
class, and nothing imports back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bodies import SPOOL_THRESHOLD, SpooledBody

if TYPE_CHECKING:
    from .certs import CertificateCache

__all__ = ["Exchange", "ServerSide"]


@dataclass(frozen=True)
class Exchange:
    """One complete request as the proxy read it, for ``ServerSide.answer``."""

    method: str
    url: str
    headers: list[tuple[bytes, bytes]]
    body: bytes | SpooledBody
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    host_mismatch: bool = False
    client: str = ""  # the tag in the proxy credentials' user name (see policy.credentials)
    #: The headers of the CONNECT that opened the tunnel it came through, if any.
    tunnel_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    server_name: str | None = None  # the name asked for in TLS SNI, inside a TLS tunnel


@dataclass
class ServerSide:
    """What every connection needs from the capture that owns it."""

    #: Route and record an exchange; returns the record, whose ``response`` is sent.
    answer: Callable[[Exchange], Any]
    certificates: CertificateCache
    #: The run's secret: the password of the proxy credentials (``policy.credentials``).
    secret: str
    spool_folder: Path | None = None
    spool_threshold: int = SPOOL_THRESHOLD
    socket_timeout: float = 10.0
    request_timeout: float = 120.0
    max_head: int = 64 * 1024
    #: Record a connection that is not HTTP (``connections.serve`` calls it with the
    #: fields of a ``CapturedConnection``, and ``client``).
    record_connection: Callable[..., Any] | None = None
    #: The programmed reply for a ``host:port``, or None (``connections.reply_for``).
    tcp_reply: Callable[[str], bytes | None] | None = None
