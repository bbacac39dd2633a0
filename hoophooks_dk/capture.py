"""Capture every HTTP(S) request a hook makes, and let none of it leave the machine.

A hook is a separate ``python3`` process that may use any client: ``curl`` in a
subprocess, ``urllib``, ``requests``, ``httpx``, ``http.client``. The one thing all of
them honour is the proxy and CA-bundle environment variables, so the capture is a small
HTTP/1.1 forward proxy on 127.0.0.1 that the hook is pointed at with
``Capture.environ()``. It never connects anywhere: it answers every request itself,
records it, and the answer comes from ``Capture.router``, a ``respx.Router``, so a test
programs the SIEM's replies with respx's own API.

Choices, and why:

* **h11 parses HTTP/1.1** (it is already installed as httpx's parser). It gets chunked
  bodies, ``Expect: 100-continue``, keep-alive, pipelining and CONNECT right, and it
  rejects malformed input with an exception instead of guessing. ``http.server`` would
  leave chunked uploads and 100-continue to hand-written code.
* **HTTPS is intercepted, not refused.** On ``CONNECT host:port`` the proxy answers 200
  and completes TLS itself, with a leaf certificate for that host (or for the SNI name,
  or an IP literal) issued on demand by a throwaway ``trustme`` CA made per Capture.
  ``environ()`` points every client's CA bundle at that CA only, so clients still verify
  certificates exactly as in production, against a CA that vouches for nothing else.
* **A thread per connection.** Hooks make a handful of requests; threads keep the code
  straight-line, and a socket timeout bounds how long a stuck client can hold one.
  Any error on a connection (garbage bytes, a client leaving mid-body, a failed TLS
  handshake) closes that connection only; the proxy keeps serving.
* **Routing is serialised.** Requests are numbered, routed and recorded under one lock,
  so ``index`` order, the order of ``requests`` and the order in which a route's
  ``side_effect`` list is consumed are the same order.

The capture is not a sandbox: a client told to ignore the environment
(``trust_env=False``, ``proxies={}``, a raw socket, a ``.curlrc`` with ``noproxy``)
bypasses it and reaches the network. Smaller limits: a request whose body never finished
arriving is not recorded (no server would have seen it either); a route's
``Content-Encoding`` header is dropped because respx hands over the decoded body; a
client that sends TLS bytes before reading the proxy's ``200`` to CONNECT is
disconnected; route side effects run one at a time (see above).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h11
import httpx
import respx
import trustme
from respx.models import PassThrough

if TYPE_CHECKING:
    from .syslog_receiver import SyslogReceiver

__all__ = ["Capture", "CapturedRequest", "CapturedResponse"]

NO_ROUTE = "hookdk capture: no route matched"

_log = logging.getLogger(__name__)

_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Hop-by-hop and framing headers: h11 frames the response itself.
_NOT_FORWARDED = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length"}
_NO_BODY_STATUSES = {204, 304}


# --- what was captured -----------------------------------------------------------------


@dataclass(frozen=True)
class CapturedResponse:
    """The answer the proxy gave, as the hook received it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class CapturedRequest:
    """One request a hook made, exactly as it arrived (body de-chunked)."""

    index: int
    time: datetime
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    response: CapturedResponse
    matched: bool = True

    @property
    def text(self) -> str:
        """The body as text; bytes that are not UTF-8 become U+FFFD."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``json.JSONDecodeError`` if it is not)."""
        return json.loads(self.body)

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
        }


# --- the public face -------------------------------------------------------------------


