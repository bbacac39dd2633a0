"""The port lock's credentials as the capture makes them.

The capture hands a hook its address as ``http://USER:SECRET@127.0.0.1:PORT``, with a
secret made for the run, and every client a hook uses sends it back from the proxy URL
as ``Proxy-Authorization: Basic base64(USER:SECRET)``. The user name is ``hookdk``, or
``hookdk.<client>`` to tag what one hook run sends (the emulator tags each run). How a
request's credentials are judged is ``policy.credentials``'s; these two are apart from it
so that ``hookdk fire`` hands out the address without loading the proxy's decisions,
which a hook that sends nothing never needs.
"""

from __future__ import annotations

import base64

__all__ = ["PROXY_USER", "basic_authorization", "proxy_user"]

#: The user name in the proxy credentials; the password is the per-run secret.
PROXY_USER = "hookdk"


def proxy_user(client: str = "") -> str:
    """The user name of the proxy credentials: ``hookdk``, or ``hookdk.<client>`` so that
    what a client sends is recorded with its tag (the emulator tags each hook run)."""
    return f"{PROXY_USER}.{client}" if client else PROXY_USER


def basic_authorization(user: str, secret: str) -> str:
    """The ``Proxy-Authorization`` value a client sends for ``user`` and ``secret``."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
