"""The syslog parsers, on the standards' own examples and against independent code:
``syslog-rfc5424-parser`` reads the same RFC 5424 frames, ``cefevent`` writes CEF."""

from __future__ import annotations

import pytest
from cefevent import CEFEvent
from hypothesis import given, settings
from hypothesis import strategies as st
from syslog_rfc5424_parser import SyslogMessage as ReferenceParser

from hoophooks_dk.capture.syslog_formats import MalformedSyslog, parse_cef, parse_frame, parse_leef
from hoophooks_dk.strategies import TRICKY_TEXTS

# --- RFC 5424 ----------------------------------------------------------------------------

# RFC 5424 section 6.5, examples 1 to 4 (example 4's BOM written as bytes).
RFC5424_EXAMPLES = [
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
    b"\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8",
    b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
    b"%% It's time to make the do-nuts.",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
    b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] '
    b"\xef\xbb\xbfAn application event log entry...",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
    b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
    b'[examplePriority@32473 class="high"]',
]


@pytest.mark.parametrize("frame", RFC5424_EXAMPLES)
def test_rfc5424_examples_read_as_the_reference_parser_reads_them(frame):
    parsed = parse_frame(frame)
    reference = ReferenceParser.parse(frame.decode("utf-8")).as_dict()

    assert parsed.format == "rfc5424" and parsed.version == 1
    procid = reference["procid"]  # the reference turns a numeric PROCID into an int
    assert (parsed.facility_name, parsed.severity_name) == (
        reference["facility"],
        reference["severity"],
    )
    assert parsed.timestamp == reference["timestamp"]
    assert (parsed.hostname, parsed.app_name, parsed.procid, parsed.msgid) == (
        reference["hostname"],
        reference["appname"],
        None if procid is None else str(procid),
        reference["msgid"],
    )
    assert parsed.structured_data == reference["sd"]
    assert parsed.message == (reference["msg"] or "").removeprefix("\ufeff")


def test_rfc5424_example_fields_exactly():
    parsed = parse_frame(RFC5424_EXAMPLES[2])

    assert (parsed.facility, parsed.severity) == (20, 5)  # local4, notice
    assert parsed.structured_data == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}
    }
    assert parsed.message == "An application event log entry..."  # the BOM is dropped


