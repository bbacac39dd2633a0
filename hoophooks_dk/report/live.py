"""``hookdk watch --ui``: the live page, served on 127.0.0.1 while the watch runs.

The watch publishes each run (an HTML fragment made by the report's own templates) and
the page shows it at once, the latest first, through server-sent events.

Choices, and why:

* **The standard library's ``ThreadingHTTPServer``.** The server has three routes and
  one reader (a browser on the same machine), and server-sent events are a response
  that stays open; a web framework would add a dependency and an event loop for nothing.
  Threads are daemons: a browser left open never holds the watch up.
* **Server-sent events, not WebSockets or polling.** One-way, plain HTTP, reconnects by
  itself (``Last-Event-ID``: a page that lost the stream gets the runs it missed), and
  ``EventSource`` is in every browser without a library.
* **Nothing readable without the token.** The server listens on 127.0.0.1 only, where any
  local user can connect: every path but ``/<token>/`` and ``/<token>/events`` is a bare
  404, the token (``secrets.token_urlsafe``, 192 bits) compared in constant time. The
  ``Host`` header must name this address, so a web page elsewhere cannot reach it by DNS
  rebinding; responses carry the page's Content-Security-Policy and are not cached.
* **It stops with the watch.** ``close`` sends open pages a ``stop`` event, shuts the
  server down and closes its socket.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ..errors import HookdkError

HOST = "127.0.0.1"
#: Runs kept for pages that connect later (the page keeps as many).
KEEP = 50
#: Seconds between keep-alive comments on an idle stream.
KEEPALIVE = 15.0


@dataclass(frozen=True)
class Published:
    number: int
    anchor: str
    html: str
    title: str
    settings: str  # the settings card as the run used them ("" : unchanged)


class LiveServer:
    """The live page's server. ``page(runs, after)`` renders the page around the runs
    kept so far (their HTML, latest first) and the number of the latest."""

    def __init__(self, page: Callable[[list[str], int], str], port: int = 0) -> None:
        self.token = secrets.token_urlsafe(24)
        self._page = page
        self._runs: deque[Published] = deque(maxlen=KEEP)
        self._changed = threading.Condition()
        self._closed = False
        try:
            self._server = _Server((HOST, port), _Handler)
        except OSError as error:
            raise HookdkError(
                f"--port {port}: cannot listen on {HOST}:{port}: {error.strerror}"
            ) from None
        self._server.live = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hookdk-live", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/{self.token}/"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def publish(self, number: int, anchor: str, html: str, title: str, settings: str = "") -> None:
        """Show a run: pages open now get it at once, pages opened later with the page."""
        with self._changed:
            self._runs.append(Published(number, anchor, html, title, settings))
            self._changed.notify_all()

    def close(self) -> None:
        """Tell open pages the watch stopped, stop serving, free the port."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    # --- what the handler reads ---------------------------------------------------------

    def page(self) -> str:
        with self._changed:
            runs = list(self._runs)
        latest = runs[-1].number if runs else 0
        return self._page([run.html for run in reversed(runs)], latest)

    def wait(self, after: int, timeout: float) -> tuple[list[Published], bool]:
        """Runs numbered past ``after`` (waiting up to ``timeout`` for one), and whether
        the server is closing."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._closed or (self._runs and self._runs[-1].number > after), timeout
            )
            return [run for run in self._runs if run.number > after], self._closed

    def allowed(self, path: str) -> str | None:
        """``"page"`` or ``"events"`` for this server's paths, None for any other."""
        prefix, slash, rest = path.removeprefix("/").partition("/")
        if not slash or not hmac.compare_digest(prefix.encode(), self.token.encode()):
            return None
        return {"": "page", "events": "events"}.get(rest)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a port another process holds is an error, not shared
    live: LiveServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "hookdk"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        live = self.server.live
        url = urlsplit(self.path)
        route = live.allowed(url.path) if self._host_ok() else None
        if route == "page":
            self._send(200, "text/html; charset=utf-8", live.page().encode())
        elif route == "events":
            self._stream(_after(url.query, self.headers.get("Last-Event-ID")))
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")

    def _host_ok(self) -> bool:
        port = self.server.live.port
        return self.headers.get("Host", "") in (f"{HOST}:{port}", f"localhost:{port}")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(body)

    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "frame-ancestors 'none'")

    def _stream(self, after: int) -> None:
        """Server-sent events until the watch stops or the page goes away."""
        live = self.server.live
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self._common_headers()
        self.end_headers()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while True:
                runs, closing = live.wait(after, KEEPALIVE)
                for run in runs:
                    self.wfile.write(_event(run))
                    after = run.number
                if closing:
                    self.wfile.write(b"event: stop\ndata: {}\n\n")
                    return
                if not runs:
                    self.wfile.write(b": still watching\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the watch's terminal shows runs, not requests."""


def _event(run: Published) -> bytes:
    data = {"anchor": run.anchor, "html": run.html, "title": run.title}
    if run.settings:
        data["settings"] = run.settings
    return f"id: {run.number}\nevent: run\ndata: {json.dumps(data)}\n\n".encode()


def _after(query: str, last_event_id: str | None) -> int:
    """The latest run the page has: from the page (``?after=``) or the browser's
    reconnection (``Last-Event-ID``), whichever is later."""
    values = [*parse_qs(query).get("after", []), last_event_id or ""]
    return max((int(value) for value in values if value.isdecimal()), default=0)
