"""Fixtures for the hook tests, written by `hookdk init`.

The values are this template's, in hook_settings.py next to this file: `settings` pins
them (and the retry settings) for every test, `delivery` tells test_delivery.py where
the hooks post and how to read what they sent. The `hoop_hooks`, `siem` and
`hook_payload` fixtures come from the hoophooks_dk pytest plugin.
"""

import os
from types import SimpleNamespace

import hook_settings
import pytest

ATTEMPTS = 3  # HOOK_ATTEMPTS in every test: a failing collector gets exactly this many


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    for name, value in hook_settings.SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")


@pytest.fixture
def delivery(hoop_hooks, siem):
    """What test_delivery.py needs from hook_settings.py, with its defaults: both hooks
    send a request, fired with the example payload as it is."""
    fields = getattr(hook_settings, "FIRE_FIELDS", {})
    secret_setting = hook_settings.SECRET_SETTING
    return SimpleNamespace(
        route=lambda: siem.router.route(**hook_settings.ROUTE),  # a test makes it fail
        key=hook_settings.event_id,  # a captured request's idempotency key
        secret_setting=secret_setting,  # without it, nothing is sent
        events=getattr(hook_settings, "EVENTS", ("session-open", "session-close")),
        fire=lambda event: hoop_hooks.fire(event, **fields),
        # never in a hook's output: the secret, and what else hook_settings.py names
        secrets=[os.environ[secret_setting], *getattr(hook_settings, "SECRETS", ())],
        attempts=ATTEMPTS,
    )
