"""hookdk check, dynamic rules (HK5xx) and the command line.

The dynamic rules fire the real hook scripts in real ``python3`` processes against the
capture (nothing leaves the machine), with short timeouts. The command is run through
``hoophooks_dk.cli.main`` in-process, as the console script runs it, so exit codes and
the one-line user errors are the real ones.
"""

from __future__ import annotations

import json
import re
import sys

import git
import pytest
from check_repos import CLEAN_HOOK, CLOSE, OPEN

from hoophooks_dk.check import Finding, check, silent_traceback
from hoophooks_dk.cli import app as cli
from hoophooks_dk.emulator import FireResult
from hoophooks_dk.hooks import HookFile
from hoophooks_dk.runtime.runner import RunResult

# The documentation's example: the raw payload, secrets and source included.
RAW_FORWARDER = """\
import os
import urllib.request

raw = os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"].encode()
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/raw", data=raw), timeout=5)
"""

SOURCE_FORWARDER = """\
import json, os, urllib.request

event = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
body = json.dumps({"id": event["id"], "script": event["input_file"]}).encode()
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/e", data=body), timeout=5)
"""


def dynamic(repo, timeout: float = 10.0, **options) -> list[Finding]:
    return [f for f in check(repo.root, timeout=timeout, **options) if f.rule.startswith("HK5")]


