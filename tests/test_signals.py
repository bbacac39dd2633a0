"""Stopping the kit by signal leaves no process and no temporary file behind.

A real ``hookdk fire --capture`` (and a real pytest run using the plugin) runs a hook
that starts a grandchild and a detached process (a session of its own, out of the hook's
process group) and then waits; the test sends the signal, and checks that the hook, both
processes and every temporary folder (the capture's CA, runner scratch folders) are
gone. TMPDIR points at a folder of the test's own so that "every temporary
folder" is something it can list.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_hookdk import hookdk_command, make_repo

HOOK = """\
import os, subprocess, time
grandchild = subprocess.Popen(["sleep", "300"])
detached = subprocess.Popen(["sleep", "300"], start_new_session=True)
with open(os.environ["HOOKDK_TEST_PIDS"], "w") as pids:
    pids.write(f"{os.getpid()} {grandchild.pid} {detached.pid}")
time.sleep(300)
"""
PIDS = 3  # the hook's, its grandchild's, the detached process's
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; only its parent's wait is missing
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def wait_for(path: Path, process: subprocess.Popen) -> list[int]:
    """The hook's, grandchild's and detached process's pids, once the hook wrote them."""
    for _ in range(600):  # up to 60 s on a busy machine
        if path.exists() and len(path.read_text().split()) == PIDS:
            return [int(pid) for pid in path.read_text().split()]
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError("the hook never started")


def gone_soon(pids: list[int]) -> bool:
    for _ in range(100):
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def start(argv: list[str], tmp_path: Path, cwd: Path) -> tuple[subprocess.Popen, Path, Path]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    pids = tmp_path / "pids"
    env = os.environ | {"TMPDIR": str(scratch), "HOOKDK_TEST_PIDS": str(pids)}
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, scratch, pids


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
@pytest.mark.parametrize("number", SIGNALS)
def test_hookdk_fire_stopped_by_a_signal_leaves_nothing(tmp_path, runner, number):
    repo = tmp_path / "repo"
    make_repo(repo, HOOK)
    argv = [*hookdk_command(), "fire", "session-close", "--capture", "--runner", runner]
    process, scratch, pids_file = start(argv, tmp_path, repo)
    pids = wait_for(pids_file, process)

    process.send_signal(number)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + number, stderr  # 130 for Ctrl-C, 143 for SIGTERM
    assert stderr == "hookdk: interrupted\n"  # one line: not click's "Aborted!", no traceback
    assert gone_soon(pids), f"still running: {[p for p in pids if alive(p)]}"
    assert list(scratch.iterdir()) == []


PLUGIN_TEST = """
def test_fires(hoop_hooks):
    hoop_hooks.fire("session-close")
"""


@pytest.mark.parametrize("number", SIGNALS)
def test_an_interrupted_pytest_run_leaves_nothing(tmp_path, number):
    repo = tmp_path / "repo"
    make_repo(repo, HOOK)
    (repo / "test_hook.py").write_text(PLUGIN_TEST)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_hook.py"]
    process, scratch, pids_file = start(argv, tmp_path, repo)
    pids = wait_for(pids_file, process)

    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode != 0
    assert gone_soon(pids), f"still running: {[p for p in pids if alive(p)]}\n{stdout}"
    leftovers = [p.name for p in scratch.iterdir() if not p.name.startswith("pytest-of-")]
    assert leftovers == [], stdout + stderr


# Each hook of a session writes its own file: the open and close hooks run at once.
SESSION_HOOK = HOOK.replace(
    'open(os.environ["HOOKDK_TEST_PIDS"], "w")',
    'open(os.environ["HOOKDK_TEST_PIDS"] + "-" + str(os.getpid()), "w")',
)


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
@pytest.mark.parametrize("number", SIGNALS)
def test_a_session_stopped_while_its_hooks_run_at_once_leaves_nothing(tmp_path, runner, number):
    """The interrupt reaches the main thread; the hooks run in a flow's worker threads."""
    repo = tmp_path / "repo"
    make_repo(repo, SESSION_HOOK)
    argv = [*hookdk_command(), "session", "--runner", runner]
    process, scratch, pids_file = start(argv, tmp_path, repo)
    pids: list[int] = []
    for _ in range(600):  # both hooks started, up to 60 s on a busy machine
        written = [p.read_text().split() for p in tmp_path.glob("pids-*")]
        if len(written) == 2 and all(len(pair) == PIDS for pair in written):
            pids = [int(pid) for pair in written for pid in pair]
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    assert len(pids) == 2 * PIDS, "the hooks never started"

    process.send_signal(number)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + number, stderr
    assert "Traceback" not in stderr
    assert gone_soon(pids), f"still running: {[p for p in pids if alive(p)]}"
    assert list(scratch.iterdir()) == []


OPEN_HOOK_THAT_ENDS = """\
import os
with open(os.environ["HOOKDK_TEST_PIDS"] + "-open", "w") as pid:
    pid.write(str(os.getpid()))
"""


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
@pytest.mark.parametrize("number", SIGNALS)
def test_a_session_stopped_while_only_its_close_hook_runs_leaves_nothing(tmp_path, runner, number):
    """The open hook has ended, the main thread waits on the close hook's step when the
    signal comes (on Python 3.11 an interrupted ``join()`` marked that step's thread as
    ended while its hook ran on, and the hook was left behind)."""
    repo = tmp_path / "repo"
    make_repo(repo, SESSION_HOOK)
    (repo / "hoop-hooks" / "session-open.runbook.py").write_text(OPEN_HOOK_THAT_ENDS)
    argv = [*hookdk_command(), "session", "--runner", runner]
    process, scratch, pids_file = start(argv, tmp_path, repo)
    opened = tmp_path / "pids-open"
    pids: list[int] = []
    for _ in range(600):  # the open hook done, the close hook started: up to 60 s
        written = [p for p in tmp_path.glob("pids-*") if p != opened]
        ready = opened.exists() and opened.read_text() and not alive(int(opened.read_text()))
        if ready and written and len(written[0].read_text().split()) == PIDS:
            pids = [int(pid) for pid in written[0].read_text().split()]
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    assert len(pids) == PIDS, "the close hook never started"

    process.send_signal(number)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 128 + number, stderr  # 130 for Ctrl-C, 143 for SIGTERM
    assert stderr == "hookdk: interrupted\n"  # one line: not click's "Aborted!", no traceback
    assert gone_soon(pids), f"still running: {[p for p in pids if alive(p)]}"
    assert list(scratch.iterdir()) == []
