"""Payloads as Hoop's gateway builds them.

A payload is a plain ``dict`` shaped like ``RunbookHookRequest`` in Hoop's
common/proto/system/runbookhook.go (docs/hoop-runtime.md section 4). This module makes
synthetic ones that look real, completes partial ones the way Hoop would have filled them,
applies ``--set`` overrides, and encodes them exactly as the agent hands them to the hook.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import PayloadError

EVENTS = ("session-open", "session-close")
EVENT_KEYS = {"session-open": "event_session_open", "session-close": "event_session_close"}
TOP_LEVEL_KEYS = ("id", "sid", "command", "input_file", "event_session_open", "event_session_close")
OPEN_KEYS = (
    "verb",
    "connection_name",
    "connection_type",
    "connection_subtype",
    "connection_envs",
    "connection_reviewers",
    "input",
    "user_email",
)
CLOSE_KEYS = ("exit_code", "output")
COMMAND = ["python3"]
#: The one variable the agent passes the payload in (agent/controller/system/runbookhook).
PAYLOAD_VARIABLE = "HOOP_RUNBOOK_HOOK_PAYLOAD"
#: Linux refuses to start a process with one environment string over MAX_ARG_STRLEN (32
#: pages of 4 KiB); the agent would fail the same way, whatever runner the kit uses.
MAX_ENV_STRING = 131072

#: Part of every canary value, drawn for each run (each process): nothing outside the run
#: knows the values, so nothing outside it can forge a leak by sending them (a process of
#: another user cannot read a hook's environment, where the payload is).
RUN_MARK = os.urandom(3).hex()[:5]  # not secrets: it loads OpenSSL at start-up
# Recognisable fake credentials. They double as leak canaries, so each one is long and
# distinctive enough never to appear in a request by chance.
CANARY_SECRETS = {
    "envvar:HOST": f"pg-canary-{RUN_MARK}.db.internal",
    "envvar:USER": f"svc_canary_{RUN_MARK}",
    "envvar:PASS": f"hoop-canary-pw-{RUN_MARK}-S3cr3t",
}


#: ``user_email`` by who opens the session: Hoop puts the caller's name there, an email
#: only for a person (docs/hoop-runtime.md section 4). An API key sends its name
#: (gateway/models/apikey.go), an AI agent its name (gateway/models/aiagents.go), the
#: gateway's static API key "API_KEY" (transport/interceptors/auth/auth.go), a machine
#: identity nothing (its context sets no email).
CALLERS = {
    "user": "alice@example.com",
    "api-key": "deploy-bot",
    "ai-agent": "ops-assistant",
    "gateway-api-key": "API_KEY",
    "machine": "",
}


def caller_email(kind: str) -> str:
    """The ``user_email`` Hoop sends for a caller of this kind (``CALLERS``)."""
    try:
        return CALLERS[kind]
    except KeyError:
        raise PayloadError(
            f"unknown caller {kind!r}: expected one of {', '.join(CALLERS)}"
        ) from None


def caller_override(event: str, kind: str) -> tuple[str, str]:
    """``--caller KIND`` as a ``--set`` override of the session-open's ``user_email``."""
    email = caller_email(kind)
    if check_event(event) != "session-open":
        raise PayloadError(
            f"--caller {kind}: sets user_email, a session-open field; a {event} payload "
            "names no caller"
        )
    return f"{EVENT_KEYS[event]}.user_email", email


def check_event(event: str) -> str:
    if event not in EVENTS:
        raise PayloadError(f"unknown event {event!r}: expected one of {', '.join(EVENTS)}")
    return event


def hook_id(event: str, sid: str) -> str:
    """The id Hoop gives a hook run: stable per session and event, so SIEMs can dedupe
    (``uuid5(NAMESPACE_URL, "<event>/<sid>")``)."""
    return str(uuid5(uuid.NAMESPACE_URL, f"{check_event(event)}/{sid}"))


def uuid5(namespace: uuid.UUID, name: str) -> uuid.UUID:
    """``uuid.uuid5``, hashed with CPython's own SHA-1 where the build has it: hashlib's
    loads OpenSSL, 4 ms and more of every ``hookdk fire`` (which makes one id) for one
    short hash. A build without CPython's own hashes (as FIPS builds) uses ``uuid.uuid5``."""
    try:
        from _sha1 import sha1
    except ImportError:
        return uuid.uuid5(namespace, name)
    digest = sha1(namespace.bytes + name.encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=5)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def synthetic_open() -> dict[str, Any]:
    return {
        "verb": "exec",
        "connection_name": "pg-prod",
        "connection_type": "database",
        "connection_subtype": "postgres",
        "connection_envs": {key: b64(value) for key, value in CANARY_SECRETS.items()},
        "connection_reviewers": [],  # [] when none, as Hoop sends it (docs/hoop-runtime.md section 4)
        "input": "SELECT id, email FROM customers WHERE created_at > now() - interval '1 day';",
        "user_email": CALLERS["user"],
    }


