"""What the kit's stand-in SIEM answers beyond its usual ``200 {}``.

``hookdk demo`` and ``hookdk check`` fire hooks at a capture that answers every request
itself. Most hooks only need a 2xx; a hook that first asks an OAuth 2.0 token endpoint for
a token (the client credentials grant, as the microsoft-sentinel template asks Microsoft
Entra ID) needs a reply that holds one, or it stops before it delivers anything and the
demo or the check reports a failure that is only the stand-in's. So token endpoints get a
token: paths ending ``/oauth2/v2.0/token`` or ``/oauth2/token`` (Entra ID's, and the
same shape elsewhere). The token is a dummy; what the hook then sends is what matters.
"""

from __future__ import annotations

from typing import Any

TOKEN_PATH = r"/oauth2/(?:v2\.0/)?token$"
DUMMY_TOKEN = {"token_type": "Bearer", "expires_in": 3599, "access_token": "hookdk-stand-in-token"}


def answer_token_requests(router: Any) -> None:
    """Program ``router`` (a capture's respx router) to answer OAuth 2.0 token requests."""
    router.route(method="POST", path__regex=TOKEN_PATH).respond(200, json=DUMMY_TOKEN)
