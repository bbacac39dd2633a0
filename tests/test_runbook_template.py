"""Hoop's runbook template dialect: Hoop's own unit tests, docs/hoop-runtime.md section 2, hook edge cases.

Every expected value in the CASES tables was produced by Go's real text/template with Hoop's
rules; tests/test_gotemplate_differential.py checks each of them against Go again. Where
Hoop lists several missing inputs it does so in random (Go map) order; the kit lists them in
order of first appearance, and the differential test compares them as sets.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from template_cases import Case, Err, outcome

from hoophooks_dk.errors import HookdkError
from hoophooks_dk.gotemplate import parse
from hoophooks_dk.runbook_template import (
    HOOP_FUNCS,
    NotImplementedTemplateError,
    TemplateError,
    render_runbook,
    template_inputs,
)

# --- common/runbooks/templates_test.go: TestTemplateParse and TestTemplateParseHelperFuncs ---

HOOP_UNIT_TESTS = [
    Case(
        "simple template without inputs",
        b"SELECT id, firstname, lastname FROM customers WHERE id = 10",
        b"SELECT id, firstname, lastname FROM customers WHERE id = 10",
    ),
    Case(
        "multiple inputs without funcs",
        b"#!/usr/bin/env python3\n\t\t\tdata = {\n\t\t\t\t'amount': {{ .amount00 }},\n"
        b"\t\t\t\t'wallet_id': {{ .wallet_id }},\n\t\t\t\t'debug': {{ .DEBUG_me }}\n\t\t\t}",
        b"#!/usr/bin/env python3\n\t\t\tdata = {\n\t\t\t\t'amount': 10.4,\n"
        b"\t\t\t\t'wallet_id': 59842,\n\t\t\t\t'debug': True\n\t\t\t}",
        {
            "amount00": "10.4",
            "wallet_id": "59842",
            "DEBUG_me": "True",
            "additional_key_causes_noop": "foo",
        },
    ),
    Case(
        "syntax error",
        b"{{ .mynput }",
        Err('template: :1: unexpected "}" in operand'),
        {"mynput": "val"},
    ),
    Case(
        "missing input keys",
        b"SELECT id, firstname, lastname FROM customers WHERE id = {{ .id }}",
        Err("the following inputs are missing [id]"),
        {"input_id": ""},
    ),
    Case(
        "default when the input is empty",
        b'name = {{ .name | default "Tony Stark" }}',
        b"name = Tony Stark",
        {"name": ""},
    ),
    Case(
        "options passes the input",
        b'plan = {{ .plan | default "pro" | options "basic" "pro" "enterprise" | type "select" }}',
        b"plan = basic",
        {"plan": "basic"},
    ),
    Case(
        "options receives the default",
        b'plan = {{ .plan | default "pro" | options "basic" "pro" "enterprise" | type "select" }}',
        b"plan = pro",
        {},
    ),
    Case(
        "default when the input is not given",
        b'name = {{ .name | default "Tony Stark" }}',
        b"name = Tony Stark",
        {},
    ),
    Case(
        "default after no-op functions",
        b'name = {{ .name | options "Peter Parker" | default "Tony Stark" }}',
        b"name = Tony Stark",
        {"name": ""},
    ),
    Case(
        "squote and dquote",
        b"firstname = {{ .firstname |squote }}, lastname = {{ .lastname |dquote }}",
        b"firstname = 'Tony', lastname = \"Stark\"",
        {"firstname": "Tony", "lastname": "Stark"},
    ),
    Case(
        "encodeb64 and decodeb64",
        b"urlenc = {{ .url | encodeb64 }}, urldec = {{ .url_enc | decodeb64 }}",
        b"urlenc = aHR0cHM6Ly9hcGkuZm9vLnRsZA==, urldec = https://api.foo.tld",
        {"url": "https://api.foo.tld", "url_enc": "aHR0cHM6Ly9hcGkuZm9vLnRsZA=="},
    ),
    Case(
        "pattern matches",
        b'wallet_id = {{ .wallet_id | pattern "^[0-9]+" }}',
        b"wallet_id = 1234567890",
        {"wallet_id": "1234567890"},
    ),
    Case(
        "options renders the input",
        b'type = {{ .type | options "house" "car" "boat" }}',
        b"type = car",
        {"type": "car"},
    ),
    Case(
        "pattern does not match",
        b'wallet_id = {{ .wallet_id | pattern "^[0-9]+" }}',
        Err(
            'template: :1:28: executing "" at <pattern "^[0-9]+">: '
            "error calling pattern: pattern didn't match:^[0-9]+"
        ),
        {"wallet_id": "abc1234567890"},
    ),
    Case(
        "required input given empty",
        b'SELECT id, firstname, lastname FROM customers WHERE id = {{ .id | required "id is required" }}',
        Err(
            'template: :1:66: executing "" at <required "id is required">: '
            "error calling required: id is required"
        ),
        {"id": ""},
    ),
]

# --- docs/hoop-runtime.md section 2, rendering with no inputs as for hooks ------------------------

DOCS_SECTION_2 = [
    Case(
        "f-string with doubled braces and quotes",
        b'import json\nprint(f"{{\\"user\\": \\"{who}\\"}}")',
        Err('template: :2: unexpected "\\\\" in command'),
    ),
    Case(
        "f-string with doubled braces",
        b'print(f"{{who}}")',
        Err('template: :1: function "who" not defined'),
    ),
    Case("a lone closing pair", b"x = 1 }} y", b"x = 1 }} y"),
    Case("a nested dict literal", b'd = {"a": {"b": 1}}', b'd = {"a": {"b": 1}}'),
    Case("template comment", b"a {{/* note */}} b", b"a  b"),
    Case("trimmed comment", b"a\n  {{- /* note */ -}}\n  b", b"ab"),
    Case("trim markers", b'a  {{- .k | default "v" -}}  b', b"avb"),
    Case(
        "a default",
        b'REGION = "{{ .region | default "us-east-1" }}"',
        b'REGION = "us-east-1"',
    ),
    Case(
        "required without inputs is a missing input",
        b'{{ .x | required "x needed" }}',
        Err("the following inputs are missing [x]"),
    ),
    Case(
        "required message when given empty",
        b'{{ .x | required "x needed" }}',
        Err(
            'template: :1:8: executing "" at <required "x needed">: '
            "error calling required: x needed"
        ),
        {"x": ""},
    ),
    Case(
        "default empty counts as no default",
        b'{{ .x | default "" }}',
        Err("the following inputs are missing [x]"),
    ),
    Case(
        "last action without a default decides",
        b'{{ .x | default "a" }}-{{ .x }}',
        Err("the following inputs are missing [x]"),
    ),
    Case("last action with a default decides", b'{{ .x }}-{{ .x | default "b" }}', b"-b"),
    Case(
        "each action renders its own default",
        b'{{ .x | default "a" }}-{{ .x | default "b" }}',
        b"a-b",
    ),
    Case("only top-level actions are checked", b"{{ if .x }}a{{ end }}", b""),
    Case(
        "a nested missing input prints no value", b"{{ if true }}{{ .x }}{{ end }}", b"<no value>"
    ),
    Case(
        "a string literal action",
        b'print({{ "{{" }})',
        Err("inconsistent findings, findings=0, val=[]"),
    ),
    Case(
        "a literal {{ written inside a block, which Hoop does not check",
        b'x = "{{ if true }}{{ "{{" }}{{ end }}"',
        b'x = "{{"',
    ),
    Case("a dot action", b"{{ . }}", Err("inconsistent findings, findings=0, val=[]")),
    Case(
        "a declaration action", b"{{ $x := 1 }}", Err("inconsistent findings, findings=0, val=[]")
    ),
    Case("a comment alone", b"{{/* only a comment */}}", b""),
    Case(
        "several missing inputs",
        b'{{ .a }} {{ .b }} {{ .c | default "" }} {{ .d | default "x" }}',
        Err("the following inputs are missing [a b c]"),
    ),
]

# --- Python hooks: what authors actually write ------------------------------------------------


def pattern_case(pattern: str, value: bytes, matches: bool) -> Case:
    """``pattern`` on an input: the value back, or Go's error naming the pattern."""
    literal = '"' + pattern.replace("\\", "\\\\") + '"'
    error = Err(
        f'template: :1:8: executing "" at <pattern {literal}>: '
        f"error calling pattern: pattern didn't match:{pattern}"
    )
    source = ("{{ .v | pattern " + literal + " }}").encode()
    return Case(
        f"pattern {pattern} on {value!r}", source, value if matches else error, {"v": value}
    )


