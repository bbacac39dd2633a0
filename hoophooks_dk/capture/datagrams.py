"""UDP a hook sends, and what the agent runtime reports that no socket shows.

The agent runtime's start-up module (``runtime/agent_site.py``) turns every UDP datagram
a hook sends (to anything but a syslog port, which goes to the syslog receiver) into one
datagram to ``DatagramPort``, behind a header line: ``HOOKDK1 KIND USER SECRET HOST
PORT``. The same port hears what the module notices and no connection carries: a name
the hook looked up (``dns``), a program it started that does not load the module
(``process``), a Unix socket it connected to (``unix``).

Choices, and why:

* **Locked as the proxy is.** USER and SECRET are the proxy credentials of the run
  (``hookdk`` or ``hookdk.<client>``, and the run's secret, compared in constant time),
  so another local process cannot post into a test's results, and each datagram is
  recorded with the client that sent it. A datagram without them is dropped.
* **One thread, started with the capture.** It blocks on the socket; ``is_quiet`` looks
  at whether a datagram is waiting or being recorded, as the syslog receiver does, so a
  fire's result, read after ``wait_idle``, holds everything its hook sent before it ended
  (a datagram to 127.0.0.1 is in the socket's buffer when ``sendto`` returns).
* **Records in the capture's one log**: ``CapturedDatagram`` (kind ``udp``) and
  ``RuntimeNote`` (kind ``note``), beside its requests and syslog messages.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .port_lock import PROXY_USER
from .records import NOTE, UDP, RecordLog

__all__ = ["NOTE", "UDP", "CapturedDatagram", "DatagramPort", "RuntimeNote"]

MAGIC = b"HOOKDK1"
KINDS = {b"udp", b"dns", b"process", b"unix"}


@dataclass(frozen=True)
class CapturedDatagram:
    """One UDP datagram a hook sent (to a port that is not syslog's)."""

    index: int
    time: datetime
    host: str
    port: int
    data: bytes
    client: str = ""

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "bytes": len(self.data),
            "data": self.data.decode("utf-8", errors="replace"),
            "time": self.time.timestamp(),
        }

    def leak_places(self) -> list[tuple[str, list[tuple[bytes, str | None]]]]:
        return [("address", [(self.host.encode(), None)]), ("data", [(self.data, None)])]

    def leak_source(self) -> tuple[str, dict[str, Any]]:
        return f"the UDP datagram #{self.index} to {self.address}", {
            "datagram": self.index,
            "address": self.address,
        }


@dataclass(frozen=True)
class RuntimeNote:
    """What the agent runtime noticed: a name looked up (``dns``), a program started that
    may go around the capture (``process``), a Unix socket connected to (``unix``)."""

    index: int
    time: datetime
    kind: str
    detail: str
    client: str = ""

    def leak_places(self) -> list[tuple[str, list[tuple[bytes, str | None]]]]:
        if self.kind != "dns":
            return []
        name = self.detail.encode()
        return [("name", [(name, None), (name.lower(), "case-folded")])]

    def leak_source(self) -> tuple[str, dict[str, Any]]:
        return f"the DNS lookup of {self.detail}", {"dns": self.detail}


class DatagramPort:
    """A UDP port on 127.0.0.1 that records what the agent runtime sends it."""

    def __init__(self, secret: str, records: RecordLog) -> None:
        self._secret = secret.encode()
        self.records = records
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self._busy = False
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="hookdk-datagrams", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for sock in (self.sock, self._wake_r, self._wake_w):
            sock.close()

    def is_quiet(self) -> bool:
        with self._lock:
            if self._busy:
                return False
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return not poller.poll(0)

    def _serve(self) -> None:
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_r.fileno() in ready:
                return
            with self._lock:  # taken off the socket and marked busy in one step
                try:
                    data = self.sock.recv(65535)
                except OSError:
                    continue
                self._busy = True
            try:
                self._record(data)
            finally:
                self._busy = False

    def _record(self, data: bytes) -> None:
        head, _, body = data.partition(b"\n")
        parts = head.split(b" ")
        if len(parts) != 6 or parts[0] != MAGIC or parts[1] not in KINDS:
            return
        _, kind, user, secret, host, port = parts
        import hmac  # here, not at the capture's start: it loads OpenSSL

        client = _client(user)
        if client is None or not hmac.compare_digest(secret, self._secret):
            return
        now = datetime.now(UTC)
        text = host.replace(b"%20", b" ").decode("utf-8", "replace")
        make: Callable[[int], Any]
        if kind == b"udp":
            number = int(port) if port.isdigit() else 0
            make = lambda index: CapturedDatagram(index, now, text, number, body, client)  # noqa: E731
            self.records.append(UDP, make)
        else:
            detail = body.decode("utf-8", "replace")
            make = lambda index: RuntimeNote(index, now, kind.decode(), detail, client)  # noqa: E731
            self.records.append(NOTE, make)


def _client(user: bytes) -> str | None:
    """The client a proxy user name tags (``hookdk.<client>``), "" for ``hookdk``, None
    for anything else."""
    ours = PROXY_USER.encode()
    if user == ours:
        return ""
    if user.startswith(ours + b"."):
        return user[len(ours) + 1 :].decode("latin-1")
    return None
