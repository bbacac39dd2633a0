"""Fixtures for the hook tests of a syslog template, written by `hookdk init`.

The values are this template's, in hook_settings.py next to this file: `settings` pins
them (and the retry settings) for every test. The `hoop_hooks`, `hoop_siem` and
`hoop_payload` fixtures come from the hoophooks_dk pytest plugin; `hoop_siem.syslog` holds
the messages this test's hooks sent to the kit's syslog receiver, which stands in for
the collector (the hooks find it through the HOOKDK_SYSLOG_* variables the kit sets).
"""

import hook_settings
import pytest

ATTEMPTS = 3  # HOOK_ATTEMPTS in every test: a collector that is down gets this many tries


@pytest.fixture(autouse=True)
def settings(monkeypatch):
    """Pin the hooks' settings, so these tests hold whatever defaults the hooks carry."""
    for name, value in hook_settings.SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOOK_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setenv("HOOK_RETRY_DELAY_SECONDS", "0")
    monkeypatch.setenv("HOOK_TIMEOUT_SECONDS", "3")  # the hooks' own default, whatever is exported