HOOK_EDGE_CASES = [
    Case(
        "double braces inside a Python comment",
        b'# see {{ the docs }}\nprint("hi")',
        Err('template: :1: function "the" not defined'),
    ),
    Case(
        "an unclosed pair in a comment",
        b'# see {{\nprint("hi")',
        Err('template: :2: unexpected "(" in operand'),
    ),
    Case(
        "unicode passes through",
        'name = "{{ .name | default "José" }}" # ünïcödé ✓'.encode(),
        'name = "José" # ünïcödé ✓'.encode(),
    ),
    Case(
        "CRLF line ends",
        b'a\r\nb = "{{ .k | default "v" }}"\r\nc\r\n',
        b'a\r\nb = "v"\r\nc\r\n',
    ),
    Case("CRLF inside an action", b'{{ .x \r\n| default "crlf" }}\r\n', b"crlf\r\n"),
    Case(
        "NUL and invalid UTF-8 pass through",
        b'nul\x00here {{ .k | default "v\\x00" }} \xff\xfe end',
        b"nul\x00here v\x00 \xff\xfe end",
    ),
    Case(
        "invalid UTF-8 in a string literal becomes U+FFFD",
        b'\xff{{ .x | default "\xff" }}',
        b"\xff\xef\xbf\xbd",
    ),
    Case("raw strings lose their CRs", b"{{ .x | default `raw\r\nv` }}", b"raw\nv"),
    Case("a default with spaces", b'{{ .opt | default "a b" }}', b"a b"),
    Case(
        "a default Hoop reads as empty",
        b'{{ .name_2 | default " | " }}',
        Err("the following inputs are missing [name_2]"),
    ),
    Case(
        "a non-ASCII input name",
        "{{ .ñame }}".encode(),
        Err("inconsistent findings, findings=0, val=[]"),
    ),
    Case(
        "an input name Hoop reads only partly",
        '{{ .nameñ | default "d" }}'.encode(),
        Err('template: :1:21: executing "" at <"d">: invalid value; expected string'),
    ),
    Case(
        "a field of an input",
        b'{{ .a.b | default "x" }}',
        Err('template: :1:5: executing "" at <.a.b>: can\'t evaluate field b in type string'),
    ),
    Case(
        "piping into a field",
        b'{{ .x | default "a" | printf "%s" | .y }}',
        Err('template: :1:36: executing "" at <.y>: y is not a method but has arguments'),
    ),
    Case(
        "the data map holds defaulted inputs",
        b'{{ .x | default "v" }}{{ if true }}{{ .x }}|{{ . }}{{ end }}',
        b"v|map[x:]",
    ),
    Case(
        "range over the inputs, none for hooks",
        b"{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ else }}empty{{ end }}",
        b"empty",
    ),
    Case(
        "range over given inputs, in key order",
        b"{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ else }}empty{{ end }}",
        b"a=1;b=2;",
        {"b": "2", "a": "1"},
    ),
    Case(
        "a defined template",
        b'{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" "arg" }}',
        b"[arg]",
    ),
    Case(
        "an error on a later line",
        b'{{ .x | default "v" }}\n{{ if true }}\n {{ len 3 }}\n{{ end }}',
        Err('template: :3:4: executing "" at <len 3>: error calling len: len of type int'),
    ),
    Case(
        "required message is taken literally (errors.New)",
        b'{{ .x | required "100% sure, %s %d" }}',
        Err(
            'template: :1:8: executing "" at <required "100% sure, %s %d">: '
            "error calling required: 100% sure, %s %d"
        ),
        {"x": ""},
    ),
    Case(
        "default without its argument",
        b"{{ .x | default }}",
        Err(
            'template: :1:8: executing "" at <default>: wrong number of args for default: want 2 got 1'
        ),
        {"x": "v"},
    ),
    Case(
        "default before required",
        b'{{ .x | default "a" | required "m" }}',
        b"a",
    ),
    Case(
        "required before default fails: defaulted inputs are executed as empty",
        b'{{ .x | required "m" | default "a" }}',
        Err('template: :1:8: executing "" at <required "m">: error calling required: m'),
    ),
    Case("quotechar", b'{{ .q | quotechar "`" }}', b"`it's`", {"q": "it's"}),
    Case("decodeb64 skips newlines", b"{{ .b | decodeb64 }}", b"hi", {"b": "aG\nk="}),
    Case(
        "decodeb64 without padding",
        b"{{ .b | decodeb64 }}",
        Err(
            'template: :1:8: executing "" at <decodeb64>: '
            "error calling decodeb64: illegal base64 data at input byte 0"
        ),
        {"b": "aGk"},
    ),
    Case(
        "decodeb64 with bad padding",
        b"{{ .b | decodeb64 }}",
        Err(
            'template: :1:8: executing "" at <decodeb64>: '
            "error calling decodeb64: illegal base64 data at input byte 1"
        ),
        {"b": "a=="},
    ),
    Case(
        "decodeb64 with trailing garbage",
        b"{{ .b | decodeb64 }}",
        Err(
            'template: :1:8: executing "" at <decodeb64>: '
            "error calling decodeb64: illegal base64 data at input byte 4"
        ),
        {"b": "aGk=x"},
    ),
    Case("encodeb64 of bytes", b"{{ .e | encodeb64 }}", b"w6kA", {"e": "é\x00"}),
    Case(
        "asenv renders nothing",
        b'{{ .x | asenv "X" | default "shown" }}[{{ .x | default "v" | asenv "X" }}]\n',
        b"shown[]\n",
    ),
    Case(
        "pattern with an anchored class",
        b'{{ .p | default "abc" | pattern "^[a-z]+$" }}',
        b"abc",
    ),
    pattern_case("^[0-9]+$", b"123", True),
    pattern_case("^[0-9]+$", b"123\n", False),  # RE2's $ is the end of the text, not of a line
    pattern_case("^\\d+$", "١٢".encode(), False),  # RE2's \d is ASCII
    pattern_case("\\s", b"\v", False),  # RE2's \s has no vertical tab
    pattern_case("^a.c$", b"a\xffc", True),  # a byte that is not UTF-8 is one character
    pattern_case("^[a-c-]{2,3}?x$", b"b-x", True),
    pattern_case("^(foo|bar)\\.(?:baz)$", b"bar.baz", True),
    pattern_case("\\bword\\b", b"a word.", True),
    # RE2 syntax Python's re reads differently or not at all
    pattern_case("(?i)^ABC$", b"abc", True),
    pattern_case("^[[:alnum:]_-]+$", b"ops-team_1", True),
    pattern_case("^[[:alnum:]]+$", b"ops team", False),
    pattern_case("^\\p{L}+$", "Zoë".encode(), True),
    pattern_case("^\\pL+$", b"x1", False),
    pattern_case("^\\p{Greek}+$", "αβγ".encode(), True),
    pattern_case("(?i)k", "\u212a".encode(), True),  # Kelvin sign folds to k
    pattern_case("^\\Q1.5\\E$", b"1.5", True),
    pattern_case("^\\Q1.5\\E$", b"105", False),
    pattern_case("(?U)^a+b$", b"aab", True),
    pattern_case("^a\\z", b"a", True),
    pattern_case("(?P<n>a)(?P<n>b)", b"ab", True),  # Go allows a name twice; RE2's C++ does not
    pattern_case("\\B", "a\xffb".encode("utf-8", "surrogateescape"), False),
    # Go's own Unicode tables (15.0.0): its \\pC holds unassigned code points, RE2's does not
    pattern_case("^\\pC$", "\u0378".encode(), True),
    pattern_case("^\\p{Cn}$", "\u0378".encode(), True),
    pattern_case("^\\p{Assigned}$", "\u0378".encode(), False),
    pattern_case("^\\p{L}$", "\U0002ebf0".encode(), False),  # assigned in Unicode 15.1
    pattern_case("^\\P{LC}+$", b"1-2", True),
    pattern_case("(?i)^\\p{Lu}+$", b"abc", True),
]


