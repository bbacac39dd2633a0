"""Bodies are recorded as sent and decoded as the SIEM reads them; trailers are kept;
large bodies go to disk.

Clients are real (requests, curl) in real subprocesses; chunked trailers are written on a
raw socket, since no common client sends them.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import zlib

import pytest
from proxy_helpers import SIEM, auth, connect

from hoophooks_dk.capture.bodies import SpooledBody, decodable_encodings, decode
from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.leaks import find_leaks

EVENT = {"sid": "s-1", "connection_envs": {"envvar:PASSWORD": "c2VjcmV0LXZhbHVlLTQy"}}


def post_encoded(capture: Capture, encoding: str) -> None:
    """requests posts the event compressed, as a hook saving bandwidth would."""
    code = f"""
    import gzip, json, requests, zlib
    body = json.dumps({EVENT!r}).encode()
    encoded = {{
        "gzip": gzip.compress(body),
        "deflate": zlib.compress(body),
        "raw-deflate": zlib.compress(body)[2:-4],
        "gzip, identity": gzip.compress(body),
        "x-unknown": body,
    }}[{encoding!r}]
    coding = "deflate" if {encoding!r} == "raw-deflate" else {encoding!r}
    requests.post({SIEM!r}, data=encoded, headers={{"Content-Encoding": coding}}).raise_for_status()
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=os.environ | capture.environ(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert capture.wait_idle()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "gzip, identity"])
def test_an_encoded_body_is_kept_raw_and_decoded_for_text_json_and_content(capture, encoding):
    post_encoded(capture, encoding)

    [request] = capture.requests
    assert request.body != request.content  # still compressed, as it went over the wire
    assert request.json() == EVENT
    assert json.loads(request.text) == EVENT
    assert request.to_dict()["body"] == request.text


def test_an_unknown_coding_leaves_the_body_raw(capture):
    post_encoded(capture, "x-unknown")

    [request] = capture.requests
    assert request.content == request.body
    assert request.json() == EVENT


def test_a_secret_sent_gzipped_is_found_as_a_leak(capture):
    post_encoded(capture, "gzip")

    [leak] = find_leaks(capture.requests, {"password": "c2VjcmV0LXZhbHVlLTQy"})
    assert (leak.where, leak.form) == ("body", "gzip")


def test_curl_compressed_request_body_is_decoded(capture, tmp_path):
    upload = tmp_path / "event.json.gz"
    upload.write_bytes(gzip.compress(json.dumps(EVENT).encode()))

    done = subprocess.run(
        ["curl", "-sS", "-H", "Content-Encoding: gzip", "--data-binary", f"@{upload}", SIEM],
        env=os.environ | capture.environ(),
        capture_output=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert capture.wait_idle()
    assert capture.requests[0].json() == EVENT


def test_chunked_trailers_are_recorded(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"POST http://siem.example.com/events HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n"
            b"Connection: close\r\n\r\n"
            b"5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\n\r\n"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")

    assert capture.wait_idle()
    [request] = capture.requests
    assert request.body == b"hello"
    assert request.trailers == [("X-Checksum", "5d41402a")]
    assert request.to_dict()["trailers"] == [["X-Checksum", "5d41402a"]]


def test_a_large_body_goes_to_disk_and_reads_back_whole():
    capture = Capture()
    capture.spool_threshold = 64 * 1024
    capture.router.post(SIEM, content__contains=b"needle").respond(201)
    with capture:
        code = f"""
        import requests
        big = b"x" * 300_000 + b"needle" + b"y" * 300_000
        print(requests.post({SIEM!r}, data=big).status_code)
        print(requests.post({SIEM!r}, data=b"small").status_code)
        """
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=os.environ | capture.environ(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["201", "200"]  # the route read the spooled body
        assert capture.wait_idle()
        big, small = capture.requests
        assert isinstance(big._body, SpooledBody) and not isinstance(small._body, SpooledBody)
        spooled = big._body.path
        assert spooled.parent.parent == capture.folder
        assert big.body_size == 600_006
        assert big.body == b"x" * 300_000 + b"needle" + b"y" * 300_000
        capture.reset()
        assert not spooled.exists()  # forgotten requests free their disk too


def test_decode_refuses_a_body_that_would_expand_past_the_cap(monkeypatch):
    from hoophooks_dk.capture import bodies

    monkeypatch.setattr(bodies, "MAX_DECODED", 1000)
    with pytest.raises(bodies.DecodeError):
        decode(gzip.compress(b"a" * 5000), "gzip")
    assert decode(zlib.compress(b"a" * 500), "deflate") == b"a" * 500


def test_decodable_encodings_lists_the_standard_ones():
    listed = decodable_encodings()
    assert {"gzip", "deflate", "aws-chunked"} <= set(listed)
    assert "identity" not in listed


GZIP_FORWARDER = """\
import gzip, os, urllib.request

raw = gzip.compress(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"].encode())
request = urllib.request.Request(
    "https://siem.example.com/raw", data=raw, headers={"Content-Encoding": "gzip"}
)
urllib.request.urlopen(request, timeout=5)
"""


def test_hookdk_check_finds_the_leak_in_a_gzipped_payload(hook_repo):
    """Compressing the raw payload does not hide it from the leak checks (HK503, HK504)."""
    from hoophooks_dk.check import check

    rules = {f.rule for f in check(hook_repo(GZIP_FORWARDER).root, timeout=10.0)}

    assert {"HK503", "HK504"} <= rules
