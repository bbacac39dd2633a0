"""fmt's Sprint, Sprintln and Sprintf for the values a template sees."""

from __future__ import annotations

import math
from typing import Any

from hoophooks_dk.gotemplate.errors import NotImplementedTemplateError
from hoophooks_dk.gotemplate.strconv import _bytes, _canon, _quote_rune, _rune, go_quote
from hoophooks_dk.gotemplate.values import NIL, GoMap, _go_type_name

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


def _format_complex_v(z: complex) -> str:
    """fmtComplex for ``%v``: ``(1+2i)``, the imaginary part always signed."""
    imaginary = _format_float_v(z.imag)
    if imaginary[0] not in "+-":
        imaginary = "+" + imaginary
    return f"({_format_float_v(z.real)}{imaginary}i)"


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
    if isinstance(v, complex):
        return _format_complex_v(v)
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
    if isinstance(arg, complex):
        if verb in "vbgGxXfFeE" and not f.plain() or verb in "bgGxXfFeE":
            raise NotImplementedTemplateError(f"printf %{verb} of a complex number")
        return _format_complex_v(arg) if verb == "v" else _bad_verb(verb, arg, f)
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
