"""The syslog templates through a real collector: Debian's rsyslog (8.2302, with
rsyslog-gnutls), run privately by tests/private_rsyslog.py, over TCP and TLS at rsyslog's stock
limit of 8096 bytes a message. The real generated hooks (``hookdk init`` into a
temporary folder) fire in the kit's live mode: no capture, the hook connects to
SYSLOG_HOST:SYSLOG_PORT itself and verifies the collector's certificate against
SYSLOG_CA_FILE, as on the agent. Hostile values included, each fire must give exactly one
message, and the tests read what rsyslog itself parsed: the RFC 5424 header, the
structured data (mmpstrucdata), CEF (mmnormalize, liblognorm's ``cef`` type), and LEEF
after a stock rsyslog relay.

``pytest -m collector`` (left out of the README's test command; .ci/run installs rsyslog
and runs it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from contextlib import ExitStack
from datetime import datetime

import pytest
from private_rsyslog import Certificates, collector_config, relay_config, running

from hoophooks_dk import wiring
from hoophooks_dk.capture.syslog_formats import parse_frame, parse_leef
from hoophooks_dk.scaffold.writer import init

pytestmark = pytest.mark.collector

BUDGET = 8096  # rsyslog's stock maxMessageSize, and the templates' default SYSLOG_MAX_BYTES
HOSTILE = 'say "hi" ] \\ = ^ | x=y cs1=forged\nsecond line\r\n日本語 café 😀\tand a tab'
HUGE = 'é=\\ "]' * 9000  # 54,000 characters that escaping grows: far over the budget
CASES = [
    ("session-open", {}),
    ("session-open", {"input": HOSTILE, "user_email": "deploy-bot", "connection_name": 'a"]\\'}),
    ("session-open", {"input": HUGE, "user_email": "u" * 5000 + "@example.com"}),
    ("session-close", {"exit_code": 0}),  # output null
    ("session-close", {"exit_code": 1, "output": ""}),
    ("session-close", {"exit_code": 2, "output": HOSTILE}),
    ("session-close", {"exit_code": 3, "output": HUGE}),
]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return Certificates.make(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="module")
def collector(tmp_path_factory, certificates):
    folder = tmp_path_factory.mktemp("collector")
    with running(folder, collector_config(folder, certificates)) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def relay(tmp_path_factory, certificates, collector):
    folder = tmp_path_factory.mktemp("relay")
    with running(folder, relay_config(folder, certificates, collector.ports["tcp"])) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def fire(tmp_path_factory, certificates):
    """fire(template, target, transport, event, **fields): the result of firing the real
    generated hook of ``template`` at ``target``'s tcp or tls port, in live mode."""
    repos, emulators = {}, {}
    with ExitStack() as stack:

        def fire(template, target, transport, event, **fields):
            if template not in repos:
                repos[template] = tmp_path_factory.mktemp(template)
                init(repos[template], template)
            key = (template, target.ports[transport])
            if key not in emulators:
                root = repos[template]
                # over the settings file hookdk init wrote (it names the demo's host)
                hook = hook_settings(certificates, target.ports[transport], transport)
                assignments = [f"{name}={value}" for name, value in hook.items()]
                settings = wiring.resolve(root, python=sys.executable, env=assignments)
                run = wiring.run(root, settings, live=True, runner="subprocess", env=outside())
                emulators[key] = stack.enter_context(run)
            result = emulators[key].fire(event, **fields)
            assert result.ok, result.output
            return result

        yield fire


def outside() -> dict[str, str]:
    """This process's environment without HOOKDK_SYSLOG_* variables (a hook that sees them
    sends to the kit's receiver) nor SYSLOG_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("HOOKDK_SYSLOG", "SYSLOG_"))}


def hook_settings(certificates, port: int, transport: str) -> dict[str, str]:
    """The hook's settings for this collector."""
    return {
        "SYSLOG_HOST": "localhost",  # the collector's certificate is for localhost
        "SYSLOG_PORT": str(port),
        "SYSLOG_TLS": "1" if transport == "tls" else "0",
        "SYSLOG_CA_FILE": str(certificates.ca_file),
        "HOOK_ATTEMPTS": "1",
    }


