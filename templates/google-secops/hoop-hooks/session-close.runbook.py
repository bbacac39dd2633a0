"""Hoop session-close hook: one JSON log to a Google Security Operations webhook feed.

Hoop runs this file with python3 once, when a session ends. The payload is the JSON text
in HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the idempotency key of this event.

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


# hookdk:include session-close-event


# hookdk:include delivery


main()
