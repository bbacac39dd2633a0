"""The parser: Go's ``text/template/parse/parse.go``."""

from __future__ import annotations

from typing import NoReturn

from hoophooks_dk.gotemplate.errors import TemplateParseError
from hoophooks_dk.gotemplate.lex import Item, Lexer, T
from hoophooks_dk.gotemplate.node import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberError,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
    is_empty_tree,
    new_number,
)
from hoophooks_dk.gotemplate.strconv import StrconvSyntaxError, go_quote, unquote

# ---------------------------------------------------------------------------------------------
# Parser (parse/parse.go)
# ---------------------------------------------------------------------------------------------

_OPERAND_STARTS = frozenset(
    (
        T.BOOL,
        T.CHAR_CONSTANT,
        T.COMPLEX,
        T.DOT,
        T.FIELD,
        T.IDENTIFIER,
        T.NUMBER,
        T.NIL,
        T.RAW_STRING,
        T.STRING,
        T.VARIABLE,
        T.LEFT_PAREN,
    )
)
_NON_EXECUTABLE = (BoolNode, DotNode, NilNode, NumberNode, StringNode)
MAX_STACK_DEPTH = 10_000  # maxStackDepth: parenthesized pipelines nested this deep fail


class Tree:
    """One template being parsed: Go's ``parse.Tree``, with its three-token look-ahead."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.parse_name = ""
        self.text = text
        self.root: ListNode | None = None
        self.funcs: frozenset[str] = frozenset()
        self.lex: Lexer | None = None
        self.token: list[Item] = [Item(T.ERROR, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = []
        self.tree_set: dict[str, Tree] = {}
        self.action_line = 0
        self.range_depth = 0

    # -- token stream -----------------------------------------------------------------------

    def _next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_item()
        return self.token[self.peek_count]

    def _backup(self) -> None:
        self.peek_count += 1

    def _backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def _backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def _peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_item()
        return self.token[0]

    def _next_non_space(self) -> Item:
        while True:
            token = self._next()
            if token.typ != T.SPACE:
                return token

    def _peek_non_space(self) -> Item:
        token = self._next_non_space()
        self._backup()
        return token

    # -- errors -----------------------------------------------------------------------------

    def _errorf(self, message: str) -> NoReturn:
        self.root = None
        line = self.token[0].line
        raise TemplateParseError(
            f"template: {self.parse_name}:{line}: {message}", line=line, detail=message
        )

    def _expect(self, expected: int, context: str) -> Item:
        token = self._next_non_space()
        if token.typ != expected:
            self._unexpected(token, context)
        return token

    def _expect_one_of(self, expected1: int, expected2: int, context: str) -> Item:
        token = self._next_non_space()
        if token.typ not in (expected1, expected2):
            self._unexpected(token, context)
        return token

    def _unexpected(self, token: Item, context: str) -> NoReturn:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]  # avoid "action in action"
            self._errorf(f"{token}{extra}")
        self._errorf(f"unexpected {token} in {context}")

    # -- structure --------------------------------------------------------------------------

    def _start_parse(self, funcs: frozenset[str], lex: Lexer, tree_set: dict) -> None:
        self.root = None
        self.stack_depth = 0
        self.lex = lex
        self.vars = ["$"]
        self.funcs = funcs
        self.tree_set = tree_set

    def parse_top(self, funcs: frozenset[str], tree_set: dict) -> None:
        """Tree.Parse: parse the whole text, adding every template to ``tree_set``."""
        self.parse_name = self.name
        self._start_parse(funcs, Lexer(self.text), tree_set)
        self._parse()
        self._add()

    def _sub_tree(self, name: str) -> Tree:
        tree = Tree(name, self.text)
        tree.parse_name = self.parse_name
        tree._start_parse(self.funcs, self.lex, self.tree_set)
        return tree

    def _add(self) -> None:
        tree = self.tree_set.get(self.name)
        if tree is None or is_empty_tree(tree.root):
            self.tree_set[self.name] = self
            return
        if not is_empty_tree(self.root):
            self._errorf(f"template: multiple definition of template {go_quote(self.name)}")

    def _parse(self) -> None:
        self.root = ListNode(self._peek().pos)
        while self._peek().typ != T.EOF:
            if self._peek().typ == T.LEFT_DELIM:
                delim = self._next()
                if self._next_non_space().typ == T.DEFINE:
                    self._sub_tree("definition")._parse_definition()
                    continue
                self._backup2(delim)
            node = self._text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                self._errorf(f"unexpected {node.go_string()}")
            self.root.nodes.append(node)

    def _parse_definition(self) -> None:
        context = "define clause"
        name = self._expect_one_of(T.STRING, T.RAW_STRING, context)
        self.name = self._unquote(name.val)
        self._expect(T.RIGHT_DELIM, context)
        self.root, end = self._item_list()
        if not isinstance(end, EndNode):
            self._errorf(f"unexpected {end.go_string()} in {context}")
        self._add()

    def _unquote(self, quoted: str) -> str:
        try:
            return unquote(quoted)
        except StrconvSyntaxError:
            self._errorf("invalid syntax")

    def _item_list(self) -> tuple[ListNode, Node]:
        nodes = ListNode(self._peek_non_space().pos)
        while self._peek_non_space().typ != T.EOF:
            node = self._text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                return nodes, node
            nodes.nodes.append(node)
        self._errorf("unexpected EOF")

    def _text_or_action(self) -> Node:
        token = self._next_non_space()
        if token.typ == T.TEXT:
            return TextNode(token.pos, token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self._action()
            finally:
                self.action_line = 0
        self._unexpected(token, "input")

    def _action(self) -> Node:
        token = self._next_non_space()
        controls = {
            T.BLOCK: self._block_control,
            T.ELSE: self._else_control,
            T.END: self._end_control,
            T.IF: lambda: IfNode(*self._parse_control("if")),
            T.RANGE: lambda: RangeNode(*self._parse_control("range")),
            T.TEMPLATE: self._template_control,
            T.WITH: lambda: WithNode(*self._parse_control("with")),
        }
        if token.typ in controls:
            return controls[token.typ]()
        if token.typ in (T.BREAK, T.CONTINUE):
            return self._break_control(token)
        self._backup()
        token = self._peek()
        return ActionNode(token.pos, token.line, self._pipeline("command", T.RIGHT_DELIM))

    def _break_control(self, keyword: Item) -> Node:
        name = "{{" + keyword.val + "}}"
        token = self._next_non_space()
        if token.typ != T.RIGHT_DELIM:
            self._unexpected(token, name)
        if self.range_depth == 0:
            self._errorf(f"{name} outside {{{{range}}}}")
        node_class = BreakNode if keyword.typ == T.BREAK else ContinueNode
        return node_class(keyword.pos, keyword.line)

    # -- pipelines --------------------------------------------------------------------------

    def _pipeline(self, context: str, end: int) -> PipeNode:
        token = self._peek_non_space()
        pipe = PipeNode(token.pos, token.line)
        self._declarations(pipe, context)
        while True:
            token = self._next_non_space()
            if token.typ == end:
                self._check_pipeline(pipe, context)
                return pipe
            if token.typ not in _OPERAND_STARTS:
                self._unexpected(token, context)
            self._backup()
            pipe.cmds.append(self._command())

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        """The optional ``$x :=`` / ``$x =`` / ``$i, $x :=`` that opens a pipeline."""
        while True:
            v = self._peek_non_space()
            if v.typ != T.VARIABLE:
                return
            self._next()
            # "$x foo" needs three tokens of look-ahead to see it is not a declaration.
            token_after_variable = self._peek()
            nxt = self._peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ == T.ASSIGN
                self._next_non_space()
                self._declare(pipe, v)
            elif nxt.typ == T.CHAR and nxt.val == ",":
                self._next_non_space()
                self._declare(pipe, v)
                if context == "range" and len(pipe.decl) < 2:
                    if self._peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue  # second initialized variable in a range pipeline
                    self._errorf("range can only initialize variables")
                self._errorf(f"too many declarations in {context}")
            elif token_after_variable.typ == T.SPACE:
                self._backup3(v, token_after_variable)
            else:
                self._backup2(v)
            return

    def _declare(self, pipe: PipeNode, v: Item) -> None:
        pipe.decl.append(VariableNode(v.pos, v.val))
        self.vars.append(v.val)

    def _check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self._errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], _NON_EXECUTABLE):
                self._errorf(f"non executable command in pipeline stage {i + 2}")

    def _parse_control(self, context: str) -> tuple:
        mark = len(self.vars)
        try:
            pipe = self._pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self._item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                else_list = self._else_branch(context, nxt)
            return pipe.pos, pipe.line, pipe, body, else_list
        finally:
            del self.vars[mark:]

    def _else_branch(self, context: str, else_node: ElseNode) -> ListNode:
        chained = {"if": (T.IF, IfNode), "with": (T.WITH, WithNode)}.get(context)
        if chained and self._peek().typ == chained[0]:
            # {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}};
            # {{else with}} likewise (Go 1.23).
            self._next()
            else_list = ListNode(else_node.pos)
            else_list.nodes.append(chained[1](*self._parse_control(context)))
            return else_list
        else_list, nxt = self._item_list()
        if not isinstance(nxt, EndNode):
            self._errorf(f"expected end; found {nxt.go_string()}")
        return else_list

    def _end_control(self) -> Node:
        return EndNode(self._expect(T.RIGHT_DELIM, "end").pos)

    def _else_control(self) -> Node:
        peek = self._peek_non_space()
        if peek.typ in (T.IF, T.WITH):  # {{else if ...}} and {{else with ...}}
            return ElseNode(peek.pos, peek.line)
        token = self._expect(T.RIGHT_DELIM, "else")
        return ElseNode(token.pos, token.line)

    def _block_control(self) -> Node:
        context = "block clause"
        token = self._next_non_space()
        name = self._template_name(token, context)
        pipe = self._pipeline(context, T.RIGHT_DELIM)
        block = self._sub_tree(name)
        block.root, end = block._item_list()
        if not isinstance(end, EndNode):
            self._errorf(f"unexpected {end.go_string()} in {context}")
        block._add()
        return TemplateNode(token.pos, token.line, name, pipe)

    def _template_control(self) -> Node:
        context = "template clause"
        token = self._next_non_space()
        name = self._template_name(token, context)
        pipe = None
        if self._next_non_space().typ != T.RIGHT_DELIM:
            self._backup()
            pipe = self._pipeline(context, T.RIGHT_DELIM)
        return TemplateNode(token.pos, token.line, name, pipe)

    def _template_name(self, token: Item, context: str) -> str:
        if token.typ not in (T.STRING, T.RAW_STRING):
            self._unexpected(token, context)
        return self._unquote(token.val)

    # -- commands and operands --------------------------------------------------------------

    def _command(self) -> CommandNode:
        cmd = CommandNode(self._peek_non_space().pos)
        while True:
            self._peek_non_space()  # skip leading spaces
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self._next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self._backup()
            elif token.typ != T.PIPE:
                self._unexpected(token, "operand")
            break
        if not cmd.args:
            self._errorf("empty command")
        return cmd

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None or self._peek().typ != T.FIELD:
            return node
        chain = ChainNode(self._peek().pos, node)
        while self._peek().typ == T.FIELD:
            chain.field.append(self._next().val[1:])
        if isinstance(node, FieldNode):
            return FieldNode(chain.pos, chain.go_string())
        if isinstance(node, VariableNode):
            return VariableNode(chain.pos, chain.go_string())
        if isinstance(node, _NON_EXECUTABLE):
            self._errorf(f"unexpected . after term {go_quote(node.go_string())}")
        return chain

    def _term(self) -> Node | None:
        token = self._next_non_space()
        typ = token.typ
        if typ == T.IDENTIFIER:
            if token.val not in self.funcs:
                self._errorf(f"function {go_quote(token.val)} not defined")
            return IdentifierNode(token.pos, token.val)
        simple = {T.DOT: DotNode, T.NIL: NilNode}
        if typ in simple:
            return simple[typ](token.pos)
        if typ == T.VARIABLE:
            return self._use_var(token.pos, token.val)
        if typ == T.FIELD:
            return FieldNode(token.pos, token.val)
        if typ == T.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            try:
                return new_number(token.pos, token.val, typ)
            except NumberError as err:
                self._errorf(str(err))
        if typ == T.LEFT_PAREN:
            if self.stack_depth >= MAX_STACK_DEPTH:
                self._errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self._pipeline("parenthesized pipeline", T.RIGHT_PAREN)
            finally:
                self.stack_depth -= 1
        if typ in (T.STRING, T.RAW_STRING):
            return StringNode(token.pos, token.val, self._unquote(token.val))
        self._backup()
        return None

    def _use_var(self, pos: int, name: str) -> VariableNode:
        v = VariableNode(pos, name)
        if v.ident[0] not in self.vars:
            self._errorf(f"undefined variable {go_quote(v.ident[0])}")
        return v
