"""Parse what a SIEM's syslog listener reads: RFC 5424 and RFC 3164 headers, CEF and LEEF.

The receiver (``syslog_receiver``) hands each frame's bytes to ``parse_frame`` and
records the result; nothing here touches a socket, so every rule can be tested on plain
bytes. A frame that breaks a rule raises ``MalformedSyslog`` naming the rule; the
receiver keeps such frames, marked, instead of dropping them.

Choices, and why:

* **Hand-written, on purpose.** The kit's tests check the hook templates with
  independent parsers from the package index (``syslog-rfc5424-parser`` for RFC 5424,
  the CEF specification's own examples for CEF); a receiver built on the same parser
  would only agree with itself. The grammars are small and their rules are cited below.
* **Strict on RFC 5424, lenient on RFC 3164.** RFC 5424 is a grammar (section 6): a
  frame that starts ``<PRI>1 `` and then breaks it is malformed, and saying where helps
  the author of the hook. RFC 3164 describes what BSD daemons happened to send (section
  4.1); Python's ``logging.handlers.SysLogHandler`` sends only ``<PRI>message\\0``, which
  real relays accept, so a missing timestamp or host is recorded as absent, not an error.
  A frame without ``<PRI>`` is malformed either way.
* **CEF escaping is undone as the specification states it** (ArcSight Common Event
  Format, "Character encoding"): in the header ``\\|`` and ``\\\\``; in the extension
  ``\\=``, ``\\\\``, ``\\n`` and ``\\r``. An unescaped ``=`` that does not follow
  ``<space>key`` is kept as text (senders that forget to escape it are common, and a
  value is still recovered); a backslash before any other character is kept as is.
* **LEEF has no escaping** (IBM's LEEF 1.0/2.0): header fields end at ``|`` and
  attributes at the delimiter (tab, or the one a 2.0 header names as a character or as
  hex ``0x5E``/``x5E``); a value is everything after the first ``=`` of its attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "CefEvent",
    "LeefEvent",
    "MalformedSyslog",
    "ParsedFrame",
    "parse_cef",
    "parse_frame",
    "parse_leef",
]

FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "audit",
    "alert",
    "clock",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

_BOM = "\ufeff"
_PRI = re.compile(rb"<(\d{1,3})>")
# RFC 5424 section 6.2.3: FULL-DATE "T" FULL-TIME, or NILVALUE (checked separately).
_TIMESTAMP_5424 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
# RFC 3164 section 4.1.2: "Mmm dd hh:mm:ss", the day space-padded.
_TIMESTAMP_3164 = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}"
)
_TAG_3164 = re.compile(r"([!-9;-~]{1,48}?)(\[[^\]\s]{1,128}\])?: ")
# RFC 5424 section 6: header field -> maximum length (PRINTUSASCII, or "-").
_FIELDS_5424 = (("hostname", 255), ("app_name", 48), ("procid", 128), ("msgid", 32))
_CEF_KEY = re.compile(r"[A-Za-z0-9_.\[\]-]+\Z")


class MalformedSyslog(ValueError):
    """A frame, header or body that breaks its format's rules; the message says which."""


@dataclass(frozen=True)
class CefEvent:
    """A CEF record, escaping undone: the seven header fields and the extension."""

    version: int
    device_vendor: str
    device_product: str
    device_version: str
    signature_id: str  # "Device Event Class ID"
    name: str
    severity: str
    extension: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "device_vendor": self.device_vendor,
            "device_product": self.device_product,
            "device_version": self.device_version,
            "signature_id": self.signature_id,
            "name": self.name,
            "severity": self.severity,
            "extension": dict(self.extension),
        }


