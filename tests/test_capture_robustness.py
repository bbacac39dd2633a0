"""The capture survives crowds, broken clients and clients that leave early.

Broken clients are written by hand on raw sockets (nothing else sends garbage on
purpose); after each one a well-behaved httpx client proves the proxy still serves.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import textwrap

import httpx
from proxy_helpers import SIEM, auth, connect, read_until_closed

from hoophooks_dk.capture.capture import Capture


def still_serving(capture: Capture) -> None:
    """A normal HTTPS request through the proxy still works, and is recorded."""
    verify = ssl.create_default_context(cafile=capture.ca_path)
    with httpx.Client(proxy=capture.proxy_url, verify=verify, trust_env=False) as client:
        assert client.post(SIEM, content=b"still here").status_code == 200
    assert capture.wait_idle()
    assert capture.requests[-1].body == b"still here"


def test_fifty_concurrent_clients_are_all_captured(capture):
    script = textwrap.dedent(
        """
        import threading, urllib.request
        from concurrent.futures import ThreadPoolExecutor
        start = threading.Barrier(50)
        def send(n):
            start.wait()
            body = f"event-{n}".encode()
            with urllib.request.urlopen("https://siem.example.com/events", data=body) as r:
                return r.status
        with ThreadPoolExecutor(50) as pool:
            print(sorted(set(pool.map(send, range(50)))))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=os.environ | capture.environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[200]"
    assert capture.wait_idle()
    requests = capture.requests
    assert sorted(r.text for r in requests) == sorted(f"event-{n}" for n in range(50))
    assert [r.index for r in requests] == list(range(50))


def test_garbage_bytes_get_a_400_and_close_only_that_connection(capture):
    with connect(capture) as sock:
        sock.sendall(b"\x00\x01\x02 this is not http\r\n\r\n")
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 400")
    assert capture.requests == []
    still_serving(capture)


def test_a_client_that_leaves_mid_body_is_not_recorded(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"POST http://siem.example.com/events HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\nContent-Length: 100\r\n\r\nonly ten b"
        )

    assert capture.wait_idle()
    assert capture.requests == []
    still_serving(capture)


def test_a_bad_tls_handshake_closes_that_tunnel_only(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"CONNECT siem.example.com:443 HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com:443\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.sendall(b"\x16\x03\x01\x00\x05hello")  # a handshake record that is nonsense
        leftovers = read_until_closed(sock)

    assert b"HTTP" not in leftovers
    assert capture.requests == []
    still_serving(capture)


def test_a_client_that_leaves_right_after_connect(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"CONNECT siem.example.com:443 HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n\r\n"
        )

    assert capture.wait_idle()
    still_serving(capture)


def test_a_stuck_client_is_dropped_after_the_socket_timeout():
    capture = Capture()
    capture.socket_timeout = 0.2
    with capture, connect(capture) as stuck:
        stuck.sendall(
            b"POST http://siem.example.com/events HTTP/1.1\r\n" + auth(capture) + b"Host: siem"
        )
        still_serving(capture)  # served while the stuck client holds its own thread
        assert read_until_closed(stuck) == b""


def test_wait_idle_waits_for_a_half_sent_request_then_sees_it_recorded(capture):
    with connect(capture) as sock:
        sock.sendall(
            b"POST http://siem.example.com/events HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n"
        )
        assert capture.wait_idle(timeout=0.2) is False
        sock.sendall(b"Content-Length: 4\r\nConnection: close\r\n\r\nlate")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 200 OK")

    assert capture.wait_idle()
    assert capture.requests[0].body == b"late"


def test_a_fire_and_forget_client_is_recorded_once_wait_idle_returns(capture):
    """A hook that sends and exits without reading the answer still counts."""
    for n in range(5):
        with connect(capture) as sock:
            sock.sendall(
                b"POST http://siem.example.com/events HTTP/1.1\r\n"
                + auth(capture)
                + b"Host: siem.example.com\r\n"
                b"Content-Length: 1\r\n\r\n" + str(n).encode()
            )

    assert capture.wait_idle()
    assert sorted(r.text for r in capture.requests) == ["0", "1", "2", "3", "4"]


def test_pipelined_requests_on_one_connection_are_answered_in_order(capture):
    capture.router.get("http://siem.example.com/a").respond(201)
    capture.router.get("http://siem.example.com/b").respond(202)
    with connect(capture) as sock:
        sock.sendall(
            b"GET http://siem.example.com/a HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n\r\n"
            b"GET http://siem.example.com/b HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = read_until_closed(sock)

    assert answer.index(b"HTTP/1.1 201") < answer.index(b"HTTP/1.1 202")
    assert [r.url for r in capture.requests] == [
        "http://siem.example.com/a",
        "http://siem.example.com/b",
    ]


def test_head_gets_headers_only_and_the_connection_stays_usable(capture):
    capture.router.head("http://siem.example.com/ping").respond(200, text="never sent")
    with connect(capture) as sock:
        sock.sendall(
            b"HEAD http://siem.example.com/ping HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n\r\n"
        )
        sock.sendall(
            b"GET http://siem.example.com/next HTTP/1.1\r\n"
            + auth(capture)
            + b"Host: siem.example.com\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = read_until_closed(sock)

    assert b"never sent" not in answer
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert [r.method for r in capture.requests] == ["HEAD", "GET"]


def test_stop_closes_idle_keep_alive_connections():
    capture = Capture().start()
    sock = connect(capture)
    sock.sendall(
        b"GET http://siem.example.com/ HTTP/1.1\r\n"
        + auth(capture)
        + b"Host: siem.example.com\r\n\r\n"
    )
    answer = b""
    while not answer.endswith(b"{}"):
        answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200")

    capture.stop()

    assert read_until_closed(sock) == b""
    sock.close()


def test_the_certificate_follows_sni_when_it_differs_from_the_connect_host(capture):
    with connect(capture) as raw:
        raw.sendall(
            b"CONNECT 192.0.2.10:443 HTTP/1.1\r\n" + auth(capture) + b"Host: 192.0.2.10:443\r\n\r\n"
        )
        assert raw.recv(1024).startswith(b"HTTP/1.1 200")
        verify = ssl.create_default_context(cafile=capture.ca_path)
        with verify.wrap_socket(raw, server_hostname="siem.example.com") as tls:
            tls.sendall(b"GET /sni HTTP/1.1\r\nHost: siem.example.com\r\nConnection: close\r\n\r\n")
            assert read_until_closed(tls).startswith(b"HTTP/1.1 200 OK")

    [request] = capture.requests
    assert request.url == "https://192.0.2.10/sni"  # where the connection was for
    assert request.header("host") == "siem.example.com"
    assert request.host_mismatch is True
    assert request.to_dict()["host_mismatch"] is True


def test_a_pass_through_route_is_answered_502_and_nothing_leaves(capture):
    capture.router.post(SIEM).pass_through()

    verify = ssl.create_default_context(cafile=capture.ca_path)
    with httpx.Client(proxy=capture.proxy_url, verify=verify, trust_env=False) as client:
        response = client.post(SIEM, content=b"x")

    assert response.status_code == 502
    assert "nothing leaves" in response.text
