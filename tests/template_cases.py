"""Shared by the template-dialect tests: a case is a source and Go's exact bytes or error."""

from __future__ import annotations

from typing import NamedTuple

from hoophooks_dk.runbook_template import TemplateError, render_runbook


class Err(str):
    """An expected error: the exact text Go (with Hoop's rules) reports."""


class Case(NamedTuple):
    id: str
    source: bytes
    expected: bytes | Err
    inputs: dict[str, str] | None = None


def outcome(source: bytes, inputs: dict[str, str] | None = None) -> bytes | Err:
    try:
        return render_runbook(source, inputs)
    except TemplateError as err:
        return Err(str(err))
