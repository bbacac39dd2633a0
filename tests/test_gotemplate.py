"""Go's text/template as the emulator reproduces it: lexer, parser, executor, builtins, fmt.

The CASES table goes through the whole Hoop pipeline (render_runbook), because that is what
the kit runs; execution cases sit inside ``{{ if true }}`` so Hoop's top-level input rule does
not get in the way. Every expected value there was produced by Go's real text/template, and
tests/test_gotemplate_differential.py checks each of them against Go again.
"""

from __future__ import annotations

import re
import sys

import pytest
from template_cases import Case, Err, outcome

from hoophooks_dk.gotemplate import (
    GoMap,
    NotImplementedTemplateError,
    TemplateExecError,
    TemplateParseError,
    go_quote,
    go_sprintf,
    parse,
)
from hoophooks_dk.runbook_template import HOOP_FUNCS, TemplateError, render_runbook


def nested(body: str) -> bytes:
    """An execution case: Hoop only checks top-level actions."""
    return ("{{ if true }}" + body + "{{ end }}").encode()


def exec_err(column: int, context: str, message: str) -> Err:
    """Go's execution error for a nested case (line 1)."""
    return Err(f'template: :1:{column}: executing "" at <{context}>: {message}')


# --- lexer and parser: Go's messages and line numbers ----------------------------------------

PARSE_ERRORS = [
    Case("unclosed action", b"{{ .a", Err("template: :1: unclosed action")),
    Case(
        "unclosed action over lines",
        b"x\n{{ .a\n\n",
        Err("template: :4: unclosed action started at :2"),
    ),
    Case("unterminated string", b'{{ "a }}', Err("template: :1: unterminated quoted string")),
    Case("unterminated raw string", b"{{ `a", Err("template: :1: unterminated raw quoted string")),
    Case("unterminated char", b"{{ 'a }}", Err("template: :1: unterminated character constant")),
    Case("malformed char", b"{{ 'ab' }}", Err("template: :1: malformed character constant: 'ab'")),
    Case("bad number", b"{{ 1a }}", Err('template: :1: bad number syntax: "1a"')),
    Case(
        "integer overflow",
        b"{{ 99999999999999999999 }}",
        Err('template: :1: integer overflow: "99999999999999999999"'),
    ),
    Case("illegal number", b"{{ 0x }}", Err('template: :1: illegal number syntax: "0x"')),
    Case("number then number", b"{{ 1.2.3 }}", Err('template: :1: unexpected ".3" in operand')),
    Case("bad escape", b'{{ "\\q" }}', Err("template: :1: invalid syntax")),
    Case("unclosed comment", b"{{/* a", Err("template: :1: unclosed comment")),
    Case(
        "comment not closing the action",
        b"{{/* a */ }}",
        Err("template: :1: comment ends before closing delimiter"),
    ),
    Case(
        "invalid UTF-8 in an action",
        b"{{ \xff }}",
        Err("template: :1: unrecognized character in action: U+FFFD '\ufffd'"),
    ),
    Case(
        "invalid UTF-8 after a field",
        b"{{ .x\xff }}",
        Err("template: :1: bad character U+FFFD '\ufffd'"),
    ),
    Case(
        "bad character after a field", b"{{ .x- }}", Err("template: :1: bad character U+002D '-'")
    ),
    Case("punctuation", b"{{ @ }}", Err('template: :1: unexpected "@" in command')),
    Case("a third brace", b"{{{ .x }}", Err('template: :1: unexpected "{" in command')),
    Case("trim marker without space", b"{{-.x}}", Err('template: :1: bad number syntax: "-.x"')),
    Case("unknown function", b"{{ who }}", Err('template: :1: function "who" not defined')),
    Case("undefined variable", b"{{ $x }}", Err('template: :1: undefined variable "$x"')),
    Case("colon without equals", b"{{ $x : 1 }}", Err('template: :1: undefined variable "$x"')),
    Case(
        "variable out of scope",
        b"{{ with $x := 1 }}{{ end }}{{ $x }}",
        Err('template: :1: undefined variable "$x"'),
    ),
    Case("empty action", b"{{ }}", Err("template: :1: missing value for command")),
    Case("empty if", b"{{ if }}{{ end }}", Err("template: :1: missing value for if")),
    Case(
        "empty parentheses",
        b"{{ ( ) }}",
        Err("template: :1: missing value for parenthesized pipeline"),
    ),
    Case("unclosed parenthesis", b"{{ (.x }}", Err("template: :1: unclosed left paren")),
    Case(
        "field of a constant",
        b'{{ "a".b }}',
        Err('template: :1: unexpected . after term "\\"a\\""'),
    ),
    Case(
        "constant after a pipe",
        b'{{ .x | "a" }}',
        Err("template: :1: non executable command in pipeline stage 2"),
    ),
    Case(
        "two declarations",
        b"{{ $a, $b := 1 }}",
        Err("template: :1: too many declarations in command"),
    ),
    Case(
        "range over a constant list",
        b"{{ range $a, 1 }}{{ end }}",
        Err("template: :1: range can only initialize variables"),
    ),
    Case("unterminated if", b"{{ if true }}x", Err("template: :1: unexpected EOF")),
    Case("stray end", b"{{ end }}", Err("template: :1: unexpected {{end}}")),
    Case("stray else if", b"{{ else if true }}", Err("template: :1: unexpected {{else}}")),
    Case(
        "two elses",
        b"{{ range . }}{{ else }}{{ else }}{{ end }}",
        Err("template: :1: expected end; found {{else}}"),
    ),
    Case(
        "else if in range",
        b"{{ range . }}{{ else if true }}{{ end }}{{ end }}",
        Err("template: :1: unexpected <if> in input"),
    ),
    Case(
        "break outside range",
        b"{{ if true }}{{ break }}{{ end }}",
        Err("template: :1: {{break}} outside {{range}}"),
    ),
    Case(
        "nested define",
        b'{{ if true }}{{ define "t" }}{{ end }}{{ end }}',
        Err("template: :1: unexpected <define> in command"),
    ),
    Case(
        "two definitions",
        b'{{ define "t" }}a{{ end }}{{ define "t" }}b{{ end }}',
        Err('template: :1: template: multiple definition of template "t"'),
    ),
    Case(
        "template name not a string",
        b"{{ template x }}",
        Err('template: :1: unexpected "x" in template clause'),
    ),
    Case(
        "error on a later line",
        b"{{ if true }}\n\n{{ .x }",
        Err('template: :3: unexpected "}" in operand'),
    ),
    Case(
        "line numbers count comment lines",
        b"line1\nline2 {{/* multi\nline\ncomment */}} {{ who }}",
        Err('template: :4: function "who" not defined'),
    ),
    Case(
        "error inside a define",
        b'{{ define "a" }}{{ .x }',
        Err('template: :1: unexpected "}" in operand'),
    ),
    Case("unclosed block", b'{{ block "b" . }}{{ end', Err("template: :1: unclosed action")),
]

