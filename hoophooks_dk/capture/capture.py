"""Capture every HTTP(S) request a hook makes, and let none of it leave the machine.

A hook is a separate ``python3`` process that may use any client: ``curl`` in a
subprocess, ``urllib``, ``requests``, ``httpx``, ``http.client``, ``boto3``. The one thing
all of them honour is the proxy and CA-bundle environment variables, so the capture is a
small HTTP/1.1 forward proxy on 127.0.0.1 that the hook is pointed at with
``Capture.environ()``. It never connects anywhere: it answers every request itself,
records it, and the answer comes from ``Capture.router``, a ``respx.Router``, so a test
programs the SIEM's replies with respx's own API. Requests no route matched get
``default_status`` with ``{}``, or, for AWS SDK calls, an answer in the service's own
protocol (``_aws_answers``).

The parts, one module each (after mitmproxy's layout):

* ``capture`` (this module): the public face, ``Capture``, ``CapturedRequest`` and
  ``CapturedResponse``, and routing. Requests are numbered, routed and recorded under one
  lock, so ``index`` order, the order of ``requests`` and the order in which a route's
  ``side_effect`` list is consumed are the same order.
* ``proxy_server``: listening, idle connections, descriptor limits.
* ``proxy_connection``: HTTP/1.1 on one connection, CONNECT tunnels, the port lock.
* ``_certs``: the CA (the user's, kept in their cache folder) and its bounded
  certificate cache.
* ``_bodies``: content decoding and spooling of large bodies.
* ``_aws_answers``: default answers AWS SDKs accept; ``_token_answers``: a dummy
  token for OAuth 2.0 token requests.
* ``sandbox``: optionally, hooks in a network namespace that reaches only the capture.

The port is locked: ``proxy_url`` carries a per-run secret as proxy credentials, which
curl, urllib, requests, httpx and botocore all send; a request without it is answered 407
and not recorded, so another local process cannot post into a test's results.

On its own the capture is not a sandbox: a client told to ignore the environment
(``trust_env=False``, ``proxies={}``, a raw socket, a ``.curlrc`` with ``noproxy``)
bypasses it and reaches the network (``sandbox`` closes that gap on Linux). Smaller limits: a request whose body never finished
arriving is not recorded (no server would have seen it either); a route's
``Content-Encoding`` header is dropped because respx hands over the decoded body; a
client that sends TLS bytes before reading the proxy's ``200`` to CONNECT is
disconnected; route side effects run one at a time (see above); routes see the body as
it arrived (still compressed, if it was).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CaptureNotStarted
from .bodies import SPOOL_THRESHOLD, DecodeError, SpooledBody, decode
from .certs import CertificateCache, make_ca, user_ca
from .exchange import Exchange, ServerSide
from .policy import PROXY_USER, basic_authorization, forwarded_headers, proxy_user, recorded_headers
from .proxy_server import ProxyServer
from .records import HTTP, RecordLog

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx
    import respx

    from ..settings import Route
    from .syslog_receiver import SyslogReceiver

__all__ = ["Capture", "CaptureFailure", "CapturedRequest", "CapturedResponse"]

NO_ROUTE = "hookdk capture: no route matched"


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


# --- the public face -------------------------------------------------------------------


class Capture:
    """A local proxy that records every request a hook makes and answers it itself.

    Use it as a context manager, hand ``environ()`` to the hook's process, then read
    ``requests``. Program answers on ``router`` (respx): unmatched requests get
    ``default_status`` with a ``{}`` JSON body (AWS SDK calls: an answer in their
    protocol), or, when ``strict``, a 502 saying no route matched, and land in
    ``unmatched`` for ``check_strict()`` to report.

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
        after ``router`` and before ``default_status``, first match wins; like
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

    # lifecycle

    def start(self) -> Capture:
        """Find (or make) the CA, make the run's secret, and listen on an ephemeral port."""
        if self._server is not None:
            return self
        tempdir = Path(tempfile.mkdtemp(prefix="hookdk-capture-"))
        # A Capture that is never stopped still removes its folder when the process exits.
        self._cleanup = weakref.finalize(self, shutil.rmtree, tempdir, ignore_errors=True)
        kept = None if self.fresh_ca else user_ca(self.ca_folder)
        ca = kept or make_ca(tempdir)
        self._ca_path = str(ca.cert_path)
        (tempdir / "bodies").mkdir()
        self._secret = base64.urlsafe_b64encode(os.urandom(24)).decode()  # 192 bits
        side = ServerSide(
            answer=self._answer,
            certificates=CertificateCache(ca),
            secret=self._secret,
            spool_folder=tempdir / "bodies",
            socket_timeout=self.socket_timeout,
            spool_threshold=self.spool_threshold,
        )
        unix = tempdir / "proxy.sock"  # for sandboxed hooks; AF_UNIX paths are short
        self.unix_socket = str(unix) if sys.platform == "linux" and len(str(unix)) < 100 else None
        self.folder = tempdir
        self._server = ProxyServer(side, idle_timeout=self.idle_timeout, unix_path=self.unix_socket)
        if self._syslog_wanted:
            from .syslog_receiver import SyslogReceiver

            # its Unix sockets next to the proxy's: the way in from --sandbox
            unix_folder = tempdir if self.unix_socket is not None else None
            self.syslog = SyslogReceiver(ca, unix_folder=unix_folder, records=self.records)
            self.syslog.start()  # the CA's key is loaded on the first TLS connection
        return self

    def stop(self) -> None:
        """Close every connection, stop listening, and delete the temporary folder."""
        if self._server is not None:
            self._server.close()
            self._server = None
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
        env = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
        env |= {"NO_PROXY": "", "no_proxy": ""}
        bundles = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE")
        env |= {name: ca for name in bundles}
        if self.syslog is not None:  # a client's own syslog ports, unless sandboxed
            env |= self.syslog.environ(client if self.syslog_per_client else "")
        return env

    # what was captured

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request so far, in order of arrival (a copy)."""
        return self.records.since(0, kind=HTTP)

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
            self._unmatched.clear()
            self._failures.clear()
            if self._router is not None:
                self._router.clear()
                self._router.reset()
            self.strict, self.default_status = self._defaults
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

    def _running(self) -> ProxyServer:
        if self._server is None:
            raise CaptureNotStarted("the Capture is not started: use start() or a with block")
        return self._server

    def _answer(self, exchange: Exchange) -> CapturedRequest:
        """Number, route and record one complete request (called by connection threads)."""
        headers = recorded_headers(exchange.headers)
        named = [(_text(name), _text(value)) for name, value in headers]
        trailers = [(_text(name), _text(value)) for name, value in exchange.trailers]
        with self._lock:  # so that index order is the order routes were consulted in
            response, matched, failure = self._route(exchange, headers)
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
                ),
            )
            if not matched and self.strict:
                self._unmatched.append(captured)
            if failure is not None:
                self._failures.append(CaptureFailure(captured, failure))
        return captured

    def _route(
        self, exchange: Exchange, headers: list[tuple[bytes, bytes]]
    ) -> tuple[CapturedResponse, bool, Exception | None]:
        """Resolve through the respx router; every failure becomes an error response, and
        an exception the test's code raised (not a simulated network error) is returned
        as well, for the test to hear of."""
        method, url, body = exchange.method, exchange.url, exchange.body
        try:
            resolved = self._resolve(method, url, headers, body)
        except _PassedThrough:
            return (
                _error(502, "hookdk capture: pass_through is impossible, nothing leaves"),
                True,
                None,
            )
        except _Unroutable as error:  # an URL or header httpx cannot represent
            return _error(400, f"hookdk capture: cannot route this request: {error}"), False, None
        except Exception as error:
            import httpx

            # a side effect playing a network failure stays the hook's 502; anything else is
            # a bug in the test's route: the hook sees a 502 and the test hears of it
            raised = None if isinstance(error, httpx.TransportError) else error
            return _error(502, f"hookdk capture: route side effect raised {error!r}"), True, raised
        if resolved is None or resolved.route is None:
            status = next((r.status for r in self._routes if r.matches(method, url)), None)
            if status is not None:  # the settings' answer, as the router would give it
                return CapturedResponse(status, [], b""), True, None
            if self.strict:
                return _error(502, f"{NO_ROUTE}: {method} {url}"), False, None
            return self._default_answer(exchange, headers), False, None
        return _from_httpx(resolved.response), True, None

    def _resolve(
        self,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes | SpooledBody,
    ) -> Any:
        """The router's resolution (None when no route was ever programmed: respx is not
        even imported then). A spooled body reaches the router as a stream, read only if a
        route needs it. Every request is made an httpx request, routes or not, so that one
        httpx cannot represent is refused alike."""
        import httpx

        content = body.chunks() if isinstance(body, SpooledBody) else body
        try:
            request = httpx.Request(method, url, headers=headers, content=content)
        except Exception as error:
            raise _Unroutable(error) from error
        if self._router is None:
            return None
        from respx.models import PassThrough

        try:
            try:
                return self._router.resolve(request)
            except httpx.RequestNotRead:
                assert isinstance(body, SpooledBody)
                request = httpx.Request(method, url, headers=headers, content=body.read())
                return self._router.resolve(request)
        except PassThrough:
            raise _PassedThrough from None

    def _default_answer(
        self, exchange: Exchange, headers: list[tuple[bytes, bytes]]
    ) -> CapturedResponse:
        """``default_status`` with ``{}``, or what an AWS SDK expects for its call, or a
        dummy token for an OAuth 2.0 token request."""
        named = {_text(n).lower(): _text(v) for n, v in reversed(headers)}
        body = exchange.body if isinstance(exchange.body, bytes) else b""
        with contextlib.suppress(DecodeError):
            body = decode(body, named.get("content-encoding"))
        from . import (
            aws_answers as _aws_answers,  # only for unanswered requests: it imports xml and more
        )

        aws = _aws_answers.answer(exchange.method, exchange.url, named, body, self.default_status)
        if aws is not None:
            return CapturedResponse(*aws)
        from . import token_answers as _token_answers

        token = _token_answers.answer(exchange.method, exchange.url, self.default_status)
        if token is not None:
            return CapturedResponse(*token)
        json_type = [("Content-Type", "application/json")]
        return CapturedResponse(self.default_status, json_type, b"{}")


class _Unroutable(Exception):
    """httpx cannot represent this request (its URL or a header)."""


class _PassedThrough(Exception):
    """A route asked respx to pass the request through to the network."""


def _error(status: int, message: str) -> CapturedResponse:
    return CapturedResponse(
        status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()
    )


def _from_httpx(response: httpx.Response) -> CapturedResponse:
    """Keep a programmed response's end-to-end headers; the proxy redoes the framing."""
    headers = [
        (_text(name), _text(value)) for name, value in forwarded_headers(response.headers.raw)
    ]
    return CapturedResponse(response.status_code, headers, response.content)


def _text(raw: bytes) -> str:
    """Header bytes as text: latin-1, the HTTP default, so every byte round-trips."""
    return raw.decode("latin-1")
