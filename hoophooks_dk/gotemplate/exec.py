"""The executor: Go's ``text/template/exec.go``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from hoophooks_dk.gotemplate.errors import (
    FuncError,
    TemplateExecError,
)
from hoophooks_dk.gotemplate.funcs import BUILTINS, GoFunc
from hoophooks_dk.gotemplate.node import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)
from hoophooks_dk.gotemplate.printf import format_v
from hoophooks_dk.gotemplate.strconv import go_quote
from hoophooks_dk.gotemplate.values import (
    ANY_T,
    INVALID,
    MISSING,
    NIL,
    STRING_T,
    VALUE_T,
    GoMap,
    go_type_name,
    truth,
)

if TYPE_CHECKING:
    from hoophooks_dk.gotemplate.template import Template

# ---------------------------------------------------------------------------------------------
# Executor (exec.go)
# ---------------------------------------------------------------------------------------------

MAX_EXEC_DEPTH = 100_000  # maxExecDepth: {{template}} calls nested this deep fail


def _value_string(v: Any) -> str:
    """reflect.Value.String: the string itself, else ``<T Value>``."""
    if isinstance(v, str):
        return v
    return "<invalid Value>" if v is INVALID else f"<{go_type_name(v)} Value>"


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
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
            raise TemplateExecError(f"template: {self.tmpl_name}: {message}", detail=message)
        location, context = self.template.error_context(self.node)
        line, column = self.template.position(self.node)
        raise TemplateExecError(
            f"template: {location}: executing {go_quote(self.tmpl_name)} at <{context}>: {message}",
            line=line,
            column=column,
            detail=message,
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
            if truth(value):
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
            if isinstance(value, int) and not isinstance(value, bool):
                if len(node.pipe.decl) > 1:
                    self.errorf(f"can't use {value} to iterate over more than one variable")
                if value > 0:  # Go 1.22: range over an integer counts from 0, in its type
                    body_mark = self.mark()
                    kind = type(value)
                    for i in range(value):
                        self.range_iteration(node, body_mark, INVALID, kind(i))
                    return
            elif value is not INVALID and not isinstance(value, GoMap):
                self.errorf(f"range can't iterate over {format_v(value)}")
            if node.else_list is not None:
                self.walk(dot, node.else_list)
        except _Break:
            pass
        finally:
            self.pop(mark)

    def range_iteration(self, node: RangeNode, mark: int, index: Any, elem: Any) -> None:
        decl, assign = node.pipe.decl, node.pipe.is_assign
        if decl:  # with two variables the index comes first; with one, the element
            if assign:
                self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
            else:
                self.set_top_var(1, elem)
        if len(decl) > 1:
            if assign:
                self.set_var(decl[1].ident[0], elem)
            else:
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
        if self.depth == MAX_EXEC_DEPTH:
            self.errorf(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        dot = self.eval_pipeline(dot, node.pipe)
        saved = (self.tmpl_name, self.vars, self.depth, self.node)
        self.tmpl_name, self.vars, self.depth = node.name, [["$", dot]], self.depth + 1
        try:
            self.walk(dot, tree.root)
        finally:
            self.tmpl_name, self.vars, self.depth, self.node = saved

    def print_value(self, node: Node, value: Any) -> None:
        self.at(node)
        self.out.append("<no value>" if value is INVALID else format_v(value))

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
        if constant.is_complex:
            return constant.complex128
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
        self.errorf(f"can't evaluate field {name} in type {go_type_name(receiver)}")

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
        if builtin and name == "call":  # exec.go inserts the callee's name as the first argument
            argv.insert(0, args[0].go_string() if args else _value_string(final))
        try:
            return fn.impl(*argv)
        except FuncError as err:
            self.at(node)
            self.errorf(f"error calling {name}: {err}")

    @staticmethod
    def param_type(fn: GoFunc, i: int) -> str:
        return fn.params[min(i, len(fn.params) - 1)]

    def eval_and_or(self, dot: Any, name: str, args: list[Node], final: Any) -> Any:
        value = INVALID
        for arg in args:
            value = self.eval_arg(dot, VALUE_T, arg)
            if truth(value) == (name == "or"):
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
            self.errorf(f"wrong type for value; expected {typ}; got {go_type_name(value)}")
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
