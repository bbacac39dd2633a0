"""Go's ``regexp/syntax/parse.go``: Go's checks and error texts, and the pattern spelled for RE2.

A port of Go 1.26's parser, in the same order of checks, so that every pattern Go rejects is
rejected with Go's exact text (``error parsing regexp: <code>: `<expr>```). What it builds is
not Go's tree but one with the same shape (the shape Go's repeat-count check walks), whose
atoms are written in the RE2 syntax that means the same in both: every literal as ``\\x{...}``,
every flag applied to the atom it changes, groups non-capturing. ``regexp`` writes it out for
RE2.
"""

from __future__ import annotations

import functools

from hoophooks_dk.gotemplate import unicode_tables

__all__ = ["Node", "RegexpSyntaxError", "parse_tree"]


class RegexpSyntaxError(Exception):
    """Go's ``*syntax.Error``: ``str()`` is Go's ``Error()`` text."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code, self.expr = code, expr


ERR_INVALID_CHAR_RANGE = "invalid character class range"
ERR_INVALID_ESCAPE = "invalid escape sequence"
ERR_INVALID_NAMED_CAPTURE = "invalid named capture"
ERR_INVALID_PERL_OP = "invalid or unsupported Perl syntax"
ERR_INVALID_REPEAT_OP = "invalid nested repetition operator"
ERR_INVALID_REPEAT_SIZE = "invalid repeat count"
ERR_INVALID_UTF8 = "invalid UTF-8"
ERR_MISSING_BRACKET = "missing closing ]"
ERR_MISSING_PAREN = "missing closing )"
ERR_MISSING_REPEAT_ARGUMENT = "missing argument to repetition operator"
ERR_TRAILING_BACKSLASH = "trailing backslash at end of expression"
ERR_UNEXPECTED_PAREN = "unexpected )"

# Flags (syntax.Flags); regexp.Compile parses with syntax.Perl = ClassNL|OneLine|PerlX|UnicodeGroups.
FOLD_CASE, DOT_NL, ONE_LINE, NON_GREEDY = 1, 8, 16, 32
PERL = ONE_LINE  # the flags that matter here; ClassNL, PerlX and UnicodeGroups are always on

MAX_RUNE = 0x10FFFF
NO_MATCH = "[^\\x00-\\x{10FFFF}]"

# Ops. LEFT_PAREN and VERTICAL_BAR are pseudo-ops that live only on the parse stack.
(LITERAL, CLASS, ASSERT, STAR, PLUS, QUEST, REPEAT, CAPTURE, CONCAT, ALTERNATE, EMPTY) = range(11)
LEFT_PAREN, VERTICAL_BAR = 100, 101

_POSIX = frozenset(
    f"[:{negated}{name}:]"
    for negated in ("", "^")
    for name in "alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit".split()  # noqa: SIM905
)
_PERL_CLASSES = frozenset("dDsSwW")


def _canonical_name(name: str) -> str:
    """canonicalName: a leading capital, then lower case, without '_', '-' or ' '."""
    out = []
    first = True
    for c in name:
        if c in "_- ":
            continue
        if first:
            out.append(c.upper() if "a" <= c <= "z" else c)
            first = False
        else:
            out.append(c.lower() if "A" <= c <= "Z" else c)
    return "".join(out)


_ANY = ((0, MAX_RUNE),)
_ASCII = ((0, 0x7F),)
_ASCII_FOLD = ((0, 0x7F), (0x17F, 0x17F), (0x212A, 0x212A))  # with long s and Kelvin sign
_ALIASES = {
    _canonical_name(alias): actual for alias, actual in unicode_tables.CATEGORY_ALIASES.items()
}
Ranges = tuple[tuple[int, int], ...]


@functools.cache
def _table(kind: str, name: str) -> Ranges | None:
    """One of Go's tables (generated from Go's package unicode), as sorted ranges."""
    text = getattr(unicode_tables, kind).get(name)
    if text is None:
        return None
    return tuple(tuple(int(bound, 16) for bound in pair.split("-")) for pair in text.split())


def _unicode_table(name: str) -> tuple[Ranges, Ranges | None, int] | None:
    """unicodeTable: (table, fold-equivalents, sign) for a ``\\p`` name, or None.

    Go looks the canonical name up in maps keyed by Unicode's spelling, so a script whose name
    holds an underscore or a second capital (``Old_Italic``, ``SignWriting``) is not found.
    """
    name = _canonical_name(name)
    if name == "Any":
        return _ANY, _ANY, 1
    if name == "Assigned":
        unassigned = _table("CATEGORIES", "Cn")
        return unassigned, unassigned, -1
    if name == "Ascii":
        return _ASCII, _ASCII_FOLD, 1
    if name == "Lc":
        name = "LC"
    elif name not in unicode_tables.CATEGORIES and name in unicode_tables.SCRIPTS:
        return _table("SCRIPTS", name), _table("FOLD_SCRIPT", name), 1
    else:
        name = name if name in unicode_tables.CATEGORIES else _ALIASES.get(name, "")
    table = _table("CATEGORIES", name)
    return None if table is None else (table, _table("FOLD_CATEGORY", name), 1)


def _union(a: Ranges, b: Ranges) -> Ranges:
    merged: list[list[int]] = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _negate(ranges: Ranges) -> Ranges:
    out, next_lo = [], 0
    for lo, hi in ranges:
        if lo > next_lo:
            out.append((next_lo, lo - 1))
        next_lo = hi + 1
    if next_lo <= MAX_RUNE:
        out.append((next_lo, MAX_RUNE))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The parse stack
# ---------------------------------------------------------------------------------------------


class Node:
    """A node of the parsed expression; ``text`` is its RE2 spelling for atoms."""

    __slots__ = ("op", "flags", "text", "subs", "min", "max")

    def __init__(self, op: int, flags: int = 0, text: str = "", subs=None, min=0, max=0) -> None:
        self.op, self.flags, self.text, self.subs = op, flags, text, subs or []
        self.min, self.max = min, max


def _rune_text(r: int) -> str:
    if 0xD800 <= r <= 0xDFFF:
        return NO_MATCH  # a surrogate never decodes from UTF-8, in Go or RE2
    return f"\\x{{{r:X}}}"


def _range_text(lo: int, hi: int) -> str:
    """A class range without the surrogates (RE2 refuses them; UTF-8 text never holds them)."""
    parts = []
    for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)):
        if a <= b:
            parts.append(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}")
    return "".join(parts)


def _utf8_error(rest: str) -> RegexpSyntaxError:
    return RegexpSyntaxError(ERR_INVALID_UTF8, rest)


def is_bad_byte(c: str) -> bool:
    return "\udc80" <= c <= "\udcff"


def _next_rune(s: str) -> tuple[str, str]:
    """nextRune: the first rune and the rest; ErrInvalidUTF8 at a byte that is not UTF-8."""
    if is_bad_byte(s[0]):
        raise _utf8_error(s)
    return s[0], s[1:]


def _check_utf8(s: str) -> None:
    for i, c in enumerate(s):
        if is_bad_byte(c):
            raise _utf8_error(s[i:])


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _unhex(c: str) -> int:
    return int(c, 16) if len(c) == 1 and c in "0123456789abcdefABCDEF" else -1


class _Parser:
    """Go's ``parser``: the stack discipline and the checks, in Go's order."""

    def __init__(self, whole: str) -> None:
        self.whole = whole
        self.flags = PERL
        self.stack: list[Node] = []

    # -- stack ------------------------------------------------------------------------------

    def push(self, node: Node) -> Node:
        self.stack.append(node)
        return node

    def literal(self, c: str) -> None:
        text = _rune_text(ord(c))
        if self.flags & FOLD_CASE and text != NO_MATCH:
            text = f"(?i:{text})"
        self.push(Node(LITERAL, self.flags, text))

    def op(self, op: int, text: str = "") -> Node:
        return self.push(Node(op, self.flags, text))

    def repeat(self, op: int, lo: int, hi: int, before: str, after: str, last: str) -> str:
        flags = self.flags
        if after[:1] == "?":
            after = after[1:]
            flags ^= NON_GREEDY
        if last:
            raise RegexpSyntaxError(ERR_INVALID_REPEAT_OP, last[: len(last) - len(after)])
        if not self.stack or self.stack[-1].op >= LEFT_PAREN:
            raise RegexpSyntaxError(ERR_MISSING_REPEAT_ARGUMENT, before[: len(before) - len(after)])
        node = Node(op, flags, subs=[self.stack[-1]], min=lo, max=hi)
        self.stack[-1] = node
        if op == REPEAT and (lo >= 2 or hi >= 2) and not _repeat_is_valid(node, 1000):
            raise RegexpSyntaxError(ERR_INVALID_REPEAT_SIZE, before[: len(before) - len(after)])
        return after

    def _top_segment(self) -> list[Node]:
        i = len(self.stack)
        while i > 0 and self.stack[i - 1].op < LEFT_PAREN:
            i -= 1
        subs = self.stack[i:]
        del self.stack[i:]
        return subs

    def concat(self) -> None:
        subs = self._top_segment()
        self.push(_collapse(subs, CONCAT) if subs else Node(EMPTY))

    def alternate(self) -> None:
        subs = self._top_segment()
        self.push(_collapse(subs, ALTERNATE) if subs else Node(CLASS, text=NO_MATCH))

    def swap_vertical_bar(self) -> bool:
        if len(self.stack) >= 2 and self.stack[-2].op == VERTICAL_BAR:
            self.stack[-2], self.stack[-1] = self.stack[-1], self.stack[-2]
            return True
        return False

    def vertical_bar(self) -> None:
        self.concat()
        if not self.swap_vertical_bar():
            self.op(VERTICAL_BAR)

    def right_paren(self) -> None:
        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()
        self.alternate()
        if len(self.stack) < 2 or self.stack[-2].op != LEFT_PAREN:
            raise RegexpSyntaxError(ERR_UNEXPECTED_PAREN, self.whole)
        inner = self.stack.pop()
        paren = self.stack.pop()
        self.flags = paren.flags
        self.push(Node(CAPTURE, subs=[inner]))  # captures do not matter to a yes/no match

    # -- the main loop ----------------------------------------------------------------------

    def parse(self) -> Node:
        t = self.whole
        last_repeat = ""
        while t:
            repeat = ""
            c = t[0]
            if c == "(":
                if t[1:2] == "?":
                    t = self.perl_flags(t)
                else:
                    self.op(LEFT_PAREN)
                    t = t[1:]
            elif c == "|":
                self.vertical_bar()
                t = t[1:]
            elif c == ")":
                self.right_paren()
                t = t[1:]
            elif c == "^":
                self.op(ASSERT, "\\A" if self.flags & ONE_LINE else "(?m:^)")
                t = t[1:]
            elif c == "$":
                self.op(ASSERT, "\\z" if self.flags & ONE_LINE else "(?m:$)")
                t = t[1:]
            elif c == ".":
                self.op(CLASS, "(?s:.)" if self.flags & DOT_NL else "(?-s:.)")
                t = t[1:]
            elif c == "[":
                t = self.parse_class(t)
            elif c in "*+?":
                op = {"*": STAR, "+": PLUS, "?": QUEST}[c]
                t, repeat = self.repeat(op, 0, 0, t, t[1:], last_repeat), t
            elif c == "{":
                parsed = _parse_repeat(t)
                if parsed is None:
                    self.literal("{")
                    t = t[1:]
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > 1000 or hi > 1000 or (hi >= 0 and lo > hi):
                        raise RegexpSyntaxError(ERR_INVALID_REPEAT_SIZE, t[: len(t) - len(after)])
                    t, repeat = self.repeat(REPEAT, lo, hi, t, after, last_repeat), t
            elif c == "\\":
                t = self.backslash(t)
            else:
                c, t = _next_rune(t)
                self.literal(c)
            last_repeat = repeat
        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()
        self.alternate()
        if len(self.stack) != 1:
            raise RegexpSyntaxError(ERR_MISSING_PAREN, self.whole)
        return self.stack[0]

    def backslash(self, t: str) -> str:
        c = t[1:2]
        simple = {"A": "\\A", "b": "\\b", "B": "\\B", "z": "\\z"}
        if c in simple and c:
            self.op(ASSERT, simple[c])
            return t[2:]
        if c == "C":
            raise RegexpSyntaxError(ERR_INVALID_ESCAPE, t[:2])
        if c == "Q":
            lit, _, t = t[2:].partition("\\E")
            while lit:
                r, lit = _next_rune(lit)
                self.literal(r)
            return t
        if c in ("p", "P") and c:
            item, rest = self.unicode_class(t)
            self.push_class([item], negated=False)
            return rest
        if c in _PERL_CLASSES and c:
            self.push_class(["\\" + c], negated=False)
            return t[2:]
        r, t = _parse_escape(t)
        self.literal(chr(r))
        return t

    def push_class(self, items: list[str], negated: bool) -> None:
        body = "".join(items)
        if not body:  # only \\P{Any} and the like: nothing, or everything once negated
            text = "(?s:.)" if negated else NO_MATCH
        else:
            text = "[" + ("^" if negated else "") + body + "]"
            if self.flags & FOLD_CASE:
                text = f"(?i:{text})"
        self.push(Node(CLASS, self.flags, text))

    def perl_flags(self, s: str) -> str:
        """parsePerlFlags: named captures, non-capturing groups and flag changes."""
        t = s
        starts_with_p = len(t) > 4 and t[2] == "P" and t[3] == "<"
        starts_with_name = len(t) > 3 and t[2] == "<"
        if starts_with_p or starts_with_name:
            expr_start = 3 if starts_with_name else 4
            end = t.find(">")
            if end < 0:
                _check_utf8(t)
                raise RegexpSyntaxError(ERR_INVALID_NAMED_CAPTURE, s)
            capture, name = t[: end + 1], t[expr_start:end]
            _check_utf8(name)
            if not name or not all(c == "_" or _isalnum(c) for c in name):
                raise RegexpSyntaxError(ERR_INVALID_NAMED_CAPTURE, capture)
            self.op(LEFT_PAREN)
            return t[end + 1 :]
        t = t[2:]
        flags, sign, saw_flag = self.flags, 1, False
        while t:
            c, t = _next_rune(t)
            if c == "i":
                flags |= FOLD_CASE
                saw_flag = True
            elif c == "m":
                flags &= ~ONE_LINE
                saw_flag = True
            elif c == "s":
                flags |= DOT_NL
                saw_flag = True
            elif c == "U":
                flags |= NON_GREEDY
                saw_flag = True
            elif c == "-":
                if sign < 0:
                    break
                sign, flags, saw_flag = -1, ~flags, False
            elif c in ":)":
                if sign < 0:
                    if not saw_flag:
                        break
                    flags = ~flags
                if c == ":":
                    self.op(LEFT_PAREN)
                self.flags = flags
                return t
            else:
                break
        raise RegexpSyntaxError(ERR_INVALID_PERL_OP, s[: len(s) - len(t)])

    def unicode_class(self, s: str) -> tuple[str, str]:
        """parseUnicodeClass on ``\\p...``/``\\P...``: one RE2 class item and the rest."""
        sign = -1 if s[1] == "P" else 1
        t = s[2:]
        if t:
            _, t = _next_rune(t)
        if s[2:3] != "{":
            seq = s[: len(s) - len(t)]
            name = seq[2:]
        else:
            end = s.find("}")
            if end < 0:
                _check_utf8(s)
                raise RegexpSyntaxError(ERR_INVALID_CHAR_RANGE, s)
            seq, t = s[: end + 1], s[end + 1 :]
            name = s[3:end]
            _check_utf8(name)
        if name[:1] == "^":
            sign, name = -sign, name[1:]
        found = _unicode_table(name)
        if found is None:
            raise RegexpSyntaxError(ERR_INVALID_CHAR_RANGE, seq)
        table, fold, table_sign = found
        if self.flags & FOLD_CASE and fold is not None:
            table = _union(table, fold)  # closed under case folding, so RE2's (?i) adds nothing
        if sign * table_sign < 0:
            table = _negate(table)
        return "".join(_range_text(lo, hi) for lo, hi in table), t

    def parse_class(self, s: str) -> str:
        """parseClass: ``[...]`` with Go's ranges, escapes, POSIX and Unicode classes."""
        t = s[1:]
        negated = t[:1] == "^"
        if negated:
            t = t[1:]
        items: list[str] = []
        first = True
        while not t or t[0] != "]" or first:
            first = False
            if len(t) > 2 and t[0] == "[" and t[1] == ":":
                end = t.find(":]", 2)
                if end >= 0:
                    name = t[: end + 2]
                    if name not in _POSIX:
                        raise RegexpSyntaxError(ERR_INVALID_CHAR_RANGE, name)
                    items.append(name)
                    t = t[end + 2 :]
                    continue
            if t[:2] in ("\\p", "\\P"):
                item, t = self.unicode_class(t)
                items.append(item)
                continue
            if t[:1] == "\\" and t[1:2] in _PERL_CLASSES and t[1:2]:
                items.append(t[:2])
                t = t[2:]
                continue
            rng = t
            lo, t = _parse_class_char(t, s)
            hi = lo
            if len(t) >= 2 and t[0] == "-" and t[1] != "]":
                hi, t = _parse_class_char(t[1:], s)
                if hi < lo:
                    raise RegexpSyntaxError(ERR_INVALID_CHAR_RANGE, rng[: len(rng) - len(t)])
            items.append(_range_text(lo, hi))
        self.push_class(items, negated)
        return t[1:]


