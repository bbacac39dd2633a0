"""Hoop session-close hook: the deprecated Svix session.close event, signed as Svix signs it.

For receivers built for Hoop's old Svix webhooks: they keep working unchanged, with the
same body and the same svix-id, svix-timestamp and svix-signature headers. Hoop runs
this file with python3 once, when a session ends. The payload is the JSON text in
HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the svix-id.

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the receiver does;
- exit non-zero with one line saying why when the event could not be delivered;
- this script's own source (input_file) is never sent anywhere;
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
UNKNOWN_EXIT_CODE = -100  # what Svix's session.close sent for an exit code it could not read

EVENT = "session-close"
STARTED = time.monotonic()


# hookdk:include main


def build_body(payload):
    """The body of Hoop's deprecated Svix session.close event, from a hook payload.

    exit_err is the session's error output, null when there was none, as Svix sent it.
    Svix sent -100 for an exit code it could not read, where hooks get -2.
    """
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    code = closed.get("exit_code")
    return {
        "event_type": "session.close",
        "id": payload["sid"],  # Svix's session.close id was the session id
        "exit_code": UNKNOWN_EXIT_CODE if code == -2 else code,
        "exit_err": closed.get("output"),
    }


# hookdk:include signature


# hookdk:include delivery


main()
