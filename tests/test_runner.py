"""Running scripts as the agent does: real python3 processes, exact output shaping.

Every test that takes ``runner`` runs twice: with ``SubprocessRunner`` (one interpreter per
event, the agent's own process model) and with ``ForkServerRunner`` (one warm interpreter
forking a child per event), which must be indistinguishable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from hoophooks_dk.runtime.forkserver import ForkServerRunner
from hoophooks_dk.runtime.runner import SubprocessRunner, hoop_output, kill_group

ENV = dict(os.environ)


@pytest.fixture(scope="module")
def fork_server():
    runner = ForkServerRunner()
    yield runner
    runner.close()


@pytest.fixture(params=["subprocess", "fast"])
def runner(request):
    if request.param == "subprocess":
        return SubprocessRunner()
    return request.getfixturevalue("fork_server")


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return not stat.read().rpartition(") ")[2].startswith("Z")
    except FileNotFoundError:  # reaped meanwhile
        return False


def run(runner, source: str, timeout: float = 10.0):
    return runner.run(source.encode(), ENV, timeout)


def test_exactly_4096_bytes_is_not_cut(runner):
    result = run(runner, "import sys; sys.stdout.write('x' * 4096)")
    assert result.output == "x" * 4096


def test_one_byte_over_is_cut_with_hoops_suffix(runner):
    result = run(runner, "import sys; sys.stdout.write('x' * 4097)")
    assert result.output == "x" * 4096 + " [truncated 1 byte(s)]"
    assert len(result.raw_output) == 4097


def test_a_cut_through_a_multibyte_character_shows_one_fffd_per_broken_byte(runner):
    # 4094 ASCII bytes, then a 3-byte euro sign: the cut keeps 2 of its 3 bytes.
    result = run(runner, "import sys; sys.stdout.write('a' * 4094 + '\u20ac' + 'tail')")
    assert result.output == "a" * 4094 + "\ufffd\ufffd" + " [truncated 5 byte(s)]"


def test_invalid_utf8_is_replaced_per_byte_as_go_json_does():
    assert hoop_output(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"
    assert hoop_output("caf\u00e9".encode()) == "caf\u00e9"


def test_stdout_and_stderr_are_merged(runner):
    result = run(
        runner, "import sys; print('out'); sys.stdout.flush(); print('err', file=sys.stderr)"
    )
    assert sorted(result.output.split()) == ["err", "out"]


def test_an_uncaught_exception_exits_1_with_its_traceback(runner):
    result = run(runner, "raise RuntimeError('collector down')")
    assert result.exit_code == 1
    assert "RuntimeError: collector down" in result.output
    assert 'File "<stdin>", line 1' in result.output


def test_exit_codes_pass_through(runner):
    assert run(runner, "import sys; sys.exit(7)").exit_code == 7
    assert run(runner, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)").exit_code == -1


def test_script_comes_on_stdin_as_on_the_agent(runner):
    result = run(runner, "import sys; print(repr(__file__), sys.argv, repr(sys.stdin.read()))")
    assert result.output.strip() == "'<stdin>' [''] ''"


@pytest.mark.parametrize("size", [0, 100, 65535, 65536, 65537, 1 << 20])
def test_a_script_of_any_size_arrives_whole(runner, size):
    """Most scripts fit in the pipe and go in at once; a larger one is written on by a
    thread as the hook reads it. Either way python3 gets every byte."""
    last = f"print('all {size} bytes')\n"  # runs only if the end arrived
    script = ("#" * max(0, size - len(last) - 1) + "\n" + last)[-size:] if size else ""
    result = run(runner, script)
    assert result.exit_code == 0, result.output
    assert len(script) == size
    assert result.output == (f"all {size} bytes\n" if size > len(last) else "")


def test_working_directory_is_a_scratch_folder_not_the_caller(runner):
    result = run(runner, "import os; print(os.getcwd())")
    assert result.output.strip() != os.getcwd()
    assert "hookdk-run-" in result.output


def test_at_the_timeout_the_result_is_the_gateways_and_the_hook_runs_on(runner, tmp_path):
    """docs/hoop-runtime.md section 3: the gateway records -2 and its own text at the
    timeout, but nothing ends the hook; what it does later still happens."""
    later = tmp_path / "after-the-timeout"
    source = f"""
