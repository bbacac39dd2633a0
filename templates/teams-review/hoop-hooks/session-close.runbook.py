"""Hoop session-close hook for the teams-review template: deliberately sends nothing.

teams-review posts a card only when a session opens on a connection with review-plugin
groups (see session-open.runbook.py). This file still has to exist: Hoop reads both hook files
together, and a repository with only one of them is a crash risk in Hoop's gateway.
It exits 0 with one line, so Hoop's log shows it ran. To announce closes as well, copy
the session-close hook of the slack template and adapt its message to a card.
"""

import json
import os

payload = json.loads(os.environ.get("HOOP_RUNBOOK_HOOK_PAYLOAD") or "{}")
print(f"session-close {payload.get('id')}: teams-review sends nothing on close")