@dataclass(frozen=True)
class LeefEvent:
    """A LEEF 1.0 or 2.0 record: the header fields and the attributes."""

    version: str  # "1.0" or "2.0"
    vendor: str
    product: str
    product_version: str
    event_id: str
    delimiter: str  # the attribute delimiter actually used (tab unless 2.0 names another)
    attributes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "vendor": self.vendor,
            "product": self.product,
            "product_version": self.product_version,
            "event_id": self.event_id,
            "delimiter": self.delimiter,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class ParsedFrame:
    """One syslog message's header and body, as a receiver reads them.

    ``format`` is ``"rfc5424"`` or ``"rfc3164"``. Header fields the message does not carry
    (``-`` in RFC 5424, absent in RFC 3164) are None. ``message`` is the MSG part as text
    (a leading BOM and trailing line ends or NUL dropped); ``cef`` or ``leef`` is set when
    it is such a record. ``body_error`` says why a body that starts ``CEF:`` or ``LEEF:``
    could not be read as one.
    """

    format: str
    facility: int
    severity: int
    version: int | None = None
    timestamp: str | None = None
    hostname: str | None = None
    app_name: str | None = None
    procid: str | None = None
    msgid: str | None = None
    structured_data: dict[str, dict[str, str]] = field(default_factory=dict)
    message: str = ""
    cef: CefEvent | None = None
    leef: LeefEvent | None = None
    body_error: str | None = None

    @property
    def facility_name(self) -> str:
        return FACILITIES[self.facility] if self.facility < len(FACILITIES) else str(self.facility)

    @property
    def severity_name(self) -> str:
        return SEVERITIES[self.severity]


# --- the syslog header -----------------------------------------------------------------


def parse_frame(data: bytes) -> ParsedFrame:
    """Parse one frame (framing already removed); raise ``MalformedSyslog`` saying why."""
    match = _PRI.match(data)
    if match is None:
        raise MalformedSyslog("no <PRI> at the start (RFC 5424 section 6.2.1)")
    prival = int(match[1])
    if prival > 191 or (len(match[1]) > 1 and match[1].startswith(b"0")):
        raise MalformedSyslog(f"PRI <{match[1].decode()}> is not 0-191 without leading zeros")
    facility, severity = divmod(prival, 8)
    rest = data[match.end() :]
    version = re.match(rb"([1-9]\d{0,2}) ", rest)
    if version:
        return _parse_5424(rest[version.end() :], facility, severity, int(version[1]))
    return _parse_3164(rest, facility, severity)


def _parse_5424(data: bytes, facility: int, severity: int, version: int) -> ParsedFrame:
    """RFC 5424 section 6: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]."""
    parts = data.split(b" ", 5)
    if len(parts) < 6:
        raise MalformedSyslog("RFC 5424 header cut short: expected 7 fields after <PRI>VERSION")
    *head, rest = parts
    header: dict[str, str | None] = {}
    for (name, limit), raw in zip((("timestamp", 0), *_FIELDS_5424), head, strict=True):
        try:
            value = raw.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedSyslog(f"RFC 5424 {name} is not ASCII") from None
        if not value or not value.isprintable():
            raise MalformedSyslog(f"RFC 5424 {name} is empty or not printable ASCII")
        if limit and len(value) > limit:
            raise MalformedSyslog(f"RFC 5424 {name} is longer than {limit} characters")
        header[name] = None if value == "-" else value
    timestamp = header["timestamp"]
    if timestamp is not None and not _TIMESTAMP_5424.fullmatch(timestamp):
        raise MalformedSyslog(f"RFC 5424 timestamp {timestamp!r} is not RFC 3339")
    sd, message = _structured_data(rest)
    return ParsedFrame(
        format="rfc5424",
        facility=facility,
        severity=severity,
        version=version,
        timestamp=timestamp,
        hostname=header["hostname"],
        app_name=header["app_name"],
        procid=header["procid"],
        msgid=header["msgid"],
        structured_data=sd,
        **_body(message),
    )


def _structured_data(data: bytes) -> tuple[dict[str, dict[str, str]], bytes]:
    """RFC 5424 section 6.3: ``-`` or one or more ``[SD-ID *(SP name="value")]``; then
    the MSG after one space. Inside a value only ``\\"``, ``\\\\`` and ``\\]`` are escapes."""
    if data == b"-" or data.startswith(b"- "):
        return {}, data[2:]
    if not data.startswith(b"["):
        raise MalformedSyslog("RFC 5424 structured data is neither '-' nor '[...]'")
    text = data.decode("utf-8", "replace")
    elements: dict[str, dict[str, str]] = {}
    at = 0
    while at < len(text) and text[at] == "[":
        at, sd_id, params = _sd_element(text, at + 1)
        if sd_id in elements:
            raise MalformedSyslog(f"RFC 5424 structured data repeats the SD-ID {sd_id!r}")
        elements[sd_id] = params
    rest = text[at:]
    if rest and not rest.startswith(" "):
        raise MalformedSyslog("RFC 5424 structured data must be followed by a space or the end")
    consumed = len(text[:at].encode("utf-8", "surrogateescape"))
    return elements, data[consumed + 1 :] if rest else b""


