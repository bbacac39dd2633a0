"""Tests for the google-secops hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
Google Security Operations webhook feed received. The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin; no request leaves the
machine (`hoop_siem.router` answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

from hook_settings import API_KEY, FEED_SECRET, URL


def assert_feed_request(request):
    assert (request.method, request.url) == ("POST", URL)  # the keys are not in the URL
    assert request.header("X-goog-api-key") == API_KEY
    assert request.header("X-Webhook-Access-Key") == FEED_SECRET
    assert request.header("Content-Type") == "application/json"
    assert request.text.count("\n") == 0  # one event: the feed splits a body on newlines


def test_session_open_sends_one_event(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_feed_request(request)
    event = request.json()
    opened = result.payload["event_session_open"]
    assert event["event"] == "session-open"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert event["user_email"] == opened["user_email"]
    assert event["connection"]["name"] == opened["connection_name"]


def test_session_close_sends_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_feed_request(request)
    event = request.json()
    assert (event["event"], event["id"]) == ("session-close", result.id)
    assert (event["exit_code"], event["output"]) == (1, "ERROR: permission denied")


def test_missing_api_key_fails_without_sending(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("SECOPS_API_KEY", "")

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert "SECOPS_API_KEY is not set" in result.output
    assert hoop_siem.requests == []


def test_a_url_that_is_not_a_feed_endpoint_is_refused(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("SECOPS_FEED_URL", "https://eu-chronicle.googleapis.com/v1alpha/feeds")

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert ":importPushLogs" in result.output
    assert hoop_siem.requests == []


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    event = hoop_siem.requests[0].json()
    envs = result.payload["event_session_open"]["connection_envs"]
    assert event["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own request
    first, second, close = [r.requests[0].json() for r in results]
    assert first["id"] == second["id"] == results[0].id
    assert close["id"] == results[2].id != first["id"]
