"""Capture figures for ``run.py``: keep-alive latency per client, throughput under load,
and memory on a large body.

(k) per-request latency on a kept-alive connection, each client through the capture
    against the same client talking straight to a plain local HTTPS server: at most 3x.
    urllib opens a new connection per request (it has no keep-alive), on both sides.
(l) time per request with 8 concurrent keep-alive clients, capture against plain
    server: at most 3x.
(m) peak memory growth of a process running a Capture while a large body is posted
    through it (peak resident size during the upload minus the resident size just
    before it), as a share of the body's size: at most 0.25x (bodies are spooled to disk).
(n) a request's latency (urllib through the capture, a new connection each) while
    10,000 other clients (1,000 with --quick) hold half-sent request heads, against the
    same with none: at most 1.5x, with the capture's process under 100 threads (each of
    those clients used to hold a thread of its own).

The plain server is ``http.server`` over TLS with ``TCP_NODELAY`` (without it, its two
writes per response would meet Nagle's algorithm and make the baseline ~40 ms slow).
Clients run in their own processes; each reports its own median, measured after a
warm-up request, so process start-up is not part of any figure.
"""

from __future__ import annotations

import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from hoophooks_dk.capture.capture import Capture

CLIENTS = ("curl", "urllib", "requests", "httpx", "http.client")

# Each prints the median milliseconds per request over REQUESTS requests to URL, after
# one warm-up request; PROXY_AUTH is set only when going through the capture.
PYTHON_CLIENTS = {
    "urllib": """
        import urllib.request
        def send():
            urllib.request.urlopen(URL, data=b'{"e": 1}').read()
    """,
    "requests": """
        import requests
        session = requests.Session()
        def send():
            session.post(URL, data=b'{"e": 1}').content
    """,
    "httpx": """
        import httpx
        client = httpx.Client()
        def send():
            client.post(URL, content=b'{"e": 1}').read()
    """,
    "http.client": """
        import http.client, ssl, urllib.parse
        target = urllib.parse.urlsplit(URL)
        proxy = os.environ.get("HTTPS_PROXY")
        if proxy:
            proxy = urllib.parse.urlsplit(proxy)
            conn = http.client.HTTPSConnection(proxy.hostname, proxy.port, context=ssl.create_default_context())
            conn.set_tunnel(target.hostname, target.port, headers={"Proxy-Authorization": os.environ["PROXY_AUTH"]})
        else:
            conn = http.client.HTTPSConnection(target.hostname, target.port, context=ssl.create_default_context())
        def send():
            conn.request("POST", target.path, body=b'{"e": 1}')
            conn.getresponse().read()
    """,
}
TIMING = """
import os, statistics, sys, time
URL, REQUESTS = sys.argv[1], int(sys.argv[2])
{client}
send()
times = []
for _ in range(REQUESTS):
    started = time.perf_counter()
    send()
    times.append(time.perf_counter() - started)
print(statistics.median(times) * 1000)
"""
LOAD = """
import os, sys, threading, time, httpx
URL, REQUESTS, THREADS = sys.argv[1], int(sys.argv[2]), 8
clients = [httpx.Client() for _ in range(THREADS)]
for client in clients:
    client.post(URL, content=b"warm")
start = threading.Barrier(THREADS + 1)
def work(client):
    start.wait()
    for _ in range(REQUESTS):
        client.post(URL, content=b'{"e": 1}').read()
threads = [threading.Thread(target=work, args=(c,)) for c in clients]
for thread in threads:
    thread.start()
start.wait()
started = time.perf_counter()
for thread in threads:
    thread.join()
print((time.perf_counter() - started) / (REQUESTS * THREADS) * 1000)
"""
MEMORY = """
import resource, subprocess, sys, os
from hoophooks_dk.capture.capture import Capture
upload = sys.argv[1]
def resident_kb():
    # now, not the peak so far (the peak may lie in start-up): Linux's statm, else the peak
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
def post(data):
    subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "--data-binary", data, "https://siem.example.com/big"],
        env=os.environ | capture.environ(), check=True,
    )
with Capture() as capture:
    # a small HTTPS request first: the TLS stack and the CA load on the first CONNECT, and
    # that one-off cost is not the body's
    post("warm-up")
    capture.wait_idle(60)
    before = resident_kb()
    post("@" + upload)
    capture.wait_idle(60)
    assert capture.requests[-1].body_size == os.path.getsize(upload)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
print(max(0, peak - before) * 1024)
"""


# Half-sent heads: CLIENTS connections to the capture's port, each sending half a request
# head; "ready" once all are sent, then held until stdin closes. A process of its own:
# both ends of 10,000 connections in one process would pass a usual descriptor limit.
HALF_HEADS = """
import socket, sys
from hoophooks_dk.capture.proxy_server import raise_fd_limit
raise_fd_limit()
port, clients, crowd = int(sys.argv[1]), int(sys.argv[2]), []
for n in range(clients):
    crowd.append(socket.create_connection(("127.0.0.1", port)))
    crowd[-1].sendall(b"POST http://siem.example.com/%d HTTP/1.1\\r\\nX-Half: " % n)
print("ready", flush=True)
sys.stdin.read()
"""
# The capture's process: a request's median latency with no crowd, then among the crowd
# once the capture has read every half head, and the threads it runs meanwhile.
CROWD = """
import statistics, subprocess, sys, threading, time, urllib.request
from hoophooks_dk.capture.capture import Capture
HALF_HEADS, CLIENTS, REQUESTS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def median_ms(capture):
    proxy = capture.environ()["HTTP_PROXY"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        opener.open(urllib.request.Request("http://siem.example.com/e", data=b"{}")).read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
with Capture() as capture:
    median_ms(capture)  # warm: the HTTP stack loads with the first request
    alone = median_ms(capture)
    server = capture._running()
    crowd = subprocess.Popen([sys.executable, "-c", HALF_HEADS, str(server.port), str(CLIENTS)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert crowd.stdout.readline() == "ready\\n"
    while True:
        with server.lock:
            if sum(c.partial for c in server._waiting) >= CLIENTS:
                break
        time.sleep(0.05)
    among = median_ms(capture)
    threads = threading.active_count()
    crowd.stdin.close()
    crowd.wait()
print(alone, among, threads)
"""


