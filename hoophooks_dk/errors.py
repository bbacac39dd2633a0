"""Errors a user can cause, under one root: ``HookdkError``.

Every failure that comes from the user's input (a payload file, a repo, a flag, a hook
file Hoop would refuse, a broken route in a test) is a ``HookdkError``: the CLI prints its
message on one line and exits ``exit_code`` (2 for bad input; 1 for a ``HoopFinding``:
what Hoop itself would do with these hooks is the finding, such as loading neither or
crashing on a close), the pytest plugin raises it as is. Anything else is a bug in the
kit and keeps its traceback.

A ``HoopFinding``'s message starts with Hoop's own text (its log line's reason, or the Go
runtime's panic), then says what it means: one text per Hoop rule, in every face.

Errors carry what a program needs as fields (``stage``, ``file``, ``line``, ``column``,
Go's own ``go_message``...), so no caller ever reads them back out of the message text,
and each keeps the error it came from as ``__cause__`` (``raise ... from error``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pathlib imports urllib.parse: kept off the import path of the dialect
    from collections.abc import Iterable
    from pathlib import Path

    from .hooks import HookFile

__all__ = [
    "CaptureError",
    "CaptureNotStarted",
    "GatewayCrash",
    "HookNotFound",
    "HookdkError",
    "HoopFinding",
    "HooksNotLoaded",
    "PayloadError",
    "RenderFailed",
    "SettingsError",
    "TemplateError",
]


class HookdkError(Exception):
    """A problem with the user's input, explained in one message."""

    #: The CLI's exit status for this error.
    exit_code: int = 2


class PayloadError(HookdkError):
    """A payload file or override that Hoop would never send."""


class HookNotFound(HookdkError):
    """A hook file that is not where Hoop reads it.

    ``cause`` is what the kit found instead, when it found something (a look-alike file,
    the hooks folder given as the repository, no git repository...), and ``repo_to_try``
    the repository the user most likely meant, when the kit can name it. The faces word
    the way to point elsewhere with their own option (``explain("--repo")`` for the
    command line, ``"--hoop-repo"`` for the pytest plugin); ``str()`` names none.
    """

    def __init__(
        self, message: str, *, cause: str | None = None, repo_to_try: Path | None = None
    ) -> None:
        self.where = message
        self.cause = cause
        self.repo_to_try = repo_to_try
        super().__init__(self.explain())

    def explain(self, repo_option: str | None = None, found_by: str = "") -> str:
        """The one-line message: where the kit looked (and ``found_by``: how it chose the
        repository), then the likely cause, then ``repo_option`` with the repository to
        try when there is one."""
        option = f"{repo_option} DIR" if repo_option else "the repository's path"
        message = self.where + found_by
        if self.cause:
            message += "; " + self.cause.replace("{option}", option)
        if self.repo_to_try is not None:
            retry = f"{repo_option} {self.repo_to_try}" if repo_option else str(self.repo_to_try)
            message += f" (try {retry})"
        return message


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to a mistyped ``word``, else "".
    Spelled for messages that name the choices after it."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class SettingsError(HookdkError):
    """A setting the kit cannot use: a settings file, an ``--env`` pair or ``--env-file``
    it cannot read, or a run option out of range (``kill_after`` below the timeout, a
    negative ``duration``, an unknown flow or env mode)."""


class CaptureError(HookdkError):
    """The capture was used in a way it cannot serve."""


class CaptureNotStarted(CaptureError, RuntimeError):
    """The capture was read before ``start()`` (or after ``stop()``)."""


class TemplateError(HookdkError):
    """Hoop refused to read or render a runbook template; ``str()`` is exactly Hoop's text.

    ``stage`` says where it failed: ``"parse"`` (Go's parser), ``"inputs"`` (Hoop's
    top-level action check), ``"missing"`` (inputs without a default, named in
    ``missing``) or ``"exec"`` (Go's executor, including errors of Hoop's functions).
    ``line`` and ``column`` (1-based line, byte column as Go counts it) are where Go or
    Hoop's check points, when it does; ``go_message`` is Go's message without its
    ``template: NAME:LINE:`` prefix.
    """

    def __init__(
        self,
        message: str,
        stage: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        go_message: str | None = None,
        missing: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.stage = stage
        self.file = file
        self.line = line
        self.column = column
        self.go_message = go_message
        self.missing = missing

    def fields(self) -> dict[str, Any]:
        """The structured fields, for copying onto an error raised from this one."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "go_message": self.go_message,
            "missing": self.missing,
        }


class RenderFailed(TemplateError):
    """A hook file that does not render as Hoop renders it (raised from the TemplateError)."""

    @classmethod
    def from_error(cls, error: TemplateError, file: str | None = None) -> RenderFailed:
        fields = error.fields() | ({"file": file} if file else {})
        return cls(str(error), error.stage, **fields)


class HoopFinding(HookdkError):
    """What Hoop would do with these hooks is the finding (not bad input): exit 1.

    ``hoop_text`` is Hoop's own words for it (the reason its gateway logs, or the Go
    runtime's panic); the message starts with them, then explains."""

    exit_code = 1
    hoop_text: str = ""


class HooksNotLoaded(HoopFinding):
    """Hoop would load neither hook.

    ``stage`` is ``"size"`` for a file over Hoop's limit, else the template stage that
    failed; ``error`` is that template error (also the ``__cause__``), with its line.
    ``reason`` is Hoop's text (what its gateway logs after ``failed fetching runbook hook,
    reason=``); ``detail``, when given, what the kit adds to it.
    """

    def __init__(
        self,
        hook: HookFile,
        reason: str,
        stage: str,
        error: TemplateError | None = None,
        detail: str = "",
    ) -> None:
        self.hook = hook
        self.reason = self.hoop_text = reason
        self.stage = stage
        self.error = error
        self.file = hook.path
        self.line = error.line if error is not None else None
        where = f"{hook.path}, {hook.origin}" + (f"; {detail}" if detail else "")
        super().__init__(f"{reason}: Hoop would not load either hook ({where})")


class GatewayCrash(HoopFinding):
    """The gateway would crash instead of running this hook: a close hook without an open
    hook (docs/hoop-runtime.md section 1). ``hook`` is the close hook that never runs."""

    def __init__(self, hook: HookFile, hoop_text: str, explanation: str) -> None:
        self.hook = hook
        self.hoop_text = hoop_text
        self.file = hook.path
        super().__init__(f"{hoop_text}: {explanation}")
