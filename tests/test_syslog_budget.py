"""The syslog templates' byte budget, run in this process on the hooks as ``hookdk init``
writes them: ``fit`` (templates/_common/include/syslog-budget.py) and each template's
``syslog_message(payload)``, over hostile payloads from the kit's strategies and values
made of the characters that escaping grows.

The properties: a message never takes more than SYSLOG_MAX_BYTES bytes; it is valid
UTF-8 and parses back (the kit's parser and syslog-rfc5424-parser); the ids are never
cut; every value arrives whole or as its own start, cut exactly when the event names it
with its full length; the values cut share the room equally and leave little of the
budget unused. The generated tests and tests/test_collector.py check whole hooks."""

from __future__ import annotations

import functools
import os
from unittest import mock

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syslog_rfc5424_parser import SyslogMessage as ReferenceParser

from hoophooks_dk.capture.syslog_formats import parse_frame
from hoophooks_dk.scaffold.writer import expand_includes, get_template
from hoophooks_dk.strategies import payloads

TEMPLATES = ["syslog-cef", "qradar-leef"]
EVENTS = ["session-open", "session-close"]
# the characters escaping or UTF-8 grow (CEF's \ = and line breaks, RFC 5424's " ] \,
# LEEF's ^ and tab, two- to four-byte characters, controls that become U+FFFD)
GROWING = '=\\|^"]\n\r\t é日😀\x00\x7f\ud800'
SLACK = 4  # bytes a cut may leave unused per value: a character's UTF-8, a share's rounding


@functools.cache
def hook(template: str, event: str) -> dict:
    """The hook's module namespace, everything but its final ``main()`` call."""
    chosen = get_template(template)
    hook_file = chosen.folder / "hoop-hooks" / f"{event}.runbook.py"
    source = expand_includes(hook_file.read_bytes(), chosen)
    body, end = source.rsplit(b"\nmain()\n", 1)
    assert end == b""
    namespace: dict = {"__name__": f"{template}/{event}"}
    with mock.patch.dict(os.environ, {"SYSLOG_HOST": "siem.example.test"}, clear=True):
        exec(compile(body, f"{template}/{event}.runbook.py", "exec"), namespace)
    return namespace


def growing_texts() -> st.SearchStrategy[str]:
    """Up to ~50 KB of a short piece of GROWING characters, repeated."""
    piece = st.text(st.sampled_from(GROWING), min_size=1, max_size=12)
    return st.builds(lambda text, times: text * times, piece, st.integers(0, 4000))


def hostile_payloads(event: str) -> st.SearchStrategy[dict]:
    """The kit's payloads for ``event``, its free text sometimes replaced by GROWING text."""
    if event == "session-close":
        fields = {"output": st.one_of(st.none(), growing_texts())}
        key = "event_session_close"
    else:
        fields = {
            "input": growing_texts(),
            "user_email": growing_texts(),
            "connection_name": growing_texts(),
            "connection_reviewers": st.lists(growing_texts(), max_size=3),
        }
        key = "event_session_open"

    def replace(payload: dict, overrides: dict) -> dict:
        return {**payload, key: {**payload[key], **overrides}}

    overrides = st.fixed_dictionaries({}, optional=fields)
    return st.builds(replace, payloads(event), overrides)


