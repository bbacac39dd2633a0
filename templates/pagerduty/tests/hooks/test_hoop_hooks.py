"""Tests for the pagerduty hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
PagerDuty's Events API received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router`
answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import pytest
from hook_settings import ROUTING_KEY, URL


def only_alert(hoop_siem):
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    alert = request.json()
    assert (alert["routing_key"], alert["event_action"]) == (ROUTING_KEY, "trigger")
    return alert


def test_opening_a_chosen_connection_raises_an_alert(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    alert = only_alert(hoop_siem)
    opened = result.payload["event_session_open"]
    assert alert["dedup_key"] == result.id
    details = alert["payload"]
    assert details["summary"] == f"{opened['user_email']} opened pg-prod (exec)"
    assert (details["source"], details["severity"]) == ("hoop-gateway", "warning")
    assert (details["component"], details["class"]) == ("pg-prod", "session-open")
    assert details["custom_details"]["sid"] == result.sid
    assert details["timestamp"].endswith("Z")


def test_opening_another_connection_sends_nothing(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open", connection_name="sandbox")

    assert result.ok, result.output
    assert "no alert, connection sandbox is not in PAGERDUTY_CONNECTIONS" in result.output
    assert hoop_siem.requests == []


def test_a_star_chooses_every_connection(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_CONNECTIONS", "*")

    result = hoop_hooks.fire("session-open", connection_name="sandbox")

    assert result.ok, result.output
    assert only_alert(hoop_siem)["payload"]["component"] == "sandbox"


@pytest.mark.parametrize("exit_code", [1, 2, -2])
def test_a_failed_session_raises_an_alert(hoop_hooks, hoop_siem, exit_code):
    result = hoop_hooks.fire("session-close", exit_code=exit_code, output="ERROR: no\nmore")

    assert result.ok, result.output
    alert = only_alert(hoop_siem)
    assert alert["dedup_key"] == result.id
    details = alert["payload"]
    assert (
        details["summary"] == f"session {result.sid} failed with exit code {exit_code}: ERROR: no"
    )
    assert (details["severity"], details["class"]) == ("error", "session-close")
    assert details["custom_details"]["exit_code"] == exit_code
    assert "component" not in details  # a close payload does not name the connection


def test_a_clean_session_sends_nothing(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=0)

    assert result.ok, result.output
    assert "no alert, the session ended with exit code 0" in result.output
    assert hoop_siem.requests == []


def test_a_severity_pagerduty_would_refuse_fails_without_sending(
    hoop_hooks, hoop_siem, monkeypatch
):
    monkeypatch.setenv("PAGERDUTY_FAILED_SEVERITY", "high")

    result = hoop_hooks.fire("session-close", exit_code=1)

    assert result.exit_code == 1
    assert "'high' is not one of critical, error, warning, info" in result.output
    assert hoop_siem.requests == []


def test_reviewed_session_is_one_alert(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"], exit_code=1)

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own request
    first, second, close = [r.requests[0].json() for r in results]
    assert first["dedup_key"] == second["dedup_key"] == results[0].id
    assert close["dedup_key"] == results[2].id != first["dedup_key"]


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    details = hoop_siem.requests[0].json()["payload"]["custom_details"]
    envs = result.payload["event_session_open"]["connection_envs"]
    assert details["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in hoop_siem.requests[0].text