def escape_sd(value: str) -> str:
    """RFC 5424 section 6.3.3: '"', '\\' and ']' are escaped in a PARAM-VALUE."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(max_size=40)).filter(
        lambda text: "\x00" not in text
    ),
    # syslog-rfc5424-parser 0.3.2 fails on a '"' in MSG after an escaped '"' in SD
    message=st.text(max_size=40).filter(lambda text: text == text.strip() and '"' not in text),
)
def test_structured_data_values_agree_with_the_reference_parser(value, message):
    """The reference parser finds the same elements and values but leaves the escapes in
    place; the receiver undoes them (RFC 5424 section 6.3.3)."""
    frame = f'<14>1 - host app - - [hoop@32473 v="{escape_sd(value)}"] {message}'

    parsed = parse_frame(frame.encode())
    reference = ReferenceParser.parse(frame).as_dict()

    assert parsed.structured_data == {"hoop@32473": {"v": value}}
    assert reference["sd"] == {"hoop@32473": {"v": escape_sd(value)}}
    assert (
        parsed.message == message.rstrip("\x00\r\n") == (reference["msg"] or "").rstrip("\x00\r\n")
    )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"hello", "no <PRI>"),
        (b"<192>1 - - - - - -", "not 0-191"),
        (b"<013>hello", "leading zeros"),
        (b"<13>1 - host app", "cut short"),
        (b"<13>1 2003-10-11 host app - - -", "not RFC 3339"),
        (b"<13>1 - host app - - x", "neither '-' nor"),
        (b'<13>1 - host app - - [id a="1"', "not closed"),
        (b'<13>1 - host app - - [id a="1]"]', "unescaped ]"),
        (b"<13>1 - host app - - [id a=1]", 'must be followed by ="'),
        (b'<13>1 - host app - - [id a="1"][id b="2"]', "repeats the SD-ID"),
        (b'<13>1 - host app - - [id a="1"]x', "followed by a space"),
        (b"<13>1 - h\xc3\xa9 app - - -", "not ASCII"),
        (b"<13>1 - " + b"h" * 256 + b" app - - -", "longer than 255"),
    ],
)
def test_malformed_frames_say_which_rule_they_break(frame, reason):
    with pytest.raises(MalformedSyslog, match=reason):
        parse_frame(frame)


# --- RFC 3164 ----------------------------------------------------------------------------


def test_rfc3164_examples():
    # RFC 3164 section 5.4, examples 1 and 2
    first = parse_frame(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick")
    second = parse_frame(b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!")

    assert (first.format, first.facility_name, first.severity_name) == ("rfc3164", "auth", "crit")
    assert (first.timestamp, first.hostname, first.app_name) == (
        "Oct 11 22:14:15",
        "mymachine",
        "su",
    )
    assert first.message == "'su root' failed for lonvick"
    assert (second.timestamp, second.hostname, second.app_name) == (
        "Feb  5 17:32:18",
        "10.0.0.99",
        None,
    )
    assert second.message == "Use the BFG!"


def test_rfc3164_as_pythons_syslog_handler_sends_it():
    """logging.handlers.SysLogHandler sends <PRI>, the message and a NUL: no timestamp."""
    parsed = parse_frame(b"<12>myapp[42]: disk full\x00")

    assert (parsed.timestamp, parsed.hostname) == (None, None)
    assert (parsed.app_name, parsed.procid, parsed.message) == ("myapp", "42", "disk full")


# --- CEF ---------------------------------------------------------------------------------

# The examples of the CEF specification's "Character encoding" section: a header pipe and
# backslash, an extension equals sign and backslash, a multi-line extension value.
CEF_SPEC = [
    (
        r"CEF:0|security|threatmanager|1.0|100|detected a \| in message|10|"
        r"src=10.0.0.1 act=blocked a | dst=1.1.1.1",
        "detected a | in message",
        {"src": "10.0.0.1", "act": "blocked a |", "dst": "1.1.1.1"},
    ),
    (
        r"CEF:0|security|threatmanager|1.0|100|detected a \\ in packet|10|"
        r"src=10.0.0.1 act=blocked a \\ dst=1.1.1.1",
        "detected a \\ in packet",
        {"src": "10.0.0.1", "act": "blocked a \\", "dst": "1.1.1.1"},
    ),
    (
        r"CEF:0|security|threatmanager|1.0|100|detected a = in message|10|"
        r"src=10.0.0.1 act=blocked a \= dst=1.1.1.1",
        "detected a = in message",
        {"src": "10.0.0.1", "act": "blocked a =", "dst": "1.1.1.1"},
    ),
    (
        r"CEF:0|security|threatmanager|1.0|100|multi-line|10|"
        r"msg=Detected a threat.\n No action needed. src=10.0.0.1",
        "multi-line",
        {"msg": "Detected a threat.\n No action needed.", "src": "10.0.0.1"},
    ),
]


@pytest.mark.parametrize(("record", "name", "extension"), CEF_SPEC)
def test_cef_specification_examples(record, name, extension):
    event = parse_cef(record)

    assert (event.version, event.device_vendor, event.device_product) == (
        0,
        "security",
        "threatmanager",
    )
    assert (event.device_version, event.signature_id, event.severity) == ("1.0", "100", "10")
    assert event.name == name
    assert event.extension == extension


def test_cef_in_a_syslog_frame_is_read_as_cef():
    parsed = parse_frame(b"<13>Sep 19 08:26:10 host " + CEF_SPEC[0][0].encode())

    assert parsed.cef is not None and parsed.cef.name == "detected a | in message"
    assert parsed.body_error is None and parsed.hostname == "host"


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(min_size=1, max_size=60)).filter(
        lambda text: text == text.strip() and text and "\r" not in text
    )
)
def test_what_cefevent_writes_reads_back_unchanged(value):
    """cefevent (an independent CEF writer) escapes; the parser gets the value back."""
    event = CEFEvent()
    event.set_field("message", value)
    event.set_field("sourceUserName", "a=b \\ c")

    parsed = parse_cef(event.build_cef())

    assert parsed.extension == {"msg": value, "suser": "a=b \\ c"}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("CEF:0|a|b|c", "3 of its 7"),
        ("CEF:x|a|b|c|d|e|f|", "not a number"),
        ("CEF:0|a|b|c|d|e|f|no pairs here", "no key=value"),
    ],
)
def test_malformed_cef(record, reason):
    with pytest.raises(MalformedSyslog, match=reason):
        parse_cef(record)


def test_malformed_cef_body_keeps_the_syslog_header():
    parsed = parse_frame(b"<13>1 - host app - - - CEF:0|only|three")

    assert parsed.hostname == "host" and parsed.cef is None
    assert "CEF" in parsed.body_error


# --- LEEF --------------------------------------------------------------------------------


def test_leef_1_and_2_as_qradar_documents_them():
    one = parse_leef("LEEF:1.0|Microsoft|MSExchange|2016|15345|src=10.50.1.1\tdst=2.10.20.20")
    two = parse_leef("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5")
    hex_named = parse_leef("LEEF:2.0|V|P|1|E|0x5E|a=1^b=x=y")

    assert (one.vendor, one.product, one.product_version, one.event_id) == (
        "Microsoft",
        "MSExchange",
        "2016",
        "15345",
    )
    assert one.attributes == {"src": "10.50.1.1", "dst": "2.10.20.20"}
    assert two.delimiter == "^" and two.attributes["sev"] == "5"
    assert hex_named.delimiter == "^" and hex_named.attributes == {"a": "1", "b": "x=y"}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("LEEF:1.0|a|b", "of its 5"),
        ("LEEF:3.0|a|b|c|d|x=1", "unknown version"),
        ("LEEF:2.0|a|b|c|d|0xZZ|x=1", "neither a character nor hex"),
        ("LEEF:1.0|a|b|c|d|novalue", "not key=value"),
    ],
)
def test_malformed_leef(record, reason):
    with pytest.raises(MalformedSyslog, match=reason):
        parse_leef(record)
