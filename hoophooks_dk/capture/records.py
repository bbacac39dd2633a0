"""One numbered log of everything the capture recorded: HTTP requests and syslog messages.

A hook may send both (an HTTP SIEM and a syslog relay), and a reader (one fire of the
emulator, one test's ``Siem``) wants what was sent from a moment on, by one hook run.
So the proxy and the syslog receiver append to one ``RecordLog``, and a reader takes one
``mark()`` and reads ``since(mark)`` in one place, whatever the kind.

Choices, and why:

* **Marks are positions that never go back.** Every record takes the next position, and
  ``reset`` forgets records without reusing positions, so a mark taken before a reset
  (or a reset of one kind only) still means "from then on".
* **Each kind is numbered on its own, from 0 after its reset.** ``CapturedRequest.index``
  and ``SyslogMessage.index`` are what reports and tests show (``#0``, ``#1``...); they
  count requests and messages, not positions in the shared log.
* **Numbering and appending are one step.** ``append`` numbers the record and stores it
  under the log's lock, so ``index`` order is the order of the log, for every kind.
* **One client-tag rule.** A record's ``client`` is the tag of the hook run that sent it
  (HTTP: the proxy credentials' user name; syslog: the run's own ports), "" when it
  came by the shared proxy URL or ports; ``since(mark, client=tag)`` keeps the records
  of that run and the untagged ones, for both kinds. The log also notes when each tag
  was handed out (``hand_out``), so a reader knows which runs started after its mark
  (``clients_since``): what came from any other is not its own.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["HTTP", "NOTE", "SYSLOG", "TCP", "UDP", "RecordLog"]

#: The kinds of record: requests the proxy answered, messages the syslog receiver read,
#: connections that were not HTTP, UDP datagrams, and what the agent runtime noticed
#: (``connections``, ``datagrams``).
HTTP = "http"
SYSLOG = "syslog"
TCP = "tcp"
UDP = "udp"
NOTE = "note"

R = TypeVar("R")


class RecordLog:
    """Records of several kinds, in order of arrival; safe to share between threads.

    A record is any object with a ``client`` attribute (the tag of the run that sent it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[int, str, Any]] = []  # (position, kind, record)
        self._next = 0  # the position the next record takes
        self._counts: dict[str, int] = {}  # per kind: the index the next record takes
        self._clients: list[tuple[int, str]] = []  # (position when handed out, tag)

    def append(self, kind: str, make: Callable[[int], R]) -> R:
        """Record what ``make(index)`` returns, ``index`` counting this ``kind`` from 0.

        ``make`` runs under the log's lock: keep it to building the record.
        """
        with self._lock:
            index = self._counts.get(kind, 0)
            record = make(index)
            self._counts[kind] = index + 1
            self._entries.append((self._next, kind, record))
            self._next += 1
        return record

    def hand_out(self, client: str) -> None:
        """Note that a run tagged ``client`` starts now (its records follow)."""
        if client:
            with self._lock:
                self._clients.append((self._next, client))

    def clients_since(self, mark: int) -> set[str]:
        """The tags handed out from ``mark`` on."""
        with self._lock:
            start = bisect.bisect_left(self._clients, mark, key=lambda entry: entry[0])
            return {client for _, client in self._clients[start:]}

    def mark(self) -> int:
        """The position the next record will take; pass it to ``since``."""
        with self._lock:
            return self._next

    def since(self, mark: int = 0, *, kind: str | None = None, client: str | None = None) -> list:
        """Records from ``mark`` on (0: all), in order; only of ``kind`` when given; with
        ``client``, only that client's and the untagged ones (``client in (tag, "")``)."""
        with self._lock:
            start = bisect.bisect_left(self._entries, mark, key=lambda entry: entry[0])
            found = self._entries[start:]
        return [
            record
            for _, of, record in found
            if (kind is None or of == kind) and (client is None or record.client in (client, ""))
        ]

    def reset(self, kind: str | None = None) -> list:
        """Forget the records (of ``kind`` only, when given) and restart their numbering
        from 0; returns what was forgotten, for the caller to free (spooled bodies)."""
        with self._lock:
            kept = [e for e in self._entries if kind is not None and e[1] != kind]
            forgotten = [e[2] for e in self._entries if kind is None or e[1] == kind]
            self._entries = kept
            if kind is None:
                self._counts.clear()
                self._clients.clear()
            else:
                self._counts.pop(kind, None)
        return forgotten