# --- execution: values, builtins, fmt and positioned errors ----------------------------------

EXEC_CASES = [
    Case("missing key", nested("{{ .missing }}"), b"<no value>"),
    Case("field of a missing key", nested("{{ .missing.deeper }}"), b"<no value>"),
    Case("assignment", nested('{{ $x := "a" }}{{ $x = "b" }}{{ $x }}'), b"b"),
    Case("with", nested('{{ with "w" }}{{ . }}{{ else }}no{{ end }}'), b"w"),
    Case("with else", nested('{{ with "" }}{{ . }}{{ else }}no{{ end }}'), b"no"),
    Case(
        "else if chain",
        nested('{{ if false }}a{{ else if 0 }}b{{ else if "" }}c{{ else }}d{{ end }}'),
        b"d",
    ),
    Case("block", nested('{{ block "b" "x" }}[{{ . }}]{{ end }}'), b"[x]"),
    Case(
        "undefined template",
        nested('{{ template "nope" }}'),
        exec_err(25, '{{template "nope"}}', 'template "nope" not defined'),
    ),
    Case(
        "error inside a define names it",
        b'{{ define "t" }}{{ len 1 }}{{ end }}{{ if true }}{{ template "t" }}{{ end }}',
        Err('template: :1:19: executing "t" at <len 1>: error calling len: len of type int'),
    ),
    Case(
        "range over inputs", nested("{{ range $i, $e := . }}{{ $i }}{{ end }}"), b"k", {"k": "val"}
    ),
    Case(
        "break and continue",
        nested(
            '{{ range $k, $v := . }}{{ if eq $k "b" }}{{ continue }}{{ end }}{{ if eq $k "d" }}{{ break }}{{ end }}{{ $k }}{{ end }}'
        ),
        b"ac",
        {"a": "", "b": "", "c": "", "d": "", "e": ""},
    ),
    Case(
        "print spacing", nested('{{ print 1 2 "a" "b" 3 true nil 1.5 }}'), b"1 2ab3 true <nil> 1.5"
    ),
    Case("println", nested('{{ println 1 "a" }}'), b"1 a\n"),
    Case(
        "float formatting",
        nested("{{ print 1e6 123456.0 0.0001 0.00001 1e21 -0.0 100000.5 }}"),
        b"1e+06 123456 0.0001 1e-05 1e+21 -0 100000.5",
    ),
    Case(
        "number literals",
        nested("{{ print 0x10 -0x1E 0b101 0o17 1_000 'a' }}"),
        b"16 -30 5 15 1000 97",
    ),
    Case(
        "printf verbs",
        nested('{{ printf "%v|%s|%d|%q|%x|%X|%t|%T|%%" "s" "s" 42 "q\\n" "hi" 255 true 1.5 }}'),
        b's|s|42|"q\\n"|6869|FF|true|float64|%',
    ),
    Case(
        "printf widths",
        nested('{{ printf "%5s|%-5s|%05d|%-6d|%.2s|%3d" "ab" "ab" -42 7 "héllo" 12345 }}'),
        "   ab|ab   |-0042|7     |hé|12345".encode(),
    ),
    Case(
        "printf mismatched verbs",
        nested('{{ printf "%d %s" "str" 1 }}'),
        b"%!d(string=str) %!s(int=1)",
    ),
    Case("printf missing argument", nested('{{ printf "%s" }}'), b"%!s(MISSING)"),
    Case("printf extra argument", nested('{{ printf "%s" 1 2 }}'), b"%!s(int=1)%!(EXTRA int=2)"),
    Case(
        "printf piped argument comes last",
        nested('{{ "a" | printf "%s" 1 }}'),
        b"%!s(int=1)%!(EXTRA string=a)",
    ),
    Case("printf trailing percent", nested('{{ printf "100%" }}'), b"100%!(NOVERB)"),
    Case("printf %q of a number", nested('{{ printf "%q" 65 }}'), b"'A'"),
    Case("printf %T with a precision", nested('{{ printf "%.2T|%.2T" nil 1.5 }}'), b"<nil>|fl"),
    Case("printf %x of a string is its bytes", nested('{{ printf "%x" "é" }}'), b"c3a9"),
    Case("printf of a missing key", nested('{{ printf "%s" .missing }}'), b"%!s(<nil>)"),
    Case(
        "printf %d of the data",
        nested('{{ printf "%d" . }}'),
        b"map[%!d(string=k):%!d(string=val)]",
        {"k": "val"},
    ),
    Case("print the data", nested("{{ print . }}"), b"map[k:val]", {"k": "val"}),
    Case("len counts bytes", nested('{{ len "é" }} {{ len . }}'), b"2 1", {"k": "val"}),
    Case("index", nested('{{ index "abc" 1 }} {{ index . "k" }}|'), b"98 val|", {"k": "val"}),
    Case("index of a missing key is empty", nested('{{ index . "nope" }}|'), b"|"),
    Case("slice cuts bytes", nested('{{ slice "héllo" 1 3 | printf "%q" }}'), '"é"'.encode()),
    Case(
        "comparisons",
        nested(
            '{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le "b" "a" }} {{ gt 2.5 1.5 }} {{ ge 1 1 }}'
        ),
        b"true true true true false true true",
    ),
    Case("byte equals int", nested('{{ eq (index "a" 0) 97 }}'), b"true"),
    Case(
        "and or not",
        nested(
            '{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" "x" (len 3) }} {{ or 0 "" }} {{ not "" }} {{ not 1 }}'
        ),
        b"0 2 x  true false",
    ),
    Case("and with nil", nested("{{ and nil 1 }}"), b"<no value>"),
    Case(
        "html",
        nested("{{ html \"<a href='x'>&\\x00</a>\" }}"),
        "&lt;a href=&#39;x&#39;&gt;&amp;\ufffd&lt;/a&gt;".encode(),
    ),
    Case("html of several values", nested('{{ html 1 nil "x" }}'), b"1&lt;no value&gt;x"),
    Case(
        "js",
        nested('{{ js "a\'b\\"c<d>&=\\u00a0\\n" }}'),
        b"a\\'b\\\"c\\u003Cd\\u003E\\u0026\\u003D\\u00A0\\u000A",
    ),
    Case("urlquery", nested('{{ urlquery "a b&c=d/é~" }}'), b"a+b%26c%3Dd%2F%C3%A9~"),
    Case(
        "slice out of order",
        nested('{{ slice "abc" 2 1 }}'),
        exec_err(16, 'slice "abc" 2 1', "error calling slice: invalid slice index: 2 > 1"),
    ),
    Case(
        "index out of range",
        nested('{{ index "abc" 5 }}'),
        exec_err(16, 'index "abc" 5', "error calling index: index out of range: 5"),
    ),
    Case(
        "index of nil",
        nested("{{ index nil 1 }}"),
        exec_err(16, "index nil 1", "error calling index: index of untyped nil"),
    ),
    Case(
        "index the data with a number",
        nested("{{ index . 1 }}"),
        exec_err(16, "index . 1", "error calling index: value has type int; should be string"),
    ),
    Case(
        "incompatible comparison",
        nested('{{ eq 1 "a" }}'),
        exec_err(
            16, 'eq 1 "a"', "error calling eq: incompatible types for comparison: int and string"
        ),
    ),
    Case(
        "ordering booleans",
        nested("{{ lt true false }}"),
        exec_err(16, "lt true false", "error calling lt: invalid type for comparison"),
    ),
    Case(
        "len of a number",
        nested("{{ len 3 }}"),
        exec_err(16, "len 3", "error calling len: len of type int"),
    ),
    Case(
        "len of nil",
        nested("{{ len nil }}"),
        exec_err(
            16, "len nil", "error calling len: reflect: call of reflect.Value.Type on zero Value"
        ),
    ),
    Case(
        "string expected",
        nested('{{ default 1 "x" }}'),
        exec_err(24, "1", "expected string; found 1"),
    ),
    Case(
        "wrong number of args",
        nested('{{ default "a" }}'),
        exec_err(16, "default", "wrong number of args for default: want 2 got 1"),
    ),
    Case(
        "wrong type",
        nested("{{ squote . }}"),
        exec_err(23, ".", "wrong type for value; expected string; got map[string]string"),
    ),
    Case(
        "nil for a string",
        nested("{{ squote nil }}"),
        exec_err(23, "nil", "cannot assign nil to string"),
    ),
    Case(
        "missing key for a string",
        nested("{{ squote .missing }}"),
        exec_err(23, ".missing", "invalid value; expected string"),
    ),
    Case("nil command", nested("{{ nil }}"), exec_err(16, "nil", "nil is not a command")),
    Case(
        "argument to a constant",
        nested('{{ "a" 1 }}'),
        exec_err(16, '"a"', 'can\'t give argument to non-function "a"'),
    ),
    Case(
        "range over a boolean",
        nested("{{ range true }}{{ end }}"),
        exec_err(22, "true", "range can't iterate over true"),
    ),
    Case(
        "number too large for int",
        nested("{{ 18446744073709551615 }}"),
        exec_err(16, "18446744073709551615", "18446744073709551615 overflows int"),
    ),
    Case(
        "columns count bytes",
        "é{{ if true }}{{ len 1 }}{{ end }}".encode(),
        Err('template: :1:18: executing "" at <len 1>: error calling len: len of type int'),
    ),
    Case(
        "columns after CRLF",
        b'{{ .k | default "v" }}\r\n{{ if true }}{{ template "nope" }}{{ end }}',
        Err('template: :2:25: executing "" at <{{template "nope"}}>: template "nope" not defined'),
    ),
]