def pattern_error(pattern: str, message: str) -> Case:
    """``pattern`` with an invalid expression: Go's regexp error, wrapped as Hoop wraps it."""
    literal = "`" + pattern + "`"
    return Case(
        f"pattern error {pattern}",
        ("{{ .v | pattern " + literal + " }}").encode(),
        Err(
            f'template: :1:8: executing "" at <pattern {literal}>: error calling pattern: '
            f"regexp error: error parsing regexp: {message}"
        ),
        {"v": "x"},
    )


PATTERN_ERRORS = [
    pattern_error("(abc", "missing closing ): `(abc`"),
    pattern_error("abc)", "unexpected ): `abc)`"),
    pattern_error("[z-a]", "invalid character class range: `z-a`"),
    pattern_error("[[:foo:]]", "invalid character class range: `[:foo:]`"),
    pattern_error("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
    pattern_error("\\p{Old_Italic}", "invalid character class range: `\\p{Old_Italic}`"),
    pattern_error("[a", "missing closing ]: `[a`"),
    pattern_error("a**", "invalid nested repetition operator: `**`"),
    pattern_error("a{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
    pattern_error("a{1001}", "invalid repeat count: `{1001}`"),
    pattern_error("(a{10}){101}", "invalid repeat count: `{101}`"),
    pattern_error("*a", "missing argument to repetition operator: `*`"),
    pattern_error("\\C", "invalid escape sequence: `\\C`"),
    pattern_error("\\Z", "invalid escape sequence: `\\Z`"),
    pattern_error("\\1", "invalid escape sequence: `\\1`"),
    pattern_error("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
    pattern_error("(?P=name)", "invalid or unsupported Perl syntax: `(?P`"),
    pattern_error("a++", "invalid nested repetition operator: `++`"),
    pattern_error("(?P<na-me>x)", "invalid named capture: `(?P<na-me>`"),
    pattern_error("x\\", "trailing backslash at end of expression: ``"),
]

HOOK_EDGE_CASES += PATTERN_ERRORS

CASES = HOOP_UNIT_TESTS + DOCS_SECTION_2 + HOOK_EDGE_CASES


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_renders_like_hoop(case: Case) -> None:
    assert outcome(case.source, case.inputs) == case.expected


# --- common/runbooks/templates_test.go: TestTemplateParseAttributes --------------------------

PLAIN = {"description": "", "required": False, "type": "text"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"name = {{ .name }}", {"name": PLAIN}),
        (
            b"firstname = {{ .firstname }}, lastname = {{ .lastname}}",
            {"firstname": PLAIN, "lastname": PLAIN},
        ),
        (
            b'url = {{ .url \n\t\t\t\t\t| default "http://localhost:3000"\n'
            b'\t\t\t\t\t| required "url is required"\n\t\t\t\t\t| description "The URL to fetch"\n'
            b'\t\t\t\t\t| type "url"\n\t\t\t\t\t| asenv "FETCH_URL" }}',
            {
                "url": {
                    "default": "http://localhost:3000",
                    "required": True,
                    "description": "The URL to fetch",
                    "type": "url",
                    "asenv": "FETCH_URL",
                }
            },
        ),
        (
            b'name = {{ .name\n\t\t| minlength "2"\n\t\t| maxlength "50" }}',
            {"name": {**PLAIN, "minlength": "2", "maxlength": "50"}},
        ),
        (
            b'SELECT * FROM gender = {{ .gender\n\t| placeholder "the gender type"\n'
            b'\t| options "male" "female" "unknown"\n\t| type "select" }}',
            {
                "gender": {
                    **PLAIN,
                    "placeholder": "the gender type",
                    "options": ["male", "female", "unknown"],
                    "type": "select",
                }
            },
        ),
    ],
    ids=["name", "two inputs", "default required description type asenv", "lengths", "options"],
)
def test_template_inputs_reads_attributes_like_hoop(source: bytes, expected: dict) -> None:
    assert template_inputs(source) == expected


def test_template_inputs_last_action_wins_and_keeps_first_order() -> None:
    inputs = template_inputs(b'{{ .b | default "1" }}{{ .a }}{{ .b | type "number" | order "3" }}')
    assert list(inputs) == ["b", "a"]
    assert inputs["b"] == {**PLAIN, "type": "number", "order": 3}


def test_template_inputs_ignores_unknown_types_and_bad_orders() -> None:
    inputs = template_inputs(b'{{ .x | type "colour" | order "first" }}')
    assert inputs == {"x": PLAIN}


def test_template_inputs_of_a_file_without_actions() -> None:
    assert template_inputs(b"print('no template here')\n") == {}


def test_template_inputs_reports_what_hoop_refuses() -> None:
    with pytest.raises(TemplateError) as caught:
        template_inputs(b'{{ "x" }}')
    assert caught.value.stage == "inputs"


# --- the public API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "stage"),
    [
        (b"{{ .x }", "parse"),
        (b"{{ . }}", "inputs"),
        (b"{{ .x }}", "missing"),
        (b'{{ .x | default "a" }}{{ if true }}{{ len 1 }}{{ end }}', "exec"),
    ],
)
def test_errors_say_where_hoop_failed(source: bytes, stage: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render_runbook(source)
    assert caught.value.stage == stage


def test_missing_inputs_are_listed_in_order_of_first_appearance() -> None:
    assert outcome(b"{{ .zeta }}{{ .alpha }}{{ .mid }}{{ .alpha }}") == Err(
        "the following inputs are missing [zeta alpha mid]"
    )


def test_given_inputs_are_used_and_extra_ones_ignored() -> None:
    source = b'{{ .who | required "who?" }} in {{ .where | default "here" }}'
    assert render_runbook(source, {"who": "ana", "unused": "x"}) == b"ana in here"
    assert render_runbook(source, {"who": "ana", "where": "there"}) == b"ana in there"


def test_inputs_may_be_bytes_that_are_not_utf8() -> None:
    assert render_runbook(b"[{{ .b }}]", {"b": b"\xff\x00"}) == b"[\xff\x00]"


def test_not_implemented_is_explicit_and_not_a_hoop_error() -> None:
    with pytest.raises(NotImplementedTemplateError) as caught:
        render_runbook(b'{{ .x | default "v" }}{{ if true }}{{ printf "%p" . }}{{ end }}')
    assert isinstance(caught.value, HookdkError)
    assert isinstance(caught.value, NotImplementedError)
    assert not isinstance(caught.value, TemplateError)
    assert "not implemented" in str(caught.value)


def test_pattern_refuses_only_an_expression_near_gos_size_limit() -> None:
    # Go's limit depends on its own tree (merged literals, factored alternations).
    source = b'{{ .x | default "a" | pattern `(' + b"a" * 3400 + b"){1000}` }}"
    with pytest.raises(NotImplementedTemplateError, match="this large"):
        render_runbook(source)


# --- the fast path and its cost ---------------------------------------------------------------

NO_ACTION_SOURCES = [
    b"",
    b"print('hello')\n",
    b'd = {"a": {"b": 1}} }} {\r\n\x00\xff\xfe\n',
    "ünïcödé {  } ✓\r\n".encode() * 50,
]


@pytest.mark.parametrize("source", NO_ACTION_SOURCES)
def test_fast_path_agrees_with_the_full_template_engine(source: bytes) -> None:
    text = source.decode("utf-8", "surrogateescape")
    through_engine = parse(text, HOOP_FUNCS).execute(None).encode("utf-8", "surrogateescape")
    assert render_runbook(source) == through_engine == source


def test_a_10kb_hook_without_actions_renders_well_under_a_millisecond() -> None:
    source = (b"import json, os\nprint(json.dumps({'k': [1, 2, {'x': 3}]}))  # }}\n" * 200)[:10240]
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        assert render_runbook(source) == source
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.0005


def test_a_hook_with_actions_renders_quickly() -> None:
    source = b'x = "{{ .region | default "eu" }}"\n' + b"print('line')\n" * 500
    start = time.perf_counter()
    render_runbook(source)
    assert time.perf_counter() - start < 0.05


def test_importing_the_dialect_is_cheap() -> None:
    code = (
        "import sys; import hoophooks_dk.runbook_template; "
        "heavy = {'click', 'git', 'jsonschema', 'httpx', 'dataclasses', 'urllib.parse'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
