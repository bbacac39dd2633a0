"""``SyslogMessage``: one syslog message as the receiver recorded it, raw and parsed.

A record only: the receiver (``syslog_receiver``) makes it and appends it to the
capture's ``records.RecordLog``; tests, the leak checks and the reports read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .syslog_formats import CefEvent, LeefEvent, ParsedFrame

__all__ = ["SyslogMessage"]


@dataclass(frozen=True)
class SyslogMessage:
    """One message as it arrived: where from, how framed, its bytes, and what they say.

    ``raw`` is the frame without its framing (no length prefix, no trailing line feed).
    ``parsed`` is None when even the syslog header could not be read; ``error`` says why
    the frame, or its CEF or LEEF body, broke its format's rules (None when it did not).
    """

    index: int
    time: datetime
    transport: str  # "udp", "tcp" or "tls"
    framing: str  # "octet-counting", "non-transparent" (newline) or "datagram"
    raw: bytes
    peer: str
    server_name: str | None  # the host name a TLS client asked for (SNI)
    parsed: ParsedFrame | None
    error: str | None = None
    client: str = ""  # the fire whose own ports it came in on ("" : the shared ports)

    @property
    def malformed(self) -> bool:
        return self.error is not None

    @property
    def text(self) -> str:
        """The frame as text; bytes that are not UTF-8 become U+FFFD."""
        return self.raw.decode("utf-8", errors="replace")

    @property
    def message(self) -> str | None:
        """The MSG part (after the header and structured data)."""
        return self.parsed.message if self.parsed else None

    @property
    def structured_data(self) -> dict[str, dict[str, str]]:
        return self.parsed.structured_data if self.parsed else {}

    @property
    def cef(self) -> CefEvent | None:
        return self.parsed.cef if self.parsed else None

    @property
    def leef(self) -> LeefEvent | None:
        return self.parsed.leef if self.parsed else None

    @property
    def format(self) -> str:
        """``rfc5424`` or ``rfc3164``, with ``+cef`` or ``+leef``; ``malformed`` when the
        header could not be read."""
        if self.parsed is None:
            return "malformed"
        body = "+cef" if self.parsed.cef else "+leef" if self.parsed.leef else ""
        return self.parsed.format + body

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, for the CLI and for reports."""
        parsed = self.parsed
        result: dict[str, Any] = {
            "transport": self.transport,
            "framing": self.framing,
            "peer": self.peer,
            "server_name": self.server_name,
            "format": self.format,
            "raw": self.text,
            "error": self.error,
        }
        if parsed is not None:
            result["header"] = {
                "facility": parsed.facility,
                "severity": parsed.severity,
                "version": parsed.version,
                "timestamp": parsed.timestamp,
                "hostname": parsed.hostname,
                "app_name": parsed.app_name,
                "procid": parsed.procid,
                "msgid": parsed.msgid,
            }
            result["structured_data"] = parsed.structured_data
            result["message"] = parsed.message
            if parsed.cef is not None:
                result["cef"] = parsed.cef.to_dict()
            if parsed.leef is not None:
                result["leef"] = parsed.leef.to_dict()
        return result
