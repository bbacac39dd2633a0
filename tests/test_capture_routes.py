"""The settings' routes as the capture's own answers (``Capture(routes=...)``).

They are what ``respond`` in the settings file and ``--respond`` program: after the
test's own respx routes, before the default answer, first match wins, ``route.status``
with an empty body. Real clients (urllib, over plain HTTP and through a CONNECT tunnel)
go through the proxy; the answers are compared with those of the same routes programmed
on the router by ``settings.apply_routes``, which is what they replace.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import pytest

from hoophooks_dk.capture.capture import NO_ROUTE, Capture
from hoophooks_dk.settings import Route, apply_routes

SIEM = "https://siem.example.com/events"


def send(
    capture: Capture, url: str, method: str = "POST"
) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) as urllib received them through the capture."""
    proxy = capture.environ()["HTTPS_PROXY"]
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy, "https": proxy}),
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=capture.ca_path)),
    )
    data = b'{"event": 1}' if method == "POST" else None
    try:
        with opener.open(
            urllib.request.Request(url, data=data, method=method), timeout=10
        ) as answer:
            return answer.status, answer.getheaders(), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.items(), error.read()


@pytest.fixture
def routed():
    routes = [
        Route("https://siem.example.com/events", 503, "POST"),
        Route("https://siem.example.com/*", 429),
        Route("http://plain.example.com/*", 201),
    ]
    with Capture(routes=routes) as capture:
        yield capture


def test_a_settings_route_answers_its_status_with_an_empty_body(routed):
    status, headers, body = send(routed, SIEM)

    assert (status, body) == (503, b"")
    named = {name.lower(): value for name, value in headers}
    assert named["content-length"] == "0" and "content-type" not in named
    [request] = routed.requests
    assert (request.url, request.matched, request.response.status) == (SIEM, True, 503)
    assert request.body == b'{"event": 1}'  # recorded as any other request


def test_the_first_match_wins_and_a_method_narrows_a_route(routed):
    assert send(routed, SIEM, "GET")[0] == 429  # the POST-only route does not answer a GET
    assert send(routed, "https://siem.example.com/other")[0] == 429
    assert send(routed, "http://plain.example.com/x?y=1")[0] == 201  # through plain HTTP too


def test_a_request_no_route_matches_gets_the_default_answer(routed):
    status, _, body = send(routed, "https://elsewhere.example.com/x")

    assert (status, body) == (200, b"{}")
    assert [r.matched for r in routed.requests] == [False]


def test_the_tests_own_routes_come_first(routed):
    routed.router.post(SIEM).respond(202, content=b"own")

    assert send(routed, SIEM)[::2] == (202, b"own")
    assert send(routed, "https://siem.example.com/other")[0] == 429  # the settings' still answer


def test_a_settings_route_counts_as_matched_in_strict_mode(routed):
    routed.strict = True

    assert send(routed, SIEM)[0] == 503
    status, _, body = send(routed, "https://elsewhere.example.com/x")

    assert status == 502 and NO_ROUTE.encode() in body
    assert [r.url for r in routed.unmatched] == ["https://elsewhere.example.com/x"]
    with pytest.raises(AssertionError, match="1 request"):
        routed.check_strict()


def test_the_routes_survive_reset_and_cannot_be_reassigned(routed):
    routed.router.post(SIEM).respond(202)
    routed.reset()

    assert send(routed, SIEM)[0] == 503  # the test's route is gone, the settings' stays
    assert routed.routes == (
        Route("https://siem.example.com/events", 503, "POST"),
        Route("https://siem.example.com/*", 429),
        Route("http://plain.example.com/*", 201),
    )
    with pytest.raises(AttributeError):
        routed.routes = ()  # type: ignore[misc]


def test_without_routes_nothing_changes():
    with Capture() as capture:
        assert capture.routes == ()
        assert send(capture, SIEM)[::2] == (200, b"{}")


@pytest.mark.parametrize(
    "url",
    [
        SIEM,
        "https://SIEM.Example.COM/events",  # respx sees the host lowercased
        "https://siem.example.com:443/events",
        "https://siem.example.com/events?x=%41&y",
        "https://siem.example.com",  # no path: matched as "/"
        "https://siem.example.com:8443/events",
        "http://plain.example.com/",
        "http://other.example.com/",
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_settings_routes_answer_as_the_same_routes_on_the_router(url, method):
    """``routes=`` replaces ``settings.apply_routes``: a client cannot tell them apart."""
    routes = [
        Route("https://siem.example.com/events", 503, "POST"),
        Route("https://siem.example.com/*", 429),
        Route("http://plain.example.com/*", 201),
    ]
    with Capture(routes=routes) as ours, Capture() as before:
        apply_routes(before, routes)
        answered, expected = send(ours, url, method), send(before, url, method)
        assert ours.wait_idle() and before.wait_idle()
        [mine], [theirs] = ours.requests, before.requests

    assert answered == expected
    assert (mine.matched, mine.response) == (theirs.matched, theirs.response)