def _parse_class_char(s: str, whole_class: str) -> tuple[int, str]:
    if not s:
        raise RegexpSyntaxError(ERR_MISSING_BRACKET, whole_class)
    if s[0] == "\\":
        return _parse_escape(s)
    c, rest = _next_rune(s)
    return ord(c), rest


def _parse_escape(s: str) -> tuple[int, str]:
    """parseEscape: one escaped rune (octal, hex, C escapes, punctuation)."""
    t = s[1:]
    if not t:
        raise RegexpSyntaxError(ERR_TRAILING_BACKSLASH, "")
    c, t = _next_rune(t)
    if c.isascii() and not _isalnum(c):
        return ord(c), t  # escaped punctuation is itself
    if c == "0" or (c in "1234567" and t[:1] in _OCTAL):  # a lone \\1 is a backreference
        r = ord(c) - 48
        for _ in range(2):
            if t[:1] not in _OCTAL:
                break
            r = r * 8 + ord(t[0]) - 48
            t = t[1:]
        return r, t
    if c == "x" and t:
        parsed, t = _parse_hex(t)
        if parsed is not None:
            return parsed, t
    elif c in _C_ESCAPES:
        return _C_ESCAPES[c], t
    raise RegexpSyntaxError(ERR_INVALID_ESCAPE, s[: len(s) - len(t)])


