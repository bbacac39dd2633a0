"""``hookdk watch``: a real watch process, real saves, real signals.

Every test starts ``hookdk watch --json`` (one JSON line per run) in a subprocess, saves
files with ordinary writes, and reads the runs it prints. The environment carries a
marker, so that after the watch ends the test can look for any process still holding it
(the warm interpreter, a hook, anything they started).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from hoophooks_dk.watch import watch

WAIT = 60.0  # seconds for any one run to show up; generous for a loaded machine

PRINT = 'print("{}")\n'
ECHO_EXIT_CODE = """\
import json, os
print(json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])["event_session_close"]["exit_code"])
"""
POSTS_PAYLOAD = """\
import os, urllib.request
body = os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"].encode()
urllib.request.urlopen("http://siem.example.com/ingest", data=body, timeout=10).read()
print("posted")
"""


class Watch:
    """A running ``hookdk watch --json`` and the runs it has printed."""

    def __init__(self, repo: Path, *args: str) -> None:
        self.marker = uuid.uuid4().hex
        env = dict(os.environ, HOOKDK_TEST_MARKER=self.marker)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hoophooks_dk", "watch", "--json", "--repo", str(repo), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next_run(self) -> dict:
        try:
            line = self._lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no run printed within {WAIT} s") from None
        assert line is not None, f"watch ended: {self.stop()}"
        return json.loads(line)

    def interrupt(self, number: int = signal.SIGINT) -> tuple[int, str]:
        """SIGINT, as Ctrl-C sends it (or another signal); the exit code and stderr."""
        self.process.send_signal(number)
        return self.stop()

    def stop(self) -> tuple[int, str]:
        try:
            _, stderr = self.process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
            raise AssertionError(f"watch still running after {WAIT} s: {stderr}") from None
        return self.process.returncode, stderr

    def survivors(self) -> list[int]:
        """Pids of processes still carrying this watch's marker (polled briefly: a
        killed process can take a moment to be reaped by init)."""
        needle = f"HOOKDK_TEST_MARKER={self.marker}".encode()
        deadline = time.monotonic() + 5
        while True:
            found = [pid for pid in _pids() if needle in _environ(pid)]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours
        return b""


def save(repo, source: str, event: str = "session-close") -> None:
    repo.write(f"hoop-hooks/{event}.runbook.py", source)


def output_of(run: dict) -> str:
    assert run["error"] is None, run
    (result,) = run["results"]
    return result["output"].strip()


@pytest.mark.parametrize("runner", ["fast", "subprocess"])
def test_watch_fires_on_each_save_survives_broken_hooks_and_ends_on_sigint(runbooks, runner):
    runbooks.hooks(PRINT.format("open"), PRINT.format("one"))
    watching = Watch(runbooks.root, "--runner", runner)  # the capture is on by default
    first = watching.next_run()
    assert (first["run"], first["changed"], output_of(first)) == (1, [], "one")

    save(runbooks, PRINT.format("two"))
    second = watching.next_run()
    assert second["changed"] == ["hoop-hooks/session-close.runbook.py"]
    assert output_of(second) == "two"

    # As editors save: a new file renamed over the old one.
    runbooks.write("hoop-hooks/.session-close.runbook.py.swp", PRINT.format("renamed"))
    (runbooks.root / "hoop-hooks/.session-close.runbook.py.swp").rename(
        runbooks.root / "hoop-hooks/session-close.runbook.py"
    )
    renamed = watching.next_run()
    assert renamed["changed"] == ["hoop-hooks/session-close.runbook.py"]
    assert output_of(renamed) == "renamed"

    save(runbooks, "print(f'{{x}}')\n")  # Hoop would not load it: {{ starts an action
    broken = watching.next_run()
    assert broken["results"] == [] and not broken["ok"]
    assert "Hoop would not load either hook" in broken["error"]
    assert [hint["rule"] for hint in broken["hints"]] == ["HK201"]

    save(runbooks, "raise RuntimeError('boom')\n")
    crashed = watching.next_run()
    (result,) = crashed["results"]
    assert result["exit_code"] == 1 and "RuntimeError: boom" in result["output"]

    save(runbooks, POSTS_PAYLOAD)  # one capture serves the whole watch: it still answers
    posted = watching.next_run()
    assert output_of(posted) == "posted"
    assert [r["url"] for r in posted["results"][0]["requests"]] == [
        "http://siem.example.com/ingest"
    ]
    (sent,) = posted["results"]
    assert any(leak["secret"] == "input_file" for leak in sent["leaks"])
    assert not posted["ok"]  # a leak fails the run, as it fails `hookdk fire`

    code, stderr = watching.interrupt()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "watch stopped" in stderr
    assert watching.survivors() == []


@pytest.mark.parametrize(
    ("runner", "number"),
    [("fast", signal.SIGINT), ("subprocess", signal.SIGINT), ("fast", signal.SIGTERM)],
)
def test_sigint_while_a_hook_runs_stops_the_hook_too(runbooks, tmp_path, runner, number):
    started = tmp_path / "started"
    hang = f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(300)\n"
    runbooks.hooks(hang, hang)
    watching = Watch(runbooks.root, "--runner", runner)
    deadline = time.monotonic() + WAIT
    while not started.exists():
        assert time.monotonic() < deadline, "the hook never started"
        assert watching.process.poll() is None, watching.stop()
        time.sleep(0.05)
    code, stderr = watching.interrupt(number)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert watching.survivors() == []


def test_a_settings_file_save_fires_again(runbooks):
    runbooks.hooks(PRINT.format("open"), PRINT.format("close"))
    watching = Watch(runbooks.root)
    try:
        assert output_of(watching.next_run()) == "close"
        runbooks.write("hookdk.toml", "# settings\n")
        run = watching.next_run()
        assert run["changed"] == ["hookdk.toml"]
        assert output_of(run) == "close"
        runbooks.write("README.md", "not watched\n")
        save(runbooks, PRINT.format("again"))
        run = watching.next_run()  # the README save fired nothing: this is the hook's
        assert run["changed"] == ["hoop-hooks/session-close.runbook.py"]
    finally:
        watching.interrupt()


def test_a_payload_file_is_read_again_on_each_save(runbooks, tmp_path):
    runbooks.hooks(PRINT.format("open"), ECHO_EXIT_CODE)
    payload = tmp_path / "close.json"
    payload.write_text('{"event_session_close": {"exit_code": 3, "output": null}}')
    watching = Watch(runbooks.root, "--payload", str(payload))
    try:
        assert output_of(watching.next_run()) == "3"
        payload.write_text("{not json")
        broken = watching.next_run()
        assert broken["changed"] == [str(payload)]
        assert "invalid JSON" in broken["error"]
        payload.write_text('{"event_session_close": {"exit_code": 4, "output": null}}')
        assert output_of(watching.next_run()) == "4"
    finally:
        watching.interrupt()


def test_watch_refuses_ref_and_a_missing_repo(tmp_path):
    for args, needle in (
        (["--ref", "HEAD"], "--ref"),
        (["--repo", str(tmp_path / "nowhere")], "no such directory"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "hoophooks_dk", "watch", *args],
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 2, done
        assert needle in done.stderr and "Traceback" not in done.stderr


def test_core_watch_sees_the_hooks_folder_appear_and_reopens_on_settings(runbooks):
    """No hoop-hooks/ at start: the run says so, and creating it is seen (the watch moves
    onto the new folder). One emulator serves the runs until a settings file changes."""
    from hoophooks_dk.emulator import Emulator
    from hoophooks_dk.runtime.forkserver import ForkServerRunner

    runbooks.root.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    guard = threading.Timer(WAIT, stop.set)  # a missed save ends the watch, not the test run
    guard.start()

    opened: list[ForkServerRunner] = []

    @contextlib.contextmanager
    def open_emulator():
        with ForkServerRunner() as runner:  # stopped when the watch ends
            opened.append(runner)
            yield Emulator(runbooks.root, runner=runner)

    def fire(emulator):
        return [emulator.fire("session-close")]

    runs = watch(runbooks.root, open_emulator, fire, stop=stop)
    try:
        first = next(runs)
        assert first.results == [] and "no session-close hook" in first.error
        runbooks.hooks(PRINT.format("open"), PRINT.format("here"))
        later = next(runs)
        while later.error is not None:  # the folder, then its files, may come separately
            later = next(runs)
        assert later.results[0].output.strip() == "here"
        assert len(opened) == 1  # one emulator (one warm runner) for every run so far
        runbooks.write("hookdk.toml", "# settings\n")
        after_settings = next(runs)
        assert after_settings.changed == ("hookdk.toml",)
        assert after_settings.results[0].output.strip() == "here"
        assert len(opened) == 2  # settings are read when an emulator is made: a new one
        assert opened[0].server_pid is None  # the first was closed
    finally:
        runs.close()
        guard.cancel()


# --- watch --flow: a whole session on each save -------------------------------------------

PRINT_EVENT = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
opened = payload["event_session_open"]
event = "session-open" if opened else "session-close"
print("{word}", event, (opened or {{}}).get("user_email"))
"""


