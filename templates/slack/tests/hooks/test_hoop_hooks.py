"""Tests for the slack hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Slack's incoming webhook received. The `hoop_hooks`, `siem` and `hook_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`siem.router`
answers them, with 200 unless a test programs otherwise).
"""

import json
from pathlib import Path

import httpx
import pytest

URL = "https://hooks.slack.com/services/T0TEST/B0TEST/test-webhook-secret-1f9c"
ATTEMPTS = 3
PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", URL)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


def texts(request):
    """Every mrkdwn text of a Block Kit message, the fallback text first."""
    message = request.json()
    found = [message["text"]]
    for block in message["blocks"]:
        found += [block["text"]["text"]] if "text" in block else []
        found += [element["text"] for element in block.get("elements", [])]
    return found


def test_session_open_posts_one_message(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    opened = result.payload["event_session_open"]
    text, section, context = texts(request)
    assert text == section
    assert f"{opened['user_email']} opened *{opened['connection_name']}* (exec)" in text
    assert "Review requested" not in text
    assert result.id in context and result.sid in context


def test_review_request_names_reviewers_and_shows_the_input(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team", "security"])

    assert result.ok, result.output
    text = texts(siem.requests[0])[0]
    assert "*Review requested*" in text
    assert "Reviewers: dba-team, security" in text
    assert "```SELECT id, email FROM customers" in text


def test_session_close_posts_the_outcome(hoop_hooks, siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: a < b & c")

    assert result.ok, result.output
    [request] = siem.requests
    assert (request.method, request.url) == ("POST", URL)
    text = texts(request)[0]
    assert f"Session `{result.sid}` failed (exit code 1)" in text
    assert "```ERROR: a &lt; b &amp; c```" in text  # escaped for Slack's mrkdwn


def test_secrets_are_never_forwarded(hoop_hooks, siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.ok, result.output
    siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    assert "envvar:" not in siem.requests[0].text
    assert "input_file" not in siem.requests[0].text


def test_every_message_carries_its_idempotency_key(hoop_hooks, siem):
    results = [hoop_hooks.fire("session-open"), hoop_hooks.fire("session-close")]

    assert len(siem.requests) == 2
    for result, request in zip(results, siem.requests):
        assert f"event id `{result.id}`" in texts(request)[-1]


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, siem):
    results = hoop_hooks.session(review=True)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = siem.requests
    assert f"event id `{results[0].id}`" in texts(first)[-1]
    assert texts(first) == texts(second)  # Slack cannot dedupe: the same message twice
    assert "*Review requested*" in texts(first)[0]
    assert f"event id `{results[2].id}`" in texts(close)[-1]


def test_null_fields_from_hoop_are_handled(hoop_hooks, hook_payload, siem):
    opened = hook_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    close_text = texts(siem.requests[1])[0]
    assert "closed (exit code 0)" in close_text
    assert "```" not in close_text  # output null: no code block


def test_failing_webhook_is_retried_then_reported(hoop_hooks, siem):
    siem.router.post(URL).respond(500, text="internal_error")

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert len(siem.requests) == ATTEMPTS
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "HTTP 500" in result.output
    assert "test-webhook-secret" not in result.output  # the URL is a secret: host only


def test_webhook_that_recovers_gets_the_message_once_delivered(hoop_hooks, siem):
    answers = [httpx.Response(503), httpx.Response(429), httpx.Response(200, text="ok")]
    siem.router.post(URL).mock(side_effect=answers)

    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    assert len(siem.requests) == 3


def test_invalid_payload_is_not_retried(hoop_hooks, siem):
    siem.router.post(URL).respond(400, text="invalid_blocks")

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert len(siem.requests) == 1  # a 4xx will not heal by retrying
    assert "HTTP 400 invalid_blocks" in result.output


def test_missing_webhook_url_fails_without_sending(hoop_hooks, siem, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "")

    result = hoop_hooks.fire("session-open")

    assert result.exit_code == 1
    assert "SLACK_WEBHOOK_URL" in result.output
    assert siem.requests == []


def test_example_payloads(hoop_hooks, siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    siem.assert_no_leaks()
