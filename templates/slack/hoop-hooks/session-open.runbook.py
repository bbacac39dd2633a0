"""Hoop session-open hook: a Slack message, and a review request when reviewers are set.

Hoop runs this file with python3 whenever a session opens; a reviewed session opens
twice (review requested, then the approved run) with the same payload id both times.
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
MAX_TEXT = 2000  # characters of the user's input shown; the rest is cut

EVENT = "session-open"
STARTED = time.monotonic()


# hookdk:include main


def build_message(payload):
    """The message for the channel: a review request when the connection has reviewers.

    Hoop fires session-open twice for a reviewed session (review requested, approved
    run) with the same payload, so the channel sees this message twice, same event id.
    Nothing from connection_envs or input_file is used.
    """
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    reviewers = opened.get("connection_reviewers") or []  # null when there are none
    who = escape(opened.get("user_email") or "someone")
    where = escape(opened.get("connection_name") or "?")
    verb = escape(opened.get("verb") or "?")
    if not reviewers:
        text = f":arrow_forward: {who} opened *{where}* ({verb})"
        return slack_message(text, payload)
    text = f":lock: *Review requested*: {who} wants to {verb} on *{where}*"
    text += "\nReviewers: " + escape(", ".join(reviewers))
    if opened.get("input"):
        text += "\n" + code_block(opened["input"])
    return slack_message(text, payload)


# hookdk:include message


# hookdk:include delivery


main()
