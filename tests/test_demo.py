"""`hookdk demo`: the README's first command works end to end, offline, in one go."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from hoophooks_dk.cli.init import demo_command
from hoophooks_dk.scaffold.demo import run_demo
from hoophooks_dk.scaffold.writer import templates

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_demo_command_shows_three_runs_and_what_the_siem_received():
    result = CliRunner().invoke(demo_command, [])

    assert result.exit_code == 0, result.output
    runs = re.findall(rf"^  (\d)  (session-\w+) +({UUID}) +(-?\d+) +\d+ ms$", result.output, re.M)
    assert [(n, event, code) for n, event, _, code in runs] == [
        ("1", "session-open", "0"),
        ("2", "session-open", "0"),
        ("3", "session-close", "0"),
    ]
    open_id = runs[0][2]
    assert runs[1][2] == open_id != runs[2][2]
    received = re.findall(r"^  (\d)  POST (\S+)  (\d+)$", result.output, re.M)
    assert received == [(n, "https://siem.example.com/hoop/events", "200") for n in "123"]
    assert f'"event":"session-open","id":"{open_id}"' in result.output  # body excerpt
    assert f"Both session-open runs carry the same id, {open_id}" in result.output
    assert "(deleted)" in result.output


def test_hookdk_demo_as_users_run_it(tmp_path):
    """The README's first command: a real process, from a folder that is no repository."""
    done = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("POST https://siem.example.com/hoop/events  200") == 3
    assert "Both session-open runs carry the same id" in done.stdout
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_demo_reads_the_committed_hooks_as_hoop_does(tmp_path):
    run = run_demo(tmp_path)

    assert run.ok and run.same_open_id
    assert run.ref == "main"
    assert all(result.origin.startswith("main (") for result in run.results)
    assert [request.response.status for request in run.requests] == [200, 200, 200]


def test_demo_keep_leaves_the_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    result = CliRunner().invoke(demo_command, ["--keep"])

    assert result.exit_code == 0, result.output
    [kept] = tmp_path.glob("hookdk-demo-*/runbooks")
    assert (kept / "hoop-hooks" / "session-open.runbook.py").is_file()
    assert str(kept) in result.output


def test_demo_without_git_runs_the_working_tree(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "git", None)  # as when GitPython finds no git program

    run = run_demo(tmp_path)

    assert run.ok and run.ref is None
    assert all(result.origin == "working tree" for result in run.results)


def test_demo_of_an_unknown_template_is_a_user_error():
    result = CliRunner().invoke(demo_command, ["--template", "nope"])

    assert "unknown template 'nope'" in str(result.exception)


@pytest.mark.slow
@pytest.mark.parametrize("name", [t.name for t in templates() if not t.is_default])
def test_demo_of_every_template_succeeds(name, tmp_path):
    run = run_demo(tmp_path, name)

    assert run.ok, [result.output for result in run.results]
    assert run.same_open_id
    # teams-review posts the review card; the others every event, syslog ones on a socket
    assert run.requests or all(result.syslog for result in run.results)
