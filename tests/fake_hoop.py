"""A fake Hoop API for the replay and doctor tests: a real HTTP(S) server on 127.0.0.1.

It serves the five GET routes the kit reads, authenticates as Hoop's ``AuthMiddleware``
does (``Authorization: Bearer``, or ``Api-Key`` for a gateway key) and answers 401/403/404
with Hoop's ``{"message": ...}``. Every answer is validated against
``tests/data/hoop/openapi-excerpt.json`` (Hoop's own OpenAPI shapes at the commit it
names, see ``compare_with_hoop.py`` there) with openapi-core before it is sent: the canned
data when the fake is made, and each whole response (status, content type, body) as it is
served. An answer that does not fit is kept in ``invalid`` and ``close()`` raises it, so
the fake cannot drift from what Hoop really sends.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

DATA = Path(__file__).parent / "data" / "hoop"
SPEC = OpenAPI.from_dict(json.loads((DATA / "openapi-excerpt.json").read_text(encoding="utf-8")))
TOKEN = "hpk_Zm9vYmFyLXRlc3Qta2V5LTEyMzQ1Njc4OTA"  # an API key, as Hoop issues them


def recorded(name: str) -> dict[str, Any]:
    """A recorded real-shaped session (tests/data/hoop/sessions/NAME.json)."""
    return json.loads((DATA / "sessions" / f"{name}.json").read_text(encoding="utf-8"))


def repository(name: str, ttl: int, **extra: Any) -> dict[str, Any]:
    """One ``openapi.RunbookRepositoryResponse`` as runbooksV2.go builds it."""
    return {
        "repository": name,
        "git_url": f"https://{name}",
        "git_user": "",
        "git_password": extra.pop("git_password", ""),
        "ssh_key": "",
        "ssh_user": "",
        "ssh_keypass": "",
        "ssh_known_hosts": "",
        "git_hook_ttl": ttl,
        **extra,
    }


def configuration(*repositories: dict[str, Any]) -> dict[str, Any]:
    """One ``openapi.RunbookConfigurationResponse``."""
    return {
        "id": "15b5a2fd-0706-4a47-b1cf-b93ccfc5b3d7",
        "org_id": "0cd7f941-2bb8-4f9f-93b0-11620d4652ab",
        "repositories": list(repositories),
        "created_at": "2026-05-02T10:11:12.123456Z",
        "updated_at": "2026-08-19T08:00:00.5Z",
    }


def connection(name: str, secret: dict[str, Any], reviewers: list[str]) -> dict[str, Any]:
    """An ``openapi.Connection`` (the fields the kit reads, and the required ones)."""
    return {
        "id": "5364ec99-653b-41ba-8165-67236e894990",
        "name": name,
        "type": "database",
        "subtype": "postgres",
        "agent_id": "1837453e-01fc-46f3-9e4c-dcf22d395393",
        "access_mode_connect": "enabled",
        "access_mode_exec": "enabled",
        "access_mode_runbooks": "enabled",
        "access_schema": "enabled",
        "command": ["psql"],
        "status": "online",
        "secret": secret,
        "reviewers": reviewers,
    }


class FakeHoop:
    """The fake API. ``routes`` maps a path under /api to its 200 answer (None: 404);
    ``forbidden`` paths answer 403; ``token`` is the only credential accepted."""

    def __init__(
        self,
        routes: dict[str, Any] | None = None,
        *,
        token: str = TOKEN,
        api_key_header: bool = False,
        forbidden: tuple[str, ...] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes = dict(routes or {})
        self.token = token
        self.api_key_header = api_key_header  # a gateway key: accepted in Api-Key
        self.forbidden = forbidden
        self.requests: list[dict[str, Any]] = []
        self.invalid: list[str] = []
        for path, answer in self.routes.items():
            if answer is not None:
                self._check(path, 200, answer)
        if self.invalid:
            raise AssertionError(
                "canned answers do not fit Hoop's shapes:\n" + "\n".join(self.invalid)
            )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> FakeHoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        if self.invalid:
            raise AssertionError(
                "the fake answered outside Hoop's shapes:\n" + "\n".join(self.invalid)
            )

    def paths(self) -> list[str]:
        return [request["path"] for request in self.requests]

    def answer(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, Any]:
        parts = urlsplit(target)
        path = unquote(parts.path)
        self.requests.append(
            {"method": method, "path": path, "query": parse_qs(parts.query), "headers": headers}
        )
        if not self._authorized(headers):
            return 401, {"message": "access denied"}
        route = path.removeprefix("/api")
        if route in self.forbidden:
            return 403, {"message": "access denied"}
        if route not in self.routes:
            return 404, {"message": "not found"}
        answer = self.routes[route]
        return (404, {"message": "not found"}) if answer is None else (200, answer)

    def _authorized(self, headers: dict[str, str]) -> bool:
        """Hoop's AuthMiddleware: an Api-Key header for gateway keys, else a bearer token."""
        if self.api_key_header:
            return headers.get("api-key") == self.token
        return headers.get("authorization") == f"Bearer {self.token}"

    def _check(self, path: str, status: int, body: Any) -> None:
        request = MockRequest(
            self.url if hasattr(self, "url") else "http://127.0.0.1", "get", f"/api{path}"
        )
        response = MockResponse(json.dumps(body).encode(), status_code=status)
        try:
            SPEC.validate_response(request, response)
        except Exception as error:  # each failure, with openapi-core's reasons
            reasons = [str(error)]
            seen = error
            while seen is not None:
                errors = getattr(seen, "schema_errors", None)
                if errors:
                    reasons = [
                        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors
                    ]
                    break
                seen = seen.__cause__
            self.invalid.append(f"{status} GET /api{path}: " + "; ".join(reasons))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, body = fake.answer("GET", self.path, headers)
                fake._check(unquote(urlsplit(self.path).path).removeprefix("/api"), status, body)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
