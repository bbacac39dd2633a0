"""Hoop session-open hook: a LEEF 2.0 event for IBM QRadar, over syslog (TLS or TCP).

Hoop runs this file with python3 whenever a session opens; a reviewed session opens
twice (review requested, then the approved run) with the same payload id both times,
so QRadar should deduplicate on hoopEventId.

What the event carries, by LEEF key (QRadar's predefined keys first, then custom ones):
  devTime, devTimeFormat  when this hook ran (UTC, milliseconds)
  cat          session-open            sev    3, or 5 when the session needs review
  usrName      the user's e-mail        resource  the connection's name
  hoopEventId  the payload's id: the idempotency key of this event
  hoopSessionId  the session id         verb   connect or exec
  connectionType  the connection's type/subtype
  reviewers    the reviewer groups, comma-separated (empty: no review)
  envKeys      the NAMES of the connection's secrets, never their values
  input        the user's input
  inputLength  the input's full length in characters
  truncated    the fields cut to fit, each with its full length in characters
               ("input:60000"); absent when none was
The EventID in the LEEF header is "session-open". The FREE_TEXT keys are cut, sharing
what the rest leaves, to fit the whole message in SYSLOG_MAX_BYTES (8096 bytes by
default: a stock rsyslog's limit).

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the collector does;
- exit non-zero with one line saying why when the event could not be delivered;
- the connection's secrets (connection_envs values) and this script's own source
  (input_file) are never sent anywhere;
- never two opening braces side by side: Hoop reads hook files as Go templates.

Settings: edit the defaults below, or set an environment variable of the same name
wherever the hook's environment provides one (the generated tests do that).
"""

import datetime
import json
import os
import socket
import ssl
import sys
import time

# --- settings -------------------------------------------------------------------------
# hookdk:include syslog-settings
# hookdk:include delivery-settings

EVENT = "session-open"
STARTED = time.monotonic()


# hookdk:include main


# the keys that may be cut to fit the budget, and the payload fields they carry
FREE_TEXT = {
    "usrName": "user_email",
    "resource": "connection_name",
    "connectionType": "connection_type",
    "reviewers": "connection_reviewers",
    "envKeys": "connection_envs",
    "input": "input",
}


def leef_event(payload):
    """(LEEF severity, [(key, value)]) for a session-open payload, never input_file or a
    connection_envs value. Hoop sends null, not empty, for a connection without secrets
    or reviewers."""
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    reviewers = opened.get("connection_reviewers") or []
    envs = opened.get("connection_envs") or {}
    text = opened.get("input") or ""
    kind = [opened.get("connection_type"), opened.get("connection_subtype")]
    return (
        5 if reviewers else 3,
        [
            ("usrName", opened.get("user_email")),
            ("resource", opened.get("connection_name")),
            ("hoopEventId", payload["id"]),
            ("hoopSessionId", payload["sid"]),
            ("verb", opened.get("verb")),
            ("connectionType", "/".join(filter(None, kind))),
            ("reviewers", ",".join(reviewers)),
            ("envKeys", ",".join(sorted(envs))),
            ("input", text),
            ("inputLength", len(text)),
        ],
    )


# hookdk:include syslog-budget


# hookdk:include syslog-delivery


main()
