"""A small client for the few Hoop API routes the kit reads.

httpx (already a dependency of the kit) makes the requests: it gives one exception
hierarchy for connection, TLS and time-out failures, so each becomes one line here, and
it takes an ``ssl.SSLContext`` for the CA bundle Hoop's CLI configuration names.

Every route is a GET under ``<api_url>/api`` (``gateway/api/server.go``); every failure a
user can cause is one ``HoopApiError`` naming the address and what to do (exit 2), and
its text never holds the token: it is scrubbed from anything the server sends back.
The answers' shapes are Hoop's ``gateway/api/openapi/openapiv3.json`` at the commit in
``source.HOOP_COMMIT``; the tests' fake API is validated against them.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import HookdkError
from .credentials import Credentials
from .source import API_AUTH, API_ROUTES, cite

TIMEOUT = 30.0  # seconds for each request; Hoop's CLI has no shorter one
#: Failures of a route the kit can do without (the answer is then "unknown"): a role that
#: may not read it, or a gateway that answers it with an error.
OPTIONAL_FAILURES = ("forbidden", "answer")


class HoopApiError(HookdkError):
    """The API could not be used: ``kind`` is ``auth``, ``forbidden``, ``not_found``,
    ``unreachable``, ``tls``, ``timeout`` or ``answer`` (a reply the kit cannot read)."""

    def __init__(self, message: str, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass
class HoopApi:
    """The API at ``credentials.api_url``; use it as a context manager."""

    credentials: Credentials
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=f"{self.credentials.api_url}/api",
            headers=self.credentials.headers() | {"User-Agent": "hookdk"},
            verify=_verify(self.credentials),
            timeout=self.timeout,
            trust_env=False,  # proxies from the environment are not Hoop's CLI's either
        )

    def __enter__(self) -> HoopApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # The routes -----------------------------------------------------------------------

    def session(self, sid: str) -> dict[str, Any]:
        """``GET /sessions/{id}`` with the event stream as stored (``[[t, "o"|"e"|"i",
        base64], ...]``) and the input: ``expand=event_stream,session_input``, as Hoop's
        web app asks (webapp/src/webapp/events/audit.cljs)."""
        answer = self._get(
            f"/sessions/{quote(sid, safe='')}",
            {"expand": "event_stream,session_input"},
            what=f"session {sid}",
        )
        if answer is None:
            raise HoopApiError(
                f"no session {sid} at {self.credentials.api_url} (404): check the id "
                "(hoop sessions list) and that the token's organization ran it",
                "not_found",
                404,
            )
        return _object(answer, f"session {sid}")

    def runbook_configuration(self) -> dict[str, Any] | None:
        """``GET /runbooks/configurations`` (admins and auditors); None when the org has
        none (404)."""
        answer = self._get("/runbooks/configurations", what="the runbook configuration")
        return None if answer is None else _object(answer, "the runbook configuration")

    def runbooks_plugin(self) -> dict[str, Any] | None:
        """``GET /plugins/runbooks``: the legacy configuration; None when absent (404).
        A gateway that cannot answer it (403, 5xx) raises: the caller decides."""
        answer = self._get("/plugins/runbooks", what="the runbooks plugin")
        return None if answer is None else _object(answer, "the runbooks plugin")

    def hides_secrets(self) -> bool | None:
        """``GET /orgs/hide-role-info``: whether the API masks connection secrets; None when
        the token may not ask (an admin route) or the gateway does not know the route."""
        try:
            answer = self._get("/orgs/hide-role-info", what="the secrets setting")
        except HoopApiError as error:
            if error.kind in OPTIONAL_FAILURES:
                return None
            raise
        if not isinstance(answer, dict):
            return None
        value = answer.get("hide_role_info")
        return value if isinstance(value, bool) else None

    def connection(self, name: str) -> dict[str, Any] | None:
        """``GET /connections/{name}``; None when it is gone (404) or not readable (403).
        Call it only when ``hides_secrets()`` is True: otherwise the answer holds the
        connection's secrets."""
        try:
            answer = self._get(f"/connections/{quote(name, safe='')}", what=f"connection {name}")
        except HoopApiError as error:
            if error.kind in OPTIONAL_FAILURES:
                return None
            raise
        return None if answer is None else _object(answer, f"connection {name}")

    # Requests -------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None, *, what: str) -> Any:
        """The decoded JSON answer, None for a 404; one HoopApiError for anything else."""
        where = self.credentials.api_url
        try:
            response = self._http.get(path, params=params)
        except httpx.ConnectError as error:
            raise self._connect_error(error) from None
        except httpx.TimeoutException:
            raise HoopApiError(
                f"the Hoop API at {where} did not answer within {self.timeout:g} s", "timeout"
            ) from None
        except httpx.HTTPError as error:
            raise HoopApiError(
                f"the Hoop API at {where} broke off: {self._scrub(str(error))}", "unreachable"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code == 401:
            raise HoopApiError(
                f"the Hoop API at {where} refused the token from {self.credentials.token_from} "
                f"(401 {self._message(response)}): log in again (hoop login) or use a valid "
                f"API key ({cite(API_AUTH, 'AuthMiddleware')})",
                "auth",
                401,
            )
        if response.status_code == 403:
            raise HoopApiError(
                f"the token from {self.credentials.token_from} may not read {what} "
                f"(403 {self._message(response)}): this route needs another role "
                f"({cite(API_ROUTES)})",
                "forbidden",
                403,
            )
        if response.status_code >= 300:
            raise HoopApiError(
                f"the Hoop API at {where} answered {response.status_code} for {what}: "
                f"{self._message(response)}",
                "answer",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise HoopApiError(
                f"the Hoop API at {where} answered {what} with something that is not JSON",
                "answer",
                response.status_code,
            ) from None

    def _connect_error(self, error: httpx.ConnectError) -> HoopApiError:
        where = self.credentials.api_url
        reason = _ssl_reason(error)
        if reason is not None:
            return HoopApiError(
                f"TLS failed with the Hoop API at {where}: {reason}; give its CA as tls_ca in "
                "~/.hoop/config.toml or HOOP_TLSCA (or HOOP_TLS_SKIP_VERIFY=true to skip the "
                "check, as Hoop's CLI allows)",
                "tls",
            )
        return HoopApiError(
            f"cannot reach the Hoop API at {where}: {self._scrub(_reason(error))}", "unreachable"
        )

    def _message(self, response: httpx.Response) -> str:
        """The ``message`` of Hoop's HTTPError answer, short and without the token."""
        try:
            body = response.json()
        except ValueError:
            body = None
        text = body.get("message") if isinstance(body, dict) else None
        text = text if isinstance(text, str) and text else response.reason_phrase or "no reason"
        text = " ".join(self._scrub(text).split())
        return text if len(text) <= 200 else text[:199] + "\u2026"

    def _scrub(self, text: str) -> str:
        token = self.credentials.token
        return text.replace(token, "<token>") if token else text


def _verify(credentials: Credentials) -> ssl.SSLContext | bool:
    """Hoop's CLI: with ``tls_ca`` only that bundle is trusted; ``skip_tls_verify`` (or
    ``HOOP_TLS_SKIP_VERIFY=true``) turns checks off (common/httpclient/httpclient.go)."""
    if credentials.skip_tls_verify:
        return False
    if credentials.tls_ca:
        try:
            return ssl.create_default_context(cadata=credentials.tls_ca)
        except ssl.SSLError as error:
            raise HoopApiError(
                f"the tls_ca bundle for {credentials.api_url} is not a PEM certificate: "
                f"{error.reason or error}",
                "tls",
            ) from None
    return True


def _ssl_reason(error: BaseException) -> str | None:
    """The TLS failure behind a connect error, or None when it is not one."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or "certificate verify failed"
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    return text if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text else None


def _reason(error: BaseException) -> str:
    """An OS-level reason (``connection refused``), not a traceback's chain."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        seen = seen.__cause__ or seen.__context__
    return str(error) or type(error).__name__


def _object(answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise HoopApiError(
            f"the Hoop API answered {what} with JSON that is not an object", "answer"
        )
    return answer
