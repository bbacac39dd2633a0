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


# --- the same in every hook: payload, delivery with bounded retry, failure ------------


def read_payload():
    try:
        return json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except KeyError:
        fail("HOOP_RUNBOOK_HOOK_PAYLOAD is not set: Hoop sets it when it runs the hook")
    except ValueError as error:
        fail(f"HOOP_RUNBOOK_HOOK_PAYLOAD is not JSON: {error}")


def deliver(method, url, body, headers, accepted=()):
    """Send one request and return the HTTP status; retry what a retry can fix.

    Network errors, timeouts, 408, 429 and 5xx are retried, at most HOOK_ATTEMPTS times
    and never past HOOK_DEADLINE_SECONDS; other 4xx are not (the request itself is
    wrong). Statuses in ``accepted`` count as delivered. When every attempt failed the
    hook exits 1 with one line naming the host (never the full URL: it may hold a
    secret) and the last error.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        fail("the URL setting is not an http(s) URL (check the settings at the top)")
    attempts, reason = 0, "no attempt was made"
    while attempts < HOOK_ATTEMPTS:
        if seconds_left() < 1:
            reason += " (out of time)"
            break
        attempts += 1
        # a fresh Request each time: urllib rewrites one in place when it uses a proxy
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            timeout = min(HOOK_TIMEOUT_SECONDS, seconds_left())
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            if error.code in accepted:
                return error.code
            reason = f"HTTP {error.code} {excerpt(error)}".rstrip()
            if error.code < 500 and error.code not in (408, 429):
                break
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = str(getattr(error, "reason", error)) or type(error).__name__
        if attempts < HOOK_ATTEMPTS:
            time.sleep(max(0, min(HOOK_RETRY_DELAY_SECONDS * attempts, seconds_left() - 1)))
    fail(f"delivery to {host_of(url)} failed after {attempts} attempt(s): {reason}")


def seconds_left():
    return HOOK_DEADLINE_SECONDS - (time.monotonic() - STARTED)


def excerpt(error):
    """The start of an error's body on one line, for Hoop's log of this hook's output."""
    try:
        data = error.read()
    except Exception:  # best effort: the status already says what went wrong
        data = b""
    return " ".join(data.decode("utf-8", "replace").split())[:200]


def host_of(url):
    return urllib.parse.urlsplit(url).hostname or "?"


def now():
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def fail(reason):
    """Exit 1 with one line: Hoop records the exit code and this output, nothing else."""
    print(f"{EVENT} hook failed: {reason}", file=sys.stderr)
    sys.exit(1)


main()
