"""Tests for the datadog-logs hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Datadog's logs intake received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router`
answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

from hook_settings import API_KEY, URL, only_log


def test_session_open_sends_one_log(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("DD-API-KEY") == API_KEY
    assert request.header("Content-Type") == "application/json"
    log = only_log(request)
    opened = result.payload["event_session_open"]
    assert (log["ddsource"], log["service"]) == ("hoop", "hoop")
    assert log["ddtags"].split(",") == [
        "event:session-open",
        "connection:" + opened["connection_name"],
        "verb:" + opened["verb"],
        "review_required:false",
        "env:test",
        "team:platform",
    ]
    assert log["message"] == f"{opened['user_email']} opened {opened['connection_name']} (exec)"
    assert (log["hoop"]["id"], log["hoop"]["sid"]) == (result.id, result.sid)
    assert log["hoop"]["input"] == opened["input"]


def test_session_close_sends_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("DD-API-KEY") == API_KEY
    log = only_log(request)
    assert log["ddtags"].split(",")[:2] == ["event:session-close", "exit_code:1"]
    assert (log["hoop"]["exit_code"], log["hoop"]["output"]) == (1, "ERROR: permission denied")
    assert log["hoop"]["id"] == result.id


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    event = only_log(hoop_siem.requests[0])["hoop"]
    envs = result.payload["event_session_open"]["connection_envs"]
    assert event["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own request
    first, second, close = [only_log(r.requests[0])["hoop"] for r in results]
    assert first["id"] == second["id"] == results[0].id
    assert first["review"] == {"required": True, "reviewers": ["dba-team"]}
    assert close["id"] == results[2].id != first["id"]


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [only_log(request)["hoop"] for request in hoop_siem.requests]
    assert open_event["connection"]["env_keys"] == []
    assert open_event["review"]["reviewers"] == []
    assert close_event["output"] is None  # a clean close sends output: null
