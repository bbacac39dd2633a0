"""The capture records what real HTTP clients send, in real subprocesses, as a hook would.

Every client runs in its own process whose environment is ``os.environ |
capture.environ()``, exactly what the emulator gives a hook, and verifies TLS against
the capture's CA (only ``test_a_hook_that_skips_verification_is_captured_too``
turns verification off, on purpose).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import trustme
from hook_sources import DOCS_HOOK

from hoophooks_dk.capture.capture import NO_ROUTE, Capture

SIEM = "https://siem.example.com/events"


@pytest.fixture
def capture():
    with Capture() as running:
        yield running


def run_python(capture: Capture, code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter pointed at the capture; return its stdout."""
    return run(capture, [sys.executable, "-c", textwrap.dedent(code)], **env)


def run(capture: Capture, argv: list[str], stdin: str | None = None, **env: str) -> str:
    proc = subprocess.run(
        argv,
        input=stdin,
        env=os.environ | capture.environ() | env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, f"{argv[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    assert capture.wait_idle()
    return proc.stdout + proc.stderr


POST_WITH_URLLIB = """
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], data=sys.argv[2].encode()).read()
except urllib.error.HTTPError as error:
    print(error.code)
"""


def post(capture: Capture, url: str, body: str = "") -> str:
    """The smallest hook: POST ``body`` to ``url`` with urllib, in its own process."""
    return run(capture, [sys.executable, "-c", POST_WITH_URLLIB, url, body])


# --- a hook as Hoop's documentation writes it (hook_sources.DOCS_HOOK) -----------------

PAYLOAD = {
    "id": "5a1e0f0e-8a47-5c4d-9d4e-1f2a3b4c5d6e",
    "sid": "8c59a347-62bd-4db2-a456-2b25963dfebf",
    "command": ["python3"],
    "input_file": DOCS_HOOK,
    "event_session_open": None,
    "event_session_close": {"exit_code": 0, "output": None},
}


def test_a_docs_style_hook_posting_with_curl_is_captured_without_changes(capture):
    """The script goes to python3 on stdin with the payload in the environment, as in Hoop."""
    python3 = shutil.which("python3") or sys.executable
    out = run(
        capture,
        [python3],
        stdin=DOCS_HOOK,
        HOOP_RUNBOOK_HOOK_PAYLOAD=json.dumps(PAYLOAD),
    )

    assert f"forwarded {PAYLOAD['id']}" in out
    [request] = capture.requests
    assert (request.method, request.url) == ("POST", "https://siem.example.com/hoop/events")
    assert request.header("content-type") == "application/json"
    assert request.json() == PAYLOAD
    assert request.response.status == 200
    assert request.matched is False


# --- curl ------------------------------------------------------------------------------


def test_curl_plain_http_keeps_repeated_headers_in_order(capture):
    run(
        capture,
        [
            "curl",
            "-sS",
            "-H",
            "X-Tag: one",
            "-H",
            "X-Tag: two",
            "-d",
            "a=1",
            "http://siem.example.com/in",
        ],
    )

    [request] = capture.requests
    assert request.url == "http://siem.example.com/in"
    assert [v for k, v in request.headers if k == "X-Tag"] == ["one", "two"]
    assert request.header("x-tag") == "one"
    assert request.body == b"a=1"


def test_curl_https_keeps_scheme_host_and_query(capture):
    capture.router.post(f"{SIEM}?x=1").respond(202, json={"ok": True})

    out = run(capture, ["curl", "-sS", "--data-binary", '{"e": 1}', f"{SIEM}?x=1"])

    assert json.loads(out) == {"ok": True}
    [request] = capture.requests
    assert request.url == f"{SIEM}?x=1"
    assert request.json() == {"e": 1}
    assert (request.response.status, request.matched) == (202, True)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_curl_expect_100_continue_gets_continue_then_the_body_is_read(capture, scheme):
    body = "x" * 2048
    out = run(
        capture,
        [
            "curl",
            "-sS",
            "-v",
            "-H",
            "Expect: 100-continue",
            "-d",
            body,
            f"{scheme}://siem.example.com/big",
        ],
    )

    assert "< HTTP/1.1 100 Continue" in out
    [request] = capture.requests
    assert request.header("expect") == "100-continue"
    assert request.text == body


def test_curl_adds_expect_on_its_own_for_a_large_upload(capture, tmp_path):
    """curl decides by itself when to send Expect (over 1 KB or 1 MB, by version)."""
    upload = tmp_path / "upload.bin"
    upload.write_bytes(os.urandom(1024 * 1024 + 4096))

    out = run(capture, ["curl", "-sS", "-v", "--data-binary", f"@{upload}", SIEM])

    [request] = capture.requests
    assert request.body == upload.read_bytes()
    if request.header("expect"):
        assert "< HTTP/1.1 100 Continue" in out


def test_curl_to_an_ip_literal_over_https_verifies(capture):
    run(capture, ["curl", "-sS", "-d", "ip", "https://10.20.30.40:8443/ingest"])

    [request] = capture.requests
    assert request.url == "https://10.20.30.40:8443/ingest"


# --- Python clients --------------------------------------------------------------------


def test_urllib_https_post(capture):
    out = run_python(
        capture,
        """
        import json, urllib.request
        req = urllib.request.Request(
            "https://siem.example.com/events", data=json.dumps({"via": "urllib"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            print(resp.status, resp.read().decode())
        """,
    )

    assert out.strip() == "200 {}"
    [request] = capture.requests
    assert (request.method, request.url, request.json()) == ("POST", SIEM, {"via": "urllib"})


def test_requests_session_keeps_one_connection_alive(capture):
    out = run_python(
        capture,
        """
        import logging, requests
        opened = []
        logger = logging.getLogger("urllib3.connectionpool")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(logging.Handler())
        logger.handlers[-1].emit = lambda record: opened.append("Starting new" in record.getMessage())
        session = requests.Session()
        for n in range(3):
            session.post("https://siem.example.com/events", json={"n": n}).raise_for_status()
        print(sum(opened))
        """,
    )

    assert out.strip() == "1"
    assert [r.json() for r in capture.requests] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [r.index for r in capture.requests] == [0, 1, 2]


def test_httpx_sync_client(capture):
    capture.router.put("https://siem.example.com/doc/1").respond(201, text="made")

    out = run_python(
        capture,
        """
        import httpx
        with httpx.Client() as client:
            print(client.put("https://siem.example.com/doc/1", content=b"v1").text)
            print(client.get("http://siem.example.com/health").status_code)
        """,
    )

    assert out.split() == ["made", "200"]
    put, get = capture.requests
    assert (put.method, put.url, put.body, put.response.status) == (
        "PUT",
        "https://siem.example.com/doc/1",
        b"v1",
        201,
    )
    assert (get.method, get.url) == ("GET", "http://siem.example.com/health")


def test_http_client_through_a_tunnel_and_in_absolute_form(capture):
    out = run_python(
        capture,
        """
        import base64, http.client, os, ssl, urllib.parse
        proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
        secret = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
        auth = {"Proxy-Authorization": f"Basic {secret}"}  # http.client leaves it to us
        tls = http.client.HTTPSConnection(proxy.hostname, proxy.port, context=ssl.create_default_context())
        tls.set_tunnel("siem.example.com", 443, headers=auth)
        tls.request("POST", "/tunnel", body=b"secure", headers={"Content-Type": "text/plain"})
        print(tls.getresponse().status)
        plain = http.client.HTTPConnection(proxy.hostname, proxy.port)
        plain.request("POST", "http://siem.example.com/absolute", body=b"clear", headers=auth)
        print(plain.getresponse().status)
        """,
    )

    assert out.split() == ["200", "200"]
    tunnel, absolute = capture.requests
    assert (tunnel.url, tunnel.body) == ("https://siem.example.com/tunnel", b"secure")
    assert (absolute.url, absolute.body) == ("http://siem.example.com/absolute", b"clear")


def test_origin_form_sent_straight_to_the_proxy_uses_the_host_header(capture):
    out = run_python(
        capture,
        """
        import base64, http.client, os, urllib.parse
        proxy = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
        secret = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
        conn = http.client.HTTPConnection(proxy.hostname, proxy.port)
        conn.request(
            "POST", "/direct?q=1", body=b"d",
            headers={"Host": "siem.example.com", "Proxy-Authorization": f"Basic {secret}"},
        )
        print(conn.getresponse().status)
        """,
    )

    assert out.strip() == "200"
    assert capture.requests[0].url == "http://siem.example.com/direct?q=1"


def test_chunked_uploads_are_dechunked(capture):
    run_python(
        capture,
        """
        import base64, http.client, os, ssl, urllib.parse, requests
        def parts():
            yield b"first,"
            yield b"second,"
            yield b"third"
        requests.post("https://siem.example.com/chunks", data=parts()).raise_for_status()
        proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
        secret = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode()
        conn = http.client.HTTPSConnection(proxy.hostname, proxy.port, context=ssl.create_default_context())
        conn.set_tunnel("siem.example.com", headers={"Proxy-Authorization": f"Basic {secret}"})
        conn.request("POST", "/chunks", body=iter([b"a" * 5000, b"b" * 3]), encode_chunked=True)
        conn.getresponse().read()
        """,
    )

    via_requests, via_http_client = capture.requests
    assert via_requests.header("transfer-encoding") == "chunked"
    assert via_requests.body == b"first,second,third"
    assert via_http_client.header("transfer-encoding") == "chunked"
    assert via_http_client.body == b"a" * 5000 + b"b" * 3


# --- TLS verification is real ----------------------------------------------------------


def test_clients_reject_the_interception_without_the_capture_ca(capture, tmp_path):
    """Proof that the clients above verified: trusting another CA makes them all fail."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    env = os.environ | capture.environ()
    env |= {
        name: str(other_ca) for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    }
    env["SSL_CERT_DIR"] = str(tmp_path)
    clients = {
        "curl": ["curl", "-sS", "-d", "x", SIEM],
        "urllib": [
            sys.executable,
            "-c",
            f"import urllib.request as u; u.urlopen('{SIEM}', data=b'x')",
        ],
        "requests": [sys.executable, "-c", f"import requests; requests.post('{SIEM}', data=b'x')"],
        "httpx": [sys.executable, "-c", f"import httpx; httpx.post('{SIEM}', content=b'x')"],
    }

    for name, argv in clients.items():
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        assert proc.returncode != 0, name
        assert "certificate" in proc.stderr.lower() or "CERTIFICATE" in proc.stderr, (
            name,
            proc.stderr,
        )
    assert capture.wait_idle()
    assert capture.requests == []


def test_a_hook_that_skips_verification_is_captured_too(capture):
    run_python(
        capture,
        """
        import requests, urllib3
        urllib3.disable_warnings()
        requests.post("https://siem.example.com/events", data=b"unverified", verify=False)
        """,
    )

    assert capture.requests[0].body == b"unverified"


# --- programmed answers ----------------------------------------------------------------

RETRYING_CLIENT = """
import urllib.error, urllib.request
seen = []
for attempt in range(5):
    try:
        with urllib.request.urlopen("https://siem.example.com/events", data=b"try") as resp:
            seen.append(resp.status)
            break
    except urllib.error.HTTPError as error:
        seen.append(error.code)
print(*seen)
"""


def test_fail_twice_then_succeed_reaches_a_retrying_client_in_order(capture):
    route = capture.router.post(SIEM).mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": 1})]
    )

    out = run_python(capture, RETRYING_CLIENT)

    assert out.split() == ["503", "503", "200"]
    assert [r.response.status for r in capture.requests] == [503, 503, 200]
    assert route.call_count == 3
    assert route.calls.last.request.content == b"try"


def test_a_side_effect_that_raises_becomes_a_502_with_the_error(capture):
    def explode(request):
        raise RuntimeError("SIEM exploded")

    capture.router.post(SIEM).mock(side_effect=explode)

    out = run_python(
        capture,
        """
        import urllib.error, urllib.request
        try:
            urllib.request.urlopen("https://siem.example.com/events", data=b"x")
        except urllib.error.HTTPError as error:
            print(error.code, error.read().decode())
        """,
    )

    assert out.startswith("502 ") and "SIEM exploded" in out
    assert capture.requests[0].response.status == 502


def test_unmatched_requests_get_default_status_and_empty_json(capture):
    capture.default_status = 204
    capture.router.post(SIEM).respond(200)

    run_python(
        capture,
        """
        import requests
        print(requests.post("https://siem.example.com/events").status_code)
        print(requests.post("https://siem.example.com/other").status_code)
        """,
    )

    routed, unrouted = capture.requests
    assert (routed.matched, routed.response.status) == (True, 200)
    assert (unrouted.matched, unrouted.response.status) == (False, 204)
    assert capture.unmatched == []
    capture.check_strict()


def test_strict_mode_answers_502_lists_and_raises(capture):
    capture.strict = True
    capture.router.post(SIEM).respond(200)

    out = run_python(
        capture,
        """
        import requests
        print(requests.post("https://siem.example.com/events").status_code)
        unrouted = requests.post("https://siem.example.com/typo")
        print(unrouted.status_code, unrouted.text)
        """,
    )

    assert NO_ROUTE in out and "502" in out
    [unmatched] = capture.unmatched
    assert unmatched.url == "https://siem.example.com/typo"
    with pytest.raises(AssertionError, match="typo") as raised:
        capture.check_strict()
    assert NO_ROUTE in str(raised.value)


def test_reset_forgets_everything_but_keeps_proxy_and_ca(capture):
    proxy, ca = capture.proxy_url, capture.ca_path
    capture.strict, capture.default_status = True, 500
    capture.router.post(SIEM).respond(418)
    post(capture, SIEM)
    post(capture, "https://siem.example.com/x")

    capture.reset()

    assert (capture.requests, capture.unmatched, list(capture.router.routes)) == ([], [], [])
    assert (capture.strict, capture.default_status) == (False, 200)
    assert (capture.proxy_url, capture.ca_path) == (proxy, ca)
    assert post(capture, SIEM) == ""
    [after] = capture.requests
    assert (after.index, after.response.status) == (0, 200)


def test_requests_since_a_mark(capture):
    post(capture, "https://siem.example.com/before")
    mark = capture.mark()
    post(capture, "https://siem.example.com/after")

    assert [r.url for r in capture.requests_since(mark)] == ["https://siem.example.com/after"]
    assert len(capture.requests) == 2


# --- the model -------------------------------------------------------------------------


def test_captured_request_helpers_and_to_dict(capture):
    capture.router.post(SIEM).respond(201, json={"id": 7})
    run_python(
        capture,
        """
        import requests
        requests.post("https://siem.example.com/events", data='{"café": "ok"}'.encode(), headers={"X-Api-Key": "k1"})
        requests.post("https://siem.example.com/events", data=b"\\xff not json")
        """,
    )

    good, bad = capture.requests
    assert good.json() == {"café": "ok"}
    assert good.text == '{"café": "ok"}'
    assert good.header("x-api-key") == good.header("X-API-KEY") == "k1"
    assert good.header("missing") is None
    assert good.response.body == b'{"id":7}'
    assert good.time <= bad.time
    as_dict = good.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["method"] == "POST" and as_dict["url"] == SIEM and as_dict["status"] == 201
    assert ["X-Api-Key", "k1"] in as_dict["headers"]
    assert bad.text.startswith("\ufffd not json")
    with pytest.raises(ValueError):
        bad.json()


def test_environ_and_ca_file_lifecycle():
    capture = Capture(fresh_ca=True).start()
    env = capture.environ()
    ca = Path(capture.ca_path)
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert capture.proxy_url.startswith("http://hookdk:")
    assert capture.proxy_url.rpartition("@")[2].startswith("127.0.0.1:")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        assert env[name] == capture.proxy_url
    assert env["NO_PROXY"] == env["no_proxy"] == ""
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE"):
        assert env[name] == str(ca)

    capture.stop()

    assert not ca.parent.exists()
    with pytest.raises(RuntimeError, match="not started"):
        capture.environ()


def test_the_users_ca_is_kept_private_and_reused(tmp_path):
    folder = tmp_path / "ca"
    with Capture(ca_folder=folder) as first:
        pem = Path(first.ca_path).read_bytes()
        assert Path(first.ca_path).parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "hookdk-capture-ca-key.pem").stat().st_mode) == 0o600
    with Capture(ca_folder=folder) as second:
        assert Path(second.ca_path).read_bytes() == pem  # the same CA, not a new one
        assert_https_through(second)


def test_a_ca_folder_others_can_read_is_not_used(tmp_path):
    folder = tmp_path / "ca"
    Capture(ca_folder=folder).start().stop()
    folder.chmod(0o755)
    with Capture(ca_folder=folder) as capture:
        assert Path(capture.ca_path).parent == capture.folder  # a CA for this run instead
        assert_https_through(capture)


def test_starting_a_capture_imports_no_cryptography_until_a_tls_handshake(tmp_path):
    Capture(ca_folder=tmp_path / "ca").start().stop()  # the CA exists from now on
    script = (
        "import sys\n"
        "from hoophooks_dk.capture.capture import Capture\n"
        f"capture = Capture(ca_folder=__import__('pathlib').Path({str(tmp_path / 'ca')!r}))\n"
        "capture.start().environ()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('trustme', 'cryptography')))\n"
        "capture.stop()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_capture_no_client_reached_loads_no_http_parser_nor_tls(tmp_path):
    """``hookdk fire``'s start-up: the proxy loads h11, ssl and its decisions (``policy``)
    with its first client, the syslog receiver ssl with its first TLS client, so a hook
    that sends nothing (its ports handed out, never reached) pays for none of them."""
    Capture(ca_folder=tmp_path / "ca").start().stop()  # the CA exists from now on
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hoophooks_dk.capture.capture import Capture\n"
        f"capture = Capture(ca_folder=Path({str(tmp_path / 'ca')!r}), syslog=True).start()\n"
        "print(sorted(capture.environ(client='fire')))\n"
        "assert capture.wait_idle()\n"
        "loaded = ('h11', 'ssl', 'logging', 'hoophooks_dk.capture.policy')\n"
        "print(sorted(m for m in loaded if m in sys.modules))\n"
        "capture.stop()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "HOOKDK_SYSLOG_TLS_PORT" in done.stdout.splitlines()[0]
    assert done.stdout.splitlines()[1] == "[]"


def assert_https_through(capture: Capture) -> None:
    """One real HTTPS request through ``capture``, verified against its CA."""
    env = os.environ | capture.environ()
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "https://siem.example.test/x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout == "200", done.stderr


# --- failures in the test's own routes -----------------------------------------------------


def test_a_raising_side_effect_is_recorded_with_its_request_and_reraised(capture):
    def broken(request):
        raise KeyError("a bug in the test")

    capture.router.post(SIEM).mock(side_effect=broken)
    assert post(capture, SIEM, "x").strip() == "502"  # the hook still gets its answer
    [failure] = capture.failures
    assert failure.request is capture.requests[0] and failure.request.body == b"x"
    assert isinstance(failure.error, KeyError)
    with pytest.raises(KeyError) as raised:
        capture.raise_failure()
    assert raised.value is failure.error
    assert f"request #0 POST {SIEM}" in raised.value.__notes__[0]
    assert any(entry.name == "broken" for entry in raised.traceback)  # its own traceback
    capture.reset()
    assert capture.failures == []
    capture.raise_failure()  # nothing left to raise


def test_a_simulated_network_failure_is_not_recorded(capture):
    capture.router.post(SIEM).mock(side_effect=httpx.ConnectTimeout("down"))
    assert post(capture, SIEM).strip() == "502"
    assert capture.failures == []


def test_reset_restores_the_constructors_defaults():
    with Capture(strict=True, default_status=503) as capture:
        capture.strict, capture.default_status = False, 200
        capture.reset()
        assert (capture.strict, capture.default_status) == (True, 503)
