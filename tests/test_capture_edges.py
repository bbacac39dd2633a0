"""Protocol edges: plain HTTP inside CONNECT, input that is not HTTP/1.1, Host headers
that disagree with the tunnel, head size limits, and the certificate cache bound."""

from __future__ import annotations

import os
import ssl
import subprocess

import httpx
import pytest
import trustme
from proxy_helpers import auth, connect, read_until_closed

from hoophooks_dk.capture.certs import CertificateCache


def test_curl_proxytunnel_to_an_http_url_is_served(capture):
    """``curl -p``: CONNECT, then plain HTTP through the tunnel."""
    done = subprocess.run(
        ["curl", "-sS", "-p", "-d", "tunnelled", "http://siem.example.com/plain?x=1"],
        env=os.environ | capture.environ(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "{}"
    assert capture.wait_idle()
    [request] = capture.requests
    assert (request.url, request.text) == ("http://siem.example.com/plain?x=1", "tunnelled")
    assert request.host_mismatch is False


def test_the_http2_preface_gets_a_clear_400_and_is_not_recorded(capture):
    with connect(capture) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 400")
    assert b"HTTP/1.1 only, not HTTP/2.0" in answer
    assert capture.wait_idle()
    assert capture.requests == []


def test_http2_prior_knowledge_through_a_tunnel_is_closed_and_not_recorded(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"CONNECT siem.example.com:80 HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com:80\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        answer = read_until_closed(sock)

    assert b"HTTP/1.1 400" in answer
    assert capture.requests == []


def test_a_host_header_naming_another_host_is_kept_and_flagged(capture):
    verify = ssl.create_default_context(cafile=capture.ca_path)
    with httpx.Client(proxy=capture.proxy_url, verify=verify, trust_env=False) as client:
        client.post("https://siem.example.com/events", headers={"Host": "evil.example"})
        client.post("https://siem.example.com:443/ok", headers={"Host": "SIEM.example.com"})

    assert capture.wait_idle()
    spoofed, fine = capture.requests
    assert spoofed.url == "https://siem.example.com/events"
    assert spoofed.header("host") == "evil.example"
    assert spoofed.host_mismatch is True
    assert (fine.url, fine.host_mismatch) == ("https://siem.example.com/ok", False)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_head_size_limits_are_the_same_with_and_without_tls(capture, scheme):
    verify = ssl.create_default_context(cafile=capture.ca_path)
    with httpx.Client(proxy=capture.proxy_url, verify=verify, trust_env=False) as client:
        url = f"{scheme}://siem.example.com/events"
        fits = client.post(url, headers={"X-Big": "a" * 60_000})
        if scheme == "https":
            too_big = client.post(url, headers={"X-Big": "a" * 70_000})
        else:  # over plain HTTP the proxy closes after its 431; use a fresh client
            too_big = client.post(url, headers={"X-Big": "a" * 70_000, "Connection": "close"})

    assert fits.status_code == 200
    assert too_big.status_code == 431
    assert capture.wait_idle()
    assert [len(r.header("x-big")) for r in capture.requests] == [60_000]


def test_the_certificate_cache_is_bounded_and_keeps_the_recent_ones():
    cache = CertificateCache(trustme.CA(), max_size=3)
    first = cache.context_for("a.example")
    for host in ("b.example", "c.example", "a.example", "d.example"):
        cache.context_for(host)

    assert len(cache) == 3
    assert cache.context_for("a.example") is first  # used recently: kept
    assert cache.context_for("b.example") is not None  # evicted, made again on demand
    assert len(cache) == 3
