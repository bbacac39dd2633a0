"""Tests for the siem-http hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
collector received. The `hoop_hooks`, `siem` and `hook_payload` fixtures come from the
hoophooks_dk pytest plugin; no request leaves the machine (`siem.router` answers them,
with 200 unless a test programs otherwise).
"""

import json
from pathlib import Path

import httpx
import pytest

URL = "https://siem.example.test/hoop/events"
TOKEN = "test-token-7d1c"
ATTEMPTS = 3
PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    monkeypatch.setenv("SIEM_URL", URL)
    monkeypatch.setenv("SIEM_TOKEN", TOKEN)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


def test_session_open_sends_one_event(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Authorization") == "Bearer " + TOKEN
    assert request.header("Content-Type") == "application/json"
    event = request.json()
    opened = result.payload["event_session_open"]
    assert event["event"] == "session-open"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert event["user_email"] == opened["user_email"]
    assert event["verb"] == opened["verb"]
    assert event["connection"]["name"] == opened["connection_name"]
    assert event["input"] == opened["input"]
    assert event["review"] == {"required": False, "reviewers": []}


def test_session_close_sends_the_outcome(hoop_hooks, siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Authorization") == "Bearer " + TOKEN
    event = request.json()
    assert event["event"] == "session-close"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert (event["exit_code"], event["output"]) == (1, "ERROR: permission denied")


def test_secrets_are_never_forwarded(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    event = siem.requests[0].json()
    envs = result.payload["event_session_open"]["connection_envs"]
    assert event["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in json.dumps(event)
    assert "connection_envs" not in json.dumps(event)


def test_every_event_carries_its_idempotency_key(hoop_hooks, siem):
    results = [hoop_hooks.fire("session-open"), hoop_hooks.fire("session-close")]

    for result, request in zip(results, siem.requests):
        assert request.header("Idempotency-Key") == result.id
        assert request.json()["id"] == result.id


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, siem):
    results = hoop_hooks.session(review=True)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = [request.json() for request in siem.requests]
    assert first["id"] == second["id"] == results[0].id  # the collector dedupes on this
    assert first["review"] == {"required": True, "reviewers": ["dba-team"]}
    assert close["id"] == results[2].id != first["id"]


def test_null_fields_from_hoop_are_handled(hoop_hooks, hook_payload, siem):
    opened = hook_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [request.json() for request in siem.requests]
    assert open_event["connection"]["env_keys"] == []
    assert open_event["review"]["reviewers"] == []
    assert close_event["output"] is None  # a clean close sends output: null


def test_failing_collector_is_retried_then_reported(hoop_hooks, siem):
    siem.router.post(URL).respond(503, text="collector overloaded")

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert len(siem.requests) == ATTEMPTS
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "HTTP 503" in result.output


def test_collector_that_recovers_gets_the_event_once_delivered(hoop_hooks, siem):
    answers = [httpx.Response(503), httpx.Response(503), httpx.Response(200)]
    siem.router.post(URL).mock(side_effect=answers)

    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    assert len(siem.requests) == 3
    assert {r.header("Idempotency-Key") for r in siem.requests} == {result.id}


def test_rejected_event_is_not_retried(hoop_hooks, siem):
    siem.router.post(URL).respond(401, json={"error": "bad token"})

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert len(siem.requests) == 1  # a 4xx will not heal by retrying
    assert "HTTP 401" in result.output


def test_missing_token_fails_without_sending(hoop_hooks, siem, monkeypatch):
    monkeypatch.setenv("SIEM_TOKEN", "")

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert "SIEM_TOKEN" in result.output
    assert siem.requests == []


def test_example_payloads(hoop_hooks, siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    siem.assert_no_leaks()
