"""The proxy's decisions, as functions over bytes and records: no sockets, no threads.

After h11 and mitmproxy's layers: what a connection does with a request is decided here,
from the request's head and what the connection already knows of its client (``Peer``);
``proxy_connection`` only moves bytes and calls these. So every decision can be tested
byte for byte without a socket (tests/test_capture_policy.py), and read in one place:

* **What is refused** (``admit``): anything but HTTP/1.0 and 1.1 (400), a head past the
  size limit (431), a CONNECT inside a tunnel (405), and, outside a tunnel, a request
  without the run's proxy credentials (407: the port lock). A refused request is never
  recorded; the connection is closed after the answer (``refusal_response``).
* **The port lock's credentials** (``credentials``): ``Proxy-Authorization: Basic
  base64(user:secret)`` with user ``hookdk`` or ``hookdk.<client>``, parsed once for
  both questions, whether the secret is the run's and which client it tags (how the
  capture makes them is ``port_lock``'s).
* **What a CONNECT tunnel carries** (``tunnel_protocol``): its first byte decides TLS
  (a handshake record) or plain HTTP.
* **Which URL is recorded** (``request_url``): rebuilt from the CONNECT target inside a
  tunnel, from an absolute request target, else from ``Host``; a ``Host`` naming
  another host is kept and flagged.
* **What is recorded and how answers are framed** (``recorded_headers``,
  ``forwarded_headers``, ``frame_response``): the proxy's own header never reaches the
  record or the routes; the proxy frames every answer itself.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from .port_lock import PROXY_USER, basic_authorization, proxy_user

__all__ = [
    "PROXY_AUTHENTICATION_REQUIRED",
    "PROXY_USER",
    "Credentials",
    "FramedResponse",
    "Peer",
    "Refusal",
    "RequestHead",
    "RequestUrl",
    "admit",
    "basic_authorization",
    "certificate_host",
    "credentials",
    "forwarded_headers",
    "frame_response",
    "opened_tunnel",
    "protocol_refusal",
    "proxy_user",
    "reason",
    "recorded_headers",
    "refusal_response",
    "request_url",
    "tunnel_protocol",
]

#: The first byte of a TLS handshake record: a CONNECT tunnel that starts with it is TLS.
TLS_HANDSHAKE = b"\x16"
#: Hop-by-hop and framing headers of a programmed answer: the proxy frames it itself.
NOT_FORWARDED = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"content-length"})
#: Meant for the proxy, never seen by the SIEM: not recorded, not routed.
PROXY_ONLY = frozenset({b"proxy-authorization"})
#: Answers that never have a body, whatever the request (RFC 9110 sections 15.3.5, 15.4.5).
NO_BODY_STATUSES = frozenset({204, 304})
HTTP_VERSIONS = (b"1.0", b"1.1")

_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


# --- the records -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestHead:
    """A request's head as parsed: its bytes as the client sent them."""

    method: bytes
    target: bytes
    http_version: bytes
    #: (name, value) as sent, the name's case kept (what is recorded and routed).
    headers: Sequence[tuple[bytes, bytes]] = ()

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (given in lowercase), or None."""
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def size(self) -> int:
        """The head's size as the limit counts it: the same number whether it came in one
        read or many, in TLS records or not (the request line's spaces and version, and
        the blank line, are left out; each header line counts its ``": "`` and CRLF)."""
        fields = sum(len(name) + len(value) + 4 for name, value in self.headers)
        return len(self.method) + len(self.target) + fields


@dataclass(frozen=True)
class Peer:
    """What a connection knows of its client between requests."""

    #: The client showed the run's credentials (once is enough on a connection).
    authorized: bool = False
    #: The tag of the proxy credentials' user name: which hook run this client is.
    client: str = ""
    #: The CONNECT target (``host:port``) once the connection is a tunnel.
    tunnel: str | None = None
    #: ``https`` inside a TLS tunnel, ``http`` otherwise.
    scheme: str = "http"
    #: The CONNECT's own headers (the proxy's credentials left out): they leave the
    #: machine with the tunnel, so each request of the tunnel is recorded with them.
    tunnel_headers: tuple[tuple[bytes, bytes], ...] = ()
    #: The host name the client asked for in TLS SNI, inside a TLS tunnel.
    server_name: str | None = None


@dataclass(frozen=True)
class Refusal:
    """An answer that ends the connection: the request is not served nor recorded."""

    status: int
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class Credentials:
    """What a ``Proxy-Authorization`` value says: the client it tags, and whether it is
    the run's (a ``hookdk`` user name and the run's secret)."""

    client: str = ""
    valid: bool = False


class RequestUrl(NamedTuple):
    """The URL a request is recorded and routed under."""

    url: str
    #: The ``Host`` header names another host than the URL (the CONNECT target, say).
    host_mismatch: bool


class FramedResponse(NamedTuple):
    """An answer as it goes on the wire: its head's fields, and the body to send."""

    headers: list[tuple[bytes, bytes]]
    body: bytes


