"""Hoop's load step: both hook files are size-checked and rendered, or neither runs; and
the one layout that crashes the gateway instead.

The gateway renders each hook file as a runbook template with no inputs and drops both
hooks, with only a warning in its own log, when either file is too large or fails to
render (docs/hoop-runtime.md sections 1 and 2). ``load`` reproduces that all-or-nothing rule so
the emulator refuses to run a hook that Hoop would never run. ``check_close_layout`` is
what happens next on a session close: with a close hook and no open hook, the gateway
panics before it starts the close hook.

Each rule's text is written here once, Hoop's own words first (``too_large``,
``close_without_open``): ``fire``, ``session``, ``render``, ``check`` and the pytest
plugin all print it so.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import GatewayCrash, HooksNotLoaded, RenderFailed
from .hooks import HOOK_PATHS, MAX_HOOK_BYTES, HookFile

__all__ = [
    "GatewayCrash",
    "HooksNotLoaded",
    "NIL_POINTER_PANIC",
    "RenderFailed",
    "check_close_layout",
    "close_without_open",
    "load",
    "render",
    "too_large",
]

#: What the Go runtime prints when the gateway reads a field through a nil pointer.
NIL_POINTER_PANIC = "panic: runtime error: invalid memory address or nil pointer dereference"


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


def load(hooks: Mapping[str, HookFile | None]) -> dict[str, bytes]:
    """Rendered scripts per event, for the hook files that exist."""
    rendered: dict[str, bytes] = {}
    for event, hook in hooks.items():
        if hook is None:
            continue
        if len(hook.source) > MAX_HOOK_BYTES:
            hoop_text, detail = too_large(hook.path, len(hook.source))
            raise HooksNotLoaded(hook, hoop_text, "size", detail=detail)
        try:
            rendered[event] = render(hook.source)
        except RenderFailed as error:
            raise HooksNotLoaded(hook, str(error), error.stage, error) from error
    return rendered


def too_large(name: str, size: int) -> tuple[str, str]:
    """Hoop's own error for a file over its limit (common/runbooks/git.go, ``ReadFile``:
    ``maxTemplateSize/1000`` and the file's name), and what it means."""
    hoop_text = f"max template size [{MAX_HOOK_BYTES // 1000} KB] reached for {name}"
    return hoop_text, f"the file is {size:,} bytes; Hoop loads files of at most {MAX_HOOK_BYTES:,}"


def close_without_open(origin: str = "") -> tuple[str, str]:
    """Hoop's text when a close hook has no open hook (the Go runtime's panic), and what
    it means: docs/hoop-runtime.md section 1."""
    opened, closed = HOOK_PATHS["session-open"], HOOK_PATHS["session-close"]
    where = f" ({origin})" if origin else ""
    return NIL_POINTER_PANIC, (
        f"{closed} exists but {opened} does not{where}: on every session close the gateway "
        "logs the open hook's commit before it starts the close hook "
        "(gateway/transport/extensions/runbookhook.go), a nil pointer here, and nothing "
        "recovers the panic: the gateway process dies and the close hook never runs; "
        f"add {opened}, even one that does nothing"
    )


def check_close_layout(hooks: Mapping[str, HookFile | None]) -> None:
    """Raise ``GatewayCrash`` when a session close would crash the gateway: a close hook
    and no open hook."""
    closing = hooks.get("session-close")
    if closing is not None and hooks.get("session-open") is None:
        raise GatewayCrash(closing, *close_without_open(closing.origin))
