"""One error hierarchy: every error a user can cause is a HookdkError, with fields."""

from __future__ import annotations

import pytest

from hoophooks_dk import errors
from hoophooks_dk.gotemplate import GoTemplateError, NotImplementedTemplateError
from hoophooks_dk.hooks import HookFile
from hoophooks_dk.render import load, render
from hoophooks_dk.runbook_template import render_runbook


def test_every_error_class_is_under_one_root():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.HookdkError), name
    assert issubclass(GoTemplateError, errors.TemplateError)
    assert issubclass(NotImplementedTemplateError, errors.HookdkError)


def test_a_parse_error_carries_its_stage_line_and_gos_message():
    with pytest.raises(errors.TemplateError) as caught:
        render_runbook(b"a\nb {{ .x | nosuchfunc }}\n")
    error = caught.value
    assert (error.stage, error.line) == ("parse", 2)
    assert error.go_message == 'function "nosuchfunc" not defined'
    assert str(error) == 'template: :2: function "nosuchfunc" not defined'
    assert isinstance(error.__cause__, GoTemplateError)


def test_an_exec_error_carries_line_and_column():
    source = b'X = 1\nY = "{{ .token | required "token is required" }}"\n'
    with pytest.raises(errors.TemplateError) as caught:
        render_runbook(source, {"token": ""})
    error = caught.value
    assert (error.stage, error.line, error.column) == (
        "exec",
        2,
        17,
    )  # the `required` call, as Go points
    assert error.go_message.endswith("token is required")
    assert str(error).startswith("template: :2:17: executing")


def test_missing_inputs_are_named_in_a_field():
    with pytest.raises(errors.TemplateError) as caught:
        render_runbook(b'A = "{{ .a }}"\nB = "{{ .b }}"\n')
    assert caught.value.stage == "missing"
    assert caught.value.missing == ("a", "b")


def test_render_failed_keeps_the_fields_and_chains_from_the_template_error():
    with pytest.raises(errors.RenderFailed) as caught:
        render(b"print('{{x}}')\n")
    error = caught.value
    assert error.stage == "parse" and error.line == 1
    assert isinstance(error.__cause__, errors.TemplateError)
    assert str(error) == str(error.__cause__)


def test_hooks_not_loaded_says_the_stage_and_is_exit_1():
    hook = HookFile("session-open", "hoop-hooks/session-open.runbook.py", b"{{ bad }}", "test")
    with pytest.raises(errors.HooksNotLoaded) as caught:
        load({"session-open": hook, "session-close": None})
    error = caught.value
    assert isinstance(error, errors.HookdkError) and error.exit_code == 1
    assert error.stage == "parse" and error.line == 1
    assert error.file == hook.path and isinstance(error.__cause__, errors.RenderFailed)
    big = HookFile("session-open", hook.path, b"#" * 1_000_001, "test")
    with pytest.raises(errors.HooksNotLoaded) as caught:
        load({"session-open": big})
    assert caught.value.stage == "size" and caught.value.error is None


class _Refused(errors.HookdkError):
    """An error whose exit status is its own, as a future finding's might be."""

    exit_code = 3


@pytest.mark.parametrize("as_json", [False, True])
def test_the_cli_exits_with_the_errors_own_exit_code(monkeypatch, capsys, as_json):
    import json

    import click

    from hoophooks_dk.cli import app as cli

    @cli.cli.command("refuse-for-test")
    @click.option("--json", "as_json", is_flag=True)
    def refuse(as_json):
        raise _Refused("refused on purpose")

    try:
        argv = ["hookdk", "refuse-for-test", *(["--json"] if as_json else [])]
        monkeypatch.setattr("sys.argv", argv)
        with pytest.raises(SystemExit) as done:
            cli.main()
    finally:
        cli.cli.commands.pop("refuse-for-test")
    assert done.value.code == 3
    out, err = capsys.readouterr()
    if as_json:
        assert json.loads(out) == {"error": "refused on purpose", "exit_code": 3}
    else:
        assert err == "hookdk: error: refused on purpose\n"
