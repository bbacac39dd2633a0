"""Go's ``text/template`` in pure Python, faithful to the byte and to the error message.

Why this exists: Hoop renders every runbook hook file with Go's ``text/template`` before it runs
it. A hook author needs to know, before pushing, exactly what bytes Hoop will run or exactly what
error Hoop will log. So this module reproduces Go's lexer, parser and executor, including the
wording, line and column of every error, rather than approximating them.

How it is built: it follows the structure of Go's own source (``src/text/template/parse/lex.go``,
``parse.go``, ``node.go``, ``exec.go``, ``funcs.go``) function by function, so that quirks come
along for free (for example the column of an error in ``.a.b`` points at ``.b``, as in Go).
It was written against the Go release Hoop builds with and is checked byte for byte against a
real Go toolchain by ``tests/test_gotemplate_differential.py``.

What it does not do: anything it cannot reproduce exactly (complex numbers, most printf flags,
``call``, ranging over an integer, ``{{else with}}``, ...) raises
:class:`NotImplementedTemplateError`. It never guesses.

Strings: Go strings are bytes. Here they are Python ``str`` decoded with ``surrogateescape``, so
each byte that is not valid UTF-8 becomes one lone surrogate (as Go's decoder sees one
``RuneError`` of width 1) and every byte round-trips. Positions are character indices; they are
turned into byte offsets only where Go prints them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from hoophooks_dk.errors import HookdkError

__all__ = [
    "ANY_T",
    "BUILTINS",
    "STRING_T",
    "VALUE_T",
    "ActionNode",
    "GoFunc",
    "GoMap",
    "GoTemplateError",
    "NotImplementedTemplateError",
    "Template",
    "TemplateExecError",
    "TemplateParseError",
    "func_error",
    "go_quote",
    "go_sprintf",
    "go_trim_space",
    "parse",
]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class GoTemplateError(Exception):
    """A template error whose ``str()`` is exactly the text Go would print."""


class TemplateParseError(GoTemplateError):
    """Go's ``Template.Parse`` failed (``template: :LINE: ...``)."""


class TemplateExecError(GoTemplateError):
    """Go's ``Template.Execute`` failed (``template: :LINE:COL: executing ...``)."""


class NotImplementedTemplateError(HookdkError, NotImplementedError):
    """A construct this emulator does not reproduce exactly, so it refuses to guess."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"hoophooks_dk cannot emulate this template exactly: {what} is not implemented "
            "(Hoop may render it differently)"
        )


class _FuncError(Exception):
    """The ``error`` result of a template function, as Go's ``safeCall`` would see it."""


def func_error(message: str) -> _FuncError:
    """Build the error a template function returns; the executor reports it the Go way."""
    return _FuncError(message)


# ---------------------------------------------------------------------------------------------
# Go string helpers: bytes semantics over surrogate-escaped str
# ---------------------------------------------------------------------------------------------


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _canon(s: str) -> str:
    """Re-join UTF-8 sequences that were split by byte slicing, as Go would decode them."""
    return _text(_bytes(s)) if _has_escapes(s) else s


_ESCAPE_RE = re.compile("[\udc80-\udcff]")


def _has_escapes(s: str) -> bool:
    return _ESCAPE_RE.search(s) is not None


def _is_bad_byte(c: str) -> bool:
    return "\udc80" <= c <= "\udcff"


def _rune(c: str) -> str:
    """The rune Go's UTF-8 decoder yields for one character of ours."""
    return "\ufffd" if _is_bad_byte(c) else c


def _byte_len(s: str) -> int:
    return len(s) if s.isascii() else len(_bytes(s))


def _go_is_print(c: str) -> bool:
    """strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return c.isprintable() and not _is_bad_byte(c)


# Go's unicode.IsSpace (used by bytes.TrimSpace and strings.TrimSpace).
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(s: str) -> str:
    """strings.TrimSpace with Go's (not Python's) idea of white space."""
    start, end = 0, len(s)
    while start < end and s[start] in _GO_SPACES:
        start += 1
    while end > start and s[end - 1] in _GO_SPACES:
        end -= 1
    return s[start:end]


_NAMED_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _escape_rune(c: str, quote: str) -> str:
    """strconv's appendEscapedRune for a valid rune."""
    if c == quote or c == "\\":
        return "\\" + c
    if _go_is_print(c):
        return c
    if c in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[c]
    r = ord(c)
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if 0xD800 <= r <= 0xDFFF:  # not a valid rune: Go prints U+FFFD
        r = 0xFFFD
    if r < 0x10000:
        return f"\\u{r:04x}"
    return f"\\U{r:08x}"


def go_quote(s: str) -> str:
    """strconv.Quote (Go's ``%q`` of a string)."""
    out = ['"']
    for c in _canon(s):
        if _is_bad_byte(c):
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        else:
            out.append(_escape_rune(c, '"'))
    out.append('"')
    return "".join(out)


def _quote_rune(r: int) -> str:
    """strconv.QuoteRune (Go's ``%q`` of an integer)."""
    if r < 0 or r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    return "'" + _escape_rune(chr(r), "'") + "'"


def _fmt_unicode(c: str) -> str:
    """Go's ``%#U``: ``U+0041 'A'``."""
    r = _rune(c)
    out = f"U+{ord(r):04X}"
    return out + f" '{r}'" if _go_is_print(r) else out


def _go_type_name(v: Any) -> str:
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, _Byte):
        return "uint8"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, GoMap):
        return "map[string]string"
    raise NotImplementedTemplateError(f"a value of Python type {type(v).__name__}")


# ---------------------------------------------------------------------------------------------
# strconv: unquoting and number parsing
# ---------------------------------------------------------------------------------------------


class _SyntaxError(Exception):
    """strconv.ErrSyntax."""


_HEX = "0123456789abcdefABCDEF"


def _unquote_char(s: str, i: int, quote: str) -> tuple[int, bool, int]:
    """strconv.UnquoteChar on ``s[i:]``: (value, multibyte, index after it)."""
    if i >= len(s):
        raise _SyntaxError
    c = s[i]
    if c == quote and quote in "'\"":
        raise _SyntaxError
    if ord(c) >= 0x80:
        return ord(_rune(c)), True, i + 1
    if c != "\\":
        return ord(c), False, i + 1
    if i + 1 >= len(s):
        raise _SyntaxError
    c = s[i + 1]
    i += 2
    simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
    if c in simple:
        return simple[c], False, i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i : i + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            raise _SyntaxError
        v = int(digits, 16)
        if c == "x":
            return v, False, i + n
        if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            raise _SyntaxError
        return v, True, i + n
    if c in "01234567":
        digits = s[i : i + 2]
        if len(digits) < 2 or any(d not in "01234567" for d in digits):
            raise _SyntaxError
        v = int(c + digits, 8)
        if v > 255:
            raise _SyntaxError
        return v, False, i + 2
    if c in "'\"":
        if c != quote:
            raise _SyntaxError
        return ord(c), False, i
    raise _SyntaxError


def _unquote(quoted: str) -> str:
    """strconv.Unquote for a lexed string token (raw or interpreted)."""
    quote = quoted[0]
    body = quoted[1:-1]
    if quote == "`":
        return body.replace("\r", "")  # Go discards CRs inside raw strings
    if "\\" not in body and "\n" not in body and not _has_escapes(body):
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\n":
            raise _SyntaxError
        value, multibyte, i = _unquote_char(body, i, quote)
        if value < 0x80 or not multibyte:
            out.append(value)
        else:
            out += chr(value).encode("utf-8")
    return _text(bytes(out))


def _underscore_ok(s: str) -> bool:
    """strconv's underscoreOK: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    is_hex = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, is_hex = 2, "0", s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (is_hex and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
        i += 1
    return saw != "_"


def _parse_uint(s: str) -> int | None:
    """strconv.ParseUint(s, 0, 64), or None on any error."""
    if not s:
        return None
    body, base = s, 10
    if s[0] == "0":
        if len(s) >= 3 and s[1].lower() in "box":
            body, base = s[2:], {"b": 2, "o": 8, "x": 16}[s[1].lower()]
        else:
            body, base = s[1:], 8
    n = 0
    underscores = False
    for c in body:
        if c == "_":
            underscores = True
            continue
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c.lower() <= "z" and c.isascii():
            d = ord(c.lower()) - 87
        else:
            return None
        if d >= base:
            return None
        n = n * base + d
    if n >= 1 << 64 or (underscores and not _underscore_ok(s)):
        return None
    return n


def _parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), or None on any error."""
    if not s:
        return None
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    un = _parse_uint(body)
    if un is None:
        return None
    n = -un if neg else un
    if not -(1 << 63) <= n < (1 << 63):
        return None
    return n