def synthetic_close(exit_code: int = 0, output: str | None = None) -> dict[str, Any]:
    """A clean close sends ``output: null``, not the documentation's empty string."""
    return {"exit_code": exit_code, "output": output}


def synthetic(event: str, **fields: Any) -> dict[str, Any]:
    """A synthetic payload for ``event`` (no id, sid, command or input_file yet: ``complete``
    fills them), ``fields`` applied as ``field_overrides`` names them."""
    key = EVENT_KEYS[check_event(event)]
    payload: dict[str, Any] = {
        "event_session_open": None,
        "event_session_close": None,
        key: synthetic_open() if event == "session-open" else synthetic_close(),
    }
    for path, value in field_overrides(event, fields):
        set_path(payload, path, value)
    return payload


def field_overrides(event: str, fields: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Fields by name as ``--set`` paths: top-level keys as they are, dotted paths as they
    are, any other name a field of the fired event (``exit_code=1`` is
    ``event_session_close.exit_code``). This is what ``hoop_payload("session-close",
    exit_code=1)`` means in tests."""
    return [
        (name if name in TOP_LEVEL_KEYS or "." in name else f"{EVENT_KEYS[event]}.{name}", value)
        for name, value in fields.items()
    ]


def parse_override(text: str) -> tuple[str, Any]:
    """``a.b=VALUE``: VALUE is JSON when it parses as JSON, else the literal string."""
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise PayloadError(
            f"--set {text!r}: expected KEY=VALUE, e.g. event_session_close.exit_code=1"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    path = path.strip()
    problems = value_problems(value, json_path(path))
    if problems:
        raise PayloadError(f"--set {text}: {problems[0]}")
    return path, value


def json_path(dotted: str) -> str:
    return "$." + dotted if dotted else "$"


def set_path(payload: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path; every object on the way must exist (the message names the one
    that does not, or what stands where an object should)."""
    keys = path.split(".")
    target: Any = payload
    for depth, key in enumerate(keys[:-1]):
        where = ".".join(keys[: depth + 1])
        if key not in target:
            parent = json_path(".".join(keys[:depth]))
            raise PayloadError(
                f"--set {path}: {json_path(where)} does not exist ({parent} has no key {key!r})"
            )
        child = target[key]
        if not isinstance(child, dict):
            raise PayloadError(
                f"--set {path}: {json_path(where)} is {json.dumps(child)}, not an object"
            )
        target = child
    target[keys[-1]] = value


# Go's encoding/json cannot write NaN or infinities, and Hoop's integer fields are int64.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def value_problems(value: Any, path: str = "$") -> list[str]:
    """Numbers Hoop could never send: NaN, infinities, integers outside Go's int64."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return [f"{path}: {json.dumps(value)} is not a JSON number (Hoop's JSON cannot carry it)"]
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT64_MIN <= value <= INT64_MAX
    ):
        return [f"{path}: {value} is outside Go's int64, which Hoop's integers are"]
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in value_problems(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in value_problems(item, f"{path}[{i}]")]
    return []


def sid_problem(payload: Mapping[str, Any]) -> str | None:
    """Hoop's session ids are uuids; an empty or other sid never reaches a hook."""
    sid = payload.get("sid")
    if not isinstance(sid, str):
        return None  # the schema names the wrong type
    try:
        uuid.UUID(sid)
    except ValueError:
        shown = "an empty string" if not sid else json.dumps(sid)
        return f"$.sid: expected a uuid (Hoop's session ids are uuids), got {shown}"
    return None


def complete(
    payload: Mapping[str, Any],
    event: str,
    *,
    input_file: str,
    overrides: Iterable[tuple[str, Any]] = (),
) -> dict[str, Any]:
    """Fill in what Hoop always sends and a partial file may lack, then apply overrides.

    ``sid`` defaults to a fresh uuid, ``command`` to ``["python3"]``, ``input_file`` to
    the script that actually runs, an absent event to ``null``, and ``id`` to the value
    Hoop derives from event and sid (computed last, so ``--set sid=...`` moves it too).
    """
    result = copy.deepcopy(dict(payload))
    overrides = list(overrides)
    for path, value in overrides:
        set_path(result, path, value)
    if any(path == "sid" for path, _ in overrides) and all(path != "id" for path, _ in overrides):
        result.pop("id", None)  # Hoop derives id from sid: a new sid means a new id
    result.setdefault("sid", str(uuid.uuid4()))
    result.setdefault("command", list(COMMAND))
    result.setdefault("input_file", input_file)
    result.setdefault("event_session_open", None)
    result.setdefault("event_session_close", None)
    if "id" not in result and isinstance(result["sid"], str):
        result["id"] = hook_id(event, result["sid"])
    return ordered(result)


def event_of(payload: Mapping[str, Any]) -> str | None:
    """The event a payload carries, or None when it sets neither or both."""
    is_open = payload.get("event_session_open") is not None
    is_close = payload.get("event_session_close") is not None
    if is_open == is_close:
        return None
    return "session-open" if is_open else "session-close"


def ordered(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Keys in the order of Hoop's Go structs (unknown keys last, for the schema to reject)."""
    result = _in_order(payload, TOP_LEVEL_KEYS)
    for key, fields in (("event_session_open", OPEN_KEYS), ("event_session_close", CLOSE_KEYS)):
        if isinstance(result.get(key), dict):
            result[key] = _in_order(result[key], fields)
    return result


def _in_order(mapping: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    known = {key: mapping[key] for key in keys if key in mapping}
    return known | {key: value for key, value in mapping.items() if key not in known}


_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def input_file_text(script: bytes) -> str:
    """The rendered hook source as the payload's ``input_file``: bytes that are not UTF-8
    become lone surrogates (``surrogateescape``), which ``hoop_json`` writes as Go does.
    The one decoding: the emulator, the ``hoop_payload`` fixture, ``check`` (HK107) and
    ``fuzz`` all decode here, so a payload built by one reaches the hook as the same text,
    and is measured at the size it is sent (``errors="replace"`` would count each such
    byte as three bytes of U+FFFD, where Go sends the six characters ``\\ufffd``)."""
    return script.decode("utf-8", "surrogateescape")


def hoop_json(payload: Mapping[str, Any]) -> str:
    """The payload text as the hook sees it: Go's ``json.Marshal`` of the request.

    Compact, struct field order, map keys sorted, ``<>&`` and U+2028/2029 escaped. A lone
    surrogate stands for a byte that is not UTF-8 (``surrogateescape``, as the emulator
    decodes the hook source): Go writes each such byte as the six characters ``\\ufffd``.
    Hooks that compare or hash the raw variable see the same bytes as in production.
    """
    body = dict(ordered(payload))
    for key in ("event_session_open",):
        event = body.get(key)
        if isinstance(event, dict) and isinstance(event.get("connection_envs"), dict):
            envs = event["connection_envs"]
            body[key] = event | {"connection_envs": dict(sorted(envs.items()))}
    return go_json(body)


def go_json(value: Any) -> str:
    """``value`` as Go's encoding/json writes it: compact, ``<>&`` and U+2028/2029
    escaped, each lone surrogate (a byte that is not UTF-8) as ``\\ufffd``. Used for the
    whole payload and to size one field of it (``Emulator``'s "what makes it large")."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return go_html_escape(_SURROGATE_RE.sub(r"\\ufffd", text))


def environment_bytes(payload: Mapping[str, Any]) -> int:
    """Bytes the payload takes in the hook's environment, as Linux counts them against
    ``MAX_ENV_STRING``: measured on ``hoop_json(payload)``, the very string the emulator
    puts in ``PAYLOAD_VARIABLE``. ``check`` (HK107) and ``fuzz`` measure here, and the
    emulator measures the text it sets with ``variable_bytes``, so all three agree on
    what the agent could start."""
    return variable_bytes(hoop_json(payload))


def variable_bytes(value: str) -> int:
    """``NAME=value`` and its terminating NUL, encoded as ``os.fsencode`` encodes it for
    ``execve``: the one count behind ``environment_bytes``, for a caller (the emulator)
    that already holds ``hoop_json``'s text and should not encode the payload twice."""
    return len(PAYLOAD_VARIABLE) + 1 + len(value.encode("utf-8", "surrogateescape")) + 1


def go_html_escape(text: str) -> str:
    """Escape ``<>&`` and U+2028/2029 in JSON text as Go's encoder does by default."""
    return _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group()], text)


def canaries(payload: Mapping[str, Any]) -> dict[str, str]:
    """Secrets a forwarder must never send on: connection_envs values and the hook source."""
    found: dict[str, str] = {}
    event = payload.get("event_session_open")
    envs = event.get("connection_envs") if isinstance(event, dict) else None
    if isinstance(envs, dict):
        for key, value in envs.items():
            if isinstance(value, str) and value:
                found[f'connection_envs["{key}"]'] = value
    source = payload.get("input_file")
    if isinstance(source, str) and source.strip():
        found["input_file"] = source
    return found
