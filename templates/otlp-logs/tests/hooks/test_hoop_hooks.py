"""Tests for the otlp-logs hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
OpenTelemetry Collector received (OTLP/HTTP, JSON encoding). The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin; no request leaves the
machine (`hoop_siem.router` answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import datetime

from hook_settings import TOKEN, URL, only_record, values


def assert_otlp_request(request):
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    assert request.header("Authorization") == "Bearer " + TOKEN  # percent-decoded
    assert request.header("X-Scope-OrgID") == "platform"


def test_session_open_exports_one_log_record(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_otlp_request(request)
    resource, scope, record = only_record(request)
    assert resource == {"service.name": "hoop-gateway", "deployment.environment.name": "test"}
    assert scope == {"name": "hoop-runbook-hook"}
    assert (record["severityNumber"], record["severityText"]) == (9, "INFO")
    assert record["eventName"] == "hoop.session.open"
    opened = result.payload["event_session_open"]
    assert record["body"] == {
        "stringValue": f"{opened['user_email']} opened {opened['connection_name']} (exec)"
    }
    attributes = values(record["attributes"])
    assert attributes["log.record.uid"] == result.id
    assert attributes["session.id"] == result.sid
    assert attributes["user.email"] == opened["user_email"]
    assert attributes["hoop.connection.name"] == opened["connection_name"]
    assert attributes["hoop.connection.env_keys"] == sorted(opened["connection_envs"])
    assert attributes["hoop.review.required"] is False
    assert attributes["hoop.input"] == opened["input"]


def test_times_are_nanosecond_strings_of_now(hoop_hooks, hoop_siem):
    before = datetime.datetime.now(datetime.timezone.utc).timestamp()
    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    record = only_record(hoop_siem.requests[0])[2]
    stamp = record["timeUnixNano"]
    assert isinstance(stamp, str) and stamp == record["observedTimeUnixNano"]
    assert before - 1 < int(stamp) / 1e9 < before + 60


def test_failed_session_close_is_an_error_record(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_otlp_request(request)
    record = only_record(request)[2]
    assert (record["severityNumber"], record["severityText"]) == (17, "ERROR")
    assert record["eventName"] == "hoop.session.close"
    attributes = values(record["attributes"])
    assert attributes["process.exit.code"] == 1
    assert attributes["hoop.output"] == "ERROR: permission denied"
    assert attributes["log.record.uid"] == result.id


def test_a_logs_endpoint_is_used_as_it_is(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://logs.example.test/otlp")

    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    assert hoop_siem.requests[0].url == "https://logs.example.test/otlp"


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    opened, closed = [values(only_record(r)[2]["attributes"]) for r in hoop_siem.requests]
    assert opened["hoop.connection.env_keys"] == opened["hoop.review.reviewers"] == []
    assert "hoop.output" not in closed  # a clean close has output null: left out
    assert closed["process.exit.code"] == 0


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_uid(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own request
    first, second, close = [values(only_record(r.requests[0])[2]["attributes"]) for r in results]
    assert first["log.record.uid"] == second["log.record.uid"] == results[0].id
    assert first["hoop.review.reviewers"] == ["dba-team"]
    assert close["log.record.uid"] == results[2].id != first["log.record.uid"]
