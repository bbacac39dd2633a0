"""The agent runtime: hooks run with what Hoop's agent has, and no connection escapes.

Hooks run as real processes in the real agent runtime (built once for the session by
conftest.py), against a real capture; the escapes are checked against real loopback
listeners that count what reaches them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from run_hookdk import hookdk

from hoophooks_dk.runtime import agent
from hoophooks_dk.settings import RunSettings
from hoophooks_dk.wiring import run

KIT_VENV = Path(sys.executable).parent  # the kit's own environment, with httpx and more
SECRET = "s3cr3t-value-42"


def activated(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a shell with the kit's venv activated."""
    return {
        "PATH": f"{KIT_VENV}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(KIT_VENV.parent),
        **(extra or {}),
    }


class Listener:
    """A real loopback TCP server and UDP socket that record what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp_port = self.udp.getsockname()[1]
        self.peers: list[int] = []  # the source port of every connection accepted
        self.datagrams: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, peer = self.tcp.accept()
            except OSError:
                return
            self.peers.append(peer[1])
            client.close()

    def _receive(self) -> None:
        while True:
            try:
                self.datagrams.append(self.udp.recv(65535))
            except OSError:
                return

    def reached(self) -> int:
        """How many connections and datagrams reached it. Judged by order, not time: a
        probe of ours goes last (the accept queue and a loopback socket are first in,
        first out), and once it is recorded so is everything before it."""
        probe = socket.create_connection(("127.0.0.1", self.port))
        mine = probe.getsockname()[1]
        probe.close()
        marker = f"probe {mine}".encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(marker, ("127.0.0.1", self.udp_port))
        while mine not in self.peers or marker not in self.datagrams:
            time.sleep(0.001)
        return self.peers.index(mine) + self.datagrams.index(marker)

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def fire(runbooks, source: str, *, runner: str = "subprocess", **settings):
    runbooks.hooks(source, source)
    with run(runbooks.root, RunSettings(**settings), runner=runner) as emulator:
        return emulator.fire("session-close")


# --- what the hook runs with ----------------------------------------------------------


def test_the_runtime_holds_exactly_the_agent_images_packages():
    runtime = agent.ensure()
    code = (
        "import importlib.metadata as m, json, site, sys; print(json.dumps(["
        "sorted(d.metadata['Name'].lower() + '==' + d.version for d in m.distributions()), "
        "site.ENABLE_USER_SITE, [p for p in sys.path if 'hoophooks' in p]]))"
    )
    # PYTHONPATH names the kit's own source, as in a developer's shell: it must not leak in
    env = runtime.environ({**os.environ, "PYTHONPATH": str(Path(agent.__file__).parents[2])})
    done = subprocess.run(
        [runtime.python, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    packages, user_site, kit_paths = json.loads(done.stdout)
    pinned = [str(p).lower().replace("_", "-") for p in agent.agent_packages()]
    assert packages == sorted(pinned)
    assert "boto3==1.40.6" in packages and "requests==2.32.4" in packages
    assert user_site is False and kit_paths == []


def test_the_package_list_names_its_source_and_resolves_the_two_pins():
    text = agent.PACKAGES_FILE.read_text()
    assert "Dockerfile.tools" in text and "e939597" in text
    names = {p.name for p in agent.agent_packages()}
    assert names == {
        "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six",
        "urllib3", "requests", "certifi", "charset-normalizer", "idna",
    }  # fmt: skip


def test_a_hook_importing_httpx_fails_in_the_agent_runtime_with_the_kits_venv_activated(
    runbooks,
):
    runbooks.hooks("import httpx\nprint('sent')\n", "import httpx\nprint('sent')\n")
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json", env=activated())
    result = json.loads(done.stdout)
    assert done.returncode == 1
    assert "No module named 'httpx'" in result["output"]
    assert result["runtime"]["name"] == "agent" and result["network"] == "captured"
    # the way out: the developer's own interpreter, which has httpx
    mine = hookdk(
        "fire", "session-close", "--repo", str(runbooks.root), "--json",
        "--python", str(KIT_VENV / "python"), env=activated(),
    )  # fmt: skip
    chosen = json.loads(mine.stdout)
    assert mine.returncode == 0, chosen["output"]
    assert chosen["runtime"]["name"] == "interpreter"
    assert any("only clients that honour the proxy variables" in w for w in chosen["warnings"])


def test_hooks_use_the_agents_requests_and_boto3_at_the_agents_versions(runbooks):
    source = """\
