"""Tests for the slack hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what
Slack's incoming webhook received. The `hoop_hooks`, `hoop_siem` and `hoop_payload` fixtures
come from the hoophooks_dk pytest plugin; no request leaves the machine (`hoop_siem.router`
answers them, with 200 unless a test programs otherwise).
Settings: hook_settings.py. Retries and failures: test_delivery.py.
"""

from hook_settings import URL, texts


def test_session_open_posts_one_message(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    assert request.header("Content-Type") == "application/json"
    opened = result.payload["event_session_open"]
    text, section, context = texts(request)
    assert text == section
    assert f"{opened['user_email']} opened *{opened['connection_name']}* (exec)" in text
    assert "Review requested" not in text
    assert result.id in context and result.sid in context


def test_review_request_names_reviewers_and_shows_the_input(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open", connection_reviewers=["dba-team", "security"])

    assert result.ok, result.output
    text = texts(hoop_siem.requests[0])[0]
    assert "*Review requested*" in text
    assert "Reviewers: dba-team, security" in text
    assert "```SELECT id, email FROM customers" in text


def test_session_close_posts_the_outcome(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: a < b & c")

    assert result.ok, result.output
    [request] = hoop_siem.requests
    assert (request.method, request.url) == ("POST", URL)
    text = texts(request)[0]
    assert f"Session `{result.sid}` failed (exit code 1)" in text
    assert "```ERROR: a &lt; b &amp; c```" in text  # escaped for Slack's mrkdwn


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
    first, second, close = [r.requests[0] for r in results]  # the hooks run at once, as in Hoop
    assert f"event id `{results[0].id}`" in texts(first)[-1]
    assert texts(first) == texts(second)  # Slack cannot dedupe: the same message twice
    assert "*Review requested*" in texts(first)[0]
    assert f"event id `{results[2].id}`" in texts(close)[-1]


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    close_text = texts(hoop_siem.requests[1])[0]
    assert "closed (exit code 0)" in close_text
    assert "```" not in close_text  # output null: no code block
