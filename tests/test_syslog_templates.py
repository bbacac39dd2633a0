"""The syslog templates' output, read by code that is not the kit's: every frame through
``syslog-rfc5424-parser``, CEF escaping against the CEF specification's own examples and
a reference escaper written from its rules, with hostile values from the strategies.
The byte budget's own properties: tests/test_syslog_budget.py; a real rsyslog:
tests/test_collector.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syslog_rfc5424_parser import SyslogMessage as ReferenceParser

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.emulator import Emulator
from hoophooks_dk.scaffold.demo import run_demo
from hoophooks_dk.scaffold.writer import get_template, init
from hoophooks_dk.strategies import TRICKY_TEXTS, texts
from hoophooks_dk.wiring import make_runner

CEF_TEXT = 4000  # characters a CEF custom string holds: syslog-cef cuts input and output there


@pytest.fixture(scope="module")
def fire(tmp_path_factory):
    """fire(template, event, **fields) -> the FireResult, against one capture per module."""
    runner = make_runner("auto", "python3")
    with Capture(syslog=True) as capture:
        emulators = {}

        def fire(template: str, event: str, **fields):
            if template not in emulators:
                repo = tmp_path_factory.mktemp(template) / "repo"
                init(repo, template)
                env = {**os.environ, **get_template(template).demo_env, "HOOK_ATTEMPTS": "1"}
                emulators[template] = Emulator(repo, capture=capture, env=env, runner=runner)
            result = emulators[template].fire(event, **fields)
            assert result.ok, result.output
            return result

        yield fire
    runner.close()


def cef_reference_escape(value: str) -> str:
    """The CEF specification's rule for extension values, as written there: backslash
    and equals sign are escaped with a backslash; a line break is written \\n or \\r."""
    value = value.replace("\\", "\\\\").replace("=", "\\=")
    return value.replace("\r", "\\r").replace("\n", "\\n")


def carried(value: str) -> str:
    """What a template can carry of a value: control characters other than tab and line
    breaks as U+FFFD (no syslog format escapes them), DEL too (rsyslog writes it #177)."""
    return "".join("\ufffd" if unsendable(c) and c not in "\t\n\r" else c for c in value)


def unsendable(char: str) -> bool:
    return ord(char) < 32 or ord(char) == 127


def arrived_whole_or_cut(arrived: str, value: str, note: str, name: str) -> None:
    """``arrived`` is ``value`` whole, or its start with the event naming the cut."""
    if f"{name}:{len(value)}" in note.split(","):
        assert len(arrived) < len(value) and value.startswith(arrived)
    else:
        assert arrived == value


# --- every frame parses with syslog-rfc5424-parser --------------------------------------


@pytest.mark.parametrize("event", ["session-open", "session-close"])
def test_syslog_cef_frames_parse_with_syslog_rfc5424_parser(fire, event):
    result = fire("syslog-cef", event)

    [message] = result.syslog
    reference = ReferenceParser.parse(message.raw.decode("utf-8")).as_dict()
    assert reference["version"] == 1
    assert (reference["appname"], reference["msgid"]) == ("hoop", event)
    assert reference["facility"] == "audit" and reference["severity"] == "notice"
    assert reference["sd"] == {"hoop@32473": {"id": result.id, "sid": result.sid}}
    assert reference["msg"].startswith(f"CEF:0|hoop.dev|Hoop|1.0|{event}|")
    assert reference["timestamp"] == message.parsed.timestamp


# --- CEF escaping: the specification's examples ----------------------------------------

# (value, as the CEF specification writes it in an extension)
SPEC_EXAMPLES = [
    ("blocked a =", r"blocked a \="),
    ("blocked a \\", r"blocked a \\"),
    ("blocked a |", "blocked a |"),  # a pipe in the extension is not escaped
    ("Detected a threat.\n No action needed.", r"Detected a threat.\n No action needed."),
]


@pytest.mark.parametrize(("value", "written"), SPEC_EXAMPLES)
def test_cef_escaping_is_the_specifications(fire, value, written):
    result = fire("syslog-cef", "session-close", exit_code=1, output=value)

    [message] = result.syslog
    assert message.text.endswith(f" cs2={written}")  # output is the last key
    assert message.cef.extension["cs2"] == value


# --- hostile values from the strategies ---------------------------------------------------

HOSTILE = st.one_of(st.sampled_from(TRICKY_TEXTS), texts()).filter(bool)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=HOSTILE)
def test_hostile_output_survives_cef_as_the_specification_escapes_it(fire, value):
    result = fire("syslog-cef", "session-close", exit_code=3, output=value)

    [message] = result.syslog
    assert not message.malformed, message.error
    assert len(message.raw) <= 8096  # the shipped budget
    extension = message.cef.extension
    expected = carried(value)
    arrived_whole_or_cut(extension["cs2"], expected, extension.get("cs6", ""), "output")
    assert message.text.endswith(" cs2=" + cef_reference_escape(extension["cs2"])) or (
        extension["cs6Label"] == "truncated"  # the note comes after a cut output
    )
    if len(expected) > CEF_TEXT:
        assert len(extension["cs2"]) <= CEF_TEXT
    assert extension["externalId"] == result.id  # nothing forged
    reference = ReferenceParser.parse(message.raw.decode("utf-8")).as_dict()
    assert reference["sd"]["hoop@32473"]["id"] == result.id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# one long value at most: two could pass Linux's 128 KiB limit on the payload variable
@given(value=HOSTILE, user=st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(max_size=300)))
def test_hostile_values_stay_in_their_leef_attribute(fire, value, user):
    result = fire("qradar-leef", "session-open", input=value, user_email=user)

    [message] = result.syslog  # a line break in a value did not split the message
    assert not message.malformed, message.error
    assert len(message.raw) <= 8096  # the shipped budget
    attributes = message.leef.attributes

    def flat(text: str) -> str:
        return "".join(" " if c in "^\t\r\n" else c for c in carried(text))

    note = attributes.get("truncated", "")
    arrived_whole_or_cut(attributes["input"], flat(value), note, "input")
    arrived_whole_or_cut(attributes["usrName"], flat(user), note, "user_email")
    assert attributes["hoopEventId"] == result.id
    reference = ReferenceParser.parse(message.raw.decode("utf-8")).as_dict()
    assert reference["msg"].startswith("LEEF:2.0|hoop.dev|Hoop|1.0|session-open|^|")


# --- hookdk demo --template -------------------------------------------------------------


@pytest.mark.parametrize("template", ["syslog-cef", "qradar-leef"])
def test_demo_runs_each_syslog_template(tmp_path, template):
    run = run_demo(tmp_path, template)

    assert run.ok and run.same_open_id
    assert [len(result.syslog) for result in run.results] == [1, 1, 1]
    assert all(not r.syslog[0].malformed for r in run.results)
    assert run.requests == []