_DEC_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+"
)


def _parse_float(s: str) -> float | None:
    """strconv.ParseFloat(s, 64) for what the lexer can produce, or None on any error."""
    plain = s.replace("_", "")
    if "_" in s and not _underscore_ok(s):
        return None
    if _HEX_FLOAT_RE.fullmatch(plain):
        value = float.fromhex(plain)
    elif _DEC_FLOAT_RE.fullmatch(plain):
        value = float(plain)
    else:
        return None
    if value in (float("inf"), float("-inf")):
        return None  # ErrRange
    return value


# ---------------------------------------------------------------------------------------------
# Lexer (parse/lex.go)
# ---------------------------------------------------------------------------------------------


class T:
    """Item types, in Go's order: everything after KEYWORD is a keyword."""

    ERROR, BOOL, CHAR, CHAR_CONSTANT, COMMENT, COMPLEX, ASSIGN, DECLARE, EOF = range(9)
    FIELD, IDENTIFIER, LEFT_DELIM, LEFT_PAREN, NUMBER, PIPE, RAW_STRING = range(9, 16)
    RIGHT_DELIM, RIGHT_PAREN, SPACE, STRING, TEXT, VARIABLE = range(16, 22)
    KEYWORD, BLOCK, BREAK, CONTINUE, DOT, DEFINE, ELSE, END = range(22, 30)
    IF, NIL, RANGE, TEMPLATE, WITH = range(30, 35)


_KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

_SPACE_CHARS = " \t\r\n"
_SPACES = frozenset(_SPACE_CHARS)
_TERMINATORS = frozenset(".,|:)(")
_LEFT, _RIGHT = "{{", "}}"
_SIMPLE_ITEMS = {"=": T.ASSIGN, "|": T.PIPE}
_QUOTE_STATES = {
    '"': "_lex_quote",
    "`": "_lex_raw_quote",
    "$": "_lex_variable",
    "'": "_lex_char",
}


class Item:
    """One token: Go's ``item``. ``pos`` is a character index into the source."""

    __slots__ = ("typ", "pos", "val", "line")

    def __init__(self, typ: int, pos: int, val: str, line: int) -> None:
        self.typ, self.pos, self.val, self.line = typ, pos, val, line

    def __str__(self) -> str:
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if _byte_len(self.val) > 10:
            return go_quote(_canon(self.val)[:10]) + "..."
        return go_quote(self.val)


def _is_alnum(r: str | None) -> bool:
    return r is not None and (r == "_" or r.isalpha() or r.isdecimal())


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) - i >= 2 and s[i] == "-" and s[i + 1] in _SPACES


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) - i >= 2 and s[i] in _SPACES and s[i + 1] == "-"