CASES = PARSE_ERRORS + EXEC_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_matches_go(case: Case) -> None:
    assert outcome(case.source, case.inputs) == case.expected


# --- the engine on its own, without Hoop's rules ----------------------------------------------


def test_parse_and_execute_with_data() -> None:
    template = parse('{{ .greeting }}, {{ .name | printf "%q" }}!')
    assert template.execute(GoMap({"greeting": "hi", "name": "ana"})) == 'hi, "ana"!'


def test_parse_errors_are_go_errors() -> None:
    with pytest.raises(TemplateParseError, match=r'^template: :1: function "nope" not defined$'):
        parse("{{ nope }}")


def test_exec_errors_are_go_errors() -> None:
    # As in Go, the column of a field chain is the column of its last link.
    with pytest.raises(TemplateExecError) as caught:
        parse("{{ .x.y }}").execute(GoMap({"x": "s"}))
    assert str(caught.value) == (
        'template: :1:5: executing "" at <.x.y>: can\'t evaluate field y in type string'
    )


def test_node_strings_are_what_hoop_reads() -> None:
    source = '{{   .x   |  default   "a"  |printf "%s-%d" (len "ab") }}{{ $v := .y }}'
    root = parse(source, HOOP_FUNCS).root
    assert [node.go_string() for node in root.nodes] == [
        '{{.x | default "a" | printf "%s-%d" (len "ab")}}',
        "{{$v := .y}}",
    ]


