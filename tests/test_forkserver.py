"""The fast runner: same observables as a fresh ``python3 < script``, at a fork's cost.

Most checks are differential: the same script goes through ``SubprocessRunner`` (the
agent's process model) and ``ForkServerRunner``, and the two results must be equal. The
rest cover what only a warm server has: isolation between events, restarts, concurrency.
"""

from __future__ import annotations

import http.server
import os
import re
import signal
import ssl
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import trustme

from hoophooks_dk.errors import HookdkError
from hoophooks_dk.runtime.forkserver import ForkServerRunner
from hoophooks_dk.runtime.runner import SubprocessRunner
from hoophooks_dk.wiring import make_runner

ENV = dict(os.environ)
# What legitimately differs between two processes: the scratch folder, object addresses.
VARYING = re.compile(r"hookdk-run-[A-Za-z0-9_]+|0x[0-9a-f]+")


@pytest.fixture(scope="module")
def fast():
    runner = ForkServerRunner()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def standard():
    return SubprocessRunner()


def run(
    runner,
    source: str,
    env: dict[str, str] | None = None,
    timeout: float = 10.0,
    kill_after: float | None = None,
):
    script = source if isinstance(source, bytes) else textwrap.dedent(source).encode()
    return runner.run(script, ENV if env is None else env, timeout, kill_after)


def same(standard, fast, source: str | bytes, env: dict[str, str] | None = None) -> str:
    """Run ``source`` through both runners; assert equal results; return the output."""
    expected, actual = run(standard, source, env), run(fast, source, env)
    assert VARYING.sub("<varies>", actual.output) == VARYING.sub("<varies>", expected.output)
    assert (actual.exit_code, actual.timed_out) == (expected.exit_code, expected.timed_out)
    return actual.output


# --- differential: the fast runner against a fresh interpreter -------------------------

SCRIPTS = {
    "globals and argv": """
        import sys
        print(list(globals().items()), sys.argv, sys.path[0] == '', sys.orig_argv)
        print(sys.executable, sys.flags, sys.stdin.read() == '')
    """,
    "stdio objects": """
        import sys
        for stream in (sys.stdin, sys.stdout, sys.stderr):
            print(stream.encoding, stream.errors, stream.line_buffering, stream.write_through,
                  stream.seekable(), stream.isatty(), stream.buffer.name)
    """,
    "descriptors": "import os; print(sorted(os.listdir('/proc/self/fd')))",
    "process group": "import os; print(os.getpgid(0) == os.getpid() == os.getsid(0))",
    "environment": "import os; print(list(os.environ.items()))",
    "signal handlers": """
        import signal
        print({s: signal.getsignal(s) for s in signal.valid_signals()})
    """,
    "warnings filters": "import warnings; print(warnings.filters)",
    "traceback": """
        def inner():
            raise ValueError("collector down")
        def outer():
            try:
                inner()
            except ValueError as error:
                raise RuntimeError("wrapped") from error
        print("before")
        outer()
    """,
    "syntax error": "x = (\n",
    "indentation error": "if True:\nprint(1)\n",
    "null byte": b"print(1)\x00\n",
    "not utf-8": b"print('\xff')\n",
    "latin-1 cookie on a pipe": b"# -*- coding: latin-1 -*-\nprint('\xe9')\n",
    "byte order mark": b"\xef\xbb\xbfprint('bom')\n",
    "exit none": "import sys; sys.exit()",
    "exit 3": "import sys; sys.exit(3)",
    "exit 256": "raise SystemExit(256)",
    "exit -1": "raise SystemExit(-1)",
    "exit huge": "raise SystemExit(2**70)",
    "exit true": "raise SystemExit(True)",
    "exit message": "import sys; print('out'); sys.exit('collector unreachable')",
    "exit object": "raise SystemExit(['a', 1])",
    "os._exit skips flush": "import os, sys; sys.stdout.write('lost'); os._exit(4)",
    "killed by a signal": "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
    "keyboard interrupt": "raise KeyboardInterrupt",
    "atexit after success": """
        import atexit
        atexit.register(lambda: print("atexit", "__file__" in globals()))
        atexit.register(print, "registered last, runs first")
        print("main")
    """,
    "atexit after sys.exit": """
        import atexit, sys
        atexit.register(lambda: print("atexit", "__file__" in globals()))
        sys.exit(2)
    """,
    "atexit after an exception": """
        import atexit
        atexit.register(print, "atexit")
        raise LookupError("x")
    """,
    "atexit handler that raises": """
        import atexit
        def broken():
            raise OSError("in handler")
        atexit.register(broken)
    """,
    "non-daemon thread is joined": """
        import threading, time
        def late():
            time.sleep(0.2)
            print("thread done", flush=True)
        threading.Thread(target=late).start()
        print("main done", flush=True)
    """,
    "daemon thread is not waited for": """
        import threading, time
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        print("main done")
    """,
    "stdout flushed before the traceback": "print('buffered'); raise ValueError('x')",
    "__del__ at exit": """
        class Closer:
            def __del__(self):
                print("closed")
        closer = Closer()
        print("main")
    """,
    "custom excepthook": """
        import sys
        sys.excepthook = lambda kind, value, tb: print("hooked", kind.__name__, value)
        raise ValueError("v")
    """,
    "excepthook that raises": """
        import sys
        def hook(kind, value, tb):
            raise TypeError("hook broke")
        sys.excepthook = hook
        raise ValueError("v")
    """,
    "excepthook that exits": """
        import sys
        def hook(kind, value, tb):
            sys.exit(9)
        sys.excepthook = hook
        raise ValueError("v")
    """,
    "excepthook missing": "import sys; del sys.excepthook; raise ValueError('v')",
    "last exception recorded": """
        import atexit, sys
        atexit.register(lambda: print(sys.last_type.__name__, sys.last_value))
        raise ValueError("remembered")
    """,
    "stdout closed": "import sys; sys.stdout.close()",
    "pickle from __main__": """
        import pickle
        class Event:
            pass
        print(type(pickle.loads(pickle.dumps(Event()))).__module__)
    """,
    "subprocess inherits output": """
        import subprocess, sys
        print("parent", flush=True)
        subprocess.run([sys.executable, "-c", "print('child')"])
    """,
    "stdin is at end of file": "import sys, os; print(repr(sys.stdin.read()), os.read(0, 10))",
}


