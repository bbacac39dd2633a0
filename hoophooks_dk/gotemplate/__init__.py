"""Go's ``text/template`` in pure Python, faithful to the byte and to the error message.

Why this exists: Hoop renders every runbook hook file with Go's ``text/template`` before it runs
it. A hook author needs to know, before pushing, exactly what bytes Hoop will run or exactly what
error Hoop will log. So this package reproduces Go's lexer, parser and executor, including the
wording, line and column of every error, rather than approximating them.

How it is built: one module per file of Go's source, so a maintainer can hold each against its
counterpart (Go 1.26, the release Hoop builds with):

=================  ==============================================================
``lex.py``         ``text/template/parse/lex.go``
``node.py``        ``text/template/parse/node.go``
``parse.py``       ``text/template/parse/parse.go``
``exec.py``        ``text/template/exec.go``
``funcs.py``       ``text/template/funcs.go``
``template.py``    ``text/template/template.go`` (New, Parse, Execute)
``printf.py``      ``fmt/print.go`` and ``fmt/format.go`` (Sprint, Sprintf)
``ftoa.py``        ``strconv/ftoa.go`` (float formatting for fmt)
``strconv.py``     ``strconv`` (quote, unquote, number parsing), Go strings as bytes
``values.py``      the Go values a template sees, as ``reflect`` sees them
``errors.py``      errors whose text is Go's
``regexp.py``      ``regexp.Match`` for Hoop's ``pattern``, matched by RE2
``regexp_syntax``  ``regexp/syntax/parse.go`` (Go's regexp errors)
=================  ==============================================================

Functions follow Go's function by function, so that quirks come along for free (for example
the column of an error in ``.a.b`` points at ``.b``, as in Go). Everything is checked byte for
byte against a real Go toolchain by ``tests/test_gotemplate_differential.py``.

What it does not do: anything it cannot reproduce exactly raises
:class:`NotImplementedTemplateError`. It never guesses.

Strings: Go strings are bytes. Here they are Python ``str`` decoded with ``surrogateescape``, so
each byte that is not valid UTF-8 becomes one lone surrogate (as Go's decoder sees one
``RuneError`` of width 1) and every byte round-trips. Positions are character indices; they are
turned into byte offsets only where Go prints them.
"""

from hoophooks_dk.gotemplate.errors import (
    GoTemplateError,
    NotImplementedTemplateError,
    TemplateExecError,
    TemplateParseError,
    func_error,
)
from hoophooks_dk.gotemplate.funcs import BUILTINS, GoFunc
from hoophooks_dk.gotemplate.node import ActionNode
from hoophooks_dk.gotemplate.printf import go_sprintf
from hoophooks_dk.gotemplate.strconv import go_quote, go_trim_space
from hoophooks_dk.gotemplate.template import Template, parse
from hoophooks_dk.gotemplate.values import ANY_T, STRING_T, VALUE_T, GoMap

__all__ = [
    "ANY_T",
    "BUILTINS",
    "STRING_T",
    "VALUE_T",
    "ActionNode",
    "GoFunc",
    "GoMap",
    "GoTemplateError",
    "NotImplementedTemplateError",
    "Template",
    "TemplateExecError",
    "TemplateParseError",
    "func_error",
    "go_quote",
    "go_sprintf",
    "go_trim_space",
    "parse",
]