class _Lexer:
    """Go's lexer: a state machine run on demand until it produces one item."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.at_eof = False
        self.paren_depth = 0
        self.line = 1
        self.start_line = 1
        self.item: Item | None = None
        self.inside_action = False

    def next_item(self) -> Item:
        self.item = Item(T.EOF, self.pos, "EOF", self.start_line)
        state = self._lex_inside_action if self.inside_action else self._lex_text
        while state is not None:
            state = state()
        return self.item

    # -- primitives -------------------------------------------------------------------------

    def _next(self) -> str | None:
        if self.pos >= len(self.input):
            self.at_eof = True
            return None
        c = self.input[self.pos]
        self.pos += 1
        if c == "\n":
            self.line += 1
        return c

    def _backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def _peek(self) -> str | None:
        c = self._next()
        self._backup()
        return c

    def _this_item(self, typ: int) -> Item:
        item = Item(typ, self.start, self.input[self.start : self.pos], self.start_line)
        self.start = self.pos
        self.start_line = self.line
        return item

    def _emit(self, typ: int) -> None:
        self.item = self._this_item(typ)
        return None

    def _ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def _accept(self, valid: str) -> bool:
        c = self._next()
        if c is not None and c in valid:
            return True
        self._backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while True:
            c = self._next()
            if c is None or c not in valid:
                break
        self._backup()

    def _errorf(self, message: str) -> None:
        self.item = Item(T.ERROR, self.start, message, self.start_line)
        self.start = self.pos = 0
        self.input = ""
        return None

    def _at_right_delim(self) -> tuple[bool, bool]:
        if _has_right_trim(self.input, self.pos) and self.input.startswith(_RIGHT, self.pos + 2):
            return True, True
        return self.input.startswith(_RIGHT, self.pos), False

    def _at_terminator(self) -> bool:
        r = self._peek()
        if r is None or r in _SPACES or r in _TERMINATORS:
            return True
        return self.input.startswith(_RIGHT, self.pos)

    # -- states -----------------------------------------------------------------------------

    def _lex_text(self):
        x = self.input.find(_LEFT, self.pos)
        if x < 0:
            self.pos = len(self.input)
            if self.pos > self.start:
                self.line += self.input.count("\n", self.start, self.pos)
                return self._emit(T.TEXT)
            return self._emit(T.EOF)
        if x > self.pos:
            self.pos = x
            trim = 0
            if _has_left_trim(self.input, x + len(_LEFT)):
                text = self.input[self.start : self.pos]
                trim = len(text) - len(text.rstrip(_SPACE_CHARS))
            self.pos -= trim
            self.line += self.input.count("\n", self.start, self.pos)
            item = self._this_item(T.TEXT)
            self.pos += trim
            self._ignore()
            if item.val:
                self.item = item
                return None
        return self._lex_left_delim

    def _lex_left_delim(self):
        self.pos += len(_LEFT)
        after_marker = 2 if _has_left_trim(self.input, self.pos) else 0
        if self.input.startswith("/*", self.pos + after_marker):
            self.pos += after_marker
            self._ignore()
            return self._lex_comment
        item = self._this_item(T.LEFT_DELIM)
        self.inside_action = True
        self.pos += after_marker
        self._ignore()
        self.paren_depth = 0
        self.item = item
        return None

    def _lex_comment(self):
        self.pos += 2
        x = self.input.find("*/", self.pos)
        if x < 0:
            return self._errorf("unclosed comment")
        self.pos = x + 2
        delim, trim = self._at_right_delim()
        if not delim:
            return self._errorf("comment ends before closing delimiter")
        self.line += self.input.count("\n", self.start, self.pos)
        self._this_item(T.COMMENT)  # comments are not kept: Hoop does not ask for them
        if trim:
            self.pos += 2
        self.pos += len(_RIGHT)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
        self._ignore()
        return self._lex_text

    def _lex_right_delim(self):
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self._ignore()
        self.pos += len(_RIGHT)
        item = self._this_item(T.RIGHT_DELIM)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
            self._ignore()
        self.inside_action = False
        self.item = item
        return None

    def _lex_inside_action(self):
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self._lex_right_delim
            return self._errorf("unclosed left paren")
        r = self._next()
        if r is None:
            return self._errorf("unclosed action")
        if r in _SPACES:
            self._backup()  # in case we have " -}}"
            return self._lex_space
        if r in _SIMPLE_ITEMS:
            return self._emit(_SIMPLE_ITEMS[r])
        if r == ":":
            if self._next() != "=":
                return self._errorf("expected :=")
            return self._emit(T.DECLARE)
        if r in _QUOTE_STATES:
            return getattr(self, _QUOTE_STATES[r])
        if r == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self._lex_field
        if r in "+-." or "0" <= r <= "9":
            self._backup()
            return self._lex_number
        if _is_alnum(r):
            self._backup()
            return self._lex_identifier
        return self._lex_punctuation(r)

    def _lex_punctuation(self, r: str):
        if r == "(":
            self.paren_depth += 1
            return self._emit(T.LEFT_PAREN)
        if r == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:  # as Go >= 1.20 (Hoop's); Go 1.19 emitted the ")" first
                return self._errorf("unexpected right paren")
            return self._emit(T.RIGHT_PAREN)
        if r <= "\x7f" and r.isprintable():
            return self._emit(T.CHAR)
        return self._errorf(f"unrecognized character in action: {_fmt_unicode(r)}")

    def _lex_space(self):
        num_spaces = 0
        while True:
            r = self._peek()
            if r is None or r not in _SPACES:
                break
            self._next()
            num_spaces += 1
        # A trim-marked right delimiter starts with a space: leave it for lexRightDelim.
        if _has_right_trim(self.input, self.pos - 1) and self.input.startswith(
            _RIGHT, self.pos + 1
        ):
            self._backup()
            if num_spaces == 1:
                return self._lex_right_delim
        return self._emit(T.SPACE)

    def _lex_identifier(self):
        while True:
            r = self._next()
            if _is_alnum(r):
                continue
            self._backup()
            word = self.input[self.start : self.pos]
            if not self._at_terminator():
                return self._errorf(f"bad character {_fmt_unicode(r)}")
            if _KEYWORDS.get(word, 0) > T.KEYWORD:
                return self._emit(_KEYWORDS[word])
            if word in ("true", "false"):
                return self._emit(T.BOOL)
            return self._emit(T.IDENTIFIER)

    def _lex_field(self):
        return self._lex_field_or_variable(T.FIELD)

    def _lex_variable(self):
        if self._at_terminator():
            return self._emit(T.VARIABLE)
        return self._lex_field_or_variable(T.VARIABLE)

    def _lex_field_or_variable(self, typ: int):
        if self._at_terminator():
            return self._emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
        while True:
            r = self._next()
            if not _is_alnum(r):
                self._backup()
                break
        if not self._at_terminator():
            return self._errorf(f"bad character {_fmt_unicode(r)}")
        return self._emit(typ)

    def _lex_char(self):
        return self._lex_quoted("'", T.CHAR_CONSTANT, "unterminated character constant")

    def _lex_quote(self):
        return self._lex_quoted('"', T.STRING, "unterminated quoted string")

    def _lex_quoted(self, quote: str, typ: int, error: str):
        while True:
            c = self._next()
            if c == "\\":
                r = self._next()
                if r is not None and r != "\n":
                    continue
                return self._errorf(error)
            if c is None or c == "\n":
                return self._errorf(error)
            if c == quote:
                return self._emit(typ)

    def _lex_raw_quote(self):
        x = self.input.find("`", self.pos)
        if x < 0:
            self.at_eof = True
            return self._errorf("unterminated raw quoted string")
        self.line += self.input.count("\n", self.pos, x + 1)
        self.pos = x + 1
        return self._emit(T.RAW_STRING)

    def _lex_number(self):
        if not self._scan_number():
            return self._errorf(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
        if self._peek() in ("+", "-"):  # complex: 1+2i, no spaces, must end in 'i'
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                number = self.input[self.start : self.pos]
                return self._errorf(f"bad number syntax: {go_quote(number)}")
            return self._emit(T.COMPLEX)
        return self._emit(T.NUMBER)

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if _is_alnum(self._peek()):
            self._next()
            return False
        return True


# ---------------------------------------------------------------------------------------------
# Parse tree (parse/node.go). ``go_string()`` is Go's ``String()``: Hoop reads it.
# ---------------------------------------------------------------------------------------------


class Node:
    __slots__ = ("pos",)

    def go_string(self) -> str:
        raise NotImplementedError


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int) -> None:
        self.pos, self.nodes = pos, []

    def go_string(self) -> str:
        return "".join(n.go_string() for n in self.nodes)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text

    def go_string(self) -> str:
        return self.text


class PipeNode(Node):
    __slots__ = ("line", "is_assign", "decl", "cmds")

    def __init__(self, pos: int, line: int) -> None:
        self.pos, self.line = pos, line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def go_string(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(v.go_string() for v in self.decl) + " := "
        return head + " | ".join(c.go_string() for c in self.cmds)


class ActionNode(Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, line: int, pipe: PipeNode) -> None:
        self.pos, self.line, self.pipe = pos, line, pipe

    def go_string(self) -> str:
        return "{{" + self.pipe.go_string() + "}}"


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int) -> None:
        self.pos, self.args = pos, []

    def go_string(self) -> str:
        return " ".join(
            f"({a.go_string()})" if isinstance(a, PipeNode) else a.go_string() for a in self.args
        )


class IdentifierNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        self.pos, self.ident = pos, ident

    def go_string(self) -> str:
        return self.ident


class VariableNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        self.pos, self.ident = pos, ident.split(".")

    def go_string(self) -> str:
        return ".".join(self.ident)


class DotNode(Node):
    __slots__ = ()

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def go_string(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def go_string(self) -> str:
        return "nil"


class FieldNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        self.pos, self.ident = pos, ident[1:].split(".")

    def go_string(self) -> str:
        return "".join("." + i for i in self.ident)


class ChainNode(Node):
    __slots__ = ("node", "field")

    def __init__(self, pos: int, node: Node) -> None:
        self.pos, self.node, self.field = pos, node, []

    def go_string(self) -> str:
        head = self.node.go_string()
        if isinstance(self.node, PipeNode):
            head = f"({head})"
        return head + "".join("." + f for f in self.field)


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool) -> None:
        self.pos, self.value = pos, value

    def go_string(self) -> str:
        return "true" if self.value else "false"


class NumberNode(Node):
    __slots__ = ("text", "is_int", "is_uint", "is_float", "int64", "float64")

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text
        self.is_int = self.is_uint = self.is_float = False
        self.int64 = 0
        self.float64 = 0.0

    def go_string(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, quoted: str, text: str) -> None:
        self.pos, self.quoted, self.text = pos, quoted, text

    def go_string(self) -> str:
        return self.quoted


class EndNode(Node):
    __slots__ = ()

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def go_string(self) -> str:
        return "{{end}}"


class ElseNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, line: int) -> None:
        self.pos, self.line = pos, line

    def go_string(self) -> str:
        return "{{else}}"


class BranchNode(Node):
    """The common shape of if, range and with."""

    __slots__ = ("line", "pipe", "list", "else_list")
    keyword = ""

    def __init__(self, pos, line, pipe: PipeNode, list_: ListNode, else_list) -> None:
        self.pos, self.line, self.pipe, self.list, self.else_list = (
            pos,
            line,
            pipe,
            list_,
            else_list,
        )

    def go_string(self) -> str:
        out = "{{" + self.keyword + " " + self.pipe.go_string() + "}}" + self.list.go_string()
        if self.else_list is not None:
            out += "{{else}}" + self.else_list.go_string()
        return out + "{{end}}"


class IfNode(BranchNode):
    __slots__ = ()
    keyword = "if"


class RangeNode(BranchNode):
    __slots__ = ()
    keyword = "range"


class WithNode(BranchNode):
    __slots__ = ()
    keyword = "with"


class BreakNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, line: int) -> None:
        self.pos, self.line = pos, line

    def go_string(self) -> str:
        return "{{break}}"


class ContinueNode(BreakNode):
    __slots__ = ()

    def go_string(self) -> str:
        return "{{continue}}"


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, line: int, name: str, pipe: PipeNode | None) -> None:
        self.pos, self.line, self.name, self.pipe = pos, line, name, pipe

    def go_string(self) -> str:
        pipe = " " + self.pipe.go_string() if self.pipe is not None else ""
        return "{{template " + go_quote(self.name) + pipe + "}}"


def _is_empty_tree(node: Node | None) -> bool:
    """parse.IsEmptyTree: nothing but white space."""
    if node is None:
        return True
    if isinstance(node, ListNode):
        return all(_is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return go_trim_space(node.text) == ""
    return False


def _new_number(pos: int, text: str, typ: int) -> NumberNode:
    """parse.newNumber; raises _NumberError with Go's message."""
    n = NumberNode(pos, text)
    if typ == T.CHAR_CONSTANT:
        try:
            rune, _, end = _unquote_char(text, 1, text[0])
        except _SyntaxError:
            raise _NumberError("invalid syntax") from None
        if text[end:] != "'":
            raise _NumberError(f"malformed character constant: {text}")
        n.is_int = n.is_uint = n.is_float = True
        n.int64, n.float64 = rune, float(rune)
        return n
    if typ == T.COMPLEX:
        raise NotImplementedTemplateError(f"the complex constant {text}")
    if text.endswith("i") and _parse_float(text[:-1]) is not None:
        raise NotImplementedTemplateError(f"the imaginary constant {text}")
    _set_number_value(n, text)
    return n