def test_executing_with_no_data_is_executing_with_nil() -> None:
    assert parse("{{ .x }}|{{ $ }}|{{ . }}").execute(None) == "<no value>|<no value>|<no value>"


def test_a_define_of_the_root_name_replaces_an_empty_root() -> None:
    assert parse('  {{ define "" }}body{{ end }}  ').execute(None) == "body"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('q"\\', '"q\\"\\\\"'),
        ("\n\t\x00\x7f", '"\\n\\t\\x00\\x7f"'),
        ("é ✓", '"é ✓"'),
        ("\xa0\u2028", '"\\u00a0\\u2028"'),
        (b"\xff".decode("utf-8", "surrogateescape"), '"\\xff"'),
    ],
)
def test_go_quote_is_strconv_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("format_", "args", "expected"),
    [
        ("%s and %v", ["a", 1], "a and 1"),
        ("%d%%", [5], "5%"),
        ("100% sure", [], "100%!s(MISSING)ure"),
        ("%w", [], "%!w(MISSING)"),
        ("%-3d|%3s", [1, "é"], "1  |  é"),
        ("end %", [], "end %!(NOVERB)"),
    ],
)
def test_go_sprintf(format_: str, args: list, expected: str) -> None:
    assert go_sprintf(format_, args) == expected


