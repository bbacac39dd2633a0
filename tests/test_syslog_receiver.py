"""The syslog receiver over real sockets: every transport and framing, real client
libraries (``rfc5424-logging-handler``, the standard library's ``SysLogHandler``),
malformed frames that must not stop it, and many senders at once."""

from __future__ import annotations

import logging
import logging.handlers
import socket
import ssl
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rfc5424logging import FRAMING_NON_TRANSPARENT, FRAMING_OCTET_COUNTING, Rfc5424SysLogHandler

from hoophooks_dk.capture.syslog_receiver import ENVIRONMENT, SyslogReceiver


@pytest.fixture(scope="module")
def shared():
    with SyslogReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(shared):
    shared.reset()
    yield shared
    assert shared.wait_idle(30)


def send(receiver: SyslogReceiver, transport: str, data: bytes, server_name: str = "localhost"):
    """Send ``data`` on one connection (or datagram), then close it."""
    if transport == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(data, (receiver.host, receiver.port("udp")))
        return
    raw = socket.create_connection((receiver.host, receiver.port(transport)), timeout=10)
    if transport == "tls":
        context = ssl.create_default_context(cafile=receiver.ca_path)
        raw = context.wrap_socket(raw, server_hostname=server_name)
    with raw:
        raw.sendall(data)


def received(receiver: SyslogReceiver):
    assert receiver.wait_idle(30)
    return receiver.messages


