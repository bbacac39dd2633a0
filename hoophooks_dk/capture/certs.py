"""The capture's certificate authority and its bounded cache of leaf certificates.

HTTPS is intercepted, not refused: on ``CONNECT host:port`` the proxy completes TLS
itself with a leaf certificate for that host (or for the SNI name, or an IP literal)
issued on demand by a ``trustme`` CA. ``trustme`` is the well-kept library for exactly
this (test CAs whose leaves real clients verify); mitmproxy's ``certs.py`` is the model
for the cache: a fixed number of server contexts, the least recently used one dropped
first, so a hook that visits many hosts cannot grow memory without bound. The syslog
receiver's TLS port uses the same cache for the names clients ask for in SNI: a client
that sends endless names costs issuing time, never unbounded memory.

Which CA, and why: by default one CA per user, kept in the user's cache folder
(``$XDG_CACHE_HOME/hookdk/ca``, else ``~/.cache/hookdk/ca``; the folder 0700, the key
0600), as mitmproxy keeps its CA in ``~/.mitmproxy``. Only the certificate's path goes
into the hook's environment, so ``hookdk fire`` never imports the cryptography stack
(about as long as the rest of the command's start-up together) unless a hook makes an
HTTPS request: the key is loaded, and leaves issued, on the first CONNECT. Nothing but
the hooks the kit starts trusts this CA (through their CA-bundle variables); it is never
installed in a system store. Where the cache folder cannot be made private (not ours,
group- or world-accessible, read-only), the capture falls back to a CA made for the run
in its temporary folder, as ``user_ca(None)`` does on request.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # ssl and the cryptography stack: imported when a leaf is issued
    import ssl

    import trustme

__all__ = ["CertificateAuthority", "CertificateCache", "default_ca_folder", "make_ca"]

#: Server contexts kept at once; each holds a private key and a certificate (a few KB).
DEFAULT_CACHE_SIZE = 256
CERT_FILE = "hookdk-capture-ca.pem"
KEY_FILE = "hookdk-capture-ca-key.pem"


def default_ca_folder() -> Path:
    """Where the user's CA lives: the XDG cache folder, as the kit's other caches."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "hookdk" / "ca"


class CertificateAuthority:
    """A CA's certificate file (what clients trust) and its signer, loaded on first use."""

    def __init__(self, cert_path: Path, key_path: Path | None = None) -> None:
        self.cert_path = cert_path
        self._key_path = key_path
        self._signer: trustme.CA | None = None
        self._lock = threading.Lock()

    @classmethod
    def wrap(cls, signer: trustme.CA, cert_path: Path) -> CertificateAuthority:
        """A CA already in memory (the per-run fallback, tests)."""
        ca = cls(cert_path)
        ca._signer = signer
        return ca

    def signer(self) -> trustme.CA:
        with self._lock:
            if self._signer is None:
                import trustme

                assert self._key_path is not None
                self._signer = trustme.CA.from_pem(
                    self.cert_path.read_bytes(), self._key_path.read_bytes()
                )
            return self._signer


def make_ca(folder: Path) -> CertificateAuthority:
    """A fresh CA, made now, whose certificate is written to ``folder``."""
    import trustme

    signer = trustme.CA(organization_name="hookdk capture")
    pem = folder / CERT_FILE
    signer.cert_pem.write_to_path(str(pem))
    return CertificateAuthority.wrap(signer, pem)


def user_ca(folder: Path | None = None) -> CertificateAuthority | None:
    """The user's CA (made once, the first time), or None where its folder is not private."""
    folder = folder or default_ca_folder()
    try:
        if not (folder / KEY_FILE).is_file():
            _create(folder)
        if not _private(folder) or not _private(folder / KEY_FILE):
            return None
    except OSError:
        return None
    return CertificateAuthority(folder / CERT_FILE, folder / KEY_FILE)


def _create(folder: Path) -> None:
    """Write a new CA into a private folder made beside ``folder``, then rename it into
    place: two processes starting at once both end up with the one that won."""
    import trustme

    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=folder.parent))  # mode 0700
    try:
        signer = trustme.CA(organization_name="hookdk capture")
        signer.cert_pem.write_to_path(str(staging / CERT_FILE))
        key = staging / KEY_FILE
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(signer.private_key_pem.bytes())
        with contextlib.suppress(OSError):  # another process won the race: use theirs
            os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _private(path: Path) -> bool:
    """Ours, and nobody else may read or write it."""
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


class CertificateCache:
    """Server-side TLS contexts, one per host name, least recently used evicted first.

    ``alpn``: the protocols the contexts offer (the proxy: ``http/1.1``, or curl would try
    h2; None offers none, as the syslog receiver, whose clients speak no ALPN).
    """

    def __init__(
        self,
        ca: CertificateAuthority | trustme.CA,
        max_size: int = DEFAULT_CACHE_SIZE,
        *,
        alpn: Sequence[str] | None = ("http/1.1",),
    ) -> None:
        self._ca = (
            ca if isinstance(ca, CertificateAuthority) else CertificateAuthority.wrap(ca, Path())
        )
        self.max_size = max_size
        self.alpn = list(alpn) if alpn is not None else None
        self._lock = threading.Lock()
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        #: Present certificates from a CA no client trusts (a test turns it on to check
        #: that a hook refuses such a collector); made on first use, kept till the end.
        self.untrusted = False
        self._impostor: CertificateCache | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._contexts)

    def context_for(self, host: str) -> ssl.SSLContext:
        """The context presenting a certificate for ``host`` (made on first use)."""
        if self.untrusted:
            return self.impostor().context_for(host)
        host = host.lower()
        with self._lock:
            context = self._contexts.get(host)
            if context is not None:
                self._contexts.move_to_end(host)
                return context
        context = self.new_context(host)  # issuing takes milliseconds: not under the lock
        with self._lock:
            self._contexts[host] = context
            self._contexts.move_to_end(host)
            while len(self._contexts) > self.max_size:
                self._contexts.popitem(last=False)
        return context

    def impostor(self) -> CertificateCache:
        """The cache of a throwaway CA whose certificate is written nowhere: what
        ``untrusted`` presents. Its leaves name the right host; only the CA is wrong."""
        with self._lock:
            if self._impostor is None:
                import trustme

                ca = trustme.CA(organization_name="hookdk: a CA no hook trusts")
                self._impostor = CertificateCache(ca, self.max_size, alpn=self.alpn)
            return self._impostor

    def new_context(self, *names: str) -> ssl.SSLContext:
        """A context presenting one certificate for ``names``, not kept in the cache (the
        syslog receiver's default one, for the loopback names, is made so). A client that
        asks for another name in SNI gets the cache's context for it."""
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.alpn is not None:
            context.set_alpn_protocols(self.alpn)
        self._ca.signer().issue_cert(*names).configure_cert(context)
        context.sni_callback = self._follow_sni
        return context

    def _follow_sni(self, tls: ssl.SSLObject, server_name: str | None, _: object) -> None:
        """Present a certificate for the name the client asked for in SNI, if any, and
        leave the name on the TLS socket (``hookdk_server_name``): the proxy records it."""
        if server_name:
            with contextlib.suppress(AttributeError):
                tls.hookdk_server_name = server_name
            tls.context = self.context_for(server_name)
