"""The public face: Go's ``text/template/template.go`` (New, Parse, Execute)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from hoophooks_dk.gotemplate.errors import NotImplementedTemplateError
from hoophooks_dk.gotemplate.exec import State
from hoophooks_dk.gotemplate.funcs import BUILTINS, GoFunc
from hoophooks_dk.gotemplate.node import ListNode, Node
from hoophooks_dk.gotemplate.parse import Tree
from hoophooks_dk.gotemplate.strconv import byte_len
from hoophooks_dk.gotemplate.values import INVALID

# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


class Template:
    """A parsed template set: the root template plus every ``{{define}}`` and ``{{block}}``."""

    def __init__(self, name: str, text: str, trees: dict[str, Tree], funcs) -> None:
        self.name = name
        self.text = text
        self.trees = trees
        self.funcs: Mapping[str, GoFunc] = funcs

    @property
    def root(self) -> ListNode:
        """The root template's body (Go's ``t.Tree.Root``): what Hoop inspects."""
        return self.trees[self.name].root

    def error_context(self, node: Node) -> tuple[str, str]:
        """Tree.ErrorContext: ``:LINE:COL`` (COL in bytes) and the node's text."""
        line, column = self.position(node)
        return f":{line}:{column}", node.go_string()

    def position(self, node: Node) -> tuple[int, int]:
        """The node's line (1-based) and byte column, as ErrorContext counts them."""
        before = self.text[: node.pos]
        newline = before.rfind("\n")
        return before.count("\n") + 1, byte_len(before[newline + 1 :])

    def execute(self, data: Any) -> str:
        """Template.Execute: the output, or TemplateExecError with Go's message."""
        if data is None:
            data = INVALID  # Go's reflect.ValueOf(nil)
        out: list[str] = []
        state = State(self, out, data)
        try:
            with _deep_recursion():
                state.walk(data, self.root)
        except RecursionError:
            raise NotImplementedTemplateError("templates nested this deeply") from None
        return "".join(out)


# Go's parser and executor recurse as deep as Go's limits allow (100,000 nested templates
# take about 400,000 Python frames). Python calls between Python functions do not use the C
# stack, so only the interpreter's frame limit is in the way; it is raised while they run.
_FRAMES_NEEDED = 1_500_000


@contextlib.contextmanager
def _deep_recursion() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    if limit >= _FRAMES_NEEDED:
        yield
        return
    sys.setrecursionlimit(_FRAMES_NEEDED)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def parse(text: str, funcs: Mapping[str, GoFunc] | None = None, name: str = "") -> Template:
    """Template.New(name).Funcs(funcs).Parse(text), or TemplateParseError with Go's message."""
    funcs = dict(funcs or {})
    names = frozenset(BUILTINS) | frozenset(funcs)
    trees: dict[str, Tree] = {}
    try:
        with _deep_recursion():
            Tree(name, text).parse_top(names, trees)
    except RecursionError:
        raise NotImplementedTemplateError("templates nested this deeply") from None
    return Template(name, text, trees, funcs)
