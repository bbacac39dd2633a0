"""Every rule of schemas/hook-payload.schema.json, and how violations are worded."""

from __future__ import annotations

import copy
import json

import pytest

from hoophooks_dk import payload as payloads
from hoophooks_dk.resources import read_schema_text
from hoophooks_dk.schema import validate


def complete(event: str, **fields):
    return payloads.complete(payloads.synthetic(event, **fields), event, input_file="print(1)")


def messages(payload) -> list[str]:
    return [str(v) for v in validate(payload)]


def test_schema_is_draft_2020_12_with_id_descriptions_and_examples():
    schema = json.loads(read_schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("hook-payload.schema.json")
    fields = {**schema["properties"], **schema["$defs"]["event_session_open"]["properties"]}
    fields |= schema["$defs"]["event_session_close"]["properties"]
    for name, field in fields.items():
        assert field.get("description"), name
        assert field.get("examples"), name


def test_both_events_set_is_explained():
    payload = complete("session-close")
    payload["event_session_open"] = payloads.synthetic_open()
    (first, *_) = messages(payload)
    assert "both event_session_open and event_session_close are set" in first
    assert "documentation" in first


def test_neither_event_set_is_explained():
    payload = complete("session-close") | {"event_session_close": None}
    assert "neither event_session_open nor event_session_close" in messages(payload)[0]


@pytest.mark.parametrize(
    "event, path, value, expected",
    [
        (
            "session-close",
            ("event_session_close", "exit_code"),
            "1",
            "$.event_session_close.exit_code: expected integer",
        ),
        (
            "session-close",
            ("event_session_close", "exit_code"),
            1.5,
            "$.event_session_close.exit_code: expected integer",
        ),
        (
            "session-close",
            ("event_session_close", "output"),
            3,
            "$.event_session_close.output: expected string or null",
        ),
        (
            "session-open",
            ("event_session_open", "verb"),
            "plain-exec",
            '$.event_session_open.verb: expected one of "connect", "exec"',
        ),
        (
            "session-open",
            ("event_session_open", "connection_reviewers"),
            "dba",
            "$.event_session_open.connection_reviewers: expected array or null",
        ),
        (
            "session-open",
            ("event_session_open", "connection_reviewers"),
            [1],
            "$.event_session_open.connection_reviewers[0]: expected string",
        ),
        (
            "session-open",
            ("event_session_open", "connection_envs"),
            [],
            "$.event_session_open.connection_envs: expected object or null",
        ),
        (
            "session-open",
            ("event_session_open", "input"),
            None,
            "$.event_session_open.input: expected string",
        ),
        (
            "session-open",
            ("event_session_open", "user_email"),
            7,
            "$.event_session_open.user_email: expected string",
        ),
        ("session-open", ("command",), "python3", "$.command: expected array"),
        ("session-open", ("sid",), 12, "$.sid: expected string"),
        ("session-open", ("input_file",), None, "$.input_file: expected string"),
        ("session-open", ("event_session_open",), [], "$.event_session_open"),
    ],
)
def test_each_type_rule(event, path, value, expected):
    payload = complete(event)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(m.startswith(expected) for m in messages(payload)), messages(payload)


@pytest.mark.parametrize("field", ["connection_envs", "connection_reviewers"])
def test_nullable_open_fields_accept_null(field):
    payload = complete("session-open")
    payload["event_session_open"][field] = None
    assert validate(payload) == []


def test_nullable_output_accepts_null_and_text():
    assert validate(complete("session-close", output=None)) == []
    assert validate(complete("session-close", output="ERROR")) == []
    assert validate(complete("session-close", exit_code=-2)) == []


@pytest.mark.parametrize(
    "where, typo",
    [((), "sessionid"), (("event_session_close",), "outptu"), (("event_session_open",), "user")],
)
def test_unknown_keys_are_rejected_and_named(where, typo):
    event = "session-open" if where == ("event_session_open",) else "session-close"
    payload = complete(event)
    target = payload
    for key in where:
        target = target[key]
    target[typo] = "x"
    (message,) = messages(payload)
    assert f"unknown key(s) '{typo}'" in message
    assert message.startswith("$" + "".join(f".{k}" for k in where) + ":")


@pytest.mark.parametrize("key", payloads.TOP_LEVEL_KEYS)
def test_every_top_level_key_is_required(key):
    payload = complete("session-close")
    del payload[key]
    assert any(key in m and "missing required" in m for m in messages(payload)), messages(payload)


@pytest.mark.parametrize("key", payloads.OPEN_KEYS)
def test_every_open_field_is_required(key):
    payload = complete("session-open")
    del payload["event_session_open"][key]
    assert messages(payload) == [f"$.event_session_open: missing required key(s): '{key}'"]


@pytest.mark.parametrize("key", payloads.CLOSE_KEYS)
def test_every_close_field_is_required(key):
    payload = complete("session-close")
    del payload["event_session_close"][key]
    assert messages(payload) == [f"$.event_session_close: missing required key(s): '{key}'"]


def test_the_documentation_example_is_rejected_for_both_events():
    doc_example = copy.deepcopy(complete("session-open"))
    doc_example["event_session_close"] = {"exit_code": 0, "output": ""}
    assert "both event_session_open" in messages(doc_example)[0]
