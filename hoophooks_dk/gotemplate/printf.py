"""fmt's Sprint, Sprintln and Sprintf for the values a template sees.

Sprintf is a port of Go's ``fmt/print.go`` (doPrintf, printArg, printValue) and
``fmt/format.go`` (padding, integers, floats, strings), with strconv's float formats, for the
values a Hoop template can hold: string, bool, int, uint8, float64, complex128,
map[string]string and nil.
"""

from __future__ import annotations

from typing import Any

from hoophooks_dk.gotemplate.errors import NotImplementedTemplateError
from hoophooks_dk.gotemplate.ftoa import (
    LDIGITS,
    UDIGITS,
    format_float_v,
    strconv_format_float,
)
from hoophooks_dk.gotemplate.strconv import (
    can_backquote,
    canon,
    decoded_rune,
    go_bytes,
    go_is_print,
    go_quote,
    quote_rune,
    quote_to_ascii,
)
from hoophooks_dk.gotemplate.values import NIL, Byte, GoMap, go_type_name

# ---------------------------------------------------------------------------------------------
# fmt: Sprint, Sprintln, Sprintf for the values above
# ---------------------------------------------------------------------------------------------


def format_complex_v(z: complex) -> str:
    """fmtComplex for ``%v``: ``(1+2i)``, the imaginary part always signed."""
    imaginary = format_float_v(z.imag)
    if imaginary[0] not in "+-":
        imaginary = "+" + imaginary
    return f"({format_float_v(z.real)}{imaginary}i)"


def format_v(v: Any) -> str:
    """Go's ``%v`` with no flags."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return format_float_v(v)
    if isinstance(v, complex):
        return format_complex_v(v)
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
        out.append(format_v(arg))
        prev_string = is_string
    return "".join(out)


def go_sprintln(args: list[Any]) -> str:
    return " ".join(format_v(a) for a in args) + "\n"


# ---------------------------------------------------------------------------------------------
# Sprintf (fmt/print.go doPrintf and printArg, fmt/format.go)
# ---------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def go_sprintf(format_: str, args: list[Any]) -> str:
    """fmt.Sprintf: Go's output for every verb, flag, width, precision and argument index."""
    printer = _Printer()
    printer.do_printf(canon(format_), args)
    return "".join(printer.buf)


def _too_large(x: int) -> bool:
    return x > 1_000_000 or x < -1_000_000


def _parsenum(s: str, start: int, end: int) -> tuple[int, bool, int]:
    """parsenum: (number, whether there was one, index after it)."""
    if start >= end:
        return 0, False, end
    num, isnum, i = 0, False, start
    while i < end and "0" <= s[i] <= "9":
        if _too_large(num):
            return 0, False, end  # overflow: a crazy long number, most likely
        num = num * 10 + ord(s[i]) - 48
        isnum = True
        i += 1
    return num, isnum, i


def _int_from_arg(args: list[Any], arg_num: int) -> tuple[int, bool, int]:
    """intFromArg: the width or precision a ``*`` takes from the arguments."""
    if arg_num >= len(args):
        return 0, False, arg_num
    arg = args[arg_num]
    is_int = isinstance(arg, int) and not isinstance(arg, bool)
    num = int(arg) if is_int else 0
    if _too_large(num):
        num, is_int = 0, False
    return num, is_int, arg_num + 1


def _parse_arg_number(format_: str) -> tuple[int, int, bool]:
    """parseArgNumber on ``[n]...``: (index, characters to consume, ok)."""
    if len(format_) < 3:
        return 0, 1, False
    for i in range(1, len(format_)):
        if format_[i] == "]":
            width, ok, newi = _parsenum(format_, 1, i)
            if not ok or newi != i:
                return 0, i + 1, False
            return width - 1, i + 1, True
    return 0, 1, False