import boto3, requests, urllib3
print(requests.__version__, boto3.__version__, urllib3.__version__)
logs = boto3.client("logs", region_name="eu-west-1", aws_access_key_id="AKIAEXAMPLE",
                    aws_secret_access_key="example")
logs.put_log_events(logGroupName="hoop", logStreamName="hooks",
                    logEvents=[{"timestamp": 1, "message": "closed"}])
print(requests.post("https://siem.example.com/events", json={"a": 1}).status_code)
"""
    runbooks.hooks(source, source)
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json", env=activated())
    result = json.loads(done.stdout)
    assert done.returncode == 0, result["output"]
    assert result["output"].splitlines() == ["2.32.4 1.40.6 2.7.0", "200"]
    urls = [request["url"] for request in result["requests"]]
    assert urls == ["https://logs.eu-west-1.amazonaws.com/", "https://siem.example.com/events"]


def test_every_result_names_the_runtime_and_says_when_it_is_not_3_12(runbooks):
    done = hookdk_fire(runbooks, "print('hi')\n")
    runtime = json.loads(done.stdout)["runtime"]
    assert runtime["agent_version"] == "3.12"
    if runtime["version"].startswith("3.12."):
        assert runtime["note"] is None
    else:
        assert runtime["note"].startswith("the agent runs Python 3.12; this hook ran on Python")
        text = hookdk("fire", "session-close", "--repo", str(runbooks.root))
        assert "note  the agent runs Python 3.12" in text.stdout


def hookdk_fire(runbooks, source: str, *args: str) -> subprocess.CompletedProcess:
    runbooks.hooks(source, source)
    return hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json", *args)


# --- no connection escapes --------------------------------------------------------------

ESCAPES = {
    "urllib3.PoolManager": """\
import urllib3
urllib3.PoolManager().request("POST", "http://127.0.0.1:{port}/u3", body=b"{secret}")
""",
    "requests, trust_env=False": """\
import requests
session = requests.Session()
session.trust_env = False
session.post("http://127.0.0.1:{port}/requests", data="{secret}")
""",
    "requests, NO_PROXY=*": """\
import os, requests
os.environ["NO_PROXY"] = "*"
requests.post("http://localhost:{port}/noproxy", data="{secret}")
""",
    "http.client": """\
import http.client
connection = http.client.HTTPConnection("127.0.0.1", {port}, timeout=5)
connection.request("PUT", "/http-client", body="{secret}")
connection.getresponse().read()
""",
    "urllib with an empty ProxyHandler": """\
import urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
opener.open("http://127.0.0.1:{port}/urllib", data=b"{secret}").read()
""",
}


@pytest.mark.parametrize("client", list(ESCAPES))
def test_http_clients_that_ignore_the_proxy_are_captured_and_reach_no_listener(
    runbooks, listener, client
):
    source = ESCAPES[client].format(port=listener.port, secret=SECRET)
    result = fire(runbooks, source)
    assert result.exit_code == 0, result.output
    [request] = result.requests
    assert f":{listener.port}/" in request.url and request.url.startswith("http://")
    assert request.body == SECRET.encode()
    assert listener.reached() == 0


def test_raw_tcp_and_udp_are_recorded_and_reach_no_listener(runbooks, listener):
    source = f"""\
