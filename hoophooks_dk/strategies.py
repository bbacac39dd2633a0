"""Hypothesis strategies for hook payloads that Hoop could really send.

Every value drawn here validates against ``schemas/hook-payload.schema.json`` (a property
test holds the module to that), and together they reach the corners that break hooks in
production (docs/hoop-runtime.md section 4): ``null`` where the documentation shows ``""``,
``[]`` and ``{}`` as Hoop sends them and sometimes ``null`` (Go's nil), exit codes -2 and
254, a ``user_email`` that is a name or empty, empty and very long strings, control
characters and non-ASCII text.

Use them with ``@given`` in a hook's own tests::

    from hypothesis import given
    from hoophooks_dk.strategies import payloads

    @given(payloads("session-close"))
    def test_forwarder_never_crashes(hoop_hooks, payload):
        assert hoop_hooks.fire("session-close", payload).exit_code == 0

Text decisions, and why:

* **NUL and other control characters are drawn.** The payload reaches the hook as JSON
  text in an environment variable; JSON escapes them (``\\u0000``), so the variable never
  holds a NUL byte, and the hook gets them back after ``json.loads``.
* **Lone surrogates are not drawn.** A Go string cannot carry one: Hoop would have
  replaced it with U+FFFD before the hook saw it (``payload.hoop_json`` does the same).
  Drawing them would only re-test U+FFFD, which is drawn directly, and would put in
  failing-payload files characters the hook never received.
* **Characters are every code point but the surrogates, named by Unicode category.**
  That is exactly the set ``st.text()``'s default (``characters(codec="utf-8")``) draws
  from, so the same seed draws the same payloads; but Hypothesis builds the codec's table
  by encoding all 1.1 million code points, about three seconds the first time it runs
  with an empty cache (every fresh CI job), where the category table costs a tenth of it.
* **``user_email`` is not always an email.** Hoop puts the caller's name there: an API
  key's or an AI agent's name, ``"API_KEY"`` for the gateway's static key, ``""`` for a
  machine identity. Half the values drawn are such names, so ``fuzz`` finds a hook that
  does ``user_email.split("@")[1]`` within its first few payloads.
* **Sizes are small by default, large sometimes.** Most strings are a few characters so
  examples stay fast; about one string in eight is 1 KB to 100 KB, built by repeating a
  short piece, so it costs nothing to draw and shrinks by shortening. 100 KB of encoded
  JSON leaves room for the rest of the payload under Linux's 128 KiB limit on one
  environment variable (MAX_ARG_STRLEN), which Hoop's agent is subject to as well.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from . import payload as hoop

#: Upper bound, in bytes of encoded JSON, for one long string.
MAX_LONG_TEXT_BYTES = 100_000
#: Lower bound for a long string; up to 100 KB it also crosses Hoop's 4096-byte output cut.
MIN_LONG_TEXT_BYTES = 1_000

#: Strings that have broken real JSON, shell and logging code.
TRICKY_TEXTS = (
    "\x00",
    "\r\n",
    "\t\x1b[31m",
    "\u2028\u2029",
    "<script>&amp;</script>",
    "caf\u00e9",
    "\u65e5\u672c\u8a9e",
    "\U0001f600",
    "\ufeff",
    "\ufffd",
    '"quoted" \\backslash\\',
    "null",
)
REALISTIC_INPUTS = (
    "SELECT id, email FROM customers WHERE created_at > now() - interval '1 day';",
    "db.orders.find({status: 'open'}).limit(10)",
    "print('hello from a python connection')\n",
    "ls -la /var/log\n",
)
REALISTIC_OUTPUTS = (
    'ERROR:  relation "customers" does not exist',
    'Traceback (most recent call last):\n  File "<stdin>", line 1\nNameError: x\n',
    "bash: line 1: psql: command not found",
)
CONNECTION_TYPES = ("database", "application", "custom")
CONNECTION_SUBTYPES = ("postgres", "mysql", "mongodb", "mssql", "tcp", "ssh", "python")
ENV_NAMES = ("HOST", "PORT", "USER", "PASS", "DB", "SSL_MODE", "KEY", "CA_CERT", "KUBECONFIG")
ENV_NAME_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
REVIEWER_GROUPS = ("dba-team", "sre", "security", "admin")
SAMPLE_SCRIPTS = (
    'import json, os\npayload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])\n',
    "print('hook')\n",
)


# --- text ------------------------------------------------------------------------------


def characters() -> SearchStrategy[str]:
    """Any character a Go string can hold: every code point but the surrogates."""
    return st.characters(exclude_categories=("Cs",))


def _text(*, min_size: int = 0, max_size: int | None = None) -> SearchStrategy[str]:
    return st.text(characters(), min_size=min_size, max_size=max_size)


def encoded_size(text: str) -> int:
    """Bytes ``text`` takes inside the payload variable (Go-style JSON, UTF-8)."""
    return len(hoop.hoop_json({"s": text}).encode("utf-8")) - len('{"s":""}')


def _long_text(piece: str, budget: int) -> str:
    """``piece`` repeated to fill ``budget`` bytes of encoded JSON (at least once)."""
    return piece * max(1, budget // max(1, encoded_size(piece)))


def long_texts() -> SearchStrategy[str]:
    """1 KB to 100 KB of encoded text: a short random piece, repeated."""
    return st.builds(
        _long_text,
        _text(min_size=1, max_size=16),
        st.integers(MIN_LONG_TEXT_BYTES, MAX_LONG_TEXT_BYTES),
    )


def texts(realistic: tuple[str, ...] = ()) -> SearchStrategy[str]:
    """Any string a user or a session could produce; shrinks towards ``""``.

    Roughly: half short arbitrary unicode (control characters and NUL included, lone
    surrogates excluded, see the module docstring), the rest tricky or realistic values,
    and one in eight long.
    """
    short = _text(max_size=24)
    known = st.sampled_from(realistic + TRICKY_TEXTS)
    return st.one_of(short, st.one_of(known, st.one_of(short, long_texts())))


def names(known: tuple[str, ...]) -> SearchStrategy[str]:
    """A realistic name half the time, any short string otherwise."""
    return st.one_of(st.sampled_from(known), _text(max_size=24))


# --- building blocks -------------------------------------------------------------------


def sids() -> SearchStrategy[str]:
    """Session ids: uuids as text, as Hoop makes them."""
    return st.uuids().map(str)


def exit_codes() -> SearchStrategy[int]:
    """-2 (Hoop could not read the code) upward, to Go's int64 maximum; common ones often,
    254 among them (the agent's own failures)."""
    common = st.sampled_from((0, 1, 2, -2, -1, 124, 127, 130, 137, 254, 255))
    return st.one_of(common, st.integers(min_value=-2, max_value=2**63 - 1))


def _env_key() -> SearchStrategy[str]:
    """``envvar:NAME`` or ``filesystem:NAME``, NAME an upper-case identifier."""
    drawn = st.text(alphabet=ENV_NAME_ALPHABET, min_size=1, max_size=16)
    name = st.one_of(st.sampled_from(ENV_NAMES), drawn.filter(lambda n: not n[0].isdigit()))
    return st.builds("{}:{}".format, st.sampled_from(("envvar", "filesystem")), name)


def _env_value() -> SearchStrategy[str]:
    """Base64, as Hoop stores connection secrets: of short text or of raw bytes."""
    raw = st.one_of(_text(max_size=40).map(str.encode), st.binary(max_size=64))
    return raw.map(lambda data: base64.b64encode(data).decode("ascii"))


def connection_envs() -> SearchStrategy[dict[str, str] | None]:
    """``{}`` (what Hoop sends for a connection without secrets) or ``envvar:``/
    ``filesystem:`` keys, mostly; sometimes ``null``, which Go writes for a nil map."""
    envs = st.dictionaries(_env_key(), _env_value(), max_size=6)
    return st.one_of(envs, envs.filter(bool), st.none())


def reviewers() -> SearchStrategy[list[str] | None]:
    """``[]`` (what Hoop sends when the connection has no review plugin) or reviewer
    groups, mostly; sometimes ``null``, which Go writes for a nil slice."""
    group = st.one_of(st.sampled_from(REVIEWER_GROUPS), _text(min_size=1, max_size=24))
    groups = st.lists(group, max_size=4)
    return st.one_of(groups, groups.filter(bool), st.none())


def emails() -> SearchStrategy[str]:
    """Mostly plain addresses; sometimes any text before the ``@`` (IdPs pass it through)."""
    domain = st.sampled_from(("example.com", "corp.example", "xn--exmple-cua.com"))
    local = st.one_of(st.sampled_from(("alice", "bob.smith", "ops+hoop")), _text(max_size=16))
    return st.builds("{}@{}".format, local, domain)


def caller_names() -> SearchStrategy[str]:
    """``user_email`` for a caller that is not a person: a machine identity's ``""``, the
    gateway's static key's ``"API_KEY"``, an API key's or an AI agent's name (any text
    its owner typed, which need hold no ``@``)."""
    known = st.sampled_from(("", hoop.CALLERS["gateway-api-key"], hoop.CALLERS["api-key"]))
    return st.one_of(known, _text(min_size=1, max_size=24))


def user_emails() -> SearchStrategy[str]:
    """``user_email`` as Hoop fills it: a person's email about half the time, otherwise
    a caller's name or nothing (docs/hoop-runtime.md section 4), so a hook that takes
    the part after an ``@`` is found out; shrinks towards an email."""
    return st.one_of(emails(), caller_names())


def session_open_events() -> SearchStrategy[dict[str, Any]]:
    """``event_session_open`` for a verb that fires a hook (never ``plain-exec``)."""
    return st.fixed_dictionaries(
        {
            "verb": st.sampled_from(("connect", "exec")),
            "connection_name": names(("pg-prod", "mysql-replica", "bastion")),
            "connection_type": names(CONNECTION_TYPES),
            "connection_subtype": names(CONNECTION_SUBTYPES),
            "connection_envs": connection_envs(),
            "connection_reviewers": reviewers(),
            "input": texts(REALISTIC_INPUTS),
            "user_email": user_emails(),
        }
    )


def session_close_events() -> SearchStrategy[dict[str, Any]]:
    """``event_session_close``: ``output`` is ``null`` on a clean close, first when shrunk."""
    output = st.one_of(st.none(), texts(REALISTIC_OUTPUTS))
    return st.fixed_dictionaries({"exit_code": exit_codes(), "output": output})


# --- payloads --------------------------------------------------------------------------


def _events(event: str | None) -> list[str]:
    return list(hoop.EVENTS) if event is None else [hoop.check_event(event)]


def _partial(event: str) -> SearchStrategy[dict[str, Any]]:
    fired = session_open_events() if event == "session-open" else session_close_events()
    return st.fixed_dictionaries(
        {
            "sid": sids(),
            "event_session_open": fired if event == "session-open" else st.none(),
            "event_session_close": fired if event == "session-close" else st.none(),
        }
    )


def partial_payloads(event: str | None = None) -> SearchStrategy[dict[str, Any]]:
    """What Hoop decides per session: ``sid`` and the events, the unfired one ``null``.

    ``id``, ``command`` and ``input_file`` are left out for ``Emulator.fire`` to fill in
    as Hoop does, from the sid and the hook that actually runs. The fuzzer draws these.
    """
    return st.one_of(*(_partial(name) for name in _events(event)))


def _complete(partial: dict[str, Any], input_file: str) -> dict[str, Any]:
    event = hoop.event_of(partial)
    assert event is not None  # _partial sets exactly one event
    return hoop.complete(partial, event, input_file=input_file)


def payloads(
    event: str | None = None,
    *,
    input_file: SearchStrategy[str] | str | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """Complete payloads for ``event`` (either event when None), as the hook receives them.

    ``id`` is derived from ``sid`` exactly as Hoop derives it, ``command`` is
    ``["python3"]``; ``input_file`` (the hook's own source) is drawn from the given
    strategy, or fixed when it is a string: pass your hook's text to be exact. By
    default it is one of two small sample scripts.
    """
    if input_file is None:
        input_file = st.sampled_from(SAMPLE_SCRIPTS)
    scripts = st.just(input_file) if isinstance(input_file, str) else input_file
    return st.builds(_complete, partial_payloads(event), scripts)
