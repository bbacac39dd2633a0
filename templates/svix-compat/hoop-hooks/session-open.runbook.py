"""Hoop session-open hook: the deprecated Svix session.open event, signed as Svix signs it.

For receivers built for Hoop's old Svix webhooks: they keep working unchanged, with the
same body and the same svix-id, svix-timestamp and svix-signature headers. Hoop runs
this file with python3 whenever a session opens; a reviewed session opens twice with the
same payload id, and that id is the svix-id. The payload is the JSON text in
HOOP_RUNBOOK_HOOK_PAYLOAD.

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
# hookdk:include settings
# hookdk:include delivery-settings
MAX_INPUT_BYTES = 10000  # Hoop's Svix events cut the input at 10 KB (10 * 1000 bytes)
REVIEW_STATUS = "UNKNOWN"  # the hook cannot know whether, or how, this session is reviewed
REVIEW_TYPE = "onetime"  # the hook payload does not say; onetime is the common case

EVENT = "session-open"
STARTED = time.monotonic()


# hookdk:include main


def build_body(payload):
    """The body of Hoop's deprecated Svix session.open event, from a hook payload.

    Fields the hook payload does not carry get neutral values: user_id "", command [],
    input_envs [], has_input_args false. connection_envs lists keys only, never values,
    and is null when the connection has none, as Svix sent it.

    review: Svix sent the session's own review; a hook is never told about it. All it
    has is connection_reviewers, the groups of the connection's legacy review plugin,
    sent on every session of that connection whether or not this one is reviewed, and
    [] for reviews created by access-request rules. So review is an object (status
    REVIEW_STATUS, type REVIEW_TYPE, owner the session's user) when the connection has
    review-plugin groups, and null otherwise: a receiver can read it as "this connection
    is reviewed", never as "this session was reviewed" or as its outcome, and a session
    reviewed through an access request arrives with review null.
    """
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    envs = opened.get("connection_envs") or {}  # {} when none; null if Go sent nil
    groups = opened.get("connection_reviewers") or []  # [] when none; null if Go sent nil
    data = (opened.get("input") or "").encode("utf-8")
    review = None
    if groups:
        owner = opened.get("user_email")
        review = {"owner_email": owner, "status": REVIEW_STATUS, "type": REVIEW_TYPE}
    return {
        "event_type": "session.open",
        "id": payload["sid"],  # Svix's session.open id was the session id
        "user_id": "",
        "user_email": opened.get("user_email"),
        "connection": opened.get("connection_name"),
        "connection_type": opened.get("connection_type"),
        "connection_envs": sorted(envs) or None,
        "input": base64.b64encode(data[:MAX_INPUT_BYTES]).decode(),
        "is_input_truncated": len(data) > MAX_INPUT_BYTES,
        "input_size": len(data),
        "input_envs": [],
        "has_input_args": False,
        "review": review,
        "command": [],
        "verb": opened.get("verb"),
    }


# hookdk:include signature


# hookdk:include delivery


main()
