"""Hoop's load step: both hook files are size-checked and rendered, or neither runs.

The gateway renders each hook file as a runbook template with no inputs and drops both
hooks, with only a warning in its own log, when either file is too large or fails to
render (docs/hoop-runtime.md sections 1 and 2). ``load`` reproduces that all-or-nothing rule so
the emulator refuses to run a hook that Hoop would never run.
"""

from __future__ import annotations

from .errors import HooksNotLoaded, RenderFailed
from .hooks import MAX_HOOK_BYTES, HookFile

__all__ = ["HooksNotLoaded", "RenderFailed", "load", "render"]


def render(source: bytes) -> bytes:
    """The text Hoop sends to the agent for one hook file (no inputs, as for hooks).

    Raises ``RenderFailed`` with Hoop's text and the template error's fields (stage,
    line, column, Go's message), chained to it."""
    if b"{{" not in source:  # no action: Go's text/template returns the text unchanged
        return source
    from .errors import TemplateError
    from .runbook_template import render_runbook

    try:
        return render_runbook(source)
    except TemplateError as error:
        raise RenderFailed.from_error(error) from error


def load(hooks: dict[str, HookFile | None]) -> dict[str, bytes]:
    """Rendered scripts per event, for the hook files that exist."""
    rendered: dict[str, bytes] = {}
    for event, hook in hooks.items():
        if hook is None:
            continue
        if len(hook.source) > MAX_HOOK_BYTES:
            raise HooksNotLoaded(hook, too_large(hook), "size")
        try:
            rendered[event] = render(hook.source)
        except RenderFailed as error:
            raise HooksNotLoaded(hook, str(error), error.stage, error) from error
    return rendered


def too_large(hook: HookFile) -> str:
    """Hoop's own error (common/runbooks/git.go, ``ReadFile``), then what it means."""
    return (
        f"max template size [{MAX_HOOK_BYTES // 1000} KB] reached for {hook.path} "
        f"(the file is {len(hook.source):,} bytes; Hoop loads files of at most "
        f"{MAX_HOOK_BYTES:,} bytes)"
    )