import time
print("started", flush=True)
time.sleep(0.8)
open({str(later)!r}, "w").close()
print("finished")
"""
    result = runner.run(source.encode(), ENV, 0.3, 10)
    assert (result.timed_out, result.exit_code, result.execution_time_sec) == (True, -2, 0)
    assert result.output.startswith(
        "timeout (300ms) waiting for a response from agent, name=hookdk, version="
    )
    assert (result.hook_exit_code, result.hook_output) == (0, "started\nfinished\n")
    assert later.exists() and result.warnings == ()


def test_the_hard_limit_ends_the_hook_and_its_process_group(runner):
    source = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("waiting", child.pid, flush=True)
time.sleep(60)
"""
    result = runner.run(source.encode(), ENV, 0.3, 4)  # printed well before 4 s
    word, pid = result.hook_output.split()
    assert (result.timed_out, result.exit_code, result.hook_exit_code) == (True, -2, -1)
    assert word == "waiting"
    assert "--kill-after" in result.warnings[0]
    assert not alive(int(pid)), "the hook's child survived the hard limit"


def test_a_background_process_holding_the_output_is_named_and_ended(runner):
    """The hook exits at once, but what it started keeps stdout open: the agent would
    never answer. The result says why, and that process is ended."""
    source = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("done", child.pid)
"""
    result = runner.run(source.encode(), ENV, 0.5, 30)
    word, pid = result.hook_output.split()
    assert (result.timed_out, result.exit_code, result.hook_exit_code) == (True, -2, 0)
    assert word == "done"
    assert "kept its output open" in result.warnings[0]
    assert not alive(int(pid)), "the background process survived"


def test_kill_after_below_the_timeout_is_refused(runner):
    from hoophooks_dk.errors import HookdkError

    with pytest.raises(HookdkError, match="below the timeout"):
        runner.run(b"", ENV, 5, 1)


def test_durations_are_precise_and_whole_seconds(runner):
    result = run(runner, "import time; time.sleep(0.3)")
    assert result.duration >= 0.3
    assert result.execution_time_sec == int(result.duration)


def test_a_missing_interpreter_is_a_user_error():
    from hoophooks_dk.errors import HookdkError

    with pytest.raises(HookdkError, match="cannot run 'no-such-python'"):
        SubprocessRunner("no-such-python").run(b"", ENV, 5)


LEAVES_A_SLEEPER = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60); print('survived')"])
print("started", flush=True)
"""


def test_kill_group_ends_what_a_reaped_hook_left_in_its_group():
    """The group outlives its leader: after the hook has exited and been reaped, the one
    group killer still ends the process it left behind (which holds the output open)."""
    leader = subprocess.Popen(
        [sys.executable, "-c", LEAVES_A_SLEEPER], stdout=subprocess.PIPE, start_new_session=True
    )
    with leader.stdout:
        assert leader.stdout.readline() == b"started\n"
        assert leader.wait() == 0  # reaped: only the sleeper keeps the group alive
        kill_group(leader.pid)
        # End of file once the sleeper is dead; had it survived, it would print after 60 s.
        assert leader.stdout.read() == b"", "the process left in the group survived"


def test_kill_group_of_a_group_that_is_gone_is_silent():
    """ESRCH: every member exited and was reaped (a kill racing the hook's own exit)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    gone.wait()
    kill_group(gone.pid)  # nothing left to kill: no error


SHOWS_DISPOSITIONS = """\
import signal
print(signal.getsignal(signal.SIGINT) is signal.default_int_handler,
      signal.getsignal(signal.SIGQUIT) is signal.SIG_DFL)
"""


@pytest.mark.parametrize("kind", ["subprocess", "fast"])
def test_a_hooks_signals_do_not_depend_on_how_the_kit_was_started(tmp_path, kind):
    """A kit started as a shell's background job (SIGINT and SIGQUIT ignored, and kept
    so across exec) still gives its hooks SIGINT and SIGQUIT at their defaults, as the
    agent's hooks have them, on both runners."""
    from run_hookdk import make_repo

    make_repo(tmp_path / "repo", SHOWS_DISPOSITIONS)

    def as_a_background_job():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)

    command = [sys.executable, "-m", "hoophooks_dk", "fire", "session-close", "--json"]
    done = subprocess.run(
        [*command, "--runner", kind, "--repo", str(tmp_path / "repo")],
        preexec_fn=as_a_background_job,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["output"].split() == ["True", "True"]
