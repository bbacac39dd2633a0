"""Template (HK2xx): every hook file is rendered as a runbook template first.

Hoop renders each hook as a runbook template with no inputs before running it, and loads
neither hook when one fails (docs/hoop-runtime.md section 2). ``render_hook`` renders
one file and says what to report: HK201 when Hoop's step fails, HK204 for what the kit
cannot reproduce, and the automatic rules (``(hook, rendered)``) for a file that renders.
The failure's line comes from the error's fields, never from its text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import TemplateError
from ..hooks import HookFile
from .layout import NEITHER_LOADS
from .registry import Finding, Problem, family_rules, rule


def render_hook(hook: HookFile) -> tuple[bytes | None, list[Finding]]:
    """The text Hoop would send to the agent (None when it fails), and what to say about it."""
    from ..render import RenderFailed, render

    try:
        rendered = render(hook.source)
    except RenderFailed as error:
        return None, template_fails(hook, error)
    except NotImplementedError as error:  # the dialect module never guesses
        return None, template_unknown(hook, str(error), getattr(error, "line", None))
    return rendered, [f for each in family_rules("template") for f in each(hook, rendered)]


@rule("HK201", "error", "hook file does not render as a Hoop runbook template", automatic=False)
def template_fails(hook: HookFile, error: TemplateError) -> Problem:
    """HK201: Hoop's own error text, placed on the line it names (or the input's action)."""
    if error.stage == "missing":
        fix = 'give each input a non-empty default: {{ .name | default "value" }}'
    elif error.stage in ("parse", "inputs"):  # a {{ meant for Python opened an action
        fix = (
            "never put two opening braces together in hook code (build such text with "
            "'{' + '{' or json.dumps); where the script must hold a literal {{, write "
            '{{ if true }}{{ "{{" }}{{ end }}, which Hoop renders as {{ (it checks only '
            "top-level actions); `hookdk render` shows Hoop's view"
        )
    else:
        fix = "`hookdk render` shows Hoop's view of the file and its error"
    return Problem(
        f"{error}: Hoop's template step fails; {NEITHER_LOADS}",
        fix,
        file=hook.path,
        line=_template_error_line(hook.source, error),
        column=error.column if error.line else None,
    )


@rule("HK204", "warning", "template construct the kit cannot reproduce yet", automatic=False)
def template_unknown(hook: HookFile, reason: str, line: int | None = None) -> Problem:
    """HK204: the kit will not guess what Hoop renders, so nothing after this step is
    checked for this file (and no hook is run)."""
    return Problem(
        f"{reason}; this file's Python and its run were not checked",
        "avoid the construct (hooks rarely need template logic), or test with Hoop itself",
        file=hook.path,
        line=line,
    )


@rule("HK202", "info", "line renders differently from the source")
def renders_differently(hook: HookFile, rendered: bytes) -> list[Problem]:
    """HK202: defaults, comments and trim markers change the script: say what runs."""
    return [
        Problem(
            change.describe(),
            "nothing to fix if intended; `hookdk render` shows the whole script Hoop sends",
            file=hook.path,
            line=change.start,
        )
        for change in _render_changes(hook.source, rendered)
        if b"<no value>" not in change.text
    ]


@rule("HK203", "warning", "line renders as <no value>")
def renders_no_value(hook: HookFile, rendered: bytes) -> list[Problem]:
    """HK203: an action nested in if/with/range that names a missing input prints
    ``<no value>`` instead of failing, so the script runs with that text in it."""
    return [
        Problem(
            f"{change.describe()}: an input with no value, inside a block Hoop does not check",
            "give the input a non-empty default at top level, or drop the block",
            file=hook.path,
            line=change.start,
        )
        for change in _render_changes(hook.source, rendered)
        if b"<no value>" in change.text
    ]


@dataclass(frozen=True)
class Change:
    """Source lines ``start``..``end`` render as ``lines`` (none when removed)."""

    start: int
    end: int
    lines: tuple[bytes, ...]

    @property
    def text(self) -> bytes:
        return b"\n".join(self.lines)

    def describe(self) -> str:
        label = f"line {self.start}" if self.start == self.end else f"lines {self.start}-{self.end}"
        verb = "renders" if self.start == self.end else "render"
        if not self.lines:
            return f"{label} {verb} as nothing (removed)"
        if len(self.lines) == 1:
            shown = show(self.lines[0])
            return f"{label} {verb} as: {shown}" if shown else f"{label} {verb} as an empty line"
        if not any(line.strip() for line in self.lines):
            return f"{label} {verb} as {len(self.lines)} empty lines"
        first = next(line for line in self.lines if line.strip())
        return f"{label} {verb} as {len(self.lines)} lines, the first with text: {show(first)}"


def _render_changes(source: bytes, rendered: bytes) -> Iterator[Change]:
    """What each changed part of the source renders as, line by line where possible.

    difflib finds the changed blocks; inside one, a rendered line that is a source line
    with its actions filled in (``A = "{{ .a | default "x" }}"`` -> ``A = "x"``) is paired
    with it, so a header comment followed by defaulted constants reads as one finding per
    line rather than one vague block.
    """
    if source == rendered:
        return
    old, new = source.splitlines(), rendered.splitlines()
    for tag, i1, i2, j1, j2 in line_opcodes(old, new):
        if tag == "equal":
            continue
        i, j = i1, j1
        for pi, pj in [*_paired_lines(old, new, i1, i2, j1, j2), (i2, j2)]:
            if (i, j) != (pi, pj):  # unpaired lines before this pair (or the block's end)
                yield Change(i + 1, max(pi, i + 1), tuple(new[j:pj]))
            if pi < i2:
                yield Change(pi + 1, pi + 1, (new[pj],))
            i, j = pi + 1, pj + 1


def line_opcodes(old: list[bytes], new: list[bytes]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from source lines to rendered lines. Blank lines are "junk": they
    may not anchor the alignment, or a comment that renders as an empty line would pair
    with some unrelated blank line further down."""
    return difflib.SequenceMatcher(_is_blank, old, new, autojunk=False).get_opcodes()


def _is_blank(line: bytes) -> bool:
    return not line.strip()


def _paired_lines(old, new, i1, i2, j1, j2) -> Iterator[tuple[int, int]]:
    """(source index, rendered index), in order, for lines that render one to one."""
    start = i1
    for j in range(j1, j2):
        for i in range(start, i2):
            if _renders_to(old[i], new[j]):
                yield i, j
                start = i + 1
                break


def _renders_to(source_line: bytes, rendered_line: bytes) -> bool:
    """True when ``rendered_line`` is ``source_line`` with its complete actions filled in
    (white space ignored, for trim markers). Lines without literal text never match."""
    parts = [re.sub(rb"\s+", b"", part) for part in re.split(rb"\{\{.*?\}\}", source_line)]
    if len(parts) == 1 or not any(parts):
        return False
    pattern = b".*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, re.sub(rb"\s+", b"", rendered_line), re.S) is not None


def show(line: bytes, width: int = 100) -> str:
    text = line.decode("utf-8", "replace").strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _template_error_line(source: bytes, error: TemplateError) -> int | None:
    """Go's errors and Hoop's action check carry their line; for missing inputs, the
    first action that names the first one."""
    if error.line is not None:
        return error.line
    if error.missing:
        name = re.escape(error.missing[0].encode())
        return _first_line(source, rb"\{\{-?\s*\." + name + rb"\b")
    return None


def _first_line(source: bytes, pattern: bytes) -> int | None:
    match = re.search(pattern, source)
    return source.count(b"\n", 0, match.start()) + 1 if match else None
