"""Nothing a hook starts outlives the run, and the kit knows all of it.

Every hook runs below a keeper (``runtime.keeper``): the result lists what the hook left
running when it exited, detached processes included (a new session, a double fork), and
the kit ends it when the fire, session or test ends. A kit killed by SIGKILL takes its
hooks with it, and the next run removes the temporary folders it left. Each check asks
the processes themselves (their pids, written by the hook) whether they still run: after
the kit says it ended them, they must be gone at once, without waiting for anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_hookdk import hookdk, hookdk_command, make_repo

from hoophooks_dk.runtime import tempdirs
from hoophooks_dk.runtime.forkserver import ForkServerRunner
from hoophooks_dk.runtime.keeper import lingering
from hoophooks_dk.runtime.runner import SubprocessRunner

ENV = dict(os.environ)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie has ended; only its parent's wait is missing
    return not (stat.exists() and stat.read_text().rpartition(") ")[2].startswith("Z"))


def gone_soon(pids: list[int]) -> bool:
    """For what another process ends on its own (a keeper whose kit was killed): poll,
    up to 30 s on a loaded machine."""
    for _ in range(600):
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def fork_server():
    runner = ForkServerRunner()
    yield runner
    runner.close()


@pytest.fixture(params=["subprocess", "fast"])
def runner(request):
    return (
        SubprocessRunner()
        if request.param == "subprocess"
        else request.getfixturevalue("fork_server")
    )


# A hook that leaves a sleeper behind in every way a process can leave its parent's group.
LEAVES = """
import os, subprocess, sys
pids = []
detached = subprocess.Popen(["sleep", "300"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pids.append(detached.pid)
read, write = os.pipe()
if os.fork() == 0:  # a daemon: fork, new session, fork again, the middle one exits
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.execvp("sleep", ["sleep", "301"])
    os._exit(0)
os.close(write)
pids.append(int(os.read(read, 32)))
print(" ".join(map(str, pids)))
"""


def test_what_a_hook_leaves_running_is_listed_and_ended_with_the_fire(runner):
    result = runner.run(LEAVES.encode(), ENV, 10)
    pids = [int(pid) for pid in result.hook_output.split()]

    assert result.exit_code == 0 and not result.timed_out, result.output
    listed = {survivor.pid: survivor.command for survivor in result.left_running}
    assert listed == {pids[0]: "sleep 300", pids[1]: "sleep 301"}
    assert "on the agent it would keep running: pid" in result.warnings[0]
    assert not [pid for pid in pids if alive(pid)], "ended before run() returned"


def test_inside_a_lingering_block_they_run_until_the_block_ends(runner):
    with lingering():
        result = runner.run(LEAVES.encode(), ENV, 10)
        pids = [int(pid) for pid in result.hook_output.split()]
        assert all(alive(pid) for pid in pids), "still running while the block lasts"
    assert not [pid for pid in pids if alive(pid)]


HOLDS_THE_OUTPUT = """
import subprocess
holder = subprocess.Popen(["sleep", "300"], start_new_session=True)  # inherits stdout
print(holder.pid, flush=True)
"""


def test_a_detached_process_holding_the_output_is_really_ended(runner):
    """It left the hook's process group, so a group kill missed it: the result said the
    kit had ended it while it ran on."""
    result = runner.run(HOLDS_THE_OUTPUT.encode(), ENV, 0.5, 30)
    (pid,) = [int(word) for word in result.hook_output.split()]

    assert (result.timed_out, result.hook_exit_code) == (True, 0)
    assert "kept its output open" in " ".join(result.warnings)
    assert [survivor.pid for survivor in result.left_running] == [pid]
    assert not alive(pid)


RUNS_ON = """
import subprocess, sys, time
child = subprocess.Popen(["sleep", "300"])
print(child.pid, flush=True)
time.sleep(300)
"""


def test_the_hard_limit_ends_the_hook_and_all_it_started(runner):
    result = runner.run(RUNS_ON.encode(), ENV, 0.3, 4)  # printed well before 4 s
    (pid,) = [int(word) for word in result.hook_output.split()]

    assert (result.timed_out, result.hook_exit_code) == (True, -1)
    assert "everything it started" in result.warnings[0]
    assert result.left_running == ()  # the hook never ended on its own
    assert not alive(pid)


def test_a_session_keeps_them_until_it_ends(runbooks):
    """What the open hook leaves runs on while the close hook runs (as on the agent), and
    the session ends it."""
    from hoophooks_dk.emulator import Emulator

    close = """
import os, sys
pid = int(open(os.environ["PID_FILE"]).read())
os.kill(pid, 0)  # raises if the open hook's sleeper was already gone
print("sleeper alive")
"""
    opener = """
import os, subprocess
sleeper = subprocess.Popen(["sleep", "300"], start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
open(os.environ["PID_FILE"], "w").write(str(sleeper.pid))
"""
    repo = runbooks.hooks(opener, close)
    pid_file = repo.root.parent / "sleeper.pid"
    env = ENV | {"PID_FILE": str(pid_file)}
    results = Emulator(repo.root, env=env).session(sequential=True)

    assert [r.exit_code for r in results] == [0, 0], [r.output for r in results]
    assert results[1].output == "sleeper alive\n"
    assert [s.command for s in results[0].left_running] == ["sleep 300"]
    assert not alive(int(pid_file.read_text()))


def test_fire_json_lists_what_the_hook_left_running(tmp_path):
    make_repo(tmp_path, LEAVES)
    fired = hookdk("fire", "session-close", "--json", cwd=tmp_path)

    assert fired.returncode == 0, fired.stderr
    result = json.loads(fired.stdout)
    pids = [int(pid) for pid in result["hook_output"].split()]
    assert [entry["pid"] for entry in result["left_running"]] == sorted(pids)
    assert {entry["command"] for entry in result["left_running"]} == {"sleep 300", "sleep 301"}
    assert any("on the agent it would keep running" in w for w in result["warnings"])
    assert not [pid for pid in pids if alive(pid)]


# --- a kit killed by SIGKILL ---------------------------------------------------------------

WAITS = """\
import os, subprocess, time
child = subprocess.Popen(["sleep", "300"])
detached = subprocess.Popen(["sleep", "300"], start_new_session=True)
with open(os.environ["HOOKDK_TEST_PIDS"], "w") as pids:
    pids.write(f"{os.getpid()} {child.pid} {detached.pid}")
time.sleep(300)
"""


def _pids_when_written(path: Path, process: subprocess.Popen) -> list[int]:
    for _ in range(600):  # up to 60 s on a busy machine
        if path.exists() and len(path.read_text().split()) == 3:
            return [int(pid) for pid in path.read_text().split()]
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError("the hook never started")


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
def test_sigkill_of_hookdk_ends_its_hooks_and_the_next_run_removes_its_folders(tmp_path, runner):
    repo = tmp_path / "repo"
    make_repo(repo, WAITS)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = os.environ | {"TMPDIR": str(scratch), "HOOKDK_TEST_PIDS": str(tmp_path / "pids")}
    argv = [*hookdk_command(), "fire", "session-close", "--runner", runner]
    process = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.PIPE, text=True)
    pids = _pids_when_written(tmp_path / "pids", process)

    process.kill()
    process.communicate(timeout=60)

    assert gone_soon(pids), f"still running: {[pid for pid in pids if alive(pid)]}"
    left = sorted(p.name.split("-")[1] for p in scratch.iterdir())
    assert "capture" in left and "run" in left, left  # SIGKILL: nothing could clean up
    (repo / "hoop-hooks" / "session-close.runbook.py").write_text("print('next')\n")
    again = subprocess.run(
        [*hookdk_command(), "fire", "session-close", "--live"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert list(scratch.iterdir()) == []


PLUGIN_WAITS = """
def test_fires(hoop_hooks):
    hoop_hooks.fire("session-close")
"""


def test_sigkill_of_pytest_ends_its_hooks(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo, WAITS)
    (repo / "test_hook.py").write_text(PLUGIN_WAITS)
    env = os.environ | {"HOOKDK_TEST_PIDS": str(tmp_path / "pids")}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_hook.py"]
    process = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.PIPE, text=True)
    pids = _pids_when_written(tmp_path / "pids", process)

    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)

    assert gone_soon(pids), f"still running: {[pid for pid in pids if alive(pid)]}"


def test_sweep_removes_only_folders_whose_owner_is_gone(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        dead = tmp_path / f"hookdk-run-{ended.pid}_abc"
        live = tmp_path / f"hookdk-capture-{sleeper.pid}_abc"
        mine = tmp_path / f"hookdk-run-{os.getpid()}_abc"
        other = tmp_path / "hookdk-tests-cache-xyz"  # not a name the kit gives a run
        for folder in (dead, live, mine, other):
            (folder / "bodies").mkdir(parents=True)

        removed = tempdirs.sweep(str(tmp_path))
    finally:
        sleeper.kill()
        sleeper.wait()

    assert removed == [str(dead)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, mine.name, other.name])


# --- the pytest plugin ---------------------------------------------------------------------

DETACHED_SENDER = """\
import json, os, subprocess, sys
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
sender = '''
import sys, time, urllib.request
for n in range(100000):
    urllib.request.urlopen(urllib.request.Request(
        "http://siem.example.com/late", data=str(n).encode()), timeout=5).read()
    time.sleep(0.01)
'''
if payload["event_session_close"]:
    process = subprocess.Popen([sys.executable, "-c", sender], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.environ["SENDER_PID"], "w") as pid:
        pid.write(str(process.pid))
print("fired")
"""

SENDER_TESTS = """
import os, time

def test_first_leaves_a_sender(hoop_hooks, hoop_siem):
    result = hoop_hooks.fire("session-close")
    pid = int(open(os.environ["SENDER_PID"]).read())
    assert [s.pid for s in result.left_running] == [pid]
    # it keeps sending while the test lasts: its requests are this test's
    for _ in range(1200):
        if [r for r in hoop_siem.requests if r.url.endswith("/late")]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the sender sent nothing while its test lasted")

def test_second_sees_none_of_it(hoop_hooks, hoop_siem, hoop_capture):
    pid = int(open(os.environ["SENDER_PID"]).read())
    try:
        os.kill(pid, 0)
        raise AssertionError("the sender outlived the test that started it")
    except ProcessLookupError:
        pass
    result = hoop_hooks.fire("session-open")
    assert result.ok and result.left_running == []
    assert [r.url for r in hoop_siem.requests] == []
    assert hoop_siem.strays == []

def test_a_request_of_another_run_is_a_stray(hoop_siem, hoop_capture):
    import urllib.request
    proxy = hoop_capture.tagged_proxy_url("someone-else")  # a tag no run of this test has
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
    opener.open(urllib.request.Request("http://siem.example.com/stray", data=b"x")).read()
    assert hoop_capture.wait_idle(10)
    assert hoop_siem.requests == []
    assert [r.url for r in hoop_siem.strays] == ["http://siem.example.com/stray"]
"""


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
def test_a_detached_sender_is_ended_with_its_test_and_never_reaches_the_next(
    pytester, monkeypatch, runner
):
    hooks = pytester.path / "hoop-hooks"
    hooks.mkdir()
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(DETACHED_SENDER)
    pytester.makepyfile(test_hooks=SENDER_TESTS)
    pid_file = pytester.path / "sender.pid"
    monkeypatch.setenv("SENDER_PID", str(pid_file))

    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--hoop-repo", str(pytester.path), "--hoop-runner", runner
    )

    result.assert_outcomes(passed=3)
    assert not alive(int(pid_file.read_text()))


@pytest.mark.parametrize("source", ["print('nothing left')", LEAVES])
def test_inside_a_lingering_block_the_fast_runner_keeps_its_keepers_coming(source):
    """More events than the fork server keeps keepers ready for (three): a keeper whose
    hook left nothing ends at once, one whose hook left something is replaced while it
    lives on; either way the next event finds one, and the server is never restarted for
    want of one (it used to be, after waiting ten seconds)."""
    with ForkServerRunner() as runner, lingering():
        first = runner.run(source.encode(), ENV, 10)
        server = runner.server_pid
        results = [first, *(runner.run(source.encode(), ENV, 10) for _ in range(5))]
        assert runner.server_pid == server
    assert all(result.exit_code == 0 for result in results)