def received(template: str, message: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(the record's values by key, the syslog header's ids) as a collector reads them."""
    text = message.decode("utf-8")  # strict: the budget never splits a character
    reference = ReferenceParser.parse(text).as_dict()
    parsed = parse_frame(message)
    assert parsed.body_error is None, parsed.body_error
    assert (reference["appname"], parsed.app_name) == ("hoop", "hoop")
    assert reference["msg"] == parsed.message
    if template == "syslog-cef":
        assert reference["sd"]["hoop@32473"] == parsed.structured_data["hoop@32473"]
        values = dict(parsed.cef.extension)
        return values, {"id": values["externalId"], "sid": values["cs1"]}
    values = dict(parsed.leef.attributes)
    return values, {"id": values["hoopEventId"], "sid": values["hoopSessionId"]}


def sent_values(namespace: dict, template: str, payload: dict) -> dict[str, str]:
    """{key: value} of the FREE_TEXT keys, whole, as the collector reads them back."""
    if template == "syslog-cef":
        _, _, extension = namespace["cef_event"](payload)
        pairs = [(key, value) for key, _, value in extension]
        shown = namespace["plain"]  # CEF's escaping is undone by the reader
    else:
        _, pairs = namespace["leef_event"](payload)
        shown = namespace["leef_value"]  # LEEF cannot escape: what it changes stays
    return {key: shown(value) for key, value in pairs if key in namespace["FREE_TEXT"]}


def note(values: dict[str, str], template: str) -> dict[str, int]:
    """The event's own account of what was cut: {payload field: full length}."""
    text = values.get("cs6" if template == "syslog-cef" else "truncated", "")
    if template == "syslog-cef" and text:
        assert values["cs6Label"] == "truncated"
    pairs = [item.rpartition(":") for item in text.split(",")] if text else []
    return {name: int(size) for name, _, size in pairs}


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("template", TEMPLATES)
@settings(max_examples=60, deadline=None)
@given(data=st.data(), budget=st.integers(2048, 12_000))
def test_a_message_fits_its_budget_and_says_what_was_cut(template, event, data, budget):
    namespace = hook(template, event)
    payload = data.draw(hostile_payloads(event))
    namespace["SYSLOG_MAX_BYTES"] = budget

    message = namespace["syslog_message"](payload)

    assert len(message) <= budget
    values, ids = received(template, message)
    assert ids == {"id": payload["id"], "sid": payload["sid"]}  # never cut
    cut = note(values, template)
    whole = sent_values(namespace, template, payload)
    caps = namespace.get("CEF_LENGTHS", {})
    free = namespace["FREE_TEXT"]
    cut_by_budget = []
    for key, value in whole.items():
        arrived = values.get(key, "")  # CEF leaves an empty value out
        if free[key] in cut:
            assert cut[free[key]] == len(value)
            assert len(arrived) < len(value) and value.startswith(arrived), key
            if len(arrived) < caps.get(key, len(value)):
                cut_by_budget.append(key)
        else:
            assert arrived == value, key
    hypothesis.event(f"{len(cut_by_budget)} value(s) cut to fit the budget")
    if cut_by_budget:  # the room was shared equally, and little of it left unused
        escape = namespace["cef_value" if template == "syslog-cef" else "leef_value"]
        sizes = [len(escape(values.get(key, "")).encode()) for key in cut_by_budget]
        assert max(sizes) - min(sizes) <= SLACK, dict(zip(cut_by_budget, sizes, strict=True))
        assert budget - len(message) <= SLACK * len(free), (budget, len(message))


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_cut_when_the_message_fits(template):
    namespace = hook(template, "session-open")
    text = "é\\=\n" * 100
    payload = {
        "id": "id-1",
        "sid": "sid-1",
        "event_session_open": {"input": text, "user_email": "alice@example.com"},
    }
    namespace["SYSLOG_MAX_BYTES"] = 8096

    values, _ = received(template, namespace["syslog_message"](payload))

    assert note(values, template) == {}
    assert values["input"] if template == "qradar-leef" else values["cs5"]


# --- fit on its own: a toy format ---------------------------------------------------------


def toy_escape(char: str) -> str:
    return "\\" + char if char in "\\;" else char


def toy_build(values: dict[str, str], cut: dict[str, int]) -> str:
    """``HEADER;a=...;b=...;cut=a:12``: the keys in order, escaped, the note last."""
    fields = [f"{key}={''.join(map(toy_escape, value))}" for key, value in values.items()]
    notes = ",".join(f"{key}:{size}" for key, size in cut.items())
    return "HEADER;" + ";".join(fields + ([f"cut={notes}"] if notes else []))


@settings(max_examples=200, deadline=None)
@given(
    free=st.dictionaries(
        st.sampled_from("abcd"), st.text(st.sampled_from("x;\\é😀"), max_size=300)
    ),
    budget=st.integers(60, 800),
    caps=st.dictionaries(st.sampled_from("abcd"), st.integers(0, 200)),
)
def test_fit_cuts_on_characters_and_names_each_cut(free, budget, caps):
    fit = hook("syslog-cef", "session-close")["fit"]

    message = fit(toy_build, free, toy_escape, budget, caps).decode("utf-8")

    assert len(message.encode()) <= budget
    assert message.startswith("HEADER;")
    arrived, cut = read_toy(message[len("HEADER;") :], list(free))
    for key, value in free.items():
        if key in cut:
            assert cut[key] == len(value) and len(arrived[key]) < len(value)
        assert value.startswith(arrived[key])
        assert len(arrived[key]) <= caps.get(key, len(value))


def read_toy(text: str, keys: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """toy_build undone: a ';' or '\\' after a backslash is the character itself."""
    fields, current, at = [], [], 0
    while at < len(text):
        if text[at] == "\\":
            current.append(text[at + 1])
            at += 2
        elif text[at] == ";":
            fields.append("".join(current))
            current, at = [], at + 1
        else:
            current.append(text[at])
            at += 1
    fields.append("".join(current))
    arrived = {}
    for key, field in zip(keys, fields, strict=False):
        name, _, value = field.partition("=")
        assert name == key
        arrived[key] = value
    notes = fields[len(keys)] if len(fields) > len(keys) else ""
    cut = {}
    if notes:
        assert notes.startswith("cut=")
        for item in notes[4:].split(","):
            name, _, size = item.partition(":")
            cut[name] = int(size)
    return arrived, cut


def test_a_message_that_cannot_fit_ends_the_hook_in_one_line(capsys):
    fit = hook("syslog-cef", "session-close")["fit"]

    with pytest.raises(SystemExit) as exited:
        fit(lambda values, cut: "H" * 3000 + values["a"], {"a": "x" * 10}, str, 2048)

    assert exited.value.code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "SYSLOG_MAX_BYTES=2048" in line
