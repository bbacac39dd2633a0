"""Tests for the sumo-logic hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
Sumo Logic HTTP source received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router`
answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

from hook_settings import SETTINGS, URL


def assert_sumo_request(request):
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-Sumo-Category") == SETTINGS["SUMO_CATEGORY"]
    assert request.header("X-Sumo-Name") == SETTINGS["SUMO_NAME"]
    assert request.header("X-Sumo-Host") == SETTINGS["SUMO_HOST"]
    assert request.text.count("\n") == 0  # one line: the source logs it as one message


def test_session_open_sends_one_log_line(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_sumo_request(request)
    event = request.json()
    opened = result.payload["event_session_open"]
    assert event["event"] == "session-open"
    assert (event["id"], event["sid"]) == (result.id, result.sid)
    assert event["user_email"] == opened["user_email"]
    assert event["connection"]["name"] == opened["connection_name"]
    assert event["input"] == opened["input"]


def test_session_close_sends_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_sumo_request(request)
    event = request.json()
    assert (event["event"], event["id"]) == ("session-close", result.id)
    assert (event["exit_code"], event["output"]) == (1, "ERROR: permission denied")


def test_empty_metadata_settings_send_no_header(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("SUMO_HOST", "")

    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert request.header("X-Sumo-Host") is None  # the source's own host name applies
    assert request.header("X-Sumo-Category") == SETTINGS["SUMO_CATEGORY"]


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


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [request.json() for request in hoop_siem.requests]
    assert open_event["connection"]["env_keys"] == []
    assert close_event["output"] is None  # a clean close sends output: null