def logger_with(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"hookdk-test-{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


# --- transports and framings, with real clients ------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "tls"])
@pytest.mark.parametrize(
    ("framing", "expected"),
    [(FRAMING_OCTET_COUNTING, "octet-counting"), (FRAMING_NON_TRANSPARENT, "non-transparent")],
)
def test_rfc5424_handler_over_each_stream_transport_and_framing(
    receiver, transport, framing, expected
):
    handler = Rfc5424SysLogHandler(
        address=(receiver.host, receiver.port(transport)),
        socktype=socket.SOCK_STREAM,
        framing=framing,
        hostname="hook-host",
        appname="hoop",
        structured_data={"hoop@32473": {"sid": 'a"b]c\\d'}},
        tls_enable=transport == "tls",
        tls_ca_bundle=receiver.ca_path if transport == "tls" else None,
    )
    logger = logger_with(handler)
    logger.info("first: session opened")
    logger.warning("second, with a\nline break")
    handler.close()

    first, second = received(receiver)

    assert {first.transport, second.transport} == {transport}
    assert {first.framing, second.framing} == {expected}
    assert first.format == "rfc5424" and not first.malformed, first.error
    assert (first.parsed.hostname, first.parsed.app_name) == ("hook-host", "hoop")
    assert first.structured_data == {"hoop@32473": {"sid": 'a"b]c\\d'}}
    assert first.message == "first: session opened"
    assert first.parsed.severity_name == "info" and second.parsed.severity_name == "warning"
    if framing == FRAMING_OCTET_COUNTING:  # a line break survives only octet counting
        assert second.message == "second, with a\nline break"
    if transport == "tls":
        assert first.server_name is None  # an IP address is never sent as SNI


def test_udp_datagrams_from_both_handlers(receiver):
    stdlib = logging.handlers.SysLogHandler((receiver.host, receiver.port("udp")))
    rfc5424 = Rfc5424SysLogHandler(address=(receiver.host, receiver.port("udp")), hostname="h")
    logger_with(stdlib).error("from the standard library")
    logger_with(rfc5424).error("from rfc5424-logging-handler")
    stdlib.close()
    rfc5424.close()

    messages = received(receiver)

    assert [m.framing for m in messages] == ["datagram", "datagram"]
    assert [m.format for m in messages] == ["rfc3164", "rfc5424"]
    assert [m.message for m in messages] == [
        "from the standard library",
        "from rfc5424-logging-handler",
    ]


def test_stdlib_handler_over_tcp_ends_frames_with_nul(receiver):
    handler = logging.handlers.SysLogHandler(
        (receiver.host, receiver.port("tcp")), socktype=socket.SOCK_STREAM
    )
    logger = logger_with(handler)
    logger.error("one")
    logger.error("two")
    handler.close()

    assert [m.message for m in received(receiver)] == ["one", "two"]


def test_framings_mixed_on_one_connection(receiver):
    counted = b"<14>1 - h app - - - counted\nwith a line break"
    send(
        receiver,
        "tcp",
        b"%d %s<14>1 - h app - - - by line\r\n<14>1 - h app - - - last, no trailer"
        % (len(counted), counted),
    )

    messages = received(receiver)

    assert [m.framing for m in messages] == ["octet-counting", "non-transparent"] * 1 + [
        "non-transparent"
    ]
    assert [m.message for m in messages] == [
        "counted\nwith a line break",
        "by line",
        "last, no trailer",
    ]


def test_a_frame_split_across_many_writes_is_one_message(receiver):
    frame = b"<14>1 - h app - - - split " + b"x" * 5000
    data = b"%d %s" % (len(frame), frame)
    with socket.create_connection((receiver.host, receiver.port("tcp"))) as sock:
        for at in range(0, len(data), 7):
            sock.sendall(data[at : at + 7])

    [message] = received(receiver)

    assert message.raw == frame and not message.malformed


def test_tls_records_the_name_the_client_asked_for_and_verifies_for_it(receiver):
    send(receiver, "tls", b"<14>1 - h app - - - hi\n", server_name="siem.example.com")

    [message] = received(receiver)

    assert message.server_name == "siem.example.com"
    assert message.transport == "tls" and message.message == "hi"


def test_endless_sni_names_keep_a_bounded_number_of_certificates():
    """A client may ask for any name; the receiver keeps contexts for the last few only
    (the proxy's bounded cache), and one that was dropped is issued again on demand."""
    from hoophooks_dk.capture.certs import CertificateCache

    names = [f"n{i}.siem.example.com" for i in range(6)]
    with SyslogReceiver(max_certificates=2) as bounded:
        for name in [*names, names[0]]:  # the first again, long evicted
            send(bounded, "tls", f"<14>to {name}\n".encode(), server_name=name)
        messages = received(bounded)
        cache = bounded._tls.certificates  # what the TLS port holds

        # one connection each: the receiver records them as they are read, in any order
        sent = [*names, names[0]]
        assert sorted(m.server_name for m in messages) == sorted(sent)
        assert sorted(m.message for m in messages) == sorted(f"to {name}" for name in sent)
        assert all(m.message == f"to {m.server_name}" for m in messages)
        assert isinstance(cache, CertificateCache) and cache.max_size == 2
        assert len(cache) == 2


# --- malformed input never stops it ------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_malformed_frames_are_recorded_and_the_next_frame_is_read(receiver, transport):
    good = b"<14>1 - h app - - - good"
    send(
        receiver,
        transport,
        b"no priority here\n12x <14>not a count\n<14>1 - h\n"
        + b"%d %s" % (len(good), good)
        + b"\n<14>1 - h app - - - CEF:0|only|three\n",
    )

    messages = received(receiver)

    assert [m.malformed for m in messages] == [True, True, True, False, True]
    assert "no <PRI>" in messages[0].error
    assert "octet count" in messages[1].error
    assert "cut short" in messages[2].error
    assert messages[3].message == "good" and messages[3].framing == "octet-counting"
    assert messages[4].parsed.hostname == "h" and "CEF" in messages[4].error


def test_malformed_datagram_then_a_good_one(receiver):
    send(receiver, "udp", b"\xff\xfe garbage")
    send(receiver, "udp", b"<14>1 - h app - - - good")

    bad, good = received(receiver)

    assert bad.malformed and bad.parsed is None and bad.format == "malformed"
    assert good.message == "good" and not good.malformed


def test_a_frame_over_the_limit_ends_its_connection_only():
    with SyslogReceiver(max_frame=1000) as receiver:
        send(receiver, "tcp", b"5000 <14>" + b"x" * 4995 + b"<14>1 - h app - - - lost\n")
        [over] = received(receiver)
        send(receiver, "tcp", b"<14>" + b"y" * 2000)
        [too_long] = received(receiver)[1:]
        send(receiver, "tcp", b"<14>1 - h app - - - next connection\n")
        [good] = received(receiver)[2:]

    assert over.malformed and "octet count 5000 over 1000" in over.error
    assert too_long.malformed and "over 1000 bytes" in too_long.error
    assert good.message == "next connection"


def test_a_failed_tls_handshake_ends_that_connection_only(receiver):
    with socket.create_connection((receiver.host, receiver.port("tls"))) as sock:
        sock.sendall(b"<14>cleartext to the TLS port\n")
    with socket.create_connection((receiver.host, receiver.port("tls"))) as sock:
        untrusting = ssl.create_default_context()  # does not trust the receiver's CA
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.wrap_socket(sock, server_hostname="localhost")
    send(receiver, "tls", b"<14>1 - h app - - - still serving\n")

    [message] = received(receiver)

    assert message.message == "still serving"


# --- many senders at once ----------------------------------------------------------------


def test_a_thousand_messages_from_fifty_concurrent_senders_none_lost(receiver):
    senders, each = 50, 20
    start = threading.Barrier(senders)
    errors: list[BaseException] = []

    def sender(number: int) -> None:
        transport = ("tcp", "tls")[number % 2]
        try:
            frames = []
            for sequence in range(each):
                frame = b"<14>1 - h app - - - sender=%d seq=%d" % (number, sequence)
                framed = b"%d %s" % (len(frame), frame) if sequence % 2 else frame + b"\n"
                frames.append(framed)
            start.wait(timeout=30)
            send(receiver, transport, b"".join(frames))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    messages = received(receiver)
    assert len(messages) == senders * each
    assert not [m for m in messages if m.malformed]
    assert {m.message for m in messages} == {
        f"sender={n} seq={s}" for n in range(senders) for s in range(each)
    }
    assert [m.index for m in messages] == list(range(senders * each))
    for n in range(senders):  # each connection's frames arrive in the order sent
        mine = [m.message for m in messages if m.message.startswith(f"sender={n} ")]
        assert mine == [f"sender={n} seq={s}" for s in range(each)]


def test_past_max_connections_a_client_waits_in_the_backlog_until_one_ends():
    with SyslogReceiver(max_connections=2) as receiver:
        address = (receiver.host, receiver.port("tcp"))
        first, second = (socket.create_connection(address, timeout=10) for _ in range(2))
        first.sendall(b"<14>1 - h app - - - one\n")
        second.sendall(b"<14>1 - h app - - - two\n")
        # separate connections, each read by its own thread: in either order
        assert sorted(m.message for m in received(receiver)) == ["one", "two"]

        third = socket.create_connection(address, timeout=10)  # the kernel's backlog
        third.sendall(b"<14>1 - h app - - - three\n")
        assert not receiver.wait_idle(0.5)  # not accepted: its bytes wait unread
        assert sorted(m.message for m in receiver.messages) == ["one", "two"]

        first.close()  # a slot frees: the third is accepted and read
        assert [m.message for m in received(receiver)][2:] == ["three"]
        second.close()
        third.close()
        assert receiver.wait_idle(30)


def test_a_clients_own_ports_are_served_at_once_and_closed_by_release(receiver):
    env = receiver.environ(client="fire-1")
    ports = [int(env[f"HOOKDK_SYSLOG_{name}_PORT"]) for name in ("UDP", "TCP", "TLS")]
    assert not {receiver.port(transport) for transport in ("udp", "tcp", "tls")} & set(ports)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"<14>1 - h app - - - by datagram", (receiver.host, ports[0]))
    with socket.create_connection((receiver.host, ports[1]), timeout=10) as tcp:
        tcp.sendall(b"<14>1 - h app - - - by stream\n")

    messages = received(receiver)

    assert sorted((m.message, m.client) for m in messages) == [
        ("by datagram", "fire-1"),
        ("by stream", "fire-1"),
    ]
    receiver.release("fire-1")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((receiver.host, ports[1]), timeout=2)