def test_watch_flow_plays_the_session_in_event_order_on_each_save(runbooks):
    runbooks.hooks(PRINT_EVENT.format(word="open"), PRINT_EVENT.format(word="close"))
    args = ("--flow", "review-run-later", "--run-by", "runner@example.com", "--sequential")
    watching = Watch(runbooks.root, *args)
    try:
        first = watching.next_run()
        assert first["flow"] == "review-run-later" and first["error"] is None, first
        outputs = [result["output"].split() for result in first["results"]]
        assert [words[:2] for words in outputs] == [
            ["open", "session-open"],
            ["open", "session-open"],
            ["close", "session-close"],
        ]
        assert outputs[1][2] == "runner@example.com"  # the approved run's second open
        assert len({result["sid"] for result in first["results"]}) == 1  # one session

        save(runbooks, PRINT_EVENT.format(word="edited"))
        second = watching.next_run()
        assert second["changed"] == ["hoop-hooks/session-close.runbook.py"]
        assert second["results"][-1]["output"].split()[:2] == ["edited", "session-close"]
        assert second["results"][0]["sid"] != first["results"][0]["sid"]  # a new session
    finally:
        code, stderr = watching.interrupt()
    assert code == 0, stderr


def test_watch_flow_that_fires_no_hook_says_so_in_its_run(runbooks):
    runbooks.hooks(PRINT_EVENT.format(word="open"), PRINT_EVENT.format(word="close"))
    watching = Watch(runbooks.root, "--flow", "ai-blocked")
    try:
        first = watching.next_run()
        assert (first["error"], first["results"], first["ok"]) == (None, [], True), first
        assert first["notes"][0].startswith("Hoop fires no hook for flow ai-blocked: ")
    finally:
        code, stderr = watching.interrupt()
    assert code == 0, stderr


