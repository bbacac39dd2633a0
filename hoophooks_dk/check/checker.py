"""Every rule family in order over one repository: what ``hookdk check`` runs.

The families live one per module (``layout``, ``template``, ``python``, ``git``, ``run``);
importing them here registers their rules. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import HookdkError
from ..hooks import read_hooks
from ..runtime.runner import DEFAULT_TIMEOUT
from ..settings import DEFAULT_STATUS, RunSettings
from .git import check_git
from .layout import Layout, too_large_for_environment
from .python import Script, check_python
from .registry import Finding, family_rules
from .run import check_dynamic
from .template import render_hook

if TYPE_CHECKING:
    from ..settings import Route

__all__ = ["check", "exit_code"]


def check(
    repo: Path,
    *,
    ref: str | None = None,
    branch: str | None = None,
    static: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    settings_source: str | None = None,
    env_mode: str = "inherit",
    default_status: int = DEFAULT_STATUS,
    routes: Sequence[Route] = (),
    settings: RunSettings | None = None,
) -> list[Finding]:
    """Every finding for the runbooks repository at ``repo``, sorted by file and line.

    ``ref`` checks the files at that git revision instead of the working tree; ``branch``
    is the branch configured in Hoop (default: master, else main); ``static`` skips
    running the hooks; ``env`` holds settings added to the hooks' environment, and
    ``settings_source`` names the repo's settings file in fixes; ``env_mode`` is the hooks'
    environment when they run (``inherit`` or ``clean``); ``default_status`` and ``routes``
    are how the capture answers the hooks (the settings file's ``respond``). ``settings``,
    when given (the command line over the settings file, as ``hookdk fire`` reads them),
    stands for all of these. Raises ``HookdkError`` for a missing ``repo`` or a bad ``ref``.
    """
    if settings is None:
        settings = RunSettings(
            python=python,
            timeout=timeout,
            env=dict(env or {}),
            env_mode=env_mode,
            default_status=default_status,
            routes=tuple(routes),
            source=settings_source,
        )
    repo = Path(repo).resolve()
    if not repo.is_dir():
        raise HookdkError(f"--repo {repo}: no such directory")
    hooks = read_hooks(repo, ref)
    layout = Layout.read(repo, ref, hooks)

    findings = [f for each in family_rules("layout") for f in each(layout)]
    loads = not any(f.rule in ("HK105", "HK201") for f in findings)
    runnable = []  # events whose hook the agent could start
    for hook in layout.present():
        rendered, template_findings = render_hook(hook)
        findings += template_findings
        loads = loads and rendered is not None
        if rendered is not None:
            findings += check_python(Script(hook, rendered, layout.modules))
            too_large = too_large_for_environment(hook, rendered)
            findings += too_large
            if not too_large:
                runnable.append(hook.event)
    findings += check_git(repo, ref, branch)
    if any(f.rule == "HK101" for f in findings):  # the gateway crashes instead of running it
        runnable = [event for event in runnable if event != "session-close"]
    if not static and loads and runnable:
        findings += check_dynamic(repo, ref, runnable, settings)
    return sorted(findings, key=_order)


def exit_code(findings: Iterable[Finding], strict: bool = False) -> int:
    """1 when there are errors (warnings too, with ``strict``), else 0."""
    failing = {"error", "warning"} if strict else {"error"}
    return 1 if any(f.severity in failing for f in findings) else 0


def _order(f: Finding) -> tuple:
    return (f.file is not None, f.file or "", f.line or 0, f.rule)
