"""Default answers for OAuth 2.0 token requests no route matched.

A hook that first asks a token endpoint for a token (the client credentials grant, as the
microsoft-sentinel template asks Microsoft Entra ID) needs a reply that holds one, or it
stops before it delivers anything, and ``hookdk fire``, ``check`` or ``demo`` report a
failure that is only the capture's. So, like the AWS answers beside it, a POST to a path
ending ``/oauth2/v2.0/token`` or ``/oauth2/token`` (Entra ID's, and the same shape
elsewhere) gets a dummy bearer token: what the hook then sends is what matters. A route
programmed for the token endpoint, or a default status of 400 or more, still wins.
"""

from __future__ import annotations

import json
import re

__all__ = ["DUMMY_TOKEN", "answer"]

TOKEN_PATH = re.compile(r"^[a-z]+://[^/]+(?:/[^?#]*)?/oauth2/(?:v2\.0/)?token(?:[?#].*)?$")
DUMMY_TOKEN = {"token_type": "Bearer", "expires_in": 3599, "access_token": "hookdk-stand-in-token"}


def answer(
    method: str, url: str, default_status: int
) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) for a token request, or None for anything else."""
    if method != "POST" or default_status >= 400 or not TOKEN_PATH.match(url):
        return None
    body = json.dumps(DUMMY_TOKEN).encode()
    return 200, [("Content-Type", "application/json")], body
