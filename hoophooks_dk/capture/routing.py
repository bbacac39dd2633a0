"""How the capture answers a request, first answer wins:

1. the test's own routes, on ``Capture.router`` (respx, so a test programs the SIEM with
   respx's API; side effects, pass-through and all);
2. the settings' routes (``respond`` in the settings file, ``--respond``), given to the
   capture as ``routes``: ``route.status`` with an empty body, matched by
   ``Route.matches`` against the URL as respx sees it, so that they answer exactly as
   the same routes programmed on the router would (``settings.apply_routes``);
3. in strict mode, a 502 naming the request, which the test hears of (``NO_ROUTE``);
4. else a default answer an SDK accepts: in the AWS service's own protocol
   (``aws_answers``), a dummy token for an OAuth 2.0 token request (``token_answers``),
   or ``default_status`` with ``{}``.

Every request is made an ``httpx.Request`` first, routes or not, so that a request httpx
cannot represent is refused alike (400); respx is imported only once a test programs a
route. Nothing here records or locks: ``Capture`` routes under its lock, in arrival order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .bodies import DecodeError, SpooledBody, decode
from .captured import CapturedResponse, header_text
from .policy import forwarded_headers

if TYPE_CHECKING:
    import httpx
    import respx

    from ..settings import Route
    from .exchange import Exchange

__all__ = ["NO_ROUTE", "Routed", "route"]

NO_ROUTE = "hookdk capture: no route matched"


class Routed(NamedTuple):
    """The answer, whether a route gave it, and an exception the test's code raised."""

    response: CapturedResponse
    matched: bool
    failure: Exception | None = None


def route(
    exchange: Exchange,
    headers: list[tuple[bytes, bytes]],
    *,
    router: respx.Router | None,
    routes: Sequence[Route] = (),
    strict: bool = False,
    default_status: int = 200,
) -> Routed:
    """Answer ``exchange`` (whose ``headers`` are those recorded, see the module docstring).

    Every failure becomes an error answer; an exception the test's route raised (not a
    simulated network error, ``httpx.TransportError``) is returned as well, for the test
    to hear of.
    """
    method, url = exchange.method, exchange.url
    try:
        request, resolved = _resolve(router, method, url, headers, exchange.body)
    except _PassedThrough:
        return Routed(
            _error(502, "hookdk capture: pass_through is impossible, nothing leaves"), True
        )
    except _Unroutable as error:  # an URL or header httpx cannot represent
        return Routed(_error(400, f"hookdk capture: cannot route this request: {error}"), False)
    except Exception as error:
        import httpx

        # a side effect playing a network failure stays the hook's 502; anything else is a
        # bug in the test's route: the hook sees a 502 and the test hears of it
        raised = None if isinstance(error, httpx.TransportError) else error
        return Routed(
            _error(502, f"hookdk capture: route side effect raised {error!r}"), True, raised
        )
    if resolved is not None and resolved.route is not None:
        return Routed(_from_httpx(resolved.response), True)
    status = settings_status(routes, request)
    if status is not None:  # an empty body, as httpx.Response(status) on the router
        return Routed(CapturedResponse(status, [], b""), True)
    if strict:
        return Routed(_error(502, f"{NO_ROUTE}: {method} {url}"), False)
    return Routed(default_answer(exchange, headers, default_status), False)


def settings_status(routes: Sequence[Route], request: httpx.Request) -> int | None:
    """The status of the first of ``routes`` that matches ``request``, or None.

    The URL is the one respx matches a route's ``url__regex`` against (httpx's form: host
    lowercased, default port dropped, characters percent-encoded, an empty path ``/``),
    so a settings route answers exactly what ``settings.apply_routes`` would."""
    if not routes:
        return None
    url = str(request.url.copy_with(raw_path=request.url.raw_path))
    return next((r.status for r in routes if r.matches(request.method, url)), None)


def default_answer(
    exchange: Exchange, headers: list[tuple[bytes, bytes]], default_status: int
) -> CapturedResponse:
    """``default_status`` with ``{}``, or what an AWS SDK expects for its call, or a dummy
    token for an OAuth 2.0 token request."""
    named = {header_text(n).lower(): header_text(v) for n, v in reversed(headers)}
    body = exchange.body if isinstance(exchange.body, bytes) else b""
    with contextlib.suppress(DecodeError):
        body = decode(body, named.get("content-encoding"))
    from . import aws_answers  # only for unanswered requests: it imports xml and more

    aws = aws_answers.answer(exchange.method, exchange.url, named, body, default_status)
    if aws is not None:
        return CapturedResponse(*aws)
    from . import token_answers

    token = token_answers.answer(exchange.method, exchange.url, default_status)
    if token is not None:
        return CapturedResponse(*token)
    return CapturedResponse(default_status, [("Content-Type", "application/json")], b"{}")


def _resolve(
    router: respx.Router | None,
    method: str,
    url: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | SpooledBody,
) -> tuple[httpx.Request, Any]:
    """The request as httpx makes it, and the router's resolution (None when no route was
    ever programmed: respx is not even imported then). A spooled body reaches the router
    as a stream, read only if a route needs it."""
    import httpx

    content = body.chunks() if isinstance(body, SpooledBody) else body
    try:
        request = httpx.Request(method, url, headers=headers, content=content)
    except Exception as error:
        raise _Unroutable(error) from error
    if router is None:
        return request, None
    from respx.models import PassThrough

    try:
        try:
            return request, router.resolve(request)
        except httpx.RequestNotRead:
            assert isinstance(body, SpooledBody)
            request = httpx.Request(method, url, headers=headers, content=body.read())
            return request, router.resolve(request)
    except PassThrough:
        raise _PassedThrough from None


class _Unroutable(Exception):
    """httpx cannot represent this request (its URL or a header)."""


class _PassedThrough(Exception):
    """A route asked respx to pass the request through to the network."""


def _error(status: int, message: str) -> CapturedResponse:
    return CapturedResponse(
        status, [("Content-Type", "text/plain; charset=utf-8")], message.encode()
    )


def _from_httpx(response: httpx.Response) -> CapturedResponse:
    """Keep a programmed response's end-to-end headers; the proxy redoes the framing."""
    headers = [(header_text(n), header_text(v)) for n, v in forwarded_headers(response.headers.raw)]
    return CapturedResponse(response.status_code, headers, response.content)
