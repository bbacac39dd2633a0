"""Hook sources several test files fire: one copy each, so they cannot drift apart."""

from __future__ import annotations

# A hook as Hoop's documentation writes it: the raw payload, secrets and its own source
# included, posted with curl.
DOCS_HOOK = """\
import json
import os
import subprocess

payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
subprocess.run(
    [
        "curl", "-sS", "-X", "POST", "https://siem.example.com/hoop/events",
        "-H", "Content-Type: application/json",
        "-d", json.dumps(payload),
    ],
    check=True,
)
print("forwarded", payload["id"])
"""
