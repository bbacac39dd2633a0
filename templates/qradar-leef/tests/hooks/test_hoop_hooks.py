"""Tests for the qradar-leef hooks, written by `hookdk init`.

They run the real hoop-hooks/*.runbook.py scripts as Hoop runs them and look at what the
collector received: `hoop_siem.syslog` holds each message raw and parsed (the syslog header,
the LEEF header and attributes). Nothing leaves the machine.
Settings: hook_settings.py. Delivery: test_delivery.py.
"""

from hook_settings import HOST, SETTINGS


def test_session_open_maps_hoop_fields_to_leef_keys(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    assert HOST in result.output
    [message] = hoop_siem.syslog
    opened = result.payload["event_session_open"]
    leef = message.leef
    assert (leef.version, leef.vendor, leef.product) == ("2.0", "hoop.dev", "Hoop")
    assert (leef.event_id, leef.delimiter) == ("session-open", "^")
    attrs = leef.attributes
    assert (attrs["cat"], attrs["sev"]) == ("session-open", "3")
    assert attrs["hoopEventId"] == result.id and attrs["hoopSessionId"] == result.sid
    assert attrs["usrName"] == opened["user_email"]
    assert attrs["resource"] == opened["connection_name"]
    assert attrs["verb"] == opened["verb"]
    assert attrs["input"] == opened["input"]
    assert attrs["devTimeFormat"] == "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
    assert attrs["devTime"].endswith("+0000")


def test_the_syslog_header_is_the_one_qradar_documents(hoop_hooks, hoop_siem):
    """RFC 5424, as IBM recommends (the year and time zone), with an APP-NAME: after a bare
    host name a relay such as rsyslog takes "LEEF:" for the syslog tag."""
    hoop_hooks.fire("session-open")

    [message] = hoop_siem.syslog
    header = message.parsed
    assert (header.format, header.version) == ("rfc5424", 1)
    assert (header.app_name, header.msgid) == ("hoop", "session-open")
    assert header.timestamp.endswith("Z") and header.hostname
    assert header.severity_name == "notice"
    assert message.message.startswith("LEEF:2.0|hoop.dev|Hoop|1.0|session-open|^|")
    assert "\t" not in message.text  # a relay writes a tab as #011
    assert message.framing == "non-transparent"


def test_session_close_sends_the_outcome(hoop_hooks, hoop_siem):
    failed = hoop_hooks.fire("session-close", exit_code=1, output="ERROR: permission denied")
    clean = hoop_hooks.fire("session-close")

    assert failed.ok and clean.ok, (failed.output, clean.output)
    bad, good = [message.leef.attributes for message in hoop_siem.syslog]
    assert (bad["sev"], bad["outcome"], bad["exitCode"]) == ("7", "failure", "1")
    assert bad["output"] == "ERROR: permission denied"
    assert hoop_siem.syslog[0].parsed.severity_name == "warning"
    assert good["outcome"] == "success" and "output" not in good


def test_tabs_and_line_breaks_cannot_forge_attributes(hoop_hooks, hoop_siem):
    hostile = "one\ttwo\nhoopEventId=forged\r\nthree | x=y^sev=1"
    result = hoop_hooks.fire("session-close", exit_code=2, output=hostile)

    assert result.ok, result.output
    [message] = hoop_siem.syslog
    attrs = message.leef.attributes
    assert attrs["output"] == "one two hoopEventId=forged  three | x=y sev=1"
    assert attrs["hoopEventId"] == result.id and attrs["sev"] == "7"  # not the forged ones


def test_a_long_input_is_cut_and_the_event_says_so(hoop_hooks, hoop_siem):
    text = "SELECT 'é=\\' " * 2000
    result = hoop_hooks.fire("session-open", input=text)

    assert result.ok, result.output
    [message] = hoop_siem.syslog
    attrs = message.leef.attributes
    assert len(message.raw) <= int(SETTINGS["SYSLOG_MAX_BYTES"])
    assert 1000 < len(attrs["input"]) < len(text) and text.startswith(attrs["input"])
    assert attrs["truncated"] == f"input:{len(text)}"
    assert attrs["inputLength"] == str(len(text))  # the full length, as always


def test_secrets_are_never_forwarded(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-open")

    assert result.ok, result.output
    hoop_siem.assert_no_leaks()  # no connection_envs value, no hook source, in any form
    envs = result.payload["event_session_open"]["connection_envs"]
    assert hoop_siem.syslog[0].leef.attributes["envKeys"] == ",".join(sorted(envs))  # keys only


def test_reviewed_session_opens_twice_with_the_same_id(hoop_hooks, hoop_siem):
    results = hoop_hooks.session(review=True, reviewers=["dba-team"])

    assert all(r.ok for r in results), [r.output for r in results]
    # the hooks run at once, as in Hoop: take each one's own message
    first, second, close = [r.syslog[0].leef.attributes for r in results]
    assert first["hoopEventId"] == second["hoopEventId"] == results[0].id
    assert first["sev"] == "5" and first["reviewers"] == "dba-team"
    assert close["hoopEventId"] == results[2].id != results[0].id


def test_null_fields_from_hoop_are_handled(hoop_hooks, hoop_payload, hoop_siem):
    opened = hoop_payload("session-open", connection_envs=None, connection_reviewers=None)
    results = [hoop_hooks.fire("session-open", opened), hoop_hooks.fire("session-close")]

    assert all(r.ok for r in results), [r.output for r in results]
    open_event, close_event = [message.leef.attributes for message in hoop_siem.syslog]
    assert open_event["envKeys"] == "" and open_event["reviewers"] == ""
    assert "output" not in close_event  # a clean close sends output: null
