"""Tests for the splunk-hec hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Splunk's HTTP Event Collector received. The `hoop_hooks`, `siem` and `hook_payload`
fixtures come from the hoophooks_dk pytest plugin; no request leaves the machine
(`siem.router` answers them, with 200 unless a test programs otherwise).
"""

import json
from pathlib import Path

import httpx
import pytest

URL = "https://splunk.example.test:8088/services/collector/event"
TOKEN = "test-hec-token-5b2e"
ATTEMPTS = 3
PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    monkeypatch.setenv("SPLUNK_HEC_URL", URL)
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", TOKEN)
    monkeypatch.setenv("SPLUNK_INDEX", "hoop")
    monkeypatch.setenv("SPLUNK_SOURCE", "hoop")
    monkeypatch.setenv("SPLUNK_SOURCETYPE", "hoop:session")
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


def test_session_open_sends_a_hec_event(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Authorization") == "Splunk " + TOKEN
    body = request.json()
    assert (body["index"], body["source"], body["sourcetype"]) == ("hoop", "hoop", "hoop:session")
    assert isinstance(body["time"], (int, float))
    event = body["event"]
    opened = result.payload["event_session_open"]
    assert event["event"] == "session-open"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert event["user_email"] == opened["user_email"]
    assert event["connection"]["name"] == opened["connection_name"]
    assert event["input"] == opened["input"]


def test_session_close_sends_the_outcome(hoop_hooks, siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Authorization") == "Splunk " + TOKEN
    event = request.json()["event"]
    assert event["event"] == "session-close"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert (event["exit_code"], event["output"]) == (1, "ERROR: permission denied")


def test_secrets_are_never_forwarded(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    event = siem.requests[0].json()["event"]
    envs = result.payload["event_session_open"]["connection_envs"]
    assert event["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in siem.requests[0].text


def test_every_event_carries_its_idempotency_key(hoop_hooks, siem):
    results = [hoop_hooks.fire("session-open"), hoop_hooks.fire("session-close")]

    assert len(siem.requests) == 2
    for result, request in zip(results, siem.requests):
        assert request.json()["event"]["id"] == result.id  # search with `| dedup id`


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, siem):
    results = hoop_hooks.session(review=True)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = [request.json()["event"] for request in siem.requests]
    assert first["id"] == second["id"] == results[0].id
    assert first["review"] == {"required": True, "reviewers": ["dba-team"]}
    assert close["id"] == results[2].id != first["id"]


def test_null_fields_from_hoop_are_handled(hoop_hooks, hook_payload, siem):
    opened = hook_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [request.json()["event"] for request in siem.requests]
    assert open_event["connection"]["env_keys"] == []
    assert open_event["review"]["reviewers"] == []
    assert close_event["output"] is None  # a clean close sends output: null


def test_failing_collector_is_retried_then_reported(hoop_hooks, siem):
    siem.router.post(URL).respond(503, json={"text": "Server is busy", "code": 9})

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
    assert {r.json()["event"]["id"] for r in siem.requests} == {result.id}


def test_rejected_token_is_not_retried(hoop_hooks, siem):
    siem.router.post(URL).respond(403, json={"text": "Invalid token", "code": 4})

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert len(siem.requests) == 1  # a 4xx will not heal by retrying
    assert "HTTP 403" in result.output and "Invalid token" in result.output


def test_missing_token_fails_without_sending(hoop_hooks, siem, monkeypatch):
    monkeypatch.setenv("SPLUNK_HEC_TOKEN", "")

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert "SPLUNK_HEC_TOKEN" in result.output
    assert siem.requests == []


def test_example_payloads(hoop_hooks, siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    siem.assert_no_leaks()
