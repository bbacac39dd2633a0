"""Nothing leaves by default, and every result says which payload secrets a hook sent.

The hook from Hoop's documentation posts the raw payload with curl: its own source and,
on session-open, the connection's secrets. ``fire``, ``session`` and ``fuzz`` must say so
(text and ``--json``) and exit 1; ``--allow-leaks`` lists them and exits 0.
"""

from __future__ import annotations

import json

from run_hookdk import hookdk

# Hoop's documentation's example (as in tests/test_capture.py): the raw payload to the SIEM.
DOCS_HOOK = """\
import json
import os
import subprocess

payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
subprocess.run(
    [
        "curl", "-sS", "-X", "POST", "https://siem.example.com/hoop/events",
        "-H", "Content-Type: application/json",
        "-d", json.dumps(payload),
    ],
    check=True,
)
print("forwarded", payload["id"])
"""

# Keeps the open payload's secrets on the agent, where the close hook finds them.
STASHING_OPEN = """\
import os, pathlib
pathlib.Path(os.environ["STASH"]).write_text(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
"""
STASHING_CLOSE = """\
import os, pathlib, urllib.request
body = pathlib.Path(os.environ["STASH"]).read_bytes()
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/c", data=body), timeout=5)
"""

POSTER = """\
import urllib.request
print(urllib.request.urlopen(urllib.request.Request("https://siem.example.com/e", data=b"{}"), timeout=5).status)
"""


def test_the_documentations_hook_fails_fire_with_the_leak_named(hook_repo):
    repo = hook_repo(DOCS_HOOK)
    done = hookdk("fire", "session-close", "--repo", str(repo.root))
    assert done.returncode == 1, done
    assert "LEAKED session-close  exit_code=0" in done.stdout
    assert (
        "its own source (input_file) (json-escaped) in body of "
        "POST https://siem.example.com/hoop/events (request #0)"
    ) in done.stdout
    opened = hookdk("fire", "session-open", "--repo", str(repo.root), "--json")
    assert opened.returncode == 1
    result = json.loads(opened.stdout)
    secrets = {leak["secret"] for leak in result["leaks"]}
    assert secrets == {
        'connection_envs["envvar:HOST"]',
        'connection_envs["envvar:USER"]',
        'connection_envs["envvar:PASS"]',
        "input_file",
    }
    assert all(leak["where"] == "body" for leak in result["leaks"])
    assert result["exit_code"] == 0 and result["network"] == "captured"


def test_allow_leaks_exits_0_and_still_lists_them(hook_repo):
    repo = hook_repo(DOCS_HOOK)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--allow-leaks")
    assert done.returncode == 0, done
    assert "(allowed by --allow-leaks)" in done.stdout
    assert "its own source (input_file)" in done.stdout


def test_a_close_hook_sending_the_open_payloads_secrets_leaks_them_in_a_session(
    hook_repo, tmp_path
):
    repo = hook_repo(DOCS_HOOK)
    repo.hooks(STASHING_OPEN, STASHING_CLOSE)
    stash = {"STASH": str(tmp_path / "stash.json")}
    # --sequential: the close hook reads what the open hook stashed, so it must run after it
    # (Hoop runs them at once; see test_flows for that)
    done = hookdk("session", "--sequential", "--repo", str(repo.root), "--json", env=stash)
    assert done.returncode == 1, done
    opened, closed = json.loads(done.stdout)
    assert opened["leaks"] == []
    secrets = {leak["secret"] for leak in closed["leaks"]}
    assert 'connection_envs["envvar:PASS"]' in secrets
    assert "session-open input_file" in secrets
    text = hookdk("session", "--sequential", "--repo", str(repo.root), env=stash).stdout
    assert "the session-open hook's source" in text


def test_nothing_leaves_by_default_and_live_is_said(hook_repo):
    """siem.example.com does not resolve here: 200 can only come from the capture."""
    repo = hook_repo(POSTER)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--json")
    result = json.loads(done.stdout)
    assert (done.returncode, result["output"], result["network"]) == (0, "200\n", "captured")
    assert [r["url"] for r in result["requests"]] == ["https://siem.example.com/e"]
    live = hookdk("session", "--repo", str(repo.root), "--live")
    assert live.stdout.count("network: LIVE") == 2
    assert "--capture" in hookdk("fire", "--help").stdout  # still accepted
    assert hookdk("fire", "session-close", "--repo", str(repo.root), "--capture").returncode == 0


def test_live_with_respond_is_a_usage_error(echo_repo):
    done = hookdk(
        "fire", "session-close", "--repo", str(echo_repo.root), "--live", "--respond", "503"
    )
    assert done.returncode == 2 and "--live and --respond" in done.stderr


def test_fuzz_reports_the_leak_not_the_network(hook_repo, tmp_path):
    repo = hook_repo(DOCS_HOOK)
    done = hookdk(
        "fuzz", "session-open", "--repo", str(repo.root), "--examples", "3", "--seed", "1",
        "--runner", "subprocess", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done
    report = json.loads(done.stdout)
    assert report["failure"]["reason"].startswith("it sends payload secrets out:")
    assert report["failure"]["result"]["leaks"]
    assert report["failure"]["result"]["exit_code"] == 0  # curl reached the capture


def test_check_places_a_leak_on_the_sending_call(hook_repo):
    repo = hook_repo(DOCS_HOOK)
    done = hookdk("check", "--repo", str(repo.root), "--format", "json")
    leaks = [f for f in json.loads(done.stdout) if f["rule"] in ("HK503", "HK504")]
    assert leaks and {f["line"] for f in leaks} == {6}  # subprocess.run( ... curl
    assert any("its own source (input_file)" in f["message"] for f in leaks)
