"""Leak canaries: payload secrets found in captured requests, in every form they travel in."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

import pytest

from hoophooks_dk.capture.capture import Capture, CapturedRequest, CapturedResponse
from hoophooks_dk.leaks import Leak, assert_no_leaks, find_leaks


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PASSWORD = 'p@ss w/rd+"é9'  # every encoding below writes it differently
PASS_LABEL = 'connection_envs["envvar:PASS"]'

# --- real forwarders, run as Hoop runs them, against the capture -----------------------

RAW_FORWARDER = """\
import os, urllib.request
request = urllib.request.Request(
    "https://siem.example.com/events",
    data=os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"].encode(),
    headers={"Content-Type": "application/json"},
)
urllib.request.urlopen(request, timeout=10).read()
"""

REDACTING_FORWARDER = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
payload.pop("input_file", None)
event = payload.get("event_session_open") or {}
if event.get("connection_envs"):
    event["connection_envs"] = sorted(event["connection_envs"])  # names only
request = urllib.request.Request(
    "https://siem.example.com/events",
    data=json.dumps(payload).encode(),
    headers={"Content-Type": "application/json"},
)
urllib.request.urlopen(request, timeout=10).read()
"""


def fire(capture: Capture, hook: str) -> dict[str, str]:
    """Run ``hook`` with a session-open payload; return the payload's canaries."""
    envs = {"envvar:PASS": b64(PASSWORD), "envvar:USER": b64("svc_reporting")}
    payload = {
        "id": "5a1e0f0e-8a47-5c4d-9d4e-1f2a3b4c5d6e",
        "sid": "8c59a347-62bd-4db2-a456-2b25963dfebf",
        "command": ["python3"],
        "input_file": hook,
        "event_session_open": {
            "verb": "exec",
            "connection_name": "pg-prod",
            "connection_type": "database",
            "connection_subtype": "postgres",
            "connection_envs": envs,
            "connection_reviewers": None,
            "input": "SELECT 1",
            "user_email": "alice@example.com",
        },
        "event_session_close": None,
    }
    env = os.environ | capture.environ() | {"HOOP_RUNBOOK_HOOK_PAYLOAD": json.dumps(payload)}
    proc = subprocess.run(
        [sys.executable], input=hook, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert capture.wait_idle()
    canaries = {f'connection_envs["{key}"]': value for key, value in envs.items()}
    return canaries | {"input_file": hook}


def test_a_raw_payload_forwarder_leaks_credentials_and_its_source():
    with Capture() as capture:
        canaries = fire(capture, RAW_FORWARDER)
        requests = capture.requests

    leaks = find_leaks(requests, canaries)

    assert {(leak.label, leak.form, leak.where) for leak in leaks} >= {
        (PASS_LABEL, "raw", "body"),
        ('connection_envs["envvar:USER"]', "raw", "body"),
        ("input_file", "json-escaped", "body"),
    }
    with pytest.raises(AssertionError) as raised:
        assert_no_leaks(requests, canaries)
    message = str(raised.value)
    assert "leak" in message
    assert PASS_LABEL in message and "input_file" in message
    assert "POST https://siem.example.com/events (request #0)" in message


def test_a_redacting_forwarder_passes():
    with Capture() as capture:
        canaries = fire(capture, REDACTING_FORWARDER)
        [request] = capture.requests

    assert request.json()["event_session_open"]["connection_envs"] == ["envvar:PASS", "envvar:USER"]
    assert_no_leaks([request], canaries)


# --- every form, on requests built by hand ---------------------------------------------


def captured(
    url: str = "https://siem.example.com/events",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"{}",
) -> CapturedRequest:
    return CapturedRequest(
        index=0,
        time=datetime.now(UTC),
        method="POST",
        url=url,
        headers=headers or [("Host", "siem.example.com")],
        body=body,
        response=CapturedResponse(200, [], b"{}"),
    )


SIEM = "https://siem.example.com/events"
PLAIN = "plain/secret value+1"


@pytest.mark.parametrize(
    ("secret", "request_", "form", "where"),
    [
        (PLAIN, captured(body=f"x={PLAIN}".encode()), "raw", "body"),
        (PLAIN, captured(body=json.dumps({"k": PLAIN}).encode()), "raw", "body"),
        (PASSWORD, captured(body=json.dumps({"k": PASSWORD}).encode()), "json-escaped", "body"),
        (
            PASSWORD,
            captured(body=json.dumps({"k": PASSWORD}, ensure_ascii=False).encode()),
            "json-escaped",
            "body",
        ),
        (PLAIN, captured(url=f"{SIEM}?s={quote(PLAIN, safe='')}"), "url-encoded", "url"),
        (PLAIN, captured(body=f"s={quote_plus(PLAIN)}".encode()), "url-encoded", "body"),
        (
            PLAIN,
            # lowercase hex: found only once the URL is percent-decoded
            captured(url=f"{SIEM}?s=" + quote(PLAIN, safe="").replace("%2F", "%2f")),
            "url-encoded",
            "url",
        ),
        (
            PLAIN,
            captured(headers=[("Authorization", f"Basic {b64(PLAIN)}")]),
            "base64-encoded",
            "header Authorization",
        ),
        (
            PLAIN,
            captured(url=f"{SIEM}/{base64.urlsafe_b64encode(PLAIN.encode()).decode().rstrip('=')}"),
            "base64-encoded",
            "url",
        ),
        (
            PLAIN,
            captured(headers=[(f"X-{b64(PLAIN).rstrip('=')}", "1")]),
            "base64-encoded",
            f"header X-{b64(PLAIN).rstrip('=')}",
        ),
        (b64(PASSWORD), captured(body=b64(PASSWORD).encode()), "raw", "body"),
        (b64(PASSWORD), captured(body=PASSWORD.encode()), "base64-decoded", "body"),
        (
            b64(PASSWORD),
            captured(body=json.dumps({"pw": PASSWORD}).encode()),
            "base64-decoded, json-escaped",
            "body",
        ),
        (
            b64(PASSWORD),
            captured(url=f"{SIEM}?pw={quote_plus(PASSWORD)}"),
            "base64-decoded, url-encoded",
            "url",
        ),
        (
            b64(PASSWORD),
            captured(headers=[("X-Pw", PASSWORD.encode().decode("latin-1"))]),
            "base64-decoded",
            "header X-Pw",
        ),
    ],
)
def test_each_form_is_caught(secret, request_, form, where):
    leaks = find_leaks([request_], {"the-secret": secret})

    assert (form, where) in {(leak.form, leak.where) for leak in leaks}, [str(x) for x in leaks]
    assert all(leak.label == "the-secret" and leak.request is request_ for leak in leaks)


def test_one_line_description_names_label_form_place_and_request():
    leak = Leak(captured(), PASS_LABEL, "raw", "body")

    assert str(leak) == (
        'leak: the connection secret connection_envs["envvar:PASS"] (raw) in body of '
        "POST https://siem.example.com/events (request #0)"
    )


def test_the_hooks_own_source_is_named_as_such():
    leak = Leak(captured(), "input_file", "json-escaped", "body")

    assert "its own source (input_file) (json-escaped) in body of POST" in str(leak)
    assert leak.to_dict()["what"] == "its own source (input_file)"


SOURCE = '"""A hook that forwards a session\'s outcome."""\n\nimport json\n' + "x = 1\n" * 60


def test_a_source_cut_short_is_found_by_its_start_and_a_whole_one_once():
    """A hook that cuts what it forwards (text[:MAX_TEXT]) sends the start of its source:
    found, in its forms; where the whole source is, its start is not reported again."""
    cut = captured(body=json.dumps({"output": SOURCE[:150]}).encode())
    cut_encoded = captured(headers=[("X-Source", b64(SOURCE[:150]))])
    whole = captured(body=json.dumps({"output": SOURCE}).encode())
    canaries = {"input_file": SOURCE}

    [found] = find_leaks([cut], canaries)
    assert (found.form, found.where) == ("its start, json-escaped", "body")
    assert [leak.form for leak in find_leaks([cut_encoded], canaries)] == [
        "its start, base64-encoded"
    ]
    assert [leak.form for leak in find_leaks([whole], canaries)] == ["json-escaped"]
    assert find_leaks([captured(body=SOURCE[:90].encode())], canaries) == []  # shorter: not


def test_short_canaries_and_clean_requests_are_not_leaks():
    request = captured(url=f"{SIEM}?u=bob12", body=b'{"user": "bob12", "event": "open"}')

    assert find_leaks([request], {"short": "bob12", "absent": "never-sent-secret"}) == []
    assert_no_leaks([request], {"short": "bob12", "empty": ""})


def test_each_leak_is_reported_once_per_place_and_form():
    request = captured(
        url=f"{SIEM}?a={PLAIN}",
        headers=[("X-A", PLAIN), ("X-A", PLAIN)],
        body=(PLAIN + PLAIN).encode(),
    )

    leaks = find_leaks([request, request], {"s": PLAIN})

    assert sorted(leak.where for leak in leaks) == sorted(["url", "header X-A", "body"] * 2)
    assert {leak.form for leak in leaks} == {"raw"}


def test_a_raw_forwarder_whose_source_holds_html_characters_still_leaks_its_source(tmp_path):
    """The payload variable is Go's JSON, where < > & in input_file appear as \\u003c...:
    a hook posting the variable untouched must still be caught."""
    from hoophooks_dk.emulator import Emulator
    from hoophooks_dk.payload import canaries

    hooks = tmp_path / "hoop-hooks"
    hooks.mkdir()
    source = (
        "import os, urllib.request\n"
        "body = os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'].encode()\n"
        "if len(body) > 0 and True & True:\n"
        "    urllib.request.urlopen(urllib.request.Request("
        "'https://siem.example.com/raw', data=body), timeout=5)\n"
    )
    for event in ("open", "close"):
        (hooks / f"session-{event}.runbook.py").write_text(source)
    with Capture() as capture:
        result = Emulator(tmp_path, capture=capture).fire("session-close")
    assert result.exit_code == 0, result.output
    (sent,) = result.requests
    assert b"\\u003e" in sent.body and b"len(body) > 0" not in sent.body
    leaks = find_leaks(result.requests, canaries(result.payload))
    assert [leak.label for leak in leaks] == ["input_file"]


# --- every place a value leaves: method, host in any case, trailers ----------------------

HOSTNAME_SECRET = "Svc-Reporting-Key7"


def test_a_secret_in_a_host_name_is_found_whatever_its_case():
    sent = captured(url=f"https://{HOSTNAME_SECRET.lower()}.siem.example.com/events")
    [leak] = find_leaks([sent], {"connection_envs": HOSTNAME_SECRET})
    assert (leak.where, leak.form) == ("url", "case-folded")


def test_a_secret_in_the_method_is_found():
    sent = captured()
    sent.method = "SECRETVERB42"
    [leak] = find_leaks([sent], {"connection_envs": "SECRETVERB42"})
    assert leak.where == "method"


CHUNKED_TRAILER_SENDER = """\
import http.client, json, os, ssl
secret = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])["event_session_open"]
secret = secret["connection_envs"]["envvar:PASS"]
proxy = os.environ["HTTPS_PROXY"].rsplit("@", 1)[1]
user_password = os.environ["HTTPS_PROXY"].split("//", 1)[1].rsplit("@", 1)[0]
import base64
auth = "Basic " + base64.b64encode(user_password.encode()).decode()
host, port = proxy.split(":")
context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
connection.set_tunnel("siem.example.com", 443, headers={"Proxy-Authorization": auth})
connection.putrequest("POST", "/events")
connection.putheader("Transfer-Encoding", "chunked")
connection.putheader("Trailer", "X-Checksum")
connection.endheaders()
connection.send(b"2\\r\\n{}\\r\\n0\\r\\nX-Checksum: " + secret.encode() + b"\\r\\n\\r\\n")
print(connection.getresponse().status)
"""


def test_a_secret_in_a_chunked_trailer_sent_through_the_capture_is_found():
    with Capture() as capture:
        canaries = fire(capture, CHUNKED_TRAILER_SENDER)
        [request] = capture.requests
    assert request.trailers, "the capture recorded no trailer"
    leaks = find_leaks([request], canaries)
    assert {(leak.label, leak.where) for leak in leaks} == {(PASS_LABEL, "trailer X-Checksum")}


# A hook that puts the secret where no request line or header of the SIEM's would: in the
# CONNECT's own headers, and in the name it asks for in TLS SNI. Both leave the machine:
# a proxy on the way reads the first, anyone on the network the second.
TUNNEL_SENDER = """\
import base64, json, os, socket, ssl
secret = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])["event_session_open"]
secret = secret["connection_envs"]["envvar:PASS"]
proxy = os.environ["HTTPS_PROXY"]
user_password, address = proxy.split("//", 1)[1].rsplit("@", 1)
host, port = address.split(":")
auth = "Basic " + base64.b64encode(user_password.encode()).decode()
sock = socket.create_connection((host, int(port)), timeout=10)
sock.sendall(
    b"CONNECT siem.example.com:443 HTTP/1.1\\r\\nHost: siem.example.com:443\\r\\n"
    + b"Proxy-Authorization: " + auth.encode() + b"\\r\\n"
    + b"X-Tunnel-Token: " + secret.encode() + b"\\r\\n\\r\\n"
)
assert sock.recv(4096).startswith(b"HTTP/1.1 200")
context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
context.check_hostname = False  # the SNI name below is not the certificate's
name = secret.strip("=").lower() + ".siem.example.com"  # as a host name: lower case
tls = context.wrap_socket(sock, server_hostname=name)
tls.sendall(b"POST /events HTTP/1.1\\r\\nHost: siem.example.com\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
print(tls.recv(4096).split(b"\\r\\n")[0].decode())
"""


def test_a_secret_in_the_connects_headers_or_in_tls_sni_is_found():
    with Capture() as capture:
        canaries = fire(capture, TUNNEL_SENDER)
        [request] = capture.requests
    secret = canaries[PASS_LABEL]
    assert secret.strip("=").isalnum()  # a name in SNI: base64 without + or /
    assert ("X-Tunnel-Token", secret) in request.tunnel_headers
    assert not [name for name, _ in request.tunnel_headers if name == "Proxy-Authorization"]
    assert request.server_name == secret.strip("=").lower() + ".siem.example.com"

    leaks = find_leaks([request], canaries)
    assert {(leak.label, leak.where) for leak in leaks} == {
        (PASS_LABEL, "tunnel header X-Tunnel-Token"),
        (PASS_LABEL, "TLS SNI"),
    }
    assert all("case-folded" in leak.form for leak in leaks if leak.where == "TLS SNI")


LARGE_GZIP_SENDER = """\
import gzip, http.client, json, os, zlib
secret = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])["event_session_open"]
secret = secret["connection_envs"]["envvar:PASS"]
packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip, written a piece at a time
body = [packer.compress(b"\\0" * (1 << 20)) for _ in range(300)]  # 300 MiB of padding...
body += [packer.compress(secret.encode()), packer.flush()]  # ...then the secret
proxy = os.environ["HTTP_PROXY"]
user_password, address = proxy.split("//", 1)[1].rsplit("@", 1)
import base64
connection = http.client.HTTPConnection(*address.split(":"), timeout=60)
connection.request("POST", "http://siem.example.com/events", body=b"".join(body), headers={
    "Content-Encoding": "gzip",
    "Proxy-Authorization": "Basic " + base64.b64encode(user_password.encode()).decode(),
})
print(connection.getresponse().status)
"""


def test_a_secret_at_the_end_of_a_body_that_decodes_past_256_mib_is_found():
    with Capture() as capture:
        canaries = fire(capture, LARGE_GZIP_SENDER)
        [request] = capture.requests
        assert request.body_size < 1 << 20  # what travelled is small...
        assert request.content == request.body  # ...and decodes past the memory cap
        leaks = find_leaks([request], canaries)
    assert (PASS_LABEL, "body", "gzip") in {(leak.label, leak.where, leak.form) for leak in leaks}
    assert {leak.where for leak in leaks} == {"body"}