_OCTAL = frozenset("01234567")
_C_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


def _parse_hex(t: str) -> tuple[int | None, str]:
    """After ``\\x``: ``{hex...}`` or two hex digits; (None, where it stopped) if neither."""
    c, t = _next_rune(t)
    if c != "{":
        x = _unhex(c)
        if not t:
            return None, t  # Go decodes RuneError from the empty string: not a digit
        c, t = _next_rune(t)
        y = _unhex(c)
        return (x * 16 + y if x >= 0 and y >= 0 else None), t
    r, digits = 0, 0
    while t:
        c, t = _next_rune(t)
        if c == "}":
            return (r if digits else None), t
        v = _unhex(c)
        if v < 0:
            return None, t
        r = r * 16 + v
        if r > MAX_RUNE:
            return None, t
        digits += 1
    return None, t


def _parse_repeat(s: str) -> tuple[int, int, str] | None:
    """parseRepeat: ``{n}``, ``{n,}`` or ``{n,m}``; None if ``{`` is a literal."""
    s = s[1:]
    parsed = parse_int(s)
    if parsed is None:
        return None
    lo, s = parsed
    if not s:
        return None
    if s[0] != ",":
        hi = lo
    else:
        s = s[1:]
        if not s:
            return None
        if s[0] == "}":
            hi = -1
        else:
            parsed = parse_int(s)
            if parsed is None:
                return None
            hi, s = parsed
            if hi < 0:
                lo = -1
    if not s or s[0] != "}":
        return None
    return lo, hi, s[1:]


