"""The capture's throwaway certificate authority and its bounded cache of leaf certificates.

HTTPS is intercepted, not refused: on ``CONNECT host:port`` the proxy completes TLS
itself with a leaf certificate for that host (or for the SNI name, or an IP literal)
issued on demand by a ``trustme`` CA made per Capture. ``trustme`` is the well-kept
library for exactly this (test CAs whose leaves real clients verify); mitmproxy's
``certs.py`` is the model for the cache: a fixed number of server contexts, the least
recently used one dropped first, so a hook that visits many hosts cannot grow memory
without bound.
"""

from __future__ import annotations

import ssl
import threading
from collections import OrderedDict
from pathlib import Path

import trustme

__all__ = ["CertificateCache", "make_ca"]

#: Server contexts kept at once; each holds a private key and a certificate (a few KB).
DEFAULT_CACHE_SIZE = 256


def make_ca(folder: Path) -> tuple[trustme.CA, Path]:
    """A fresh CA that vouches for nothing else, and the PEM file clients should trust."""
    ca = trustme.CA(organization_name="hookdk capture (throwaway)")
    pem = folder / "hookdk-capture-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ca, pem


class CertificateCache:
    """Server-side TLS contexts, one per host name, least recently used evicted first."""

    def __init__(self, ca: trustme.CA, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._ca = ca
        self.max_size = max_size
        self._lock = threading.Lock()
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._contexts)

    def context_for(self, host: str) -> ssl.SSLContext:
        """The context presenting a certificate for ``host`` (made on first use)."""
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                self._contexts.move_to_end(host)
                return context
        context = self._new_context(host)  # issuing takes milliseconds: not under the lock
        with self._lock:
            self._contexts[host] = context
            self._contexts.move_to_end(host)
            while len(self._contexts) > self.max_size:
                self._contexts.popitem(last=False)
        return context

    def _new_context(self, host: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.set_alpn_protocols(["http/1.1"])  # curl would otherwise try h2
        self._ca.issue_cert(host).configure_cert(context)
        context.sni_callback = self._follow_sni
        return context

    def _follow_sni(self, tls: ssl.SSLObject, server_name: str | None, _: object) -> None:
        """Present a certificate for the name the client asked for in SNI, if any."""
        if server_name:
            tls.context = self.context_for(server_name)
