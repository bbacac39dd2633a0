"""Fuzzing real hooks in real processes: passes, shrunk failures, replay files, seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hoophooks_dk.emulator import Emulator
from hoophooks_dk.errors import HookdkError, HookNotFound
from hoophooks_dk.fuzz import (
    failure_reason,
    fits_in_environment,
    fuzz,
    own_traceback,
)
from hoophooks_dk.payload import MAX_ENV_STRING
from hoophooks_dk.wiring import make_runner

ROBUST_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
event = payload["event_session_open"] or payload["event_session_close"]
summary = {key: value for key, value in event.items() if key != "connection_envs"}
print(json.dumps(summary)[:500])
"""

NAIVE_CLOSE_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["event_session_close"]["output"].strip())
"""

ASCII_ONLY_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["event_session_open"]["input"].encode("ascii"))
"""

SWALLOWING_HOOK = """\
import json, os, traceback
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
try:
    payload["event_session_close"]["output"].strip()
except Exception:
    traceback.print_exc()
"""

POSTING_HOOK = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
body = json.dumps({"id": payload["id"], "close": payload["event_session_close"]}).encode()
request = urllib.request.Request("https://siem.invalid/ingest", data=body)
urllib.request.urlopen(request, timeout=5).read()
"""

SLEEPING_HOOK = "import time\ntime.sleep(30)\n"

# Logs every payload it gets, and fails on any character json.dumps escapes.
LOGGING_NON_ASCII_HATING_HOOK = """\
import json, os
with open({log!r}, "a") as log:
    log.write(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"] + "\\n")
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
event = payload["event_session_open"] or payload["event_session_close"]
if "\\\\u" in json.dumps(event):
    raise SystemExit("a character that is not printable ASCII")
"""


@pytest.fixture(scope="module")
def runner():
    fast = make_runner("auto", "python3")
    yield fast
    fast.close()


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory) -> Path:
    """Where Hypothesis's caches go for CLI runs, instead of the tester's home."""
    return tmp_path_factory.mktemp("cache")


def hookdk(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def failing_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("hookdk-failing-*.json"))


# --- the core ---------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["session-open", "session-close"])
def test_a_robust_hook_passes_every_payload(hook_repo, runner, event):
    repo = hook_repo(ROBUST_HOOK)
    report = fuzz(Emulator(repo.root, runner=runner), event, examples=25, seed=1)
    assert report.ok, report.describe()
    assert report.tried == 25
    report.check()  # does not raise


def test_a_crash_on_non_ascii_input_is_shrunk_to_one_character(hook_repo, runner):
    repo = hook_repo(ASCII_ONLY_HOOK)
    report = fuzz(Emulator(repo.root, runner=runner), "session-open", examples=60, seed=2)
    assert report.failure is not None
    assert "UnicodeEncodeError" in report.failure.reason
    assert report.failure.reason.startswith("exit code 1")
    sent = report.failure.payload["event_session_open"]
    assert len(sent["input"]) == 1 and ord(sent["input"]) > 127, sent["input"]
    # Everything the crash does not depend on shrinks away too.
    assert sent["connection_envs"] == {} and sent["connection_reviewers"] == []  # as Hoop sends
    with pytest.raises(AssertionError, match="UnicodeEncodeError"):
        report.check()


EMAIL_DOMAIN_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["event_session_open"]["user_email"].split("@")[1])
"""


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_hook_that_assumes_an_at_in_user_email_is_found(hook_repo, runner, seed):
    """API keys, AI agents and machine identities open sessions too, named without an
    email (docs/hoop-runtime.md section 4): fuzz finds the hook, with the default number
    of examples, and shrinks to the machine identity's empty user_email."""
    repo = hook_repo(EMAIL_DOMAIN_HOOK)
    report = fuzz(Emulator(repo.root, runner=runner), "session-open", seed=seed)
    assert report.failure is not None
    assert "IndexError: list index out of range" in report.failure.reason
    assert report.failure.payload["event_session_open"]["user_email"] == ""


def test_a_traceback_counts_even_when_the_hook_exits_0(hook_repo, runner):
    repo = hook_repo(SWALLOWING_HOOK)
    report = fuzz(Emulator(repo.root, runner=runner), "session-close", examples=30, seed=3)
    assert report.failure is not None
    assert report.failure.result.exit_code == 0
    assert report.failure.reason == (
        "a Python traceback in the output, though the exit code is 0: "
        "AttributeError: 'NoneType' object has no attribute 'strip'"
    )
    assert report.failure.payload["event_session_close"]["output"] is None


def test_the_same_seed_fires_the_same_payloads(runbooks, runner, tmp_path):
    log = tmp_path / "fired.jsonl"
    hook = f"import os\nwith open({str(log)!r}, 'a') as f:\n    f.write(os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'] + '\\n')\n"
    repo = runbooks.hooks(hook, hook)

    def fired(seed: int) -> list[str]:
        log.unlink(missing_ok=True)
        report = fuzz(Emulator(repo.root, runner=runner), "session-open", examples=12, seed=seed)
        assert report.seed == seed and report.tried == 12
        return log.read_text().splitlines()

    first = fired(7)
    assert fired(7) == first
    assert fired(8) != first


@pytest.mark.parametrize("event", ["session-open", "session-close"])
def test_characters_by_category_draw_what_the_utf8_codec_drew(
    runbooks, runner, tmp_path, monkeypatch, event
):
    """The strategies name their characters by Unicode category, which Hypothesis sets up
    in a fraction of the time it takes for st.text()'s default, characters(codec="utf-8").
    The two must be the same set: the same seed fires the same payloads, and a failure
    shrinks to the same smallest payload, either way."""
    from hypothesis import strategies as st

    from hoophooks_dk import strategies

    log = tmp_path / "fired.jsonl"
    hook = LOGGING_NON_ASCII_HATING_HOOK.format(log=str(log))
    repo = runbooks.hooks(hook, hook)

    def outcome() -> tuple[list[str], int, dict | None]:
        log.unlink(missing_ok=True)
        report = fuzz(Emulator(repo.root, runner=runner), event, examples=40, seed=11)
        failing = report.failure.payload if report.failure else None
        return log.read_text().splitlines(), report.tried, failing

    by_category = outcome()
    monkeypatch.setattr(strategies, "characters", lambda: st.characters(codec="utf-8"))
    by_codec = outcome()
    assert by_category == by_codec
    assert by_category[2] is not None  # the comparison covered shrinking too


def test_without_a_seed_one_is_chosen_and_reported(hook_repo, runner):
    repo = hook_repo(ROBUST_HOOK)
    report = fuzz(Emulator(repo.root, runner=runner), "session-close", examples=3)
    assert isinstance(report.seed, int)
    assert f"seed {report.seed}" in report.describe()


def test_timeouts_and_exit_codes_are_failures_clean_runs_are_not(hook_repo, runner):
    emulator = Emulator(hook_repo(SLEEPING_HOOK).root, runner=runner, timeout=0.3)
    assert failure_reason(emulator.fire("session-close")) == (
        "timed out (Hoop records exit code -2)"
    )
    emulator = Emulator(hook_repo("raise SystemExit(3)\n").root, runner=runner)
    assert failure_reason(emulator.fire("session-close")) == "exit code 3"
    emulator = Emulator(hook_repo(ROBUST_HOOK).root, runner=runner)
    assert failure_reason(emulator.fire("session-close")) is None


def test_a_hook_that_fails_once_then_passes_is_reported_as_flaky(runbooks, runner, tmp_path):
    marker = tmp_path / "failed-once"
    hook = f"import os, sys\nif not os.path.exists({str(marker)!r}):\n    open({str(marker)!r}, 'w').close()\n    sys.exit(4)\n"
    repo = runbooks.hooks("print('opened')\n", hook)
    report = fuzz(Emulator(repo.root, runner=runner), "session-close", examples=5, seed=1)
    assert report.failure is not None
    assert report.failure.reason == "exit code 4 (flaky: the same payload passed when fired again)"


def test_a_close_only_repository_is_refused_before_any_payload(runbooks, runner):
    from hoophooks_dk.errors import GatewayCrash

    repo = runbooks.hooks(close_source="print('closed')\n")
    with pytest.raises(GatewayCrash, match="^panic: runtime error: invalid memory address"):
        fuzz(Emulator(repo.root, runner=runner), "session-close", examples=5, seed=1)


SESSION_TRACEBACK = 'Traceback (most recent call last):\n  File "<stdin>", line 1\nNameError: x'
HOOK_TRACEBACK = (
    "Traceback (most recent call last):\n  File \"<stdin>\", line 3, in <module>\nKeyError: 'id'"
)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("all good\n", None),
        (HOOK_TRACEBACK + "\n", HOOK_TRACEBACK),
        ("sent 1 event" + HOOK_TRACEBACK, HOOK_TRACEBACK),  # stdout without a final newline
        (HOOK_TRACEBACK.replace("\n", "\r\n"), HOOK_TRACEBACK.replace("\n", "\r\n")),
        # The session's own error output, logged by the hook: not the hook's crash.
        ("output: " + SESSION_TRACEBACK + "\n", None),
        (json.dumps({"output": SESSION_TRACEBACK}), None),
        (repr(SESSION_TRACEBACK), None),
        (SESSION_TRACEBACK + "\n" + HOOK_TRACEBACK + "\n", HOOK_TRACEBACK),
    ],
)
def test_only_the_hooks_own_traceback_counts(output, expected):
    payload = {"event_session_close": {"exit_code": 1, "output": SESSION_TRACEBACK}}
    assert own_traceback(output, payload) == expected


