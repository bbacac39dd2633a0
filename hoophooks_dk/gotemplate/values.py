"""The Go values a Hoop template sees, and reflect's view of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hoophooks_dk.gotemplate.errors import NotImplementedTemplateError
from hoophooks_dk.gotemplate.strconv import go_bytes

# ---------------------------------------------------------------------------------------------
# Values. Go values are: str (string), bool, int, Byte (uint8), float (float64),
# GoMap (map[string]string), plus three markers that have no Python equivalent.
# ---------------------------------------------------------------------------------------------


class Byte(int):
    """A Go ``uint8``: what ``index`` returns for a string."""


class GoMap:
    """A Go ``map[string]string``: the data Hoop executes templates with."""

    __slots__ = ("items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self.items = dict(items)

    def sorted_items(self) -> list[tuple[str, str]]:
        return sorted(self.items.items(), key=lambda kv: go_bytes(kv[0]))


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


def truth(v: Any) -> bool:
    """text/template's isTrue: the empty value of each kind is false."""
    if v is INVALID or v is NIL:
        return False
    if isinstance(v, GoMap):
        return bool(v.items)
    return bool(v)


def go_type_name(v: Any) -> str:
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Byte):
        return "uint8"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, complex):
        return "complex128"
    if isinstance(v, GoMap):
        return "map[string]string"
    raise NotImplementedTemplateError(f"a value of Python type {type(v).__name__}")