def parse_int(s: str) -> tuple[int, str] | None:
    if not s or not "0" <= s[0] <= "9":
        return None
    if len(s) >= 2 and s[0] == "0" and "0" <= s[1] <= "9":
        return None
    i = 0
    while i < len(s) and "0" <= s[i] <= "9":
        i += 1
    digits = s[:i]
    n = 0
    for d in digits:
        if n >= 10**8:
            n = -1
            break
        n = n * 10 + ord(d) - 48
    return n, s[i:]


def _repeat_is_valid(node: Node, n: int) -> bool:
    """repeatIsValid: nested counted repetitions stay within n copies of the innermost."""
    if node.op == REPEAT:
        m = node.max
        if m == 0:
            return True
        if m < 0:
            m = node.min
        if m > n:
            return False
        if m > 0:
            n //= m
    return all(_repeat_is_valid(sub, n) for sub in node.subs)


def _collapse(subs: list[Node], op: int) -> Node:
    if len(subs) == 1:
        return subs[0]
    flat: list[Node] = []
    for sub in subs:
        flat.extend(sub.subs if sub.op == op else [sub])
    return Node(op, subs=flat)


def parse_tree(pattern: str) -> Node:
    """syntax.Parse(pattern, syntax.Perl); RegexpSyntaxError with Go's text where Go fails."""
    return _Parser(pattern).parse()
