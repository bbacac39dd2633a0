"""Tests for the teams-review hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
Microsoft Teams webhook received. The `hoop_hooks`, `siem` and `hook_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`siem.router`
answers them, with 200 unless a test programs otherwise).
"""

import json
from pathlib import Path

import httpx
import pytest

URL = "https://example.webhook.office.com/webhookb2/test-webhook-secret-c0de"
HOOP = "https://hoop.example.test"
ATTEMPTS = 3
PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", URL)
    monkeypatch.setenv("HOOP_APP_URL", HOOP)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


def card_of(request):
    """The Adaptive Card inside a Teams message."""
    message = request.json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def facts_of(card):
    [fact_set] = [block for block in card["body"] if block["type"] == "FactSet"]
    return {fact["title"]: fact["value"] for fact in fact_set["facts"]}


def test_reviewed_open_posts_a_review_card(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team", "security"])

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    card = card_of(request)
    opened = result.payload["event_session_open"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert facts_of(card) == {
        "Created By": opened["user_email"],
        "Approval Groups": "dba-team, security",
        "Connection": opened["connection_name"],
        "Verb": opened["verb"],
        "Event id": result.id,
    }
    [code] = [block for block in card["body"] if block["type"] == "CodeBlock"]
    assert (code["codeSnippet"], code["language"]) == (opened["input"], "SQL")
    [action] = card["actions"]
    assert action["url"] == f"{HOOP}/sessions/{result.sid}"


def test_open_without_reviewers_sends_nothing(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")  # connection_reviewers is null

    assert result.ok, result.output
    assert "no card sent" in result.output
    assert siem.requests == []


def test_close_sends_nothing(hoop_hooks, siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: boom")

    assert result.ok, result.output
    assert siem.requests == []


def test_secrets_are_never_forwarded(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.ok, result.output
    siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    assert "envvar:" not in siem.requests[0].text
    assert "input_file" not in siem.requests[0].text


def test_every_card_carries_its_idempotency_key(hoop_hooks, siem):
    results = [hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])]
    results.append(hoop_hooks.fire("session-open", connection_reviewers=["dba-team"]))

    assert len(siem.requests) == 2
    for result, request in zip(results, siem.requests):
        assert facts_of(card_of(request))["Event id"] == result.id


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, siem):
    results = hoop_hooks.session(review=True)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second = siem.requests  # the close sends nothing
    assert facts_of(card_of(first))["Event id"] == results[0].id
    assert first.json() == second.json()  # Teams cannot dedupe: the same card twice


def test_null_fields_from_hoop_are_handled(hoop_hooks, hook_payload, siem):
    opened = hook_payload(
        "session-open", connection_envs=None, connection_reviewers=["dba-team"], input=""
    )
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    card = card_of(siem.requests[0])
    assert "CodeBlock" not in [block["type"] for block in card["body"]]  # no input, no code


def test_failing_webhook_is_retried_then_reported(hoop_hooks, siem):
    siem.router.post(URL).respond(502)

    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.exit_code == 1
    assert len(siem.requests) == ATTEMPTS
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "HTTP 502" in result.output
    assert "test-webhook-secret" not in result.output  # the URL is a secret: host only


def test_webhook_that_recovers_gets_the_card_once_delivered(hoop_hooks, siem):
    answers = [httpx.Response(503), httpx.Response(503), httpx.Response(202)]
    siem.router.post(URL).mock(side_effect=answers)

    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.ok, result.output
    assert len(siem.requests) == 3


def test_rejected_card_is_not_retried(hoop_hooks, siem):
    siem.router.post(URL).respond(400, text="Bad payload")

    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.exit_code == 1
    assert len(siem.requests) == 1  # a 4xx will not heal by retrying
    assert "HTTP 400" in result.output


def test_missing_webhook_url_fails_without_sending(hoop_hooks, siem, monkeypatch):
    monkeypatch.setenv("TEAMS_WEBHOOK_URL", "")

    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.exit_code == 1
    assert "TEAMS_WEBHOOK_URL" in result.output
    assert siem.requests == []


def test_example_payloads(hoop_hooks, siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    siem.assert_no_leaks()
