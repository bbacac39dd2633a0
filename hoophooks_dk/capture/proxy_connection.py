"""One client connection to the capture: HTTP/1.1 requests, possibly inside a CONNECT tunnel.

A connection lives in two places. While it waits for a request head (or for a tunnel's
first byte, or for its TLS handshake) it belongs to the selector thread of
``proxy_server``, which calls ``advance`` whenever its socket is ready: non-blocking
steps that cost no thread, however long the client takes. Once a head is complete it
goes to a worker of the server's bounded pool, which runs ``serve``: the body, the
answer, and any request already buffered behind it; then the connection goes back to
the selector thread. So a crowd of clients that send half a head and stop holds sockets
and a little memory, never threads.

Choices, and why:

* **h11 parses HTTP/1.1** (it is already installed as httpx's parser). It gets chunked
  bodies and trailers, ``Expect: 100-continue``, keep-alive, pipelining and CONNECT right,
  and rejects malformed input with an exception instead of guessing; it is sans-IO, so
  the same parser is fed by non-blocking reads (the head) and blocking ones (the body).
  Anything that is not HTTP/1.0 or 1.1 (the HTTP/2 preface ``PRI * HTTP/2.0`` included)
  gets a 400 naming the version and the connection is closed; nothing of it is recorded.
* **The head has one size limit, ``max_head``, with or without TLS**: h11's buffer limit
  and a check on the parsed head use the same number, so how the bytes happened to be
  split into reads or TLS records changes nothing.
* **Deadlines, not just timeouts.** A head must arrive whole within ``socket_timeout`` of
  its first byte and a body within ``request_timeout``, so a client sending one byte
  every few seconds is cut off too; a connection with nothing to say is closed after
  ``idle_timeout``. The selector thread enforces the first and the last
  (``deadline``), a worker the body's.
* **One write per response, ``TCP_NODELAY`` on.** Head and body leave in a single
  ``sendall``; without this, Nagle's algorithm and the client's delayed ACK cost ~40 ms
  per request on a kept-alive connection.
* **CONNECT is answered 200, then the first byte decides**: a TLS handshake record means
  HTTPS, intercepted with a certificate from ``certs`` for the name the client asks for
  in SNI (recorded, since a name is something a secret can travel in); anything else
  is plain HTTP through the tunnel (``curl -p`` to an ``http://`` URL). The CONNECT's
  own headers are kept with each request of the tunnel.
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
import socket
import ssl
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import h11

from . import connections, policy
from .bodies import BodyBuffer, SpooledBody
from .exchange import Exchange, ServerSide
from .policy import Peer, Refusal, RequestHead

if TYPE_CHECKING:
    from .proxy_server import ProxyServer

__all__ = ["Connection", "Step"]

_log = logging.getLogger("hoophooks_dk.capture")

_RECEIVE = 65536
#: Linux: acknowledge at once. A client that writes a request's head and body separately
#: (urllib3 does) with Nagle's algorithm on waits for our ACK of the head before sending
#: the body; a delayed ACK makes that wait 40 ms per request.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
#: What the certificate cache's SNI callback leaves on a TLS socket (``certs``).
SNI_ATTRIBUTE = "hookdk_server_name"


class Step(enum.Enum):
    """What the selector thread does next with a connection after ``advance``."""

    READ = enum.auto()  # watch it until it is readable
    WRITE = enum.auto()  # watch it until it is writable (a TLS handshake's turn to write)
    SERVE = enum.auto()  # a head is complete (or must be refused): hand it to a worker
    CLOSE = enum.auto()  # it is over


class _Wait(enum.Enum):
    HEAD = "a request head"
    TUNNEL = "a tunnel's first byte"
    HANDSHAKE = "a TLS handshake"


class _Next(enum.Enum):
    CLOSE = enum.auto()  # close the connection
    CYCLE = enum.auto()  # the exchange is done; the same h11 connection goes on
    TUNNEL = enum.auto()  # a tunnel opened: its first byte decides what it carries
    SOCKET = enum.auto()  # a tunnel of the agent runtime's socket: HTTP or anything else


class Connection:
    """A client connection; see the module docstring for who runs what."""

    def __init__(self, sock: socket.socket, server: ProxyServer) -> None:
        self.sock: socket.socket = sock
        self.server = server
        self.side: ServerSide = server.side
        self._peer = Peer()  # what this connection knows of its client (policy.admit)
        self._h11 = self._new_h11()
        self._tcp = sock.family in (socket.AF_INET, socket.AF_INET6)  # not a sandbox's
        if self._tcp:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self._waiting = _Wait.HEAD
        self._request: h11.Request | None = None  # a complete head, for the worker
        self._refusal: Refusal | None = None  # or what to answer before closing
        self._tunnel_request: h11.Request | None = None  # the CONNECT of this tunnel
        #: ``time.monotonic()`` by which the selector closes it if it is still waiting
        self.deadline = time.monotonic() + server.idle_timeout
        #: Part of something is here (a head's first bytes, a tunnel, a handshake): a
        #: request is on its way (``ProxyServer.is_quiet``).
        self.partial = False

    def _new_h11(self) -> h11.Connection:
        return h11.Connection(h11.SERVER, max_incomplete_event_size=self.side.max_head)

    # --- in the selector thread: waiting, without blocking ------------------------------

    def advance(self) -> Step:
        """Read what has arrived and say what to wait for next; never blocks."""
        try:
            if self._waiting is _Wait.TUNNEL:
                return self._first_tunnel_byte()
            if self._waiting is _Wait.HANDSHAKE:
                return self._handshake()
            return self._head()
        except Exception as error:  # a broken client loses its own connection, nothing more
            _log.debug("hookdk capture: closing a connection: %r", error)
            return Step.CLOSE

    def _head(self) -> Step:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as error:
                self._refusal = policy.protocol_refusal(error.error_status_hint, error)
                return Step.SERVE
            if isinstance(event, h11.Request):
                self._request, self.partial = event, False
                return Step.SERVE
            if event is not h11.NEED_DATA:  # closed, or nothing more may come
                return Step.CLOSE
            try:
                data = self._receive_nowait()
            except ssl.SSLWantWriteError:  # TLS wants to write first (a renegotiation)
                return Step.WRITE
            if data is None:
                return Step.READ
            if not self.partial and data:  # a head begins: it has socket_timeout to finish
                self.partial = True
                self.deadline = time.monotonic() + self.side.socket_timeout
            self._h11.receive_data(data)

    def _receive_nowait(self) -> bytes | None:
        """Bytes (b"" at end of stream), or None when none are there yet."""
        if _QUICKACK is not None and self._tcp:  # Linux resets it: set it before each read
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        try:
            return self.sock.recv(_RECEIVE)
        except (BlockingIOError, ssl.SSLWantReadError):
            return None

    def _first_tunnel_byte(self) -> Step:
        try:
            first = self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return Step.READ
        protocol = policy.tunnel_protocol(first, early=False)
        if protocol is None:
            return Step.CLOSE
        self._open(protocol)
        if protocol == "http":
            return self._head()
        authority = self._peer.tunnel or ""
        context = self.side.certificates.context_for(policy.certificate_host(authority))
        self.sock = context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
        self._waiting = _Wait.HANDSHAKE
        self.deadline = time.monotonic() + self.side.socket_timeout
        return self._handshake()

    def _handshake(self) -> Step:
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            return Step.READ
        except ssl.SSLWantWriteError:
            return Step.WRITE
        self._peer = replace(self._peer, server_name=getattr(self.sock, SNI_ATTRIBUTE, None))
        self._waiting, self.partial = _Wait.HEAD, False
        self.deadline = time.monotonic() + self.server.idle_timeout
        return self._head()

    def _open(self, protocol: str) -> None:
        """The tunnel carries ``protocol`` from now on: a new HTTP connection inside it."""
        connect = self._tunnel_request
        assert connect is not None
        authority = connect.target.decode("latin-1")
        headers = policy.recorded_headers(connect.headers.raw_items())
        self._peer = policy.opened_tunnel(self._peer, authority, protocol, headers)
        self._h11 = self._new_h11()
        self._waiting = _Wait.HEAD

    # --- in a worker: one request after another, until none is buffered -----------------

    def serve(self) -> None:
        """Serve the complete head ``advance`` found, and any complete one behind it; then
        hand the connection back to the selector thread, or close it."""
        keep: bool | None = False
        try:
            self.sock.settimeout(self.side.socket_timeout)
            keep = self._serve()
        except Exception as error:  # a broken client loses its own connection, nothing more
            _log.debug("hookdk capture: closing a connection: %r", error)
        finally:
            if keep is None:
                pass  # handed off: its thread ends it
            elif keep:
                self.sock.setblocking(False)
                self.deadline = time.monotonic() + (
                    self.side.socket_timeout if self.partial else self.server.idle_timeout
                )
                self.server.watch(self)
            else:
                self.server.forget(self)
                self.close()

    def _serve(self) -> bool | None:
        """True when the connection waits again (back to the selector); False to close;
        None when it was handed off (a raw connection on a thread of its own)."""
        while True:
            if self._refusal is not None:
                self._refuse(self._refusal)
                return False
            request, self._request = self._request, None
            assert request is not None
            try:
                after = self._handle(request)
            except h11.RemoteProtocolError as error:
                self._refuse(policy.protocol_refusal(error.error_status_hint, error))
                return False
            if after is _Next.CLOSE:
                return False
            if after is _Next.TUNNEL:
                return self._tunnel_opened()
            if after is _Next.SOCKET:
                authority = request.target.decode("latin-1")
                kept = self._open_socket_tunnel(authority)
                if kept is not True:
                    return kept
                if not self._next_buffered():
                    return True
                continue
            if h11.MUST_CLOSE in (self._h11.our_state, self._h11.their_state):
                return False
            self._h11.start_next_cycle()
            if not self._next_buffered():
                return True

    def _next_buffered(self) -> bool:
        """Whether a complete request (or one to refuse) was already read (pipelined): it
        is served now; otherwise the selector thread takes over (it also reads what TLS
        decrypted but did not hand over yet)."""
        buffered, closed = self._h11.trailing_data
        if closed:
            return False
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as error:
            self._refusal = policy.protocol_refusal(error.error_status_hint, error)
            return True
        if isinstance(event, h11.Request):
            self._request = event
            return True
        self.partial = bool(buffered)
        return False

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
            self._tunnel_request = request
            self._send(h11.Response(status_code=200, headers=[], reason=b"Connection established"))
            if connections.is_socket_tunnel(request.headers.raw_items()):
                return _Next.SOCKET
            return _Next.TUNNEL
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
            tunnel_headers=list(self._peer.tunnel_headers),
            server_name=self._peer.server_name,
        )
        record = self.side.answer(exchange)
        self._respond(request, record.response)
        return _Next.CYCLE

    def _tunnel_opened(self) -> bool:
        """After the 200: bytes that came with the CONNECT itself are plain HTTP (served
        now) or TLS sent too early (closed); else the selector waits for the first byte."""
        early, closed = self._h11.trailing_data
        if closed:
            return False
        if not early:
            self._waiting, self.partial = _Wait.TUNNEL, True
            return True
        if policy.tunnel_protocol(bytes(early), early=True) is None:
            return False
        self._open("http")
        self._h11.receive_data(bytes(early))
        # the rest of its head comes later, unless it is all here
        return self._serve() if self._next_buffered() else True

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

    def _receive(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("client too slow")
        self.sock.settimeout(min(remaining, self.side.socket_timeout))
        if _QUICKACK is not None and self._tcp:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._h11.receive_data(self.sock.recv(_RECEIVE))

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

    # --- a socket of the agent runtime's ------------------------------------------------

    def _open_socket_tunnel(self, authority: str) -> bool | None:
        """A tunnel from the agent runtime's start-up module: a programmed reply makes it
        a connection at once; else its first bytes (decrypted, for TLS) tell HTTP, which
        is served as usual (True: go on), from anything else, which ``connections.serve``
        records on a thread of its own (None: handed off; it may last as long as the
        hook's connection does, and must not hold a worker)."""
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
            sni = getattr(self.sock, SNI_ATTRIBUTE, None)
            self._peer = replace(self._peer, server_name=sni)
            deciding = connections.read_first(self.sock, timeout)
            first = deciding or b""
        elif sniffed:
            self._peer = policy.opened_tunnel(self._peer, authority, "http")
        if reply is None and deciding and connections.looks_like_http(deciding):
            self._h11 = self._new_h11()
            self._waiting = _Wait.HEAD
            if first:
                self._h11.receive_data(first)
            return True
        if side.record_connection is None:
            return False
        record = functools.partial(side.record_connection, client=self._peer.client)
        options = {
            "first": first,
            "reply": reply,
            "server_name": server_name,
            "timeout": timeout if deciding is not None or reply is not None else 0,
        }
        threading.Thread(
            target=self._serve_raw, args=(authority, record, options), daemon=True
        ).start()
        return None

    def _serve_raw(self, authority: str, record: Any, options: dict[str, Any]) -> None:
        try:
            connections.serve(self.sock, authority, record, **options)
        except Exception as error:  # a broken client loses its own connection, nothing more
            _log.debug("hookdk capture: closing a connection: %r", error)
        finally:
            self.server.forget(self)
            self.close()

    # --- writing, and the end ----------------------------------------------------------

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

    def abort(self) -> None:
        """Wake a worker blocked on this socket (bypassing SSLSocket's own shutdown)."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
