"""Find payload secrets in what a hook sent out.

Hoop's payload carries the connection's credentials (``connection_envs``, base64
values) and the hook's own source (``input_file``); a forwarder that posts the raw
payload ships them to the SIEM (docs/hoop-runtime.md section 4). A test hands
``find_leaks`` the captured requests and a set of canaries, label -> secret, and gets
back every place a secret shows up.

A secret rarely travels as typed: JSON escapes it, a query string or form percent-
encodes it, a header base64-encodes it, and a base64 ``connection_envs`` value may be
decoded before it is sent. So each canary is searched for in each of these forms,
wherever a value leaves the machine: the method; the URL (also percent-decoded, and with
its case ignored, since DNS ignores the case of a host name and clients lower-case it);
every header and trailer name and value; the headers of the CONNECT that opened the
tunnel and the name asked for in TLS SNI (a proxy on the way, and the network, see
them); and the body as sent and with its Content-Encoding undone, as the SIEM reads it,
whatever its size (streamed a piece at a time, never loaded whole); in a syslog message
(``syslog_receiver.SyslogMessage``), in its whole frame, and in its CEF or LEEF values
and structured-data values with their escaping undone. Out of
scope: a secret inside a larger string that was base64-encoded as a whole (its base64
depends on where it sits), encryption, hashing, or any other transformation.

Canaries shorter than ``MIN_LENGTH`` characters are ignored: they would match by chance.
A long one (``CUT_FROM`` characters or more: in practice the hook's source) is also
looked for by its start, its first ``START`` characters in every form, where the whole
of it is not found: a hook that cuts what it forwards (``text[:MAX_TEXT]``) sends the
start of its source, not all of it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote_plus, unquote_to_bytes

from .capture.capture import CapturedRequest
from .capture.syslog_receiver import SyslogMessage

if TYPE_CHECKING:
    from .emulator import FireResult

#: What a hook sent that the kit captured: an HTTP request or a syslog message.
Sent = CapturedRequest | SyslogMessage

__all__ = [
    "MIN_LENGTH",
    "OPEN_SOURCE",
    "Leak",
    "assert_no_leaks",
    "count_secrets",
    "describe",
    "find_leaks",
    "forms",
]

MIN_LENGTH = 6
CUT_FROM = 200  # a canary this long is also looked for by its start
START = 99  # characters; a multiple of 3, so an ASCII start's base64 begins the whole's
START_FORM = "its start"
CASE_FOLDED = "case-folded"  # found only with the case ignored (a lower-cased host name)
OPEN_SOURCE = "session-open input_file"  # the open hook's source, in a close hook's requests


def describe(label: str) -> str:
    """A canary's label as a person reads it: ``input_file`` is the hook's own source."""
    if label == "input_file":
        return "its own source (input_file)"
    event, _, field = label.partition(" ")
    if field == "input_file":  # a test's canaries name each hook's source by its event
        return f"the {event} hook's source (its input_file)"
    if label.startswith("connection_envs"):
        return f"the connection secret {label}"
    return label


@dataclass(frozen=True)
class Leak:
    """One canary found in one place of one request, in one form."""

    request: Sent  # the HTTP request or the syslog message
    label: str
    form: str  # "raw", "base64-encoded", "base64-decoded, url-encoded", ...
    where: str  # "url", "header <Name>" or "body"

    def __str__(self) -> str:
        return f"leak: {self.summary()}"

    def summary(self) -> str:
        """Which secret, in which encoding, where: one line without the ``leak:`` prefix."""
        r = self.request
        if hasattr(r, "leak_source"):  # a connection, a datagram, a name looked up
            return f"{describe(self.label)} ({self.form}) in {self.where} of {r.leak_source()[0]}"
        if isinstance(r, SyslogMessage):
            return (
                f"{describe(self.label)} ({self.form}) in {self.where} of the syslog message "
                f"#{r.index} ({r.transport})"
            )
        return (
            f"{describe(self.label)} ({self.form}) in {self.where} of {r.method} {r.url} "
            f"(request #{r.index})"
        )

    def to_dict(self) -> dict[str, object]:
        r = self.request
        found: dict[str, object] = {
            "secret": self.label,
            "what": describe(self.label),
            "form": self.form,
            "where": self.where,
        }
        if hasattr(r, "leak_source"):
            return found | r.leak_source()[1]
        if isinstance(r, SyslogMessage):
            return found | {"syslog_message": r.index, "transport": r.transport}
        return found | {"request": r.index, "method": r.method, "url": r.url}


def find_leaks(requests: Iterable[Sent], canaries: Mapping[str, str]) -> list[Leak]:
    """Every (request or syslog message, canary, form, place) where a secret appears, in
    the order given."""
    needles = {label: _forms(secret) for label, secret in canaries.items()}
    wanted = {needle for forms in needles.values() for _, needle in forms}
    leaks: list[Leak] = []
    for request in requests:
        places = _places(request, wanted)
        for label, forms in needles.items():
            leaks.extend(_leaks_in(request, label, forms, places))
    return leaks


def assert_no_leaks(requests: Iterable[Sent], canaries: Mapping[str, str]) -> None:
    """Raise AssertionError naming every leak, so a test failure says what went where."""
    leaks = find_leaks(requests, canaries)
    if leaks:
        lines = "\n".join(f"  {leak}" for leak in leaks)
        raise AssertionError(f"leak: {count_secrets(leaks)}:\n{lines}")


def count_secrets(leaks: Iterable[Leak]) -> str:
    """How many secrets were sent, as a person counts them: one value found in three
    forms or three requests is one secret sent (``"1 payload secret sent out, found in 3
    places"``)."""
    leaks = list(leaks)
    secrets = len({leak.label for leak in leaks})
    places = f", found in {len(leaks)} places" if len(leaks) != secrets else ""
    return f"{secrets} payload secret{'' if secrets == 1 else 's'} sent out{places}"


# --- the forms a secret can take -------------------------------------------------------


def forms(secret: str) -> list[tuple[str, bytes]]:
    """(form name, bytes) for every form of ``secret`` the checks look for: what a report
    marks where it sits in a request."""
    return _forms(secret)


def _forms(secret: str) -> list[tuple[str, bytes]]:
    """(form name, bytes to look for), first form first; duplicates of a needle dropped."""
    if not isinstance(secret, str) or len(secret) < MIN_LENGTH:
        return []
    forms = _encodings(secret, prefix="")
    decoded = _decoded_base64(secret)
    if decoded is not None and len(decoded) >= MIN_LENGTH:
        forms += _encodings(decoded, prefix="base64-decoded")
    if len(secret) >= CUT_FROM:  # last: looked for only where the whole is not found
        forms += _encodings(secret[:START], prefix=START_FORM)
    unique: dict[bytes, str] = {}
    for name, needle in forms:
        unique.setdefault(needle, name)
    return [(name, needle) for needle, name in unique.items()]


def go_escape(text: str) -> str:
    """JSON as Go writes it (``<>&`` as \\u003c...): the payload variable's own form, so a
    hook that forwards ``HOOP_RUNBOOK_HOOK_PAYLOAD`` untouched is caught whatever its source
    holds."""
    from .payload import go_html_escape

    return go_html_escape(text)


def _encodings(text: str, prefix: str) -> list[tuple[str, bytes]]:
    def name(form: str) -> str:
        if not prefix:
            return form
        return prefix if form == "raw" else f"{prefix}, {form}"

    raw = text.encode()
    encoded = [
        ("raw", text),
        ("json-escaped", json.dumps(text)[1:-1]),
        ("json-escaped", json.dumps(text, ensure_ascii=False)[1:-1]),
        ("json-escaped", go_escape(json.dumps(text, ensure_ascii=False)[1:-1])),
        ("url-encoded", quote(text, safe="")),
        ("url-encoded", quote(text)),
        ("url-encoded", quote_plus(text)),
        ("base64-encoded", base64.b64encode(raw).decode()),
        ("base64-encoded", base64.b64encode(raw).decode().rstrip("=")),
        ("base64-encoded", base64.urlsafe_b64encode(raw).decode()),
        ("base64-encoded", base64.urlsafe_b64encode(raw).decode().rstrip("=")),
    ]
    return [(name(form), needle.encode()) for form, needle in encoded]


def _decoded_base64(secret: str) -> str | None:
    """The text a base64 canary stands for (connection_envs values are base64), if any."""
    try:
        text = base64.b64decode(secret, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, or not UTF-8 text underneath
        return None
    if all(char.isprintable() or char.isspace() for char in text):
        return text
    return None


# --- where a request can carry it ------------------------------------------------------


#: Where a request can carry a secret: (where, [(haystack, how it was decoded or None)]).
#: A haystack is bytes, or the set of needles a streamed body was found to hold.
Places = list[tuple[str, list[tuple[bytes | frozenset[bytes], str | None]]]]


def _leaks_in(
    request: Sent, label: str, forms: list[tuple[str, bytes]], places: Places
) -> list[Leak]:
    found: dict[tuple[str, str], Leak] = {}
    for where, haystacks in places:
        for form, needle in forms:
            if form.startswith(START_FORM) and any(place == where for _, place in found):
                break  # the whole secret is there: its start adds nothing
            for haystack, decoding in haystacks:
                if needle in haystack or (decoding == CASE_FOLDED and needle.lower() in haystack):
                    named = form if decoding is None else _plus(form, decoding)
                    found.setdefault((named, where), Leak(request, label, named, where))
                    break
    return list(found.values())


def _places(request: Sent, wanted: set[bytes]) -> Places:
    """Every place of ``request`` (or syslog message) a secret can leave in."""
    if hasattr(request, "leak_places"):  # records that say where they carry bytes
        return request.leak_places()
    if isinstance(request, SyslogMessage):
        return [("frame", [(request.raw, None), *_syslog_values(request)])]
    url = _bytes(request.url)
    places: Places = [
        ("method", [(_bytes(request.method), None)]),
        (
            "url",
            [
                (url, None),
                (unquote_to_bytes(url), "url-encoded"),
                (_bytes(unquote_plus(request.url)), "url-encoded"),
                # a host name reaches DNS and the SIEM's logs whatever its case, and
                # clients lower-case it: compared case-insensitively
                (url.lower(), CASE_FOLDED),
            ],
        ),
    ]
    if request.server_name:  # TLS SNI crosses the network in the clear
        name = _bytes(request.server_name)
        places.append(("TLS SNI", [(name, None), (name.lower(), CASE_FOLDED)]))
    fields = [
        *((f"header {name}", name, value) for name, value in request.headers),
        # chunked trailers reach the SIEM like headers
        *((f"trailer {name}", name, value) for name, value in request.trailers),
        # the CONNECT's headers: what a proxy on the way would see
        *((f"tunnel header {name}", name, value) for name, value in request.tunnel_headers),
    ]
    for where, name, value in fields:
        places.append((where, [(_bytes(name), None), (_bytes(value), None)]))
    # The body as sent and as the SIEM reads it (Content-Encoding undone), streamed: a hook
    # that gzips a secret still leaks it, however large the body decodes to.
    body: list[tuple[bytes | frozenset[bytes], str | None]] = [
        (_stream_find(request.body_chunks(), wanted), None)
    ]
    encoding = request.header("content-encoding")
    if encoding:
        body.append((_stream_find(request.content_chunks(), wanted), encoding))
    places.append(("body", body))
    return places


def _stream_find(chunks: Iterable[bytes], needles: set[bytes]) -> frozenset[bytes]:
    """The needles found in the concatenation of ``chunks``, read one chunk at a time
    (each window carries the end of the one before, so a needle across two is found).

    RE2 looks for any needle's start first, in one linear pass: most windows hold none,
    and only those that do are searched needle by needle."""
    if not needles:
        return frozenset()
    longest = max(len(needle) for needle in needles)
    hint = _any_start(needles)
    left, found, carry = set(needles), set(), b""
    for chunk in chunks:
        window = carry + chunk
        if hint is None or hint.search(window):
            seen = {needle for needle in left if needle in window}
            found |= seen
            left -= seen
            if not left:
                break
        carry = window[max(len(window) - longest + 1, 0) :] if longest > 1 else b""
    return frozenset(found)


def _any_start(needles: set[bytes]):
    """A compiled RE2 pattern for the first bytes of any needle, or None if RE2 refuses."""
    import re2

    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes, not UTF-8
    options.log_errors = False
    starts = sorted({needle[:PREFILTER] for needle in needles})
    try:
        return re2.compile(b"|".join(re2.escape(start) for start in starts), options)
    except Exception:  # re2.error: a pattern past its memory budget
        return None


#: Bytes of each needle the prefilter looks for: enough to be rare, short enough that
#: thousands of needles make a small automaton.
PREFILTER = 16


def _syslog_values(message: SyslogMessage) -> list[tuple[bytes, str | None]]:
    """The values of a syslog message with their format's escaping undone: a secret that
    holds a ``=`` or a line break is escaped on the wire (``\\=``, ``\\n``)."""
    values = [v for params in message.structured_data.values() for v in params.values()]
    if message.cef is not None:
        values += [message.cef.name, *message.cef.extension.values()]
    if message.leef is not None:
        values += list(message.leef.attributes.values())
    return [(value.encode("utf-8"), "syslog-escaped") for value in values]


def _plus(form: str, decoding: str) -> str:
    """A secret found only after decoding the place was sent in that encoding too."""
    return decoding if form == "raw" else f"{form}, {decoding}"


def _bytes(text: str) -> bytes:
    """Header and URL text back to wire bytes (the capture decodes them as latin-1)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def add_session_leaks(close: FireResult, opened: FireResult) -> None:
    """The close hook runs on the same agent as the open hook and may have kept what the
    open payload held (a file, a cache): its requests are searched for the open payload's
    secrets too, the open hook's source among them."""
    if not close.sent:
        return
    from .payload import canaries as payload_canaries

    canaries = payload_canaries(opened.payload)
    if "input_file" in canaries:
        canaries[OPEN_SOURCE] = canaries.pop("input_file")
    seen = {(id(leak.request), leak.label, leak.form, leak.where) for leak in close.leaks}
    for leak in find_leaks(close.sent, canaries):
        if (id(leak.request), leak.label, leak.form, leak.where) not in seen:
            close.leaks.append(leak)
