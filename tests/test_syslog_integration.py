"""The syslog receiver inside the kit: in the capture, in fire's result and table, in the
pytest plugin's ``hoop_siem.syslog``, and in the leak checks. Hooks are real subprocesses
writing to real sockets."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import time

import pytest

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.capture.syslog_receiver import ENVIRONMENT
from hoophooks_dk.emulator import Emulator
from hoophooks_dk.leaks import find_leaks

# Sends one CEF message over TCP to the kit's receiver, with the first connection secret
# in suser (escaped as CEF wants: its base64 padding '=' becomes '\=').
SYSLOG_HOOK = """\
import json, os, socket
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
opened = payload.get("event_session_open") or {}
secret = next(iter((opened.get("connection_envs") or {"k": "none"}).values()))
value = secret.replace("\\\\", "\\\\\\\\").replace("=", "\\\\=")
record = f"<14>1 - host hook - - - CEF:0|v|p|1|{payload['id']}|n|3|suser={value}"
with socket.create_connection(
    (os.environ["HOOKDK_SYSLOG_HOST"], int(os.environ["HOOKDK_SYSLOG_TCP_PORT"]))
) as connection:
    connection.sendall(record.encode() + b"\\n")
print("sent")
"""


def hookdk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the capture ------------------------------------------------------------------------


def test_capture_with_syslog_adds_its_variables_and_its_ca_verifies_the_tls_port():
    with Capture(syslog=True) as capture:
        env = capture.environ()
        assert set(ENVIRONMENT) <= set(env)
        assert env["HTTPS_PROXY"] == capture.proxy_url  # the HTTP capture is unchanged
        # a client that trusts only SSL_CERT_FILE (the capture's CA) verifies the TLS port
        context = ssl.create_default_context(cafile=env["SSL_CERT_FILE"])
        port = int(env["HOOKDK_SYSLOG_TLS_PORT"])
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            context.wrap_socket(raw, server_hostname="siem.example.com") as tls,
        ):
            tls.sendall(b"<14>1 - h a - - - verified\n")
        assert capture.wait_idle()
        [message] = capture.syslog.messages
        assert message.message == "verified"

        capture.reset()
        assert capture.syslog.messages == []
    assert capture.syslog is None  # stopped with the capture


def test_capture_without_syslog_sets_no_syslog_variables():
    with Capture() as capture:
        assert capture.syslog is None
        assert not [name for name in capture.environ() if name.startswith("HOOKDK_SYSLOG")]


def test_fire_result_holds_this_fires_syslog_messages(hook_repo):
    repo = hook_repo(SYSLOG_HOOK)
    with Capture(syslog=True) as capture:
        emulator = Emulator(repo.root, capture=capture)
        first = emulator.fire("session-open")
        second = emulator.fire("session-close")

    assert first.ok and second.ok, (first.output, second.output)
    assert [m.cef.signature_id for m in first.syslog] == [first.id]
    assert [m.cef.signature_id for m in second.syslog] == [second.id]
    assert first.to_dict()["syslog"][0]["cef"]["signature_id"] == first.id
    with Capture() as capture:
        assert Emulator(repo.root, capture=capture).fire("session-open").syslog is None


# --- leaks ------------------------------------------------------------------------------


def test_a_secret_sent_escaped_in_cef_is_a_leak(hook_repo):
    repo = hook_repo(SYSLOG_HOOK)
    secret = base64.b64encode(b"hunter2-password").decode()  # ends with '=', escaped in CEF
    assert secret.endswith("=")
    with Capture(syslog=True) as capture:
        result = Emulator(repo.root, capture=capture).fire(
            "session-open", connection_envs={"PASS": secret}
        )

    assert result.ok, result.output
    [message] = result.syslog
    assert secret.encode() not in message.raw  # on the wire it is escaped...
    leaks = find_leaks(result.syslog, {"connection_envs[PASS]": secret})
    # ...and still found, in the suser value with CEF's escaping undone
    assert ("syslog-escaped", "frame") in {(leak.form, leak.where) for leak in leaks}
    assert "syslog message #0 (tcp)" in str(leaks[0])


# --- the command line -------------------------------------------------------------------


def test_fire_lists_syslog_messages_next_to_http_requests_and_their_leaks(hook_repo):
    repo = hook_repo(SYSLOG_HOOK)

    done = hookdk("fire", "session-open", "--repo", str(repo.root))

    assert done.returncode == 1, done.stdout + done.stderr  # the hook sent a secret
    assert "LEAKED" in done.stdout and "of the syslog message #0 (tcp)" in done.stdout
    assert "sent: no HTTP requests" not in done.stdout  # a syslog hook: no empty HTTP line
    assert "syslog: 1 message(s)" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "CEF:0|v|p|1|" in line)
    assert row.split()[:3] == ["0", "tcp", "rfc5424+cef"]


def test_fire_json_has_the_syslog_messages_and_no_syslog_turns_it_off(hook_repo):
    repo = hook_repo(SYSLOG_HOOK)

    done = hookdk("fire", "session-open", "--repo", str(repo.root), "--json")
    off = hookdk("fire", "session-open", "--repo", str(repo.root), "--no-syslog", "--json")

    [message] = json.loads(done.stdout)["syslog"]
    assert {leak.get("syslog_message") for leak in json.loads(done.stdout)["leaks"]} == {0}
    assert (message["transport"], message["framing"]) == ("tcp", "non-transparent")
    assert message["cef"]["extension"]["suser"]
    assert message["header"]["hostname"] == "host"
    result = json.loads(off.stdout)
    assert "syslog" not in result and result["exit_code"] == 1
    assert "HOOKDK_SYSLOG_HOST" in result["output"]  # not set without the receiver


# --- the pytest plugin ------------------------------------------------------------------


def test_siem_syslog_in_a_users_test(pytester: pytest.Pytester):
    hooks = pytester.path / "hoop-hooks"
    hooks.mkdir()
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(SYSLOG_HOOK)
    pytester.makepyfile(
        test_hooks=textwrap.dedent(
            """
            import pytest

            def test_messages_are_this_tests(hoop_hooks, hoop_siem):
                result = hoop_hooks.fire("session-open")
                assert result.ok, result.output
                assert len(hoop_siem.syslog) == 1 and hoop_siem.syslog[0].cef.signature_id == result.id
                assert list(hoop_siem.syslog) == result.syslog
                assert hoop_siem.syslog.refused == 0

            def test_starts_empty(hoop_siem):
                assert len(hoop_siem.syslog) == 0

            def test_a_syslog_leak_fails_assert_no_leaks(hoop_hooks, hoop_siem):
                assert hoop_hooks.fire("session-open").ok
                with pytest.raises(AssertionError, match="leak.*syslog message"):
                    hoop_siem.assert_no_leaks()
            """
        )
    )

    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    outcome.assert_outcomes(passed=3)


# --- from the sandbox -------------------------------------------------------------------

SANDBOXED_HOOK = """\
import os, socket, ssl
host = os.environ["HOOKDK_SYSLOG_HOST"]
with socket.create_connection((host, int(os.environ["HOOKDK_SYSLOG_TCP_PORT"]))) as tcp:
    tcp.sendall(b"<14>1 - h hook - - - over tcp\\n")
