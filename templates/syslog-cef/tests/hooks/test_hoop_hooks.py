"""Tests for the syslog-cef hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
collector received: `hoop_siem.syslog` holds each message raw and parsed (the RFC 5424
header and structured data, the CEF header and extension with its escaping undone).
Nothing leaves the machine. Settings: hook_settings.py. Delivery: test_delivery.py.
"""

import pytest
from hook_settings import HOST, SETTINGS


def test_session_open_maps_hoop_fields_to_cef_keys(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    assert HOST in result.output
    [message] = hoop_siem.syslog
    opened = result.payload["event_session_open"]
    cef = message.cef
    assert (cef.version, cef.device_vendor, cef.device_product) == (0, "hoop.dev", "Hoop")
    assert (cef.signature_id, cef.name, cef.severity) == (
        "session-open",
        "Hoop session opened",
        "3",
    )
    ext = cef.extension
    assert ext["externalId"] == result.id
    assert (ext["cs1Label"], ext["cs1"]) == ("sid", result.sid)
    assert ext["suser"] == opened["user_email"]
    assert ext["act"] == opened["verb"]
    assert ext["destinationServiceName"] == opened["connection_name"]
    assert (ext["cs5Label"], ext["cs5"]) == ("input", opened["input"])
    assert ext["cn1"] == str(len(opened["input"]))
    assert ext["rt"].isdigit()


def test_the_syslog_header_carries_the_event_and_its_ids(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    [message] = hoop_siem.syslog
    header = message.parsed
    assert (header.format, header.version) == ("rfc5424", 1)
    assert (header.app_name, header.msgid) == ("hoop", "session-open")
    assert header.severity_name == "notice"
    assert header.structured_data == {"hoop@32473": {"id": result.id, "sid": result.sid}}


def test_session_close_sends_the_outcome(hoop_hooks, hoop_siem):
    failed = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")
    clean = hoop_hooks.fire("session-close")

    assert failed.ok and clean.ok, (failed.output, clean.output)
    bad, good = [message.cef for message in hoop_siem.syslog]
    assert (bad.name, bad.severity) == ("Hoop session closed with an error", "7")
    assert bad.extension["outcome"] == "failure"
    assert (bad.extension["cn1Label"], bad.extension["cn1"]) == ("exitCode", "1")
    assert bad.extension["cs2"] == "ERROR: permission denied"
    assert hoop_siem.syslog[0].parsed.severity_name == "warning"
    assert good.extension["outcome"] == "success" and "cs2" not in good.extension


def test_hostile_text_survives_cef_escaping(hoop_hooks, hoop_siem):
    hostile = "a|b \\ c=d\nsecond line\r\nkey=value cs1=forged"
    result = hoop_hooks.fire("session-close", exit_code=2, output=hostile)

    assert result.ok, result.output
    [message] = hoop_siem.syslog
    assert message.cef.extension["cs2"] == hostile
    assert message.cef.extension["cs1"] == result.sid  # not the forged one
    assert "\n" not in message.text  # line breaks travel escaped


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    envs = result.payload["event_session_open"]["connection_envs"]
    assert hoop_siem.syslog[0].cef.extension["cs4"] == ",".join(sorted(envs))  # the keys only


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own message
    first, second, close = [r.syslog[0].cef for r in results]
    assert first.extension["externalId"] == second.extension["externalId"] == results[0].id
    assert first.severity == "5" and first.extension["cs3"] == "dba-team"
    assert close.extension["externalId"] == results[2].id != results[0].id


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [message.cef for message in hoop_siem.syslog]
    for key in ("cs3", "cs3Label", "cs4", "cs4Label"):  # empty: left out, label and all
        assert key not in open_event.extension
    assert "cs2" not in close_event.extension  # a clean close sends output: null


@pytest.mark.parametrize("output", ["", None])
def test_no_record_ends_with_an_empty_value(hoop_hooks, hoop_siem, output):
    """Debian 12's rsyslog (liblognorm 2.0.6) rejects a CEF record ending "key=": an empty
    value is left out, label and all."""
    result = hoop_hooks.fire("session-close", exit_code=1, output=output)

    assert result.ok, result.output
    [message] = hoop_siem.syslog
    assert not message.text.endswith("=")
    assert "cs2" not in message.cef.extension and "cs2Label" not in message.cef.extension
    assert message.cef.extension["cn1"] == "1"


def test_a_long_input_is_cut_and_the_event_says_so(hoop_hooks, hoop_siem):
    text = "SELECT 'é=\\' " * 2000
    result = hoop_hooks.fire("session-open", input=text)

    assert result.ok, result.output
    [message] = hoop_siem.syslog
    ext = message.cef.extension
    assert len(message.raw) <= int(SETTINGS["SYSLOG_MAX_BYTES"])
    assert 1000 < len(ext["cs5"]) < len(text) and text.startswith(ext["cs5"])
    assert (ext["cs6Label"], ext["cs6"]) == ("truncated", f"input:{len(text)}")
    assert ext["cn1"] == str(len(text))  # the full length, as always
