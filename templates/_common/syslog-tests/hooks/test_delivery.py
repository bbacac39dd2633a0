"""Delivery tests, the same for every syslog template, written by `hookdk init`.

Every syslog hook sends one message over TLS (or TCP) through the same delivery code
(retry, give up, report in one line). These tests check that behaviour for this
template's hooks against the kit's syslog receiver, with the settings in
hook_settings.py (pinned by the `settings` fixture of conftest.py). The exact content of
the messages is checked in test_hoop_hooks.py.
"""

import json
from pathlib import Path

import hook_settings
import pytest
from conftest import ATTEMPTS

PAYLOADS = Path(__file__).parent / "payloads"
EVENTS = ("session-open", "session-close")
HOST = hook_settings.SETTINGS["SYSLOG_HOST"]
DEFAULT_BUDGET = 8096  # bytes a stock rsyslog takes in one message (its maxMessageSize)


@pytest.mark.parametrize("event", EVENTS)
def test_each_hook_sends_one_well_formed_message_over_tls(hoop_hooks, hoop_siem, event):
    result = hoop_hooks.fire(event)

    assert result.ok, result.output
    [message] = result.syslog
    assert not message.malformed, message.error
    assert message.transport == "tls"
    assert message.server_name == HOST  # the certificate was verified for this name
    assert message.framing == hook_settings.FRAMING
    assert message.format == hook_settings.FORMAT
    assert hoop_siem.requests == []  # nothing over HTTP


@pytest.mark.parametrize("event", EVENTS)
def test_plain_tcp_when_tls_is_off(hoop_hooks, monkeypatch, event):
    monkeypatch.setenv("SYSLOG_TLS", "0")

    result = hoop_hooks.fire(event)

    assert result.ok, result.output
    [message] = result.syslog
    assert (message.transport, message.malformed) == ("tcp", False)


@pytest.mark.parametrize("refusals", [1, 2])
def test_collector_that_comes_back_gets_the_event_once(hoop_hooks, hoop_siem, refusals):
    for event in EVENTS:
        hoop_siem.syslog.refuse_connections(refusals)  # down, as if restarting

        result = hoop_hooks.fire(event)

        assert result.ok, result.output
        assert len(result.syslog) == 1
        assert hook_settings.event_id(result.syslog[0]) == result.id
    assert hoop_siem.syslog.refused == 2 * refusals


def test_collector_down_is_retried_then_reported_in_one_line(hoop_hooks, hoop_siem):
    for event in EVENTS:
        hoop_siem.syslog.refuse_connections(100)
        before = hoop_siem.syslog.refused

        result = hoop_hooks.fire(event)

        assert result.exit_code == 1
        assert hoop_siem.syslog.refused - before == ATTEMPTS
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert f"delivery to {HOST}:" in result.output
        assert f"failed after {ATTEMPTS} attempt(s)" in result.output
    assert len(hoop_siem.syslog) == 0


def test_missing_host_fails_without_sending(hoop_hooks, hoop_siem, monkeypatch):
    monkeypatch.setenv("SYSLOG_HOST", "")

    for event in EVENTS:
        result = hoop_hooks.fire(event)

        assert result.exit_code == 1
        assert "SYSLOG_HOST" in result.output
    assert len(hoop_siem.syslog) == 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [("SYSLOG_PORT", "abc"), ("SYSLOG_PORT", ""), ("SYSLOG_PORT", "70000"),
     ("SYSLOG_FACILITY", "24"), ("SYSLOG_FACILITY", "-1"),
     ("SYSLOG_MAX_BYTES", "1024"), ("SYSLOG_MAX_BYTES", "8k")],
)  # fmt: skip
def test_a_bad_setting_is_one_line_and_sends_nothing(hoop_hooks, hoop_siem, monkeypatch,
                                                     setting, value):  # fmt: skip
    """A port that is not a number, a facility outside 0-23 (an unparseable PRI), a
    budget under the 2048 bytes every TLS collector takes (RFC 5425): the hooks say which
    setting, in one line, and send nothing."""
    monkeypatch.setenv(setting, value)

    for event in EVENTS:
        result = hoop_hooks.fire(event)

        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert setting in result.output
    assert len(hoop_siem.syslog) == 0