context = ssl.create_default_context()  # SSL_CERT_FILE: the capture's CA
with socket.create_connection((host, int(os.environ["HOOKDK_SYSLOG_TLS_PORT"]))) as raw:
    with context.wrap_socket(raw, server_hostname="siem.example.com") as tls:
        tls.sendall(b"<14>1 - h hook - - - over tls\\n")
        tls.unwrap()
"""


def test_a_sandboxed_hook_reaches_the_receiver_over_tcp_and_tls(hook_repo):
    from hoophooks_dk.runtime.sandbox import sandboxed_runner

    repo = hook_repo(SANDBOXED_HOOK)
    with Capture(syslog=True) as capture:
        runner = sandboxed_runner("python3", capture)
        result = Emulator(repo.root, capture=capture, runner=runner).fire("session-close")

    assert result.ok, result.output
    assert [(m.transport, m.message) for m in result.syslog] == [
        ("tcp", "over tcp"),
        ("tls", "over tls"),
    ]
    assert {m.peer for m in result.syslog} == {"unix socket"}  # relayed out of the sandbox
    assert result.syslog[1].server_name == "siem.example.com"


# --- the port lock --------------------------------------------------------------------

# Another process on the machine, neither the kit nor a hook: it finds the receiver's
# ports (any local user can list them in /proc/net) and sends, keeping its sockets open.
STRANGER = """
import os, socket, sys
host, tcp, udp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = socket.create_connection((host, tcp))
connection.sendall(b"<14>1 - h stranger - - - over tcp\\n")
datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
datagrams.sendto(b"<14>1 - h stranger - - - over udp", (host, udp))
print("sent", flush=True)
sys.stdin.read()
"""


def test_a_strangers_messages_are_not_recorded_the_kits_own_are():
    with Capture(syslog=True) as capture:
        env = capture.environ()
        stranger = subprocess.Popen(
            [sys.executable, "-c", STRANGER, env["HOOKDK_SYSLOG_HOST"],
             env["HOOKDK_SYSLOG_TCP_PORT"], env["HOOKDK_SYSLOG_UDP_PORT"]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert stranger.stdout.readline() == "sent\n"
            for _ in range(600):  # both refused: up to 30 s on a loaded machine
                if capture.syslog.strangers == 2:
                    break
                time.sleep(0.05)
            assert capture.wait_idle(30)
        finally:
            stranger.stdin.close()
            stranger.wait()
        assert capture.syslog.strangers == 2
        assert capture.syslog.messages == []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mine:  # the kit itself
            mine.sendto(
                b"<14>1 - h kit - - - mine", ("127.0.0.1", int(env["HOOKDK_SYSLOG_UDP_PORT"]))
            )
            for _ in range(600):
                if capture.syslog.messages:
                    break
                time.sleep(0.05)
        assert [m.message for m in capture.syslog.messages] == ["mine"]


# Waits, after telling where it listens, until a stranger has sent on its own ports.
WAITS_FOR_THE_STRANGER = """\
import os, pathlib, time
here = pathlib.Path(os.environ["HANDSHAKE"])
(here / "ports").write_text(os.environ["HOOKDK_SYSLOG_UDP_PORT"])
while not (here / "sent").exists():
    time.sleep(0.02)
