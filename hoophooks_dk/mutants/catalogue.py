"""The catalogue: regressions that apply to any hook without knowing its code.

Each mutant is a *prelude*: a few lines of standard-library Python put at the top of a
copy of every ``hoop-hooks/*.runbook.py``, before the hook's own code runs. A prelude
changes what the hook's process does (its TLS contexts, its payload, how it exits, how
it treats a failed attempt), so the same mutant models the same mistake in a urllib,
requests, boto3 or raw-socket hook alike. Why preludes and not source rewrites (as
mutmut or cosmic-ray do): the kit cannot know how a user's hook spells its delivery,
but it knows the process Hoop starts; a regression of behaviour is what the hook's tests
must catch, however it was written.

Each prelude is one function, called then deleted, so the hook's namespace is the same,
and never holds two opening braces side by side (Hoop reads hook files as Go templates).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATALOGUE", "Mutant", "apply", "by_name"]


@dataclass(frozen=True)
class Mutant:
    """One regression: its name on the command line, what it models, its prelude, and
    whether its run mostly waits (``waits``: it sleeps, using no core; the runner starts
    it first, beside the jobs that work, so its wait overlaps theirs)."""

    name: str
    models: str
    prelude: str
    waits: bool = False


_TLS_OFF = """
def _hookdk_mutant():
    import ssl

    def unverified(wrap):
        def wrapper(self, *args, **kwargs):
            self.check_hostname = False
            self.verify_mode = ssl.CERT_NONE
            return wrap(self, *args, **kwargs)

        return wrapper

    ssl.SSLContext.wrap_socket = unverified(ssl.SSLContext.wrap_socket)
    ssl.SSLContext.wrap_bio = unverified(ssl.SSLContext.wrap_bio)
"""

_EMAIL_AT = """
def _hookdk_mutant():
    import json
    import os

    payload = json.loads(os.environ.get("HOOP_RUNBOOK_HOOK_PAYLOAD") or "null")
    opened = (payload or dict()).get("event_session_open") if isinstance(payload, dict) else None
    if isinstance(opened, dict):
        email = opened.get("user_email") or ""
        domain = email.split("@")[1]  # the mistake: every caller has an address
        os.environ["HOOKDK_MUTANT_DOMAIN"] = domain
"""

# Rewrites the payload the hook reads so that what it forwards as free text carries
# ``what`` (the hook's own source, or a connection secret): a hook that forwards it.
_LEAK = """
def _hookdk_mutant():
    import json
    import os

    try:
        payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except (KeyError, ValueError):
        return
    if not isinstance(payload, dict):
        return
    secret = WHAT
    if not secret:
        return
    for key, fields in (("event_session_open", ("input", "user_email")), ("event_session_close", ("output",))):
        event = payload.get(key)
        if isinstance(event, dict):
            for field in fields:
                if isinstance(event.get(field), str) or event.get(field) is None:
                    event[field] = (event.get(field) or "") + " " + secret
    os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"] = json.dumps(payload)
"""

_SOURCE = '''payload.get("input_file") or ""'''
_SECRET = """next(
        (str(value) for value in ((payload.get("event_session_open") or dict()).get(
            "connection_envs") or dict()).values() if value),
        "",
    )"""

# The event's key is the session's: the hook reads ``sid`` where it meant ``id``, so a
# session's open and close share one key and a collector that dedupes keeps only one.
_WRONG_ID = """
def _hookdk_mutant():
    import json
    import os

    try:
        payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except (KeyError, ValueError):
        return
    if isinstance(payload, dict) and payload.get("sid"):
        payload["id"] = payload["sid"]
        os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"] = json.dumps(payload)
"""

_SWALLOW = """
def _hookdk_mutant():
    import os
    import sys

    def exit_zero(code=0):
        if code not in (0, None):
            if isinstance(code, str):
                print(code, file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        raise SystemExit(0)

    def hook(kind, value, traceback):
        sys.stderr.flush()
        os._exit(0)

    sys.exit = exit_zero
    sys.excepthook = hook
"""

_SLOW = """
def _hookdk_mutant():
    import time

    time.sleep(16)  # Hoop gives up on a hook at 15 s
"""

# The first attempt that fails is the last: a 408, 429 or 5xx answer, a connection
# that could not be made or a TLS handshake that failed (a collector that resets it)
# ends the hook with one line and exit 1.
_NO_RETRY = """
def _hookdk_mutant():
    import http.client
    import socket
    import sys

    def give_up(why):
        print(f"delivery failed: {why} (not retried)", file=sys.stderr)
        sys.stdout.flush()
        raise SystemExit(1)

    answer = http.client.HTTPConnection.getresponse

    def getresponse(self, *args, **kwargs):
        response = answer(self, *args, **kwargs)
        if response.status >= 500 or response.status in (408, 429):
            give_up(f"HTTP {response.status}")
        return response

    http.client.HTTPConnection.getresponse = getresponse
    connect = socket.socket.connect

    def connect_once(self, address):
        try:
            return connect(self, address)
        except OSError as error:
            give_up(error)

    socket.socket.connect = connect_once
    import ssl

    wrap = ssl.SSLContext.wrap_socket

    def handshake_once(self, *args, **kwargs):  # a TLS handshake that fails is an attempt too
        try:
            return wrap(self, *args, **kwargs)
        except ssl.SSLCertVerificationError:
            raise
        except OSError as error:
            give_up(error)

    ssl.SSLContext.wrap_socket = handshake_once
"""

CATALOGUE: tuple[Mutant, ...] = (
    Mutant("tls-unverified", "TLS certificate verification turned off", _TLS_OFF),
    Mutant("email-needs-at", "assumes user_email holds an '@' (API keys do not)", _EMAIL_AT),
    Mutant(
        "leaks-source",
        "forwards the hook's own source (input_file)",
        _LEAK.replace("WHAT", _SOURCE),
    ),
    Mutant(
        "leaks-secret",
        "forwards a connection_envs value (a secret)",
        _LEAK.replace("WHAT", _SECRET),
    ),
    Mutant("wrong-id", "keys events on the session id, not the event id", _WRONG_ID),
    Mutant("swallows-errors", "a failed delivery or a crash exits 0", _SWALLOW),
    Mutant("sleeps-past-deadline", "takes longer than Hoop's 15 s limit", _SLOW, waits=True),
    Mutant("drops-retries", "the first failed attempt is the last (no retry)", _NO_RETRY),
)


def by_name(names: list[str]) -> list[Mutant]:
    """The mutants named, in catalogue order; ``KeyError`` names an unknown one."""
    known = {mutant.name: mutant for mutant in CATALOGUE}
    for name in names:
        if name not in known:
            raise KeyError(name)
    return [mutant for mutant in CATALOGUE if mutant.name in names]


def apply(mutant: Mutant, hook: Path) -> None:
    """Put ``mutant``'s prelude into the hook file, after its docstring and any
    ``from __future__`` import (which must come first), so it runs before the hook."""
    source = hook.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    at = _first_free_line(source)
    prelude = mutant.prelude.strip("\n") + "\n\n\n_hookdk_mutant()\ndel _hookdk_mutant\n\n"
    hook.write_text("".join([*lines[:at], "\n", prelude, *lines[at:]]), encoding="utf-8")


def _first_free_line(source: str) -> int:
    """The index of the first line after the docstring and future imports (0 when the
    source does not parse: the prelude goes first and the hook fails as it did)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return 0
    at = 0
    for index, node in enumerate(body):
        docstring = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (docstring or future):
            break
        at = node.end_lineno or 0
    return at
