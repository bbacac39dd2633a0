"""Capture every HTTP(S) request a hook makes, and let none of it leave the machine.

A hook is a separate ``python3`` process that may use any client: ``curl`` in a
subprocess, ``urllib``, ``requests``, ``httpx``, ``http.client``, ``boto3``. The one thing
all of them honour is the proxy and CA-bundle environment variables, so the capture is a
small HTTP/1.1 forward proxy on 127.0.0.1 that the hook is pointed at with
``Capture.environ()``. It never connects anywhere: it answers every request itself,
records it, and the answer comes from ``Capture.router``, a ``respx.Router``, so a test
programs the SIEM's replies with respx's own API; then from the settings' ``routes``;
requests nothing matched get ``default_status`` with ``{}``, or, for AWS SDK calls, an
answer in the service's own protocol (``routing``).

The parts, one module each (after mitmproxy's layout):

* ``capture`` (this module): the public face, ``Capture``: its lifecycle, how a hook
  reaches it, and what was recorded. Requests are routed and recorded under one lock, so
  ``index`` order, the order of ``requests`` and the order in which a route's
  ``side_effect`` list is consumed are the same order.
* ``captured``: the records, ``CapturedRequest``, ``CapturedResponse``, ``CaptureFailure``;
  ``records``: the one numbered log that requests and syslog messages are appended to.
* ``routing``: how a request is answered (the test's routes, the settings', defaults).
* ``policy``: the proxy's decisions as pure functions (refusals and the port lock, the
  recorded URL, CONNECT, framing); ``port_lock``: the credentials that lock the port,
  as the capture makes them; ``exchange``: what the proxy's parts hand each other.
* ``proxy_server``: listening, connections that wait (a selector thread), descriptor
  limits; ``worker_pool``: the bounded workers that serve complete requests.
* ``proxy_connection``: HTTP/1.1 on one connection, CONNECT tunnels: bytes in and out.
* ``certs``: the CA (the user's, kept in their cache folder) and its bounded
  certificate cache.
* ``bodies``: content decoding and spooling of large bodies.
* ``aws_answers``: default answers AWS SDKs accept; ``token_answers``: a dummy
  token for OAuth 2.0 token requests.
* ``syslog_receiver`` (with ``syslog=True``): syslog over UDP, TCP and TLS, recorded in
  the same log; ``peer_process`` locks it to the kit and its hooks.
* ``runtime.sandbox``: optionally, hooks in a network namespace that reaches only the
  capture.

The port is locked: ``proxy_url`` carries a per-run secret as proxy credentials, which
curl, urllib, requests, httpx and botocore all send; a request without it is answered 407
and not recorded, so another local process cannot post into a test's results.

On its own the capture is not a sandbox: a client told to ignore the environment
(``trust_env=False``, ``proxies={}``, a raw socket, a ``.curlrc`` with ``noproxy``)
bypasses it and reaches the network (``sandbox`` closes that gap on Linux). Smaller
limits: a request whose body never finished arriving is not recorded (no server would
have seen it either); a route's ``Content-Encoding`` header is dropped because respx
hands over the decoded body; a client that sends TLS bytes before reading the proxy's
``200`` to CONNECT is disconnected; route side effects run one at a time (see above);
routes see the body as it arrived (still compressed, if it was).
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import threading
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CaptureNotStarted
from ..runtime import tempdirs
from .bodies import SPOOL_THRESHOLD, SpooledBody
from .certs import CertificateCache, make_ca, user_ca
from .exchange import ServerSide
from .port_lock import PROXY_USER, basic_authorization, proxy_user
from .proxy_server import ProxyServer
from .records import HTTP, NOTE, TCP, UDP, RecordLog

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import respx

    from ..settings import Route
    from .captured import CapturedRequest, CapturedResponse, CaptureFailure
    from .connections import CapturedConnection
    from .datagrams import CapturedDatagram, DatagramPort
    from .exchange import Exchange
    from .routing import NO_ROUTE
    from .syslog_receiver import SyslogReceiver

__all__ = ["NO_ROUTE", "Capture", "CaptureFailure", "CapturedRequest", "CapturedResponse"]

#: The variable that tells the agent runtime's start-up module where the capture is.
CAPTURE_VARIABLE = "HOOKDK_CAPTURE"


def __getattr__(name: str) -> Any:
    """The records and ``NO_ROUTE``, named here too, load with the first request (or this
    use): a hook that sends nothing never needs them (``captured``, ``routing``)."""
    if name in ("CapturedRequest", "CapturedResponse", "CaptureFailure"):
        from . import captured

        return getattr(captured, name)
    if name == "NO_ROUTE":
        from .routing import NO_ROUTE

        return NO_ROUTE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Capture:
    """A local proxy that records every request a hook makes and answers it itself.

    Use it as a context manager, hand ``environ()`` to the hook's process, then read
    ``requests``. Program answers on ``router`` (respx); ``routes``, the settings', answer
    after it: unmatched requests get ``default_status`` with a ``{}`` JSON body (AWS SDK
    calls: an answer in their protocol), or, when ``strict``, a 502 saying no route
    matched, and land in ``unmatched`` for ``check_strict()`` to report.

    With ``syslog=True`` a ``SyslogReceiver`` (UDP, TCP, TLS with this capture's CA) runs
    alongside as ``syslog``, for hooks that feed a SIEM over a socket; its variables join
    ``environ()`` and ``reset()``/``wait_idle()`` cover it.
    """

    #: Seconds a client may take over one request's head, or stay silent mid-body.
    socket_timeout: float = 10.0
    #: Seconds an idle keep-alive connection is kept open (AWS load balancers: 60).
    idle_timeout: float = 60.0
    #: Bodies larger than this many bytes are written to disk as they arrive.
    spool_threshold: int = SPOOL_THRESHOLD

    def __init__(
        self,
        *,
        strict: bool = False,
        default_status: int = 200,
        ca_folder: Path | None = None,
        fresh_ca: bool = False,
        syslog: bool = False,
        routes: Sequence[Route] = (),
    ) -> None:
        """``ca_folder``: where the CA is kept (default: the user's cache folder, see
        ``certs``); ``fresh_ca``: a CA made for this capture alone, deleted by ``stop()``;
        ``syslog``: run a syslog receiver too (see the class docstring); ``routes``: the
        settings' answers (``respond`` in the settings file, ``--respond``), consulted
        after ``router`` and before ``default_status``, first match wins, each answering
        its status with an empty body as if programmed on ``router``; like
        ``default_status`` they survive ``reset()``."""
        self.ca_folder = ca_folder
        self.fresh_ca = fresh_ca
        self._router: respx.Router | None = None
        self.strict = strict
        self.default_status = default_status
        self._defaults = (strict, default_status)  # what reset() restores
        self._routes = tuple(routes)
        self._lock = threading.Lock()  # routing and recording a request are one step
        #: What was recorded: the proxy's requests and the syslog receiver's messages, in
        #: one log, so that one ``mark()`` sees both (``records``).
        self.records = RecordLog()
        self._unmatched: list[CapturedRequest] = []
        self._failures: list[CaptureFailure] = []
        self._server: ProxyServer | None = None
        self._cleanup: weakref.finalize | None = None
        self._ca_path: str | None = None
        self._syslog_wanted = syslog
        #: The syslog receiver, while started with ``syslog=True``; None otherwise.
        self.syslog: SyslogReceiver | None = None
        #: Give each client (each fire) syslog ports of its own; off under ``--sandbox``,
        #: whose relay knows only the shared ports.
        self.syslog_per_client = True
        self._secret = ""
        #: The capture's temporary folder (spooled bodies, sockets, a CA made for this run
        #: only), removed by ``stop()``.
        self.folder: Path | None = None
        #: A Unix socket that reaches the proxy too (Linux): the way out of ``--sandbox``.
        self.unix_socket: str | None = None
        #: The UDP port the agent runtime sends datagrams and notes to (``datagrams``).
        self.datagram_port: DatagramPort | None = None
        self._tcp_replies: list[tuple[str, bytes]] = []

    # lifecycle

    def start(self) -> Capture:
        """Find (or make) the CA, make the run's secret, and listen on an ephemeral port."""
        if self._server is not None:
            return self
        tempdir = Path(tempdirs.make("capture"))
        # A Capture that is never stopped still removes its folder when the process exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, tempdir, ignore_errors=True)
        kept = None if self.fresh_ca else user_ca(self.ca_folder)
        ca = kept or make_ca(tempdir)
        self._ca_path = str(ca.cert_path)
        self._secret = base64.urlsafe_b64encode(os.urandom(24)).decode()  # 192 bits
        side = ServerSide(
            answer=self._answer,
            certificates=CertificateCache(ca),
            secret=self._secret,
            spool_folder=tempdir / "bodies",  # made when a first body is spooled
            socket_timeout=self.socket_timeout,
            spool_threshold=self.spool_threshold,
            record_connection=self._record_connection,
            tcp_reply=self._tcp_reply,
        )
        unix = tempdir / "proxy.sock"  # for sandboxed hooks; AF_UNIX paths are short
        self.unix_socket = str(unix) if sys.platform == "linux" and len(str(unix)) < 100 else None
        self.folder = tempdir
        self._server = ProxyServer(side, idle_timeout=self.idle_timeout, unix_path=self.unix_socket)
        from .datagrams import DatagramPort

        self.datagram_port = DatagramPort(self._secret, self.records)
        if self._syslog_wanted:
            from .peer_process import from_the_run
            from .syslog_receiver import SyslogReceiver

            # its Unix sockets next to the proxy's: the way in from --sandbox; locked to
            # the kit and its hooks, as the proxy is by its secret
            unix_folder = tempdir if self.unix_socket is not None else None
            self.syslog = SyslogReceiver(
                ca, unix_folder=unix_folder, records=self.records, senders=from_the_run
            )
            self.syslog.start()  # the CA's key is loaded on the first TLS connection
        return self

    def stop(self) -> None:
        """Close every connection, stop listening, and delete the temporary folder."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self.datagram_port is not None:
            self.datagram_port.close()
            self.datagram_port = None
        if self.syslog is not None:
            self.syslog.stop()
            self.syslog = None
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = self._ca_path = self.folder = self.unix_socket = None

    def __enter__(self) -> Capture:
        return self.start()

    @property
    def routes(self) -> tuple[Route, ...]:
        """The settings' answers, after the router's (see ``__init__``)."""
        return self._routes

    @property
    def router(self) -> respx.Router:
        """The respx router that programs answers. Made on first use: respx and httpx take
        longer to import than all the rest of ``hookdk fire``, which rarely programs one."""
        if self._router is None:
            import respx

            self._router = respx.Router(assert_all_called=False, assert_all_mocked=False)
        return self._router

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # how a hook reaches it

    @property
    def proxy_url(self) -> str:
        """The proxy, with this run's secret as its credentials (the port lock)."""
        return self.tagged_proxy_url("")

    def tagged_proxy_url(self, client: str) -> str:
        """``proxy_url`` with ``client`` in its user name (``hookdk.<client>``): requests
        sent through it are recorded with that ``client``, so that the requests of hook
        runs that overlap are told apart."""
        return f"http://{proxy_user(client)}:{self._secret}@127.0.0.1:{self._running().port}"

    @property
    def proxy_authorization(self) -> str:
        """The ``Proxy-Authorization`` value a client sends, for code that sets it by hand."""
        self._running()
        return basic_authorization(PROXY_USER, self._secret)

    @property
    def ca_path(self) -> str:
        self._running()
        assert self._ca_path is not None
        return self._ca_path

    def environ(self, client: str = "") -> dict[str, str]:
        """Variables that send curl, urllib, requests, httpx and boto3 through this proxy.

        Both spellings of the proxy variables are set because curl reads only the
        lowercase ``http_proxy``; ``NO_PROXY`` is emptied so no host, not even
        localhost, escapes the capture. Each client finds the CA under its own name
        (botocore prefers ``AWS_CA_BUNDLE`` to the others).
        """
        proxy, ca = self.tagged_proxy_url(client), self.ca_path
        self.records.hand_out(client)  # what is tagged ``client`` is that run's (Siem)
        env = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
        env |= {"NO_PROXY": "", "no_proxy": ""}
        bundles = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE")
        env |= {name: ca for name in bundles}
        syslog: dict[str, int] = {}
        if self.syslog is not None:  # a client's own syslog ports, unless sandboxed
            env |= self.syslog.environ(client if self.syslog_per_client else "")
            syslog = {t: int(env[f"HOOKDK_SYSLOG_{t.upper()}_PORT"]) for t in ("udp", "tcp", "tls")}
        env[CAPTURE_VARIABLE] = self._runtime_settings(client, syslog)
        return env

    def _runtime_settings(self, client: str, syslog: dict[str, int]) -> str:
        """``HOOKDK_CAPTURE``: where the agent runtime's start-up module sends a hook's
        sockets (``runtime/agent_site.py``), as compact JSON."""
        import json

        assert self.datagram_port is not None and self.folder is not None
        settings = {
            "proxy": self._running().port,
            "user": proxy_user(client),
            "secret": self._secret,
            "udp": self.datagram_port.port,
            "ca": self.ca_path,
            "folder": str(self.folder),
            "syslog": syslog,
        }
        return json.dumps(settings, separators=(",", ":"))

    # what was captured

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request so far, in order of arrival (a copy)."""
        return self.records.since(0, kind=HTTP)

    @property
    def connections(self) -> list[CapturedConnection]:
        """Every TCP connection that was not HTTP, in order (the agent runtime's sockets)."""
        return self.records.since(0, kind=TCP)

    @property
    def datagrams(self) -> list[CapturedDatagram]:
        """Every UDP datagram a hook sent to a port that is not syslog's, in order."""
        return self.records.since(0, kind=UDP)

    def reply_tcp(self, pattern: str, data: bytes) -> None:
        """Answer connections to ``host:port`` addresses matching ``pattern`` (a glob,
        e.g. ``"db.example.com:5432"`` or ``"*:25"``) with ``data``, sent as soon as the
        connection opens; without a reply the capture reads and then closes. Cleared by
        ``reset()``; the first matching pattern wins."""
        with self._lock:
            self._tcp_replies.append((pattern, bytes(data)))

    @property
    def unmatched(self) -> list[CapturedRequest]:
        """Requests that no route answered while ``strict`` was on (a copy)."""
        with self._lock:
            return list(self._unmatched)

    @property
    def failures(self) -> list[CaptureFailure]:
        """Exceptions the test's routes and side effects raised, in order (a copy)."""
        with self._lock:
            return list(self._failures)

    def raise_failure(self) -> None:
        """Re-raise the first exception a route raised, with its own traceback and a note
        naming the request that triggered it; do nothing when there was none."""
        failures = self.failures
        if failures:
            first = failures[0]
            note = first.describe()
            if len(failures) > 1:
                note += f"; {len(failures) - 1} more route failure(s) after it"
            if note not in getattr(first.error, "__notes__", ()):
                first.error.add_note(note)
            raise first.error

    @property
    def untrusted_certificates(self) -> bool:
        """Whether HTTPS (and the syslog TLS port) present certificates from a CA the hooks
        do not trust: on, a hook that verifies certificates must refuse to deliver."""
        return self._server is not None and self._server.side.certificates.untrusted

    @untrusted_certificates.setter
    def untrusted_certificates(self, value: bool) -> None:
        self._running().side.certificates.untrusted = bool(value)
        if self.syslog is not None:
            self.syslog.untrusted_certificates = bool(value)

    def mark(self) -> int:
        """A position in what was recorded; pass it to ``requests_since`` (or, since the
        syslog receiver records in the same log, to ``syslog.messages_since``)."""
        return self.records.mark()

    def requests_since(self, mark: int, client: str | None = None) -> list[CapturedRequest]:
        """Requests after ``mark``; with ``client``, that client's and the untagged ones."""
        return self.records.since(mark, kind=HTTP, client=client)

    def reset(self) -> None:
        """Forget requests, routes and failures and restore the ``strict`` and
        ``default_status`` given to the constructor, keeping proxy and CA.

        This lets one running Capture serve a whole test session: the CA and port stay
        valid, only what tests programmed and saw is cleared (spooled bodies too).
        """
        with self._lock:
            for request in self.records.reset(HTTP):
                if isinstance(request._body, SpooledBody):
                    request._body.path.unlink(missing_ok=True)
            self.records.reset(TCP)
            self.records.reset(UDP)
            self.records.reset(NOTE)
            self._tcp_replies.clear()
            self._unmatched.clear()
            self._failures.clear()
            if self._router is not None:
                self._router.clear()
                self._router.reset()
            self.strict, self.default_status = self._defaults
        if self._server is not None:
            self._server.side.certificates.untrusted = False
        if self.syslog is not None:
            self.syslog.reset()

    def check_strict(self) -> None:
        """Raise AssertionError listing every request no route answered in strict mode."""
        from .routing import NO_ROUTE

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
        datagrams = self.datagram_port
        while not (self._server.is_quiet() and (datagrams is None or datagrams.is_quiet())):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        if self.syslog is not None:
            return self.syslog.wait_idle(max(0.0, deadline - time.monotonic()))
        return True

    # answering

    def _tcp_reply(self, authority: str) -> bytes | None:
        if not self._tcp_replies:
            return None
        from .connections import reply_for

        with self._lock:
            return reply_for(self._tcp_replies, authority)

    def _record_connection(self, *, client: str = "", **fields: Any) -> CapturedConnection:
        """Record a connection that was not HTTP (called by connection threads)."""
        from .connections import CapturedConnection

        now = datetime.now(UTC)
        return self.records.append(
            TCP, lambda index: CapturedConnection(index, now, client=client, **fields)
        )

    def _running(self) -> ProxyServer:
        if self._server is None:
            raise CaptureNotStarted("the Capture is not started: use start() or a with block")
        return self._server

    def _answer(self, exchange: Exchange) -> CapturedRequest:
        """Number, route and record one complete request (called by connection threads)."""
        from . import routing
        from .captured import CapturedRequest, CaptureFailure, header_text
        from .policy import recorded_headers

        headers = recorded_headers(exchange.headers)
        named = [(header_text(name), header_text(value)) for name, value in headers]
        trailers = [(header_text(name), header_text(value)) for name, value in exchange.trailers]
        tunnel = [
            (header_text(name), header_text(value)) for name, value in exchange.tunnel_headers
        ]
        with self._lock:  # so that index order is the order routes were consulted in
            response, matched, failure = routing.route(
                exchange,
                headers,
                router=self._router,
                routes=self._routes,
                strict=self.strict,
                default_status=self.default_status,
            )
            captured = self.records.append(
                HTTP,
                lambda index: CapturedRequest(
                    index=index,
                    time=datetime.now(UTC),
                    method=exchange.method,
                    url=exchange.url,
                    headers=named,
                    body=exchange.body,
                    response=response,
                    matched=matched,
                    trailers=trailers,
                    host_mismatch=exchange.host_mismatch,
                    client=exchange.client,
                    tunnel_headers=tunnel,
                    server_name=exchange.server_name,
                ),
            )
            if not matched and self.strict:
                self._unmatched.append(captured)
            if failure is not None:
                self._failures.append(CaptureFailure(captured, failure))
        return captured