print("done")
"""

# A stranger who knows the kit: it sends the canary values its own copy of the kit would
# put in a payload, in a CEF message on the fire's port, and closes at once (too fast for
# the lock to see who it was).
FORGER = """
import base64, pathlib, socket, sys
from hoophooks_dk.payload import CANARY_SECRETS
here = pathlib.Path(sys.argv[1])
port = int((here / "ports").read_text())
values = " ".join(f"cs{n}={base64.b64encode(v.encode()).decode()}" for n, v in
                  enumerate(CANARY_SECRETS.values(), 1))
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
    udp.sendto(f"<14>1 - h x - - - CEF:0|v|p|1|x|n|3|{values}".encode(), ("127.0.0.1", port))
(here / "sent").write_text("")
"""


def test_a_stranger_cannot_forge_a_leak_the_canaries_are_the_runs_own(hook_repo, tmp_path):
    repo = hook_repo(WAITS_FOR_THE_STRANGER)
    env = dict(os.environ, HANDSHAKE=str(tmp_path))
    forger = subprocess.Popen(
        [sys.executable, "-c", f"import time, pathlib\n"
         f"while not pathlib.Path({str(tmp_path / 'ports')!r}).exists(): time.sleep(0.02)\n"
         + FORGER, str(tmp_path)],
    )  # fmt: skip
    try:
        with Capture(syslog=True) as capture:
            result = Emulator(repo.root, capture=capture, env=env).fire("session-open")
    finally:
        forger.wait(timeout=60)
    assert result.ok and result.output == "done\n"
    assert result.leaks == []  # whatever was recorded, its values were not this run's