# --- the receiver's own face -------------------------------------------------------------


def test_environ_names_every_port_and_the_ca(receiver):
    env = receiver.environ()

    assert set(env) == set(ENVIRONMENT)
    assert env["HOOKDK_SYSLOG_HOST"] == "127.0.0.1"
    assert {int(env[f"HOOKDK_SYSLOG_{t}_PORT"]) for t in ("UDP", "TCP", "TLS")} == {
        receiver.port("udp"),
        receiver.port("tcp"),
        receiver.port("tls"),
    }
    with open(env["HOOKDK_SYSLOG_CA_FILE"]) as ca:
        assert "BEGIN CERTIFICATE" in ca.read()


def test_mark_and_messages_since_see_one_hooks_messages(receiver):
    send(receiver, "tcp", b"<14>before\n")
    received(receiver)
    mark = receiver.mark()
    send(receiver, "udp", b"<14>after")

    assert receiver.wait_idle(30)
    assert [m.message for m in receiver.messages_since(mark)] == ["after"]


def test_to_dict_is_json_ready(receiver):
    send(receiver, "tcp", b'<14>1 - h app - - [a@1 k="v"] CEF:0|V|P|1|id|name|5|suser=me\n')

    [message] = received(receiver)
    summary = message.to_dict()

    assert summary["format"] == "rfc5424+cef" and summary["transport"] == "tcp"
    assert summary["structured_data"] == {"a@1": {"k": "v"}}
    assert summary["cef"]["extension"] == {"suser": "me"}
    assert summary["header"]["hostname"] == "h"


