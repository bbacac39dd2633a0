"""The JSON Schemas of the deprecated Svix session.open and session.close events.

They describe what Hoop's gateway sent through Svix (docs/hoop-runtime.md section 6;
gateway/transport/plugins/webhooks/webhooks.go) and what svix-compat re-creates. The
hook's real bodies are checked against them in test_scaffold.py; here, the schemas
themselves: well formed, shipped, accepting what the gateway sent and nothing else.
"""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from hoophooks_dk.resources import read_schema_text
from hoophooks_dk.schema import validate

OPEN = "svix-session-open.schema.json"
CLOSE = "svix-session-close.schema.json"

# The example of Hoop's own session.open.schema.json, as the gateway really sent it.
HOOP_OPEN_EXAMPLE = {
    "command": ["bash"],
    "connection": "bash",
    "connection_envs": None,
    "connection_type": "custom",
    "event_type": "session.open",
    "has_input_args": False,
    "id": "8bfc995b-4f15-483b-8423-33f634865f14",
    "input": "ZWNobyBmb29iYXI=",
    "input_envs": [],
    "input_size": 11,
    "is_input_truncated": False,
    "review": {"owner_email": "john.doe@hoop.dev", "status": "PROCESSING", "type": "onetime"},
    "user_email": "john.doe@hoop.dev",
    "user_id": "google-oauth2|224363319008942157048",
    "verb": "exec",
}
CLOSE_EXAMPLE = {"event_type": "session.close", "id": "8bfc995b", "exit_code": 1, "exit_err": "x"}


@pytest.mark.parametrize("name", [OPEN, CLOSE])
def test_schema_is_valid_draft_2020_12_and_its_examples_validate(name):
    schema = json.loads(read_schema_text(name))  # read as shipped, through the package

    Draft202012Validator.check_schema(schema)
    for example in schema["examples"]:
        assert validate(example, name) == []


def test_the_gateways_session_open_validates():
    assert validate(HOOP_OPEN_EXAMPLE, OPEN) == []
    without_review = HOOP_OPEN_EXAMPLE | {"review": None, "connection_envs": ["envvar:PASS"]}
    assert validate(without_review, OPEN) == []


def test_the_gateways_session_close_validates_with_and_without_error_output():
    assert validate(CLOSE_EXAMPLE, CLOSE) == []
    assert validate(CLOSE_EXAMPLE | {"exit_code": -100, "exit_err": None}, CLOSE) == []


def changed(example: dict, path: str, value=...) -> dict:
    """A copy with ``path`` (dotted) set to ``value``, or removed when no value is given."""
    result = copy.deepcopy(example)
    *parents, last = path.split(".")
    target = result
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return result


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("event_type", "session.close", "session.open"),
        ("input_size", "11", "expected integer"),
        ("connection_envs", {"envvar:PASS": "czNjcjN0"}, "expected array or null"),
        ("input", "not base64!", "does not match"),
        ("review.status", ..., "status"),
        ("command", "bash", "expected array or null"),
        ("verb", ..., "verb"),
        ("extra", 1, "unknown key(s) 'extra'"),
    ],
)
def test_session_open_rejects(path, value, message):
    violations = validate(changed(HOOP_OPEN_EXAMPLE, path, value), OPEN)

    assert violations, (path, value)
    assert any(message in str(v) for v in violations), violations


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("event_type", "session.open", "session.close"),
        ("exit_code", "1", "expected integer"),
        ("exit_err", ..., "exit_err"),
        ("connection", "pg", "unknown key(s) 'connection'"),
    ],
)
def test_session_close_rejects(path, value, message):
    violations = validate(changed(CLOSE_EXAMPLE, path, value), CLOSE)

    assert violations, (path, value)
    assert any(message in str(v) for v in violations), violations
