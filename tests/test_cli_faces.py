"""How the command line talks: one error format, names it can suggest and complete, a
pipe that closes, a slow hook on a terminal, what a result says (syslog, leaks, routes),
a missing hook's cause, fuzz on a missing setting, the shipped docs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
from hook_sources import DOCS_HOOK
from run_hookdk import hookdk
from test_cli_machine import run_with_terminal_stderr

POSTER = """\
import urllib.request
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/e", data=b"{}"), timeout=5)
print("posted")
"""


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hookdk: error: "), done.stderr
    assert "Usage:" not in done.stderr and "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("fir",), ["no such command 'fir' (did you mean 'fire'?)", "(see 'hookdk --help')"]),
        (("fire", "session-close", "--jsn"), ["--json", "(see 'hookdk fire --help')"]),
        (("fire", "session-clos"), ["Invalid value for '{session-open|session-close}'"]),
        (("init", "--template", "splnk-hec"), ["(did you mean 'splunk-hec'?)"]),
        (("session", "--flow", "revew-ai"), ["(did you mean 'review-ai'?)"]),
        (("docs", "hoop-runtim"), ["(did you mean 'hoop-runtime'?)"]),
        (("watch", "--ref", "main"), ["--ref reads a commit", "hookdk fire --ref"]),
    ],
)
def test_every_error_is_one_line_in_one_format_with_a_suggestion(echo_repo, args, needles):
    line = one_error_line(hookdk(*args, cwd=echo_repo.root))
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("hookdk init --template spl", {"splunk-hec"}),
        ("hookdk session --flow review-r", {"review-run-later", "review-rejected"}),
        ("hookdk watch --flow client-l", {"client-left", "client-left-web"}),
        ("hookdk docs hoop", {"hoop-runtime"}),
    ],
)
def test_template_flow_and_page_names_complete_in_the_shell(tmp_path, words, expected):
    env = {"_HOOKDK_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "3"}
    if words.startswith("hookdk docs"):
        env["COMP_CWORD"] = "2"
    done = hookdk(env=env, cwd=tmp_path)
    assert {line.split(",", 1)[1] for line in done.stdout.splitlines()} == expected


def test_a_closed_pipe_ends_quietly_with_141(echo_repo):
    """`hookdk fire ... | head -0`: the reader is gone before the first line is written
    (its end of the pipe is closed before the command starts, so this is no race)."""
    read, write = os.pipe()
    os.close(read)
    process = subprocess.Popen(
        [sys.executable, "-m", "hoophooks_dk", "fire", "session-close"],
        cwd=echo_repo.root,
        stdout=write,
        stderr=subprocess.PIPE,
    )
    os.close(write)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGPIPE, stderr
    assert stderr == b""  # no BrokenPipeError, no traceback


def test_a_slow_hook_shows_a_progress_line_on_a_terminal_only(hook_repo, tmp_path):
    repo = hook_repo("import time\ntime.sleep(2.5)\nprint('done')\n")
    args = ["fire", "session-close", "--repo", str(repo.root)]

    code, stdout, stderr = run_with_terminal_stderr(args, tmp_path)
    piped = hookdk(*args, cwd=tmp_path)

    assert code == 0 and "ok session-close" in stdout, (stdout, stderr)
    assert "hookdk: session-close hook running, 1 s; Hoop stops waiting at 15 s" in stderr
    assert stderr.endswith("\r\x1b[2K")  # erased once the hook ended
    assert piped.returncode == 0 and "running" not in piped.stderr


def test_an_http_only_fire_says_nothing_of_syslog(hook_repo):
    done = hookdk("fire", "session-close", "--repo", str(hook_repo(POSTER).root))
    assert done.returncode == 0, done
    assert "sent: 1 request(s)" in done.stdout and "syslog" not in done.stdout


def test_a_hook_that_sends_nothing_says_so_once(echo_repo):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root))
    assert "  sent: no HTTP requests, no syslog message\n" in done.stdout


def test_leaks_are_counted_as_secrets_not_places(hook_repo):
    done = hookdk("fire", "session-open", "--repo", str(hook_repo(DOCS_HOOK).root))
    assert done.returncode == 1
    # three connection secrets and the hook's source: four values, one listed twice
    assert "LEAKS: 4 payload secrets sent out, found in 5 places" in done.stdout
    close = hookdk("fire", "session-close", "--repo", str(hook_repo(DOCS_HOOK).root))
    assert "LEAKS: 1 payload secret sent out\n" in close.stdout


def test_a_respond_route_that_matched_nothing_is_reported(hook_repo):
    repo = hook_repo(POSTER)
    typo = hookdk(
        "fire",
        "session-close",
        "--repo",
        str(repo.root),
        "--respond",
        "POST https://siem.exampel.com/*=503",
    )
    matched = hookdk(
        "fire",
        "session-close",
        "--repo",
        str(repo.root),
        "--respond",
        "POST https://siem.example.com/*=503",
    )

    assert typo.returncode == 0
    assert (
        "hookdk: warning: --respond 'POST https://siem.exampel.com/*=503' matched no request; "
        "the hooks sent POST https://siem.example.com/e"
    ) in typo.stderr
    assert matched.returncode == 1 and "matched no request" not in matched.stderr


def test_a_missing_hook_points_to_its_cause(runbooks, tmp_path):
    runbooks.write("hoop-hooks/session_close.runbook.py", "print(1)\n")
    misnamed = one_error_line(hookdk("fire", "session-close", cwd=runbooks.root))
    folder = one_error_line(
        hookdk("fire", "session-close", "--repo", str(runbooks.root / "hoop-hooks"))
    )
    no_hooks = one_error_line(hookdk("fire", "session-open", "--repo", str(runbooks.root)))
    plain = tmp_path / "plain"
    plain.mkdir()
    no_git = one_error_line(hookdk("fire", "session-open", cwd=plain))

    assert (
        "git mv hoop-hooks/session_close.runbook.py hoop-hooks/session-close.runbook.py" in misnamed
    )
    assert (
        "is the hoop-hooks/ folder itself" in folder and f"(try --repo {runbooks.root})" in folder
    )
    assert "`hookdk init`" in no_hooks and "--repo" not in no_hooks.split(";")[1]
    assert "is not in a git repository" in no_git and "--repo DIR" in no_git
    for line in (misnamed, no_hooks):
        assert line.count("does not exist") == 1


def test_a_runbooks_folder_inside_another_repository_is_the_one_fired(tmp_path):
    """The nearest folder with hoop-hooks/ wins over the outer git root, from below it too;
    a hooks-less folder of the outer repository still means the outer root."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "hoop-hooks").mkdir()
    (tmp_path / "hoop-hooks" / "session-open.runbook.py").write_text("print('outer')\n")
    inner = tmp_path / "ops" / "runbooks"
    (inner / "hoop-hooks").mkdir(parents=True)
    (inner / "hoop-hooks" / "session-open.runbook.py").write_text("print('inner')\n")
    (inner / "docs").mkdir()
    (tmp_path / "elsewhere").mkdir()

    from_inner = hookdk("fire", "session-open", "--json", cwd=inner / "docs")
    from_outer = hookdk("fire", "session-open", "--json", cwd=tmp_path / "elsewhere")

    assert from_inner.returncode == 0, from_inner.stderr
    assert json.loads(from_inner.stdout)["output"].strip() == "inner"
    assert json.loads(from_outer.stdout)["output"].strip() == "outer"


