"""Go's strings as bytes, and strconv: quoting, unquoting and number parsing."""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------------------------
# Go string helpers: bytes semantics over surrogate-escaped str
# ---------------------------------------------------------------------------------------------


def go_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def go_text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def canon(s: str) -> str:
    """Re-join UTF-8 sequences that were split by byte slicing, as Go would decode them."""
    return go_text(go_bytes(s)) if has_escapes(s) else s


_ESCAPE_RE = re.compile("[\udc80-\udcff]")


def has_escapes(s: str) -> bool:
    return _ESCAPE_RE.search(s) is not None


def is_bad_byte_char(c: str) -> bool:
    return "\udc80" <= c <= "\udcff"


def decoded_rune(c: str) -> str:
    """The rune Go's UTF-8 decoder yields for one character of ours."""
    return "\ufffd" if is_bad_byte_char(c) else c


def byte_len(s: str) -> int:
    return len(s) if s.isascii() else len(go_bytes(s))


def go_is_print(c: str) -> bool:
    """strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    return c.isprintable() and not is_bad_byte_char(c)


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


NAMED_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def escape_rune(c: str, quote: str) -> str:
    """strconv's appendEscapedRune for a valid rune."""
    if c == quote or c == "\\":
        return "\\" + c
    if go_is_print(c):
        return c
    if c in NAMED_ESCAPES:
        return NAMED_ESCAPES[c]
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
    for c in canon(s):
        if is_bad_byte_char(c):
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        else:
            out.append(escape_rune(c, '"'))
    out.append('"')
    return "".join(out)


def fmt_unicode(c: str) -> str:
    """Go's ``%#U``: ``U+0041 'A'``."""
    r = decoded_rune(c)
    out = f"U+{ord(r):04X}"
    return out + f" '{r}'" if go_is_print(r) else out


# ---------------------------------------------------------------------------------------------
# strconv: unquoting and number parsing
# ---------------------------------------------------------------------------------------------


class StrconvSyntaxError(Exception):
    """strconv.ErrSyntax."""


_HEX = "0123456789abcdefABCDEF"


def unquote_char(s: str, i: int, quote: str) -> tuple[int, bool, int]:
    """strconv.UnquoteChar on ``s[i:]``: (value, multibyte, index after it)."""
    if i >= len(s):
        raise StrconvSyntaxError
    c = s[i]
    if c == quote and quote in "'\"":
        raise StrconvSyntaxError
    if ord(c) >= 0x80:
        return ord(decoded_rune(c)), True, i + 1
    if c != "\\":
        return ord(c), False, i + 1
    if i + 1 >= len(s):
        raise StrconvSyntaxError
    c = s[i + 1]
    i += 2
    simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
    if c in simple:
        return simple[c], False, i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i : i + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            raise StrconvSyntaxError
        v = int(digits, 16)
        if c == "x":
            return v, False, i + n
        if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            raise StrconvSyntaxError
        return v, True, i + n
    if c in "01234567":
        digits = s[i : i + 2]
        if len(digits) < 2 or any(d not in "01234567" for d in digits):
            raise StrconvSyntaxError
        v = int(c + digits, 8)
        if v > 255:
            raise StrconvSyntaxError
        return v, False, i + 2
    if c in "'\"":
        if c != quote:
            raise StrconvSyntaxError
        return ord(c), False, i
    raise StrconvSyntaxError


def unquote(quoted: str) -> str:
    """strconv.Unquote for a lexed string token (raw or interpreted)."""
    quote = quoted[0]
    body = quoted[1:-1]
    if quote == "`":
        return body.replace("\r", "")  # Go discards CRs inside raw strings
    if "\\" not in body and "\n" not in body and not has_escapes(body):
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\n":
            raise StrconvSyntaxError
        value, multibyte, i = unquote_char(body, i, quote)
        if value < 0x80 or not multibyte:
            out.append(value)
        else:
            out += chr(value).encode("utf-8")
    return go_text(bytes(out))


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


def parse_uint(s: str) -> int | None:
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


def parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), or None on any error."""
    if not s:
        return None
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    un = parse_uint(body)
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


def parse_float(s: str) -> float | None:
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


def parse_float_syntax_ok(s: str) -> bool:
    """Whether strconv.ParseFloat would read ``s`` (in range or not)."""
    plain = s.replace("_", "")
    if "_" in s and not _underscore_ok(s):
        return False
    return bool(_HEX_FLOAT_RE.fullmatch(plain) or _DEC_FLOAT_RE.fullmatch(plain))


def can_backquote(s: str) -> bool:
    for c in s:
        if is_bad_byte_char(c) or c == "\ufeff":
            return False
        if (c < " " and c != "\t") or c == "`" or c == "\x7f":
            return False
    return True


def escape_ascii(c: str, quote: str) -> str:
    """appendEscapedRune with ASCIIonly: everything outside printable ASCII escaped."""
    if c == quote or c == "\\":
        return "\\" + c
    if c < "\x80" and go_is_print(c):
        return c
    if c in NAMED_ESCAPES:
        return NAMED_ESCAPES[c]
    r = ord(c)
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    return f"\\u{r:04x}" if r < 0x10000 else f"\\U{r:08x}"


def quote_to_ascii(s: str) -> str:
    """strconv.QuoteToASCII."""
    return (
        '"'
        + "".join(
            f"\\x{ord(c) - 0xDC00:02x}" if is_bad_byte_char(c) else escape_ascii(c, '"') for c in s
        )
        + '"'
    )


def quote_rune(r: int, ascii_only: bool) -> str:
    """strconv.QuoteRune / QuoteRuneToASCII (a rune that is not valid is U+FFFD)."""
    if r < 0 or r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        r = 0xFFFD
    c = chr(r)
    if ascii_only:
        return "'" + escape_ascii(c, "'") + "'"
    return "'" + escape_rune(c, "'") + "'"
