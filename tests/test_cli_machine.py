"""Machine and terminal output: JSON errors on stdout, fuzz progress on a terminal only,
check's colours, and --set refusing what Hoop could never send."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
from click.testing import CliRunner
from run_hookdk import hookdk

from hoophooks_dk.cli.check import check_command


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (("fire", "session-close", "--json", "--set", "nokey"), 2, "expected KEY=VALUE"),
        (("fire", "session-close", "--json", "--timeout", "-1"), 2, "--timeout"),
        (("session", "--json", "--reviewers", ","), 2, "give at least one group"),
        (("fuzz", "session-close", "--json", "--examples", "0"), 2, "--examples"),
        (("fire", "session-close", "--json", "--payload", "/nope.json"), 2, "cannot read"),
        (("check", "--format", "json", "--env", "X"), 2, "expected KEY=VALUE"),
    ],
)
def test_every_error_is_json_on_stdout_with_json(echo_repo, args, exit_code, needle):
    done = hookdk(*args, "--repo", str(echo_repo.root), cwd=echo_repo.root)
    assert done.returncode == exit_code, done
    error = json.loads(done.stdout)
    assert error["exit_code"] == exit_code and needle in error["error"], error
    assert done.stderr == ""


def test_a_missing_hook_is_a_json_error_too(runbooks):
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json")
    error = json.loads(done.stdout)
    assert (done.returncode, error["exit_code"]) == (2, 2)
    assert "no session-close hook" in error["error"]


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("a.b.c=1", "$.a does not exist ($ has no key 'a')"),
        ("event_session_close.x.y=1", "$.event_session_close.x does not exist"),
        ("event_session_close.output.y=1", "$.event_session_close.output is null, not an object"),
        ("event_session_close.exit_code=NaN", "NaN is not a JSON number"),
        ("event_session_close.exit_code=-Infinity", "-Infinity is not a JSON number"),
        ("event_session_close.exit_code=9223372036854775808", "outside Go's int64"),
        ("sid=null", "$.sid: expected a uuid string, got null"),
        ("sid=", "$.sid: expected a uuid (Hoop's session ids are uuids), got an empty string"),
        ("sid=abc", '$.sid: expected a uuid (Hoop\'s session ids are uuids), got "abc"'),
    ],
)
def test_set_refuses_what_hoop_never_sends(echo_repo, override, needle):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--set", override)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert needle in done.stderr, done.stderr


def test_set_accepts_int64_bounds_and_a_quoted_nan(echo_repo):
    for override in (
        "event_session_close.exit_code=9223372036854775807",
        "event_session_close.exit_code=-9223372036854775808",
        'event_session_close.output="NaN"',
    ):
        done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--set", override)
        assert done.returncode == 0, (override, done.stderr)


def test_a_payload_file_with_infinity_names_the_path(echo_repo, tmp_path):
    close = tmp_path / "close.json"
    close.write_text('{"event_session_close": {"exit_code": Infinity, "output": null}}')
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--payload", str(close))
    assert done.returncode == 2
    assert "$.event_session_close.exit_code: Infinity is not a JSON number" in done.stderr


def run_with_terminal_stderr(args: list[str], cwd) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (as in an interactive shell), stdout a pipe."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hoophooks_dk", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = process.stdout.read().decode()
    process.wait(timeout=120)
    os.close(leader)
    return process.returncode, stdout, b"".join(chunks).decode(errors="replace")


def test_fuzz_shows_progress_on_a_terminal_and_a_rate_at_the_end(echo_repo, tmp_path):
    args = ["fuzz", "session-close", "--repo", str(echo_repo.root), "--examples", "5"]
    code, stdout, stderr = run_with_terminal_stderr([*args, "--seed", "3"], tmp_path)
    assert code == 0, (stdout, stderr)
    assert "hookdk fuzz: fuzzing: 5 payloads (5 to try), 0 failing" in stderr
    assert "payloads/s)" in stdout.splitlines()[-1]
    piped = hookdk(*args, cwd=tmp_path)
    assert piped.returncode == 0 and "hookdk fuzz:" not in piped.stderr
    assert "payloads/s)" in piped.stdout


def test_check_is_coloured_on_a_terminal_only(hook_repo, monkeypatch):
    repo = hook_repo("import sys\nsys.stdin.read()\n")
    args = ["--repo", str(repo.root), "--static"]
    runner = CliRunner()
    coloured = runner.invoke(check_command, args, color=True)
    assert "\x1b[31m\x1b[1mHK304 error" in coloured.output
    plain = runner.invoke(check_command, args)  # not a terminal
    assert "\x1b[" not in plain.output and "HK304 error" in plain.output
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in runner.invoke(check_command, args, color=True).output


def test_shell_completion_as_the_readme_documents_it(tmp_path):
    """The README's `_HOOKDK_COMPLETE` lines work: a script, and commands and options."""
    script = hookdk(env={"_HOOKDK_COMPLETE": "bash_source"}, cwd=tmp_path)
    assert "_hookdk_completion" in script.stdout
    words = {
        "_HOOKDK_COMPLETE": "bash_complete",
        "COMP_WORDS": "hookdk fire --li",
        "COMP_CWORD": "2",
    }
    assert "plain,--live" in hookdk(env=words, cwd=tmp_path).stdout
