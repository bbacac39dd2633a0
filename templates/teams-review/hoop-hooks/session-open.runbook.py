"""Hoop session-open hook: an Adaptive Card to Microsoft Teams for each session opened on a
connection with review-plugin groups.

The hook-based successor of the deprecated `microsoftteams.review.create` webhook event,
as near as a hook can come. Hoop runs this file with python3 whenever a session opens; a
card is posted only when connection_reviewers is not empty. That field lists the groups
of the connection's legacy review plugin and comes with every session of that
connection, reviewed or not, so the card says which groups review the connection, not
that this session waits for them. Reviews created by access-request rules send [] and
cannot be seen from a hook at all. The payload is the JSON text in
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
TEAMS_WEBHOOK_URL = os.environ.get("TEAMS_WEBHOOK_URL", "")  # required, and a secret
HOOP_APP_URL = os.environ.get("HOOP_APP_URL", "https://hoop.example.com")  # for session links
# hookdk:include delivery-settings
MAX_TEXT = 10000  # characters of the user's input shown, as Hoop's card cut it

EVENT = "session-open"
STARTED = time.monotonic()


def main():
    if not TEAMS_WEBHOOK_URL:
        fail(
            "TEAMS_WEBHOOK_URL is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    groups = opened.get("connection_reviewers") or []  # [] when none; null if Go sent nil
    if not groups:
        name = opened.get("connection_name")
        print(f"{EVENT} {payload['id']}: {name} has no review-plugin groups, no card sent")
        return
    message = {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": review_card(payload, opened, groups),
            }
        ],
    }
    headers = {"Content-Type": "application/json", "User-Agent": "hoop-runbook-hook"}
    status = deliver("POST", TEAMS_WEBHOOK_URL, json.dumps(message).encode(), headers)
    host = host_of(TEAMS_WEBHOOK_URL)
    print(f"{EVENT} {payload['id']}: card posted to {host}: HTTP {status}")


def review_card(payload, opened, groups):
    """The Adaptive Card Hoop's microsoftteams.review.create event carried, plus the event id.

    Its title says what the payload knows: a session opened on a connection with
    review-plugin groups (the old event knew a review had been requested; a hook does
    not). Hoop fires session-open twice for a session reviewed on the same stream (review
    requested, approved run) with the same payload, so the channel sees this card twice,
    same event id. Nothing from connection_envs or input_file is used.
    """
    session_url = f"{HOOP_APP_URL.rstrip('/')}/sessions/{payload['sid']}"
    facts = [
        ("Created By", opened.get("user_email") or "a machine identity"),  # "" for one
        ("Review Groups", ", ".join(groups)),
        ("Connection", opened.get("connection_name")),
        ("Verb", opened.get("verb")),
        ("Event id", payload["id"]),
    ]
    body = [
        {"type": "TextBlock", "text": TITLE, "size": "Large", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": f"[{payload['sid']}]({session_url})", "wrap": True},
        {"type": "FactSet", "facts": [{"title": t, "value": str(v)} for t, v in facts]},
    ]
    text = opened.get("input") or ""
    if text:
        language = code_language(opened.get("connection_type"), opened.get("connection_subtype"))
        snippet = text[:MAX_TEXT] + ("\n[cut]" if len(text) > MAX_TEXT else "")
        body.append({"type": "CodeBlock", "codeSnippet": snippet, "language": language})
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "msteams": {"width": "full"},
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Review in Hoop", "url": session_url}],
    }


TITLE = "Session on a connection with review-plugin groups"


def code_language(connection_type, subtype):
    """The CodeBlock language, chosen as Hoop's own Teams card chose it."""
    if connection_type == "database":
        return "SQL"
    if connection_type == "application":
        named = {"go": "Go", "java": "Java", "perl": "Perl", "json": "JSON", "xml": "XML"}
        named.update(powershell="PowerShell", php="PHP")
        return named.get(subtype, "Bash")
    return "Bash" if connection_type == "custom" else "PlainText"


# hookdk:include delivery


main()