import socket
tcp = socket.create_connection(("127.0.0.1", {listener.port}))
tcp.sendall(b"raw {SECRET}")
tcp.close()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.sendto(b"datagram {SECRET}", ("127.0.0.1", {listener.udp_port}))
connected = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
connected.connect(("metrics.example.com", 8125))
connected.send(b"hooks.closed:1|c")
"""
    result = fire(runbooks, source)
    assert result.exit_code == 0, result.output
    [connection] = result.connections
    assert (connection.host, connection.port) == ("127.0.0.1", listener.port)
    assert connection.data == f"raw {SECRET}".encode() and connection.closed_by == "client"
    targets = [(d.host, d.port, d.data) for d in result.datagrams]
    assert targets == [
        ("127.0.0.1", listener.udp_port, f"datagram {SECRET}".encode()),
        ("metrics.example.com", 8125, b"hooks.closed:1|c"),
    ]
    assert listener.reached() == 0


def test_https_to_a_name_with_requests_ignoring_the_environment_is_recorded(runbooks):
    source = """\
import requests
session = requests.Session()
session.trust_env = False  # certifi's bundle, not SSL_CERT_FILE: the capture's CA is added
print(session.post("https://siem.example.com/ingest", json={"ok": True}).status_code)
"""
    result = fire(runbooks, source)
    assert result.output.strip() == "200", result.output
    [request] = result.requests
    assert (request.method, request.url) == ("POST", "https://siem.example.com/ingest")
    assert [note.detail for note in result.dns] == ["siem.example.com"]


def test_names_resolve_and_map_back_without_a_query(runbooks):
    source = """\
import socket
address = socket.gethostbyname("collector.internal")
print(address.startswith("198.18."), socket.gethostbyaddr(address)[0])
print(socket.getaddrinfo("collector.internal", 443)[0][4][0] == address)
"""
    result = fire(runbooks, source)
    assert result.output.split() == ["True", "collector.internal", "True"], result.output


def test_a_secret_in_a_raw_connection_or_a_looked_up_name_is_a_leak(runbooks):
    source = """\
import base64, json, os, socket
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
secret = next(iter(payload["event_session_open"]["connection_envs"].values()), "")
"""
    source_open = (
        source
        + """\
tcp = socket.create_connection(("db.internal", 5432))
tcp.sendall(base64.b64decode(secret))
tcp.close()
"""
    )
    runbooks.hooks(source_open, "print('closed')\n")
    done = hookdk("fire", "session-open", "--repo", str(runbooks.root), "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 1
    assert result["leaks"] and all(leak["where"] == "data" for leak in result["leaks"])
    assert result["leaks"][0]["address"] == "db.internal:5432"
    assert result["connections"][0]["host"] == "db.internal"


def test_a_programmed_reply_answers_a_raw_connection(runbooks):
    source = """\
import socket
connection = socket.create_connection(("db.internal", 5432), timeout=5)
print(connection.recv(100).decode())
connection.sendall(b"QUERY")
print(repr(connection.recv(100)))  # then the capture closes
"""
    runbooks.hooks(source, source)
    with run(runbooks.root, RunSettings(), runner="subprocess") as emulator:
        emulator.capture.reply_tcp("db.internal:*", b"READY")
        result = emulator.fire("session-close")
    assert result.output.splitlines() == ["READY", "b''"], result.output
    [connection] = result.connections
    assert (connection.data, connection.reply, connection.closed_by) == (
        b"QUERY",
        b"READY",
        "capture",
    )


def test_syslog_ports_reach_the_syslog_receiver(runbooks):
    source = """\
import socket, ssl
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.sendto(b"<14>hoop: over udp", ("siem.example.com", 514))
context = ssl.create_default_context()
with socket.create_connection(("siem.example.com", 6514)) as raw:
    with context.wrap_socket(raw, server_hostname="siem.example.com") as tls:
        tls.sendall(b"<14>hoop: over tls\\n")
        tls.unwrap()
"""
    result = fire(runbooks, source)
    assert result.exit_code == 0, result.output
    got = sorted((m.transport, m.message, m.server_name) for m in result.syslog)
    assert got == [("tls", "over tls", "siem.example.com"), ("udp", "over udp", None)]
    assert result.connections == [] and result.datagrams == []


def test_the_fast_runner_keeps_each_runs_connections_apart(runbooks, listener):
    source = f"""\