def test_a_missing_hook_is_raised_before_any_payload(runbooks, runner):
    repo = runbooks.hooks(open_source=ROBUST_HOOK)
    with pytest.raises(HookNotFound, match="no session-close hook"):
        fuzz(Emulator(repo.root, runner=runner), "session-close", examples=5)


def test_an_interpreter_that_cannot_start_stops_the_run_unshrunk(hook_repo):
    from hoophooks_dk.runtime.runner import SubprocessRunner

    emulator = Emulator(hook_repo(ROBUST_HOOK).root, runner=SubprocessRunner("/no/python3"))
    with pytest.raises(HookdkError, match="cannot run '/no/python3'"):
        fuzz(emulator, "session-close", examples=5)


def test_payloads_that_no_process_could_receive_are_skipped():
    partial = {
        "sid": "s",
        "event_session_open": None,
        "event_session_close": {"exit_code": 0, "output": "x" * 1000},
    }
    assert fits_in_environment(partial, "session-close", "print(1)\n")
    assert not fits_in_environment(partial, "session-close", "#" * (MAX_ENV_STRING - 1000))


def test_a_hook_too_large_for_any_payload_is_a_user_error(hook_repo, runner):
    repo = hook_repo("#" * (MAX_ENV_STRING - 100) + "\n")
    with pytest.raises(HookdkError, match="source is too large for Hoop to start it"):
        fuzz(Emulator(repo.root, runner=runner), "session-close", examples=3)