def _set_number_value(n: NumberNode, text: str) -> None:
    u = _parse_uint(text)
    i = _parse_int(text)
    n.is_uint = u is not None
    if i is not None:
        n.is_int, n.int64 = True, i
        n.is_uint = n.is_uint or i == 0
    if n.is_int:
        n.is_float, n.float64 = True, float(n.int64)
    elif n.is_uint:
        n.is_float, n.float64 = True, float(u)
    else:
        f = _parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise _NumberError(f"integer overflow: {go_quote(text)}")
            n.is_float, n.float64 = True, f
            if f.is_integer() and -(2**63) <= f < 2**63:
                n.is_int, n.int64 = True, int(f)
            if f.is_integer() and 0 <= f < 2**64:
                n.is_uint = True
    if not (n.is_int or n.is_uint or n.is_float):
        raise _NumberError(f"illegal number syntax: {go_quote(text)}")


class _NumberError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Parser (parse/parse.go)
# ---------------------------------------------------------------------------------------------

_OPERAND_STARTS = frozenset(
    (
        T.BOOL,
        T.CHAR_CONSTANT,
        T.COMPLEX,
        T.DOT,
        T.FIELD,
        T.IDENTIFIER,
        T.NUMBER,
        T.NIL,
        T.RAW_STRING,
        T.STRING,
        T.VARIABLE,
        T.LEFT_PAREN,
    )
)
_NON_EXECUTABLE = (BoolNode, DotNode, NilNode, NumberNode, StringNode)


