"""Fixtures for the hook tests, written by `hookdk init`.

The values are this template's, in hook_settings.py next to this file: `settings` pins
them (and the retry settings) for every test, `delivery` tells test_delivery.py where
the hooks post and how to read what they sent. The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin.
"""

import os
from types import SimpleNamespace

import hook_settings
import httpx
import pytest
from respx.patterns import M

ATTEMPTS = 4  # HOOK_ATTEMPTS in every test: a failing collector gets exactly this many
SHIPPED_ATTEMPTS = 3  # the hooks' own default, which one test leaves in place


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry
    and whatever is exported (HOOK_ATTEMPTS is not its default: the hooks must read it)."""
    for name, value in hook_settings.SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")
    monkeypatch.setenv("HOOK_TIMEOUT_SECONDS", "3")  # the hooks' own default, whatever is exported


@pytest.fixture(autouse=True)
def other_endpoints(hoop_siem):
    """Answer what the hooks ask before they deliver (a token endpoint): OTHER_ROUTES
    in hook_settings.py, pairs of a route and its answer, set up for every test."""
    for route, answer in getattr(hook_settings, "OTHER_ROUTES", ()):
        hoop_siem.router.route(**route).respond(**answer)


def is_delivery(request):
    """Whether a captured request is a delivery, not one of the OTHER_ROUTES."""
    other = [M(**route) for route, _ in getattr(hook_settings, "OTHER_ROUTES", ())]
    asked = httpx.Request(request.method, request.url, headers=request.headers)
    return not any(pattern.match(asked) for pattern in other)


@pytest.fixture
def delivery(hoop_hooks, hoop_siem):
    """What test_delivery.py needs from hook_settings.py, with its defaults: both hooks
    send a request, fired with the example payload as it is (plus FIRE_FIELDS, and
    EVENT_FIELDS[event] for one event only)."""
    fields = getattr(hook_settings, "FIRE_FIELDS", {})
    per_event = getattr(hook_settings, "EVENT_FIELDS", {})
    secret_setting = hook_settings.SECRET_SETTING
    return SimpleNamespace(
        route=lambda: hoop_siem.router.route(**hook_settings.ROUTE),  # a test makes it fail
        sent=lambda: [request for request in hoop_siem.requests if is_delivery(request)],
        delivers=is_delivery,  # whether one captured request is a delivery
        key=hook_settings.event_id,  # a captured request's idempotency key
        secret_setting=secret_setting,  # without it, nothing is sent
        # the settings left to their shipped defaults in one test, and where the hooks
        # then post (DEFAULTS and DEFAULT_ROUTE in hook_settings.py)
        defaults=getattr(hook_settings, "DEFAULTS", ()),
        default_route=lambda: hoop_siem.router.route(
            **getattr(hook_settings, "DEFAULT_ROUTE", hook_settings.ROUTE)
        ),
        events=getattr(hook_settings, "EVENTS", ("session-open", "session-close")),
        event_fields=per_event,
        fire=lambda event, **more: hoop_hooks.fire(
            event, **fields, **per_event.get(event, {}), **more
        ),
        # never in a hook's output: the secret, and what else hook_settings.py names
        secrets=[os.environ[secret_setting], *getattr(hook_settings, "SECRETS", ())],
        attempts=ATTEMPTS,
        shipped_attempts=SHIPPED_ATTEMPTS,
    )
