"""Request bodies: kept as they arrived, decoded on demand, and spooled to disk when large.

A hook may compress what it sends (``Content-Encoding: gzip``); the SIEM undoes that, so
the kit must too, or ``json()`` fails and a leaked secret hides inside the compressed
bytes. The raw bytes are kept as well (``CapturedRequest.body``), because what went over
the wire is what a test about the wire wants to see.

Decoders: ``gzip``/``x-gzip`` and ``deflate`` from the standard library (``deflate`` is
tried as zlib-wrapped, as RFC 9110 says, then raw, as some clients send it);
``aws-chunked``, the framing botocore uses for checksummed S3 uploads; ``br`` with
the ``brotli`` or ``brotlicffi`` package, ``zstd`` with ``zstandard`` (or the standard
library's ``compression.zstd`` from Python 3.14), each only when installed. Decoding is
capped at ``MAX_DECODED`` bytes so a small "zip bomb" cannot exhaust memory; a body that
cannot be decoded (unknown coding, corrupt data, over the cap) stays raw. The leak check
does not stop at the cap: ``decode_stream`` undoes the same codings a piece at a time, so
a body of any decoded size is searched in bounded memory.

Bodies past ``SPOOL_THRESHOLD`` are written to a file in the capture's temporary folder
as they arrive, so a 200 MB upload costs disk, not memory; reading ``body`` loads it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["BodyBuffer", "SpooledBody", "decodable_encodings", "decode", "decode_stream"]

#: Bodies larger than this go to disk while they arrive.
SPOOL_THRESHOLD = 8 * 1024 * 1024
#: Largest decoded size; past it, ``content`` stays the raw bytes.
MAX_DECODED = 256 * 1024 * 1024


class DecodeError(ValueError):
    """A body that says it is encoded but cannot be decoded."""


class SpooledBody:
    """A body kept in a file; ``read()`` loads it, ``chunks()`` streams it."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    def __len__(self) -> int:
        return self.size

    def read(self) -> bytes:
        return self.path.read_bytes()

    def chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        with self.path.open("rb") as file:
            while chunk := file.read(size):
                yield chunk

    def __repr__(self) -> str:
        return f"SpooledBody({str(self.path)!r}, {self.size})"


class BodyBuffer:
    """Collects a body chunk by chunk, in memory until ``threshold``, then in a file."""

    def __init__(self, folder: Path | None, threshold: int = SPOOL_THRESHOLD) -> None:
        self._folder = folder
        self._threshold = threshold
        self._chunks: list[bytes] = []
        self._size = 0
        self._file = None
        self._path: Path | None = None

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._file is None and (self._folder is None or self._size <= self._threshold):
            self._chunks.append(chunk)
            return
        if self._file is None:
            with contextlib.suppress(FileExistsError):  # made by the first body spooled
                os.mkdir(self._folder)
            fd, name = tempfile.mkstemp(prefix="body-", dir=self._folder)
            self._file, self._path = os.fdopen(fd, "wb"), Path(name)
            self._file.writelines(self._chunks)
            self._chunks = []
        self._file.write(chunk)

    def finish(self) -> bytes | SpooledBody:
        if self._file is None:
            return b"".join(self._chunks)
        self._file.close()
        assert self._path is not None
        return SpooledBody(self._path, self._size)

    def discard(self) -> None:
        """Throw away a body whose request never completed."""
        if self._file is not None:
            self._file.close()
            assert self._path is not None
            self._path.unlink(missing_ok=True)
        self._chunks = []


# --- Content-Encoding ------------------------------------------------------------------


def _gzip(data: bytes) -> bytes:
    out, rest = [], data
    while rest:  # concatenated gzip members are one body (RFC 1952)
        engine = zlib.decompressobj(wbits=31)
        out.append(engine.decompress(rest, MAX_DECODED + 1))
        if engine.unconsumed_tail or not engine.eof:
            raise DecodeError("gzip body is truncated or too large")
        rest = engine.unused_data
    return b"".join(out)


def _deflate(data: bytes) -> bytes:
    for wbits in (15, -15):  # zlib-wrapped (the standard), then raw deflate
        engine = zlib.decompressobj(wbits=wbits)
        try:
            out = engine.decompress(data, MAX_DECODED + 1)
        except zlib.error:
            continue
        if engine.eof and not engine.unconsumed_tail:
            return out
    raise DecodeError("deflate body is neither zlib nor raw deflate")


