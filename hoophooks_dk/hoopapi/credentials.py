"""Where the Hoop API's address and token come from: as Hoop's own CLI finds them.

Hoop's CLI (``client/config/config.go``, ``Load``) reads ``HOOP_APIURL`` and
``HOOP_TOKEN``, else its configuration file ``~/.hoop/config.toml``
(``common/clientconfig/clientconfig.go``) with the keys ``api_url``, ``token``,
``tls_ca`` (a PEM bundle, base64-encoded) and ``skip_tls_verify``; ``HOOP_TLSCA`` and
``HOOP_TLS_SKIP_VERIFY=true`` apply over the file. ``hoop login`` writes that file, so a
user who has logged in needs nothing more here.

The kit resolves each value on its own: the command line (``--api-url``, ``--token``)
first, then the environment, then the file. Hoop's CLI takes its environment only when
``HOOP_GRPCURL`` is set as well; the kit talks only to the API, so one variable is enough.

The token is a secret: it lives in ``Credentials.token`` (left out of ``repr``), it is
named in messages only by where it came from, never by its value.
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import HookdkError
from .source import CLI_CONFIG, cite

CONFIG_FILE = Path(".hoop") / "config.toml"  # under the home directory, as Hoop's CLI


class CredentialsError(HookdkError):
    """No usable API address or token, or a configuration file that cannot be read."""


@dataclass(frozen=True)
class Credentials:
    """How to reach one Hoop API, and where each value came from (for messages)."""

    api_url: str  # without a trailing slash; the routes are under ``/api``
    token: str = field(repr=False)
    api_url_from: str
    token_from: str
    tls_ca: str | None = field(default=None, repr=False)  # PEM text: trust only these
    skip_tls_verify: bool = False

    @property
    def is_api_key(self) -> bool:
        """A gateway API key (``xapi-...`` or the legacy ``<org uuid>|<key>``), which Hoop's
        CLI sends in an ``Api-Key`` header as well (``Config.IsApiKey``). An ``hpk_`` key
        travels as a bearer token, as a user's access token does."""
        if self.token.startswith("xapi-"):
            return True
        try:
            uuid.UUID(self.token.split("|")[0])
        except ValueError:
            return False
        return True

    def headers(self) -> dict[str, str]:
        """The headers Hoop's CLI sends (``client/cmd/sessions.go``, setSessionAuthHeaders)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if self.is_api_key:
            headers["Api-Key"] = self.token
        return headers


def resolve(
    api_url: str | None = None,
    token: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Credentials:
    """The credentials from the command line, else the environment, else Hoop's CLI file.

    Raises ``CredentialsError`` (one line, exit 2) when no address or no token is found,
    or when the file cannot be read; the message says where the kit looked."""
    env = os.environ if environ is None else environ
    path = (Path.home() if home is None else home) / CONFIG_FILE
    stored = _read_config(path)
    shown = f"~/{CONFIG_FILE}" if home is None else str(path)
    url, url_from = _first(
        ("--api-url", api_url),
        ("HOOP_APIURL", env.get("HOOP_APIURL")),
        (shown, stored.get("api_url")),
    )
    secret, token_from = _first(
        ("--token", token), ("HOOP_TOKEN", env.get("HOOP_TOKEN")), (shown, stored.get("token"))
    )
    if not url:
        raise CredentialsError(
            f"no Hoop API address: set HOOP_APIURL, api_url in {shown} (hoop login writes it), "
            "or pass --api-url"
        )
    if not secret:
        raise CredentialsError(
            f"no Hoop token: set HOOP_TOKEN, token in {shown} (hoop login writes it), "
            "or pass --token (an API key works too)"
        )
    return Credentials(
        api_url=_check_url(url, url_from),
        token=secret,
        api_url_from=url_from,
        token_from=token_from,
        tls_ca=_tls_ca(env, stored, shown),
        skip_tls_verify=_skip_verify(env, stored),
    )


def _first(*candidates: tuple[str, object]) -> tuple[str, str]:
    for source, value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip(), source
    return "", ""


def _read_config(path: Path) -> dict[str, object]:
    """Hoop's CLI file, or ``{}`` when there is none. TOML errors name the line, never a
    value (the file holds the token)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise CredentialsError(f"cannot read {path}: {reason}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CredentialsError(f"{path} is not valid TOML: {error}") from None


def _check_url(url: str, source: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CredentialsError(
            f"{source}: {url!r} is not an http(s) address, e.g. https://use.hoop.dev"
        )
    return url.rstrip("/")


def _tls_ca(env: Mapping[str, str], stored: Mapping[str, object], shown: str) -> str | None:
    """``tls_ca`` from the file (base64 of the PEM, as ``hoop config create`` stores it),
    else ``HOOP_TLSCA`` (PEM, ``base64://...`` or ``file://PATH``: common/envloader)."""
    encoded = stored.get("tls_ca")
    if isinstance(encoded, str) and encoded.strip():
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError(
                f"{shown}: tls_ca is not a base64-encoded PEM bundle ({cite(CLI_CONFIG, 'Config')})"
            ) from None
    value = env.get("HOOP_TLSCA", "")
    if value.startswith("base64://"):
        try:
            return base64.b64decode(value.removeprefix("base64://")).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError("HOOP_TLSCA: the base64:// value does not decode") from None
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://"))
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise CredentialsError(f"HOOP_TLSCA: cannot read {path}") from None
    return value or None


def _skip_verify(env: Mapping[str, str], stored: Mapping[str, object]) -> bool:
    """``HOOP_TLS_SKIP_VERIFY`` when set (``true`` or anything else), else the file's key."""
    if "HOOP_TLS_SKIP_VERIFY" in env and env["HOOP_TLS_SKIP_VERIFY"] != "":
        return env["HOOP_TLS_SKIP_VERIFY"] == "true"
    return stored.get("skip_tls_verify") is True
