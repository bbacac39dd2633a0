"""Find payload secrets in what a hook sent out.

Hoop's payload carries the connection's credentials (``connection_envs``, base64
values) and the hook's own source (``input_file``); a forwarder that posts the raw
payload ships them to the SIEM (docs/hoop-runtime.md section 4). A test hands
``find_leaks`` the captured requests and a set of canaries, label -> secret, and gets
back every place a secret shows up.

A secret rarely travels as typed: JSON escapes it, a query string or form percent-
encodes it, a header base64-encodes it, and a base64 ``connection_envs`` value may be
decoded before it is sent. So each canary is searched for in each of these forms, in the
URL (also percent-decoded), in every header name and value, and in the body (as sent,
and with its Content-Encoding undone, as the SIEM reads it); in a syslog message
(``syslog_receiver.SyslogMessage``), in its whole frame, and in its CEF or LEEF values
and structured-data values with their escaping undone. Out of
scope: a secret inside a larger string that was base64-encoded as a whole (its base64
depends on where it sits), encryption, hashing, or any other transformation.

Canaries shorter than ``MIN_LENGTH`` characters are ignored: they would match by chance.
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
    leaks: list[Leak] = []
    for request in requests:
        for label, forms in needles.items():
            leaks.extend(_leaks_in(request, label, forms))
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


def _leaks_in(request: Sent, label: str, forms: list[tuple[str, bytes]]) -> list[Leak]:
    found: dict[tuple[str, str], Leak] = {}
    for where, haystacks in _places(request):
        for form, needle in forms:
            for haystack, decoding in haystacks:
                if needle in haystack or (decoding == CASE_FOLDED and needle.lower() in haystack):
                    named = form if decoding is None else _plus(form, decoding)
                    found.setdefault((named, where), Leak(request, label, named, where))
                    break
    return list(found.values())


def _places(request: Sent) -> list[tuple[str, list[tuple[bytes, str | None]]]]:
    """(where, [(bytes, how they were decoded or None)]) for URL, headers and body, or for
    a syslog message's frame."""
    if hasattr(request, "leak_places"):  # records that say where they carry bytes
        return request.leak_places()
    if isinstance(request, SyslogMessage):
        return [("frame", [(request.raw, None), *_syslog_values(request)])]
    url = _bytes(request.url)
    places = [
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
    for name, value in request.headers:
        places.append((f"header {name}", [(_bytes(name), None), (_bytes(value), None)]))
    for name, value in request.trailers:  # chunked trailers reach the SIEM like headers
        places.append((f"trailer {name}", [(_bytes(name), None), (_bytes(value), None)]))
    # The body as sent and as the SIEM reads it (Content-Encoding undone): a hook that
    # gzips a secret still leaks it.
    body, content = request.body, request.content
    decoded = [] if content == body else [(content, request.header("content-encoding"))]
    places.append(("body", [(body, None), *decoded]))
    return places


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