def oversize_reports(daemon) -> int:
    """How many messages rsyslogd has said it cut ("received oversize message")."""
    return daemon.stderr().count("oversize message")


def cef_extension(record: dict) -> dict[str, str]:
    """The CEF extension as mmnormalize read it. liblognorm before 2.0.7 (Debian 12 ships
    2.0.6) drops the first character of the first key: it steps over the header's last
    '|' twice (fixed by its commit 6e6a50b). The templates' first key is rt."""
    extension = dict(record["cef"]["Extensions"])
    if "t" in extension and "rt" not in extension:
        extension["rt"] = extension.pop("t")
    return extension


def as_rsyslog_keeps(text: str) -> str:
    """A value as rsyslog stores it: a tab it writes "#011" (escapeControlCharactersOnReceive)."""
    return text.replace("\t", "#011")


def notes(text: str) -> set[str]:
    return set(text.split(",")) if text else set()


# --- the premise: what a stock rsyslog does with a long message -------------------------


def test_a_stock_rsyslog_takes_8096_bytes_and_cuts_a_longer_message_into_more(collector):
    after, reports = len(collector.messages()), oversize_reports(collector)
    frames = {}
    for size in (BUDGET, BUDGET + 1, 9000):
        head = f"<14>1 - host test - size-{size} - ".encode()
        frames[size] = head + b"x" * (size - len(head))
    with socket.create_connection(("127.0.0.1", collector.ports["tcp"])) as sock:
        for frame in frames.values():
            sock.sendall(b"%d %s" % (len(frame), frame))

    records = collector.collect(after)

    raws = [record["raw"].encode() for record in records]
    assert raws[0] == frames[BUDGET]  # whole
    assert frames[BUDGET + 1] not in raws and frames[9000] not in raws  # cut...
    assert len(records) > 3  # ...and the rest read as more messages
    assert oversize_reports(collector) - reports == 2


# --- CEF --------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_cef_events_arrive_one_each_and_parse_in_rsyslog(collector, fire, transport):
    after, reports = len(collector.messages()), oversize_reports(collector)

    results = [fire("syslog-cef", collector, transport, e, **fields) for e, fields in CASES]
    records = collector.collect(after)

    assert len(records) == len(results), [record["raw"][:200] for record in records]
    assert oversize_reports(collector) == reports
    by_id = {record["rfc5424-sd"]["hoop@32473"]["id"]: record for record in records}
    for result, (event, fields) in zip(results, CASES, strict=True):
        record = by_id[result.id]
        assert record["input"] == transport
        assert (record["app"], record["msgid"]) == ("hoop", event)
        assert record["rfc5424-sd"] == {"hoop@32473": {"id": result.id, "sid": result.sid}}
        failed = event == "session-close" and fields["exit_code"] != 0
        assert int(record["pri"]) == 13 * 8 + (4 if failed else 5)  # audit; warning or notice
        assert datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        assert "unparsed-data" not in record, record.get("originalmsg", "")[:300]
        cef = record["cef"]
        assert (cef["DeviceVendor"], cef["DeviceProduct"], cef["SignatureID"]) == (
            "hoop.dev",
            "Hoop",
            event,
        )
        extension = cef_extension(record)
        # two parsers, rsyslog's and the kit's, read the same record the same way
        assert extension == parse_frame(record["raw"].encode()).cef.extension
        assert (extension["externalId"], extension["cs1"]) == (result.id, result.sid)
        check_cef_values(extension, event, fields, result)