import json, os, socket
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
tcp = socket.create_connection(("127.0.0.1", {listener.port}))
tcp.sendall(payload["id"].encode())
tcp.close()
"""
    runbooks.hooks(source, source)
    with run(runbooks.root, RunSettings(), runner="fast") as emulator:
        first = emulator.fire("session-open")
        second = emulator.fire("session-close")
    assert [c.data.decode() for c in first.connections] == [first.id]
    assert [c.data.decode() for c in second.connections] == [second.id]
    assert listener.reached() == 0


def test_a_program_the_hook_starts_outside_the_runtime_is_said_to_escape(runbooks, listener):
    source = f"""\
import subprocess, sys
subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', {listener.port})).close()"])
subprocess.run(["curl", "-s", "--noproxy", "*", "-o", "/dev/null", "http://127.0.0.1:{listener.port}/"])
"""
    result = fire(runbooks, source)
    # the runtime's own python is held (its connection is recorded); curl is not
    assert [(c.host, c.port) for c in result.connections] == [("127.0.0.1", listener.port)]
    [warning] = [w for w in result.warnings if "curl" in w]
    assert "--sandbox holds every process" in warning
    assert listener.reached() == 1  # the limit the warning names: curl got through


def test_the_result_names_how_the_network_was_held(runbooks):
    runbooks.hooks("print('hi')\n", "print('hi')\n")
    root = str(runbooks.root)
    captured = json.loads(hookdk("fire", "session-close", "--repo", root, "--json").stdout)
    live = json.loads(hookdk("fire", "session-close", "--repo", root, "--json", "--live").stdout)
    assert (captured["network"], live["network"]) == ("captured", "live")
    assert captured["connections"] == [] and captured["datagrams"] == [] and captured["dns"] == []
    sandboxed = hookdk("fire", "session-close", "--repo", root, "--json", "--sandbox")
    assert json.loads(sandboxed.stdout)["network"] == "sandboxed", sandboxed.stdout


# --- building it ------------------------------------------------------------------------


def offline(tmp_path: Path) -> dict[str, str]:
    """An environment where pip finds no package: no index, no links, a fresh runtime folder."""
    links = tmp_path / "no-links"
    links.mkdir(exist_ok=True)
    return {
        "HOOKDK_AGENT_RUNTIME": str(tmp_path / "runtime"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(links),
    }


def test_without_the_package_index_the_build_fails_in_one_line_with_the_way_out(runbooks, tmp_path):
    runbooks.hooks("print('hi')\n", "print('hi')\n")
    env = offline(tmp_path)
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root), env=env)
    assert done.returncode == 2
    [last] = done.stderr.strip().splitlines()[-1:]
    assert last.startswith("hookdk: error: cannot build the agent runtime: ")
    assert "--python python3" in last and "Traceback" not in done.stderr
    left = sorted(p.name for p in (tmp_path / "runtime").iterdir())
    assert all(name.endswith(".lock") for name in left)  # no half-built runtime
    as_json = hookdk("fire", "session-close", "--repo", str(runbooks.root), "--json", env=env)
    assert json.loads(as_json.stdout)["exit_code"] == 2
    mine = hookdk(
        "fire", "session-close", "--repo", str(runbooks.root), "--python", "python3", env=env
    )
    assert mine.returncode == 0, mine.stderr


def test_the_runtimes_folder_is_named_by_the_sha256_of_what_goes_into_it():
    import hashlib

    found = __import__("shutil").which("python3.12") or "-"
    digest = hashlib.sha256(agent.PACKAGES_FILE.read_bytes())
    digest.update(f"\0{agent.LAYOUT}\0{found}\0{agent._kit_python()}".encode())
    assert agent._key() == digest.hexdigest()[:16]
    for data in (b"", b"boto3==1.40.6\n", bytes(range(256)) * 300):
        assert agent._sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_two_builds_at_once_make_one_runtime(tmp_path):
    folder = tmp_path / "runtime"
    code = (
        "from hoophooks_dk.runtime import agent; import sys; "
        "r = agent.ensure(lambda line: print(line, flush=True)); print('READY', r.python)"
    )
    env = {**os.environ, "HOOKDK_AGENT_RUNTIME": str(folder)}
    builders = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [builder.communicate(timeout=600)[0] for builder in builders]
    assert all(builder.returncode == 0 for builder in builders), outputs
    built = [output for output in outputs if "building the agent runtime" in output]
    assert len(built) == 1  # the other waited on the lock, then used that build
    pythons = {output.strip().splitlines()[-1] for output in outputs}
    assert len(pythons) == 1


# --- check, and the pytest plugin ---------------------------------------------------------


@pytest.mark.parametrize(
    "newer",
    [
        "def first[T = int](items: list[T]) -> T:\n    return items[0]\n",  # 3.13: defaults
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",  # 3.14: no parentheses
    ],
)
def test_check_refuses_syntax_newer_than_the_agents_python(monkeypatch, capsys, hook_repo, newer):
    from hoophooks_dk.check import check

    repo = hook_repo(newer)
    found = [f for f in check(repo.root, static=True) if f.rule == "HK301"]
    assert found and all(f.severity == "error" for f in found)
    assert "3.12" in found[0].message


def test_the_plugin_runs_hooks_in_the_agent_runtime(pytester, runbooks):
    runbooks.hooks(
        "import requests\nprint(requests.__version__)\n",
        "import socket\nsocket.create_connection(('db.internal', 5432)).sendall(b'q')\n"
        "import httpx\n",
    )
    runbooks.commit()
    pytester.makepyfile(
        """
        def test_open(hoop_hooks):
            result = hoop_hooks.fire("session-open")
            assert result.output.strip() == "2.32.4"
            assert result.runtime.kind == "agent" and result.network == "captured"

        def test_close(hoop_hooks, hoop_siem):
            result = hoop_hooks.fire("session-close")
            assert "No module named 'httpx'" in result.output
            [connection] = hoop_siem.connections
            assert (connection.address, connection.data) == ("db.internal:5432", b"q")
        """
    )
    outcome = pytester.runpytest_subprocess("-p", "no:xdist", f"--hoop-repo={runbooks.root}")
    outcome.assert_outcomes(passed=2)


def test_interrupting_a_build_leaves_no_half_built_runtime_and_no_pip(runbooks, tmp_path):
    """pip is held by a package index of ours that never answers, so the build is surely
    under way when SIGTERM comes: judged by order, not by time."""
    import signal

    runbooks.hooks("print('hi')\n", "print('hi')\n")
    index = socket.create_server(("127.0.0.1", 0))
    links = tmp_path / "no-links"
    links.mkdir()
    env = {
        **os.environ,
        "HOOKDK_AGENT_RUNTIME": str(tmp_path / "runtime"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": f"http://127.0.0.1:{index.getsockname()[1]}/simple",
        "PIP_FIND_LINKS": str(links),
    }
    command = [sys.executable, "-m", "hoophooks_dk", "fire", "session-close"]
    hookdk_process = subprocess.Popen(
        [*command, "--repo", str(runbooks.root)], env=env, stderr=subprocess.PIPE, text=True
    )
    pip_connection, _ = index.accept()  # pip is asking the index: the build is under way
    hookdk_process.send_signal(signal.SIGTERM)
    _, stderr = hookdk_process.communicate(timeout=60)
    assert hookdk_process.returncode != 0 and "Traceback" not in stderr
    pip_connection.settimeout(60)
    while pip_connection.recv(65536):  # pip's request, then end of file: pip has ended
        pass
    left = sorted(p.name for p in (tmp_path / "runtime").iterdir())
    assert all(name.endswith(".lock") for name in left)
    pip_connection.close()
    index.close()
