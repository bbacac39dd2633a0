"""The live page's server (``hookdk watch --ui``) as any local process could reach it:
nothing without the token, and one clear line when the port is taken."""

from __future__ import annotations

import html
import json
import socket
import urllib.error
import urllib.request

import pytest
from run_hookdk import Watch, hookdk

PRINTER = "print('version {n}')\n"


def test_the_live_page_answers_only_its_token(runbooks):
    repo = runbooks.hooks(PRINTER.format(n=1), PRINTER.format(n=1))
    watch = Watch(repo.root)
    try:
        base = watch.url.rsplit("/", 2)[0]
        token = watch.url.rstrip("/").rsplit("/", 1)[1]
        for path in ("/", f"/{token}", f"/{token[:-1]}/", f"/{token}x/", f"/{token}/../"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 404, path
            assert token not in refused.value.read().decode()
        # a page on another host name (DNS rebinding) is refused even with the token
        other = urllib.request.Request(watch.url, headers={"Host": "attacker.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(other, timeout=10)
        assert refused.value.code == 404
        with urllib.request.urlopen(watch.url, timeout=10) as page:
            assert page.headers["Cache-Control"] == "no-store"
            assert "default-src 'none'" in html.unescape(page.read().decode())
    finally:
        assert watch.stop() == 0


def test_a_taken_port_is_one_line_and_exit_2(runbooks):
    repo = runbooks.hooks(PRINTER.format(n=1), PRINTER.format(n=1))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = hookdk("watch", "--ui", "--port", str(port), "--repo", str(repo.root))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"hookdk: error: --port {port}: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in done.stderr


# --- the server itself, in this process -------------------------------------------------------


def events(stream, count: int) -> list[dict[str, str]]:
    """The next ``count`` server-sent events (comments and retry lines skipped)."""
    found: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    while len(found) < count:
        line = stream.readline().decode().rstrip("\n")
        if not line:
            if "event" in fields:
                found.append(fields)
            fields = {}
        elif not line.startswith((":", "retry:")):
            name, _, value = line.partition(": ")
            fields[name] = value
    return found


def test_runs_stream_in_order_a_reconnecting_page_gets_only_what_it_missed_and_close_says_stop():
    from hoophooks_dk.report.live import LiveServer

    with LiveServer(lambda runs, after: f"<p>{len(runs)} runs, last {after}</p>") as server:
        for number in (1, 2):
            server.publish(number, f"run-{number}", f"<section>{number}</section>", f"run {number}")
        with urllib.request.urlopen(server.url, timeout=10) as page:
            assert page.read() == b"<p>2 runs, last 2</p>"
        resumed = urllib.request.Request(server.url + "events", headers={"Last-Event-ID": "1"})
        stream = urllib.request.urlopen(resumed, timeout=10)
        assert stream.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        (second,) = events(stream, 1)
        assert (second["id"], second["event"]) == ("2", "run")
        assert json.loads(second["data"])["html"] == "<section>2</section>"
        server.publish(3, "run-3", "<section>3</section>", "run 3", "<section id=settings>")
        (third,) = events(stream, 1)
        assert json.loads(third["data"])["settings"] == "<section id=settings>"
    (stop,) = events(stream, 1)  # the server closed: the page hears it
    assert stop["event"] == "stop"
    assert stream.read() == b""
