"""Hoop session-close hook: a PagerDuty alert (Events API v2) when a session fails.

Hoop runs this file with python3 once, when a session ends. A session that failed (a
non-zero exit code) raises an alert whose dedup_key is the payload id; a clean one sends
nothing. The payload is the JSON text in HOOP_RUNBOOK_HOOK_PAYLOAD.

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
# hookdk:include settings
# hookdk:include delivery-settings
MAX_TEXT = 10000  # characters of the session's error output forwarded; the rest is cut

EVENT = "session-close"
STARTED = time.monotonic()


# hookdk:include main


def severity():
    return PAGERDUTY_FAILED_SEVERITY


def why_not_alert(event):
    """Why this session-close raises no alert, or None when it does."""
    if event["exit_code"] in (0, None):
        return f"the session ended with exit code {event['exit_code']}"
    return None


def summary(event):
    first = (event["output"] or "").strip().splitlines()[:1]
    detail = f": {first[0]}" if first else ""
    return f"session {event['sid']} failed with exit code {event['exit_code']}{detail}"


# hookdk:include session-close-event


# hookdk:include delivery


main()
