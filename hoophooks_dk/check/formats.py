"""``hookdk check``'s findings in the formats code review tools read.

- SARIF 2.1.0 (``--format sarif``), which GitHub code scanning takes through
  ``github/codeql-action/upload-sarif``: the tool with every rule (id, name, short and
  full description, help, default level) and one result per finding, placed on its file,
  line and column. The kit's tests validate it against the OASIS SARIF 2.1.0 schema.
- GitLab's Code Quality report (``--format codeclimate``), a subset of the Code Climate
  engine format: ``description``, ``check_name``, ``fingerprint``, ``severity`` and
  ``location.path``/``location.lines.begin`` per finding, which is what GitLab reads.

Both are built from plain dicts with the standard library: SARIF's object model packages
(``sarif-om``) add a dependency and still leave the serialising to the caller. A finding
with no file (a git rule: the repository as a whole) is placed on the first hook file,
or on ``hoop-hooks/`` when there is none: both formats want a place for every result.
Nothing here prints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..hooks import HOOK_PATHS
from . import checker  # noqa: F401 (importing the families registers every rule)
from .registry import RULES, Finding, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: Where the rules are documented, relative to the kit's repository (docs/check.md).
RULES_DOC = "docs/check.md"
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
CODECLIMATE_SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}
FALLBACK_PATH = "hoop-hooks/"


def to_sarif(findings: Iterable[Finding], *, version: str, root: Path | None = None) -> dict:
    """One SARIF log with one run: the kit as the tool, every rule it has, the findings."""
    rules = list(RULES.values())
    index = {rule.id: number for number, rule in enumerate(rules)}
    findings = list(findings)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "hookdk",
                "fullName": "hookdk check (hoophooks_dk)",
                "version": version,
                "semanticVersion": version,
                "rules": [_sarif_rule(rule) for rule in rules],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(f, index[f.rule], _fallback(findings)) for f in findings],
    }
    if root is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    why = _doc(rule)
    return {
        "id": rule.id,
        "name": _camel(rule.function.__name__ if rule.function else rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": why or rule.title},
        "help": {
            "text": f"{rule.id} ({rule.severity}): {rule.title}. {why}".strip(),
            "markdown": f"**{rule.id}** ({rule.severity}): {rule.title}.\n\n{why}\n\n"
            f"See `{RULES_DOC}` in hoophooks_dk, or run `hookdk docs check`.",
        },
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {"tags": ["hoop", rule.family]},
    }


def _sarif_result(finding: Finding, rule_index: int, fallback: str) -> dict[str, Any]:
    path = finding.file or fallback
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": f"{finding.message} (fix: {finding.fix})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                    "region": {
                        "startLine": finding.line or 1,
                        "startColumn": finding.column or 1,
                    },
                }
            }
        ],
        "partialFingerprints": {"hookdkFinding/v1": _fingerprint(finding)},
    }


def to_codeclimate(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """GitLab's Code Quality report: one issue per finding."""
    findings = list(findings)
    fallback = _fallback(findings)
    return [
        {
            "type": "issue",
            "check_name": finding.rule,
            "description": f"{finding.rule}: {finding.message} (fix: {finding.fix})",
            "categories": ["Bug Risk"],
            "severity": CODECLIMATE_SEVERITIES[finding.severity],
            "fingerprint": _fingerprint(finding),
            "location": {"path": finding.file or fallback, "lines": {"begin": finding.line or 1}},
        }
        for finding in findings
    ]


def _fallback(findings: list[Finding]) -> str:
    """Where a finding about the whole repository is shown: the first hook file a finding
    names, else Hoop's hooks folder."""
    hooks = set(HOOK_PATHS.values())
    return next((f.file for f in findings if f.file in hooks), FALLBACK_PATH)


def _fingerprint(finding: Finding) -> str:
    """Stable across runs while the finding stays (not its line: an edit above it moves
    it), so review tools follow one problem from commit to commit."""
    text = "\0".join([finding.rule, finding.file or "", finding.message])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _doc(rule: Rule) -> str:
    """The rule's why: its function's docstring without the leading ``HKnnn:``."""
    doc = (rule.function.__doc__ or "") if rule.function else ""
    text = " ".join(doc.split())
    return text.removeprefix(f"{rule.id}:").strip()


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)
