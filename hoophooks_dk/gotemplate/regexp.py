"""Go's ``regexp.Match`` for Hoop's ``pattern``: Go's parser for the errors, RE2 for matching.

Why two halves: Hoop's ``pattern`` calls Go's ``regexp.Match``. Go's regexp is RE2's syntax and
semantics, so matching goes through RE2 itself (``google-re2``, the binding Google maintains).
But RE2's C++ parser is not Go's: it accepts ``\\C`` and duplicate group names, which Go
rejects, and its messages are worded differently. So ``regexp_syntax`` parses the pattern the
way Go does, with Go's error texts, into a tree whose atoms are spelled in the RE2 syntax whose
meaning is the same in both; this module writes that tree out, applies Go's size limits,
compiles it with RE2 and searches the way Go does (a match starts only between runes).

``\\p{...}`` classes are written out from Go's own Unicode tables (``unicode_tables``, Unicode
15.0.0 as in Go 1.26), not RE2's, which follow a later Unicode and leave unassigned code points
out of ``\\pC``.

What cannot be made to agree raises :class:`NotImplementedTemplateError`: expressions so large
that Go's size and nesting limits (which depend on Go's internal tree) could come into play,
or that RE2 will not compile within its memory budget.
"""

from __future__ import annotations

from hoophooks_dk.gotemplate.errors import NotImplementedTemplateError
from hoophooks_dk.gotemplate.regexp_syntax import (
    ALTERNATE,
    ASSERT,
    CAPTURE,
    CLASS,
    CONCAT,
    EMPTY,
    LITERAL,
    NON_GREEDY,
    PLUS,
    QUEST,
    REPEAT,
    STAR,
    Node,
    RegexpSyntaxError,
    is_bad_byte,
    parse_tree,
)

__all__ = ["RegexpSyntaxError", "match", "parse"]


# ---------------------------------------------------------------------------------------------
# Writing the tree for RE2, and Go's size limits
# ---------------------------------------------------------------------------------------------


def _re2_text(node: Node) -> str:
    if node.op in (LITERAL, CLASS, ASSERT):
        return node.text
    if node.op == EMPTY:
        return "(?:)"
    if node.op == CAPTURE:
        return "(?:" + _re2_text(node.subs[0]) + ")"
    if node.op == CONCAT:
        return "".join(_re2_text(sub) for sub in node.subs)
    if node.op == ALTERNATE:
        return "(?:" + "|".join(_re2_text(sub) for sub in node.subs) + ")"
    sub = "(?:" + _re2_text(node.subs[0]) + ")"
    if node.op == REPEAT:
        suffix = f"{{{node.min}}}" if node.min == node.max else f"{{{node.min},"
        if node.min != node.max:
            suffix += "}" if node.max < 0 else f"{node.max}}}"
    else:
        suffix = {STAR: "*", PLUS: "+", QUEST: "?"}[node.op]
    return sub + suffix + ("?" if node.flags & NON_GREEDY else "")


# Go refuses expressions whose compiled size, tree height or class runes pass these limits
# ("expression too large", "expression nests too deeply"). Go measures its own tree, which
# merges literals and factors alternations; the tree here does neither and so measures at
# least as much. Below the limits here, Go's are not reached either; above, the kit cannot
# say which way Go goes, and refuses.
_MAX_SIZE = (128 << 20) // 40  # maxSize, in instructions
_MAX_HEIGHT = 1000  # maxHeight
_MAX_PATTERN = 50_000  # this long, classes cannot hold Go's 32M runes (maxRunes)


def _size_and_height(node: Node) -> tuple[int, int]:
    """An upper bound of Go's calcSize (Go merges and factors; this does not) and the height."""
    sizes = [_size_and_height(sub) for sub in node.subs]
    height = 1 + max((h for _, h in sizes), default=0)
    sub_sizes = [s for s, _ in sizes]
    if node.op == LITERAL:
        size = 1
    elif node.op in (CAPTURE, STAR):
        size = 2 + sub_sizes[0]
    elif node.op in (PLUS, QUEST):
        size = 1 + sub_sizes[0]
    elif node.op == CONCAT:
        size = sum(sub_sizes)
    elif node.op == ALTERNATE:
        size = sum(sub_sizes) + len(sub_sizes) - 1
    elif node.op == REPEAT:
        if node.max == -1:
            size = 2 + sub_sizes[0] if node.min == 0 else 1 + node.min * sub_sizes[0]
        else:
            size = node.max * sub_sizes[0] + node.max - node.min
    else:
        size = 1
    return max(1, size), height


def parse(pattern: str) -> str:
    """Go's ``syntax.Parse(pattern, syntax.Perl)``: the same pattern spelled for RE2.

    Raises RegexpSyntaxError with Go's text where Go fails to parse it.
    """
    tree = parse_tree(pattern)
    size, height = _size_and_height(tree)
    if size > _MAX_SIZE or height > _MAX_HEIGHT or len(pattern) > _MAX_PATTERN:
        raise NotImplementedTemplateError("a regular expression this large (Go limits its size)")
    return _re2_text(tree)


_CACHE: dict[str, object] = {}


def _compiled(pattern: str):
    import re2  # imported on first use: rendering most hooks never needs it

    regex = _CACHE.get(pattern)
    if regex is None:
        text = parse(pattern)
        options = re2.Options()
        options.log_errors = False
        options.max_mem = 256 << 20
        try:
            # RE2's unanchored search may start inside a UTF-8 sequence, where \\B holds; Go's
            # starts only between runes. So search anchored, skipping whole runes.
            regex = re2.compile("\\A(?s:.)*?(?:" + text + ")", options)
        except re2.error as err:  # e.g. a Unicode script Go 1.26 knows and RE2 does not
            raise NotImplementedTemplateError(
                f"the regular expression {pattern!r} (RE2 cannot compile it: {err})"
            ) from None
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[pattern] = regex
    return regex


def match(pattern: str, subject: str) -> bool:
    """regexp.Match(pattern, []byte(subject)): does the pattern match anywhere in subject?

    Both are Go strings as this package holds them (bytes that are not UTF-8 as lone
    surrogates). Go reads each such byte of the subject as U+FFFD, and so does this.
    """
    regex = _compiled(pattern)
    if any(is_bad_byte(c) for c in subject):
        subject = "".join("\ufffd" if is_bad_byte(c) else c for c in subject)
    return regex.search(subject) is not None
