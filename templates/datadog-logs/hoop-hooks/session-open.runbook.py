"""Hoop session-open hook: a log to Datadog's logs intake (v2).

Hoop runs this file with python3 whenever a session opens; a reviewed session opens
twice (review requested, then the approved run) with the same payload id both times.
Datadog cannot deduplicate logs, so the id travels as the attribute hoop.id.
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
# hookdk:include settings
# hookdk:include delivery-settings
MAX_TEXT = 10000  # characters of the user's input forwarded; the rest is cut

EVENT = "session-open"
STARTED = time.monotonic()


# hookdk:include main


# hookdk:include tag


def tags(event):
    found = [tag("event", EVENT), tag("connection", event["connection"]["name"])]
    found += [tag("verb", event["verb"])]
    return found + [t.strip() for t in DATADOG_TAGS.split(",") if t.strip()]


def summary(event):
    """Who opened what. user_email is a name for an API key or an AI agent, and empty for
    a machine identity: never split it on an @."""
    connection = event["connection"]["name"]
    who = event["user_email"] or "a machine identity"
    return f"{who} opened {connection} ({event['verb']})"


# hookdk:include session-open-event


# hookdk:include delivery


main()
