"""Tests for the svix-compat hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and check that what
the receiver got is what Hoop's deprecated Svix webhooks sent: the same bodies, signed
the same way (verified with the official `svix` package). The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin; no request leaves the
machine (`hoop_siem.router` answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import base64
import json
from pathlib import Path

import httpx
import pytest
from hook_settings import SECRET, URL
from svix.webhooks import Webhook, WebhookVerificationError

PAYLOADS = Path(__file__).parent / "payloads"


def verified(request, secret=SECRET):
    """The body, once the svix package accepts the request's signature (else it raises)."""
    Webhook(secret).verify(request.body, dict(request.headers))
    return request.json()


def test_session_open_is_the_svix_session_open_event(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("svix-id") == result.id
    assert request.header("svix-signature").startswith("v1,")
    body = verified(request)
    opened = result.payload["event_session_open"]
    assert body["event_type"] == "session.open"
    assert body["id"] == result.sid  # Svix's id was the session id
    assert (body["user_email"], body["verb"]) == (opened["user_email"], opened["verb"])
    assert (body["connection"], body["connection_type"]) == (
        opened["connection_name"],
        opened["connection_type"],
    )
    assert base64.b64decode(body["input"]).decode() == opened["input"]
    assert body["input_size"] == len(opened["input"].encode())
    assert body["is_input_truncated"] is False
    assert body["review"] is None


def test_session_close_is_the_svix_session_close_event(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert verified(request) == {
        "event_type": "session.close",
        "id": result.sid,
        "exit_code": 1,
        "exit_err": "ERROR: permission denied",
    }


def test_a_wrong_secret_does_not_verify(hoop_hooks, hoop_siem):
    hoop_hooks.fire("session-close")

    other = "whsec_" + base64.b64encode(b"another-endpoint-secret").decode()
    with pytest.raises(WebhookVerificationError):
        verified(hoop_siem.requests[0], secret=other)


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    body = verified(hoop_siem.requests[0])
    envs = result.payload["event_session_open"]["connection_envs"]
    assert body["connection_envs"] == sorted(envs)  # keys only, as Svix sent them
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = [r.requests[0] for r in results]  # the hooks run at once, as in Hoop
    assert first.header("svix-id") == second.header("svix-id") == results[0].id
    review = verified(first)["review"]
    assert review == {"owner_email": "alice@example.com", "status": "UNKNOWN", "type": "onetime"}
    assert close.header("svix-id") == results[2].id


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_body, close_body = [verified(request) for request in hoop_siem.requests]
    assert (open_body["connection_envs"], open_body["review"]) == (None, None)
    assert close_body["exit_err"] is None  # a clean close sends output: null


def test_unreadable_exit_code_is_sent_as_svix_did(hoop_hooks, hoop_siem):
    hoop_hooks.fire("session-close", exit_code=-2)

    assert verified(hoop_siem.requests[0])["exit_code"] == -100


def test_every_request_is_signed_retries_and_example_payloads_included(hoop_hooks, hoop_siem):
    """test_delivery.py retries and fires the example payloads; each request is signed."""
    answers = [httpx.Response(503), httpx.Response(503), httpx.Response(204)]
    hoop_siem.router.post(URL).mock(side_effect=answers)
    result = hoop_hooks.fire("session-open")
    assert result.ok, result.output
    assert {r.header("svix-id") for r in hoop_siem.requests} == {result.id}
    hoop_siem.router.post(URL).respond(204)

    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"

    assert len(hoop_siem.requests) == 3 + len(list(PAYLOADS.glob("*.json")))
    for request in hoop_siem.requests:
        verified(request)
