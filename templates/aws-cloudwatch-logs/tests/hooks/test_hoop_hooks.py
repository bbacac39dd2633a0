"""Tests for the aws-cloudwatch-logs hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
CloudWatch Logs received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures come from
the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router` answers
them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import datetime
import re

import httpx
from hook_settings import ACCESS_KEY_ID, REGION, TARGET, URL, action_route, only_event

AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>\w+)/(?P<day>\d{8})/(?P<region>[\w-]+)/logs/"
    r"aws4_request, SignedHeaders=(?P<signed>[\w;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def assert_signed_put(request):
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/x-amz-json-1.1"
    assert request.header("X-Amz-Target") == TARGET + "PutLogEvents"
    match = AUTHORIZATION.fullmatch(request.header("Authorization"))
    assert match, request.header("Authorization")
    assert (match["key"], match["region"]) == (ACCESS_KEY_ID, REGION)
    assert match["day"] == request.header("X-Amz-Date")[:8]
    return match


def test_session_open_puts_one_signed_log_event(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    match = assert_signed_put(request)
    assert match["signed"] == "content-type;host;x-amz-date;x-amz-target"
    timestamp, message = only_event(request)
    sent = datetime.datetime.strptime(request.header("X-Amz-Date"), "%Y%m%dT%H%M%SZ")
    assert abs(timestamp / 1000 - sent.replace(tzinfo=datetime.timezone.utc).timestamp()) < 5
    opened = result.payload["event_session_open"]
    assert (message["event"], message["id"], message["sid"]) == (
        "session-open",
        result.id,
        result.sid,
    )
    assert message["connection"]["name"] == opened["connection_name"]
    assert message["input"] == opened["input"]


def test_session_close_puts_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert_signed_put(request)
    message = only_event(request)[1]
    assert (message["exit_code"], message["output"]) == (1, "ERROR: permission denied")


def test_temporary_credentials_sign_the_session_token(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "test-session-token")

    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    match = assert_signed_put(request)
    assert request.header("X-Amz-Security-Token") == "test-session-token"
    assert match["signed"] == "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"


def test_a_missing_stream_fails_when_creating_is_off(hoop_hooks, hoop_siem):
    not_found = {
        "__type": "ResourceNotFoundException",
        "message": "The specified log stream does not exist.",
    }
    hoop_siem.router.route(**action_route("PutLogEvents")).respond(400, json=not_found)

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert "ResourceNotFoundException" in result.output
    assert len(hoop_siem.requests) == 1


def test_a_missing_group_and_stream_are_created_when_asked(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("CLOUDWATCH_CREATE_MISSING", "true")
    not_found = {
        "__type": "ResourceNotFoundException",
        "message": "The specified log group does not exist.",
    }
    hoop_siem.router.route(**action_route("PutLogEvents")).mock(
        side_effect=[httpx.Response(400, json=not_found), httpx.Response(200, json={})]
    )
    exists = {"__type": "ResourceAlreadyExistsException", "message": "already exists"}
    hoop_siem.router.route(**action_route("CreateLogGroup")).respond(400, json=exists)

    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    targets = [
        request.header("X-Amz-Target").removeprefix(TARGET) for request in hoop_siem.requests
    ]
    assert targets == ["PutLogEvents", "CreateLogGroup", "CreateLogStream", "PutLogEvents"]
    assert hoop_siem.requests[2].json() == {
        "logGroupName": "/hoop/test-sessions",
        "logStreamName": "test-stream",
    }
    assert only_event(hoop_siem.requests[3])[1]["id"] == result.id


def test_an_event_dropped_by_cloudwatch_is_a_failure(hoop_hooks, hoop_siem):
    dropped = {"nextSequenceToken": "1", "rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1}}
    hoop_siem.router.route(**action_route("PutLogEvents")).respond(200, json=dropped)

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert "dropped the event" in result.output and "tooOldLogEventEndIndex" in result.output


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    assert "test-secret-access-key" not in str(hoop_siem.requests[0].headers)
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own request
    first, second, close = [only_event(r.requests[0])[1] for r in results]
    assert first["id"] == second["id"] == results[0].id
    assert close["id"] == results[2].id != first["id"]
