"""A local syslog listener, UDP, TCP and TLS, that records every message a hook sends.

QRadar, ArcSight, Graylog, Sentinel's CEF connector and rsyslog relays take events as
syslog on a socket, not over HTTP, so the HTTP capture cannot see a hook that feeds them.
``SyslogReceiver`` listens on 127.0.0.1 on three ephemeral ports and records each message
raw and parsed (``syslog_formats``). A hook cannot be redirected to it the way the proxy
variables redirect HTTP clients, so ``environ()`` gives the address in variables that the
kit's syslog templates read (and any hook may): ``HOOKDK_SYSLOG_HOST``,
``HOOKDK_SYSLOG_UDP_PORT``, ``HOOKDK_SYSLOG_TCP_PORT``, ``HOOKDK_SYSLOG_TLS_PORT`` and
``HOOKDK_SYSLOG_CA_FILE`` (the CA that issued the TLS port's certificate).

The parts: this module listens (the ports, UDP, accepting, the record of each message);
``syslog_connection`` serves one TCP or TLS client; ``syslog_message`` is the record.

Choices, and why:

* **Framing is detected per frame** (RFC 6587 section 3.4, ``syslog_framing``): a frame
  that starts with a digit is octet-counted (``LEN SP MSG``); anything else runs to a
  line feed (or NUL, which Python's ``SysLogHandler`` ends TCP messages with).
* **TLS as a SIEM does it** (RFC 5425): the TLS port presents a certificate from the CA
  it is given (the capture's, which ``SSL_CERT_FILE`` already names), for the name the
  client asks for in SNI, else for ``localhost`` and ``127.0.0.1``. A hook that verifies
  its production host name therefore verifies here too; the name is recorded.
* **A cut stream is not taken for a whole one.** A TLS sender must end with
  close_notify (RFC 5425 section 4.4); a connection reset or a TLS stream cut without
  it records the frame it was in with ``error`` set. (A TLS 1.3 client that closes
  without reading the session tickets is reset, and a reset can drop its last bytes: the
  kit's templates close TLS properly.)
* **Nothing stops the receiver.** A frame that breaks a rule is recorded with
  ``error`` set; an octet count that is not one, or a frame past ``max_frame``, is
  recorded too and, since the stream cannot be trusted after it, ends that connection
  only. A failed TLS handshake ends that connection only.
* **Locked to the run** (``senders``; the capture passes ``peer_process.from_the_run``):
  a connection or datagram whose sending process the kernel shows, and which is neither
  the kit nor one of the run's hooks, is not recorded (counted in ``strangers``). What
  cannot be judged is let in; the per-run canary values keep it from forging a leak
  (``peer_process`` says why).
* **Reachable from the sandbox.** With ``unix_folder`` the TCP and TLS ports are also
  Unix sockets, which ``--sandbox``'s relay connects a sandboxed hook to (the network
  namespace has its own 127.0.0.1). UDP is not relayed.
* **One serving thread, started cheaply.** One selector thread reads every UDP port and
  accepts on every TCP and TLS listener; ``syslog_connection`` (and ssl, with the first
  TLS client), the framing and the record load with the first client that needs them, so
  a ``hookdk fire`` whose hook sends no syslog pays for none of it.
* **Bounded.** One thread per TCP or TLS connection (code that reads straight through),
  at most ``max_connections`` at a time (more wait in the listen backlog), each closed
  after ``socket_timeout`` seconds of silence; frames are cut at ``max_frame`` bytes;
  the TLS port keeps at most ``max_certificates`` contexts for SNI names, the least
  recently used dropped first (the proxy's ``certs.CertificateCache``).
* **One record log.** Messages are numbered and appended in one step to a
  ``records.RecordLog`` (the capture's, when the capture runs the receiver), so
  ``index`` order is ``messages`` order, and one mark sees requests and messages alike.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import shutil
import socket
import struct
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .certs import DEFAULT_CACHE_SIZE
from .records import SYSLOG, RecordLog

if TYPE_CHECKING:  # trustme loads the cryptography stack: imported when a CA is made
    import trustme

    from .syslog_connection import SyslogConnection, TlsContexts
    from .syslog_message import SyslogMessage

__all__ = ["ENVIRONMENT", "SyslogMessage", "SyslogReceiver"]


def __getattr__(name: str) -> Any:
    """``SyslogMessage``, named here too, loads with the first message (or this use)."""
    if name == "SyslogMessage":
        from .syslog_message import SyslogMessage

        return SyslogMessage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The variables ``environ()`` sets, and what each holds.
ENVIRONMENT = {
    "HOOKDK_SYSLOG_HOST": "the receiver's address (127.0.0.1)",
    "HOOKDK_SYSLOG_UDP_PORT": "its UDP port (one message per datagram)",
    "HOOKDK_SYSLOG_TCP_PORT": "its plain TCP port (octet-counting or newline framing)",
    "HOOKDK_SYSLOG_TLS_PORT": "its TLS port (RFC 5425; same framing as TCP)",
    "HOOKDK_SYSLOG_CA_FILE": "PEM file of the CA that issued the TLS port's certificate",
}


class SyslogReceiver:
    """Listens on 127.0.0.1 for syslog over UDP, TCP and TLS, and records every message.

    Use it as a context manager (or ``start()``/``stop()``), hand ``environ()`` to the
    hook, then read ``messages`` (``mark()`` and ``messages_since()`` to see one hook's,
    ``wait_idle()`` first so none is still on its way). ``ca`` issues the TLS port's
    certificates; without one the receiver makes its own throwaway CA.
    """

    def __init__(
        self,
        ca: trustme.CA | Any | None = None,
        *,
        unix_folder: Path | None = None,
        max_connections: int = 64,
        max_frame: int = 1 << 20,
        socket_timeout: float = 10.0,
        max_certificates: int = DEFAULT_CACHE_SIZE,
        records: RecordLog | None = None,
        senders: Callable[[str, socket.socket, Any], bool | None] | None = None,
    ) -> None:
        """``records``: the log to record messages in (the capture's, so that one mark
        sees requests and messages alike); without it, a log of the receiver's own.
        ``senders``: who may send, asked with (transport, the socket a connection was
        accepted on or a datagram came to, the sender's address): False refuses it;
        without it, anyone may."""
        self._senders = senders
        #: Connections and datagrams refused because a stranger sent them (``senders``).
        self.strangers = 0
        self.max_connections = max_connections
        #: TLS contexts kept for the names clients ask for in SNI (``certs``' bound).
        self.max_certificates = max_certificates
        self.max_frame = max_frame
        self.socket_timeout = socket_timeout
        #: The TLS port presents a certificate from a CA no client trusts, on request: a
        #: hook must refuse it (``reset()`` turns it off again).
        self.untrusted_certificates = False
        self._ca = ca
        self._unix_folder = unix_folder
        #: Unix sockets that reach the TCP and TLS ports too (with ``unix_folder``): a
        #: sandboxed hook's relay connects to them.
        self.unix_sockets: dict[str, str] = {}
        #: client -> its own ports (``environ(client)``), so concurrent fires are told apart
        self._client_sockets: dict[str, dict[str, socket.socket]] = {}
        self._lock = threading.Lock()  # guards connections, client ports and busy flags
        #: Where messages are recorded (see ``records``): the capture's log, or our own.
        self.records = records if records is not None else RecordLog()
        self._connections: set[SyslogConnection] = set()
        self._udp_busy = False
        self._to_refuse = 0
        #: TLS connections that ended without close_notify (RFC 5425 section 4.4 says a
        #: sender MUST send it): their last bytes may have been lost on the way.
        self.unclean_closes = 0
        #: TCP and TLS connections reset at once by ``refuse_connections``, so far.
        self.refused = 0
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._sockets: dict[str, socket.socket] = {}
        self._tls: TlsContexts | None = None
        self._signer: Callable[[], trustme.CA] | None = None
        self._ca_path: str | None = None
        self._cleanup: weakref.finalize | None = None

    # lifecycle

    def start(self) -> SyslogReceiver:
        """Open the three ports (ephemeral) and start serving them."""
        if self._sockets:
            return self
        self._ca_path, self._signer = self._certificate_authority()
        self._tls = None  # made on the first TLS connection: it loads the cryptography stack
        self._closing.clear()
        # a byte here wakes the serving thread, waiting on its sockets, at once rather than
        # at its next look: stop() (a fire's capture stops after every run), a client's
        # ports opened, a connection's slot freed
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sockets = _listeners()
        if self._unix_folder is not None:
            for transport in ("tcp", "tls"):
                path = str(Path(self._unix_folder) / f"syslog-{transport}.sock")
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(path)
                listener.listen(256)
                listener.setblocking(False)
                self._sockets[f"{transport}-unix"] = listener
                self.unix_sockets[transport] = path
        self._thread = threading.Thread(target=self._serve, name="hookdk-syslog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, close every connection, delete the CA file."""
        if not self._sockets:
            return
        self._closing.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._wake_r.close()
        self._wake_w.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.abort()
        for connection in connections:
            connection.thread.join(timeout=2)
        for client in list(self._client_sockets):
            self.release(client)
        for sock in self._sockets.values():
            sock.close()
        for path in self.unix_sockets.values():
            with contextlib.suppress(OSError):
                Path(path).unlink()
        self._sockets, self._thread, self.unix_sockets = {}, None, {}
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None
        self._ca_path = None

    def __enter__(self) -> SyslogReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _certificate_authority(self) -> tuple[str, Callable[[], trustme.CA]]:
        """(the CA's PEM file, how to get its signer). A CA given as a certificate file and
        a lazy ``signer()`` (the capture's) is used as it is, its key loaded only when a
        TLS client connects; a ``trustme.CA`` is written out, in a temporary folder that
        ``stop()`` removes; no CA: a throwaway one."""
        if hasattr(self._ca, "signer") and hasattr(self._ca, "cert_path"):
            return str(self._ca.cert_path), self._ca.signer
        import trustme

        ca = self._ca or trustme.CA(organization_name="hookdk syslog receiver (throwaway)")
        from ..runtime import tempdirs

        folder = tempdirs.make("syslog")
        self._cleanup = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        path = str(Path(folder) / "hookdk-syslog-ca.pem")
        ca.cert_pem.write_to_path(path)
        return path, lambda: ca

    def _tls_contexts(self) -> TlsContexts:
        from .syslog_connection import TlsContexts

        with self._lock:
            if self._tls is None:
                assert self._signer is not None
                self._tls = TlsContexts(self._signer(), self.max_certificates)
            self._tls.certificates.untrusted = self.untrusted_certificates
            return self._tls

    # how a hook reaches it

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def port(self, transport: str) -> int:
        """The port of ``transport``: ``"udp"``, ``"tcp"`` or ``"tls"``."""
        if not self._sockets:
            raise RuntimeError("the SyslogReceiver is not started: use start() or a with block")
        return self._sockets[transport].getsockname()[1]

    @property
    def ca_path(self) -> str:
        self.port("tls")
        assert self._ca_path is not None
        return self._ca_path

    def environ(self, client: str = "") -> dict[str, str]:
        """The variables that tell a hook where the receiver listens (see ``ENVIRONMENT``).

        With ``client``, ports of that client's own (opened now, closed by ``release``):
        its messages carry ``client``, so hooks fired at once are told apart, as the
        capture tells their requests apart by the client in the proxy credentials.
        """
        ports = {transport: self.port(transport) for transport in ("udp", "tcp", "tls")}
        if client:
            with self._lock:
                opened = client not in self._client_sockets
                if opened:
                    self._client_sockets[client] = _listeners()
                own = self._client_sockets[client]
            if opened:
                self._wake()  # the serving thread watches them from now on
            ports = {transport: own[transport].getsockname()[1] for transport in ports}
        return {
            "HOOKDK_SYSLOG_HOST": self.host,
            "HOOKDK_SYSLOG_UDP_PORT": str(ports["udp"]),
            "HOOKDK_SYSLOG_TCP_PORT": str(ports["tcp"]),
            "HOOKDK_SYSLOG_TLS_PORT": str(ports["tls"]),
            "HOOKDK_SYSLOG_CA_FILE": self.ca_path,
        }

    def release(self, client: str) -> None:
        """Close ``client``'s own ports (its connections already open are served on)."""
        with self._lock:
            sockets = self._client_sockets.pop(client, {})
        for sock in sockets.values():
            sock.close()

    # what was received

    @property
    def messages(self) -> list[SyslogMessage]:
        """Every message so far, in order of arrival (a copy)."""
        return self.records.since(0, kind=SYSLOG)

    def mark(self) -> int:
        """A position in what was recorded; pass it to ``messages_since`` (with the
        capture's log, a ``Capture.mark()`` is one too)."""
        return self.records.mark()

    def messages_since(self, mark: int, client: str | None = None) -> list[SyslogMessage]:
        """Messages after ``mark``; with ``client``, that client's and the shared ports'."""
        return self.records.since(mark, kind=SYSLOG, client=client)

    def reset(self) -> None:
        """Forget the messages and refusals, keeping ports and CA (one receiver serves a
        whole test session); a shared log keeps its other records."""
        self.records.reset(SYSLOG)
        with self._lock:
            self._to_refuse = self.refused = self.unclean_closes = self.strangers = 0
        self.untrusted_certificates = False

    def refuse_connections(self, count: int) -> None:
        """Reset the next ``count`` TCP or TLS connections as soon as they are accepted, as
        a collector that is down or restarting would: a TLS client sees its handshake
        fail; a plain TCP client may see nothing (TCP syslog cannot tell, RFC 6587)."""
        with self._lock:
            self._to_refuse = count

    def wait_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no message is on its way; True if that happened within ``timeout``.

        On its way: a datagram or connection not yet read, bytes of a frame not yet
        complete, a connection still in its TLS handshake.
        """
        deadline = time.monotonic() + timeout
        while not self._is_quiet():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    # serving

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # closed (stopped), or full: awake already
            self._wake_w.send(b"x")

    def _is_quiet(self) -> bool:
        if not self._sockets:
            return True
        with self._lock:
            if self._udp_busy or any(c.busy for c in self._connections):
                return False
            watched = [*self._sockets.values(), *(c.sock for c in self._connections)]
            watched += [s for own in self._client_sockets.values() for s in own.values()]
            poller = select.poll()  # not select(): socket numbers may be past 1024
            try:
                for sock in watched:
                    poller.register(sock, select.POLLIN)
            except (OSError, ValueError):  # a socket closed while we looked: look again
                return False
            return not poller.poll(0)

    def _record(
        self,
        transport: str,
        framing: str,
        raw: bytes,
        peer: str,
        server_name: str | None = None,
        error: str | None = None,
        client: str = "",
    ) -> None:
        from .syslog_message import SyslogMessage

        parsed = None
        if error is None:
            # the parsers load with the first message: hookdk fire, which most often
            # receives none, does not pay for them at start-up
            from .syslog_formats import MalformedSyslog, parse_frame

            try:
                parsed = parse_frame(raw)
                error = parsed.body_error
            except MalformedSyslog as malformed:
                error = str(malformed)
        self.records.append(
            SYSLOG,
            lambda index: SyslogMessage(
                index,
                datetime.now(UTC),
                transport,
                framing,
                raw,
                peer,
                server_name,
                parsed,
                error,
                client,
            ),
        )

    def _serve(self) -> None:
        """The serving thread: datagrams on every UDP port and connections on every TCP
        and TLS listener, the shared ones and each client's, in one selector. What it
        watches is read again at each wake-up (a client's ports opened or closed, a slot
        freed) and at least every 0.2 s; the listeners only while a connection may be
        taken, so that at ``max_connections`` new clients wait in the backlog."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ)
            watched: dict[socket.socket, tuple[str, str]] = {}
            while not self._closing.is_set():
                wanted = self._watched()
                for sock in watched.keys() - wanted.keys():
                    selector.unregister(sock)  # closed meanwhile: the selector copes
                for sock in wanted.keys() - watched.keys():
                    try:
                        selector.register(sock, selectors.EVENT_READ, wanted[sock])
                    except (OSError, ValueError):  # a client's port closed meanwhile
                        del wanted[sock]
                watched = wanted
                for key, _ in selector.select(0.2):
                    if key.fileobj is self._wake_r:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(4096)
                    elif key.data[0] == "udp":
                        self._receive_datagram(key.fileobj, key.data[1])
                    else:
                        self._accept(key.fileobj, *key.data)

    def _watched(self) -> dict[socket.socket, tuple[str, str]]:
        """Every port to watch: socket -> (transport, client); TCP and TLS listeners only
        below ``max_connections``."""
        with self._lock:
            streams = len(self._connections) < self.max_connections
            ports = [(name, sock, "") for name, sock in self._sockets.items()]
            for client, own in self._client_sockets.items():
                ports += [(name, sock, client) for name, sock in own.items()]
        transports = ((name.split("-")[0], sock, client) for name, sock, client in ports)
        return {
            sock: (transport, client)
            for transport, sock, client in transports
            if transport == "udp" or streams
        }

    def _receive_datagram(self, udp: socket.socket, client: str) -> None:
        with self._lock:  # taken off the socket and marked busy in one step
            try:
                data, address = udp.recvfrom(65535)
            except OSError:  # nothing after all, or the client's port closed meanwhile
                return
            if self._stranger("udp", udp, address):
                return
            self._udp_busy = True
        try:
            if data.strip(b"\x00\r\n"):
                from .syslog_framing import DATAGRAM

                self._record("udp", DATAGRAM, data, _peer(address), client=client)
        finally:
            self._udp_busy = False

    def _accept(self, listener: socket.socket, transport: str, client: str) -> None:
        try:  # one thread per connection, loaded with the first (it opens files)
            from .syslog_connection import SyslogConnection
        except OSError:  # out of descriptors: the client waits, the next look retries
            return
        with self._lock:  # accept and register in one step, for _is_quiet()
            if len(self._connections) >= self.max_connections:
                return  # it waits in the backlog; the listeners go unwatched meanwhile
            try:
                sock, address = listener.accept()
            except OSError:  # gone before it was accepted, or the port closed meanwhile
                return
            if self._to_refuse > 0:  # first: a collector that is down resets at once
                self._to_refuse -= 1
                self.refused += 1
                _reset(sock)
                return
            if self._stranger(transport, sock, address):
                _reset(sock)
                return
            connection = SyslogConnection(self, sock, transport, _peer(address), client)
            self._connections.add(connection)
        connection.thread.start()

    def _stranger(self, transport: str, sock: socket.socket, address: Any) -> bool:
        """Sent by a process that may not send here (called under ``_lock``)."""
        if self._senders is None or self._senders(transport, sock, address) is not False:
            return False
        self.strangers += 1
        return True

    def _forget(self, connection: SyslogConnection) -> None:
        with self._lock:
            self._connections.discard(connection)
            freed = len(self._connections) == self.max_connections - 1
        if freed:
            self._wake()  # the listeners were unwatched at the limit


def _listeners() -> dict[str, socket.socket]:
    """A UDP socket and TCP and TLS listeners on ephemeral loopback ports."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # bursts of datagrams
    udp.bind(("127.0.0.1", 0))
    sockets = {
        "udp": udp,
        "tcp": socket.create_server(("127.0.0.1", 0), backlog=256),
        "tls": socket.create_server(("127.0.0.1", 0), backlog=256),
    }
    for sock in sockets.values():  # a readiness gone stale never blocks the serving thread
        sock.setblocking(False)
    return sockets


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (linger 0), not an orderly shutdown."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "unix socket"  # relayed from a sandboxed hook
