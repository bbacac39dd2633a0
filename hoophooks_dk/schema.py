"""Validation against ``schemas/hook-payload.schema.json``, with messages people can act on.

jsonschema reports a failed ``oneOf`` as "is not valid under any of the given schemas";
this module digs into such errors and words each violation as the JSON path, what was
expected and what was found. jsonschema is imported lazily: it costs more start-up time
than the rest of ``hookdk fire`` together, and synthetic payloads do not need it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .payload import event_of
from .resources import read_schema_text


@dataclass(frozen=True)
class Violation:
    path: str  # a JSON path: $.event_session_close.exit_code
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@cache
def schema() -> dict[str, Any]:
    return json.loads(read_schema_text())


@cache
def _validator(name: str = "hook-payload.schema.json") -> Any:
    from jsonschema import Draft202012Validator

    loaded = schema() if name == "hook-payload.schema.json" else json.loads(read_schema_text(name))
    return Draft202012Validator(loaded)


def validate(payload: Any, schema_name: str = "hook-payload.schema.json") -> list[Violation]:
    """Every violation of the schema, the event mix-up first, none repeated."""
    if schema_name == "hook-payload.schema.json" and isinstance(payload, Mapping):
        event_problem = _event_problem(payload)
        if event_problem:
            rest = _plain_violations(payload, schema_name, skip_root_oneof=True)
            return [event_problem, *_merge_missing(rest)]
    return _merge_missing(_plain_violations(payload, schema_name))


def _merge_missing(violations: Iterable[Violation]) -> list[Violation]:
    """One line per object for its missing keys, rather than one line per key."""
    merged: list[Violation] = []
    missing: dict[str, list[str]] = {}
    for violation in violations:
        if isinstance(violation, _Missing):
            if violation.path not in missing:
                missing[violation.path] = []
                merged.append(violation)
            missing[violation.path].append(violation.key)
        else:
            merged.append(violation)
    return [
        Violation(v.path, f"missing required key(s): {', '.join(missing[v.path])}")
        if isinstance(v, _Missing)
        else v
        for v in merged
    ]


@dataclass(frozen=True)
class _Missing(Violation):
    key: str = ""


def _event_problem(payload: Mapping[str, Any]) -> Violation | None:
    """Both events set, or neither: the most common hand-written payload mistake."""
    if event_of(payload) is not None:
        return None
    if payload.get("event_session_open") is not None:
        return Violation(
            "$",
            "both event_session_open and event_session_close are set; Hoop sends exactly "
            "one of them and null for the other (the Hoop documentation's example sets "
            "both, but the gateway never does)",
        )
    return Violation(
        "$",
        "neither event_session_open nor event_session_close is set; exactly one must be "
        "an object (the event that fired) and the other null",
    )


def _plain_violations(
    payload: Any, schema_name: str, skip_root_oneof: bool = False
) -> Iterator[Violation]:
    seen: set[Violation] = set()
    errors = sorted(_validator(schema_name).iter_errors(payload), key=lambda e: list(e.path))
    for error in errors:
        if skip_root_oneof and error.validator == "oneOf" and not error.path:
            continue
        for leaf in _leaves(error):
            path = _json_path(leaf.absolute_path)
            if leaf.validator == "required":
                key = leaf.message.split(" is a required property")[0]
                violation: Violation = _Missing(path, "", key)
            else:
                violation = Violation(path, _describe(leaf))
            if violation not in seen:
                seen.add(violation)
                yield violation


def _leaves(error: Any) -> Iterator[Any]:
    """For "null or object" choices, the object branch's errors are the useful ones."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        if error.instance is None:
            yield error
            return
        deeper = [e for e in error.context if not _is_null_branch(e)]
        if deeper:
            for sub in deeper:
                yield from _leaves(sub)
            return
    yield error


def _is_null_branch(error: Any) -> bool:
    return error.validator == "type" and error.validator_value == "null"


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _describe(error: Any) -> str:
    found = json.dumps(error.instance, ensure_ascii=False)
    if len(found) > 60:
        found = found[:57] + "..."
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {found}"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(error.schema.get("properties", {}))
        return f"unknown key(s) {', '.join(map(repr, extra))}; allowed keys: {allowed}"
    if error.validator == "enum":
        options = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"expected one of {options}, got {found}"
    if error.validator == "const":
        return f"expected {json.dumps(error.validator_value)}, got {found}"
    if error.validator == "oneOf" and error.instance is None:
        return "expected an object, got null"
    return error.message
