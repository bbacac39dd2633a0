"""Hoop session-close hook: a CEF event over syslog (RFC 5424, TLS or TCP).

For collectors that take ArcSight's Common Event Format on a syslog socket: ArcSight
SmartConnectors, Microsoft Sentinel's CEF connector, QRadar, rsyslog/syslog-ng relays.
Hoop runs this file with python3 once, when a session ends. The payload is the JSON text
in HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the idempotency key of this event.

What the event carries, by CEF key (values escaped as the CEF specification says; a key
whose value is empty or null is left out, with its label):
  rt           when this hook ran (ms since the epoch)
  externalId   the payload's id: the idempotency key of this event
  act          close
  outcome      success (exit code 0) or failure
  cs1Label=sid       cs1  the session id
  cn1Label=exitCode  cn1  the session's exit code (-2: Hoop could not read one)
  cs2Label=output    cs2  the session's error output (absent when Hoop sent null or "":
                          the session wrote none)
  cs6Label=truncated cs6  "output:" and the output's full length in characters, when it
                          was cut to fit
Signature ID "session-close"; severity 3, or 7 when the session failed.
The output is cut to 4000 characters (what CEF's custom strings hold) and to fit the
whole message in SYSLOG_MAX_BYTES (8096 bytes by default: a stock rsyslog's limit).

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


FREE_TEXT = {"cs2": "output"}  # the keys that may be cut to fit, and what they carry


def cef_event(payload):
    """(name, CEF severity, [(key, label, value)]) for a session-close payload."""
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    exit_code = closed.get("exit_code")
    failed = exit_code != 0
    extension = [
        ("rt", None, epoch_ms()),
        ("externalId", None, payload["id"]),
        ("act", None, "close"),
        ("outcome", None, "failure" if failed else "success"),
        ("cs1", "sid", payload["sid"]),
        ("cn1", "exitCode", exit_code),
        ("cs2", "output", closed.get("output")),
    ]
    name = "Hoop session closed with an error" if failed else "Hoop session closed"
    return name, 7 if failed else 3, extension


# hookdk:include syslog-budget


# hookdk:include syslog-delivery


main()