class _Tree:
    """One template being parsed: Go's ``parse.Tree``, with its three-token look-ahead."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.parse_name = ""
        self.text = text
        self.root: ListNode | None = None
        self.funcs: frozenset[str] = frozenset()
        self.lex: _Lexer | None = None
        self.token: list[Item] = [Item(T.ERROR, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = []
        self.tree_set: dict[str, _Tree] = {}
        self.action_line = 0
        self.range_depth = 0

    # -- token stream -----------------------------------------------------------------------

    def _next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_item()
        return self.token[self.peek_count]

    def _backup(self) -> None:
        self.peek_count += 1

    def _backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def _backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def _peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_item()
        return self.token[0]

    def _next_non_space(self) -> Item:
        while True:
            token = self._next()
            if token.typ != T.SPACE:
                return token

    def _peek_non_space(self) -> Item:
        token = self._next_non_space()
        self._backup()
        return token

    # -- errors -----------------------------------------------------------------------------

    def _errorf(self, message: str) -> NoReturn:
        self.root = None
        raise TemplateParseError(f"template: {self.parse_name}:{self.token[0].line}: {message}")

    def _expect(self, expected: int, context: str) -> Item:
        token = self._next_non_space()
        if token.typ != expected:
            self._unexpected(token, context)
        return token

    def _expect_one_of(self, expected1: int, expected2: int, context: str) -> Item:
        token = self._next_non_space()
        if token.typ not in (expected1, expected2):
            self._unexpected(token, context)
        return token

    def _unexpected(self, token: Item, context: str) -> NoReturn:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]  # avoid "action in action"
            self._errorf(f"{token}{extra}")
        self._errorf(f"unexpected {token} in {context}")

    # -- structure --------------------------------------------------------------------------

    def _start_parse(self, funcs: frozenset[str], lex: _Lexer, tree_set: dict) -> None:
        self.root = None
        self.lex = lex
        self.vars = ["$"]
        self.funcs = funcs
        self.tree_set = tree_set

    def parse_top(self, funcs: frozenset[str], tree_set: dict) -> None:
        """Tree.Parse: parse the whole text, adding every template to ``tree_set``."""
        self.parse_name = self.name
        self._start_parse(funcs, _Lexer(self.text), tree_set)
        self._parse()
        self._add()

    def _sub_tree(self, name: str) -> _Tree:
        tree = _Tree(name, self.text)
        tree.parse_name = self.parse_name
        tree._start_parse(self.funcs, self.lex, self.tree_set)
        return tree

    def _add(self) -> None:
        tree = self.tree_set.get(self.name)
        if tree is None or _is_empty_tree(tree.root):
            self.tree_set[self.name] = self
            return
        if not _is_empty_tree(self.root):
            self._errorf(f"template: multiple definition of template {go_quote(self.name)}")

    def _parse(self) -> None:
        self.root = ListNode(self._peek().pos)
        while self._peek().typ != T.EOF:
            if self._peek().typ == T.LEFT_DELIM:
                delim = self._next()
                if self._next_non_space().typ == T.DEFINE:
                    self._sub_tree("definition")._parse_definition()
                    continue
                self._backup2(delim)
            node = self._text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                self._errorf(f"unexpected {node.go_string()}")
            self.root.nodes.append(node)

    def _parse_definition(self) -> None:
        context = "define clause"
        name = self._expect_one_of(T.STRING, T.RAW_STRING, context)
        self.name = self._unquote(name.val)
        self._expect(T.RIGHT_DELIM, context)
        self.root, end = self._item_list()
        if not isinstance(end, EndNode):
            self._errorf(f"unexpected {end.go_string()} in {context}")
        self._add()

    def _unquote(self, quoted: str) -> str:
        try:
            return _unquote(quoted)
        except _SyntaxError:
            self._errorf("invalid syntax")

    def _item_list(self) -> tuple[ListNode, Node]:
        nodes = ListNode(self._peek_non_space().pos)
        while self._peek_non_space().typ != T.EOF:
            node = self._text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                return nodes, node
            nodes.nodes.append(node)
        self._errorf("unexpected EOF")

    def _text_or_action(self) -> Node:
        token = self._next_non_space()
        if token.typ == T.TEXT:
            return TextNode(token.pos, token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self._action()
            finally:
                self.action_line = 0
        self._unexpected(token, "input")

    def _action(self) -> Node:
        token = self._next_non_space()
        controls = {
            T.BLOCK: self._block_control,
            T.ELSE: self._else_control,
            T.END: self._end_control,
            T.IF: lambda: IfNode(*self._parse_control("if")),
            T.RANGE: lambda: RangeNode(*self._parse_control("range")),
            T.TEMPLATE: self._template_control,
            T.WITH: lambda: WithNode(*self._parse_control("with")),
        }
        if token.typ in controls:
            return controls[token.typ]()
        if token.typ in (T.BREAK, T.CONTINUE):
            return self._break_control(token)
        self._backup()
        token = self._peek()
        return ActionNode(token.pos, token.line, self._pipeline("command", T.RIGHT_DELIM))

    def _break_control(self, keyword: Item) -> Node:
        name = "{{" + keyword.val + "}}"
        token = self._next_non_space()
        if token.typ != T.RIGHT_DELIM:
            self._unexpected(token, name)
        if self.range_depth == 0:
            self._errorf(f"{name} outside {{{{range}}}}")
        node_class = BreakNode if keyword.typ == T.BREAK else ContinueNode
        return node_class(keyword.pos, keyword.line)

    # -- pipelines --------------------------------------------------------------------------

    def _pipeline(self, context: str, end: int) -> PipeNode:
        token = self._peek_non_space()
        pipe = PipeNode(token.pos, token.line)
        self._declarations(pipe, context)
        while True:
            token = self._next_non_space()
            if token.typ == end:
                self._check_pipeline(pipe, context)
                return pipe
            if token.typ not in _OPERAND_STARTS:
                self._unexpected(token, context)
            self._backup()
            pipe.cmds.append(self._command())

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        """The optional ``$x :=`` / ``$x =`` / ``$i, $x :=`` that opens a pipeline."""
        while True:
            v = self._peek_non_space()
            if v.typ != T.VARIABLE:
                return
            self._next()
            # "$x foo" needs three tokens of look-ahead to see it is not a declaration.
            token_after_variable = self._peek()
            nxt = self._peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ == T.ASSIGN
                self._next_non_space()
                self._declare(pipe, v)
            elif nxt.typ == T.CHAR and nxt.val == ",":
                self._next_non_space()
                self._declare(pipe, v)
                if context == "range" and len(pipe.decl) < 2:
                    if self._peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue  # second initialized variable in a range pipeline
                    self._errorf("range can only initialize variables")
                self._errorf(f"too many declarations in {context}")
            elif token_after_variable.typ == T.SPACE:
                self._backup3(v, token_after_variable)
            else:
                self._backup2(v)
            return

    def _declare(self, pipe: PipeNode, v: Item) -> None:
        pipe.decl.append(VariableNode(v.pos, v.val))
        self.vars.append(v.val)

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self._errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], _NON_EXECUTABLE):
                self._errorf(f"non executable command in pipeline stage {i + 2}")

    def _parse_control(self, context: str) -> tuple:
        mark = len(self.vars)
        try:
            pipe = self._pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self._item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                else_list = self._else_branch(context, nxt)
            return pipe.pos, pipe.line, pipe, body, else_list
        finally:
            del self.vars[mark:]

    def _else_branch(self, context: str, else_node: ElseNode) -> ListNode:
        if context == "if" and self._peek().typ == T.IF:
            # {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}.
            self._next()
            else_list = ListNode(else_node.pos)
            else_list.nodes.append(IfNode(*self._parse_control("if")))
            return else_list
        else_list, nxt = self._item_list()
        if not isinstance(nxt, EndNode):
            self._errorf(f"expected end; found {nxt.go_string()}")
        return else_list

    def _end_control(self) -> Node:
        return EndNode(self._expect(T.RIGHT_DELIM, "end").pos)

    def _else_control(self) -> Node:
        peek = self._peek_non_space()
        if peek.typ == T.IF:
            return ElseNode(peek.pos, peek.line)
        if peek.typ == T.WITH:
            # Go 1.23 added {{else with}}; Go 1.19 rejects it. Not worth guessing which.
            raise NotImplementedTemplateError("{{else with}}")
        token = self._expect(T.RIGHT_DELIM, "else")
        return ElseNode(token.pos, token.line)

    def _block_control(self) -> Node:
        context = "block clause"
        token = self._next_non_space()
        name = self._template_name(token, context)
        pipe = self._pipeline(context, T.RIGHT_DELIM)
        block = self._sub_tree(name)
        block.root, end = block._item_list()
        if not isinstance(end, EndNode):
            self._errorf(f"unexpected {end.go_string()} in {context}")
        block._add()
        return TemplateNode(token.pos, token.line, name, pipe)

    def _template_control(self) -> Node:
        context = "template clause"
        token = self._next_non_space()
        name = self._template_name(token, context)
        pipe = None
        if self._next_non_space().typ != T.RIGHT_DELIM:
            self._backup()
            pipe = self._pipeline(context, T.RIGHT_DELIM)
        return TemplateNode(token.pos, token.line, name, pipe)

    def _template_name(self, token: Item, context: str) -> str:
        if token.typ not in (T.STRING, T.RAW_STRING):
            self._unexpected(token, context)
        return self._unquote(token.val)

    # -- commands and operands --------------------------------------------------------------

    def _command(self) -> CommandNode:
        cmd = CommandNode(self._peek_non_space().pos)
        while True:
            self._peek_non_space()  # skip leading spaces
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self._next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self._backup()
            elif token.typ != T.PIPE:
                self._unexpected(token, "operand")
            break
        if not cmd.args:
            self._errorf("empty command")
        return cmd

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None or self._peek().typ != T.FIELD:
            return node
        chain = ChainNode(self._peek().pos, node)
        while self._peek().typ == T.FIELD:
            chain.field.append(self._next().val[1:])
        if isinstance(node, FieldNode):
            return FieldNode(chain.pos, chain.go_string())
        if isinstance(node, VariableNode):
            return VariableNode(chain.pos, chain.go_string())
        if isinstance(node, _NON_EXECUTABLE):
            self._errorf(f"unexpected . after term {go_quote(node.go_string())}")
        return chain

    def _term(self) -> Node | None:
        token = self._next_non_space()
        typ = token.typ
        if typ == T.IDENTIFIER:
            if token.val not in self.funcs:
                self._errorf(f"function {go_quote(token.val)} not defined")
            return IdentifierNode(token.pos, token.val)
        simple = {T.DOT: DotNode, T.NIL: NilNode}
        if typ in simple:
            return simple[typ](token.pos)
        if typ == T.VARIABLE:
            return self._use_var(token.pos, token.val)
        if typ == T.FIELD:
            return FieldNode(token.pos, token.val)
        if typ == T.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            try:
                return _new_number(token.pos, token.val, typ)
            except _NumberError as err:
                self._errorf(str(err))
        if typ == T.LEFT_PAREN:
            return self._pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if typ in (T.STRING, T.RAW_STRING):
            return StringNode(token.pos, token.val, self._unquote(token.val))
        self._backup()
        return None

    def _use_var(self, pos: int, name: str) -> VariableNode:
        v = VariableNode(pos, name)
        if v.ident[0] not in self.vars:
            self._errorf(f"undefined variable {go_quote(v.ident[0])}")
        return v


# ---------------------------------------------------------------------------------------------
# Values. Go values are: str (string), bool, int, _Byte (uint8), float (float64),
# GoMap (map[string]string), plus three markers that have no Python equivalent.
# ---------------------------------------------------------------------------------------------


class _Byte(int):
    """A Go ``uint8``: what ``index`` returns for a string."""


class GoMap:
    """A Go ``map[string]string``: the data Hoop executes templates with."""

    __slots__ = ("items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self.items = dict(items)

    def sorted_items(self) -> list[tuple[str, str]]:
        return sorted(self.items.items(), key=lambda kv: _bytes(kv[0]))


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INVALID = _Marker("INVALID")  # the zero reflect.Value: a missing map key, printed <no value>
NIL = _Marker("NIL")  # a nil interface{}: only ever a function argument, printed <nil>
MISSING = _Marker("MISSING")  # Go's missingVal: "no value piped into this command"

# Parameter types of template functions, named as Go prints them.
STRING_T = "string"
VALUE_T = "reflect.Value"
ANY_T = "interface {}"


def _truth(v: Any) -> bool:
    """text/template's isTrue: the empty value of each kind is false."""
    if v is INVALID or v is NIL:
        return False
    if isinstance(v, GoMap):
        return bool(v.items)
    return bool(v)


# ---------------------------------------------------------------------------------------------
# fmt: Sprint, Sprintln, Sprintf for the values above
# ---------------------------------------------------------------------------------------------


