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
  HTTPS, intercepted with a certificate from ``certs``; anything else is plain HTTP
  through the tunnel (``curl -p`` to an ``http://`` URL).
* **Decisions are not made here.** What is refused (the port lock among it), which URL
  is recorded, what a tunnel carries and how an answer is framed are pure functions in
  ``policy``, over the request's bytes and a ``policy.Peer`` (what this connection knows
  of its client); this class reads and writes bytes and calls them.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import logging
import select
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any

import h11

from . import connections, policy
from .bodies import BodyBuffer, SpooledBody
from .exchange import Exchange, ServerSide
from .policy import Peer, Refusal, RequestHead

if TYPE_CHECKING:
    from .proxy_server import ProxyServer

__all__ = ["Connection"]

_log = logging.getLogger("hoophooks_dk.capture")

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
        self._peer = Peer()  # what this connection knows of its client (policy.admit)
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
                self._refuse(policy.protocol_refusal(error.error_status_hint, error))
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
        head = RequestHead(
            request.method, request.target, request.http_version, request.headers.raw_items()
        )
        admitted = policy.admit(
            head, self._peer, max_head=self.side.max_head, secret=self.side.secret
        )
        if isinstance(admitted, Refusal):
            self._refuse(admitted)
            return _Next.CLOSE
        self._peer = admitted
        if request.method == b"CONNECT":
            return self._open_tunnel(request)
        body, trailers = self._read_body()
        url, mismatch = policy.request_url(
            request.target,
            head.header(b"host"),
            tunnel=self._peer.tunnel,
            scheme=self._peer.scheme,
        )
        exchange = Exchange(
            request.method.decode("latin-1"),
            url,
            list(head.headers),
            body,
            trailers,
            mismatch,
            self._peer.client,
        )
        record = self.side.answer(exchange)
        self._respond(request, record.response)
        return _Next.CYCLE

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
        status = response.status
        head, body = policy.frame_response(request.method, status, response.headers, response.body)
        out = self._h11.send(
            h11.Response(status_code=status, headers=head, reason=policy.reason(status))
        )
        if body:
            out += self._h11.send(h11.Data(data=body))
        out += self._h11.send(h11.EndOfMessage())
        self.sock.sendall(out)

    # --- CONNECT -----------------------------------------------------------------------

    def _open_tunnel(self, request: h11.Request) -> _Next:
        """Answer CONNECT with 200; then speak TLS as the target, or plain HTTP. A socket
        of the agent runtime's may carry anything else: ``connections`` serves those."""
        authority = request.target.decode("latin-1")
        self._send(h11.Response(status_code=200, headers=[], reason=b"Connection established"))
        if connections.is_socket_tunnel(request.headers.raw_items()):
            return self._open_socket_tunnel(authority)
        early, closed = self._h11.trailing_data
        if closed:
            return _Next.CLOSE
        if early:
            protocol = policy.tunnel_protocol(bytes(early), early=True)
        elif self._readable_within(self.side.socket_timeout):
            protocol = policy.tunnel_protocol(self.sock.recv(1, socket.MSG_PEEK), early=False)
        else:
            return _Next.CLOSE
        if protocol is None:
            return _Next.CLOSE
        self._peer = policy.opened_tunnel(self._peer, authority, protocol)
        if protocol == "tls":
            context = self.side.certificates.context_for(policy.certificate_host(authority))
            self.sock = context.wrap_socket(
                self.sock, server_side=True, do_handshake_on_connect=False
            )
            self.sock.settimeout(self.side.socket_timeout)
            self.sock.do_handshake()
        self._h11 = self._new_h11()
        if early:
            self._h11.receive_data(bytes(early))
        return _Next.FRESH

    def _open_socket_tunnel(self, authority: str) -> _Next:
        """A tunnel from the agent runtime's start-up module: a programmed reply makes it
        a connection at once; else its first bytes (decrypted, for TLS) tell HTTP, which
        is served as usual, from anything else, which ``connections.serve`` records."""
        side, timeout = self.side, self.side.socket_timeout
        reply = side.tcp_reply(authority) if side.tcp_reply is not None else None
        sniffed = None if reply is not None else connections.sniff(self.sock, timeout)
        first, deciding, server_name = b"", sniffed, None  # first: bytes read off already
        if sniffed and sniffed.startswith(policy.TLS_HANDSHAKE):
            self._peer = policy.opened_tunnel(self._peer, authority, "tls")
            server_name = policy.certificate_host(authority)
            context = side.certificates.context_for(server_name)
            self.sock = context.wrap_socket(
                self.sock, server_side=True, do_handshake_on_connect=False
            )
            self.sock.settimeout(timeout)
            self.sock.do_handshake()
            deciding = connections.read_first(self.sock, timeout)
            first = deciding or b""
        elif sniffed:
            self._peer = policy.opened_tunnel(self._peer, authority, "http")
        if reply is None and deciding and connections.looks_like_http(deciding):
            self._h11 = self._new_h11()
            if first:
                self._h11.receive_data(first)
            return _Next.FRESH
        if side.record_connection is not None:
            record = functools.partial(side.record_connection, client=self._peer.client)
            connections.serve(
                self.sock,
                authority,
                record,
                first=first,
                reply=reply,
                server_name=server_name,
                timeout=timeout if deciding is not None or reply is not None else 0,
            )
        return _Next.CLOSE

    # --- writing -----------------------------------------------------------------------

    def _refuse(self, refusal: Refusal) -> None:
        """Best effort: tell the client why, then the caller closes."""
        headers, body = policy.refusal_response(refusal)
        status = refusal.status
        try:
            out = self._h11.send(
                h11.Response(status_code=status, headers=headers, reason=policy.reason(status))
            )
            out += self._h11.send(h11.Data(data=body)) + self._h11.send(h11.EndOfMessage())
            self.sock.sendall(out)
        except (h11.LocalProtocolError, OSError):
            pass  # too late in the exchange for any response, or the client left

    def _send(self, event: Any) -> None:
        data = self._h11.send(event)
        if data:
            self.sock.sendall(data)
