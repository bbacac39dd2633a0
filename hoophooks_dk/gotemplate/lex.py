"""The lexer: Go's ``text/template/parse/lex.go``."""

from __future__ import annotations

from hoophooks_dk.gotemplate.strconv import byte_len, canon, fmt_unicode, go_quote

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
        if byte_len(self.val) > 10:
            return go_quote(canon(self.val)[:10]) + "..."
        return go_quote(self.val)


def _is_alnum(r: str | None) -> bool:
    return r is not None and (r == "_" or r.isalpha() or r.isdecimal())


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) - i >= 2 and s[i] == "-" and s[i + 1] in _SPACES


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) - i >= 2 and s[i] in _SPACES and s[i + 1] == "-"


class Lexer:
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
        return self._errorf(f"unrecognized character in action: {fmt_unicode(r)}")

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
                return self._errorf(f"bad character {fmt_unicode(r)}")
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
            return self._errorf(f"bad character {fmt_unicode(r)}")
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
