"""Hoop session-open hook: a CEF event over syslog (RFC 5424, TLS or TCP).

For collectors that take ArcSight's Common Event Format on a syslog socket: ArcSight
SmartConnectors, Microsoft Sentinel's CEF connector, QRadar, rsyslog/syslog-ng relays.
Hoop runs this file with python3 whenever a session opens; a reviewed session opens
twice (review requested, then the approved run) with the same payload id both times,
so the SIEM should deduplicate on externalId (also the id in the hoop@32473 element).

What the event carries, by CEF key (values escaped as the CEF specification says; a key
whose value is empty or null is left out, with its label):
  rt           when this hook ran (ms since the epoch)
  externalId   the payload's id: the idempotency key of this event
  suser        the user's e-mail          act    the verb (connect, exec)
  destinationServiceName  the connection's name
  cs1Label=sid             cs1  the session id
  cs2Label=connectionType  cs2  the connection's type/subtype
  cs3Label=reviewers       cs3  the reviewer groups, comma-separated (absent: no review)
  cs4Label=envKeys         cs4  the NAMES of the connection's secrets, never their values
  cs5Label=input           cs5  the user's input
  cn1Label=inputLength     cn1  the input's full length in characters
  cs6Label=truncated       cs6  the fields cut to fit, each with its full length in
                                characters ("input:60000"); absent when none was
Signature ID "session-open"; severity 3, or 5 when the session needs review.
The FREE_TEXT keys are cut to what CEF's dictionary lets them hold (4000 characters for
cs1-cs6, 1023 for suser and destinationServiceName) and, sharing what is left, to fit
the whole message in SYSLOG_MAX_BYTES (8096 bytes by default: a stock rsyslog's limit).

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
    "suser": "user_email",
    "destinationServiceName": "connection_name",
    "cs2": "connection_type",
    "cs3": "connection_reviewers",
    "cs4": "connection_envs",
    "cs5": "input",
}


def cef_event(payload):
    """(name, CEF severity, [(key, label, value)]) for a session-open payload, never
    input_file or a connection_envs value. Hoop sends null, not empty, for a connection
    without secrets or reviewers."""
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    reviewers = opened.get("connection_reviewers") or []
    envs = opened.get("connection_envs") or {}
    text = opened.get("input") or ""
    kind = "/".join(filter(None, [opened.get("connection_type"), opened.get("connection_subtype")]))
    name = "Hoop session opened, review required" if reviewers else "Hoop session opened"
    return (
        name,
        5 if reviewers else 3,
        [
            ("rt", None, epoch_ms()),
            ("externalId", None, payload["id"]),
            ("suser", None, opened.get("user_email")),
            ("act", None, opened.get("verb")),
            ("destinationServiceName", None, opened.get("connection_name")),
            ("cs1", "sid", payload["sid"]),
            ("cs2", "connectionType", kind),
            ("cs3", "reviewers", ",".join(reviewers)),
            ("cs4", "envKeys", ",".join(sorted(envs))),
            ("cs5", "input", text),
            ("cn1", "inputLength", len(text)),
        ],
    )


# hookdk:include syslog-budget


# hookdk:include syslog-delivery


main()