def _sd_name(text: str, at: int, what: str) -> tuple[int, str]:
    end = at
    while end < len(text) and text[end] not in ' ="]' and 32 < ord(text[end]) < 127:
        end += 1
    name = text[at:end]
    if not 1 <= len(name) <= 32:
        raise MalformedSyslog(f"RFC 5424 structured data: bad {what} at offset {at}")
    return end, name


def _sd_element(text: str, at: int) -> tuple[int, str, dict[str, str]]:
    at, sd_id = _sd_name(text, at, "SD-ID")
    params: dict[str, str] = {}
    while True:
        if at >= len(text):
            raise MalformedSyslog(f"RFC 5424 structured data [{sd_id} is not closed")
        if text[at] == "]":
            return at + 1, sd_id, params
        if text[at] != " ":
            raise MalformedSyslog(f"RFC 5424 structured data: unexpected {text[at]!r} in [{sd_id}")
        at, name = _sd_name(text, at + 1, "PARAM-NAME")
        if text[at : at + 2] != '="':
            raise MalformedSyslog(f'RFC 5424 structured data: {name} must be followed by ="')
        at, value = _sd_value(text, at + 2, sd_id)
        params[name] = value


def _sd_value(text: str, at: int, sd_id: str) -> tuple[int, str]:
    chars: list[str] = []
    while at < len(text):
        char = text[at]
        if char == "\\" and at + 1 < len(text) and text[at + 1] in '"\\]':
            chars.append(text[at + 1])
            at += 2
        elif char == '"':
            return at + 1, "".join(chars)
        elif char == "]":
            raise MalformedSyslog(f"RFC 5424 structured data: unescaped ] in a value of [{sd_id}")
        else:
            chars.append(char)
            at += 1
    raise MalformedSyslog(f"RFC 5424 structured data: a value of [{sd_id} is not closed")


def _parse_3164(data: bytes, facility: int, severity: int) -> ParsedFrame:
    """RFC 3164 section 4.1: [TIMESTAMP SP HOSTNAME SP] [TAG] MSG, each part optional."""
    text = data.decode("utf-8", "replace")
    timestamp = hostname = app_name = procid = None
    stamp = _TIMESTAMP_3164.match(text)
    if stamp and text[stamp.end() : stamp.end() + 1] == " ":
        timestamp = stamp[0]
        host, _, text = text[stamp.end() + 1 :].partition(" ")
        hostname = host or None
    if not text.startswith(("CEF:", "LEEF:")):
        tag = _TAG_3164.match(text)
        if tag:
            app_name = tag[1]
            procid = tag[2][1:-1] if tag[2] else None
            text = text[tag.end() :]
    return ParsedFrame(
        format="rfc3164",
        facility=facility,
        severity=severity,
        timestamp=timestamp,
        hostname=hostname,
        app_name=app_name,
        procid=procid,
        **_body(text.encode("utf-8")),
    )


def _body(data: bytes) -> dict[str, object]:
    """The MSG as text, and the CEF or LEEF record it holds (or why it does not)."""
    text = data.decode("utf-8", "replace").rstrip("\x00\r\n")
    text = text.removeprefix(_BOM)
    found: dict[str, object] = {"message": text}
    try:
        if text.startswith("CEF:"):
            found["cef"] = parse_cef(text)
        elif text.startswith("LEEF:"):
            found["leef"] = parse_leef(text)
    except MalformedSyslog as error:
        found["body_error"] = str(error)
    return found


# --- CEF -------------------------------------------------------------------------------


