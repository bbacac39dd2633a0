"""What the capture recorded of one request: ``CapturedRequest``, its ``CapturedResponse``,
and ``CaptureFailure``, an exception a test's route raised while answering it.

Records only: they are made by the capture (``capture.Capture``) and appended to its
``records.RecordLog``; tests, the leak checks and the reports read them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .bodies import DecodeError, SpooledBody, decode, decode_stream

__all__ = ["CaptureFailure", "CapturedRequest", "CapturedResponse", "header_text"]


@dataclass(frozen=True)
class CapturedResponse:
    """The answer the proxy gave, as the hook received it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class CapturedRequest:
    """One request a hook made.

    ``body`` is the bytes as they arrived (de-chunked, still content-encoded); ``content``
    is the body with its ``Content-Encoding`` undone (gzip, deflate; br and zstd when a
    library for them is installed), and what ``text``, ``json()`` and the leak checks read.
    A body past the spooling threshold lives in a file in the capture's folder until the
    capture stops; ``body`` and ``content`` load it on each access.
    """

    def __init__(
        self,
        index: int,
        time: datetime,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | SpooledBody,
        response: CapturedResponse,
        matched: bool = True,
        trailers: list[tuple[str, str]] | None = None,
        host_mismatch: bool = False,
        client: str = "",
        tunnel_headers: list[tuple[str, str]] | None = None,
        server_name: str | None = None,
    ) -> None:
        self.index = index
        self.time = time
        self.method = method
        self.url = url
        self.headers = headers
        self._body = body
        self.response = response
        self.matched = matched
        #: Trailer fields that followed a chunked body, in order.
        self.trailers = trailers or []
        #: The ``Host`` header named another host than the URL (the CONNECT target).
        self.host_mismatch = host_mismatch
        #: The tag of the proxy URL the client used (``environ(client=...)``): which hook
        #: run sent it, when several run at once.
        self.client = client
        #: The headers of the CONNECT that opened the tunnel it came through (the proxy's
        #: credentials left out): a proxy on the way would have seen them.
        self.tunnel_headers = tunnel_headers or []
        #: The host name the client asked for in TLS SNI (inside an HTTPS tunnel): it
        #: crosses the network in the clear.
        self.server_name = server_name
        self._content: bytes | None = None

    def __repr__(self) -> str:
        return f"<CapturedRequest #{self.index} {self.method} {self.url}>"

    @property
    def body(self) -> bytes:
        """The body as it arrived: de-chunked, still content-encoded."""
        return self._body.read() if isinstance(self._body, SpooledBody) else self._body

    @property
    def body_size(self) -> int:
        return len(self._body)

    @property
    def content(self) -> bytes:
        """The body with its ``Content-Encoding`` undone; the raw body if that fails."""
        if self._content is not None:
            return self._content
        try:
            content = decode(self.body, self.header("content-encoding"))
        except DecodeError:
            content = self.body
        if not isinstance(self._body, SpooledBody):  # large bodies are not kept in memory
            self._content = content
        return content

    def body_chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        """The body as it arrived, a piece at a time (a spooled body is never loaded)."""
        if isinstance(self._body, SpooledBody):
            yield from self._body.chunks(size)
        else:
            for at in range(0, len(self._body), size):
                yield self._body[at : at + size]

    def content_chunks(self) -> Iterator[bytes]:
        """The body with its ``Content-Encoding`` undone, a piece at a time, however large
        it decodes to (``bodies.decode_stream``), as far as it decodes."""
        encoding = self.header("content-encoding")
        if not encoding:
            yield from self.body_chunks()
            return
        with contextlib.suppress(DecodeError):
            yield from decode_stream(self.body_chunks(), encoding)

    @property
    def text(self) -> str:
        """The decoded body as text; bytes that are not UTF-8 become U+FFFD."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The decoded body parsed as JSON (raises ``json.JSONDecodeError`` if it is not)."""
        return json.loads(self.content)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, for the CLI and for reports."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": [[name, value] for name, value in self.headers],
            "body": self.text,
            "status": self.response.status,
            "time": self.time.timestamp(),  # seconds since the epoch
            "trailers": [[name, value] for name, value in self.trailers],
            "host_mismatch": self.host_mismatch,
            "tunnel_headers": [[name, value] for name, value in self.tunnel_headers],
            "server_name": self.server_name,
        }


@dataclass(frozen=True)
class CaptureFailure:
    """An exception a route or side effect raised while answering ``request``.

    A bug in the test's own code: the hook got a 502, and the test should hear of it
    (the ``hoop_siem`` fixture re-raises the first at teardown). httpx's transport
    errors (``httpx.ConnectError``, ``httpx.TimeoutException``...) are not failures: a
    side effect raises them on purpose, to play a network failure.
    """

    request: CapturedRequest
    error: BaseException

    def describe(self) -> str:
        return (
            f"raised by a capture route while answering request #{self.request.index} "
            f"{self.request.method} {self.request.url} (the hook got a 502)"
        )


def header_text(raw: bytes) -> str:
    """Header bytes as text: latin-1, the HTTP default, so every byte round-trips."""
    return raw.decode("latin-1")
