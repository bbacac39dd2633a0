"""The capture's port is locked to the hooks the kit starts.

The proxy URL carries a per-run secret as proxy credentials. Every client a hook uses
sends them from the environment alone (proved below with real curl, urllib, requests and
httpx processes; boto3 in test_capture_aws.py); a stranger without them gets 407 and
nothing it sends is recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from proxy_helpers import SIEM, connect, read_until_closed

from hoophooks_dk.capture.capture import Capture

PLAIN = "http://siem.example.com/events"


CLIENTS = {
    "curl": lambda url: ["curl", "-sS", "-f", "-d", "hi", url],
    "urllib": lambda url: [
        sys.executable,
        "-c",
        f"import urllib.request as u; u.urlopen({url!r}, data=b'hi').read()",
    ],
    "requests": lambda url: [
        sys.executable,
        "-c",
        f"import requests; requests.post({url!r}, data=b'hi').raise_for_status()",
    ],
    "httpx": lambda url: [
        sys.executable,
        "-c",
        f"import httpx; httpx.post({url!r}, content=b'hi').raise_for_status()",
    ],
}


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("url", [SIEM, PLAIN])
def test_clients_send_the_secret_from_the_environment(capture, client, url):
    done = subprocess.run(
        CLIENTS[client](url),
        env=os.environ | capture.environ(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert capture.wait_idle()
    [request] = capture.requests
    assert (request.url, request.body) == (url, b"hi")
    assert request.header("proxy-authorization") is None  # the SIEM would never see it


def without_secret(capture: Capture, password: str | None = None) -> str:
    proxy = urlsplit(capture.proxy_url)
    credentials = f"hookdk:{password}@" if password is not None else ""
    return f"http://{credentials}{proxy.hostname}:{proxy.port}"


@pytest.mark.parametrize("url", [SIEM, PLAIN])
@pytest.mark.parametrize("password", [None, "guessed"])
def test_a_stranger_gets_407_and_is_not_recorded(capture, url, password):
    stranger = without_secret(capture, password)
    env = os.environ | capture.environ()
    env |= {name: stranger for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}

    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_connect}", "-d", "x", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert "407" in done.stdout.split() or "407" in done.stderr, (done.stdout, done.stderr)
    assert capture.wait_idle()
    assert capture.requests == []


def test_a_raw_connect_without_credentials_is_refused_with_a_reason(capture):
    with connect(capture) as sock:
        sock.sendall(b"CONNECT siem.example.com:443 HTTP/1.1\r\nHost: siem.example.com\r\n\r\n")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 407 Proxy Authentication Required")
    assert b'Proxy-Authenticate: Basic realm="hookdk"' in answer
    assert b"serves only the hooks hookdk starts" in answer
    assert capture.requests == []


def test_each_run_has_its_own_secret():
    with Capture() as one, Capture() as two:
        assert urlsplit(one.proxy_url).password != urlsplit(two.proxy_url).password
        assert len(urlsplit(one.proxy_url).password) >= 32
