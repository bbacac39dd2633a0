"""How what a hook received, wrote and sent is shown: decoded, cut to a readable size,
and with the payload's secrets marked where they sit.

Everything here is text in, ``Piece`` tuples out: runs of text, some marked (a leak, a
canary, the gateway's cut). The page's template escapes every piece; nothing here makes
HTML, so nothing a hook sent can become markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..runtime.runner import MAX_OUTPUT_BYTES  # also registers the "hoophooks_dk.go" decoding

#: Characters of one body, output or frame shown; the rest is counted, not shown (a 1,000
#: request session must stay a page a browser opens at once).
SHOW_CHARS = 16_000
#: Bytes of a binary body shown as hex.
HEX_BYTES = 256
#: Characters of kept output shown before the agent's cut.
CUT_CONTEXT = 300


@dataclass(frozen=True)
class Piece:
    """A run of text; ``mark`` ("leak", "canary") says why it stands out, ``note`` what it is."""

    text: str
    mark: str | None = None
    note: str = ""


Pieces = tuple[Piece, ...]


def plain(text: str) -> Pieces:
    return (Piece(text),) if text else ()


def marked(text: str, needles: Mapping[str, str], mark: str) -> Pieces:
    """``text`` in pieces, every occurrence of a needle (text -> note) marked; where two
    overlap they are one mark, with the first one's note."""
    spans: list[tuple[int, int, str]] = []
    for needle, note in needles.items():
        start = text.find(needle) if needle else -1
        while start != -1:
            spans.append((start, start + len(needle), note))
            start = text.find(needle, start + len(needle))
    if not spans:
        return plain(text)
    spans.sort()
    merged: list[list[Any]] = []
    for start, end, note in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, note])
    pieces: list[Piece] = []
    at = 0
    for start, end, note in merged:
        if start > at:
            pieces.append(Piece(text[at:start]))
        pieces.append(Piece(text[start:end], mark, note))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return tuple(pieces)


# --- bodies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyView:
    """A body as a person reads it: JSON pretty, other text as is, binary as a hex preview."""

    kind: str  # "empty", "json", "text" or "binary"
    pieces: Pieces
    size: int  # bytes, decoded (Content-Encoding undone)
    hidden: int  # characters (text) or bytes (binary) not shown

    @property
    def empty(self) -> bool:
        return self.kind == "empty"


def body_view(content: bytes, needles: Mapping[str, str] | None = None) -> BodyView:
    """``content`` (the body with its Content-Encoding undone), with ``needles`` marked as
    leaks where they sit."""
    if not content:
        return BodyView("empty", (), 0, 0)
    pretty = pretty_json(content)
    if pretty is not None:
        kind, text = "json", pretty
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return BodyView("binary", plain(hex_preview(content)), len(content), hidden(content))
        if not _readable(text):
            return BodyView("binary", plain(hex_preview(content)), len(content), hidden(content))
        kind = "text"
    shown, rest = text[:SHOW_CHARS], max(len(text) - SHOW_CHARS, 0)
    pieces = marked(shown, needles, "leak") if needles else plain(shown)
    return BodyView(kind, pieces, len(content), rest)


def pretty_json(content: bytes) -> str | None:
    """Indented JSON, or None when it is not JSON; newline-delimited JSON (one document a
    line, as batching SIEM APIs take it) is pretty line by line."""
    stripped = content.strip()
    if not stripped or stripped[:1] not in b'{["' and not stripped[:1].isdigit():
        return None
    try:
        return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        pass
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    try:
        return "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in lines)
    except (ValueError, RecursionError):
        return None


def _readable(text: str) -> bool:
    """Text a person can read: few control characters besides whitespace."""
    controls = sum(1 for char in text[:4096] if not char.isprintable() and char not in "\n\r\t")
    return controls <= len(text[:4096]) // 50


def hex_preview(data: bytes) -> str:
    """The first ``HEX_BYTES`` bytes as ``offset  hex  |ascii|`` lines."""
    lines = []
    for offset in range(0, min(len(data), HEX_BYTES), 16):
        chunk = data[offset : offset + 16]
        hexed = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexed:<47}  |{text}|")
    return "\n".join(lines)


def hidden(data: bytes) -> int:
    return max(len(data) - HEX_BYTES, 0)


# --- what the hook wrote ----------------------------------------------------------------


@dataclass(frozen=True)
class OutputView:
    """What the hook wrote, and where the agent cuts it: ``kept`` is what the gateway
    records (the first 4096 bytes), ``rest`` what the cut drops (as far as shown)."""

    kept: str
    cut: int  # bytes past the cut
    rest: str
    hidden: int  # characters of the rest not shown

    @property
    def empty(self) -> bool:
        return not self.kept

    @property
    def before_cut(self) -> tuple[int, str]:
        """What comes just before the cut: (characters left out before it, the last
        ``CUT_CONTEXT`` characters), so the cut shows without scrolling past the rest."""
        skipped = max(len(self.kept) - CUT_CONTEXT, 0)
        return skipped, self.kept[skipped:]


def output_view(raw: bytes) -> OutputView:
    kept = raw[:MAX_OUTPUT_BYTES].decode("utf-8", "hoophooks_dk.go")
    past = raw[MAX_OUTPUT_BYTES:]
    rest = past.decode("utf-8", "replace")
    return OutputView(kept, len(past), rest[:SHOW_CHARS], max(len(rest) - SHOW_CHARS, 0))


def clipped(text: str) -> tuple[str, int]:
    """``text`` as far as shown, and how many characters were left out."""
    return text[:SHOW_CHARS], max(len(text) - SHOW_CHARS, 0)


# --- the payload --------------------------------------------------------------------------


def input_file_placeholder(source: str) -> str:
    return f"\u2039the hook's rendered source, {len(source):,} characters: under Hook source\u203a"


def payload_view(payload: Mapping[str, Any], canaries: Mapping[str, str]) -> Pieces:
    """The payload as the hook parsed it, indented, its secrets (``connection_envs``
    values, the hook's own source) marked as canaries. The source itself is shown once,
    under the hook's source, and stands here as a marked placeholder."""
    shown = dict(payload)
    needles: dict[str, str] = {}
    source = shown.get("input_file")
    if isinstance(source, str) and source:
        shown["input_file"] = input_file_placeholder(source)
        needles[json.dumps(shown["input_file"], ensure_ascii=False)[1:-1]] = (
            "canary: input_file, the hook's own source; it must not leave the agent"
        )
    for label, secret in canaries.items():
        if label != "input_file":
            note = f"canary: {label}, a connection secret; it must not leave the agent"
            needles[json.dumps(secret, ensure_ascii=False)[1:-1]] = note
    text = json.dumps(shown, indent=2, ensure_ascii=False)
    return marked(text, needles, "canary")
