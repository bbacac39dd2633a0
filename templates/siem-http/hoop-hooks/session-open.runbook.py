"""Hoop session-open hook: a JSON event to an HTTPS collector, with a bearer token.

Hoop runs this file with python3 whenever a session opens; a reviewed session opens
twice (review requested, then the approved run) with the same payload id both times,
so the collector should deduplicate on the Idempotency-Key header (or the body's id).
The payload is the JSON text in HOOP_RUNBOOK_HOOK_PAYLOAD.

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the receiver does;
- exit non-zero with one line saying why when the event could not be delivered;
- the connection's secrets (connection_envs values) and this script's own source
  (input_file) are never sent anywhere;
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
MAX_TEXT = 10000  # characters of the user's input forwarded; the rest is cut

EVENT = "session-open"
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
    """The event the collector gets: what Hoop sent, minus the secrets.

    connection_envs holds the connection's credentials, so only its keys are kept;
    input_file is this script's own source and is dropped. Hoop sends null, not an
    empty value, for a connection without secrets or reviewers.
    """
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    envs = opened.get("connection_envs") or {}
    reviewers = opened.get("connection_reviewers") or []
    text = opened.get("input") or ""
    return {
        "event": EVENT,
        "id": payload["id"],
        "sid": payload["sid"],
        "time": now(),
        "verb": opened.get("verb"),
        "user_email": opened.get("user_email"),
        "connection": {
            "name": opened.get("connection_name"),
            "type": opened.get("connection_type"),
            "subtype": opened.get("connection_subtype"),
            "env_keys": sorted(envs),
        },
        "review": {"required": bool(reviewers), "reviewers": reviewers},
        "input": text[:MAX_TEXT],
        "input_truncated": len(text) > MAX_TEXT,
    }


# hookdk:include delivery


main()
