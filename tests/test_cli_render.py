"""``hookdk render``: the exact bytes Hoop would run, or Hoop's error, from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hoophooks_dk.cli.render import render_command


@pytest.fixture
def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr in by default
    except TypeError:
        return CliRunner()


def write(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "session-open.runbook.py"
    path.write_bytes(content)
    return str(path)


def test_prints_the_rendered_bytes_exactly(runner: CliRunner, tmp_path: Path) -> None:
    source = b'REGION = "{{ .region | default "us-east-1" }}"\r\nx = b"\xff\x00"\r\n'
    result = runner.invoke(render_command, [write(tmp_path, source)])
    assert result.exit_code == 0
    assert result.stdout_bytes == b'REGION = "us-east-1"\r\nx = b"\xff\x00"\r\n'
    assert result.stderr_bytes == b""


def test_a_file_without_actions_is_printed_unchanged(runner: CliRunner, tmp_path: Path) -> None:
    source = b'd = {"a": {"b": 1}} }}\n'
    result = runner.invoke(render_command, [write(tmp_path, source)])
    assert (result.exit_code, result.stdout_bytes) == (0, source)


def test_inputs_are_given_with_key_equals_value(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, b'{{ .who | required "who?" }}@{{ .where }}')
    result = runner.invoke(render_command, [path, "--input", "who=ana", "--input", "where=a=b"])
    assert (result.exit_code, result.stdout_bytes) == (0, b"ana@a=b")


def test_hoops_error_goes_to_stderr_with_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(render_command, [write(tmp_path, b'print(f"{{who}}")\n')])
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert result.stderr == 'template: :1: function "who" not defined\n'


def test_missing_inputs_are_hoops_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(render_command, [write(tmp_path, b"{{ .token }}")])
    assert result.exit_code == 1
    assert result.stderr == "the following inputs are missing [token]\n"


def test_a_missing_file_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(render_command, [str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("hookdk render: cannot read ")
    assert "No such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(render_command, [str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("hookdk render: cannot read ")


def test_a_malformed_input_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(render_command, [write(tmp_path, b"x"), "--input", "novalue"])
    assert result.exit_code == 2
    assert result.stderr == "hookdk render: --input expects KEY=VALUE, got 'novalue'\n"


def test_a_construct_the_kit_cannot_reproduce_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, b'{{ .x | default "v" }}{{ if true }}{{ printf "%p" . }}{{ end }}')
    result = runner.invoke(render_command, [path])
    assert result.exit_code == 2
    assert result.stderr.startswith("hookdk render: hoophooks_dk cannot emulate this template")
    assert result.stdout_bytes == b""


def test_a_file_over_hoops_size_limit_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, b"#" * 1_000_001)
    result = runner.invoke(render_command, [path])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"max template size [1000 KB] reached for {path}: ")
    assert "the file is 1,000,001 bytes; Hoop loads files of at most 1,000,000" in result.stderr
    assert result.stdout == ""
    exactly = runner.invoke(render_command, [write(tmp_path, b"#" * 1_000_000)])
    assert exactly.exit_code == 0 and len(exactly.stdout_bytes) == 1_000_000