def of(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def hookdk_check(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `hookdk check ARGS` as the console script does: (exit code, stdout, stderr)."""
    monkeypatch.setitem(cli.LAZY_COMMANDS, "check", "hoophooks_dk.cli.check:check_command")
    monkeypatch.setattr(sys, "argv", ["hookdk", "check", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code, out, err


def published(repo) -> None:
    """Commit, and push to a bare clone as origin: a repo with nothing left to say."""
    repo.commit()
    bare = git.Repo.init(repo.root.parent / "remote.git", bare=True)
    repo.git.create_remote("origin", bare.git_dir)
    repo.git.git.push("-u", "origin", "main")


# --- dynamic (HK5xx) -------------------------------------------------------------------


def test_a_clean_forwarder_runs_clean(hook_repo):
    assert dynamic(hook_repo(CLEAN_HOOK)) == []


def test_hk501_a_crash_is_placed_on_the_traceback_line(hook_repo):
    repo = hook_repo(
        "import json, os\n\nevent = json.loads(os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'])\nevent['nope']\n"
    )
    findings = of(dynamic(repo), "HK501")
    assert {f.file for f in findings} == {OPEN, CLOSE}
    found = findings[0]
    assert (found.severity, found.line) == ("error", 4)
    assert "KeyError: 'nope'" in found.message


def test_hk502_a_hook_that_outlives_the_timeout(hook_repo):
    repo = hook_repo("import time\ntime.sleep(30)\n")
    findings = of(dynamic(repo, timeout=0.5), "HK502")
    assert [f.file for f in findings] == [CLOSE, OPEN]
    assert findings[0].severity == "error"
    assert not of(dynamic(repo, timeout=0.5), "HK501")


def test_hk503_and_hk504_forwarding_the_raw_payload_leaks_secrets_and_source(hook_repo):
    findings = dynamic(hook_repo(RAW_FORWARDER))
    secrets = of(findings, "HK503")
    assert {f.file for f in secrets} == {OPEN}  # only session-open carries connection_envs
    assert any('connection_envs["envvar:PASS"]' in f.message for f in secrets)
    assert "https://siem.example.com/raw" in secrets[0].message
    assert {f.file for f in of(findings, "HK504")} == {OPEN, CLOSE}


def test_hk504_alone_when_only_the_source_is_sent(hook_repo):
    findings = dynamic(hook_repo(SOURCE_FORWARDER))
    assert {f.rule for f in findings} == {"HK504"}


def test_hk505_a_swallowed_exception(hook_repo):
    source = "import traceback\ntry:\n    1 / 0\nexcept Exception:\n    traceback.print_exc()\n"
    [found, _] = of(dynamic(hook_repo(source)), "HK505")
    assert (found.severity, found.line) == ("warning", 3)
    assert "ZeroDivisionError" in found.message


def test_hk505_not_when_the_exception_propagates(hook_repo):
    findings = dynamic(hook_repo("1 / 0\n"))
    assert of(findings, "HK501") and not of(findings, "HK505")


COPIED = 'Traceback (most recent call last):\n  File "q.py", line 1, in <module>\nValueError: bad\n'


def _printed(output: str) -> FireResult:
    payload = {"input_file": "print()\n", "event_session_close": {"output": COPIED}}
    run = RunResult(0, output, output.encode(), False, 0.1)
    return FireResult("session-close", payload, run, CLOSE, "working tree")


def test_hk505_not_for_a_traceback_copied_from_the_payload():
    """The same test as `hookdk fuzz`: logging the session's own error output is fine."""
    hook = HookFile("session-close", CLOSE, b"print()\n", "working tree")
    assert silent_traceback(_printed(f"session output:\n{COPIED}"), hook) == []
    own = COPIED.replace("ValueError: bad", "KeyError: 'sid'")
    [found] = silent_traceback(_printed(COPIED + own), hook)
    assert "KeyError: 'sid'" in found.message


BIG_HOOK = "import os\nprint(__file__)\n" + "# padding\n" * 20_000  # 200 KB


def test_hk107_a_hook_too_large_to_start_is_not_run_and_the_other_one_is(hook_repo):
    repo = hook_repo("raise SystemExit(3)\n")
    repo.write(OPEN, BIG_HOOK)
    findings = check(repo.root, timeout=10)
    assert [f.file for f in of(findings, "HK107")] == [OPEN]
    assert [f.file for f in of(findings, "HK501")] == [CLOSE]


def test_hk107_when_a_fired_payload_tips_over_the_limit_it_is_a_finding(monkeypatch, hook_repo):
    """Synthetic payloads vary a little in size: if the static estimate let one through
    that the emulator then refuses, it is still HK107, not an abort."""
    from hoophooks_dk.check import checker as checking

    monkeypatch.setattr(checking, "too_large_for_environment", lambda hook, rendered: [])
    repo = hook_repo(CLEAN_HOOK)
    repo.write(OPEN, BIG_HOOK)
    [found] = of(check(repo.root, timeout=10), "HK107")
    assert found.file == OPEN and "Linux refuses" in found.message


def test_hk107_the_command_still_reports_everything(monkeypatch, capsys, hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    repo.write(OPEN, BIG_HOOK)
    args = ("--repo", str(repo.root), "--timeout", "10")
    code, out, err = hookdk_check(monkeypatch, capsys, *args)
    assert code == 1, err
    assert f"{OPEN}: HK107 error: " in out
    assert f"{OPEN}:2: HK302 warning: " in out
    assert out.splitlines()[-1].startswith("hookdk check: 1 error, ")
    code, out, err = hookdk_check(monkeypatch, capsys, *args, "--format", "json")
    assert code == 1, err
    found = {(f["rule"], f["file"]) for f in json.loads(out)}
    assert {("HK107", OPEN), ("HK302", OPEN)} <= found


def test_static_skips_running_the_hooks(hook_repo):
    assert dynamic(hook_repo("raise SystemExit(3)\n"), static=True) == []


def test_no_run_when_hoop_would_not_load_the_hooks(hook_repo):
    repo = hook_repo("raise SystemExit(3)\n")
    repo.write(CLOSE, "#" * 1_000_001 + "\n")
    assert dynamic(repo) == []


def test_with_ref_the_hooks_at_that_revision_are_run(hook_repo):
    repo = hook_repo("raise SystemExit(3)\n")
    repo.commit()
    repo.hooks(CLEAN_HOOK, CLEAN_HOOK)
    assert of(dynamic(repo, ref="HEAD"), "HK501")
    assert dynamic(repo) == []


# --- the command line ------------------------------------------------------------------


def test_text_output_one_line_per_finding_and_a_summary(monkeypatch, capsys, hook_repo):
    repo = hook_repo("import os\nprint(__file__)\nprint(input())\n")
    code, out, _ = hookdk_check(monkeypatch, capsys, "--repo", str(repo.root), "--static")
    lines = out.splitlines()
    assert code == 1
    assert f"{OPEN}:3: HK304 error: reads standard input" in out
    assert re.search(rf"^{OPEN}:2: HK302 warning: .* \(fix: .+\)$", out, re.M)
    assert lines[-1].startswith("hookdk check: 2 errors, ")
    assert "(static: hooks not run)" in lines[-1]


def test_json_output_is_a_list_of_findings_with_every_field(monkeypatch, capsys, hook_repo):
    repo = hook_repo("import yaml\n")
    code, out, _ = hookdk_check(
        monkeypatch, capsys, "--repo", str(repo.root), "--static", "--format", "json"
    )
    findings = json.loads(out)
    assert isinstance(findings, list) and findings
    for item in findings:
        assert set(item) == {"rule", "severity", "file", "line", "column", "message", "fix"}
        assert item["severity"] in ("error", "warning", "info")
    yaml = [f for f in findings if f["rule"] == "HK307" and f["file"] == OPEN]
    assert yaml[0]["line"] == 1 and yaml[0]["severity"] == "error"
    assert code == 1  # the agent runtime has no yaml: an error


def test_exit_codes_errors_warnings_strict(monkeypatch, capsys, hook_repo):
    repo = hook_repo("import sys\nprint(sys.argv)\n")  # warnings only (HK303, HK402...)
    args = ("--repo", str(repo.root), "--static")
    assert hookdk_check(monkeypatch, capsys, *args)[0] == 0
    assert hookdk_check(monkeypatch, capsys, *args, "--strict")[0] == 1
    repo.write(OPEN, "print(\n")
    assert hookdk_check(monkeypatch, capsys, *args)[0] == 1


def test_a_published_clean_repo_passes_even_strict(monkeypatch, capsys, hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    published(repo)
    code, out, _ = hookdk_check(
        monkeypatch, capsys, "--repo", str(repo.root), "--strict", "--timeout", "10"
    )
    assert code == 0, out
    assert out.strip() == "hookdk check: 0 errors, 0 warnings, 0 info"


def test_dynamic_findings_fail_the_command_and_static_does_not_run(monkeypatch, capsys, hook_repo):
    repo = hook_repo("raise SystemExit(3)\n")
    published(repo)
    args = ("--repo", str(repo.root), "--timeout", "10")
    code, out, _ = hookdk_check(monkeypatch, capsys, *args)
    assert code == 1 and "HK501" in out
    assert hookdk_check(monkeypatch, capsys, *args, "--static")[0] == 0


@pytest.mark.parametrize(
    ("respond", "status"),
    [('"*" = 503', 503), ('"POST https://siem.example.com/*" = 500', 500)],
)
def test_the_settings_files_respond_answers_the_hooks(
    monkeypatch, capsys, hook_repo, respond, status
):
    """`check` answers as the settings file says, as `fire` does: a SIEM that answers
    503 makes the clean forwarder's urlopen raise, and that is HK501."""
    repo = hook_repo(CLEAN_HOOK)
    (repo.root / "hookdk.toml").write_text(f"[respond]\n{respond}\n")
    code, out, _ = hookdk_check(monkeypatch, capsys, "--repo", str(repo.root), "--timeout", "10")
    assert code == 1, out
    crashes = [line for line in out.splitlines() if "HK501" in line]
    assert len(crashes) == 2, out
    assert all(f"HTTP Error {status}" in line for line in crashes), out


def test_check_takes_the_answers_as_arguments(hook_repo):
    from hoophooks_dk.settings import Route

    repo = hook_repo(CLEAN_HOOK)
    assert dynamic(repo, default_status=200) == []
    routes = [Route("https://siem.example.com/*", 502, "POST")]
    findings = dynamic(repo, routes=routes)
    assert {f.rule for f in findings} == {"HK501"}
    assert all("HTTP Error 502" in f.message for f in findings)
    assert {f.rule for f in dynamic(repo, default_status=500)} == {"HK501"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--repo", "{tmp}/nowhere"), "no such directory"),
        (("--repo", "{repo}", "--ref", "no-such-ref"), "no such revision"),
        (("--repo", "{repo}", "--format", "yaml"), "Invalid value for '--format'"),
        (("--repo", "{repo}", "--timeout", "0"), "Invalid value for '--timeout'"),
        (("--repo", "{repo}", "--timeout", "-1"), "Invalid value for '--timeout'"),
        (
            (
                "--repo",
                "{repo}/hoop-hooks/session-open.runbook.py",
            ),
            "is a file",
        ),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    monkeypatch, capsys, hook_repo, tmp_path, args, needle
):
    repo = hook_repo(CLEAN_HOOK)
    repo.commit()
    args = [a.format(tmp=tmp_path, repo=repo.root) for a in args]
    code, out, err = hookdk_check(monkeypatch, capsys, *args, "--static")
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


# --- a freshly `hookdk init`-ed repo passes ----------------------------------------------


def test_a_freshly_initialised_repo_passes_check_strict_once_committed_and_pushed(
    monkeypatch, capsys, runbooks
):
    """The default template as `hookdk init` writes it, with the test values of its
    settings file (hookdk.toml), committed and pushed as "Next" says: `--strict` finds
    nothing (its settings read with a default are not HK308's)."""
    from hoophooks_dk import scaffold

    scaffold.init(runbooks.root, scaffold.DEFAULT_TEMPLATE)
    assert (runbooks.root / "hookdk.toml").is_file()
    published(runbooks)
    code, out, _ = hookdk_check(
        monkeypatch, capsys, "--repo", str(runbooks.root), "--strict", "--format", "json"
    )
    assert code == 0 and json.loads(out) == [], out


def test_every_template_passes_the_static_check_straight_after_init(runbooks):
    from hoophooks_dk import scaffold

    for template in scaffold.templates():
        scaffold.init(runbooks.root, template.name, force=True)
        findings = check(runbooks.root, static=True)
        assert [f.rule for f in findings] == ["HK402"], (template.name, findings)


# --- the pre-commit manifest -------------------------------------------------------------


def test_pre_commit_manifest_runs_hookdk_check_on_hook_like_files():
    from pathlib import Path

    text = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    fields = re.findall(r"^\s*-?\s*(\w+): (.+)$", text, re.M)
    assert [value for key, value in fields if key == "id"] == [
        "hookdk-check",
        "hookdk-check-static",
    ]
    assert [value for key, value in fields if key == "entry"] == [
        "hookdk check",
        "hookdk check --static",
    ]
    assert {value for key, value in fields if key == "language"} == {"python"}
    assert {value for key, value in fields if key == "pass_filenames"} == {"false"}
    [pattern] = {value for key, value in fields if key == "files"}
    triggers = re.compile(pattern)
    for path in (
        "hoop-hooks/session-open.runbook.py",
        "hoop-hooks/lib.py",
        "hoop_hooks/session-close.runbook.py",
        "hooks/Session_Close.py",
        "session-open.runbook.py",
    ):
        assert triggers.search(path), path
    for path in ("README.md", "runbooks/db/migrate.runbook.sql", "tests/hooks/conftest.py"):
        assert not triggers.search(path), path
