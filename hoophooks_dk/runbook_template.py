"""Hoop's runbook template dialect: Go's text/template plus Hoop's functions and input rules.

Why: Hoop does not run a hook file as written. It parses it as a runbook template and executes
it with no inputs (docs/hoop-runtime.md section 2), and only then hands the result to python3. This
module reproduces that step exactly, so ``render_runbook`` returns the bytes Hoop would run, or
raises :class:`TemplateError` whose text is exactly what Hoop would log.

What Hoop adds to Go's text/template (``common/runbooks/templates.go``, ``template_funcs.go``):

- its function map (``required``, ``default``, ``pattern``, ``options``, ``squote``, ...);
- a check on the *string form* of every top-level action: it must start with ``{{.name``
  (``^{{\\.[a-zA-Z0-9_]+``), else the file is refused with
  ``inconsistent findings, findings=0, val=[]``. Actions nested in if/range/with/define are not
  checked;
- a textual reading of each such action (split on ``" | "`` and spaces, quotes removed) that
  records the input's attributes. The *last* action naming an input wins;
- before executing, every recorded input that was not given must have a non-empty ``default``
  (it is then executed as ``""`` so ``default`` renders); the others are reported as
  ``the following inputs are missing [a b]``.

Hoop lists missing inputs in Go map order, which is random; this module lists them in the order
they first appear in the file.

``minlength``, ``maxlength`` and ``order`` are inferred from Hoop's tests (which read their
attributes) to be pass-through functions like ``placeholder``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from hoophooks_dk.errors import TemplateError
from hoophooks_dk.gotemplate import (
    STRING_T,
    ActionNode,
    GoFunc,
    GoMap,
    GoTemplateError,
    NotImplementedTemplateError,
    func_error,
    go_trim_space,
    parse,
)

__all__ = [
    "INPUT_TYPES",
    "NotImplementedTemplateError",
    "TemplateError",
    "render_runbook",
    "template_inputs",
]


# The input types Hoop accepts in ``type "..."``; anything else leaves the type "text".
INPUT_TYPES = (
    "text",
    "number",
    "tel",
    "time",
    "date",
    "url",
    "email",
    "select",
    "textarea",
    "password",
    "file",
)


# ---------------------------------------------------------------------------------------------
# Hoop's template functions (template_funcs.go)
# ---------------------------------------------------------------------------------------------


def _required(message: str, s: str) -> str:
    if s == "":
        raise func_error(message)  # errors.New(msg): a "%s" in it stays "%s"
    return s


def _default(default: str, s: str) -> str:
    return default if s == "" else s


def _pattern(pattern: str, s: str) -> str:
    from hoophooks_dk.gotemplate import regexp  # on first use: few hooks call pattern

    try:
        matched = regexp.match(pattern, s)
    except regexp.RegexpSyntaxError as err:
        raise func_error(f"regexp error: {err}") from None
    if matched:
        return s
    raise func_error(f"pattern didn't match:{pattern}")


def _second(_: str, s: str) -> str:
    return s


def _options(*values: str) -> str:
    return values[-1] if values else ""


def _encodeb64(s: str) -> str:
    return base64.b64encode(s.encode("utf-8", "surrogateescape")).decode("ascii")


def _decodeb64(s: str) -> str:
    decoded, error_at = _go_base64_decode(s.encode("utf-8", "surrogateescape"))
    if error_at is not None:
        raise func_error(f"illegal base64 data at input byte {error_at}")
    return decoded.decode("utf-8", "surrogateescape")


def _asenv(_name: str, _value: str) -> str:
    return ""  # Hoop records an environment variable and renders nothing


def _two(impl) -> GoFunc:
    return GoFunc((STRING_T, STRING_T), impl)


HOOP_FUNCS: dict[str, GoFunc] = {
    "required": _two(_required),
    "default": _two(_default),
    "pattern": _two(_pattern),
    "placeholder": _two(_second),
    "description": _two(_second),
    "type": _two(_second),
    "minlength": _two(_second),
    "maxlength": _two(_second),
    "order": _two(_second),
    "options": GoFunc((STRING_T,), _options, variadic=True),
    "squote": GoFunc((STRING_T,), lambda s: f"'{s}'"),
    "dquote": GoFunc((STRING_T,), lambda s: f'"{s}"'),
    "quotechar": _two(lambda c, s: f"{c}{s}{c}"),
    "encodeb64": GoFunc((STRING_T,), _encodeb64),
    "decodeb64": GoFunc((STRING_T,), _decodeb64),
    "asenv": _two(_asenv),
}


# ---------------------------------------------------------------------------------------------
# Go's base64.StdEncoding.DecodeString, for its exact error offsets
# ---------------------------------------------------------------------------------------------

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64_ALPHABET)}
_NEWLINES = (ord("\n"), ord("\r"))


def _go_base64_decode(src: bytes) -> tuple[bytes, int | None]:
    """Decode like Go (newlines skipped, padding required): (bytes, offset of first error)."""
    out = bytearray()
    si = 0
    while si < len(src):
        si, chunk, error_at = _decode_quantum(src, si)
        out += chunk
        if error_at is not None:
            return bytes(out), error_at
    return bytes(out), None


def _decode_quantum(src: bytes, si: int) -> tuple[int, bytes, int | None]:
    """One 4-character quantum of encoding/base64's decodeQuantum: (next index, bytes, error)."""
    values: list[int] = []
    while len(values) < 4:
        if si == len(src):
            if not values:
                return si, b"", None
            return si, b"", si - len(values)  # input ends inside a quantum: no padding
        c = src[si]
        si += 1
        if c in _B64_VALUE:
            values.append(_B64_VALUE[c])
        elif c not in _NEWLINES:
            if c != ord("=") or len(values) < 2:
                return si, b"", si - 1
            si, error_at = _check_padding(src, si, len(values))
            return si, _quantum_bytes(values), error_at
    return si, _quantum_bytes(values), None


