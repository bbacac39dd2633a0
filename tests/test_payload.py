"""The payload builder against Hoop's payload and against the schema."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoophooks_dk import payload as payloads
from hoophooks_dk.errors import PayloadError
from hoophooks_dk.schema import validate


@pytest.mark.parametrize("event", payloads.EVENTS)
def test_every_synthetic_payload_validates(event):
    built = payloads.complete(payloads.synthetic(event), event, input_file="print(1)\n")
    assert validate(built) == []
    assert payloads.event_of(built) == event


def test_id_is_uuid5_of_event_and_sid_as_hoop_computes_it():
    sid = "0b5f3a52-6c1d-4f0e-8d6e-9a3f1c2b7d40"
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"session-open/{sid}")
    assert payloads.hook_id("session-open", sid) == str(expected)
    assert payloads.hook_id("session-close", sid) != str(expected)


@given(st.text(), st.sampled_from([uuid.NAMESPACE_URL, uuid.NAMESPACE_DNS, uuid.uuid4()]))
def test_uuid5_is_the_standard_librarys(name, namespace):
    assert payloads.uuid5(namespace, name) == uuid.uuid5(namespace, name)


def test_synthetic_open_looks_real():
    event = payloads.synthetic("session-open")["event_session_open"]
    assert event["connection_subtype"] == "postgres"
    assert "@" in event["user_email"]
    assert "SELECT" in event["input"]
    assert set(event["connection_envs"]) == {"envvar:HOST", "envvar:USER", "envvar:PASS"}
    decoded = base64.b64decode(event["connection_envs"]["envvar:PASS"]).decode()
    assert decoded == payloads.CANARY_SECRETS["envvar:PASS"]
    assert event["connection_reviewers"] == []  # as Hoop sends it, never null


def test_clean_close_sends_null_output_and_null_open():
    built = payloads.synthetic("session-close")
    assert built["event_session_close"] == {"exit_code": 0, "output": None}
    assert built["event_session_open"] is None


def test_complete_fills_only_what_is_absent():
    partial = {"sid": "abc", "event_session_close": {"exit_code": 3, "output": "boom"}}
    built = payloads.complete(partial, "session-close", input_file="SCRIPT")
    assert built["command"] == ["python3"]
    assert built["input_file"] == "SCRIPT"
    assert built["event_session_open"] is None
    assert built["id"] == payloads.hook_id("session-close", "abc")
    assert list(built) == list(payloads.TOP_LEVEL_KEYS)
    kept = payloads.complete({**partial, "id": "given"}, "session-close", input_file="")
    assert kept["id"] == "given"


def test_overrides_apply_before_the_id_is_computed():
    built = payloads.complete(
        payloads.synthetic("session-close"),
        "session-close",
        input_file="",
        overrides=[("sid", "s-1"), ("event_session_close.exit_code", 1)],
    )
    assert built["id"] == payloads.hook_id("session-close", "s-1")
    assert built["event_session_close"]["exit_code"] == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("event_session_close.exit_code=1", ("event_session_close.exit_code", 1)),
        ("event_session_close.output=null", ("event_session_close.output", None)),
        (
            'event_session_open.connection_reviewers=["dba"]',
            ("event_session_open.connection_reviewers", ["dba"]),
        ),
        ("event_session_open.input=select 1", ("event_session_open.input", "select 1")),
        ('sid="1234"', ("sid", "1234")),
        ("event_session_open.input=", ("event_session_open.input", "")),
    ],
)
def test_parse_override_takes_json_else_string(text, expected):
    assert payloads.parse_override(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=1"])
def test_parse_override_rejects_missing_key_or_equals(text):
    with pytest.raises(PayloadError, match="KEY=VALUE"):
        payloads.parse_override(text)


def test_set_into_a_null_event_names_the_problem():
    built = payloads.synthetic("session-open")
    with pytest.raises(PayloadError, match="event_session_close is null, not an object"):
        payloads.set_path(built, "event_session_close.exit_code", 1)


def test_hoop_json_is_go_json_marshal():
    built = payloads.complete(
        payloads.synthetic("session-open", input="a<b && c>d \u2028"),
        "session-open",
        input_file="x",
    )
    text = payloads.hoop_json(built)
    assert "\\u003c" in text and "\\u0026\\u0026" in text and "\\u003e" in text
    assert "\\u2028" in text
    assert ", " not in text.split('"input"')[0]  # compact separators
    assert json.loads(text) == built
    assert list(json.loads(text)) == list(payloads.TOP_LEVEL_KEYS)


def test_hoop_json_writes_each_invalid_byte_as_the_six_byte_escape_go_writes():
    """A lone surrogate stands for a byte that is not UTF-8; Go's encoder writes \\ufffd."""
    built = payloads.synthetic("session-close", output="bad \udc80\udcff text \ufffd ok")
    text = payloads.hoop_json(built)
    assert "bad \\ufffd\\ufffd text \ufffd ok" in text  # a real U+FFFD stays a character
    assert json.loads(text)["event_session_close"]["output"] == "bad \ufffd\ufffd text \ufffd ok"


def test_canaries_are_connection_secrets_and_the_source():
    built = payloads.complete(
        payloads.synthetic("session-open"), "session-open", input_file="SRC = 1\n"
    )
    found = payloads.canaries(built)
    assert found['connection_envs["envvar:PASS"]'] == payloads.b64(
        payloads.CANARY_SECRETS["envvar:PASS"]
    )
    assert found["input_file"] == "SRC = 1\n"


def test_overriding_sid_moves_a_given_id_too():
    base = payloads.complete({"sid": "old"}, "session-close", input_file="")
    moved = payloads.complete(base, "session-close", input_file="", overrides=[("sid", "new")])
    assert moved["id"] == payloads.hook_id("session-close", "new")
    pinned = payloads.complete(
        base, "session-close", input_file="", overrides=[("sid", "new"), ("id", "x")]
    )
    assert pinned["id"] == "x"
