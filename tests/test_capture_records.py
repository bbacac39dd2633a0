"""One record log for the proxy's requests and the syslog receiver's messages.

The log on its own (no sockets), then the capture with its receiver: one mark taken
before a hook runs sees both kinds, and the client-tag rule is the same for both.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from dataclasses import dataclass

import pytest

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.capture.records import HTTP, SYSLOG, RecordLog


@dataclass(frozen=True)
class Record:
    index: int
    name: str
    client: str = ""


def add(log: RecordLog, kind: str, name: str, client: str = "") -> Record:
    return log.append(kind, lambda index: Record(index, name, client))


# --- the log ---------------------------------------------------------------------------


def test_each_kind_is_numbered_from_0_in_one_order():
    log = RecordLog()
    for kind, name in [(HTTP, "a"), (SYSLOG, "b"), (HTTP, "c"), (SYSLOG, "d")]:
        add(log, kind, name)

    assert [(r.index, r.name) for r in log.since(0, kind=HTTP)] == [(0, "a"), (1, "c")]
    assert [(r.index, r.name) for r in log.since(0, kind=SYSLOG)] == [(0, "b"), (1, "d")]
    assert [r.name for r in log.since(0)] == ["a", "b", "c", "d"]


def test_one_mark_sees_what_came_after_it_of_every_kind():
    log = RecordLog()
    add(log, HTTP, "before")
    mark = log.mark()
    add(log, SYSLOG, "s")
    add(log, HTTP, "h")

    assert [r.name for r in log.since(mark)] == ["s", "h"]
    assert [r.name for r in log.since(mark, kind=HTTP)] == ["h"]
    assert log.mark() == mark + 2


def test_a_client_sees_its_own_and_the_untagged_records():
    log = RecordLog()
    for name, client in [("mine", "a"), ("theirs", "b"), ("shared", ""), ("mine too", "a")]:
        add(log, SYSLOG, name, client)

    assert [r.name for r in log.since(0, client="a")] == ["mine", "shared", "mine too"]
    assert [r.name for r in log.since(0, client="b")] == ["theirs", "shared"]
    assert len(log.since(0)) == 4  # no client: everything


def test_reset_renumbers_from_0_but_never_reuses_a_mark():
    log = RecordLog()
    add(log, HTTP, "old")
    mark = log.mark()
    forgotten = log.reset()
    add(log, HTTP, "new")

    assert [r.name for r in forgotten] == ["old"]
    assert [(r.index, r.name) for r in log.since(0)] == [(0, "new")]
    assert [r.name for r in log.since(mark)] == ["new"]  # a mark from before still reads on


def test_resetting_one_kind_keeps_the_other():
    log = RecordLog()
    add(log, HTTP, "h0")
    add(log, SYSLOG, "s0")
    add(log, HTTP, "h1")
    mark = log.mark()

    assert [r.name for r in log.reset(SYSLOG)] == ["s0"]
    add(log, SYSLOG, "s-again")
    add(log, HTTP, "h2")

    assert [(r.index, r.name) for r in log.since(0, kind=SYSLOG)] == [(0, "s-again")]
    assert [(r.index, r.name) for r in log.since(0, kind=HTTP)] == [(0, "h0"), (1, "h1"), (2, "h2")]
    assert [r.name for r in log.since(mark)] == ["s-again", "h2"]


def test_index_order_is_log_order_under_concurrent_appends():
    log = RecordLog()
    start = threading.Barrier(8)

    def append_many(kind: str) -> None:
        start.wait()
        for i in range(200):
            add(log, kind, f"{kind}{i}")

    threads = [threading.Thread(target=append_many, args=(kind,)) for kind in [HTTP, SYSLOG] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for kind in (HTTP, SYSLOG):
        assert [r.index for r in log.since(0, kind=kind)] == list(range(800))
    assert len(log.since(0)) == 1600


# --- the capture and its receiver, over real sockets -----------------------------------


@pytest.fixture
def both():
    with Capture(syslog=True) as capture:
        yield capture


def post(capture: Capture, url: str, client: str = "") -> None:
    proxy = capture.environ(client)["HTTP_PROXY"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    opener.open(urllib.request.Request(url, data=b"{}"), timeout=10).read()


def log_udp(capture: Capture, text: str, client: str = "") -> None:
    port = int(capture.environ(client)["HOOKDK_SYSLOG_UDP_PORT"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(f"<14>1 - h app - - - {text}".encode(), ("127.0.0.1", port))


def test_requests_and_messages_are_recorded_in_one_log(both):
    assert both.syslog is not None and both.syslog.records is both.records
    post(both, "http://siem.example.com/before")
    log_udp(both, "before")
    assert both.wait_idle(30)
    mark = both.mark()

    post(both, "http://siem.example.com/after")
    log_udp(both, "after")
    assert both.wait_idle(30)

    assert [r.url for r in both.requests_since(mark)] == ["http://siem.example.com/after"]
    assert [m.message for m in both.syslog.messages_since(mark)] == ["after"]
    assert [r.index for r in both.requests] == [0, 1]
    assert [m.index for m in both.syslog.messages] == [0, 1]


def test_one_client_tag_rule_for_both_kinds(both):
    mark = both.mark()
    post(both, "http://siem.example.com/a", client="run-a")
    post(both, "http://siem.example.com/b", client="run-b")
    post(both, "http://siem.example.com/shared")
    log_udp(both, "a", client="run-a")
    log_udp(both, "b", client="run-b")
    log_udp(both, "shared")
    assert both.wait_idle(30)

    seen = both.records.since(mark, client="run-a")
    assert sorted(getattr(r, "url", None) or r.message for r in seen) == [
        "a",
        "http://siem.example.com/a",
        "http://siem.example.com/shared",
        "shared",
    ]
    assert [r.client for r in both.requests_since(mark, client="run-b")] == ["run-b", ""]
    # datagrams to different ports: arrival order is not theirs to keep
    assert sorted(m.client for m in both.syslog.messages_since(mark, client="run-b")) == [
        "",
        "run-b",
    ]


def test_reset_forgets_both_kinds_and_numbers_each_from_0_again(both):
    post(both, "http://siem.example.com/old")
    log_udp(both, "old")
    assert both.wait_idle(30)

    both.reset()
    assert (both.requests, both.syslog.messages) == ([], [])
    post(both, "http://siem.example.com/new")
    log_udp(both, "new")
    assert both.wait_idle(30)

    [request], [message] = both.requests, both.syslog.messages
    assert (request.index, request.url) == (0, "http://siem.example.com/new")
    assert (message.index, message.message) == (0, "new")