def _check_padding(src: bytes, si: int, have: int) -> tuple[int, int | None]:
    """After the first '=' of a quantum holding ``have`` characters: Go's padding rules."""
    if have == 2:  # a second '=' must follow, newlines aside
        while si < len(src) and src[si] in _NEWLINES:
            si += 1
        if si == len(src):
            return si, len(src)
        if src[si] != ord("="):
            return si, si - 1
        si += 1
    while si < len(src) and src[si] in _NEWLINES:
        si += 1
    return si, (si if si < len(src) else None)  # nothing may follow the padding


def _quantum_bytes(values: list[int]) -> bytes:
    padded = values + [0] * (4 - len(values))
    number = (padded[0] << 18) | (padded[1] << 12) | (padded[2] << 6) | padded[3]
    return number.to_bytes(3, "big")[: len(values) - 1]


# ---------------------------------------------------------------------------------------------
# Hoop's reading of the parsed template (templates.go)
# ---------------------------------------------------------------------------------------------

_INPUT_KEY_RE = re.compile(r"^\{\{\.[a-zA-Z0-9_]+")


def _read_inputs(root) -> dict[str, dict[str, Any]]:
    """parseSpecFromTemplate: every top-level action must name an input; read its attributes."""
    inputs: dict[str, dict[str, Any]] = {}
    for node in root.nodes:
        if not isinstance(node, ActionNode):
            continue
        text = node.go_string()
        match = _INPUT_KEY_RE.match(text)
        if match is None:
            raise TemplateError(
                "inconsistent findings, findings=0, val=[]", "inputs", line=node.line
            )
        key = go_trim_space(match.group())[3:]
        inputs[key] = _read_attributes(text)
    return inputs


def _read_attributes(action: str) -> dict[str, Any]:
    """parseNode: Hoop's textual reading of ``{{.x | fn "arg" | ...}}``."""
    specs: dict[str, Any] = {"type": "text", "required": False, "description": ""}
    for section in action[2:-2].split(" | "):
        name, _, rest = section.partition(" ")
        value = go_trim_space(rest).replace('"', "") if " " in section else ""
        if name == "type":
            if value in INPUT_TYPES:
                specs["type"] = value
        elif name == "required":
            specs["required"] = True
        elif name in ("description", "default", "placeholder", "minlength", "maxlength", "asenv"):
            specs[name] = value
        elif name == "options":
            specs["options"] = value.split(" ")
        elif name == "order" and re.fullmatch(r"[+-]?[0-9]+", value):
            number = int(value)
            if -(2**63) <= number < 2**63:
                specs["order"] = number
    return specs


def _parse_runbook(text: str):
    try:
        template = parse(text, HOOP_FUNCS)
    except GoTemplateError as err:
        raise TemplateError(str(err), "parse", **err.fields()) from err
    return template, _read_inputs(template.root)


def _exec_inputs(attributes: Mapping[str, Mapping], given: Mapping[str, str]) -> dict[str, str]:
    """Hoop's Execute prologue: fill defaulted inputs with "", report the truly missing ones."""
    values = dict(given)
    missing = []
    for key, meta in attributes.items():
        if key in values:
            continue
        if meta.get("default", "") != "":
            values[key] = ""
        else:
            missing.append(key)
    if missing:
        message = f"the following inputs are missing [{' '.join(missing)}]"
        raise TemplateError(message, "missing", missing=tuple(missing))
    return values


def _decode(source: bytes) -> str:
    return bytes(source).decode("utf-8", "surrogateescape")


def template_inputs(source: bytes) -> dict[str, dict]:
    """The inputs a runbook file declares, with the attributes Hoop reads for each.

    Raises TemplateError if Hoop would refuse the file before rendering it.
    """
    if b"{{" not in source:
        return {}
    return _parse_runbook(_decode(source))[1]


def render_runbook(source: bytes, inputs: Mapping[str, str] | None = None) -> bytes:
    """The exact bytes Hoop would run for this runbook file, or TemplateError with Hoop's text.

    Hooks are rendered with no inputs (``inputs=None``). Bytes that are not UTF-8, NUL bytes
    and CRLF line ends pass through unchanged, as they do in Go.
    """
    if b"{{" not in source:
        return bytes(source)  # Go would produce one text node: the input itself
    template, attributes = _parse_runbook(_decode(source))
    values = _exec_inputs(attributes, {k: _decode(_encode(v)) for k, v in (inputs or {}).items()})
    try:
        rendered = template.execute(GoMap(values))
    except GoTemplateError as err:
        raise TemplateError(str(err), "exec", **err.fields()) from err
    return rendered.encode("utf-8", "surrogateescape")


def _encode(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