def test_a_given_ca_issues_the_tls_certificate():
    import trustme

    ca = trustme.CA()
    with SyslogReceiver(ca) as receiver, open(receiver.ca_path, "rb") as pem:
        assert pem.read() == ca.cert_pem.bytes()
        send(receiver, "tls", b"<14>trusted\n")
        [message] = received(receiver)
    assert message.message == "trusted"


def test_stop_closes_the_ports_and_removes_the_ca_file():
    receiver = SyslogReceiver().start()
    port, ca_path = receiver.port("tcp"), receiver.ca_path

    receiver.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not __import__("os").path.exists(ca_path)
    with pytest.raises(RuntimeError, match="not started"):
        receiver.environ()


# --- framing, whatever the stream's chunks ------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.lists(st.tuples(st.text(max_size=300), st.booleans()), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
)
def test_any_mix_of_framings_cut_anywhere_reads_back_every_message(shared, frames, cuts):
    """Octet-counted and newline-ended frames, sent in arbitrary pieces on one connection,
    come back as the same messages with the framing each was sent in."""
    shared.reset()
    stream, expected = b"", []
    for text, counted in frames:
        body = text.replace("\x00", "").rstrip("\r\n").removeprefix("\ufeff")
        if not counted:
            body = body.replace("\n", " ").replace("\r", " ")
        frame = b"<14>1 - h app - - - " + body.encode()
        stream += b"%d %s" % (len(frame), frame) if counted else frame + b"\n"
        expected.append((body, "octet-counting" if counted else "non-transparent"))
    with socket.create_connection((shared.host, shared.port("tcp"))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        at = 0
        for cut in cuts:
            sock.sendall(stream[at : at + cut])
            at += cut
        sock.sendall(stream[at:])

    messages = received(shared)

    assert [(m.message, m.framing) for m in messages] == expected
    assert not [m for m in messages if m.malformed]


def test_a_tls_stream_cut_without_close_notify_is_counted_and_its_last_frame_marked(receiver):
    context = ssl.create_default_context(cafile=receiver.ca_path)
    with (
        socket.create_connection((receiver.host, receiver.port("tls"))) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"<14>1 - h app - - - whole\n<14>1 - h app - - - no trailer")
    # closed without close_notify; a second client closes properly
    with (
        socket.create_connection((receiver.host, receiver.port("tls"))) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"<14>1 - h app - - - clean")
        tls.unwrap()

    messages = received(receiver)

    by_text = {m.message: m for m in messages}
    assert not by_text["whole"].malformed and not by_text["clean"].malformed
    cut = by_text.get("no trailer")
    assert cut is None or cut.error == "TLS closed without close_notify before the frame ended"
    assert receiver.unclean_closes == 1