def _float_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(x) and the decimal point position."""
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    dp = len(whole) + int(exponent or 0) - (len(whole + frac) - len(digits))
    return digits.rstrip("0"), dp


def _format_float_v(x: float) -> str:
    """Go's ``%v`` of a float64: strconv 'g' with shortest precision (exponent from 1e+06)."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0"
    digits, dp = _float_digits(x)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # strconv uses precision 6 for this decision when shortest
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _format_v(v: Any) -> str:
    """Go's ``%v`` with no flags."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return _format_float_v(v)
    if isinstance(v, GoMap):
        return "map[" + " ".join(f"{k}:{val}" for k, val in v.sorted_items()) + "]"
    if v is NIL:
        return "<nil>"
    raise NotImplementedTemplateError(f"formatting {v!r}")


def go_sprint(args: list[Any]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out = []
    prev_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(_format_v(arg))
        prev_string = is_string
    return "".join(out)


def go_sprintln(args: list[Any]) -> str:
    return " ".join(_format_v(a) for a in args) + "\n"


class _Flags:
    __slots__ = ("minus", "zero", "plus", "sharp", "space", "width", "prec")

    def __init__(self) -> None:
        self.minus = self.zero = self.plus = self.sharp = self.space = False
        self.width: int | None = None
        self.prec: int | None = None

    def plain(self) -> bool:
        return not (self.minus or self.zero or self.plus or self.sharp or self.space) and (
            self.width is None and self.prec is None
        )


def go_sprintf(format_: str, args: list[Any]) -> str:
    """fmt.Sprintf for the verbs a hook plausibly uses; anything else is refused explicitly."""
    format_ = _canon(format_)
    out: list[str] = []
    arg_num = 0
    i, end = 0, len(format_)
    while i < end:
        j = format_.find("%", i)
        if j < 0:
            out.append(format_[i:])
            break
        out.append(format_[i:j])
        i, flags = _parse_flags(format_, j + 1)
        if i >= end:
            out.append("%!(NOVERB)")
            break
        verb = format_[i]
        i += 1
        if verb == "%":
            out.append("%")
        elif arg_num >= len(args):
            out.append(f"%!{_rune(verb)}(MISSING)")
        else:
            out.append(_format_arg(args[arg_num], verb, flags))
            arg_num += 1
    if arg_num < len(args):
        extra = ", ".join(
            "<nil>" if a is NIL else f"{_go_type_name(a)}={_format_v(a)}" for a in args[arg_num:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _parse_flags(format_: str, i: int) -> tuple[int, _Flags]:
    """The flags, width and precision after a ``%``; returns the index of the verb."""
    f = _Flags()
    end = len(format_)
    while i < end and format_[i] in "#0+- ":
        c = format_[i]
        if c == "#":
            f.sharp = True
        elif c == "0":
            f.zero = not f.minus
        elif c == "+":
            f.plus = True
        elif c == "-":
            f.minus, f.zero = True, False
        else:
            f.space = True
        i += 1
    if i < end and format_[i] in "[*":
        raise NotImplementedTemplateError("printf argument indexes and '*' widths")
    i, f.width = _parse_num(format_, i)
    if i + 1 < end and format_[i] == ".":
        if format_[i + 1] in "[*":
            raise NotImplementedTemplateError("printf argument indexes and '*' precisions")
        i, f.prec = _parse_num(format_, i + 1)
        f.prec = f.prec or 0
    if i < end and format_[i] == "[":
        raise NotImplementedTemplateError("printf argument indexes")
    return i, f


def _parse_num(s: str, i: int) -> tuple[int, int | None]:
    j = i
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == i:
        return i, None
    if j - i > 6:
        raise NotImplementedTemplateError("printf widths over 1e6")
    return j, int(s[i:j])


def _format_arg(arg: Any, verb: str, f: _Flags) -> str:
    if f.plus or f.sharp or f.space:
        raise NotImplementedTemplateError("printf flags '+', '#' and ' '")
    if verb == "T":
        if arg is NIL:
            return _pad("<nil>", f)  # Go pads <nil> but never truncates it
        type_name = _go_type_name(arg)
        return _pad(type_name[: f.prec] if f.prec is not None else type_name, f)
    if arg is NIL:
        return _pad("<nil>", f) if verb == "v" else _bad_verb(verb, arg, f)
    if isinstance(arg, GoMap):
        if not f.plain():
            raise NotImplementedTemplateError("printf width or precision on a map")
        pairs = (
            _format_arg(k, verb, f) + ":" + _format_arg(v, verb, f) for k, v in arg.sorted_items()
        )
        return "map[" + " ".join(pairs) + "]"
    if isinstance(arg, str):
        return _format_string(arg, verb, f)
    if isinstance(arg, bool):
        return _pad(_format_v(arg), f) if verb in "tv" else _bad_verb(verb, arg, f)
    if isinstance(arg, int):
        return _format_integer(arg, verb, f)
    if isinstance(arg, float):
        return _format_float(arg, verb, f)
    raise NotImplementedTemplateError(f"printf of {arg!r}")


def _format_string(s: str, verb: str, f: _Flags) -> str:
    if verb not in "vsqxX":
        return _bad_verb(verb, s, f)
    if f.zero:
        raise NotImplementedTemplateError("printf '0' flag on a string")
    if verb in "xX":
        if f.prec is not None:
            raise NotImplementedTemplateError("printf precision with %x")
        hexed = _bytes(s).hex()
        return _pad(hexed.upper() if verb == "X" else hexed, f)
    if f.prec is not None:
        s = _canon(s)[: f.prec]
    return _pad(go_quote(s) if verb == "q" else s, f)


def _format_integer(n: int, verb: str, f: _Flags) -> str:
    if verb in "bcoOU":
        raise NotImplementedTemplateError(f"printf %{verb}")
    if verb not in "vdxXq":
        return _bad_verb(verb, n, f)
    if verb == "q":
        if not f.plain():
            raise NotImplementedTemplateError("printf width or precision with %q of a number")
        return _quote_rune(n)
    if f.prec is not None:
        raise NotImplementedTemplateError("printf precision on an integer")
    digits = format(abs(n), {"x": "x", "X": "X"}.get(verb, "d"))
    sign = "-" if n < 0 else ""
    if f.zero and f.width is not None and not f.minus:
        digits = digits.rjust(f.width - len(sign), "0")
    return _pad(sign + digits, f, allow_zero=True)


def _format_float(x: float, verb: str, f: _Flags) -> str:
    if verb in "bgGxXfFeE":
        raise NotImplementedTemplateError(f"printf %{verb} of a float")
    if verb != "v":
        return _bad_verb(verb, x, f)
    if not f.plain():
        raise NotImplementedTemplateError("printf width or precision on a float")
    return _format_float_v(x)


def _pad(s: str, f: _Flags, allow_zero: bool = False) -> str:
    if f.zero and not allow_zero:
        raise NotImplementedTemplateError("printf '0' flag on a non-number")
    if f.width is None:
        return s
    fill = f.width - len(_canon(s))
    if fill <= 0:
        return s
    return s + " " * fill if f.minus else " " * fill + s


def _bad_verb(verb: str, arg: Any, f: _Flags) -> str:
    if not f.plain():
        raise NotImplementedTemplateError("printf flags on a mismatched verb")
    if arg is NIL:
        return f"%!{_rune(verb)}(<nil>)"
    return f"%!{_rune(verb)}({_go_type_name(arg)}={_format_v(arg)})"


# ---------------------------------------------------------------------------------------------
# Built-in functions (funcs.go)
# ---------------------------------------------------------------------------------------------


class GoFunc:
    """A template function as Go's reflection sees it: parameter types, variadic, body.

    ``params`` are Go type names (STRING_T, VALUE_T, ANY_T); for a variadic function the last
    one is the element type. The body raises :func:`func_error` to return a Go ``error``.
    """

    __slots__ = ("params", "variadic", "impl")

    def __init__(self, params: tuple[str, ...], impl: Callable[..., Any], variadic=False) -> None:
        self.params, self.impl, self.variadic = params, impl, variadic


def _unreachable(*_: Any) -> NoReturn:
    raise AssertionError("and/or are evaluated by the executor")


def _fn_not(v: Any) -> bool:
    return not _truth(v)


def _fn_len(v: Any) -> int:
    if v is INVALID:
        raise func_error("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return _byte_len(v)
    if isinstance(v, GoMap):
        return len(v.items)
    raise func_error(f"len of type {_go_type_name(v)}")


def _index_arg(index: Any, cap: int) -> int:
    if index is INVALID:
        raise func_error("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise func_error(f"cannot index slice/array with type {_go_type_name(index)}")
    if index < 0 or index > cap:
        raise func_error(f"index out of range: {index}")
    return int(index)


def _fn_index(item: Any, *indexes: Any) -> Any:
    if item is INVALID:
        raise func_error("index of untyped nil")
    for index in indexes:
        if isinstance(item, str):
            data = _bytes(item)
            x = _index_arg(index, len(data))
            if x == len(data):
                raise NotImplementedTemplateError("index at the length of a string")
            item = _Byte(data[x])
        elif isinstance(item, GoMap):
            if index is INVALID:
                raise func_error("value is nil; should be of type string")
            if not isinstance(index, str):
                raise func_error(f"value has type {_go_type_name(index)}; should be string")
            item = item.items.get(index, "")
        else:
            raise func_error(f"can't index item of type {_go_type_name(item)}")
    return item


def _fn_slice(item: Any, *indexes: Any) -> Any:
    if item is INVALID:
        raise func_error("slice of untyped nil")
    if len(indexes) > 3:
        raise func_error(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, str):
        raise func_error(f"can't slice item of type {_go_type_name(item)}")
    if len(indexes) == 3:
        raise func_error("cannot 3-index slice a string")
    data = _bytes(item)
    idx = [0, len(data)]
    for i, index in enumerate(indexes):
        idx[i] = _index_arg(index, len(data))
    if idx[0] > idx[1]:
        raise func_error(f"invalid slice index: {idx[0]} > {idx[1]}")
    return _text(data[idx[0] : idx[1]])


# basicKind, numbered as in Go.
_INVALID_KIND, _BOOL_KIND, _COMPLEX_KIND, _INT_KIND, _FLOAT_KIND, _STRING_KIND, _UINT_KIND = range(
    7
)


def _basic_kind(v: Any) -> int:
    if isinstance(v, bool):
        return _BOOL_KIND
    if isinstance(v, _Byte):
        return _UINT_KIND
    if isinstance(v, int):
        return _INT_KIND
    if isinstance(v, float):
        return _FLOAT_KIND
    if isinstance(v, str):
        return _STRING_KIND
    return _INVALID_KIND


def _comparable(v: Any) -> Any:
    return _bytes(v) if isinstance(v, str) else v


def _fn_eq(arg1: Any, *arg2: Any) -> bool:
    if not arg2:
        raise func_error("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        k2 = _basic_kind(arg)
        if k1 != k2:
            if {k1, k2} == {_INT_KIND, _UINT_KIND}:
                truth = arg1 == arg
            elif arg1 is not INVALID and arg is not INVALID:
                raise func_error("incompatible types for comparison")
            else:
                truth = False
        elif k1 != _INVALID_KIND:
            truth = _comparable(arg1) == _comparable(arg)
        elif arg1 is INVALID or arg is INVALID:
            truth = arg1 is arg
        else:
            raise func_error(f"non-comparable type {_format_v(arg)}: map[string]string")
        if truth:
            return True
    return False


def _fn_ne(arg1: Any, arg2: Any) -> bool:
    return not _fn_eq(arg1, arg2)


def _fn_lt(arg1: Any, arg2: Any) -> bool:
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    if _INVALID_KIND in (k1, k2):
        raise func_error("invalid type for comparison")
    if k1 != k2:
        if {k1, k2} == {_INT_KIND, _UINT_KIND}:
            return arg1 < arg2
        raise func_error("incompatible types for comparison")
    if k1 == _BOOL_KIND:
        raise func_error("invalid type for comparison")
    return _comparable(arg1) < _comparable(arg2)


def _fn_le(arg1: Any, arg2: Any) -> bool:
    return _fn_lt(arg1, arg2) or _fn_eq(arg1, arg2)


def _fn_gt(arg1: Any, arg2: Any) -> bool:
    return not _fn_le(arg1, arg2)


def _fn_ge(arg1: Any, arg2: Any) -> bool:
    return not _fn_lt(arg1, arg2)


def _eval_args(args: tuple) -> str:
    """funcs.go evalArgs: the text the escapers work on."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return go_sprint(["<no value>" if a is NIL else a for a in args])


