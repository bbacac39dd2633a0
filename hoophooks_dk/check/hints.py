"""One line of advice when a fired hook fails for a reason ``hookdk check`` knows.

``fire``, ``session`` and ``fuzz`` show a raw traceback; the reason behind it is often one
of check's rules (the script came on stdin, so stdin is empty and ``__file__`` is
``'<stdin>'``; a sibling module is not on the agent; a setting is missing). A hint names
the rule and its fix, so the developer does not have to run ``check`` to learn it.

How a hint is found: the failed run's traceback names lines of the script (``File
"<stdin>", line N``); check's static Python rules run over the same script, and a finding
on one of those lines explains the failure. A missing setting is read from the hook's own
words (``SIEM_TOKEN is not set``), or from a ``KeyError: 'SIEM_TOKEN'`` that
``os.environ`` raised. A template that does not
render is HK201. Nothing here prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..payload import PAYLOAD_VARIABLE

if TYPE_CHECKING:
    from ..emulator import FireResult
    from ..render import HooksNotLoaded

# Rules a failing run can show, most telling first: one hint per failure.
SCRIPT_RULES = ("HK304", "HK305", "HK306", "HK302", "HK307", "HK303")
_FRAME = re.compile(r'File "<stdin>", line (\d+)')
_NOT_SET = re.compile(r"\b([A-Z][A-Z0-9_]*[A-Z0-9]) (?:is not set|is required|is empty)\b")
# A KeyError is a missing setting only where the environment raised it: its last frame is
# os.environ's __getitem__ (``<frozen os>`` or ``.../os.py``), not a dict of the hook's own.
_KEY_ERROR = re.compile(
    r"""File "(?:<frozen os>|[^"\n]*[/\\]os\.py)", line \d+, in __getitem__\n"""
    r"""(?:[ \t][^\n]*\n)*KeyError: '([A-Z][A-Z0-9_]*[A-Z0-9])'"""
)
_HOOP_VARIABLES = {PAYLOAD_VARIABLE}


@dataclass(frozen=True)
class Hint:
    """Why a run failed, as one check rule (or a missing setting) explains it, and the fix."""

    rule: str  # a check rule id, or "setting" for a missing setting
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message} (fix: {self.fix})"

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message, "fix": self.fix}


def hints_for(
    result: FireResult, repo: Path, ref: str | None = None, *, settings_source: str | None = None
) -> list[Hint]:
    """The hint for a failed run of the hook in ``repo`` (none when the run passed or no
    rule explains it); ``settings_source`` names the repo's settings file, if it has one."""
    failed = not result.ok or result.run.shows_traceback
    if not failed or result.timed_out:
        return []
    output = result.run.raw_output.decode("utf-8", "replace")
    setting = missing_setting(output, settings_source)
    if setting is not None:
        return [setting]
    frames = {int(line) for line in _FRAME.findall(output)}
    if not frames:
        return []
    return _script_hints(result, repo, ref, frames)


def missing_setting(output: str, source: str | None = None) -> Hint | None:
    """A hook that stops because a setting is unset says so; name it and how to give it."""
    from ..settings import missing_setting_fix

    for pattern in (_NOT_SET, _KEY_ERROR):
        for name in pattern.findall(output):
            if name not in _HOOP_VARIABLES:
                return Hint(
                    "setting",
                    f"the hook stops because {name} is not set",
                    missing_setting_fix(name, source),
                )
    return None


def load_failure_hint(error: HooksNotLoaded) -> Hint | None:
    """HK201 for a hook that does not render as Hoop's template (a ``{{`` in Python)."""
    from .template import template_fails

    if error.error is None:  # over the size limit: the message says all there is
        return None
    [finding] = template_fails(error.hook, error.error)
    where = f" (line {finding.line})" if finding.line else ""
    why = ""
    if error.stage in ("parse", "inputs"):
        why = ": every {{ starts a template action, even inside a Python string or f-string"
    return Hint(
        finding.rule, f"Hoop's template step rejects {error.hook.path}{where}{why}", finding.fix
    )


def _script_hints(result: FireResult, repo: Path, ref: str | None, frames: set[int]) -> list[Hint]:
    from ..hooks import HookFile, read_hooks
    from .layout import Layout
    from .python import Script, check_python

    script = str(result.payload.get("input_file", "")).encode("utf-8", "surrogateescape")
    try:
        modules = Layout.read(repo, ref, read_hooks(repo, ref)).modules
    except Exception:  # a hint is advice: never let it hide the result itself
        modules = frozenset()
    # The rendered script stands in for the file, so finding lines are traceback lines.
    hook = HookFile(result.event, result.hook_path, script, result.origin)
    findings = [f for f in check_python(Script(hook, script, modules)) if f.line in frames]
    for rule in SCRIPT_RULES:
        for found in findings:
            if found.rule == rule:
                return [Hint(rule, f"line {found.line}: {found.message}", found.fix)]
    return []
