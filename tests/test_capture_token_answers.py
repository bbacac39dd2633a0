"""The capture answers OAuth 2.0 token requests no route matched with a dummy token, so a
hook that asks Entra ID (or any such endpoint) for a token first runs on to deliver."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from run_hookdk import hookdk

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.capture.token_answers import DUMMY_TOKEN

POST = """\
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], data=b"grant_type=client_credentials", method=sys.argv[2])
try:
    print(urllib.request.urlopen(request, timeout=10).read().decode())
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
"""


def post(capture: Capture, url: str, method: str = "POST") -> str:
    done = subprocess.run(
        [sys.executable, "-c", POST, url, method],
        env=os.environ | capture.environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    "url",
    [
        "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token",
        "https://login.microsoftonline.us/tenant-id/oauth2/token",
        "https://idp.example.test/realm/oauth2/token?api-version=1",
    ],
)
def test_token_endpoints_get_a_token(url):
    with Capture() as capture:
        assert json.loads(post(capture, url)) == DUMMY_TOKEN


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token"),
        ("POST", "https://siem.example.com/oauth2/v2.0/token/extra"),
        ("POST", "https://siem.example.com/hoop/events"),
    ],
)
def test_other_requests_get_the_default_answer(method, url):
    with Capture() as capture:
        assert post(capture, url, method) == "{}"


def test_a_route_or_an_error_status_wins_over_the_token():
    url = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
    with Capture(default_status=503) as capture:
        assert post(capture, url) == "503 {}"
        capture.router.post(url).respond(401, text="bad client secret")
        assert post(capture, url) == "401 bad client secret"


def test_fire_runs_the_sentinel_template_through_its_token_request(runbooks):
    assert hookdk("init", str(runbooks.root), "--template", "microsoft-sentinel").returncode == 0
    settings = [
        "--env=AZURE_TENANT_ID=00000000-0000-0000-0000-00000000d3e0",
        "--env=AZURE_CLIENT_ID=00000000-0000-0000-0000-00000000c11e",
        "--env=AZURE_CLIENT_SECRET=test-secret",
        "--env=SENTINEL_INGESTION_ENDPOINT=https://dce.westeurope-1.ingest.monitor.azure.com",
        "--env=SENTINEL_DCR_IMMUTABLE_ID=dcr-00000000000000000000000000000000",
    ]
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json", *settings)
    result = json.loads(done.stdout)
    assert done.returncode == 0, result["output"]
    token, upload = result["requests"]
    assert token["url"].endswith("/oauth2/v2.0/token") and token["status"] == 200
    assert "/dataCollectionRules/dcr-" in upload["url"] and upload["status"] == 200
