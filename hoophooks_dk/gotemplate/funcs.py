"""The built-in template functions: Go's ``text/template/funcs.go``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from hoophooks_dk.gotemplate.errors import func_error
from hoophooks_dk.gotemplate.printf import format_v, go_sprint, go_sprintf, go_sprintln
from hoophooks_dk.gotemplate.strconv import (
    byte_len,
    canon,
    go_bytes,
    go_is_print,
    go_text,
    is_bad_byte_char,
)
from hoophooks_dk.gotemplate.values import (
    ANY_T,
    INVALID,
    NIL,
    STRING_T,
    VALUE_T,
    Byte,
    GoMap,
    go_type_name,
    truth,
)

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
    return not truth(v)


def _fn_len(v: Any) -> int:
    if v is INVALID:
        raise func_error("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return byte_len(v)
    if isinstance(v, GoMap):
        return len(v.items)
    raise func_error(f"len of type {go_type_name(v)}")


def _index_arg(index: Any, cap: int) -> int:
    if index is INVALID:
        raise func_error("cannot index slice/array with nil")
    if isinstance(index, bool) or not isinstance(index, int):
        raise func_error(f"cannot index slice/array with type {go_type_name(index)}")
    if index < 0 or index > cap:
        raise func_error(f"index out of range: {index}")
    return int(index)


def _fn_index(item: Any, *indexes: Any) -> Any:
    if item is INVALID:
        raise func_error("index of untyped nil")
    for index in indexes:
        if isinstance(item, str):
            data = go_bytes(item)
            x = _index_arg(index, len(data))
            if x == len(data):  # indexArg allows it; reflect then panics, and safeCall says so
                raise func_error("reflect: string index out of range")
            item = Byte(data[x])
        elif isinstance(item, GoMap):
            if index is INVALID:
                raise func_error("value is nil; should be of type string")
            if not isinstance(index, str):
                raise func_error(f"value has type {go_type_name(index)}; should be string")
            item = item.items.get(index, "")
        else:
            raise func_error(f"can't index item of type {go_type_name(item)}")
    return item


def _fn_slice(item: Any, *indexes: Any) -> Any:
    if item is INVALID:
        raise func_error("slice of untyped nil")
    if len(indexes) > 3:
        raise func_error(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, str):
        raise func_error(f"can't slice item of type {go_type_name(item)}")
    if len(indexes) == 3:
        raise func_error("cannot 3-index slice a string")
    data = go_bytes(item)
    idx = [0, len(data)]
    for i, index in enumerate(indexes):
        idx[i] = _index_arg(index, len(data))
    if idx[0] > idx[1]:
        raise func_error(f"invalid slice index: {idx[0]} > {idx[1]}")
    return go_text(data[idx[0] : idx[1]])


# basicKind, numbered as in Go.
_INVALID_KIND, _BOOL_KIND, _COMPLEX_KIND, _INT_KIND, _FLOAT_KIND, _STRING_KIND, _UINT_KIND = range(
    7
)


def _basic_kind(v: Any) -> int:
    if isinstance(v, bool):
        return _BOOL_KIND
    if isinstance(v, Byte):
        return _UINT_KIND
    if isinstance(v, int):
        return _INT_KIND
    if isinstance(v, float):
        return _FLOAT_KIND
    if isinstance(v, complex):
        return _COMPLEX_KIND
    if isinstance(v, str):
        return _STRING_KIND
    return _INVALID_KIND


def _comparable(v: Any) -> Any:
    return go_bytes(v) if isinstance(v, str) else v


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
                raise func_error(
                    "incompatible types for comparison: "
                    f"{go_type_name(arg1)} and {go_type_name(arg)}"
                )
            else:
                truth = False
        elif k1 != _INVALID_KIND:
            truth = _comparable(arg1) == _comparable(arg)
        elif arg1 is INVALID or arg is INVALID:
            truth = arg1 is arg
        else:
            raise func_error(f"non-comparable type {format_v(arg)}: map[string]string")
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
        raise func_error(
            f"incompatible types for comparison: {go_type_name(arg1)} and {go_type_name(arg2)}"
        )
    if k1 in (_BOOL_KIND, _COMPLEX_KIND):
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
    for c in canon(_eval_args(args)):
        if c in _JS_ESCAPES:
            out.append(_JS_ESCAPES[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04X}")
        elif c <= "\x7f" or is_bad_byte_char(c) or go_is_print(c):
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def _fn_urlquery(*args: Any) -> str:
    from urllib.parse import quote_plus

    return quote_plus(go_bytes(_eval_args(args)), safe="")


def _fn_print(*args: Any) -> str:
    return go_sprint(list(args))


def _fn_printf(format_: str, *args: Any) -> str:
    return go_sprintf(format_, list(args))


def _fn_println(*args: Any) -> str:
    return go_sprintln(list(args))


def _fn_call(callee: str, fn: Any, *_: Any) -> NoReturn:
    """funcs.go call: no value a Hoop template sees is a function, so it always fails."""
    if fn is INVALID or fn is NIL:
        raise func_error("call of nil")
    raise func_error(f"non-function {callee} of type {go_type_name(fn)}")


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
