"""Hoop session-close hook: the deprecated Svix session.close event, signed as Svix signs it.

For receivers built for Hoop's old Svix webhooks: they keep working unchanged, with the
same body and the same svix-id, svix-timestamp and svix-signature headers. Hoop runs
this file with python3 once, when a session ends. The payload is the JSON text in
HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the svix-id.

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the receiver does;
- exit non-zero with one line saying why when the event could not be delivered;
- this script's own source (input_file) is never sent anywhere;
- never two opening braces side by side: Hoop reads hook files as Go templates.

Settings: edit the defaults below, or set an environment variable of the same name
wherever the hook's environment provides one (the generated tests do that).
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# --- settings -------------------------------------------------------------------------
SVIX_ENDPOINT_URL = os.environ.get(
    "SVIX_ENDPOINT_URL", "https://receiver.example.com/webhooks/hoop"
)
SVIX_SECRET = os.environ.get("SVIX_SECRET", "")  # required: the endpoint's whsec_... secret
HOOK_ATTEMPTS = int(os.environ.get("HOOK_ATTEMPTS", "3"))
HOOK_TIMEOUT_SECONDS = float(os.environ.get("HOOK_TIMEOUT_SECONDS", "3"))
HOOK_RETRY_DELAY_SECONDS = float(os.environ.get("HOOK_RETRY_DELAY_SECONDS", "0.5"))
HOOK_DEADLINE_SECONDS = 12.0  # Hoop gives up at 15 s; stop retrying before that
UNKNOWN_EXIT_CODE = -100  # what Svix's session.close sent for an exit code it could not read

EVENT = "session-close"
STARTED = time.monotonic()


def main():
    if not SVIX_SECRET:
        fail("SVIX_SECRET is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    body = json.dumps(build_body(payload), separators=(",", ":")).encode()
    headers = signed_headers(payload["id"], body)
    status = deliver("POST", SVIX_ENDPOINT_URL, body, headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SVIX_ENDPOINT_URL)}: HTTP {status}")


def build_body(payload):
    """The body of Hoop's deprecated Svix session.close event, from a hook payload.

    exit_err is the session's error output, null when there was none, as Svix sent it.
    Svix sent -100 for an exit code it could not read, where hooks get -2.
    """
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    code = closed.get("exit_code")
    return {
        "event_type": "session.close",
        "id": payload["sid"],  # Svix's session.close id was the session id
        "exit_code": UNKNOWN_EXIT_CODE if code == -2 else code,
        "exit_err": closed.get("output"),
    }


def signed_headers(message_id, body):
    """Headers as Svix signs a delivery (Standard Webhooks, signature scheme v1).

    The signature is the base64 HMAC-SHA256 of "id.timestamp.body", keyed with the
    base64-decoded part of the whsec_ secret. The message id is the payload id: the same
    for both firings of a reviewed session-open, so a receiver that deduplicates on
    svix-id, as Svix recommends, records the event once.
    """
    secret = SVIX_SECRET[len("whsec_") :] if SVIX_SECRET.startswith("whsec_") else SVIX_SECRET
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:
        fail("SVIX_SECRET is not a signing secret: expected whsec_ followed by base64")
    timestamp = str(int(time.time()))
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "svix-id": message_id,
        "svix-timestamp": timestamp,
        "svix-signature": "v1," + signature,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }


# hookdk:include delivery


main()