def _fn_html(*args: Any) -> str:
    s = _eval_args(args)
    for old, new in (("&", "&amp;"), ("'", "&#39;"), ('"', "&#34;"), ("<", "&lt;"), (">", "&gt;")):
        s = s.replace(old, new)
    return s.replace("\x00", "\ufffd")


_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def _fn_js(*args: Any) -> str:
    out = []
    for c in _canon(_eval_args(args)):
        if c == "`":
            raise NotImplementedTemplateError("js escaping of a backquote")
        if c in _JS_ESCAPES:
            out.append(_JS_ESCAPES[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04X}")
        elif c <= "\x7f" or _is_bad_byte(c) or _go_is_print(c):
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def _fn_urlquery(*args: Any) -> str:
    from urllib.parse import quote_plus

    return quote_plus(_bytes(_eval_args(args)), safe="")


def _fn_print(*args: Any) -> str:
    return go_sprint(list(args))


def _fn_printf(format_: str, *args: Any) -> str:
    return go_sprintf(format_, list(args))


def _fn_println(*args: Any) -> str:
    return go_sprintln(list(args))


def _fn_call(*_: Any) -> NoReturn:
    raise NotImplementedTemplateError("the call builtin")


BUILTINS: dict[str, GoFunc] = {
    "and": GoFunc((VALUE_T, VALUE_T), _unreachable, variadic=True),
    "or": GoFunc((VALUE_T, VALUE_T), _unreachable, variadic=True),
    "not": GoFunc((VALUE_T,), _fn_not),
    "len": GoFunc((VALUE_T,), _fn_len),
    "index": GoFunc((VALUE_T, VALUE_T), _fn_index, variadic=True),
    "slice": GoFunc((VALUE_T, VALUE_T), _fn_slice, variadic=True),
    "call": GoFunc((VALUE_T, VALUE_T), _fn_call, variadic=True),
    "print": GoFunc((ANY_T,), _fn_print, variadic=True),
    "printf": GoFunc((STRING_T, ANY_T), _fn_printf, variadic=True),
    "println": GoFunc((ANY_T,), _fn_println, variadic=True),
    "html": GoFunc((ANY_T,), _fn_html, variadic=True),
    "js": GoFunc((ANY_T,), _fn_js, variadic=True),
    "urlquery": GoFunc((ANY_T,), _fn_urlquery, variadic=True),
    "eq": GoFunc((VALUE_T, VALUE_T), _fn_eq, variadic=True),
    "ne": GoFunc((VALUE_T, VALUE_T), _fn_ne),
    "lt": GoFunc((VALUE_T, VALUE_T), _fn_lt),
    "le": GoFunc((VALUE_T, VALUE_T), _fn_le),
    "gt": GoFunc((VALUE_T, VALUE_T), _fn_gt),
    "ge": GoFunc((VALUE_T, VALUE_T), _fn_ge),
}


# ---------------------------------------------------------------------------------------------
# Executor (exec.go)
# ---------------------------------------------------------------------------------------------

_MAX_TEMPLATE_DEPTH = 200  # Go allows 100000; Python's stack does not.


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    """One execution: Go's ``state``. ``node`` is the node errors are reported at."""

    def __init__(self, template: Template, out: list[str], data: Any) -> None:
        self.template = template
        self.out = out
        self.tmpl_name = template.name
        self.node: Node | None = None
        self.vars: list[list] = [["$", data]]
        self.depth = 0

    # -- errors -----------------------------------------------------------------------------

    def at(self, node: Node) -> None:
        self.node = node

    def errorf(self, message: str) -> NoReturn:
        if self.node is None:
            raise TemplateExecError(f"template: {self.tmpl_name}: {message}")
        location, context = self.template.error_context(self.node)
        raise TemplateExecError(
            f"template: {location}: executing {go_quote(self.tmpl_name)} at <{context}>: {message}"
        )

    # -- variables --------------------------------------------------------------------------

    def push(self, name: str, value: Any) -> None:
        self.vars.append([name, value])

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for var in reversed(self.vars):
            if var[0] == name:
                var[1] = value
                return
        self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        self.vars[-n][1] = value

    def var_value(self, name: str) -> Any:
        for var_name, value in reversed(self.vars):
            if var_name == name:
                return value
        self.errorf(f"undefined variable: {name}")

    # -- walking ----------------------------------------------------------------------------

    def walk(self, dot: Any, node: Node) -> None:
        self.at(node)
        if isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, (IfNode, WithNode)):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, ContinueNode):
            raise _Continue
        elif isinstance(node, BreakNode):
            raise _Break
        else:
            self.errorf(f"unknown node: {node.go_string()}")

    def walk_if_or_with(self, dot: Any, node: BranchNode) -> None:
        mark = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if _truth(value):
                self.walk(value if isinstance(node, WithNode) else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, node: RangeNode) -> None:
        self.at(node)
        mark = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if isinstance(value, GoMap) and value.items:
                body_mark = self.mark()
                for key, elem in value.sorted_items():
                    self.range_iteration(node, body_mark, key, elem)
                return
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                raise NotImplementedTemplateError("range over a string or an integer")
            if value is not INVALID and not isinstance(value, GoMap):
                self.errorf(f"range can't iterate over {_format_v(value)}")
            if node.else_list is not None:
                self.walk(dot, node.else_list)
        except _Break:
            pass
        finally:
            self.pop(mark)

    def range_iteration(self, node: RangeNode, mark: int, index: Any, elem: Any) -> None:
        if node.pipe.decl:
            self.set_top_var(1, elem)
        if len(node.pipe.decl) > 1:
            self.set_top_var(2, index)
        try:
            self.walk(elem, node.list)
        except _Continue:
            pass
        finally:
            self.pop(mark)

    def walk_template(self, dot: Any, node: TemplateNode) -> None:
        self.at(node)
        tree = self.template.trees.get(node.name)
        if tree is None:
            self.errorf(f"template {go_quote(node.name)} not defined")
        if self.depth >= _MAX_TEMPLATE_DEPTH:
            raise NotImplementedTemplateError(f"templates nested over {_MAX_TEMPLATE_DEPTH} deep")
        dot = self.eval_pipeline(dot, node.pipe)
        saved = (self.tmpl_name, self.vars, self.depth, self.node)
        self.tmpl_name, self.vars, self.depth = node.name, [["$", dot]], self.depth + 1
        try:
            self.walk(dot, tree.root)
        finally:
            self.tmpl_name, self.vars, self.depth, self.node = saved

    def print_value(self, node: Node, value: Any) -> None:
        self.at(node)
        self.out.append("<no value>" if value is INVALID else _format_v(value))

    # -- evaluation -------------------------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: PipeNode | None) -> Any:
        if pipe is None:
            return INVALID
        self.at(pipe)
        value = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)  # the previous value is the final arg
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.push(variable.ident[0], value)
        return value

    def not_a_function(self, args: list[Node] | None, final: Any) -> None:
        if (args is not None and len(args) > 1) or final is not MISSING:
            self.errorf(f"can't give argument to non-function {args[0].go_string()}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        self.errorf(f"can't evaluate command {go_quote(first.go_string())}")

    def ideal_constant(self, constant: NumberNode) -> Any:
        """An untyped number constant, typed the way Go types it for an interface{}."""
        self.at(constant)
        text = constant.text
        is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and "p" not in text
        is_hex_int = is_hex_int and "P" not in text
        if (
            constant.is_float
            and not is_hex_int
            and not text.startswith("'")
            and any(c in text for c in ".eEpP")
        ):
            return constant.float64
        if constant.is_int:
            return constant.int64
        if constant.is_uint:
            self.errorf(f"{text} overflows int")
        return INVALID

    def eval_field_node(self, dot: Any, field: FieldNode, args, final: Any) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(self, dot: Any, chain: ChainNode, args, final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, NilNode):
            self.errorf(f"indirection through explicit nil in {chain.go_string()}")
        receiver = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.field, args, final)

    def eval_variable_node(self, dot: Any, variable: VariableNode, args, final: Any) -> Any:
        self.at(variable)
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, variable, variable.ident[1:], args, final)

    def eval_field_chain(self, dot, receiver, node, ident: list[str], args, final) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(name, None, MISSING, receiver)
        return self.eval_field(ident[-1], args, final, receiver)

    def eval_field(self, name: str, args, final: Any, receiver: Any) -> Any:
        if receiver is INVALID:
            return INVALID
        has_args = (args is not None and len(args) > 1) or final is not MISSING
        if isinstance(receiver, GoMap):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            return receiver.items.get(name, INVALID)
        self.errorf(f"can't evaluate field {name} in type {_go_type_name(receiver)}")

    def eval_function(self, dot: Any, node: IdentifierNode, cmd: Node, args, final: Any) -> Any:
        self.at(node)
        name = node.ident
        fn = self.template.funcs.get(name)
        builtin = fn is None
        if builtin:
            fn = BUILTINS[name]
        return self.eval_call(dot, fn, builtin, cmd, name, args, final)

    def eval_call(self, dot, fn: GoFunc, builtin: bool, node: Node, name: str, args, final):
        args = args[1:] if args is not None else []
        num_in = len(args) + (final is not MISSING)
        if fn.variadic:
            num_fixed = len(fn.params) - 1
            if num_in < num_fixed:
                self.errorf(
                    f"wrong number of args for {name}: want at least {num_fixed} got {len(args)}"
                )
        else:
            num_fixed = len(args)
            if num_in != len(fn.params):
                self.errorf(f"wrong number of args for {name}: want {len(fn.params)} got {num_in}")
        if builtin and name in ("and", "or"):
            return self.eval_and_or(dot, name, args, final)
        argv = [self.eval_arg(dot, self.param_type(fn, i), arg) for i, arg in enumerate(args)]
        if final is not MISSING:
            last = fn.params[-1]
            if fn.variadic and num_in - 1 < num_fixed:
                last = fn.params[num_in - 1]
            argv.append(self.validate_type(final, last))
        try:
            return fn.impl(*argv)
        except _FuncError as err:
            self.at(node)
            self.errorf(f"error calling {name}: {err}")

    @staticmethod
    def param_type(fn: GoFunc, i: int) -> str:
        return fn.params[min(i, len(fn.params) - 1)]

    def eval_and_or(self, dot: Any, name: str, args: list[Node], final: Any) -> Any:
        value = INVALID
        for arg in args:
            value = self.eval_arg(dot, VALUE_T, arg)
            if _truth(value) == (name == "or"):
                return value
        if final is not MISSING:
            value = self.validate_type(final, VALUE_T)
        return value

    def validate_type(self, value: Any, typ: str | None) -> Any:
        if value is INVALID:
            if typ is None or typ == VALUE_T:
                return INVALID
            if typ == ANY_T:
                return NIL
            self.errorf(f"invalid value; expected {typ}")
        if typ == STRING_T and not isinstance(value, str):
            self.errorf(f"wrong type for value; expected {typ}; got {_go_type_name(value)}")
        return value

    def eval_arg(self, dot: Any, typ: str | None, n: Node) -> Any:
        self.at(n)
        if isinstance(n, DotNode):
            return self.validate_type(dot, typ)
        if isinstance(n, NilNode):
            if typ == VALUE_T:
                return INVALID
            if typ == ANY_T:
                return NIL
            self.errorf(f"cannot assign nil to {typ}")
        if isinstance(n, FieldNode):
            return self.validate_type(self.eval_field_node(dot, n, [n], MISSING), typ)
        if isinstance(n, VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, None, MISSING), typ)
        if isinstance(n, PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), typ)
        if isinstance(n, IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, None, MISSING), typ)
        if isinstance(n, ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, None, MISSING), typ)
        if typ == STRING_T:
            if isinstance(n, StringNode):
                return n.text
            self.errorf(f"expected string; found {n.go_string()}")
        return self.eval_empty_interface(dot, n)

    def eval_empty_interface(self, dot: Any, n: Node) -> Any:
        self.at(n)
        if isinstance(n, BoolNode):
            return n.value
        if isinstance(n, NumberNode):
            return self.ideal_constant(n)
        if isinstance(n, StringNode):
            return n.text
        self.errorf(f"can't handle assignment of {n.go_string()} to empty interface argument")


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


