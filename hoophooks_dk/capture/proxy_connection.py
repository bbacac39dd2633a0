"""One client connection to the capture: HTTP/1.1 requests, possibly inside a CONNECT tunnel.

Choices, and why:

* **h11 parses HTTP/1.1** (it is already installed as httpx's parser). It gets chunked
  bodies and trailers, ``Expect: 100-continue``, keep-alive, pipelining and CONNECT right,
  and rejects malformed input with an exception instead of guessing. Anything that is not
  HTTP/1.0 or 1.1 (the HTTP/2 preface ``PRI * HTTP/2.0`` included) gets a 400 naming the
  version and the connection is closed; nothing of it is recorded.
* **The head has one size limit, ``max_head``, with or without TLS**: h11's buffer limit
  and a check on the parsed head use the same number, so how the bytes happened to be
  split into reads or TLS records changes nothing.
* **Deadlines, not just timeouts.** The whole head must arrive within ``socket_timeout``
  and a body within ``request_timeout``, so a client sending one byte every few seconds
  is cut off too. Between requests the connection is idle, and ``proxy_server`` closes it
  after its idle deadline.
* **One write per response, ``TCP_NODELAY`` on.** Head and body leave in a single
  ``sendall``; without this, Nagle's algorithm and the client's delayed ACK cost ~40 ms
  per request on a kept-alive connection.
* **CONNECT is answered 200, then the first byte decides**: a TLS handshake record means
  HTTPS, intercepted with a certificate from ``_certs``; anything else is plain HTTP
  through the tunnel (``curl -p`` to an ``http://`` URL). Either way the recorded URL is
  built from the CONNECT target, the address the client's connection was for; a ``Host``
  header naming another host is kept, and the exchange is flagged ``host_mismatch``.
* **The port is locked.** A CONNECT, or a request sent to the proxy directly, must carry
  the run's ``Proxy-Authorization``; without it the answer is 407 and nothing is
  recorded. Requests inside an authorised tunnel need nothing more (clients do not
  repeat proxy credentials there).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import logging
import re
import select
import socket
import ssl
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import h11

from .bodies import BodyBuffer, SpooledBody
from .proxy_server import Exchange, ServerSide

if TYPE_CHECKING:
    from .proxy_server import ProxyServer

__all__ = ["Connection"]

_log = logging.getLogger("hoophooks_dk.capture")

_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_NO_BODY_STATUSES = {204, 304}
_TLS_HANDSHAKE = b"\x16"
_RECEIVE = 65536
#: Linux: acknowledge at once. A client that writes a request's head and body separately
#: (urllib3 does) with Nagle's algorithm on waits for our ACK of the head before sending
#: the body; a delayed ACK makes that wait 40 ms per request.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class _Next(enum.Enum):
    CLOSE = enum.auto()  # close the connection
    CYCLE = enum.auto()  # the exchange is done; the same h11 connection goes on
    FRESH = enum.auto()  # a tunnel opened: a new h11 connection starts


class Connection:
    """A client connection; ``serve`` runs in its own thread while it is busy."""

    def __init__(self, sock: socket.socket, server: ProxyServer) -> None:
        self.sock: socket.socket = sock
        self.server = server
        self.side: ServerSide = server.side
        self.thread: Any = None
        self.idle_since = 0.0
        self._tunnel: str | None = None  # the CONNECT authority, once tunnelled
        self._scheme = "http"
        self._authorized = False
        self._client = ""
        self._h11 = self._new_h11()
        self._tcp = sock.family in (socket.AF_INET, socket.AF_INET6)  # not a sandbox's
        if self._tcp:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _new_h11(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.side.max_head)

    # --- lifecycle ---------------------------------------------------------------------

    def serve(self) -> None:
        """Serve while busy; then hand the idle connection back, or close it."""
        keep = False
        try:
            keep = self._serve()
        except Exception as error:  # a broken client loses its own connection, nothing more
            _log.debug("hookdk capture: closing a connection: %r", error)
        finally:
            if keep:
                self.server.watch(self)
            else:
                self.server.forget(self)
                self.close()

    def _serve(self) -> bool:
        """True when the connection went idle and should be watched; False to close it."""
        while True:
            if not self._serve_buffered_requests():
                return False
            self.server.went_idle(self)
            if not self._readable_within(self.server.linger):
                return True  # no next request soon: the selector thread watches it now
            if not self.server.became_busy(self):
                return False

    def abort(self) -> None:
        """Wake a thread blocked on this socket (bypassing SSLSocket's own shutdown)."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def _readable_within(self, seconds: float) -> bool:
        poller = select.poll()  # no descriptor-number ceiling, unlike select()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(seconds * 1000))

    # --- requests ----------------------------------------------------------------------

    def _serve_buffered_requests(self) -> bool:
        """Answer requests until none is buffered; False when the connection must close."""
        while True:
            try:
                request = self._read_request()
                if request is None:
                    return False
                after = self._handle(request)
            except h11.RemoteProtocolError as error:
                self._refuse(error.error_status_hint, f"hookdk capture: {error}")
                return False
            if after is _Next.CLOSE:
                return False
            if after is _Next.CYCLE:
                if h11.MUST_CLOSE in (self._h11.our_state, self._h11.their_state):
                    return False
                self._h11.start_next_cycle()
            if not self._has_buffered_bytes():
                return True

    def _has_buffered_bytes(self) -> bool:
        """Bytes already read (pipelined) or decrypted, which a poll on the socket misses."""
        buffered, _ = self._h11.trailing_data
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
        return bool(buffered) or pending

    def _read_request(self) -> h11.Request | None:
        deadline = time.monotonic() + self.side.socket_timeout  # for the whole head
        while True:
            event = self._h11.next_event()
            if isinstance(event, h11.Request):
                return event
            if isinstance(event, h11.ConnectionClosed):
                return None
            self._receive(deadline)

    def _receive(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("client too slow")
        self.sock.settimeout(min(remaining, self.side.socket_timeout))
        if _QUICKACK is not None and self._tcp:  # Linux resets it: set it before each read
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._h11.receive_data(self.sock.recv(_RECEIVE))

    def _handle(self, request: h11.Request) -> _Next:
        refusal = self._refusal(request)
        if refusal is not None:
            status, message, extra = refusal
            self._refuse(status, message, extra)
            return _Next.CLOSE
        if request.method == b"CONNECT":
            return self._open_tunnel(request)
        body, trailers = self._read_body()
        url, mismatch = self._url(request)
        exchange = Exchange(
            request.method.decode("latin-1"),
            url,
            list(request.headers.raw_items()),
            body,
            trailers,
            mismatch,
            self._client,
        )
        record = self.side.answer(exchange)
        self._respond(request, record.response)
        return _Next.CYCLE

    def _refusal(self, request: h11.Request) -> tuple[int, str, list] | None:
        """(status, message, extra headers) when this request must not be served."""
        if request.http_version not in (b"1.0", b"1.1"):
            version = request.http_version.decode("latin-1")
            return 400, f"hookdk capture speaks HTTP/1.1 only, not HTTP/{version}", []
        head = len(request.method) + len(request.target)
        head += sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())
        if head > self.side.max_head:
            return 431, f"hookdk capture: request head over {self.side.max_head} bytes", []
        if request.method == b"CONNECT" and self._tunnel is not None:
            return 405, "hookdk capture: CONNECT inside a tunnel is not supported", []
        if self._tunnel is None and not self._authorized:
            credentials = _header(request, b"proxy-authorization")
            if not self.side.authorized(credentials):
                message = "hookdk capture: this proxy serves only the hooks hookdk starts"
                return 407, message, [(b"Proxy-Authenticate", b'Basic realm="hookdk"')]
            self._authorized = True
            self._client = client_tag(credentials)
        return None

    def _read_body(self) -> tuple[bytes | SpooledBody, list[tuple[bytes, bytes]]]:
        if self._h11.they_are_waiting_for_100_continue:
            self._send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue"))
        buffer = BodyBuffer(self.side.spool_folder, self.side.spool_threshold)
        deadline = time.monotonic() + self.side.request_timeout
        try:
            while True:
                event = self._h11.next_event()
                if event is h11.NEED_DATA:
                    self._receive(deadline)
                elif isinstance(event, h11.Data):
                    buffer.add(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    return buffer.finish(), list(event.headers.raw_items())
        except BaseException:
            buffer.discard()
            raise

    def _respond(self, request: h11.Request, response: Any) -> None:
        """Head and body in one write (see the module docstring)."""
        head = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers]
        if response.status not in _NO_BODY_STATUSES:
            head.append((b"Content-Length", str(len(response.body)).encode()))
        out = self._h11.send(
            h11.Response(status_code=response.status, headers=head, reason=_reason(response.status))
        )
        has_body = request.method != b"HEAD" and response.status not in _NO_BODY_STATUSES
        if has_body and response.body:
            out += self._h11.send(h11.Data(data=response.body))
        out += self._h11.send(h11.EndOfMessage())
        self.sock.sendall(out)

    # --- CONNECT -----------------------------------------------------------------------

    def _open_tunnel(self, request: h11.Request) -> _Next:
        """Answer CONNECT with 200; then speak TLS as the target, or plain HTTP."""
        authority = request.target.decode("latin-1")
        self._send(h11.Response(status_code=200, headers=[], reason=b"Connection established"))
        early, closed = self._h11.trailing_data
        if closed:
            return _Next.CLOSE
        if early:
            if early.startswith(_TLS_HANDSHAKE):
                return _Next.CLOSE  # TLS sent before our 200 was read: not supported
            tls = False
        else:
            if not self._readable_within(self.side.socket_timeout):
                return _Next.CLOSE
            first = self.sock.recv(1, socket.MSG_PEEK)
            if not first:
                return _Next.CLOSE
            tls = first == _TLS_HANDSHAKE
        self._tunnel = authority
        if tls:
            context = self.side.certificates.context_for(_host_of(authority))
            self.sock = context.wrap_socket(
                self.sock, server_side=True, do_handshake_on_connect=False
            )
            self.sock.settimeout(self.side.socket_timeout)
            self.sock.do_handshake()
            self._scheme = "https"
        self._h11 = self._new_h11()
        if early:
            self._h11.receive_data(bytes(early))
        return _Next.FRESH

    def _url(self, request: h11.Request) -> tuple[str, bool]:
        """The full URL, and whether the Host header names another host than it."""
        target = request.target.decode("latin-1")
        host = _header(request, b"host")
        host_text = host.decode("latin-1") if host is not None else None
        absolute = _ABSOLUTE_URL.match(target)
        if self._tunnel is not None:
            scheme, authority = self._scheme, self._tunnel
            path = target[absolute.end() :] if absolute else target
        elif absolute:
            scheme, _, authority = absolute.group().partition("://")
            scheme = scheme.lower()
            path = target[absolute.end() :]
        else:
            scheme, authority, path = "http", host_text or "localhost", target
        url = f"{scheme}://{_without_default_port(authority, scheme)}{path}"
        mismatch = host_text is not None and _same_authority(host_text, authority, scheme) is False
        return url, mismatch

    # --- writing -----------------------------------------------------------------------

    def _refuse(self, status: int, message: str, extra: list | None = None) -> None:
        """Best effort: tell the client why, then the caller closes."""
        body = message.encode()
        headers = [
            *(extra or []),
            (b"Content-Type", b"text/plain; charset=utf-8"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
        ]
        try:
            out = self._h11.send(
                h11.Response(status_code=status, headers=headers, reason=_reason(status))
            )
            out += self._h11.send(h11.Data(data=body)) + self._h11.send(h11.EndOfMessage())
            self.sock.sendall(out)
        except (h11.LocalProtocolError, OSError):
            pass  # too late in the exchange for any response, or the client left

    def _send(self, event: Any) -> None:
        data = self._h11.send(event)
        if data:
            self.sock.sendall(data)


def client_tag(credentials: bytes | None) -> str:
    """``TAG`` of proxy credentials whose user name is ``hookdk.TAG`` (the emulator tags
    each hook run so); "" for any other."""
    _, _, token = (credentials or b"").partition(b" ")
    try:
        user = base64.b64decode(token.strip(), validate=True).partition(b":")[0]
    except ValueError:
        return ""
    prefix, dot, tag = user.decode("latin-1").partition(".")
    return tag if dot and prefix == "hookdk" else ""


def _header(request: h11.Request, name: bytes) -> bytes | None:
    return next((value for key, value in request.headers if key == name), None)


def _without_default_port(authority: str, scheme: str) -> str:
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        return host
    return authority


def _same_authority(one: str, other: str, scheme: str) -> bool:
    def norm(authority: str) -> str:
        return _without_default_port(authority.strip().lower(), scheme)

    return norm(one) == norm(other)


def _host_of(authority: str) -> str:
    """``host`` of ``host:port``, ``[v6]:port`` or a bare host, brackets removed."""
    if authority.startswith("["):
        return authority[1 : authority.index("]")]
    host, sep, port = authority.rpartition(":")
    return host if sep and port.isdigit() else authority


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