@pytest.mark.parametrize("source", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_fast_runner_matches_a_fresh_interpreter(standard, fast, source):
    same(standard, fast, source)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_time_zone_follows_the_events_tz(standard, fast, zone):
    source = "import time, datetime; print(time.tzname, datetime.datetime(2024, 1, 1).astimezone())"
    same(standard, fast, source, ENV | {"TZ": zone})


def test_a_start_up_variable_change_starts_a_new_server(standard, fast):
    """PYTHONHASHSEED is read at start-up: the fast runner must honour it like python3."""
    source = "print(hash('hoop'), {'a', 'b', 'c', 'd', 'e'})"
    run(fast, "pass")
    before = fast.server_pid
    output = same(standard, fast, source, ENV | {"PYTHONHASHSEED": "123"})
    assert output == same(standard, fast, source, ENV | {"PYTHONHASHSEED": "123"})
    assert fast.server_pid != before


def test_what_a_launcher_script_adds_is_replayed_on_every_event(tmp_path):
    """``python3`` may be a wrapper (pyenv's shim): the fast runner's hooks must see the
    environment the wrapper hands the interpreter, including values derived from the
    working directory, and in the wrapper's order."""
    launcher = tmp_path / "python3"
    launcher.write_text(
        "#!/bin/sh\n"
        "export LAUNCHED_BY=wrapper\n"
        'export WRAPPER_DIR="$(pwd)"\n'
        "unset DROPPED_BY_WRAPPER\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    launcher.chmod(0o755)
    env = ENV | {"DROPPED_BY_WRAPPER": "1"}
    source = "import os; print(list(os.environ.items()))"
    with ForkServerRunner(str(launcher)) as fast:
        for number in range(2):
            event_env = env | {"EVENT": str(number)}
            output = same(SubprocessRunner(str(launcher)), fast, source, event_env)
            assert "('LAUNCHED_BY', 'wrapper')" in output
            assert "DROPPED_BY_WRAPPER" not in output


def test_large_scripts_and_outputs_pass_through(standard, fast):
    source = "#" + "x" * 1_000_000 + "\nimport sys; sys.stdout.write('y' * 300_000)\n"
    result = run(fast, source)
    assert result.exit_code == 0
    assert len(result.raw_output) == 300_000
    assert result.output.endswith(" [truncated 295904 byte(s)]")


# --- what only a warm server has ----------------------------------------------------------


def test_the_warm_server_is_restarted_after_it_is_killed(fast):
    assert run(fast, "print('first')").output == "first\n"
    pid = fast.server_pid
    os.kill(pid, signal.SIGKILL)
    _wait_until_gone(pid)
    assert run(fast, "print('second')").output == "second\n"
    assert fast.server_pid != pid


def test_a_waiting_child_that_dies_is_replaced(fast):
    run(fast, "pass")
    waiting = _children_of(fast.server_pid)
    assert waiting, "the server keeps children forked ahead"
    os.kill(waiting[0], signal.SIGKILL)
    for number in range(3):
        assert run(fast, f"print({number})").output == f"{number}\n"


def test_two_hundred_events_in_a_row(fast):
    for number in range(200):
        env = ENV | {"EVENT_NUMBER": str(number)}
        result = run(fast, "import os; print(os.environ['EVENT_NUMBER'])", env)
        assert (result.exit_code, result.output) == (0, f"{number}\n")


def test_environment_changes_do_not_leak_into_the_next_event(fast):
    run(fast, "import os; os.environ['LEAKED'] = '1'; os.putenv('LEAKED_C', '1')")
    result = run(fast, "import os; print(os.environ.get('LEAKED'), os.getenv('LEAKED_C'))")
    assert result.output == "None None\n"
    shell = run(fast, "import subprocess; subprocess.run(['sh', '-c', 'echo ${LEAKED_C-unset}'])")
    assert shell.output == "unset\n"


def test_each_event_has_its_own_scratch_directory_removed_afterwards(fast):
    first = run(fast, "import os; open('left-behind', 'w'); print(os.getcwd())").output.strip()
    second = run(fast, "import os; print(os.getcwd(), os.listdir())").output.split()
    assert first != second[0]
    assert second[1] == "[]"
    assert not Path(first).exists()
    assert "hookdk-run-" in first


def test_module_state_does_not_leak_into_the_next_event(fast):
    run(
        fast,
        """
        import json, sys, types
        json.dumps = lambda *args, **kwargs: "patched"
        sys.modules["planted"] = types.ModuleType("planted")
        sys.path.append("/planted")
        """,
    )
    result = run(
        fast, "import json, sys; print(json.dumps([1]), 'planted' in sys.modules, sys.path[-1])"
    )
    assert result.output.split()[:2] == ["[1]", "False"]
    assert result.output.split()[2] != "/planted"


def test_random_state_differs_between_events(fast):
    source = (
        "import random, uuid, tempfile; print(random.random(), uuid.uuid4(), tempfile.mktemp())"
    )
    outputs = {run(fast, source).output for _ in range(5)}
    assert len(outputs) == 5


def test_atexit_handlers_of_one_event_do_not_run_in_the_next(fast):
    first = run(fast, "import atexit; atexit.register(print, 'first atexit')")
    second = run(fast, "print('second')")
    assert (first.output, second.output) == ("first atexit\n", "second\n")


def test_threads_started_by_the_hook_are_joined_at_exit(fast):
    result = run(
        fast,
        """
        import threading, time
        workers = [threading.Thread(target=lambda n=n: (time.sleep(0.05), print(n))) for n in range(4)]
        for worker in workers:
            worker.start()
        """,
    )
    # print() writes the text and the newline separately: threads may interleave them.
    assert sorted(result.output.replace("\n", "")) == ["0", "1", "2", "3"]


def test_sys_exit_with_a_message(fast):
    result = run(fast, "import sys; sys.exit('collector unreachable')")
    assert (result.exit_code, result.output) == (1, "collector unreachable\n")


def test_a_hook_that_closes_its_output_and_hangs_times_out(fast):
    source = "import os, time; os.close(1); os.close(2); time.sleep(30)"
    result = run(fast, source, timeout=0.5, kill_after=1.0)
    assert (result.timed_out, result.exit_code, result.hook_exit_code) == (True, -2, -1)
    assert run(fast, "print('next')").output == "next\n"


def test_output_before_a_timeout_is_kept_even_if_a_grandchild_holds_the_pipe(fast):
    """A grandchild in its own session survives the group kill and keeps the output pipe
    open; what the hook printed before the timeout must still be reported."""
    source = """
        import subprocess, sys, time
        print("partial", flush=True)
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"], start_new_session=True)
        time.sleep(60)
    """
    result = run(fast, source, timeout=0.7, kill_after=4)  # printed well before 4 s
    assert (result.timed_out, result.exit_code, result.hook_output) == (True, -2, "partial\n")


def test_curl_started_by_a_hook_sees_the_events_environment(fast):
    with _http_server(_RecordingProxy) as (address, seen):
        env = ENV | {"http_proxy": f"http://{address}", "NO_PROXY": "", "no_proxy": ""}
        source = """
            import subprocess
            subprocess.run(["curl", "-s", "http://siem.example/ingest"], check=True)
        """
        result = run(fast, source, env)
    assert (result.exit_code, result.output) == (0, "proxied")
    assert seen == ["http://siem.example/ingest"]


def test_https_verification_follows_ssl_cert_file_per_event(fast, tmp_path):
    """ssl reads SSL_CERT_FILE when a context is made, in the child: not the server's."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    source = """
        import os, urllib.request
        try:
            print(urllib.request.urlopen(os.environ["URL"], timeout=5).read().decode())
        except Exception as error:
            print(type(error).__name__, getattr(error, "reason", error))
    """
    clean = {k: v for k, v in ENV.items() if "proxy" not in k.lower() and "SSL" not in k}
    with _http_server(_RecordingProxy, context) as (address, _):
        url = f"https://localhost:{address.split(':')[1]}/"
        trusted = run(fast, source, clean | {"URL": url, "SSL_CERT_FILE": str(ca_file)})
        untrusted = run(fast, source, clean | {"URL": url})
        trusted_again = run(fast, source, clean | {"URL": url, "SSL_CERT_FILE": str(ca_file)})
    assert trusted.output == "proxied\n" == trusted_again.output
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.output


def test_two_threads_can_share_one_runner(fast):
    failures: list[str] = []

    def fire(name: str) -> None:
        for number in range(15):
            env = ENV | {"WHO": f"{name}-{number}"}
            result = run(fast, "import os; print(os.environ['WHO'])", env)
            if result.output != f"{name}-{number}\n":
                failures.append(result.output)

    threads = [threading.Thread(target=fire, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_close_stops_the_warm_server():
    runner = ForkServerRunner()
    run(runner, "pass")
    pid, trash = runner.server_pid, runner._folders._trash
    runner.close()
    _wait_until_gone(pid)
    assert runner.server_pid is None
    assert not Path(trash).exists()  # nor the used scratch folders renamed into it
    assert run(runner, "print('again')").output == "again\n"  # starts afresh when used again
    runner.close()


# --- choosing a runner, and user errors ---------------------------------------------------


def test_make_runner_kinds():
    assert isinstance(make_runner("fast", "python3"), ForkServerRunner)
    assert isinstance(make_runner("subprocess", "python3"), SubprocessRunner)
    assert isinstance(make_runner("auto", "python3"), ForkServerRunner)
    with pytest.raises(HookdkError, match="unknown runner 'turbo'.*auto, fast, subprocess"):
        make_runner("turbo", "python3")


def test_a_missing_interpreter_is_a_user_error():
    with pytest.raises(HookdkError, match="cannot run 'no-such-python'"):
        ForkServerRunner("no-such-python").run(b"", ENV, 5)


def test_an_interpreter_that_cannot_serve_is_a_user_error(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'SyntaxError: this is not Python 3' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(HookdkError, match="did not start .SyntaxError: this is not Python 3"):
        ForkServerRunner(str(fake)).run(b"", ENV, 5)


# --- helpers ------------------------------------------------------------------------------


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        body = b"proxied"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _http_server:
    """A local HTTP(S) server in a thread; yields its address and the paths it saw."""

    def __init__(self, handler, context: ssl.SSLContext | None = None) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.seen = []
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        return f"{host}:{port}", self.server.seen

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def _wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # a zombie still answers kill(0): ask whether it is one
        state = Path(f"/proc/{pid}/stat")
        if state.exists() and state.read_text().split()[2] == "Z":
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} is still alive")
