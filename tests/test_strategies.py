"""The payload strategies: always valid, and they reach the corners that break hooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from hoophooks_dk import payload as hoop
from hoophooks_dk.payload import MAX_ENV_STRING
from hoophooks_dk.schema import validate
from hoophooks_dk.strategies import (
    connection_envs,
    encoded_size,
    partial_payloads,
    payloads,
    reviewers,
    session_close_events,
    session_open_events,
    sids,
)

# find() reprs the long example it found; that is the point here, not a problem.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# Linux's MAX_ARG_STRLEN: one "NAME=value\0" in a process environment.
# Corner searches only need to hit: no shrinking (it would cost more than the search).
SEARCH = settings(
    max_examples=2_000,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize("event", [None, *hoop.EVENTS])
@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_every_payload_validates_and_carries_its_event(event, data):
    payload = data.draw(payloads(event))
    assert validate(payload) == []
    carried = hoop.event_of(payload)
    assert carried == (event or carried) and carried in hoop.EVENTS
    assert payload["id"] == hoop.hook_id(carried, payload["sid"])
    assert payload["command"] == ["python3"]
    assert UUID.match(payload["sid"])


@settings(max_examples=100, deadline=None, database=None)
@given(partial_payloads())
def test_partial_payloads_leave_what_the_emulator_fills_in(partial):
    assert set(partial) == {"sid", "event_session_open", "event_session_close"}
    event = hoop.event_of(partial)
    assert validate(hoop.complete(partial, event, input_file="print(1)\n")) == []


@settings(max_examples=50, deadline=None, database=None)
@given(payloads("session-close", input_file="print('mine')\n"))
def test_a_fixed_input_file_is_used_as_is(payload):
    assert payload["input_file"] == "print('mine')\n"


@settings(max_examples=200, deadline=None, database=None)
@given(payloads())
def test_payloads_fit_in_the_environment_variable_hoop_uses(payload):
    """Beside a hook of a few KB: the agent cannot start a hook with a larger variable."""
    text = hoop.hoop_json(payload | {"input_file": "x" * 8_000})
    assert len(f"HOOP_RUNBOOK_HOOK_PAYLOAD={text}".encode()) + 1 <= MAX_ENV_STRING


@settings(max_examples=200, deadline=None, database=None)
@given(payloads())
def test_no_lone_surrogates_which_hoop_cannot_carry(payload):
    assert hoop.hoop_json(payload).encode("utf-8")  # raises on a lone surrogate


def test_building_blocks_have_the_documented_shapes():
    assert list(find(session_open_events(), bool, settings=SEARCH)) == list(hoop.OPEN_KEYS)
    assert list(find(session_close_events(), bool, settings=SEARCH)) == list(hoop.CLOSE_KEYS)
    assert UUID.match(find(sids(), bool, settings=SEARCH))
    groups = find(reviewers(), bool, settings=SEARCH)
    assert groups and all(isinstance(group, str) and group for group in groups)


def _open(check: Callable[[dict[str, Any]], bool]) -> Callable[[dict], bool]:
    return lambda p: check(p["event_session_open"])


def _close(check: Callable[[dict[str, Any]], bool]) -> Callable[[dict], bool]:
    return lambda p: check(p["event_session_close"])


def _non_ascii(text: str) -> bool:
    return any(ord(c) > 127 for c in text)


CORNERS = {
    "null output": ("session-close", _close(lambda e: e["output"] is None)),
    "non-null output": ("session-close", _close(lambda e: e["output"] is not None)),
    "empty output": ("session-close", _close(lambda e: e["output"] == "")),
    "long output": ("session-close", _close(lambda e: len(e["output"] or "") > 4096)),
    "exit code -2": ("session-close", _close(lambda e: e["exit_code"] == -2)),
    "exit code 254": ("session-close", _close(lambda e: e["exit_code"] == 254)),
    "exit code 0": ("session-close", _close(lambda e: e["exit_code"] == 0)),
    "large exit code": ("session-close", _close(lambda e: e["exit_code"] > 255)),
    "10 KB+ input": ("session-open", _open(lambda e: len(e["input"]) >= 10_000)),
    "empty input": ("session-open", _open(lambda e: e["input"] == "")),
    "non-ASCII input": ("session-open", _open(lambda e: _non_ascii(e["input"]))),
    "NUL in input": ("session-open", _open(lambda e: "\x00" in e["input"])),
    "control char": ("session-open", _open(lambda e: any(c < " " for c in e["input"]))),
    "null reviewers": ("session-open", _open(lambda e: e["connection_reviewers"] is None)),
    "empty reviewers": ("session-open", _open(lambda e: e["connection_reviewers"] == [])),
    "reviewers": ("session-open", _open(lambda e: bool(e["connection_reviewers"]))),
    "null envs": ("session-open", _open(lambda e: e["connection_envs"] is None)),
    "empty envs": ("session-open", _open(lambda e: e["connection_envs"] == {})),
    "envvar": ("session-open", _open(lambda e: "envvar:PASS" in (e["connection_envs"] or {}))),
    "filesystem": (
        "session-open",
        _open(lambda e: any(k.startswith("filesystem:") for k in e["connection_envs"] or {})),
    ),
    "verb connect": ("session-open", _open(lambda e: e["verb"] == "connect")),
    "verb exec": ("session-open", _open(lambda e: e["verb"] == "exec")),
    "non-ASCII email": ("session-open", _open(lambda e: _non_ascii(e["user_email"]))),
    "an email": ("session-open", _open(lambda e: e["user_email"].endswith("@example.com"))),
    "machine identity": ("session-open", _open(lambda e: e["user_email"] == "")),
    "static API key": ("session-open", _open(lambda e: e["user_email"] == "API_KEY")),
    "a name, no @": (
        "session-open",
        _open(lambda e: len(e["user_email"]) > 8 > 0 and "@" not in e["user_email"]),
    ),
}


@pytest.mark.parametrize("corner", CORNERS)
def test_strategies_reach_the_corners_that_break_hooks(corner):
    event, condition = CORNERS[corner]
    found = find(payloads(event), condition, settings=SEARCH)
    assert validate(found) == []


def test_either_event_when_none_is_given():
    for event in hoop.EVENTS:
        find(payloads(), lambda p, e=event: hoop.event_of(p) == e, settings=SEARCH)


def test_envs_are_realistic_base64_secrets():
    envs = find(connection_envs(), lambda e: e is not None and len(e) >= 2, settings=SEARCH)
    for key, value in envs.items():
        assert re.match(r"^(envvar|filesystem):[A-Z_][A-Z0-9_]*$", key)
        assert re.match(r"^[A-Za-z0-9+/]*={0,2}$", value)


def test_long_texts_are_sized_by_their_encoded_bytes():
    def big(e):
        return encoded_size(e["input"]) > 50_000 and _non_ascii(e["input"])

    found = find(payloads("session-open"), _open(big), settings=SEARCH)
    assert encoded_size(found["event_session_open"]["input"]) <= 100_000
