"""One wiring: the same repository runs the same way through ``hookdk fire`` and through
the pytest plugin, its settings file (``python``, ``env``, ``respond``, ``timeout``,
``env_mode``) honoured by both, the ``hoop`` marker and the test's own routes on top."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from run_hookdk import hookdk

#: The hook reports what it ran with in the request it sends, and exits with the status
#: the SIEM answered (so an answer the settings file did not give shows as a failure).
HOOK = """\
import json, os, sys, urllib.error, urllib.request
event = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
seen = {
    "id": event["id"],
    "token": os.environ.get("SIEM_TOKEN"),
    "region": os.environ.get("SIEM_REGION"),
    "interpreter": os.environ.get("HOOKDK_TEST_INTERPRETER"),
    "home_set": "HOME" in os.environ,
}
request = urllib.request.Request(
    "https://siem.example.com/events", data=json.dumps(seen).encode(), method="POST"
)
try:
    status = urllib.request.urlopen(request, timeout=10).status
except urllib.error.HTTPError as error:
    status = error.code
print("status", status)
sys.exit(0 if status == 202 else 3)
"""

#: The interpreter named in the settings file: python3 with a mark in its environment.
WRAPPER = """\
#!/bin/sh
HOOKDK_TEST_INTERPRETER=wrapper exec python3 "$@"
"""

SETTINGS = """\
python = "{wrapper}"
env_mode = "clean"
timeout = 12

[env]
SIEM_TOKEN = "token-from-the-settings-file"
SIEM_REGION = "eu"

[respond]
"POST https://siem.example.com/*" = 202
"*" = 500
"""

#: A test in the user's repository: fires the close hook, writes what it saw for the
#: outer test to compare with ``hookdk fire``.
PLUGIN_TEST = """\
import json, os

def test_fire(hoop_hooks, hoop_siem):
    fired = hoop_hooks.fire("session-close")
    seen = {
        "exit_code": fired.exit_code,
        "output": fired.output,
        "timeout": fired.timeout,
        "requests": [
            {"method": r.method, "url": r.url, "status": r.response.status, "body": r.json()}
            for r in fired.requests
        ],
    }
    with open(os.environ["WIRING_RESULT"], "w") as out:
        json.dump(seen, out)
    assert fired.exit_code == 0, fired.output
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "runbooks"
    hooks = root / "hoop-hooks"
    hooks.mkdir(parents=True)
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(HOOK)
    wrapper = root / "bin" / "hook-python"
    wrapper.parent.mkdir()
    wrapper.write_text(WRAPPER)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    (root / "hookdk.toml").write_text(SETTINGS.format(wrapper=wrapper))
    (root / "tests").mkdir()
    (root / "tests" / "test_wiring.py").write_text(PLUGIN_TEST)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def through_fire(repo: Path) -> dict:
    done = hookdk("fire", "session-close", "--repo", str(repo), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    return {
        "exit_code": result["exit_code"],
        "output": result["output"],
        "timeout": 12.0,
        "requests": [
            {
                "method": r["method"],
                "url": r["url"],
                "status": r["status"],
                "body": json.loads(r["body"]),
            }
            for r in result["requests"]
        ],
    }


def through_pytest(repo: Path, tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "seen.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", *args],
        cwd=repo,
        env={**os.environ, "WIRING_RESULT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def without_ids(seen: dict) -> dict:
    """Each fire has its own session id; everything else must be the same."""
    return {**seen, "requests": [{**r, "body": {**r["body"], "id": "-"}} for r in seen["requests"]]}


@pytest.mark.parametrize("runner", ["subprocess", "auto"])
def test_fire_and_the_plugin_run_a_repository_alike(repo, tmp_path, runner):
    fired = through_fire(repo)
    tested = through_pytest(repo, tmp_path, f"--hoop-runner={runner}")
    assert without_ids(tested) == without_ids(fired)
    [request] = fired["requests"]
    # what the settings file says, seen by the hook in both
    assert request["status"] == 202
    assert request["body"]["token"] == "token-from-the-settings-file"
    assert request["body"]["region"] == "eu"
    assert request["body"]["interpreter"] == "wrapper"
    assert request["body"]["home_set"] is False  # env_mode = "clean"
    assert fired["exit_code"] == 0


def test_the_marker_and_the_tests_own_routes_come_before_the_settings_file(repo, tmp_path):
    (repo / "tests" / "test_wiring.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_the_file_answers(hoop_hooks):
                assert hoop_hooks.fire("session-close").exit_code == 0

            def test_a_route_of_the_test_wins(hoop_hooks, hoop_siem):
                hoop_siem.respond("POST https://siem.example.com/*=503")
                fired = hoop_hooks.fire("session-close")
                assert fired.exit_code == 3 and fired.requests[0].response.status == 503

            @pytest.mark.hoop(respond={"POST https://siem.example.com/events": 418})
            def test_the_marker_wins(hoop_hooks):
                fired = hoop_hooks.fire("session-close")
                assert fired.requests[0].response.status == 418

            @pytest.mark.hoop(timeout=3, env_mode="inherit")
            def test_the_marker_sets_the_timeout_and_mode(hoop_hooks):
                fired = hoop_hooks.fire("session-close")
                assert fired.timeout == 3
                assert fired.requests[0].json()["home_set"] is True

            def test_the_file_answers_again_after_a_test_changed_them(hoop_hooks):
                assert hoop_hooks.fire("session-close").requests[0].response.status == 202
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo / "tests",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_a_test_takes_a_files_setting_away_or_pins_it_the_next_has_it_back(repo, tmp_path):
    """``monkeypatch.delenv`` of a variable only the settings file sets (none in the
    environment pytest started with) takes it away from the hooks, in the test alone."""
    (repo / "tests" / "test_wiring.py").write_text(
        textwrap.dedent(
            """
            import os

            def token(hoop_hooks):
                return hoop_hooks.fire("session-close").requests[0].json()["token"]

            def test_taken_away(hoop_hooks, monkeypatch):
                assert os.environ["SIEM_TOKEN"] == "token-from-the-settings-file"
                monkeypatch.delenv("SIEM_TOKEN")
                assert token(hoop_hooks) is None

            def test_pinned(hoop_hooks, monkeypatch):
                monkeypatch.setenv("SIEM_TOKEN", "pinned")
                assert token(hoop_hooks) == "pinned"

            def test_back(hoop_hooks):
                assert token(hoop_hooks) == "token-from-the-settings-file"

            def test_only_for_the_tests_that_fire():
                assert "SIEM_TOKEN" not in os.environ
            """
        )
    )
    env = {key: value for key, value in os.environ.items() if key != "SIEM_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=repo / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_a_bad_settings_file_fails_the_plugins_tests_with_its_one_message(repo, tmp_path):
    (repo / "hookdk.toml").write_text('timeout = "soon"\n')
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hookdk.toml: timeout must be a number of seconds above 0" in done.stdout
    assert "Traceback" not in done.stdout
    fired = hookdk("fire", "session-close", "--repo", str(repo))
    assert fired.returncode == 2
    assert "hookdk.toml: timeout must be a number of seconds above 0" in fired.stderr