#: The port lock's answer to a client without the run's credentials.
PROXY_AUTHENTICATION_REQUIRED = Refusal(
    407,
    "hookdk capture: this proxy serves only the hooks hookdk starts",
    ((b"Proxy-Authenticate", b'Basic realm="hookdk"'),),
)


# --- the port lock ---------------------------------------------------------------------


def credentials(value: bytes | None, secret: str) -> Credentials:
    """Read a ``Proxy-Authorization`` value (None: absent) against the run's ``secret``.

    Only ``Basic`` is spoken, as every client a hook uses sends it from a proxy URL's
    user and password. The user must be ``hookdk`` or ``hookdk.<client>``; the password
    is compared in constant time (``hmac.compare_digest``), so the answer's timing says
    nothing of how much of a guess was right. Anything unreadable is simply not valid.
    """
    if value is None:
        return Credentials()
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"basic":
        return Credentials()
    try:
        user_password = base64.b64decode(token.strip(), validate=True)
    except ValueError:  # binascii.Error: not base64
        return Credentials()
    user, _, password = user_password.partition(b":")
    ours, tagged = user == PROXY_USER.encode(), user.startswith(f"{PROXY_USER}.".encode())
    if not (ours or tagged):
        return Credentials()
    import hmac  # on a connection's thread, not on hookdk's start-up (it loads OpenSSL)

    client = user[len(PROXY_USER) + 1 :].decode("latin-1") if tagged else ""
    return Credentials(client, hmac.compare_digest(password, secret.encode()))


# --- what is refused -------------------------------------------------------------------


def admit(head: RequestHead, peer: Peer, *, max_head: int, secret: str) -> Refusal | Peer:
    """Serve this request, or refuse it; when served, what the connection knows next.

    In order: a version other than HTTP/1.0 or 1.1 (HTTP/2's preface ``PRI * HTTP/2.0``
    included) is refused 400, as nothing else is spoken; a head past ``max_head`` 431;
    a CONNECT inside a tunnel 405 (nothing would answer it). Outside a tunnel, a client
    that has not yet shown the run's credentials must show them now or get 407: the port
    is locked so that another local process cannot post into a test's results. Inside
    an authorised tunnel nothing more is asked (clients do not repeat proxy credentials
    there).
    """
    if head.http_version not in HTTP_VERSIONS:
        version = head.http_version.decode("latin-1")
        return Refusal(400, f"hookdk capture speaks HTTP/1.1 only, not HTTP/{version}")
    if head.size > max_head:
        return Refusal(431, f"hookdk capture: request head over {max_head} bytes")
    if head.method == b"CONNECT" and peer.tunnel is not None:
        return Refusal(405, "hookdk capture: CONNECT inside a tunnel is not supported")
    if peer.tunnel is None and not peer.authorized:
        shown = credentials(head.header(b"proxy-authorization"), secret)
        if not shown.valid:
            return PROXY_AUTHENTICATION_REQUIRED
        return replace(peer, authorized=True, client=shown.client)
    return peer


def protocol_refusal(status_hint: int, detail: object) -> Refusal:
    """What malformed HTTP gets (h11's error and its suggested status), before closing."""
    return Refusal(status_hint, f"hookdk capture: {detail}")


# --- CONNECT ---------------------------------------------------------------------------


def tunnel_protocol(first: bytes, *, early: bool) -> str | None:
    """What a CONNECT tunnel carries, from its first bytes: ``"tls"``, ``"http"``, or None
    to close it (the client closed, or it sent TLS before reading the proxy's 200).

    ``early``: the bytes came with the CONNECT itself, before the client could have read
    our answer. A client that starts TLS that early is not supported (the handshake would
    have to be replayed from the parser's buffer); plain HTTP that early is served.
    """
    if not first:
        return None
    if first.startswith(TLS_HANDSHAKE):
        return None if early else "tls"
    return "http"