def test_watch_flow_prints_each_run_as_hookdk_session_does(runbooks):
    runbooks.hooks(PRINT.format("opened"), PRINT.format("closed"))
    process = subprocess.Popen(
        [sys.executable, "-m", "hoophooks_dk", "watch", "--repo", str(runbooks.root)]
        + ["--flow", "client-left", "--no-clear"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:  # the run is printed whole before the watch waits
            lines.append(line.rstrip("\n"))
            if line.startswith("no session-close"):
                break
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 0, stderr
    assert "flow client-left: open" in lines
    assert any(line.startswith("ok session-open") for line in lines), lines
    assert "    opened" in lines and "    closed" not in lines
    assert lines[-1].startswith("no session-close: Hoop fires none for this flow")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--kill-after", "1"], "kill_after 1 s (--kill-after) is below the timeout 15 s"),
        (["--respond", "x"], "--respond"),
        (["--live", "--respond", "503"], "--live and --respond contradict each other"),
        (["--flow", "nope"], "unknown flow 'nope'"),
        (["--flow", "exec", "--duration", "-1"], "duration -1 s (--duration)"),
        (["--flow", "exec", "--run-by", "a@example.com"], "run_by (--run-by) applies to flow"),
        (["--flow", "exec", "session-open"], "--flow plays a whole session"),
        (["--sequential"], "--sequential applies to a session: give --flow NAME"),
        (["--env-file", "missing.env"], "--env-file missing.env: no such file"),
    ],
)
def test_watch_refuses_bad_options_before_any_run(runbooks, args, needle):
    """One error on stderr, exit 2, and nothing printed as a run: not a watch that keeps
    printing NOT RUN for an option no save can fix."""
    runbooks.hooks(PRINT.format("open"), PRINT.format("close"))
    done = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", "watch", "--repo", str(runbooks.root), *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=runbooks.root,
    )
    assert done.returncode == 2, done
    assert needle in done.stderr, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    # one message (click puts its usage lines above the ones that are usage errors)
    assert len([line for line in done.stderr.splitlines() if "rror: " in line]) == 1


def test_a_settings_file_saved_with_an_error_is_a_run_not_the_end(runbooks):
    runbooks.hooks(PRINT.format("open"), PRINT.format("close"))
    watching = Watch(runbooks.root)
    try:
        assert output_of(watching.next_run()) == "close"
        runbooks.write("hookdk.toml", "timeout = 'soon'\n")
        broken = watching.next_run()
        assert broken["changed"] == ["hookdk.toml"] and broken["results"] == []
        assert "timeout must be a number of seconds above 0" in broken["error"]
        runbooks.write("hookdk.toml", "timeout = 5\n")
        assert output_of(watching.next_run()) == "close"
    finally:
        code, stderr = watching.interrupt()
    assert code == 0, stderr