def _aws_chunked(data: bytes) -> bytes:
    """S3's ``aws-chunked`` framing (botocore's checksummed uploads): chunks of
    ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``, ending with a 0 chunk and
    checksum trailers, which are dropped here."""
    out, at = [], 0
    while True:
        end = data.index(b"\r\n", at)
        size = int(data[at:end].split(b";", 1)[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[end + 2 : end + 2 + size])
        at = end + 2 + size + 2


def _optional(*modules: str) -> Callable[[bytes], bytes] | None:
    """``decompress`` of the first of ``modules`` that is installed."""
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.decompress
    return None


def _decoders() -> dict[str, Callable[[bytes], bytes]]:
    decoders: dict[str, Callable[[bytes], bytes]] = {
        "gzip": _gzip,
        "x-gzip": _gzip,
        "deflate": _deflate,
        "identity": lambda data: data,
        "aws-chunked": _aws_chunked,
    }
    brotli = _optional("brotli", "brotlicffi")
    if brotli is not None:
        decoders["br"] = brotli
    zstd = _optional("compression.zstd", "zstandard")
    if zstd is not None:
        decoders["zstd"] = zstd
    return decoders


_DECODERS = _decoders()


def decodable_encodings() -> list[str]:
    """The content codings this installation can undo."""
    return sorted(name for name in _DECODERS if name != "identity")


def decode(body: bytes, content_encoding: str | None) -> bytes:
    """``body`` with every listed content coding undone (last applied, first undone).

    Raises DecodeError when a coding is unknown here, the data is corrupt, or it would
    decode past ``MAX_DECODED``.
    """
    if not content_encoding:
        return body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise DecodeError(f"no decoder for content coding {coding!r}")
        try:
            body = decoder(body)
        except DecodeError:
            raise
        except Exception as error:  # zlib.error, brotli.error, ...
            raise DecodeError(f"{coding} body does not decode: {error}") from error
        if len(body) > MAX_DECODED:
            raise DecodeError(f"{coding} body decodes past {MAX_DECODED} bytes")
    return body


# --- streaming: any decoded size, bounded memory -------------------------------------

#: Most bytes one decoding step hands back.
STREAM_PIECE = 1024 * 1024


def decode_stream(chunks: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """``chunks`` with every listed content coding undone, a piece at a time, however
    large the result (no ``MAX_DECODED`` cap: memory stays about ``STREAM_PIECE`` per
    coding). Raises DecodeError, possibly after yielding some pieces, as ``decode``."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    stream: Iterator[bytes] = iter(chunks)
    for coding in reversed(codings):
        decoder = _STREAM_DECODERS.get(coding)
        if decoder is None:
            if coding in _DECODERS:  # installed, but only whole: within the cap
                stream = iter([decode(b"".join(stream), coding)])
                continue
            raise DecodeError(f"no decoder for content coding {coding!r}")
        stream = _checked(decoder(stream), coding)
    yield from stream


def _checked(pieces: Iterator[bytes], coding: str) -> Iterator[bytes]:
    try:
        yield from pieces
    except DecodeError:
        raise
    except Exception as error:  # zlib.error, ...
        raise DecodeError(f"{coding} body does not decode: {error}") from error


def _gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    engine = zlib.decompressobj(wbits=31)
    in_member = False  # a member has begun and not ended
    for chunk in chunks:
        data = chunk
        while data:
            in_member = True
            yield from _inflate(engine, data)
            if not engine.eof:
                break
            # another gzip member may follow (RFC 1952): concatenated members are one body
            in_member, data = False, engine.unused_data
            engine = zlib.decompressobj(wbits=31)
    if in_member:
        raise DecodeError("gzip body is truncated")


def _inflate(engine: Any, data: bytes) -> Iterator[bytes]:
    """All ``engine`` makes of ``data``, at most ``STREAM_PIECE`` bytes at a time."""
    while True:
        out = engine.decompress(data, STREAM_PIECE)
        if out:
            yield out
        data = engine.unconsumed_tail
        if engine.eof or (not data and len(out) < STREAM_PIECE):
            return


def _deflate_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """zlib-wrapped (the standard) when the first bytes say so, else raw deflate."""
    engine = None
    for chunk in chunks:
        if not chunk:
            continue
        if engine is None:
            engine = zlib.decompressobj(wbits=15 if _zlib_header(chunk) else -15)
        yield from _inflate(engine, chunk)
    if engine is not None and not engine.eof:
        raise DecodeError("deflate body is truncated")


def _zlib_header(first: bytes) -> bool:
    """RFC 1950: method 8, and the first two bytes a multiple of 31."""
    return len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0


def _identity_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield from chunks


_STREAM_DECODERS: dict[str, Callable[[Iterator[bytes]], Iterator[bytes]]] = {
    "gzip": _gzip_stream,
    "x-gzip": _gzip_stream,
    "deflate": _deflate_stream,
    "identity": _identity_stream,
}