def opened_tunnel(
    peer: Peer, authority: str, protocol: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> Peer:
    """The connection once it tunnels to ``authority`` (the CONNECT target), which the
    CONNECT asked for with ``headers``."""
    scheme = "https" if protocol == "tls" else "http"
    return replace(peer, tunnel=authority, scheme=scheme, tunnel_headers=tuple(headers))


def certificate_host(authority: str) -> str:
    """The name the tunnel's certificate is for: ``host`` of ``host:port``,
    ``[v6]:port`` or a bare host, brackets removed."""
    if authority.startswith("["):
        return authority[1 : authority.index("]")]
    host, sep, port = authority.rpartition(":")
    return host if sep and port.isdigit() else authority


# --- which URL -------------------------------------------------------------------------


def request_url(
    target: bytes, host: bytes | None, *, tunnel: str | None, scheme: str
) -> RequestUrl:
    """The full URL a request is recorded and routed under, and whether ``Host`` disagrees.

    Inside a tunnel the authority is the CONNECT target: the address the client's
    connection was for, whatever the ``Host`` header says (a path-only or absolute target
    keeps only its path). Outside one, an absolute target (``http://host/path``, what
    clients send a proxy) gives scheme and authority; an origin-form target falls back to
    ``Host``, else ``localhost``. A default port (80 for http, 443 for https) is dropped
    so that the URL reads as the client's code wrote it.
    """
    text = target.decode("latin-1")
    host_text = host.decode("latin-1") if host is not None else None
    absolute = _ABSOLUTE_URL.match(text)
    if tunnel is not None:
        authority = tunnel
        path = text[absolute.end() :] if absolute else text
    elif absolute:
        scheme, _, authority = absolute.group().partition("://")
        scheme = scheme.lower()
        path = text[absolute.end() :]
    else:
        scheme, authority, path = "http", host_text or "localhost", text
    url = f"{scheme}://{_without_default_port(authority, scheme)}{path}"
    mismatch = host_text is not None and not _same_authority(host_text, authority, scheme)
    return RequestUrl(url, mismatch)


def _without_default_port(authority: str, scheme: str) -> str:
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        return host
    return authority


def _same_authority(one: str, other: str, scheme: str) -> bool:
    def norm(authority: str) -> str:
        return _without_default_port(authority.strip().lower(), scheme)

    return norm(one) == norm(other)


# --- what is recorded, and how answers are framed --------------------------------------


def recorded_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The request's headers as recorded and routed: all but the proxy's own (the run's
    secret would otherwise show up in every record, and no SIEM would see it)."""
    return [(name, value) for name, value in headers if name.lower() not in PROXY_ONLY]


def forwarded_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A programmed answer's end-to-end headers: framing and hop-by-hop headers go (the
    proxy frames the answer itself), and so does ``Content-Encoding``, since respx hands
    over the body already decoded."""
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in NOT_FORWARDED and name.lower() != b"content-encoding"
    ]


def frame_response(
    method: bytes, status: int, headers: Iterable[tuple[str, str]], body: bytes
) -> FramedResponse:
    """The head's fields and the body to send for an answer to a ``method`` request.

    Every answer is framed by ``Content-Length`` (never chunked: the whole body is known,
    and head and body then leave in one write), except 204 and 304, which have no body.
    A HEAD request's answer has the length but not the body.
    """
    head = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if status not in NO_BODY_STATUSES:
        head.append((b"Content-Length", str(len(body)).encode()))
    has_body = method != b"HEAD" and status not in NO_BODY_STATUSES
    return FramedResponse(head, body if has_body else b"")


def refusal_response(refusal: Refusal) -> FramedResponse:
    """A refusal as sent: its message as plain text, and ``Connection: close``, since
    the connection ends after it."""
    body = refusal.message.encode()
    headers = [
        *refusal.headers,
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode()),
        (b"Connection", b"close"),
    ]
    return FramedResponse(headers, body)


def reason(status: int) -> bytes:
    """The reason phrase for ``status`` (empty for a status HTTP does not name)."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
