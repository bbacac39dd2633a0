"""Hoop session-open hook: a Slack message, naming the review groups when the connection has some.

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
    """The message for the channel; on a connection with review-plugin groups, the groups
    and the input too.

    connection_reviewers lists the groups of the connection's legacy review plugin and is
    sent on every session of that connection, reviewed or not: it does not say that this
    session waits for a review. Reviews created by access-request rules send [] and cannot
    be seen from a hook at all. Hoop fires session-open twice for a session reviewed on
    the same stream (review requested, approved run) with the same payload, so the
    channel sees this message twice, same event id.
    Nothing from connection_envs or input_file is used.
    """
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    groups = opened.get("connection_reviewers") or []  # [] when none; null if Go sent nil
    who = escape(opened.get("user_email") or "someone")
    where = escape(opened.get("connection_name") or "?")
    verb = escape(opened.get("verb") or "?")
    text = f":arrow_forward: {who} opened *{where}* ({verb})"
    if not groups:
        return slack_message(text, payload)
    text = f":lock: {who} opened *{where}* ({verb}), a connection with review-plugin groups"
    text += "\nReview groups: " + escape(", ".join(groups))
    if opened.get("input"):
        text += "\n" + code_block(opened["input"])
    return slack_message(text, payload)


# hookdk:include message


# hookdk:include delivery


main()
