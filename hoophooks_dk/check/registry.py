"""Rules and findings: a rule is one decorated function, declared once.

``@rule("HK302", "warning", "uses __file__, ...")`` registers the function under its id,
severity and title, and returns a ``Rule`` that is called as the function was, but
returns ``Finding`` objects: the function itself only says what is wrong (``Problem``:
message, fix, file, line), never its own id or severity. The rule's family (files,
template, python, git, run) is the hundreds digit of its id, and each family's driver
runs every registered rule of its family in the order the rules were defined, so adding a
rule is adding one decorated function to its family's module.

Rules registered with ``automatic=False`` are not run by the family loop: their driver
calls them where a precondition decides (HK201 when rendering fails, HK301 before the
other Python rules, HK401 when there is no repository, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # most severe first

#: The families, by the hundreds digit of a rule id, as their modules are named.
FAMILIES = {"1": "layout", "2": "template", "3": "python", "4": "git", "5": "run"}


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, how bad it is, and the one-line fix."""

    rule: str
    severity: Severity
    message: str
    fix: str
    file: str | None = None
    line: int | None = None
    column: int | None = None  # 1-based, where the rule can point inside the line

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``--format json``: every field, always, in this order."""
        fields = asdict(self)
        order = ("rule", "severity", "file", "line", "column", "message", "fix")
        return {key: fields[key] for key in order}


@dataclass(frozen=True)
class Problem:
    """What a rule function returns: a finding without the rule's id and severity."""

    message: str
    fix: str
    file: str | None = None
    line: int | None = None
    column: int | None = None


#: What a rule function may return: nothing, one problem, or several.
Problems = Problem | Iterable[Problem] | None


@dataclass(frozen=True)
class Rule:
    """A registered rule: its id, severity and title, and the function that finds it."""

    id: str
    severity: Severity
    title: str
    function: Callable[..., Problems] | None = None
    automatic: bool = True

    @property
    def family(self) -> str:
        return FAMILIES[self.id[2]]

    def __call__(self, *args: Any, **kwargs: Any) -> list[Finding]:
        """Run the rule's function and turn what it returns into findings."""
        assert self.function is not None
        found = self.function(*args, **kwargs)
        if found is None:
            return []
        if isinstance(found, Problem):
            return [self.finding(found)]
        return [self.finding(problem) for problem in found]

    def finding(self, problem: Problem) -> Finding:
        return Finding(
            self.id,
            self.severity,
            problem.message,
            problem.fix,
            problem.file,
            problem.line,
            problem.column,
        )


#: Every rule, by id, in the order the family modules define them.
RULES: dict[str, Rule] = {}


def rule(
    id: str, severity: Severity, title: str, *, automatic: bool = True
) -> Callable[[Callable[..., Problems]], Rule]:
    """Register the decorated function as rule ``id``; it becomes a ``Rule``."""
    if severity not in SEVERITIES:
        raise ValueError(f"{id}: severity {severity!r} is not one of {SEVERITIES}")

    def register(function: Callable[..., Problems]) -> Rule:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        registered = Rule(id, severity, title, function, automatic)
        RULES[id] = registered
        return registered

    return register


def family_rules(family: str) -> list[Rule]:
    """The rules a family's driver runs on each input, in definition order."""
    return [r for r in RULES.values() if r.family == family and r.automatic]