class Template:
    """A parsed template set: the root template plus every ``{{define}}`` and ``{{block}}``."""

    def __init__(self, name: str, text: str, trees: dict[str, _Tree], funcs) -> None:
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
        before = self.text[: node.pos]
        newline = before.rfind("\n")
        column = _byte_len(before[newline + 1 :])
        line = before.count("\n") + 1
        return f":{line}:{column}", node.go_string()

    def execute(self, data: Any) -> str:
        """Template.Execute: the output, or TemplateExecError with Go's message."""
        if data is None:
            data = INVALID  # Go's reflect.ValueOf(nil)
        out: list[str] = []
        state = _State(self, out, data)
        try:
            state.walk(data, self.root)
        except RecursionError:
            raise NotImplementedTemplateError("templates nested this deeply") from None
        return "".join(out)


def parse(text: str, funcs: Mapping[str, GoFunc] | None = None, name: str = "") -> Template:
    """Template.New(name).Funcs(funcs).Parse(text), or TemplateParseError with Go's message."""
    funcs = dict(funcs or {})
    names = frozenset(BUILTINS) | frozenset(funcs)
    trees: dict[str, _Tree] = {}
    try:
        _Tree(name, text).parse_top(names, trees)
    except RecursionError:
        raise NotImplementedTemplateError("templates nested this deeply") from None
    return Template(name, text, trees, funcs)
