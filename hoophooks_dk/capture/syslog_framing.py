"""Split a syslog TCP or TLS byte stream into messages (RFC 6587), with no socket in sight.

A stream carries frames one after the other in either of RFC 6587's two framings, and a
sender may mix them, so the framing is read per frame (section 3.4): a frame that starts
with a digit is octet-counted, ``MSG-LEN SP SYSLOG-MSG``; anything else is
non-transparent and runs to a line feed, or to a NUL as Python's ``SysLogHandler`` ends
TCP messages. Every syslog message starts with ``<``, so the two cannot be confused.

Nothing is dropped silently. Digits that are not a count are reported as such and the
frame is read to its line end; a frame longer than ``max_frame`` is reported cut, and
since the stream cannot be followed past it, ``lost`` is set and the caller ends the
connection.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATAGRAM", "NON_TRANSPARENT", "OCTET_COUNTING", "Frame", "StreamDeframer"]

OCTET_COUNTING, NON_TRANSPARENT, DATAGRAM = "octet-counting", "non-transparent", "datagram"

_MAX_COUNT_DIGITS = 10  # a MSG-LEN of up to 9,999,999,999 bytes, far past any limit


@dataclass(frozen=True)
class Frame:
    """One message's bytes without their framing, and why they break it, if they do."""

    framing: str
    data: bytes
    error: str | None = None


class StreamDeframer:
    """Feed it one connection's bytes as they arrive; it hands back the complete frames."""

    def __init__(self, max_frame: int = 1 << 20) -> None:
        self.max_frame = max_frame
        self.lost = False  # a frame could not be got past: drop the rest of the stream
        self._buffer = b""

    @property
    def pending(self) -> bool:
        """Bytes of a frame that is not complete yet."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """The frames ``data`` completes, in order (none once ``lost``)."""
        if self.lost:
            return []
        self._buffer += data
        frames: list[Frame] = []
        while self._buffer and not self.lost:
            frame = self._next()
            if frame is None:
                break
            frames.append(frame)
        return [frame for frame in frames if frame.data or frame.error]

    def close(self) -> list[Frame]:
        """The end of the stream: bytes left after the last trailer are its last frame."""
        rest, self._buffer = self._buffer.strip(b"\x00\r\n"), b""
        if self.lost or not rest:
            return []
        if rest[:1].isdigit() and self._count(rest) is not None:
            return [Frame(OCTET_COUNTING, rest, "stream ended inside an octet-counted frame")]
        return [Frame(NON_TRANSPARENT, rest)]

    def abandon(self, reason: str) -> list[Frame]:
        """The connection broke (a reset): the bytes of the frame it was in, marked."""
        rest, self._buffer = self._buffer.strip(b"\x00\r\n"), b""
        if self.lost or not rest:
            return []
        framing = OCTET_COUNTING if rest[:1].isdigit() else NON_TRANSPARENT
        return [Frame(framing, rest, f"{reason} before the frame ended")]

    def _next(self) -> Frame | None:
        """Take one frame off the buffer, or None when it is not complete yet."""
        if self._buffer[:1] in (b"\x00", b"\r", b"\n"):  # a stray trailer, a blank line
            self._buffer = self._buffer[1:]
            return Frame(NON_TRANSPARENT, b"")  # dropped by feed()
        error = None
        if self._buffer[:1].isdigit():
            counted = self._count(self._buffer)
            if counted == "wait":
                return None
            if counted is not None:
                return self._octet_counted(*counted)
            error = "starts with a digit but not with an octet count (RFC 6587 3.4.1)"
        return self._to_trailer(error)

    def _count(self, buffer: bytes) -> tuple[int, int] | str | None:
        """(MSG-LEN, where the message starts); "wait" while the count is still arriving;
        None when the digits are not a count."""
        space = buffer.find(b" ", 0, _MAX_COUNT_DIGITS + 1)
        if space < 0:
            incomplete = len(buffer) <= _MAX_COUNT_DIGITS and buffer.isdigit()
            return "wait" if incomplete else None
        digits = buffer[:space]
        if not digits.isdigit() or digits.startswith(b"0"):
            return None
        return int(digits), space + 1

    def _octet_counted(self, length: int, start: int) -> Frame | None:
        if length > self.max_frame:
            self.lost = True
            cut = self._buffer[start : start + self.max_frame]
            return Frame(OCTET_COUNTING, cut, f"octet count {length} over {self.max_frame}")
        if len(self._buffer) < start + length:
            return None
        frame = self._buffer[start : start + length]
        self._buffer = self._buffer[start + length :]
        return Frame(OCTET_COUNTING, frame)

    def _to_trailer(self, error: str | None) -> Frame | None:
        ends = [at for at in (self._buffer.find(b"\n"), self._buffer.find(b"\x00")) if at >= 0]
        if not ends:
            if len(self._buffer) > self.max_frame:
                self.lost = True
                cut = self._buffer[: self.max_frame]
                return Frame(NON_TRANSPARENT, cut, f"frame over {self.max_frame} bytes")
            return None
        end = min(ends)
        frame, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
        return Frame(NON_TRANSPARENT, frame.removesuffix(b"\r"), error)