def parse_cef(text: str) -> CefEvent:
    """``CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension``."""
    if not text.startswith("CEF:"):
        raise MalformedSyslog("CEF: the record does not start with 'CEF:'")
    fields: list[str] = []
    current: list[str] = []
    at = 4
    while at < len(text) and len(fields) < 7:
        char = text[at]
        if char == "\\" and at + 1 < len(text) and text[at + 1] in "|\\":
            current.append(text[at + 1])
            at += 2
            continue
        if char == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        at += 1
    if len(fields) < 7:
        raise MalformedSyslog(f"CEF: the header has {len(fields)} of its 7 '|'-ended fields")
    version, vendor, product, device_version, signature_id, name, severity = fields
    if not version.isdigit():
        raise MalformedSyslog(f"CEF: version {version!r} is not a number")
    return CefEvent(
        int(version),
        vendor,
        product,
        device_version,
        signature_id,
        name,
        severity,
        _cef_extension(text[at:]),
    )


_CEF_VALUE_ESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r", "|": "|"}


def _cef_extension(text: str) -> dict[str, str]:
    """``key=value`` pairs separated by spaces; a value runs to the next `` key=``."""
    starts: list[tuple[int, int]] = []  # (index of a key's first character, of its '=')
    at = 0
    while at < len(text):
        if text[at] == "\\":
            at += 2
            continue
        if text[at] == "=":
            key_at = text.rfind(" ", 0, at) + 1
            if _CEF_KEY.match(text[key_at:at]) and (key_at == 0 or starts):
                starts.append((key_at, at))
        at += 1
    if text.strip() and not starts:
        raise MalformedSyslog("CEF: the extension has no key=value pair")
    extension: dict[str, str] = {}
    for number, (key_at, equals_at) in enumerate(starts):
        end = starts[number + 1][0] - 1 if number + 1 < len(starts) else len(text)
        extension[text[key_at:equals_at]] = _cef_unescape(text[equals_at + 1 : end])
    return extension


def _cef_unescape(value: str) -> str:
    out: list[str] = []
    at = 0
    while at < len(value):
        char = value[at]
        if char == "\\" and at + 1 < len(value) and value[at + 1] in _CEF_VALUE_ESCAPES:
            out.append(_CEF_VALUE_ESCAPES[value[at + 1]])
            at += 2
        else:
            out.append(char)
            at += 1
    return "".join(out)


# --- LEEF ------------------------------------------------------------------------------


def parse_leef(text: str) -> LeefEvent:
    """``LEEF:1.0|Vendor|Product|Version|EventID|attrs`` or, in 2.0, with a delimiter
    field after EventID; attributes are ``key=value`` separated by the delimiter."""
    if not text.startswith("LEEF:"):
        raise MalformedSyslog("LEEF: the record does not start with 'LEEF:'")
    parts = text[5:].split("|", 5)
    if len(parts) < 6:
        raise MalformedSyslog(f"LEEF: the header has {len(parts) - 1} of its 5 '|'-ended fields")
    version, vendor, product, product_version, event_id, rest = parts
    delimiter = "\t"
    if version.startswith("2"):
        named, bar, rest = rest.partition("|")
        if not bar:
            raise MalformedSyslog("LEEF 2.0: the header has no delimiter field")
        delimiter = _leef_delimiter(named)
    elif version not in ("1.0", "1"):
        raise MalformedSyslog(f"LEEF: unknown version {version!r}")
    attributes: dict[str, str] = {}
    for item in rest.split(delimiter):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise MalformedSyslog(f"LEEF: attribute {item[:40]!r} is not key=value")
        attributes[key] = value
    return LeefEvent(version, vendor, product, product_version, event_id, delimiter, attributes)


def _leef_delimiter(named: str) -> str:
    """LEEF 2.0: one character, or its code in hex as ``0x5E`` or ``x5E``; empty is tab."""
    if named == "":
        return "\t"
    if len(named) == 1:
        return named
    match = re.fullmatch(r"(?:0x|x)([0-9A-Fa-f]{2,4})", named)
    if match is None:
        raise MalformedSyslog(f"LEEF 2.0: delimiter {named!r} is neither a character nor hex")
    return chr(int(match[1], 16))