def test_every_message_carries_its_idempotency_id(hoop_hooks, hoop_siem):
    results = [hoop_hooks.fire(event) for event in EVENTS for _ in range(2)]

    assert all(r.ok for r in results), [r.output for r in results]
    assert len(hoop_siem.syslog) == len(results)
    for result, message in zip(results, hoop_siem.syslog):
        assert hook_settings.event_id(message) == result.id


@pytest.mark.parametrize("caller", ["deploy-bot", "API_KEY", ""])
def test_a_caller_without_an_email_is_sent_all_the_same(hoop_hooks, caller):
    """user_email is not always an email: Hoop sends an API key's or an AI agent's name,
    "API_KEY" for the gateway's own key and "" for a machine identity. The hook sends
    such a session-open as any other, the name as it came."""
    result = hoop_hooks.fire("session-open", user_email=caller)

    assert result.ok, result.output
    [message] = result.syslog
    assert not message.malformed, message.error
    assert caller in message.message
    assert hook_settings.event_id(message) == result.id


def test_a_collector_with_an_untrusted_certificate_gets_nothing(hoop_hooks, hoop_siem):
    """Something answers on the collector's TLS port with a certificate from a CA the
    hook does not trust (the kit's receiver does so on request): a hook that checks
    certificates sends nothing there and fails, in one line."""
    hoop_siem.untrusted_certificates = True

    for event in EVENTS:
        result = hoop_hooks.fire(event)

        assert result.exit_code == 1, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert "certificate" in result.output.lower()
    assert len(hoop_siem.syslog) == 0


@pytest.mark.parametrize("event", EVENTS)
def test_the_shipped_default_is_tls(hoop_hooks, monkeypatch, event):
    """Without SYSLOG_TLS the hooks speak TLS (plain TCP is opt-in, for a trusted network)."""
    monkeypatch.delenv("SYSLOG_TLS")

    result = hoop_hooks.fire(event)

    assert result.ok, result.output
    [message] = result.syslog
    assert (message.transport, message.malformed) == ("tls", False)


def test_example_payloads(hoop_hooks, hoop_siem):
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        event = "session-open" if payload.get("event_session_open") else "session-close"
        result = hoop_hooks.fire(event, payload)
        assert result.ok, f"{path.name}: {result.output}"
        assert [m.malformed for m in result.syslog] == [False], path.name
    hoop_siem.assert_no_leaks()


def test_tls_is_closed_with_close_notify(hoop_hooks, hoop_siem):
    """RFC 5425 section 4.4: a sender ends TLS with close_notify. A hook that just closes
    the socket leaves the collector's TLS 1.3 session tickets unread, the close becomes a
    reset, and a reset can drop the end of the message at a busy collector."""
    for event in EVENTS:
        result = hoop_hooks.fire(event, **hook_settings.LONG_FIELDS.get(event, {}))

        assert result.ok, result.output
        [message] = result.syslog
        assert not message.malformed, message.error
    assert hoop_siem.syslog.unclean_closes == 0


@pytest.mark.parametrize("budget", ["2048", "9000", None])  # None: the shipped default
def test_a_long_event_is_cut_to_the_budget_and_says_so(hoop_hooks, monkeypatch, budget):
    """A collector takes so many bytes per message (a stock rsyslog: 8096) and reads the
    rest of a longer one as more messages, while the hook, with no answer over syslog,
    says "sent". The hooks cut free text to fit SYSLOG_MAX_BYTES (the whole message, as
    the collector counts it: UTF-8, after escaping), and name each field they cut with
    its full length."""
    if budget is None:
        monkeypatch.delenv("SYSLOG_MAX_BYTES")
    else:
        monkeypatch.setenv("SYSLOG_MAX_BYTES", budget)
    limit = int(budget or DEFAULT_BUDGET)

    for event, fields in hook_settings.LONG_FIELDS.items():
        result = hoop_hooks.fire(event, **fields)

        assert result.ok, result.output
        [message] = result.syslog  # one message, not one cut into several
        assert len(message.raw) <= limit
        assert not message.malformed, message.error
        assert hook_settings.event_id(message) == result.id
        cut = hook_settings.truncated(message).split(",")
        for name, value in fields.items():
            if isinstance(value, str):
                assert f"{name}:{len(value)}" in cut, (name, cut)