class Capture:
    """A local proxy that records every request a hook makes and answers it itself.

    Use it as a context manager, hand ``environ()`` to the hook's process, then read
    ``requests``. Program answers on ``router`` (respx): unmatched requests get
    ``default_status`` with a ``{}`` JSON body, or, when ``strict``, a 502 saying no route
    matched, and land in ``unmatched`` for ``check_strict()`` to report.

    With ``syslog=True`` a ``SyslogReceiver`` (UDP, TCP, TLS with this capture's CA) runs
    alongside as ``syslog``, for hooks that feed a SIEM over a socket; its variables join
    ``environ()`` and ``reset()``/``wait_idle()`` cover it.
    """

    #: Seconds a connection may sit silent (mid-request or idle keep-alive) before it is
    #: closed; bounds how long one stuck client holds a thread.
    socket_timeout: float = 10.0

    def __init__(
        self, *, strict: bool = False, default_status: int = 200, syslog: bool = False
    ) -> None:
        self.router = respx.Router(assert_all_called=False, assert_all_mocked=False)
        self.strict = strict
        self.default_status = default_status
        self._lock = threading.Lock()
        self._requests: list[CapturedRequest] = []
        self._unmatched: list[CapturedRequest] = []
        self._server: _ProxyServer | None = None
        self._cleanup: weakref.finalize | None = None
        self._ca_path: str | None = None
        self._syslog_wanted = syslog
        #: The syslog receiver, while started with ``syslog=True``; None otherwise.
        self.syslog: SyslogReceiver | None = None

    # lifecycle

    def start(self) -> Capture:
        """Make the throwaway CA and start listening on an ephemeral port."""
        if self._server is not None:
            return self
        tempdir = tempfile.mkdtemp(prefix="hookdk-capture-")
        # A Capture that is never stopped still removes its CA when the process exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, tempdir, ignore_errors=True)
        ca = trustme.CA(organization_name="hookdk capture (throwaway)")
        self._ca_path = str(Path(tempdir) / "hookdk-capture-ca.pem")
        ca.cert_pem.write_to_path(self._ca_path)
        self._server = _ProxyServer(self._answer, _Certificates(ca), self.socket_timeout)
        if self._syslog_wanted:
            from .syslog_receiver import SyslogReceiver

            self.syslog = SyslogReceiver(ca).start()
        return self

    def stop(self) -> None:
        """Close every connection, stop listening, and delete the CA."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self.syslog is not None:
            self.syslog.stop()
            self.syslog = None
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = self._ca_path = None

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # how a hook reaches it

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self._running().port}"

    @property
    def ca_path(self) -> str:
        self._running()
        assert self._ca_path is not None
        return self._ca_path

    def environ(self) -> dict[str, str]:
        """Variables that send curl, urllib, requests, httpx through this proxy.

        Both spellings of the proxy variables are set because curl reads only the
        lowercase ``http_proxy``; ``NO_PROXY`` is emptied so no host, not even
        localhost, escapes the capture. Each client finds the CA under its own name.
        """
        proxy, ca = self.proxy_url, self.ca_path
        env = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
        env |= {"NO_PROXY": "", "no_proxy": ""}
        env |= {name: ca for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
        if self.syslog is not None:
            env |= self.syslog.environ()
        return env

    # what was captured

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request so far, in order of arrival (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def unmatched(self) -> list[CapturedRequest]:
        """Requests that no route answered while ``strict`` was on (a copy)."""
        with self._lock:
            return list(self._unmatched)

    def mark(self) -> int:
        """A position in ``requests``; pass it to ``requests_since``."""
        with self._lock:
            return len(self._requests)

    def requests_since(self, mark: int) -> list[CapturedRequest]:
        return self.requests[mark:]

    def reset(self) -> None:
        """Forget requests and routes and restore defaults, keeping proxy and CA.

        This lets one running Capture serve a whole test session: the CA and port stay
        valid, only what tests programmed and saw is cleared.
        """
        with self._lock:
            self._requests.clear()
            self._unmatched.clear()
            self.router.clear()
            self.router.reset()
            self.strict = False
            self.default_status = 200
        if self.syslog is not None:
            self.syslog.reset()

    def check_strict(self) -> None:
        """Raise AssertionError listing every request no route answered in strict mode."""
        unmatched = self.unmatched
        if unmatched:
            lines = [f"  #{r.index} {r.method} {r.url}" for r in unmatched]
            raise AssertionError(
                f"{NO_ROUTE} for {len(unmatched)} request(s) in strict mode:\n" + "\n".join(lines)
            )

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no request is in flight; True if that happened within ``timeout``.

        A hook that has exited may still have bytes on their way (a backgrounded curl,
        a request it did not wait for); call this before reading ``requests``.
        """
        if self._server is None:
            return True
        deadline = time.monotonic() + timeout
        while not self._server.is_quiet():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        if self.syslog is not None:
            return self.syslog.wait_idle(max(0.0, deadline - time.monotonic()))
        return True

    # answering

    def _running(self) -> _ProxyServer:
        if self._server is None:
            raise RuntimeError("the Capture is not started: use start() or a with block")
        return self._server

    def _answer(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> CapturedRequest:
        """Number, route and record one complete request (called by connection threads)."""
        with self._lock:
            response, matched = self._route(method, url, headers, body)
            captured = CapturedRequest(
                index=len(self._requests),
                time=datetime.now(UTC),
                method=method,
                url=url,
                headers=[(_text(name), _text(value)) for name, value in headers],
                body=body,
                response=response,
                matched=matched,
            )
            self._requests.append(captured)
            if not matched and self.strict:
                self._unmatched.append(captured)
        return captured

    def _route(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[CapturedResponse, bool]:
        """Resolve through the respx router; every failure becomes an error response."""
        try:
            request = httpx.Request(method, url, headers=headers, content=body)
        except Exception as error:  # an URL or header httpx cannot represent
            return _error(400, f"hookdk capture: cannot route this request: {error}"), False
        try:
            resolved = self.router.resolve(request)
        except PassThrough:
            return _error(502, "hookdk capture: pass_through is impossible, nothing leaves"), True
        except Exception as error:  # a route's side effect raised: the hook sees a 502
            return _error(502, f"hookdk capture: route side effect raised {error!r}"), True
        if resolved.route is None:
            if self.strict:
                return _error(502, f"{NO_ROUTE}: {method} {url}"), False
            json_type = [("Content-Type", "application/json")]
            return CapturedResponse(self.default_status, json_type, b"{}"), False
        assert isinstance(resolved.response, httpx.Response)
        return _from_httpx(resolved.response), True


def _error(status: int, message: str) -> CapturedResponse:
    return CapturedResponse(
        status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()
    )


def _from_httpx(response: httpx.Response) -> CapturedResponse:
    """Keep a programmed response's end-to-end headers; h11 redoes the framing."""
    headers = [
        (_text(name), _text(value))
        for name, value in response.headers.raw
        if name.lower() not in _NOT_FORWARDED and name.lower() != b"content-encoding"
    ]
    return CapturedResponse(response.status_code, headers, response.content)


def _text(raw: bytes) -> str:
    """Header bytes as text: latin-1, the HTTP default, so every byte round-trips."""
    return raw.decode("latin-1")


# --- TLS interception ------------------------------------------------------------------


class _Certificates:
    """Server-side TLS contexts, one per host, each with a leaf cert from the throwaway CA."""

    def __init__(self, ca: trustme.CA) -> None:
        self._ca = ca
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}

    def context_for(self, host: str) -> ssl.SSLContext:
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.set_alpn_protocols(["http/1.1"])  # curl would otherwise try h2
                self._ca.issue_cert(host).configure_cert(context)
                context.sni_callback = self._follow_sni
                self._contexts[host] = context
        return context

    def _follow_sni(self, tls: ssl.SSLObject, server_name: str | None, _: object) -> None:
        """Present a certificate for the name the client asked for in SNI, if any."""
        if server_name:
            tls.context = self.context_for(server_name)


# --- the proxy server ------------------------------------------------------------------


#: Number, route and record one request: (method, url, raw headers, body) -> record.
Answer = Callable[[str, str, list[tuple[bytes, bytes]], bytes], CapturedRequest]


class _ProxyServer:
    """Accepts connections on 127.0.0.1 and serves each one in its own thread."""

    def __init__(self, answer: Answer, certificates: _Certificates, timeout: float) -> None:
        self.answer = answer
        self.certificates = certificates
        self.timeout = timeout
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(1.0)  # accept() follows select(), so it never waits long
        self.port: int = self._listener.getsockname()[1]
        self._closing = threading.Event()
        self.lock = threading.Lock()  # guards connections and their busy flags together
        self._connections: set[_Connection] = set()
        self._thread = threading.Thread(
            target=self._accept_loop, name="hookdk-capture", daemon=True
        )
        self._thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._listener], [], [], 1.0)
            except (OSError, ValueError):
                return
            if not ready:
                if self._closing.is_set():  # close()'s wake-up call could not connect
                    return
                continue
            # Accept and register under the lock is_quiet() looks under, so a connection is
            # always seen: still waiting on the listener, or registered.
            with self.lock:
                try:
                    sock, _ = self._listener.accept()
                except OSError:
                    return
                if self._closing.is_set():  # the wake-up call from close()
                    sock.close()
                    return
                sock.settimeout(self.timeout)
                connection = _Connection(sock, self)
                self._connections.add(connection)
            connection.thread.start()

    def forget(self, connection: _Connection) -> None:
        with self.lock:
            self._connections.discard(connection)

    def is_quiet(self) -> bool:
        """No request in flight: none half-read, none waiting to be accepted or read."""
        with self.lock:
            if any(connection.busy for connection in self._connections):
                return False
            waiting = [connection.sock for connection in self._connections]
            try:
                readable, _, _ = select.select([self._listener, *waiting], [], [], 0)
            except (OSError, ValueError):  # a socket closed while we looked: look again
                return False
        return not readable

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
        self._thread.join()
        self._listener.close()
        with self.lock:
            connections = list(self._connections)
        for connection in connections:
            connection.abort()
        for connection in connections:
            connection.thread.join(timeout=1.0)


