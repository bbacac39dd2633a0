"""The proxy's decisions, tested without a socket (``hoophooks_dk.capture.policy``).

What the proxy refuses, which URL it records, what a CONNECT tunnel carries and how it
frames answers are pure functions over bytes and records; the capture's other tests
prove the same decisions end to end with real clients.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoophooks_dk.capture import policy
from hoophooks_dk.capture.policy import (
    PROXY_AUTHENTICATION_REQUIRED,
    Credentials,
    Peer,
    Refusal,
    RequestHead,
    admit,
    credentials,
    request_url,
)

SECRET = "s3cret-of-the-run"


def basic(user: str, password: str, scheme: str = "Basic") -> bytes:
    return f"{scheme} {base64.b64encode(f'{user}:{password}'.encode()).decode()}".encode()


def head(
    method: bytes = b"POST",
    target: bytes = b"http://siem.example.com/events",
    *headers: tuple[bytes, bytes],
    version: bytes = b"1.1",
) -> RequestHead:
    return RequestHead(method, target, version, headers)


LOCK = (b"Proxy-Authorization", basic("hookdk", SECRET))


# --- the port lock's credentials -------------------------------------------------------


def test_the_runs_credentials_are_valid_and_untagged():
    assert credentials(basic("hookdk", SECRET), SECRET) == Credentials("", True)


def test_a_tagged_user_name_gives_its_client():
    assert credentials(basic("hookdk.run-7", SECRET), SECRET) == Credentials("run-7", True)
    # the tag is everything after the first dot
    assert credentials(basic("hookdk.a.b", SECRET), SECRET) == Credentials("a.b", True)
    assert credentials(basic("hookdk.", SECRET), SECRET) == Credentials("", True)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        basic("hookdk", "guessed"),
        basic("hookdk.run-7", "guessed"),
        basic("hookdkx", SECRET),  # not our user name, only one like it
        basic("someone", SECRET),
        basic("hookdk", SECRET, scheme="Bearer"),
        b"Basic not*base64",
        b"Basic",
        SECRET.encode(),
    ],
)
def test_anything_else_is_not_valid(value):
    assert credentials(value, SECRET).valid is False


def test_the_scheme_is_read_in_any_case_and_the_token_trimmed():
    token = base64.b64encode(f"hookdk.x:{SECRET}".encode())
    assert credentials(b"basic  " + token + b" ", SECRET) == Credentials("x", True)
    assert credentials(b"BASIC " + token, SECRET) == Credentials("x", True)


def test_a_password_with_a_colon_is_compared_whole():
    assert credentials(basic("hookdk", f"{SECRET}:more"), SECRET).valid is False
    assert credentials(basic("hookdk", "a:b"), "a:b").valid is True


def test_the_secret_is_compared_in_constant_time(monkeypatch):
    import hmac

    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert credentials(basic("hookdk", "guess"), SECRET).valid is False
    assert compared == [(b"guess", SECRET.encode())]


@given(
    tag=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=":"),
        max_size=20,
    )
)
def test_what_the_capture_hands_out_reads_back(tag):
    value = policy.basic_authorization(policy.proxy_user(tag), SECRET).encode()
    assert credentials(value, SECRET) == Credentials(tag, True)


# --- what is refused -------------------------------------------------------------------


def test_only_http_1_0_and_1_1_are_spoken():
    refused = admit(head(version=b"2.0"), Peer(), max_head=65536, secret=SECRET)
    assert refused == Refusal(400, "hookdk capture speaks HTTP/1.1 only, not HTTP/2.0")
    for version in (b"1.0", b"1.1"):
        assert isinstance(
            admit(head(b"GET", b"/", LOCK, version=version), Peer(), max_head=65536, secret=SECRET),
            Peer,
        )


def test_the_version_is_refused_before_the_port_lock_is_asked():
    """A stranger speaking HTTP/2 hears that HTTP/2 is not spoken, not that it is locked out."""
    assert admit(head(version=b"2.0"), Peer(), max_head=65536, secret=SECRET).status == 400


def test_the_head_limit_counts_the_same_bytes_however_they_arrived():
    request = head(b"POST", b"/x", (b"Host", b"a"), LOCK)
    assert request.size == len(b"POST") + len(b"/x") + (4 + 1 + 4) + (19 + len(LOCK[1]) + 4)
    assert isinstance(admit(request, Peer(), max_head=request.size, secret=SECRET), Peer)
    refused = admit(request, Peer(), max_head=request.size - 1, secret=SECRET)
    assert refused == Refusal(431, f"hookdk capture: request head over {request.size - 1} bytes")


def test_a_stranger_is_refused_407_with_a_challenge():
    refused = admit(head(), Peer(), max_head=65536, secret=SECRET)
    assert refused is PROXY_AUTHENTICATION_REQUIRED
    assert refused.status == 407
    assert refused.headers == ((b"Proxy-Authenticate", b'Basic realm="hookdk"'),)
    wrong = (b"proxy-authorization", basic("hookdk", "guessed"))
    assert admit(head(b"POST", b"/", wrong), Peer(), max_head=65536, secret=SECRET).status == 407


def test_the_runs_credentials_authorize_the_connection_and_tag_its_client():
    tagged = (b"PROXY-AUTHORIZATION", basic("hookdk.run-7", SECRET))  # any case
    peer = admit(
        head(b"CONNECT", b"siem.example.com:443", tagged), Peer(), max_head=65536, secret=SECRET
    )
    assert peer == Peer(authorized=True, client="run-7")
    # once shown, a kept-alive connection's next requests need not repeat them
    assert admit(head(), peer, max_head=65536, secret=SECRET) == peer


def test_inside_a_tunnel_no_credentials_are_asked():
    tunnelled = Peer(authorized=True, client="run-7", tunnel="siem.example.com:443", scheme="https")
    assert admit(head(b"POST", b"/events"), tunnelled, max_head=65536, secret=SECRET) == tunnelled


def test_connect_inside_a_tunnel_is_refused():
    tunnelled = Peer(authorized=True, tunnel="siem.example.com:443", scheme="https")
    refused = admit(
        head(b"CONNECT", b"other.example.com:443"), tunnelled, max_head=65536, secret=SECRET
    )
    assert refused == Refusal(405, "hookdk capture: CONNECT inside a tunnel is not supported")


def test_malformed_http_is_refused_with_the_parsers_status():
    assert policy.protocol_refusal(414, "target too long") == Refusal(
        414, "hookdk capture: target too long"
    )


# --- CONNECT ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "early", "protocol"),
    [
        (b"\x16", False, "tls"),  # a TLS handshake record, after our 200 was read
        (b"\x16\x03\x01\x02\x00", True, None),  # TLS sent before our 200: not supported
        (b"G", False, "http"),  # curl -p to an http:// URL
        (b"GET / HTTP/1.1\r\n", True, "http"),  # plain HTTP that early is served
        (b"", False, None),  # the client closed
    ],
)
def test_the_first_byte_decides_what_a_tunnel_carries(first, early, protocol):
    assert policy.tunnel_protocol(first, early=early) == protocol


def test_a_tunnel_keeps_the_client_and_takes_its_scheme_from_the_protocol():
    peer = Peer(authorized=True, client="c")
    assert policy.opened_tunnel(peer, "h:443", "tls") == Peer(True, "c", "h:443", "https")
    assert policy.opened_tunnel(peer, "h:80", "http") == Peer(True, "c", "h:80", "http")


@pytest.mark.parametrize(
    ("authority", "host"),
    [
        ("siem.example.com:443", "siem.example.com"),
        ("siem.example.com", "siem.example.com"),
        ("[2001:db8::1]:8443", "2001:db8::1"),
        ("[::1]", "::1"),
        ("127.0.0.1:9999", "127.0.0.1"),
        ("weird:port", "weird:port"),  # not a port: the whole authority is the name
    ],
)
def test_the_certificate_is_for_the_connect_targets_host(authority, host):
    assert policy.certificate_host(authority) == host


# --- which URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "host", "tunnel", "scheme", "url", "mismatch"),
    [
        # sent to the proxy directly: an absolute target
        (
            b"http://siem.example.com/events?x=1",
            b"siem.example.com",
            None,
            "http",
            "http://siem.example.com/events?x=1",
            False,
        ),
        (b"HTTP://siem.example.com:80/e", None, None, "http", "http://siem.example.com/e", False),
        (
            b"http://siem.example.com:8080/e",
            b"siem.example.com:8080",
            None,
            "http",
            "http://siem.example.com:8080/e",
            False,
        ),
        # origin-form outside a tunnel: Host, else localhost
        (b"/e", b"siem.example.com", None, "http", "http://siem.example.com/e", False),
        (b"/e", None, None, "http", "http://localhost/e", False),
        # inside a tunnel: the CONNECT target, whatever Host says
        (
            b"/e",
            b"siem.example.com",
            "siem.example.com:443",
            "https",
            "https://siem.example.com/e",
            False,
        ),
        (
            b"/e",
            b"SIEM.example.com:443",
            "siem.example.com:443",
            "https",
            "https://siem.example.com/e",
            False,
        ),
        (
            b"/e",
            b"evil.example.com",
            "siem.example.com:443",
            "https",
            "https://siem.example.com/e",
            True,
        ),
        (
            b"https://evil.example.com/e?q",
            None,
            "siem.example.com:8443",
            "https",
            "https://siem.example.com:8443/e?q",
            False,
        ),
        (b"/", None, "[2001:db8::1]:443", "https", "https://[2001:db8::1]/", False),
        (b"/", None, "siem.example.com:80", "http", "http://siem.example.com/", False),
        (b"/", None, "siem.example.com:443", "http", "http://siem.example.com:443/", False),
    ],
)
def test_the_recorded_url(target, host, tunnel, scheme, url, mismatch):
    assert request_url(target, host, tunnel=tunnel, scheme=scheme) == (url, mismatch)


def test_bytes_that_are_not_ascii_round_trip_as_latin_1():
    found = request_url(b"/caf\xe9", b"h", tunnel=None, scheme="http")
    assert found.url == "http://h/caf\xe9"
    assert found.url.encode("latin-1") == b"http://h/caf\xe9"


# --- what is recorded and how answers are framed ---------------------------------------


def test_the_proxys_own_header_is_neither_recorded_nor_routed():
    headers = [
        (b"Host", b"h"),
        (b"Proxy-Authorization", b"Basic x"),
        (b"X-A", b"1"),
        (b"proxy-authorization", b"Basic y"),
    ]
    assert policy.recorded_headers(headers) == [(b"Host", b"h"), (b"X-A", b"1")]


def test_a_programmed_answer_keeps_only_end_to_end_headers():
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", b"99"),
        (b"Transfer-Encoding", b"chunked"),
        (b"connection", b"keep-alive"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Content-Encoding", b"gzip"),  # respx hands over the decoded body
        (b"X-Request-Id", b"7"),
    ]
    assert policy.forwarded_headers(headers) == [
        (b"Content-Type", b"application/json"),
        (b"X-Request-Id", b"7"),
    ]


def test_an_answer_is_framed_by_its_length():
    framed = policy.frame_response(b"POST", 200, [("Content-Type", "text/plain")], b"hello")
    assert framed.headers == [(b"Content-Type", b"text/plain"), (b"Content-Length", b"5")]
    assert framed.body == b"hello"
    empty = policy.frame_response(b"GET", 503, [], b"")
    assert empty == ([(b"Content-Length", b"0")], b"")


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_and_not_modified_have_neither_length_nor_body(status):
    assert policy.frame_response(b"GET", status, [("X", "1")], b"dropped") == ([(b"X", b"1")], b"")


def test_a_head_request_gets_the_length_but_not_the_body():
    framed = policy.frame_response(b"HEAD", 200, [], b"{}")
    assert framed == ([(b"Content-Length", b"2")], b"")


def test_header_text_goes_out_as_latin_1():
    framed = policy.frame_response(b"GET", 200, [("X-Name", "caf\xe9")], b"")
    assert framed.headers[0] == (b"X-Name", b"caf\xe9")


def test_a_refusal_says_why_and_closes():
    headers, body = policy.refusal_response(PROXY_AUTHENTICATION_REQUIRED)
    assert body == b"hookdk capture: this proxy serves only the hooks hookdk starts"
    assert headers == [
        (b"Proxy-Authenticate", b'Basic realm="hookdk"'),
        (b"Content-Type", b"text/plain; charset=utf-8"),
        (b"Content-Length", str(len(body)).encode()),
        (b"Connection", b"close"),
    ]


def test_reason_phrases():
    assert (policy.reason(200), policy.reason(407), policy.reason(599)) == (
        b"OK",
        b"Proxy Authentication Required",
        b"",
    )
