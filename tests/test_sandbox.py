"""``--sandbox`` (Linux): a hook that goes around the proxy reaches nothing, while what it
sends through the proxy is captured as usual, and the hook runs as it would otherwise.

A listening socket in this test process stands for "the network": without the sandbox
the hook reaches it by ignoring the proxy; with it, the connection is refused.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from run_hookdk import hookdk_command, make_repo

# The suite needs what it tests (as it needs curl): on a machine without user and network
# namespaces these tests fail with the sandbox's own one-line reason, never skip.

HOOK = """\
import os, socket, sys, urllib.request
urllib.request.urlopen("https://siem.example.com/events", data=b"via proxy", timeout=5).read()
try:
    socket.create_connection(("127.0.0.1", int(os.environ["BYPASS_PORT"])), timeout=3)
    print("bypass reached the host")
except OSError as error:
    print("bypass failed:", error)
print("uid", os.getuid())
sys.exit(3)
"""


@pytest.fixture
def network():
    """A listening socket on the host's loopback: what a bypassing client would reach."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def fire(repo: Path, port: int, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*hookdk_command(), "fire", "session-close", "--json", *options],
        cwd=repo,
        env=os.environ | {"BYPASS_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bypassing_client_reaches_the_host_without_the_sandbox_and_nothing_with_it(
    tmp_path, network
):
    import json

    make_repo(tmp_path, HOOK)

    # an interpreter of the user's loads no socket capture: only the sandbox holds it
    mine = ("--python", sys.executable)
    plain = json.loads(fire(tmp_path, network, "--capture", *mine).stdout)
    boxed = json.loads(fire(tmp_path, network, "--sandbox", *mine).stdout)
    assert "bypass reached the host" in plain["output"]
    assert "bypass failed: [Errno 111] Connection refused" in boxed["output"]
    assert (plain["network"], boxed["network"]) == ("captured", "sandboxed")
    # the agent runtime (the default) sends the bypass to the capture, sandboxed or not
    for options in ((), ("--sandbox",)):
        agent = json.loads(fire(tmp_path, network, *options).stdout)
        [connection] = agent["connections"]
        assert (connection["host"], connection["port"]) == ("127.0.0.1", network)
    for result in (plain, boxed):
        assert result["exit_code"] == 3  # the hook's own exit code, through the launcher
        assert f"uid {os.getuid()}" in result["output"]  # the same user inside
        [request] = result["requests"]
        assert (request["url"], request["body"]) == ("https://siem.example.com/events", "via proxy")


def test_a_hook_killed_by_a_signal_reports_as_without_the_sandbox(tmp_path, network):
    import json

    make_repo(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")

    boxed = json.loads(fire(tmp_path, network, "--sandbox").stdout)

    assert boxed["exit_code"] == -1


def test_an_unusable_sandbox_is_one_line_and_exit_2(tmp_path, network):
    make_repo(tmp_path, HOOK)

    done = fire(tmp_path, network, "--sandbox", "--python", str(tmp_path / "no-python"))

    assert done.returncode == 2
    # with --json, the error is one JSON object on stdout
    error = json.loads(done.stdout)
    assert error["exit_code"] == 2
    assert error["error"].startswith("--sandbox: cannot run")
    assert "\n" not in error["error"]


def test_the_plugin_runs_hooks_sandboxed(tmp_path, network):
    make_repo(tmp_path, HOOK)
    (tmp_path / "test_hook.py").write_text(
        "import os\n"
        "def test_sandboxed(hoop_hooks, hoop_siem):\n"
        "    result = hoop_hooks.fire('session-close')\n"
        "    assert result.network == 'sandboxed'\n"
        "    assert [r.text for r in hoop_siem.requests] == ['via proxy']\n"
        "    [bypass] = hoop_siem.connections  # the agent runtime's socket, captured\n"
        "    assert bypass.port == int(os.environ['BYPASS_PORT'])\n"
    )

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hoop-sandbox"],
        cwd=tmp_path,
        env=os.environ | {"BYPASS_PORT": str(network)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr


UNIX_HOOK = """\
import os, socket
for path in os.environ["HOST_SOCKETS"].split(":"):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(b"reached")
        print("reached", path)
    except OSError as error:
        print("refused", path, type(error).__name__)
"""


def test_a_sandboxed_hook_reaches_no_unix_socket_of_the_host(tmp_path):
    """A socket file is a way out no network namespace closes (docker.sock, an ssh
    agent): with the sandbox each is covered, wherever it lies; without it, reached."""
    make_repo(tmp_path / "repo", UNIX_HOOK)
    paths = [tmp_path / "docker.sock", tmp_path / "agent" / "ssh-agent.sock"]
    paths[1].parent.mkdir()
    servers = []
    for path in paths:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(8)
        servers.append(server)
    try:
        env = os.environ | {"HOST_SOCKETS": ":".join(map(str, paths))}
        runs = {
            option: subprocess.run(
                [*hookdk_command(), "fire", "session-close", "--json", option],
                cwd=tmp_path / "repo",
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )  # fmt: skip
            for option in ("--capture", "--sandbox")
        }
    finally:
        for server in servers:
            server.close()
    plain, boxed = (json.loads(runs[o].stdout)["output"] for o in ("--capture", "--sandbox"))
    assert plain.splitlines() == [f"reached {path}" for path in paths]
    assert [line.split()[:2] for line in boxed.splitlines()] == [
        ["refused", str(path)] for path in paths
    ]
