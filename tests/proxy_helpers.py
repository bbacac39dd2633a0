"""Raw-socket helpers for the capture's tests: what a hand-written client needs.

Broken and unusual clients are written by hand (nothing else sends garbage or trailers
on purpose); these open the connection, add the port lock's header and read the answer.
The ``capture`` fixture they run against is in conftest.py.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from hoophooks_dk.capture.capture import Capture

SIEM = "https://siem.example.com/events"


def connect(capture: Capture) -> socket.socket:
    """A plain TCP connection to the capture's proxy port."""
    proxy = urlsplit(capture.proxy_url)
    return socket.create_connection((proxy.hostname, proxy.port), timeout=5)


def auth(capture: Capture) -> bytes:
    """The port lock's header line, which every raw request must carry to be served."""
    return f"Proxy-Authorization: {capture.proxy_authorization}\r\n".encode()


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the proxy sends before it closes (a reset counts as closing)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)