class _Connection:
    """One client connection: HTTP requests, possibly inside a CONNECT tunnel made TLS."""

    def __init__(self, sock: socket.socket, server: _ProxyServer) -> None:
        self.sock = sock
        self.server = server
        self.busy = True  # from accept until we wait for a request with nothing received
        self.thread = threading.Thread(target=self.serve, name="hookdk-capture-conn", daemon=True)

    def serve(self) -> None:
        try:
            self._serve_http(tunnel=None)
        except Exception as error:  # a broken client loses its own connection, nothing more
            _log.debug("hookdk capture: closing a connection: %r", error)
        finally:
            self.busy = False
            self.sock.close()
            self.server.forget(self)

    def abort(self) -> None:
        """Wake the thread blocked on this socket (bypassing SSLSocket's own shutdown)."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def _serve_http(self, tunnel: str | None) -> None:
        """Answer requests until the client closes; ``tunnel`` is the CONNECT authority."""
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                request = self._read_request(conn)
                if request is None:
                    return
                body = self._read_body(conn)
            except h11.RemoteProtocolError as error:
                self._refuse(conn, error.error_status_hint, str(error))
                return
            if request.method == b"CONNECT":
                self._open_tunnel(conn, request, inside=tunnel)
                return
            self._respond(conn, request, body, tunnel)
            if h11.MUST_CLOSE in (conn.our_state, conn.their_state):
                return
            conn.start_next_cycle()

    def _read_request(self, conn: h11.Connection) -> h11.Request | None:
        received_any = False
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                return event
            if isinstance(event, h11.ConnectionClosed):
                return None
            # NEED_DATA: if nothing of this request has come yet, the connection is idle.
            self.busy = received_any or _has_buffered_tls(self.sock)
            data = self.sock.recv(65536) if self.busy else self._receive_while_idle()
            self.busy = received_any = True
            conn.receive_data(data)

    def _receive_while_idle(self) -> bytes:
        """The first bytes of a request, taken off the socket under the lock is_quiet() looks
        under, in the same step as marking the connection busy: the bytes are always seen,
        on the socket or counted, so wait_idle() cannot miss a request that just began."""
        while True:
            readable, _, _ = select.select([self.sock], [], [], self.server.timeout)
            if not readable:
                raise TimeoutError("idle client")
            with self.server.lock:
                self.sock.setblocking(False)
                try:
                    data = self.sock.recv(65536)
                except (BlockingIOError, ssl.SSLWantReadError):
                    # part of a TLS record arrived (now inside OpenSSL): a request began
                    self.busy = True
                    continue
                finally:
                    self.sock.settimeout(self.server.timeout)
                self.busy = True
                return data

    def _read_body(self, conn: h11.Connection) -> bytes:
        if conn.they_are_waiting_for_100_continue:
            self._send(
                conn, h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            )
        chunks = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)

    def _respond(
        self, conn: h11.Connection, request: h11.Request, body: bytes, tunnel: str | None
    ) -> None:
        url = _request_url(request, tunnel)
        headers = list(request.headers.raw_items())
        captured = self.server.answer(request.method.decode("latin-1"), url, headers, body)
        response = captured.response
        has_body = request.method != b"HEAD" and response.status not in _NO_BODY_STATUSES
        head = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
        ]
        if response.status not in _NO_BODY_STATUSES:
            head.append((b"Content-Length", str(len(response.body)).encode()))
        self._send(
            conn,
            h11.Response(
                status_code=response.status, headers=head, reason=_reason(response.status)
            ),
        )
        if has_body and response.body:
            self._send(conn, h11.Data(data=response.body))
        self._send(conn, h11.EndOfMessage())
        self.busy = False

    def _open_tunnel(self, conn: h11.Connection, request: h11.Request, inside: str | None) -> None:
        """Answer CONNECT with 200, then speak TLS as the requested host."""
        if inside is not None:
            self._refuse(conn, 405, "hookdk capture: CONNECT inside a tunnel is not supported")
            return
        authority = request.target.decode("latin-1")
        established = h11.Response(status_code=200, headers=[], reason=b"Connection established")
        self._send(conn, established)
        early_bytes, closed = conn.trailing_data
        if early_bytes or closed:
            return
        context = self.server.certificates.context_for(_host_of(authority))
        self.sock = context.wrap_socket(self.sock, server_side=True, do_handshake_on_connect=False)
        self.sock.do_handshake()
        self._serve_http(tunnel=authority)

    def _refuse(self, conn: h11.Connection, status: int, message: str) -> None:
        """Best effort: tell a malformed client why, then the caller closes."""
        body = message.encode()
        headers = [(b"Content-Type", b"text/plain"), (b"Content-Length", str(len(body)).encode())]
        try:
            self._send(conn, h11.Response(status_code=status, headers=headers))
            self._send(conn, h11.Data(data=body))
            self._send(conn, h11.EndOfMessage())
        except h11.LocalProtocolError:
            pass  # too late in the exchange for any response

    def _send(self, conn: h11.Connection, event: Any) -> None:
        data = conn.send(event)
        if data:
            self.sock.sendall(data)


def _request_url(request: h11.Request, tunnel: str | None) -> str:
    """The full URL the client asked for, whichever request-target form it used."""
    target = request.target.decode("latin-1")
    if _ABSOLUTE_URL.match(target):
        return target
    scheme = "http" if tunnel is None else "https"
    host = next((v for k, v in request.headers if k == b"host"), None)
    authority = host.decode("latin-1") if host else (tunnel or "localhost")
    return f"{scheme}://{_without_default_port(authority, scheme)}{target}"


def _without_default_port(authority: str, scheme: str) -> str:
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS[scheme]:
        return host
    return authority


def _host_of(authority: str) -> str:
    """``host`` of ``host:port``, ``[v6]:port`` or a bare host, brackets removed."""
    if authority.startswith("["):
        return authority[1 : authority.index("]")]
    host, sep, port = authority.rpartition(":")
    return host if sep and port.isdigit() else authority


def _has_buffered_tls(sock: socket.socket) -> bool:
    """Decrypted bytes OpenSSL already holds, which ``select`` cannot see."""
    return isinstance(sock, ssl.SSLSocket) and sock.pending() > 0


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""
