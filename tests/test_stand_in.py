"""The stand-in SIEM of `hookdk demo` and `hookdk check` answers OAuth 2.0 token requests."""

from __future__ import annotations

import httpx
import pytest
import respx

from hoophooks_dk._stand_in import DUMMY_TOKEN, answer_token_requests


@pytest.mark.parametrize(
    "url",
    [
        "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token",
        "https://login.microsoftonline.us/tenant-id/oauth2/token",
    ],
)
def test_token_endpoints_get_a_token(url):
    router = respx.Router(assert_all_called=False, assert_all_mocked=False)
    answer_token_requests(router)

    resolved = router.resolve(httpx.Request("POST", url, content=b"grant_type=client_credentials"))

    assert resolved.route is not None
    assert resolved.response.json() == DUMMY_TOKEN


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token"),
        ("POST", "https://siem.example.com/oauth2/v2.0/token/extra"),
        ("POST", "https://siem.example.com/hoop/events"),
    ],
)
def test_other_requests_are_left_to_the_default_answer(method, url):
    router = respx.Router(assert_all_called=False, assert_all_mocked=False)
    answer_token_requests(router)

    assert router.resolve(httpx.Request(method, url)).route is None