def test_fuzz_saves_no_failing_payload_for_a_missing_setting(hook_repo, tmp_path):
    needs = "import os, sys\nif not os.environ.get('SIEM_TOKEN', ''):\n    sys.exit('SIEM_TOKEN is not set')\n"
    repo = hook_repo(needs)
    env = {key: value for key, value in os.environ.items() if key != "SIEM_TOKEN"}

    done = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "fuzz", "session-close", "--repo", str(repo.root), "--examples", "3", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["failure"]["file"] is None
    assert report["failure"]["result"]["hints"][0]["rule"] == "setting"
    assert list(tmp_path.glob("hookdk-failing-*.json")) == []
    text = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "fuzz", "session-close", "--repo", str(repo.root), "--examples", "3"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Not saved: the hook stops for a missing setting" in text.stdout
    assert list(tmp_path.glob("hookdk-failing-*.json")) == []


def test_a_partial_event_object_is_refused_with_the_way_out(echo_repo, tmp_path):
    partial = tmp_path / "open.json"
    partial.write_text('{"event_session_open": {"verb": "exec"}}')
    done = hookdk("fire", "session-open", "--payload", str(partial), cwd=echo_repo.root)
    assert done.returncode == 2
    assert "missing required key(s): 'connection_name'" in done.stderr
    assert "`hookdk payload session-open` prints a complete payload" in done.stderr


def test_the_docs_the_kit_cites_ship_with_it(tmp_path):
    listed = hookdk("docs", cwd=tmp_path)
    page = hookdk("docs", "hoop-runtime", cwd=tmp_path)
    path = hookdk("docs", "check", "--path", cwd=tmp_path)

    assert listed.returncode == 0
    assert re.search(r"^hoop-runtime +How Hoop runs runbook hooks$", listed.stdout, re.M)
    assert page.stdout.startswith("# How Hoop runs runbook hooks") and "## 3." in page.stdout
    assert path.stdout.strip().endswith("check.md") and os.path.isfile(path.stdout.strip())
