"""Hoop session-close hook: a LEEF 2.0 event for IBM QRadar, over syslog (TLS or TCP).

Hoop runs this file with python3 once, when a session ends. The payload is the JSON text
in HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the idempotency key of this event.

What the event carries, by LEEF key (QRadar's predefined keys first, then custom ones):
  devTime, devTimeFormat  when this hook ran (UTC, milliseconds)
  cat          session-close           sev    3, or 7 when the session failed
  hoopEventId  the payload's id: the idempotency key of this event
  hoopSessionId  the session id
  outcome      success (exit code 0) or failure
  exitCode     the session's exit code (-2: Hoop could not read one)
  output       the session's error output (absent when Hoop sent null: the session
               wrote none)
  truncated    "output:" and the output's full length in characters, when it was cut
The EventID in the LEEF header is "session-close". The output is cut to fit the whole
message in SYSLOG_MAX_BYTES (8096 bytes by default: a stock rsyslog's limit).

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the collector does;
- exit non-zero with one line saying why when the event could not be delivered;
- this script's own source (input_file) is never sent anywhere;
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

EVENT = "session-close"
STARTED = time.monotonic()


# hookdk:include main


FREE_TEXT = {"output": "output"}  # the keys that may be cut to fit, and what they carry


def leef_event(payload):
    """(LEEF severity, [(key, value)]) for a session-close payload."""
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    exit_code = closed.get("exit_code")
    failed = exit_code != 0
    return (
        7 if failed else 3,
        [
            ("hoopEventId", payload["id"]),
            ("hoopSessionId", payload["sid"]),
            ("outcome", "failure" if failed else "success"),
            ("exitCode", exit_code),
            ("output", closed.get("output")),
        ],
    )


# hookdk:include syslog-budget


# hookdk:include syslog-delivery


main()