class _Printer:
    """Go's ``pp`` and ``fmt``: one Sprintf call's flags and output buffer."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.clear_flags()
        self.reordered = False
        self.good_arg_num = True

    def clear_flags(self) -> None:
        self.sharp = self.zero = self.plus = self.minus = self.space = False
        self.sharp_v = self.plus_v = False
        self.wid = self.prec = 0
        self.wid_present = self.prec_present = False

    # -- padding (format.go) ----------------------------------------------------------------

    def write_padding(self, n: int) -> None:
        if n > 0:
            self.buf.append(("0" if self.zero and not self.minus else " ") * n)

    def pad(self, s: str) -> None:
        """pad / padString: width counts runes (a byte that is not UTF-8 is one)."""
        if not self.wid_present or self.wid == 0:
            self.buf.append(s)
            return
        width = self.wid - len(canon(s))
        if not self.minus:
            self.write_padding(width)
            self.buf.append(s)
        else:
            self.buf.append(s)
            self.write_padding(width)

    def pad_no_zero(self, s: str) -> None:
        old, self.zero = self.zero, False
        self.pad(s)
        self.zero = old

    def truncate(self, s: str) -> str:
        return canon(s)[: self.prec] if self.prec_present else s

    # -- doPrintf ---------------------------------------------------------------------------

    def arg_number(self, arg_num: int, format_: str, i: int, num_args: int):
        if i >= len(format_) or format_[i] != "[":
            return arg_num, i, False
        self.reordered = True
        index, wid, ok = _parse_arg_number(format_[i:])
        if ok and 0 <= index < num_args:
            return index, i + wid, True
        self.good_arg_num = False
        return arg_num, i + wid, ok

    def do_printf(self, format_: str, a: list[Any]) -> None:
        end = len(format_)
        arg_num = 0
        after_index = False
        self.reordered = False
        i = 0
        while i < end:
            self.good_arg_num = True
            last = i
            i = format_.find("%", i)
            if i < 0:
                i = end
            if i > last:
                self.buf.append(format_[last:i])
            if i >= end:
                break
            i += 1
            self.clear_flags()
            while i < end and format_[i] in "#0+- ":
                c = format_[i]
                if c == "#":
                    self.sharp = True
                elif c == "0":
                    self.zero = True
                elif c == "+":
                    self.plus = True
                elif c == "-":
                    self.minus = True
                else:
                    self.space = True
                i += 1
            arg_num, i, after_index = self.arg_number(arg_num, format_, i, len(a))
            if i < end and format_[i] == "*":
                i += 1
                self.wid, self.wid_present, arg_num = _int_from_arg(a, arg_num)
                if not self.wid_present:
                    self.buf.append("%!(BADWIDTH)")
                if self.wid < 0:
                    self.wid, self.minus, self.zero = -self.wid, True, False
                after_index = False
            else:
                self.wid, self.wid_present, i = _parsenum(format_, i, end)
                if after_index and self.wid_present:
                    self.good_arg_num = False
            if i + 1 < end and format_[i] == ".":
                i += 1
                if after_index:
                    self.good_arg_num = False
                arg_num, i, after_index = self.arg_number(arg_num, format_, i, len(a))
                if i < end and format_[i] == "*":
                    i += 1
                    self.prec, self.prec_present, arg_num = _int_from_arg(a, arg_num)
                    if self.prec < 0:
                        self.prec, self.prec_present = 0, False
                    if not self.prec_present:
                        self.buf.append("%!(BADPREC)")
                    after_index = False
                else:
                    self.prec, self.prec_present, i = _parsenum(format_, i, end)
                    if not self.prec_present:
                        self.prec, self.prec_present = 0, True
            if not after_index:
                arg_num, i, after_index = self.arg_number(arg_num, format_, i, len(a))
            if i >= end:
                self.buf.append("%!(NOVERB)")
                break
            verb = decoded_rune(format_[i])
            i += 1
            if verb == "%":
                self.buf.append("%")
            elif not self.good_arg_num:
                self.buf.append(f"%!{verb}(BADINDEX)")
            elif arg_num >= len(a):
                self.buf.append(f"%!{verb}(MISSING)")
            else:
                if verb in "vw":
                    self.sharp_v, self.sharp = self.sharp, False
                    self.plus_v, self.plus = self.plus, False
                self.print_arg(a[arg_num], verb)
                arg_num += 1
        if not self.reordered and arg_num < len(a):
            self.clear_flags()
            self.buf.append("%!(EXTRA ")
            for n, arg in enumerate(a[arg_num:]):
                if n:
                    self.buf.append(", ")
                if arg is NIL:
                    self.buf.append("<nil>")
                else:
                    self.buf.append(go_type_name(arg) + "=")
                    self.print_arg(arg, "v")
            self.buf.append(")")

    # -- printArg ---------------------------------------------------------------------------

    def bad_verb(self, verb: str, arg: Any) -> None:
        self.buf.append(f"%!{verb}(")
        if arg is NIL:
            self.buf.append("<nil>")
        else:
            self.buf.append(go_type_name(arg) + "=")
            self.print_arg(arg, "v")
        self.buf.append(")")

    def print_arg(self, arg: Any, verb: str) -> None:
        if arg is NIL:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb, arg)
            return
        if verb == "T":
            self.pad(self.truncate(go_type_name(arg)))
            return
        if verb == "p":
            if isinstance(arg, GoMap):
                raise NotImplementedTemplateError("printf %p of a map (its address)")
            self.bad_verb(verb, arg)
            return
        if verb == "w":  # Sprintf does not wrap errors
            self.bad_verb(verb, arg)
        elif isinstance(arg, bool):
            if verb in "tv":
                self.pad("true" if arg else "false")
            else:
                self.bad_verb(verb, arg)
        elif isinstance(arg, int):
            self.fmt_integer(int(arg), not isinstance(arg, Byte), verb, arg)
        elif isinstance(arg, float):
            self.fmt_float(arg, verb, arg)
        elif isinstance(arg, complex):
            self.fmt_complex(arg, verb)
        elif isinstance(arg, str):
            self.fmt_string(arg, verb)
        elif isinstance(arg, GoMap):
            self.fmt_map(arg, verb)
        else:
            raise NotImplementedTemplateError(f"printf of {arg!r}")

    def fmt_map(self, m: GoMap, verb: str) -> None:
        self.buf.append("map[string]string{" if self.sharp_v else "map[")
        for n, (key, value) in enumerate(m.sorted_items()):
            if n:
                self.buf.append(", " if self.sharp_v else " ")
            self.fmt_string(key, verb)
            self.buf.append(":")
            self.fmt_string(value, verb)
        self.buf.append("}" if self.sharp_v else "]")

    def fmt_string(self, s: str, verb: str) -> None:
        if verb == "v":
            self.fmt_q(s) if self.sharp_v else self.pad(self.truncate(s))
        elif verb == "s":
            self.pad(self.truncate(s))
        elif verb in "xX":
            self.fmt_sx(s, UDIGITS if verb == "X" else LDIGITS)
        elif verb == "q":
            self.fmt_q(s)
        else:
            self.bad_verb(verb, s)

    def fmt_q(self, s: str) -> None:
        s = self.truncate(s)
        if self.sharp and can_backquote(s):
            self.pad("`" + s + "`")
        else:
            self.pad(quote_to_ascii(s) if self.plus else go_quote(s))

    def fmt_sx(self, s: str, digits: str) -> None:
        data = go_bytes(s)
        length = len(data)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.write_padding(self.wid)
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.write_padding(self.wid - width)
        out = ["0" + digits[16]] if self.sharp else []
        for n in range(length):
            if self.space and n > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            out.append(digits[data[n] >> 4] + digits[data[n] & 15])
        self.buf.append("".join(out))
        if self.wid_present and self.wid > width and self.minus:
            self.write_padding(self.wid - width)

    def fmt_integer(self, n: int, signed: bool, verb: str, arg: Any) -> None:
        u = n & _MASK64
        if verb == "v":
            if self.sharp_v and not signed:
                old, self.sharp = self.sharp, True
                self.format_integer(u, 16, signed, "v", LDIGITS)
                self.sharp = old
            else:
                self.format_integer(u, 10, signed, verb, LDIGITS)
        elif verb in "dboOxX":
            base = {"d": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}[verb]
            self.format_integer(u, base, signed, verb, UDIGITS if verb == "X" else LDIGITS)
        elif verb == "c":
            self.pad(chr(u) if u <= 0x10FFFF and not 0xD800 <= u <= 0xDFFF else "\ufffd")
        elif verb == "q":
            self.pad(quote_rune(u if u <= 0x10FFFF else -1, self.plus))
        elif verb == "U":
            self.fmt_unicode(u)
        else:
            self.bad_verb(verb, arg)

    def fmt_unicode(self, u: int) -> None:
        prec = self.prec if self.prec_present and self.prec > 4 else 4
        out = "U+" + format(u, "X").rjust(prec, "0")
        if self.sharp and u <= 0x10FFFF and not 0xD800 <= u <= 0xDFFF and go_is_print(chr(u)):
            out += f" '{chr(u)}'"
        self.pad_no_zero(out)

    def format_integer(self, u: int, base: int, signed: bool, verb: str, digits: str) -> None:
        """format.go fmtInteger."""
        negative = signed and u >= 1 << 63
        if negative:
            u = (1 << 64) - u
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old, self.zero = self.zero, False
                self.write_padding(self.wid)
                self.zero = old
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        text = ""
        while True:
            text = digits[u % base] + text
            u //= base
            if not u:
                break
        text = text.rjust(prec, "0")
        if self.sharp:
            if base == 2:
                text = "0b" + text
            elif base == 8 and text[0] != "0":
                text = "0" + text
            elif base == 16:
                text = "0" + digits[16] + text
        if verb == "O":
            text = "0o" + text
        if negative:
            text = "-" + text
        elif self.plus:
            text = "+" + text
        elif self.space:
            text = " " + text
        self.pad_no_zero(text)

    def fmt_float(self, x: float, verb: str, arg: Any) -> None:
        if verb == "v":
            self.format_float(x, "g", -1)
        elif verb in "bgGxX":
            self.format_float(x, verb, -1)
        elif verb in "feE":
            self.format_float(x, verb, 6)
        elif verb == "F":
            self.format_float(x, "f", 6)
        else:
            self.bad_verb(verb, arg)

    def fmt_complex(self, z: complex, verb: str) -> None:
        if verb not in "vbgGxXfFeE":
            self.bad_verb(verb, z)
            return
        old_plus = self.plus
        self.buf.append("(")
        self.fmt_float(z.real, verb, z.real)
        self.plus = True
        self.fmt_float(z.imag, verb, z.imag)
        self.buf.append("i)")
        self.plus = old_plus

    def format_float(self, x: float, verb: str, prec: int) -> None:
        """format.go fmtFloat: sign, '#', zero padding and NaN/Inf around strconv's text."""
        if self.prec_present:
            prec = self.prec
        num = strconv_format_float(x, verb, prec)
        num = num if num[0] in "+-" else "+" + num
        if self.space and num[0] == "+" and not self.plus:
            num = " " + num[1:]
        if num[1] in "IN":
            if num[1] == "N" and not self.space and not self.plus:
                num = num[1:]
            self.pad_no_zero(num)
            return
        if self.sharp and verb != "b":
            num = self._sharp_float(num, verb, prec)
        if self.plus or num[0] != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num):
                self.buf.append(num[0])
                self.write_padding(self.wid - len(num))
                self.buf.append(num[1:])
                return
            self.pad(num)
            return
        self.pad(num[1:])

    @staticmethod
    def _sharp_float(num: str, verb: str, prec: int) -> str:
        """'#': always a decimal point; %g keeps its trailing zeros."""
        digits = 0
        if verb in "vgGx":
            digits = 6 if prec == -1 else prec
        tail = ""
        has_point = False
        saw_nonzero = False
        body = num
        i = 1
        while i < len(body):
            c = body[i]
            if c == ".":
                has_point = True
            elif c in "pP" or (c in "eE" and verb not in "xX"):
                tail, body = body[i:], body[:i]
                break
            else:
                if c != "0":
                    saw_nonzero = True
                if saw_nonzero:
                    digits -= 1
            i += 1
        if not has_point:
            if len(body) == 2 and body[1] == "0":
                digits -= 1
            body += "."
        if digits > 0:
            body += "0" * digits
        return body + tail