# --- the command ------------------------------------------------------------------------


def test_command_passes_a_robust_hook_and_prints_the_count(hook_repo, tmp_path, cache_home):
    repo = hook_repo(ROBUST_HOOK)
    done = hookdk(
        "fuzz", "session-close", "--repo", str(repo.root), "--examples", "20", cwd=tmp_path,
        cache=cache_home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "20 payloads, no failure" in done.stdout
    assert not failing_files(tmp_path)
    assert not (tmp_path / ".hypothesis").exists()  # caches go to XDG_CACHE_HOME


def test_command_saves_the_smallest_failure_and_fire_replays_it(hook_repo, tmp_path, cache_home):
    repo = hook_repo(NAIVE_CLOSE_HOOK)
    args = ("fuzz", "session-close", "--repo", str(repo.root), "--examples", "30", "--seed", "1")
    done = hookdk(*args, cwd=tmp_path, cache=cache_home)
    assert done.returncode == 1, done.stderr
    assert "AttributeError: 'NoneType' object has no attribute 'strip'" in done.stdout
    assert '"output": null' in done.stdout
    [saved] = failing_files(tmp_path)
    assert saved.name.startswith("hookdk-failing-session-close-")
    assert f"Saved to {saved}" in done.stdout
    assert f"--payload {saved.name}" in done.stdout
    payload = json.loads(saved.read_text())
    assert payload["event_session_close"]["output"] is None
    assert "input_file" not in payload  # the replay sends the hook's current source

    replay = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "fire", "session-close", "--payload", saved.name,
         "--repo", str(repo.root)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stderr
    assert "AttributeError: 'NoneType' object has no attribute 'strip'" in replay.stdout

    # Found again with the same seed: same name, so a new file beside the old one.
    saved.write_text("my notes\n")
    again = hookdk(*args, "--json", cwd=tmp_path, cache=cache_home)
    assert again.returncode == 1, again.stderr
    assert saved.read_text() == "my notes\n"
    report = json.loads(again.stdout)
    assert report["ok"] is False and report["seed"] == 1
    assert report["failure"]["file"] == str(saved.with_name(saved.stem + "-2.json"))
    assert report["failure"]["payload"] == payload
    assert report["failure"]["result"]["exit_code"] == 1
    assert len(failing_files(tmp_path)) == 2


NEEDS_HOME_HOOK = """\
import os
print(os.environ.get("HOME").upper())  # there in your shell; not in a clean environment
"""


def test_the_replay_command_runs_the_payload_as_the_fuzz_did(hook_repo, tmp_path, cache_home):
    """A failure found with --env-mode clean replays in a clean environment, with the same
    limits: the printed command, run as printed, fails the same way."""
    import shlex

    repo = hook_repo(NEEDS_HOME_HOOK)
    args = ("fuzz", "session-close", "--repo", str(repo.root), "--examples", "3", "--seed", "1")
    limits = ("--env-mode", "clean", "--timeout", "5", "--kill-after", "20")
    done = hookdk(*args, *limits, cwd=tmp_path, cache=cache_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AttributeError: 'NoneType' object has no attribute 'upper'" in done.stdout
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("Replay:")]
    words = shlex.split(line.removeprefix("Replay:"))
    assert words[:3] == ["hookdk", "fire", "session-close"]
    for option in (["--env-mode", "clean"], ["--timeout", "5"], ["--kill-after", "20"]):
        assert " ".join(option) in " ".join(words), words
    replay = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", *words[1:]],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "AttributeError: 'NoneType' object has no attribute 'upper'" in replay.stdout


def test_the_replay_command_keeps_every_option_that_changes_the_run():
    from hoophooks_dk.cli.fuzz import _replay_command

    options = {
        "repo": Path("runbooks"), "ref": None, "python": "python3.12", "env_file": "ci.env",
        "env_mode": "clean", "timeout": 2.5, "kill_after": 30.0, "env": ("TOKEN=t",),
        "respond": ("503",), "live": False, "sandbox": True, "allow_leaks": True,
        "runner": "fast", "capture": False,
    }  # fmt: skip
    command = _replay_command("session-open", Path("/x/failing.json"), options)
    assert command == (
        "hookdk fire session-open --payload failing.json --repo runbooks --python python3.12 "
        "--env-file ci.env --env-mode clean --timeout 2.5 --kill-after 30 --env TOKEN=t "
        "--respond 503 --sandbox --allow-leaks"
    )


def test_command_capture_keeps_a_posting_hook_off_the_network(hook_repo, tmp_path, cache_home):
    repo = hook_repo(POSTING_HOOK)
    args = ("fuzz", "session-close", "--repo", str(repo.root), "--examples", "5", "--seed", "1")
    done = hookdk(*args, "--capture", cwd=tmp_path, cache=cache_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 payloads, no failure" in done.stdout
    refused = hookdk(*args, "--respond", "503", cwd=tmp_path, cache=cache_home)
    assert refused.returncode == 1
    assert "HTTP Error 503" in refused.stdout
    assert "--respond 503" in refused.stdout  # the replay command answers the same way


def test_command_reports_a_missing_hook_in_one_line(runbooks, tmp_path, cache_home):
    repo = runbooks.hooks(open_source=ROBUST_HOOK)
    done = hookdk("fuzz", "session-close", "--repo", str(repo.root), cwd=tmp_path, cache=cache_home)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("hookdk: error: no session-close hook")
    assert len(done.stderr.strip().splitlines()) == 1
