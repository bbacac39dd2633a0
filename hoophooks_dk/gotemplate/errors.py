"""Errors whose text is exactly what Go prints."""

from __future__ import annotations

from hoophooks_dk.errors import HookdkError, TemplateError

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class GoTemplateError(TemplateError):
    """A template error whose ``str()`` is exactly the text Go would print; ``line``,
    ``column`` and ``go_message`` are its parts (see ``TemplateError``)."""

    stage = ""

    def __init__(
        self, message: str, *, line: int | None = None, column: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message, self.stage, line=line, column=column, go_message=detail or None)


class TemplateParseError(GoTemplateError):
    """Go's ``Template.Parse`` failed (``template: :LINE: ...``)."""

    stage = "parse"


class TemplateExecError(GoTemplateError):
    """Go's ``Template.Execute`` failed (``template: :LINE:COL: executing ...``)."""

    stage = "exec"


class NotImplementedTemplateError(HookdkError, NotImplementedError):
    """A construct this emulator does not reproduce exactly, so it refuses to guess."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"hoophooks_dk cannot emulate this template exactly: {what} is not implemented "
            "(Hoop may render it differently)"
        )


class FuncError(Exception):
    """The ``error`` result of a template function, as Go's ``safeCall`` would see it."""


def func_error(message: str) -> FuncError:
    """Build the error a template function returns; the executor reports it the Go way."""
    return FuncError(message)