def _crowd(quick: bool, ratio_type) -> object:
    clients = 1000 if quick else 10_000
    done = subprocess.run(
        [sys.executable, "-c", CROWD, HALF_HEADS, str(clients), "20" if quick else "100"],
        capture_output=True,
        text=True,
        check=True,
    )
    alone, among, threads = (float(word) for word in done.stdout.split())
    ratio = among / alone
    return ratio_type(
        "n",
        f"a request among {clients:,} clients holding half-sent heads, against none; "
        f"the capture's process ran {threads:.0f} threads among them",
        ratio,
        "<= 1.5x, < 100 threads",
        ratio <= 1.5 and threads < 100,
        {"request, no crowd": round(alone, 3), "request, in the crowd": round(among, 3)},
    )


class _Plain(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def plain_server(folder: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server without the capture; its URL and the CA that signed it."""
    ca = trustme.CA()
    ca_file = folder / "plain-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Plain)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/ingest", ca_file
    finally:
        server.shutdown()
        server.server_close()


def _plain_env(ca_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    bundles = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    return env | {name: str(ca_file) for name in bundles} | {"NO_PROXY": "*"}


def _capture_env(capture: Capture) -> dict[str, str]:
    return dict(os.environ) | capture.environ() | {"PROXY_AUTH": capture.proxy_authorization}


def _client_ms(client: str, url: str, env: dict[str, str], requests: int) -> float:
    if client == "curl":
        argv = ["curl", "-sS", "-d", '{"e": 1}', "-w", "%{time_total}\n"]
        for _ in range(requests + 1):  # one connection, reused for every URL
            argv += ["-o", os.devnull, url]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        seconds = [float(line) for line in done.stdout.split()][1:]  # after the first
        return statistics.median(seconds) * 1000
    code = TIMING.format(client=textwrap.dedent(PYTHON_CLIENTS[client]))
    done = subprocess.run(
        [sys.executable, "-c", code, url, str(requests)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def measure_capture_holds(quick: bool, ratio_at_most, ratio_type) -> list:
    """The (k), (l) and (m) rows, built with run.py's own Ratio helpers."""
    requests = 20 if quick else 200
    rounds = 1 if quick else 5
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="hookdk-bench-capture-") as folder,
        Capture() as capture,
        plain_server(Path(folder)) as (plain_url, ca_file),
    ):
        # the same host name on both sides would need DNS; the capture never resolves
        captured_url = "https://siem.example.com/ingest"
        for client in CLIENTS:
            via, plain = [], []
            for _ in range(rounds):  # alternate, so a busier machine slows both
                via.append(_client_ms(client, captured_url, _capture_env(capture), requests))
                plain.append(_client_ms(client, plain_url, _plain_env(ca_file), requests))
                capture.reset()
            slow, fast = statistics.median(via), statistics.median(plain)
            rows.append(
                ratio_at_most(
                    f"k-{client}",
                    f"{client}: per request on a kept-alive connection, capture vs plain server",
                    slow,
                    fast,
                    3,
                    {
                        "through the capture": round(slow, 3),
                        "plain local server": round(fast, 3),
                    },
                )
            )
        load = 10 if quick else 100
        via = _load_ms(captured_url, _capture_env(capture), load)
        capture.reset()
        plain = _load_ms(plain_url, _plain_env(ca_file), load)
        rows.append(
            ratio_at_most(
                "l",
                f"httpx, 8 concurrent keep-alive clients x {load} requests: time per request",
                via,
                plain,
                3,
                {"through the capture": round(via, 3), "plain local server": round(plain, 3)},
            )
        )
    rows.append(_memory(quick, ratio_type))
    rows.append(_crowd(quick, ratio_type))
    return rows


def _load_ms(url: str, env: dict[str, str], requests: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, url, str(requests)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def _memory(quick: bool, ratio_type) -> object:
    size = (20 if quick else 200) * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="hookdk-bench-memory-") as folder:
        upload = Path(folder) / "big.bin"
        with upload.open("wb") as file:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                file.write(block)
        done = subprocess.run(
            [sys.executable, "-c", MEMORY, str(upload)],
            capture_output=True,
            text=True,
            check=True,
        )
    growth = int(done.stdout)
    ratio = growth / size
    return ratio_type(
        "m",
        f"peak memory growth of a Capture receiving a {size // 2**20} MB body, share of its size",
        ratio,
        "<= 0.25x",
        ratio <= 0.25,
        {"body": size / 2**20, "peak memory growth": round(growth / 2**20, 1)},
        unit="MB",
    )
