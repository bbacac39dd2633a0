"""Tests for the teams-review hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
Microsoft Teams webhook received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router`
answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

from hook_settings import HOOP, URL, card_of, facts_of


def test_reviewed_open_posts_a_review_card(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team", "security"])

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    card = card_of(request)
    opened = result.payload["event_session_open"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert facts_of(card) == {
        "Created By": opened["user_email"],
        "Approval Groups": "dba-team, security",
        "Connection": opened["connection_name"],
        "Verb": opened["verb"],
        "Event id": result.id,
    }
    [code] = [block for block in card["body"] if block["type"] == "CodeBlock"]
    assert (code["codeSnippet"], code["language"]) == (opened["input"], "SQL")
    [action] = card["actions"]
    assert action["url"] == f"{HOOP}/sessions/{result.sid}"


def test_open_without_reviewers_sends_nothing(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")  # connection_reviewers is [], as Hoop sends it

    assert result.ok, result.output
    assert "no card sent" in result.output
    assert hoop_siem.requests == []


def test_close_sends_nothing(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: boom")

    assert result.ok, result.output
    assert hoop_siem.requests == []


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team"])

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    assert "envvar:" not in hoop_siem.requests[0].text
    assert "input_file" not in hoop_siem.requests[0].text


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert [r.event for r in results] == ["session-open", "session-open", "session-close"]
    assert all(r.ok for r in results), [r.output for r in results]
    first, second = [r.requests[0] for r in results[:2]]  # the hooks run at once, as in Hoop
    assert results[2].requests == []  # the close sends nothing
    assert facts_of(card_of(first))["Event id"] == results[0].id
    assert first.json() == second.json()  # Teams cannot dedupe: the same card twice


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload(
        "session-open", connection_envs=None, connection_reviewers=["dba-team"], input=""
    )
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    card = card_of(hoop_siem.requests[0])
    assert "CodeBlock" not in [block["type"] for block in card["body"]]  # no input, no code
