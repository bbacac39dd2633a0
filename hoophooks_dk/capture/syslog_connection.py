"""One TCP or TLS syslog client of the receiver: its TLS handshake, then frames until it
closes, errs or falls silent.

Why it is built this way (the receiver's docstring has the rest):

* **One thread per connection, code that reads straight through**: the framing
  (``syslog_framing``) is fed what arrives and hands back whole frames, each recorded
  at once; ``busy`` says whether a frame is half-read, for ``wait_idle``.
* **TLS as a SIEM does it** (RFC 5425): a certificate for the name the client asks for in
  SNI (recorded as ``server_name``), else for the loopback names. The contexts for SNI
  names come from the proxy's bounded ``certs.CertificateCache``, so a client sending
  endless names costs issuing time, never unbounded memory.
* **A cut stream is not taken for a whole one**: a reset, or TLS closed without
  close_notify, records the frame it was in with ``error`` set.
* **ssl loads with the first TLS client**, logging with the first broken one: a
  ``hookdk fire`` whose hook sends no syslog pays for neither at start-up.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import TYPE_CHECKING, Any

from .syslog_framing import Frame, StreamDeframer

if TYPE_CHECKING:
    import ssl

    import trustme

    from .syslog_receiver import SyslogReceiver

__all__ = ["SyslogConnection", "TlsContexts", "ready_to_read"]


def ready_to_read(socks: list[socket.socket], timeout: float) -> list[Any]:
    """The sockets of ``socks`` with something to read (or closed) within ``timeout``.

    A selector (epoll, kqueue), not ``select()``: a process holding over 1024 files has
    socket numbers ``select()`` refuses."""
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        return [key.fileobj for key, _ in selector.select(timeout)]


LOOPBACK = ("localhost", "127.0.0.1", "::1")


class TlsContexts:
    """Server TLS contexts with certificates from one CA: a default one for the loopback
    names, and one per name a client asks for in SNI, from a bounded ``CertificateCache``
    (the proxy's mechanism), so a client sending endless names cannot grow memory."""

    _seen = threading.local()  # the SNI name of the handshake running in this thread

    def __init__(self, ca: trustme.CA, max_size: int) -> None:
        from .certs import CertificateCache

        #: The contexts for names asked for in SNI, least recently used evicted first.
        self.certificates = CertificateCache(ca, max_size, alpn=None)
        self.default = self.certificates.new_context(*LOOPBACK)
        self.default.sni_callback = self._follow_sni
        self._untrusted_default: ssl.SSLContext | None = None

    def untrusted_default(self) -> ssl.SSLContext:
        """The default context, but from a CA no client trusts (``certificates.untrusted``)."""
        if self._untrusted_default is None:
            self._untrusted_default = self.certificates.impostor().new_context(*LOOPBACK)
            self._untrusted_default.sni_callback = self._follow_sni
        return self._untrusted_default

    def _follow_sni(self, tls: Any, server_name: str | None, _: object) -> None:
        TlsContexts._seen.name = server_name
        if server_name:
            tls.context = self.certificates.context_for(server_name)

    def handshake(self, sock: socket.socket) -> tuple[ssl.SSLSocket, str | None]:
        """Complete the server side of a handshake; (TLS socket, SNI name or None)."""
        TlsContexts._seen.name = None
        # ragged EOFs raise: a TLS stream cut without close_notify may have lost its end
        default = self.untrusted_default() if self.certificates.untrusted else self.default
        tls = default.wrap_socket(sock, server_side=True, suppress_ragged_eofs=False)
        return tls, TlsContexts._seen.name


class SyslogConnection:
    """One TCP or TLS client: reads frames until it closes, errs or falls silent."""

    def __init__(
        self,
        receiver: SyslogReceiver,
        sock: socket.socket,
        transport: str,
        peer: str,
        client: str = "",
    ) -> None:
        self.receiver = receiver
        self.client = client
        self.sock: socket.socket = sock
        self.transport = transport
        self.tls = transport == "tls"  # its socket is an SSLSocket once the handshake is done
        self.peer = peer
        self.server_name: str | None = None
        self.busy = True  # until the handshake is done and no frame is half-read
        self.frames = StreamDeframer(receiver.max_frame)
        self.silent_for = 0.0  # seconds without a byte; the connection ends at socket_timeout
        self.thread = threading.Thread(target=self.serve, name="hookdk-syslog-conn", daemon=True)

    def serve(self) -> None:
        try:
            self.sock.settimeout(self.receiver.socket_timeout)
            if self.tls:
                tls = self.receiver._tls_contexts()
                self.sock, self.server_name = tls.handshake(self.sock)
            self.sock.setblocking(False)
            self.busy = False
            self._read_frames()
        except ConnectionResetError:
            # A client that closes with data unread (TLS 1.3 session tickets) is reset, and
            # a reset can drop what it sent last: keep the part that came, marked.
            self._record(self.frames.abandon("connection reset"))
        except Exception as error:  # a broken client loses its own connection, nothing more
            if self.tls and _ragged_tls_end(error):
                # RFC 5425 section 4.4: a sender closes TLS with close_notify; without it
                # the end of the stream may be missing (a reset looks the same from here).
                self._record(self.frames.abandon("TLS closed without close_notify"))
                with self.receiver._lock:
                    self.receiver.unclean_closes += 1
            else:
                _debug("hookdk syslog: closing a connection: %r", error)
        finally:
            self.busy = False
            with contextlib.suppress(OSError):
                self.sock.close()
            self.receiver._forget(self)

    def abort(self) -> None:
        """Wake the thread blocked on this socket."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def _read_frames(self) -> None:
        while not self.receiver._closing.is_set():
            data = self._receive()
            if data is None:
                continue
            if data == b"":  # the client closed: what is left is its last frame
                self._record(self.frames.close())
                self._answer_close_notify()
                return
            self._record(self.frames.feed(data))
            if self.frames.lost:
                return
            # still on its way: part of a frame, or bytes OpenSSL decrypted that a
            # selector cannot see
            self.busy = self.frames.pending or self._tls_pending()

    def _answer_close_notify(self) -> None:
        """A TLS sender that ended with close_notify gets ours back (best effort)."""
        if self.tls:
            with contextlib.suppress(OSError, ValueError):
                self.sock.settimeout(1.0)
                self.sock.unwrap()

    def _tls_pending(self) -> bool:
        return self.tls and self.sock.pending() > 0

    def _receive(self) -> bytes | None:
        """Bytes read (b'' when the client closed), or None when nothing came yet."""
        if not self._tls_pending():
            readable = ready_to_read([self.sock], 0.2)
            if not readable:
                self.silent_for += 0.2
                if self.silent_for >= self.receiver.socket_timeout:
                    raise TimeoutError("silent client")
                return None
        self.silent_for = 0.0
        with self.receiver._lock:  # read and mark busy in one step, for _is_quiet()
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return None
            except OSError as error:
                if self.tls and _tls_would_block(error):  # no whole TLS record yet
                    return None
                raise
            self.busy = True
        return data

    def _record(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.receiver._record(
                self.transport,
                frame.framing,
                frame.data,
                self.peer,
                self.server_name,
                frame.error,
                self.client,
            )


def _ragged_tls_end(error: Exception) -> bool:
    """A TLS stream cut without close_notify (ssl is loaded: the TLS contexts loaded it)."""
    import ssl

    return isinstance(error, ssl.SSLEOFError)


def _tls_would_block(error: OSError) -> bool:
    """No whole TLS record to read yet."""
    import ssl

    return isinstance(error, (ssl.SSLWantReadError, ssl.SSLWantWriteError))


def _debug(message: str, *args: object) -> None:
    """A debug line on the receiver's logger; logging loads with the first broken client
    (a process out of descriptors cannot load it, and goes on without the line)."""
    try:
        import logging
    except OSError:
        return
    logging.getLogger("hoophooks_dk.capture.syslog_receiver").debug(message, *args)
