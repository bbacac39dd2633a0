"""strconv's float formatting (Go's ``strconv/ftoa.go``): FormatFloat for fmt.

Python's correctly rounded ``format`` gives strconv's digits for an explicit precision;
the shortest forms and the 'b' and 'x' formats are built the way ftoa.go builds them.
"""

from __future__ import annotations

import math

LDIGITS, UDIGITS = "0123456789abcdefx", "0123456789ABCDEFX"  # the x/X ends 0x and 0X


def float_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of abs(x) and the decimal point position."""
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    dp = len(whole) + int(exponent or 0) - (len(whole + frac) - len(digits))
    return digits.rstrip("0"), dp


def format_float_v(x: float) -> str:
    """Go's ``%v`` of a float64: strconv 'g' with shortest precision (exponent from 1e+06)."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0"
    digits, dp = float_digits(x)
    exp = dp - 1
    if exp < -4 or exp >= 6:  # strconv uses precision 6 for this decision when shortest
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def shortest_digits(x: float) -> tuple[str, int]:
    """The shortest digits of abs(x) and the decimal point (0 has no digits)."""
    return ("", 0) if x == 0 else float_digits(x)


def fmt_e(neg: bool, digits: str, dp: int, prec: int, char: str) -> str:
    """strconv fmtE: -d.ddddde±dd."""
    out = ["-" if neg else "", digits[:1] or "0"]
    if prec > 0:
        out.append("." + digits[1 : prec + 1].ljust(prec, "0"))
    exp = dp - 1 if digits else 0
    out.append(f"{char}{'-' if exp < 0 else '+'}{abs(exp):02d}")
    return "".join(out)


def fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    """strconv fmtF: -ddddddd.ddddd."""
    out = ["-" if neg else ""]
    out.append(digits[:dp].ljust(dp, "0") if dp > 0 else "0")
    if prec > 0:
        frac = "".join(digits[j] if 0 <= j < len(digits) else "0" for j in range(dp, dp + prec))
        out.append("." + frac)
    return "".join(out)


def fmt_b(x: float) -> str:
    """strconv's 'b' format: mantissa p exponent, both decimal."""
    neg = math.copysign(1.0, x) < 0
    x = abs(x)
    if x == 0:
        mant, exp = 0, -1074
    elif x < 2.2250738585072014e-308:  # denormal: the raw fraction
        mant, exp = int(math.ldexp(x, 1074)), -1074
    else:
        m, e = math.frexp(x)
        mant, exp = int(m * 2.0**53), e - 53
    return f"{'-' if neg else ''}{mant}p{'+' if exp >= 0 else ''}{exp}"


def fmt_x(x: float, prec: int, char: str) -> str:
    """strconv fmtX: -0x1.yyyyp±dd."""
    neg = math.copysign(1.0, x) < 0
    x = abs(x)
    if x == 0:
        mant, exp = 0, 0
    else:
        m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
        mant, exp = int(m * 2.0**53) << 8, e - 1  # leading 1 at bit 60
        if x < 2.2250738585072014e-308:
            mant = int(math.ldexp(x, 1074)) << 8
            exp = -1022
            while mant and not mant & (1 << 60):
                mant <<= 1
                exp -= 1
    if 0 <= prec < 15:
        shift = prec * 4
        extra = (mant << shift) & ((1 << 60) - 1)
        mant >>= 60 - shift
        if extra | (mant & 1) > 1 << 59:
            mant += 1
        mant <<= 60 - shift
        if mant & (1 << 61):
            mant >>= 1
            exp += 1
    hexdigits = UDIGITS if char == "X" else LDIGITS
    out = ["-" if neg else "", "0", char, str((mant >> 60) & 1)]
    mant = (mant << 4) & ((1 << 64) - 1)
    if prec < 0 and mant:
        out.append(".")
        while mant:
            out.append(hexdigits[(mant >> 60) & 15])
            mant = (mant << 4) & ((1 << 64) - 1)
    elif prec > 0:
        out.append(".")
        for _ in range(prec):
            out.append(hexdigits[(mant >> 60) & 15])
            mant = (mant << 4) & ((1 << 64) - 1)
    out.append("P" if char == "X" else "p")
    out.append(f"{'-' if exp < 0 else '+'}{abs(exp):02d}")
    return "".join(out)


def strconv_format_float(x: float, verb: str, prec: int) -> str:
    """strconv.FormatFloat(x, verb, prec, 64)."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if verb == "b":
        return fmt_b(x)
    if verb in "xX":
        return fmt_x(x, prec, verb)
    neg = math.copysign(1.0, x) < 0
    if prec >= 0:  # Python's correctly rounded formatting is strconv's for these verbs
        text = format(abs(x), f".{prec}{verb}")
        return ("-" if neg else "") + text
    digits, dp = shortest_digits(x)
    if verb in "eE":
        return fmt_e(neg, digits, dp, len(digits) - 1, verb)
    if verb == "f":
        return fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
    exp = dp - 1  # 'g' and 'G', shortest: %e from an exponent of -4 or 6
    if exp < -4 or exp >= 6:
        return fmt_e(neg, digits, dp, len(digits) - 1, "e" if verb == "g" else "E")
    return fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
