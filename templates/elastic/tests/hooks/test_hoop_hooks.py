"""Tests for the elastic hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Elasticsearch received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures come from
the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router` answers
them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

import httpx
from hook_settings import API_KEY, ELASTIC, INDEX, document_url


def test_session_open_creates_one_document(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("PUT", document_url(result.id))
    assert request.header("Authorization") == "ApiKey " + API_KEY
    assert request.header("Content-Type") == "application/json"
    document = request.json()
    opened = result.payload["event_session_open"]
    assert document["@timestamp"] == document["time"]
    assert document["event"] == "session-open"
    assert (document["id"], document["sid"]) == (result.id, result.sid)
    assert document["user_email"] == opened["user_email"]
    assert document["connection"]["name"] == opened["connection_name"]
    assert document["input"] == opened["input"]


def test_session_close_creates_the_outcome_document(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("PUT", document_url(result.id))
    assert request.header("Authorization") == "ApiKey " + API_KEY
    document = request.json()
    assert document["event"] == "session-close"
    assert (document["id"], document["sid"]) == (result.id, result.sid)
    assert (document["exit_code"], document["output"]) == (1, "ERROR: permission denied")


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    document = hoop_siem.requests[0].json()
    envs = result.payload["event_session_open"]["connection_envs"]
    assert document["connection"]["env_keys"] == sorted(envs)  # the keys are kept
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_second_open_is_already_indexed(hoop_hooks, hoop_siem):
    indexed = set()

    def create_once(request):  # as Elasticsearch's _create: a document id is taken once
        if request.url.path in indexed:
            return httpx.Response(409, json={"status": 409})
        indexed.add(request.url.path)
        return httpx.Response(201)

    hoop_siem.router.put(url__startswith=f"{ELASTIC}/{INDEX}/_create/").mock(
        side_effect=create_once
    )

    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second, close = [r.requests[0] for r in results]  # the hooks run at once, as in Hoop
    assert first.url == second.url == document_url(results[0].id)
    # whichever of the two opens reaches the collector second is told it is a duplicate
    assert ["already indexed" in r.output for r in results[:2]].count(True) == 1
    assert first.json()["review"] == {"required": True, "reviewers": ["dba-team"]}
    assert close.url == document_url(results[2].id)


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_document, close_document = [request.json() for request in hoop_siem.requests]
    assert open_document["connection"]["env_keys"] == []
    assert open_document["review"]["reviewers"] == []
    assert close_document["output"] is None  # a clean close sends output: null
