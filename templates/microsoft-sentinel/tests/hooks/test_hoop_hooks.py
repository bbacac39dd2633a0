"""Tests for the microsoft-sentinel hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Microsoft Entra ID and the Logs Ingestion API received. The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin; no request leaves the
machine (`hoop_siem.router` answers them; conftest.py answers the token requests).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import base64
import gzip
from urllib.parse import parse_qs

import httpx
from hook_settings import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    ROUTE,
    TOKEN_ROUTE,
    TOKEN_URL,
    URL,
    only_record,
)


def token_then_upload(hoop_siem):
    token, upload = hoop_siem.requests
    assert (token.method, token.url) == ("POST", TOKEN_URL)
    assert (upload.method, upload.url) == ("POST", URL)
    assert upload.header("Authorization") == "Bearer " + ACCESS_TOKEN
    assert upload.header("Content-Type") == "application/json"
    return token, upload


def test_session_open_gets_a_token_then_uploads_one_record(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    token, upload = token_then_upload(hoop_siem)
    assert token.header("Content-Type") == "application/x-www-form-urlencoded"
    assert parse_qs(token.text) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "scope": ["https://monitor.azure.com/.default"],
    }
    record = only_record(upload)
    opened = result.payload["event_session_open"]
    assert (record["EventType"], record["EventId"], record["SessionId"]) == (
        "session-open",
        result.id,
        result.sid,
    )
    assert record["TimeGenerated"] == record["Details"]["time"]
    assert record["Details"]["connection"]["name"] == opened["connection_name"]
    assert record["Details"]["input"] == opened["input"]


def test_session_close_uploads_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    _, upload = token_then_upload(hoop_siem)
    record = only_record(upload)
    assert (record["EventType"], record["EventId"]) == ("session-close", result.id)
    assert (record["Details"]["exit_code"], record["Details"]["output"]) == (
        1,
        "ERROR: permission denied",
    )


def test_one_token_serves_every_retry(hoop_hooks, hoop_siem):
    hoop_siem.router.route(**ROUTE).mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(204)]
    )

    result = hoop_hooks.fire("session-close")

    assert result.ok, result.output
    assert [request.url for request in hoop_siem.requests] == [TOKEN_URL, URL, URL, URL]


def test_a_refused_token_fails_before_uploading(hoop_hooks, hoop_siem):
    hoop_siem.router.route(**TOKEN_ROUTE).respond(401, json={"error": "invalid_client"})

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert "login.microsoftonline.com failed" in result.output and "invalid_client" in result.output
    assert [request.url for request in hoop_siem.requests] == [TOKEN_URL]  # a 401 is not retried
    assert CLIENT_SECRET not in result.output


def test_a_token_reply_without_a_token_fails(hoop_hooks, hoop_siem):
    hoop_siem.router.route(**TOKEN_ROUTE).respond(200, json={"token_type": "Bearer"})

    result = hoop_hooks.fire("session-close")

    assert result.exit_code == 1
    assert "has no access_token" in result.output
    assert len(hoop_siem.requests) == 1


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # the raw bytes; the record itself is gzip-compressed:
    _, upload = hoop_siem.requests
    text = gzip.decompress(upload.body).decode()
    for value in result.payload["event_session_open"]["connection_envs"].values():
        assert value not in text and base64.b64decode(value).decode() not in text
    assert "input_file" not in text and "def main" not in text
    assert CLIENT_SECRET not in text and CLIENT_SECRET not in str(upload.headers)


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own upload
    uploads = [next(q for q in r.requests if q.url == URL) for r in results]
    first, second, close = [only_record(request)["EventId"] for request in uploads]
    assert first == second == results[0].id
    assert close == results[2].id != first
