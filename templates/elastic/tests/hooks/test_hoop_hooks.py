"""Tests for the elastic hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Elasticsearch received. The `hoop_hooks`, `siem` and `hook_payload` fixtures come from
the hoophooks_dk pytest plugin; no request leaves the machine (`siem.router` answers
them, with 200 unless a test programs otherwise).
"""

import json
from pathlib import Path

import httpx
import pytest

ELASTIC = "https://elastic.example.test:9200"
INDEX = "hoop-sessions-test"
API_KEY = "dGVzdDp0ZXN0LWtleS1lNDFh"
ATTEMPTS = 3
PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    monkeypatch.setenv("ELASTIC_URL", ELASTIC)
    monkeypatch.setenv("ELASTIC_API_KEY", API_KEY)
    monkeypatch.setenv("ELASTIC_INDEX", INDEX)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


def document_url(event_id):
    """_create with the payload id: Elasticsearch refuses a second document with that id."""
    return f"{ELASTIC}/{INDEX}/_create/{event_id}"


def test_session_open_creates_one_document(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("PUT", document_url(result.id))
    assert request.header("Authorization") == "ApiKey " + API_KEY
    assert request.header("Content-Type") == "application/json"
    document = request.json()
    opened = result.payload["event_session_open"]
    assert document["@timestamp"] == document["time"]
    assert document["event"] == "session-open"
    assert (document["id"], document["sid"]) == (result.id, result.sid)
    assert document["user_email"] == opened["user_email"]
    assert document["connection"]["name"] == opened["connection_name"]
    assert document["input"] == opened["input"]


def test_session_close_creates_the_outcome_document(hoop_hooks, siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("PUT", document_url(result.id))
    assert request.header("Authorization") == "ApiKey " + API_KEY
    document = request.json()
    assert document["event"] == "session-close"
    assert (document["exit_code"], document["output"]) == (1, "ERROR: permission denied")


def test_secrets_are_never_forwarded(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    document = siem.requests[0].json()
    envs = result.payload["event_session_open"]["connection_envs"]
    assert document["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in siem.requests[0].text


def test_every_event_carries_its_idempotency_key(hoop_hooks, siem):
    results = [hoop_hooks.fire("session-open"), hoop_hooks.fire("session-close")]

    assert len(siem.requests) == 2
    for result, request in zip(results, siem.requests):
        assert request.url == document_url(result.id)  # the document id
        assert request.json()["id"] == result.id


def test_reviewed_session_second_open_is_already_indexed(hoop_hooks, siem):
    created, conflict = httpx.Response(201), httpx.Response(409, json={"status": 409})
    siem.router.put(url__startswith=f"{ELASTIC}/{INDEX}/_create/").mock(
        side_effect=[created, conflict, created]
    )

    results = hoop_hooks.session(review=True)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = siem.requests
    assert first.url == second.url == document_url(results[0].id)
    assert "already indexed" in results[1].output
    assert first.json()["review"] == {"required": True, "reviewers": ["dba-team"]}
    assert close.url == document_url(results[2].id)


def test_null_fields_from_hoop_are_handled(hoop_hooks, hook_payload, siem):
    opened = hook_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_document, close_document = [request.json() for request in siem.requests]
    assert open_document["connection"]["env_keys"] == []
    assert open_document["review"]["reviewers"] == []
    assert close_document["output"] is None  # a clean close sends output: null


def test_failing_cluster_is_retried_then_reported(hoop_hooks, siem):
    siem.router.put(url__startswith=ELASTIC).respond(503)

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert len(siem.requests) == ATTEMPTS
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "HTTP 503" in result.output


def test_cluster_that_recovers_gets_the_document_once_delivered(hoop_hooks, siem):
    answers = [httpx.Response(503), httpx.Response(503), httpx.Response(201)]
    siem.router.put(url__startswith=ELASTIC).mock(side_effect=answers)

    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    assert [r.url for r in siem.requests] == [document_url(result.id)] * 3


def test_rejected_api_key_is_not_retried(hoop_hooks, siem):
    siem.router.put(url__startswith=ELASTIC).respond(401, json={"status": 401})

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert len(siem.requests) == 1  # a 4xx will not heal by retrying
    assert "HTTP 401" in result.output


def test_missing_api_key_fails_without_sending(hoop_hooks, siem, monkeypatch):
    monkeypatch.setenv("ELASTIC_API_KEY", "")

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert "ELASTIC_API_KEY" in result.output
    assert siem.requests == []


def test_example_payloads(hoop_hooks, siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    siem.assert_no_leaks()