def check_cef_values(extension: dict, event: str, fields: dict, result) -> None:
    if event == "session-open":
        text = fields.get("input", result.payload["event_session_open"]["input"])
        assert extension["cn1"] == str(len(text))
        if text is HUGE:
            assert HUGE.startswith(extension["cs5"]) and len(extension["cs5"]) < len(HUGE)
            assert notes(extension["cs6"]) == {f"input:{len(HUGE)}", "user_email:5012"}
        else:
            assert extension["cs5"] == as_rsyslog_keeps(text)
            assert "cs6" not in extension
        return
    output = fields.get("output")
    if not output:  # null or "": left out, so the record ends with a value
        assert "cs2" not in extension and "cs2Label" not in extension
    elif output is HUGE:
        assert HUGE.startswith(extension["cs2"]) and len(extension["cs2"]) <= 4000
        assert (extension["cs6Label"], extension["cs6"]) == ("truncated", f"output:{len(HUGE)}")
    else:
        assert extension["cs2"] == as_rsyslog_keeps(output)


# --- LEEF -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["tcp", "tls", "tls to a stock relay"])
def test_leef_events_arrive_intact_directly_and_through_a_relay(collector, relay, fire, path):
    through_relay = path.endswith("relay")
    target, transport = (relay, "tls") if through_relay else (collector, path)
    after, relayed = len(collector.messages()), len(relay.messages())

    results = [fire("qradar-leef", target, transport, e, **fields) for e, fields in CASES]
    records = collector.collect(after, via=relay if through_relay else None)

    assert len(records) == len(results), [record["raw"][:200] for record in records]
    # rsyslog keeps a leading space in the MSG of a traditional (RFC 3164) message
    messages = [record["msg"].removeprefix(" ") for record in records]
    for message in messages:
        assert message.startswith("LEEF:2.0|hoop.dev|Hoop|1.0|")
        assert "#0" not in message  # no control character for rsyslog to escape
    if through_relay:  # forwarded as the relay read it: byte for byte
        forwarded = [line["msg"] for line in relay.messages()[relayed:]]
        assert sorted(messages) == sorted(m for m in forwarded if m.startswith("LEEF:"))
        assert {record["tag"] for record in records} == {"hoop"}  # not "LEEF:"
    else:
        assert {(record["app"], record["input"]) for record in records} == {("hoop", transport)}
    by_id = {}
    for record, message in zip(records, messages, strict=True):
        leef = parse_leef(message)
        assert leef.delimiter == "^"
        by_id[leef.attributes["hoopEventId"]] = (record, leef)
    for result, (event, fields) in zip(results, CASES, strict=True):
        record, leef = by_id[result.id]
        assert leef.event_id == event
        if not through_relay:
            assert record["msgid"] == event
        assert leef.attributes["hoopSessionId"] == result.sid
        check_leef_values(leef.attributes, event, fields, result)


def flat(text: str) -> str:
    """A value as LEEF carries it: the delimiter, tabs and line breaks become spaces."""
    return "".join(" " if char in "^\t\r\n" else char for char in text)


def check_leef_values(attributes: dict, event: str, fields: dict, result) -> None:
    key, text = (
        ("input", fields.get("input", result.payload["event_session_open"]["input"]))
        if event == "session-open"
        else ("output", fields.get("output"))
    )
    if text is None:
        assert key not in attributes and "truncated" not in attributes
    elif text is HUGE:
        assert flat(HUGE).startswith(attributes[key]) and len(attributes[key]) < len(HUGE)
        assert f"{key}:{len(HUGE)}" in notes(attributes["truncated"])
    else:
        assert attributes[key] == flat(text)
        assert "truncated" not in attributes


# --- the command line -------------------------------------------------------------------


def test_hookdk_fire_live_reaches_the_collector(collector, certificates, tmp_path):
    init(tmp_path, "syslog-cef")
    after = len(collector.messages())
    hook = hook_settings(certificates, collector.ports["tls"], "tls")
    settings = [f"--env={name}={value}" for name, value in hook.items()]

    done = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "fire", "session-close", "--live",
         "--repo", str(tmp_path), "--python", sys.executable, *settings],
        capture_output=True, text=True, timeout=120, env=outside(),
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "network: LIVE" in done.stdout
    [record] = collector.collect(after)
    assert record["input"] == "tls" and record["cef"]["SignatureID"] == "session-close"
