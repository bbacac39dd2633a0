"""The port lock: the proxy serves only the hooks the kit starts.

The capture hands a hook its address as ``http://USER:SECRET@127.0.0.1:PORT``, the secret
made for the run, and every client a hook uses sends it back from the proxy URL as
``Proxy-Authorization: Basic base64(USER:SECRET)``. The user name is ``hookdk``, or
``hookdk.<client>`` to tag what one hook run sends (the emulator tags each run).

Making the credentials (``proxy_user``, ``basic_authorization``: the capture, each time it
tells a hook where it is) and judging them (``credentials``: ``policy.admit``, for every
request) are kept together here, in a module of their own: ``hookdk fire`` hands out the
address without loading the proxy's decisions (``policy``), which a hook that sends
nothing never needs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

__all__ = ["PROXY_USER", "Credentials", "basic_authorization", "credentials", "proxy_user"]

#: The user name in the proxy credentials; the password is the per-run secret.
PROXY_USER = "hookdk"


@dataclass(frozen=True)
class Credentials:
    """What a ``Proxy-Authorization`` value says: the client it tags, and whether it is
    the run's (a ``hookdk`` user name and the run's secret)."""

    client: str = ""
    valid: bool = False


def proxy_user(client: str = "") -> str:
    """The user name of the proxy credentials: ``hookdk``, or ``hookdk.<client>`` so that
    what a client sends is recorded with its tag (the emulator tags each hook run)."""
    return f"{PROXY_USER}.{client}" if client else PROXY_USER


def basic_authorization(user: str, secret: str) -> str:
    """The ``Proxy-Authorization`` value a client sends for ``user`` and ``secret``."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def credentials(value: bytes | None, secret: str) -> Credentials:
    """Read a ``Proxy-Authorization`` value (None: absent) against the run's ``secret``.

    Only ``Basic`` is spoken, as every client a hook uses sends it from a proxy URL's
    user and password. The user must be ``hookdk`` or ``hookdk.<client>``; the password
    is compared in constant time (``hmac.compare_digest``), so the answer's timing says
    nothing of how much of a guess was right. Anything unreadable is simply not valid.
    """
    if value is None:
        return Credentials()
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"basic":
        return Credentials()
    try:
        user_password = base64.b64decode(token.strip(), validate=True)
    except ValueError:  # binascii.Error: not base64
        return Credentials()
    user, _, password = user_password.partition(b":")
    ours, tagged = user == PROXY_USER.encode(), user.startswith(f"{PROXY_USER}.".encode())
    if not (ours or tagged):
        return Credentials()
    import hmac  # on a connection's thread, not on hookdk's start-up (it loads OpenSSL)

    client = user[len(PROXY_USER) + 1 :].decode("latin-1") if tagged else ""
    return Credentials(client, hmac.compare_digest(password, secret.encode()))
