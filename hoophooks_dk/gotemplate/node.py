"""The parse tree: Go's ``text/template/parse/node.go``."""

from __future__ import annotations

from hoophooks_dk.gotemplate.lex import T
from hoophooks_dk.gotemplate.strconv import (
    StrconvSyntaxError,
    go_quote,
    go_trim_space,
    parse_float,
    parse_float_syntax_ok,
    parse_int,
    parse_uint,
    unquote_char,
)

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
            head = ", ".join(v.go_string() for v in self.decl)
            head += " = " if self.is_assign else " := "
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
    __slots__ = ("text", "is_int", "is_uint", "is_float", "is_complex")
    __slots__ += ("int64", "float64", "complex128")

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int64 = 0
        self.float64 = 0.0
        self.complex128 = 0j

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


def is_empty_tree(node: Node | None) -> bool:
    """parse.IsEmptyTree: nothing but white space."""
    if node is None:
        return True
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return go_trim_space(node.text) == ""
    return False


def new_number(pos: int, text: str, typ: int) -> NumberNode:
    """parse.newNumber; raises NumberError with Go's message."""
    n = NumberNode(pos, text)
    if typ == T.CHAR_CONSTANT:
        try:
            rune, _, end = unquote_char(text, 1, text[0])
        except StrconvSyntaxError:
            raise NumberError("invalid syntax") from None
        if text[end:] != "'":
            raise NumberError(f"malformed character constant: {text}")
        n.is_int = n.is_uint = n.is_float = True
        n.int64, n.float64 = rune, float(rune)
        return n
    if typ == T.COMPLEX:
        _set_complex(n, _sscan_complex(text))  # Go lets fmt.Sscan read the pair
        return n
    if text.endswith("i"):
        imaginary = parse_float(text[:-1])
        if imaginary is not None:
            _set_complex(n, complex(0, imaginary))
            return n
    set_number_value(n, text)
    return n


def _sscan_complex(text: str) -> complex:
    """fmt.Sscan(text, &complex128) on the lexer's ``1+2i``; NumberError with Go's error."""
    real, i = _float_token(text, 0)
    if i >= len(text) or text[i] not in "+-":
        raise NumberError("syntax error scanning complex number")
    imaginary, j = _float_token(text, i + 1)
    if j >= len(text) or text[j] != "i":
        raise NumberError("syntax error scanning complex number")
    return complex(_convert_float(real), _convert_float(text[i] + imaginary))


def _float_token(s: str, i: int) -> tuple[str, int]:
    """scan.go floatToken: the longest float-looking prefix of ``s[i:]`` (sign, 0x, _, p)."""
    start = i

    def accept(chars: str) -> bool:
        nonlocal i
        if i < len(s) and s[i] in chars:
            i += 1
            return True
        return False

    accept("+-")
    digits, exponent = "0123456789_", "eEpP"
    if accept("0") and accept("xX"):
        digits, exponent = "0123456789aAbBcCdDeEfF_", "pP"
    while accept(digits):
        pass
    if accept("."):
        while accept(digits):
            pass
    if accept(exponent):
        accept("+-")
        while accept("0123456789_"):
            pass
    return s[start:i], i


def _convert_float(token: str) -> float:
    """convertFloat: strconv.ParseFloat, its error text as Sscan reports it."""
    value = parse_float(token)
    if value is None:
        reason = "value out of range" if parse_float_syntax_ok(token) else "invalid syntax"
        raise NumberError(f"strconv.ParseFloat: parsing {go_quote(token)}: {reason}")
    return value


def _set_complex(n: NumberNode, value: complex) -> None:
    """The constant is complex; simplifyComplex: with no imaginary part it is a number too."""
    n.is_complex, n.complex128 = True, value
    n.is_float = value.imag == 0
    if n.is_float:
        n.float64 = value.real
        whole = value.real.is_integer()
        n.is_int = whole and -(2**63) <= value.real < 2**63
        n.is_uint = whole and 0 <= value.real < 2**64
        if n.is_int:
            n.int64 = int(value.real)


def set_number_value(n: NumberNode, text: str) -> None:
    u = parse_uint(text)
    i = parse_int(text)
    n.is_uint = u is not None
    if i is not None:
        n.is_int, n.int64 = True, i
        n.is_uint = n.is_uint or i == 0
    if n.is_int:
        n.is_float, n.float64 = True, float(n.int64)
    elif n.is_uint:
        n.is_float, n.float64 = True, float(u)
    else:
        f = parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise NumberError(f"integer overflow: {go_quote(text)}")
            n.is_float, n.float64 = True, f
            if f.is_integer() and -(2**63) <= f < 2**63:
                n.is_int, n.int64 = True, int(f)
            if f.is_integer() and 0 <= f < 2**64:
                n.is_uint = True
    if not (n.is_int or n.is_uint or n.is_float):
        raise NumberError(f"illegal number syntax: {go_quote(text)}")


class NumberError(Exception):
    pass
