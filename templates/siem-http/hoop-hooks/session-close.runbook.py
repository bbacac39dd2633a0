"""Hoop session-close hook: a JSON event to an HTTPS collector, with a bearer token.

Hoop runs this file with python3 once, when a session ends. The payload is the JSON text
in HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the idempotency key of this event.

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the receiver does;
- exit non-zero with one line saying why when the event could not be delivered;
- this script's own source (input_file) is never sent anywhere;
- never two opening braces side by side: Hoop reads hook files as Go templates.

Settings: edit the defaults below, or set an environment variable of the same name
wherever the hook's environment provides one (the generated tests do that).
"""

import datetime
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# --- settings -------------------------------------------------------------------------
SIEM_URL = os.environ.get("SIEM_URL", "https://siem.example.com/hoop/events")
SIEM_TOKEN = os.environ.get("SIEM_TOKEN", "")  # required: the collector's bearer token
HOOK_ATTEMPTS = int(os.environ.get("HOOK_ATTEMPTS", "3"))
HOOK_TIMEOUT_SECONDS = float(os.environ.get("HOOK_TIMEOUT_SECONDS", "3"))
HOOK_RETRY_DELAY_SECONDS = float(os.environ.get("HOOK_RETRY_DELAY_SECONDS", "0.5"))
HOOK_DEADLINE_SECONDS = 12.0  # Hoop gives up at 15 s; stop retrying before that
MAX_TEXT = 10000  # characters of the session's error output forwarded; the rest is cut

EVENT = "session-close"
STARTED = time.monotonic()


def main():
    if not SIEM_TOKEN:
        fail("SIEM_TOKEN is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    event = build_event(payload)
    headers = {
        "Authorization": "Bearer " + SIEM_TOKEN,
        "Content-Type": "application/json",
        "Idempotency-Key": payload["id"],
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", SIEM_URL, json.dumps(event).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SIEM_URL)}: HTTP {status}")


def build_event(payload):
    """The event the collector gets: the session's outcome, never input_file.

    Hoop sends output null (not "") when the session wrote no error output, and exit
    code -2 when it could not read one.
    """
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    output = closed.get("output")
    return {
        "event": EVENT,
        "id": payload["id"],
        "sid": payload["sid"],
        "time": now(),
        "exit_code": closed.get("exit_code"),
        "output": output[:MAX_TEXT] if output is not None else None,
        "output_truncated": output is not None and len(output) > MAX_TEXT,
    }


# hookdk:include delivery


main()