# --- what the emulator refuses rather than guesses --------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        nested('{{ printf "%p" . }}'),  # a map's address
    ],
    ids=lambda source: source.decode(),
)
def test_constructs_it_does_not_reproduce_are_refused(source: bytes) -> None:
    with pytest.raises(NotImplementedTemplateError, match="not implemented"):
        render_runbook(source)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (nested("{{ print 1i }}|{{ 1.5-2i }}|{{ 3+0i }}"), b"(0+1i)|(1.5-2i)|(3+0i)"),
        (nested("{{ range 3 }}[{{ . }}]{{ end }}"), b"[0][1][2]"),
        (nested("{{ range 0 }}x{{ else }}none{{ end }}"), b"none"),
        (nested('{{ js "`" }}'), b"`"),
        (
            nested('{{ printf "%+d|% d|%#x|%o|%b|%c|%U" 1 2 255 8 5 65 9731 }}'),
            b"+1| 2|0xff|10|101|A|U+2603",
        ),
        (
            nested('{{ printf "%e|%.2f|%g|%8.3g|%-6.1f|" 1.5 3.14159 1e21 2.5 -1.25 }}'),
            b"1.500000e+00|3.14|1e+21|     2.5|-1.2  |",
        ),
        (nested('{{ printf "%05s|%[3]d%[2]d|%*d" "a" 2 3 4 }}'), b"0000a|32|  4"),
        (nested('{{ with "" }}a{{ else with "b" }}[{{ . }}]{{ end }}'), b"[b]"),
    ],
    ids=lambda v: v.decode() if isinstance(v, bytes) else v,
)
def test_constructs_once_refused_now_render(source: bytes, expected: bytes) -> None:
    assert render_runbook(source) == expected


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (nested('{{ range "abc" }}x{{ end }}'), "range can't iterate over abc"),
        (nested("{{ range $i, $e := 3 }}{{ end }}"), "can't use 3 to iterate over more than one"),
        (nested('{{ call "f" }}'), 'error calling call: non-function "f" of type string'),
        (nested("{{ call .nope }}"), "error calling call: call of nil"),
        (nested('{{ index "abc" 3 }}'), "error calling index: reflect: string index out of range"),
    ],
    ids=lambda v: v.decode() if isinstance(v, bytes) else v,
)
def test_constructs_once_refused_now_fail_as_in_go(source: bytes, error: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(error)):
        render_runbook(source)


def test_endless_template_recursion_stops_at_gos_depth_limit() -> None:
    source = (
        b'{{ define "r" }}{{ template "r" . }}{{ end }}{{ if true }}{{ template "r" }}{{ end }}'
    )
    with pytest.raises(TemplateError, match=r"exceeded maximum template depth \(100000\)$"):
        render_runbook(source)
    assert sys.getrecursionlimit() < 1_500_000  # raised only while the template runs


def test_parentheses_nest_up_to_gos_limit() -> None:
    deepest = nested("{{ " + "(" * 10_000 + "1" + ")" * 10_000 + " }}")
    assert render_runbook(deepest) == b"1"
    too_deep = nested("{{ " + "(" * 10_001 + "1" + ")" * 10_001 + " }}")
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        render_runbook(too_deep)
