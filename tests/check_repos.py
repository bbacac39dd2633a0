"""Shared by the hookdk check tests: hook paths and a hook that passes every rule."""

from hoophooks_dk.hooks import HOOK_PATHS

OPEN = HOOK_PATHS["session-open"]
CLOSE = HOOK_PATHS["session-close"]

# Forwards only what a SIEM needs, with the standard library, through the capture.
CLEAN_HOOK = """\
import json
import os
import urllib.request

event = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
body = {"id": event["id"], "sid": event["sid"]}
request = urllib.request.Request(
    "https://siem.example.com/events",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json"},
)
urllib.request.urlopen(request, timeout=5).read()
"""
