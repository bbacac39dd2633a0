"""Delivery tests, the same for every template, written by `hookdk init`.

Every hook sends its request through the same delivery code (retry, give up, report in
one line). These tests check that behaviour for this template's hooks, with the settings
in hook_settings.py, next to this file (pinned by the `settings` fixture of conftest.py),
and what the `delivery` fixture of conftest.py reads there: where the hooks post, the
setting they cannot send without, how to read a request's idempotency key. The exact
requests of this template are checked in test_hoop_hooks.py.
"""

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_failing_collector_is_retried_then_reported(delivery, hoop_siem, status):
    delivery.route().respond(status, text="collector overloaded")

    for event in delivery.events:
        before = len(delivery.sent())
        result = delivery.fire(event)

        assert result.exit_code == 1
        assert len(delivery.sent()) - before == delivery.attempts
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert f"HTTP {status}" in result.output
        host = urlsplit(delivery.sent()[-1].url).hostname
        assert f"delivery to {host} failed" in result.output
        for secret in delivery.secrets:  # the output names the host only, never a secret
            assert secret not in result.output


def test_the_shipped_defaults_retry_a_failing_collector(delivery, monkeypatch):
    """The hooks as they ship, where that is safe in a test: HOOK_ATTEMPTS,
    HOOK_TIMEOUT_SECONDS and the settings in DEFAULTS (hook_settings.py) unset, so the
    hooks' own defaults apply (HOOK_RETRY_DELAY_SECONDS stays 0: its default only adds
    waiting). They post where those defaults say, over HTTPS, and a collector that keeps
    failing gets the shipped number of attempts."""
    for name in ("HOOK_ATTEMPTS", "HOOK_TIMEOUT_SECONDS", *delivery.defaults):
        monkeypatch.delenv(name, raising=False)
    delivery.default_route().respond(503, text="collector overloaded")

    for event in delivery.events:
        result = delivery.fire(event)

        assert result.exit_code == 1, result.output
        assert "HTTP 503" in result.output
        assert [q.url for q in result.requests if urlsplit(q.url).scheme != "https"] == []
        attempts = [request for request in result.requests if delivery.delivers(request)]
        assert len(attempts) == delivery.shipped_attempts


@pytest.mark.parametrize(
    "answers", [(503, 503, 200), (503, 429, 202), (503, 503, 201), (503, 503, 204)]
)
def test_collector_that_recovers_gets_the_event_once_delivered(delivery, hoop_siem, answers):
    for event in delivery.events:
        responses = [httpx.Response(status, text="ok") for status in answers]
        delivery.route().mock(side_effect=responses)
        before = len(delivery.sent())

        result = delivery.fire(event)

        assert result.ok, result.output
        retries = delivery.sent()[before:]
        assert len(retries) == 3
        assert {delivery.key(request) for request in retries} == {result.id}


@pytest.mark.parametrize("status", [400, 401, 403])
def test_rejected_event_is_not_retried(delivery, hoop_siem, status):
    delivery.route().respond(status, text="rejected: bad token")

    for event in delivery.events:
        before = len(delivery.sent())
        result = delivery.fire(event)

        assert result.exit_code == 1
        assert len(delivery.sent()) - before == 1  # a 4xx will not heal by retrying
        assert f"HTTP {status} rejected: bad token" in result.output


def test_missing_secret_fails_without_sending(delivery, hoop_siem, monkeypatch):
    monkeypatch.setenv(delivery.secret_setting, "")

    for event in delivery.events:
        result = delivery.fire(event)

        assert result.exit_code == 1
        assert delivery.secret_setting in result.output
    assert hoop_siem.requests == []


def test_every_request_carries_its_idempotency_key(delivery, hoop_siem):
    results = [delivery.fire(event) for event in delivery.events for _ in range(2)]

    assert all(r.ok for r in results), [r.output for r in results]
    assert len(delivery.sent()) == len(results)
    for result, request in zip(results, delivery.sent(), strict=True):
        assert delivery.key(request) == result.id


def test_a_session_reviewed_on_the_same_stream_delivers_one_key(delivery, hoop_hooks):
    """Hoop fires session-open twice with the same payload for a session reviewed on the
    same stream: both deliveries carry the payload id as their key, so the collector keeps
    one; the close has its own. The hooks run at once, as in Hoop: each result holds its
    own requests."""
    exit_code = delivery.event_fields.get("session-close", {}).get("exit_code", 0)
    results = hoop_hooks.session(review=True, reviewers=["dba-team"], exit_code=exit_code)

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    keys = [[delivery.key(q) for q in r.requests if delivery.delivers(q)] for r in results]
    assert keys[0] == keys[1] == [results[0].id]
    assert keys[2] == ([results[2].id] if "session-close" in delivery.events else [])
    assert results[2].id != results[0].id


@pytest.mark.parametrize("caller", ["deploy-bot", "API_KEY", ""])
def test_a_caller_without_an_email_is_delivered_all_the_same(delivery, hoop_siem, caller):
    """user_email is not always an email: Hoop sends an API key's or an AI agent's name,
    "API_KEY" for the gateway's own key and "" for a machine identity. The hooks deliver
    such a session-open as any other, the name as it came."""
    result = delivery.fire("session-open", user_email=caller)

    assert result.ok, result.output
    sent = delivery.sent()
    if "session-open" in delivery.events:
        assert [delivery.key(request) for request in sent] == [result.id]
        assert caller in sent[0].text
    else:
        assert sent == []


def test_a_collector_with_an_untrusted_certificate_gets_nothing(delivery, hoop_siem):
    """Something between the hook and its collector answers with a certificate from a CA
    the hook does not trust (the kit's capture does so on request): a hook that checks
    certificates sends nothing there and fails, in one line."""
    hoop_siem.untrusted_certificates = True

    for event in delivery.events:
        result = delivery.fire(event)

        assert result.exit_code == 1, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert hoop_siem.requests == []


def test_example_payloads(hoop_hooks, hoop_siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
    hoop_siem.assert_no_leaks()
