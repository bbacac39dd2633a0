"""The hookdk command line, run as users run it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from run_hookdk import hookdk

ECHO_HOOK = "print(1)\n"

DUMP_HOOK = "import os\nprint(os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'])\n"


def assert_user_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


def test_fire_human_output_from_inside_the_repo(echo_repo):
    nested = echo_repo.root / "hoop-hooks"
    done = hookdk("fire", "session-close", cwd=nested)
    assert done.returncode == 0, done.stderr
    assert "ok session-close" in done.stdout
    assert "exit_code=0" in done.stdout
    assert "hoop-hooks/session-close.runbook.py (working tree)" in done.stdout


def test_fire_json_has_the_documented_fields(echo_repo):
    done = hookdk("fire", "session-open", "--repo", str(echo_repo.root), "--json")
    result = json.loads(done.stdout)
    for key in (
        "event",
        "id",
        "sid",
        "exit_code",
        "output",
        "execution_time_sec",
        "duration_ms",
        "timed_out",
    ):
        assert key in result
    assert result["output"].split() == [result["id"], result["sid"]]


def test_fire_exits_1_when_the_hook_fails(hook_repo):
    repo = hook_repo("import sys\nsys.exit('collector unreachable')\n")
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["output"] == "collector unreachable\n"


def test_fire_exits_1_on_timeout(hook_repo):
    repo = hook_repo("import time\ntime.sleep(30)\n")
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--timeout", "0.5", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["timed_out"] is True and result["exit_code"] == -2


def test_set_overrides_reach_the_hook(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    done = hookdk(
        "fire",
        "session-close",
        "--repo",
        str(repo.root),
        "--json",
        "--set",
        "event_session_close.exit_code=1",
        "--set",
        "event_session_close.output=boom",
    )
    sent = json.loads(json.loads(done.stdout)["output"])
    assert sent["event_session_close"] == {"exit_code": 1, "output": "boom"}


def test_payload_from_stdin(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    partial = json.dumps(
        {
            "sid": "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e5d",
            "event_session_close": {"exit_code": 0, "output": None},
        }
    )
    done = hookdk(
        "fire", "session-close", "--repo", str(repo.root), "--payload", "-", "--json", stdin=partial
    )
    assert (
        json.loads(json.loads(done.stdout)["output"])["sid"]
        == "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e5d"
    )


def test_bad_json_names_the_file_and_position(echo_repo, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"sid": "x",\n  "oops"}')
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--payload", str(bad))
    assert_user_error(done, str(bad), "invalid JSON at line 2")


def test_schema_violation_names_file_path_and_expectation(echo_repo, tmp_path):
    bad = tmp_path / "close.json"
    bad.write_text(json.dumps({"event_session_close": {"exit_code": "1", "output": None}}))
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--payload", str(bad))
    assert_user_error(done, str(bad), "$.event_session_close.exit_code: expected integer")
    assert done.stdout == ""


def test_both_events_set_is_a_clear_error(echo_repo, tmp_path):
    both = tmp_path / "doc-example.json"
    both.write_text(
        json.dumps(
            {
                "event_session_open": {
                    "verb": "exec",
                    "connection_name": "c",
                    "connection_type": "database",
                    "connection_subtype": "postgres",
                    "connection_envs": None,
                    "connection_reviewers": None,
                    "input": "",
                    "user_email": "a@b.c",
                },
                "event_session_close": {"exit_code": 0, "output": ""},
            }
        )
    )
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--payload", str(both))
    assert_user_error(done, "both event_session_open and event_session_close are set")


def test_missing_hook_is_a_user_error(runbooks):
    runbooks.hooks(open_source=ECHO_HOOK)
    done = hookdk("fire", "session-close", "--repo", str(runbooks.root))
    assert_user_error(done, "session-close.runbook.py does not exist")


def test_missing_payload_file_and_bad_override(echo_repo):
    assert_user_error(
        hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--payload", "nope.json"),
        "cannot read payload nope.json",
    )
    assert_user_error(
        hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--set", "novalue"),
        "expected KEY=VALUE",
    )


def test_unknown_event_is_a_usage_error(echo_repo):
    assert_user_error(
        hookdk("fire", "session-start", "--repo", str(echo_repo.root)), "session-start"
    )


def test_bad_python_is_a_user_error(echo_repo):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--python", "/no/python")
    assert_user_error(done, "cannot run '/no/python'")


def test_session_review_json_lists_three_results(echo_repo):
    done = hookdk("session", "--review", "--repo", str(echo_repo.root), "--json")
    results = json.loads(done.stdout)
    assert [r["event"] for r in results] == ["session-open", "session-open", "session-close"]
    assert results[0]["id"] == results[1]["id"] != results[2]["id"]
    assert len({r["sid"] for r in results}) == 1


def test_payload_command_prints_a_valid_payload(tmp_path):
    done = hookdk(
        "payload", "session-open", "--set", 'event_session_open.connection_reviewers=["dba"]'
    )
    payload = json.loads(done.stdout)
    assert payload["event_session_open"]["connection_reviewers"] == ["dba"]
    file = tmp_path / "p.json"
    file.write_text(done.stdout)
    assert hookdk("validate", str(file)).returncode == 0


def test_validate_reports_every_violation_and_exits_1(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(hookdk("payload", "session-close").stdout)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"sid": 1, "typo": True, "event_session_close": {"exit_code": 0, "output": None}}
        )
    )
    done = hookdk("validate", str(good), str(bad))
    assert done.returncode == 1
    assert f"{good}: ok" in done.stdout
    assert f"{bad}: $.sid: expected string" in done.stdout
    assert f"{bad}: $: unknown key(s) 'typo'" in done.stdout
    assert hookdk("validate", "--partial", str(good)).returncode == 0


def test_schema_command(tmp_path):
    schema = json.loads(hookdk("schema").stdout)
    assert schema["title"] == "Hoop runbook hook payload"
    path = hookdk("schema", "--path").stdout.strip()
    assert json.loads(Path(path).read_text()) == schema


@pytest.mark.parametrize("args", [["--help"], ["fire", "--help"], ["--version"]])
def test_help_and_version(args):
    done = hookdk(*args)
    assert done.returncode == 0 and done.stdout


POSTER = """\
import os, subprocess
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                "https://siem.example.com/events", "--data-binary", "@-"],
               input=b'{"hello": "siem"}', check=True)
"""


def test_fire_capture_prints_a_delivery_table(hook_repo):
    repo = hook_repo(POSTER)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--capture")
    assert done.returncode == 0, done.stderr
    assert "sent: 1 request(s)" in done.stdout
    row = next(
        line for line in done.stdout.splitlines() if "https://siem.example.com/events" in line
    )
    assert row.split()[:4] == ["0", "POST", "200", "17"]


def test_fire_capture_json_lists_requests_and_respond_sets_the_status(hook_repo):
    repo = hook_repo(POSTER)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--respond", "503", "--json")
    result = json.loads(done.stdout)
    assert result["output"] == "503"
    (sent,) = result["requests"]
    assert sent["method"] == "POST" and sent["status"] == 503
    assert sent["url"] == "https://siem.example.com/events"
    assert sent["body"] == '{"hello": "siem"}'
    assert ["Host", "siem.example.com"] in sent["headers"]


def test_fire_captures_by_default_and_live_says_so(echo_repo):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--json")
    result = json.loads(done.stdout)
    assert (result["network"], result["requests"]) == ("captured", [])
    live = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--live", "--json")
    result = json.loads(live.stdout)
    assert result["network"] == "live" and "requests" not in result
    text = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--live").stdout
    assert "network: LIVE" in text


PARENT_HOOK = """\
import os
print(open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
"""


@pytest.mark.parametrize(
    "runner, parent", [("subprocess", "hoophooks_dk"), ("fast", "forkserver_main")]
)
def test_session_runs_with_the_runner_asked_for(hook_repo, runner, parent):
    repo = hook_repo(PARENT_HOOK)
    done = hookdk("session", "--review", "--repo", str(repo.root), "--runner", runner, "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 3
    assert all(parent in result["output"] for result in results), results


def test_fire_refuses_what_hoop_would_not_load_with_exit_1(runbooks):
    runbooks.hooks("print(1)\n", "HOST = '{{ .host }}'\n")
    done = hookdk("fire", "session-open", "--repo", str(runbooks.root))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Hoop would not load either hook" in done.stderr
    assert "the following inputs are missing [host]" in done.stderr
    assert done.stdout == ""


def test_validate_reads_every_file_even_after_a_bad_one(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(hookdk("payload", "session-close").stdout)
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    done = hookdk("validate", str(broken), "missing.json", str(good))
    assert done.returncode == 1
    assert f"{broken}: $: expected a JSON object" in done.stdout
    assert "cannot read payload missing.json" in done.stdout
    assert f"{good}: ok" in done.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["fire", "session-close", "--timeout", "0"], "--timeout"),
        (["session", "--reviewers", ","], "at least one group"),
        (["init", "/proc/hookdk-cannot-write"], "cannot write"),
        (["fire", "session-close", "--set", 'command=["bash"]'], '$.command: expected ["python3"]'),
    ],
)
def test_more_user_errors_are_one_line_and_exit_2(echo_repo, args, needle):
    assert_user_error(hookdk(*args, cwd=echo_repo.root), needle)


PANIC = "panic: runtime error: invalid memory address or nil pointer dereference"


@pytest.mark.parametrize("command", [["fire", "session-close"], ["session"]])
def test_a_close_hook_without_an_open_hook_fails_with_hoops_panic(runbooks, command):
    """The gateway dies on the close before the close hook runs (docs/hoop-runtime.md
    section 1): exit 1, Go's text first, and the hook never ran."""
    runbooks.hooks(close_source="open('ran', 'w').write('x')\n")
    done = hookdk(*command, "--repo", str(runbooks.root))
    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith(f"hookdk: {PANIC}: hoop-hooks/session-close.runbook.py exists")
    assert "the gateway process dies and the close hook never runs" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    as_json = json.loads(hookdk(*command, "--repo", str(runbooks.root), "--json").stdout)
    assert as_json["exit_code"] == 1 and as_json["error"].startswith(PANIC)
    both = hookdk(*command, "--repo", str(runbooks.root.parent), "--json")
    assert both.returncode == 2  # no hooks at all there: a user error


def test_a_close_only_repository_is_no_crash_for_a_flow_that_never_closes(runbooks):
    runbooks.hooks(close_source="print('closed')\n")
    done = hookdk("session", "--flow", "client-left", "--repo", str(runbooks.root))
    assert done.returncode == 0, done.stderr
    assert "note: session-open: no hoop-hooks/session-open.runbook.py" in done.stdout
    assert f"one that does crashes the gateway: {PANIC}" in done.stdout


def test_an_open_only_repository_plays_a_session(runbooks):
    runbooks.hooks(open_source="print('opened')\n")
    done = hookdk("session", "--repo", str(runbooks.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok session-open") == 1
    assert "note: session-close: no hoop-hooks/session-close.runbook.py, so Hoop runs no" in (
        done.stdout
    )
    as_json = hookdk("session", "--repo", str(runbooks.root), "--json")
    assert [r["event"] for r in json.loads(as_json.stdout)] == ["session-open"]
    assert "hookdk: note: session-close: no hoop-hooks/" in as_json.stderr


def test_oversized_hook_one_text_in_fire_render_and_check(runbooks):
    """Hoop's own text first in every face that applies its size rule."""
    runbooks.hooks("print(1)\n", "#" * 1_000_001 + "\n")
    hoop_text = "max template size [1000 KB] reached for hoop-hooks/session-close.runbook.py"
    fired = hookdk("fire", "session-open", "--repo", str(runbooks.root))
    assert fired.returncode == 1 and fired.stderr.startswith(f"hookdk: {hoop_text}: ")
    path = str(runbooks.root / "hoop-hooks/session-close.runbook.py")
    rendered = hookdk("render", path)
    assert rendered.returncode == 1
    assert rendered.stderr.startswith(
        hoop_text.replace("hoop-hooks/session-close.runbook.py", path)
    )
    checked = hookdk("check", "--static", "--repo", str(runbooks.root))
    assert f"HK105 error: {hoop_text}: the file is 1,000,002 bytes" in checked.stdout


def test_respond_200_given_explicitly_still_captures(hook_repo):
    repo = hook_repo(POSTER)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--respond", "200", "--json")
    assert json.loads(done.stdout)["requests"][0]["status"] == 200


# --- flows, the timeout rule, environment modes --------------------------------------------


def test_flows_lists_every_flow_one_line_each():
    from hoophooks_dk.flows import FLOWS

    done = hookdk("flows")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(FLOWS)
    assert "open, open, close" in lines[list(FLOWS).index("review-same-stream")]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["session", "--flow", "nope"], "unknown flow 'nope': expected one of exec"),
        (["session", "--duration", "-1"], "duration -1 s (--duration): give 0 seconds or more"),
        (
            ["session", "--timeout", "5", "--kill-after", "1"],
            "kill_after 1 s (--kill-after) is below the timeout 5 s",
        ),
        (
            ["fire", "session-close", "--timeout", "5", "--kill-after", "2"],
            "is below the timeout 5 s (--timeout)",
        ),
        (["session", "--review", "--flow", "connect"], "--review means --flow review-same-stream"),
        (
            ["session", "--run-by", "a@example.com"],
            "run_by (--run-by) applies to flows review-run-later and review-ai-web, not exec",
        ),
    ],
)
def test_bad_flow_options_are_one_line_and_exit_2(echo_repo, args, needle):
    done = hookdk(*args, cwd=echo_repo.root)
    assert_user_error(done, needle)
    assert len(done.stderr.strip().splitlines()) == 1


def test_flows_json_names_each_flows_hoop_source():
    from hoophooks_dk.flows import FLOWS

    listed = json.loads(hookdk("flows", "--json").stdout)
    assert [flow["name"] for flow in listed] == list(FLOWS)
    by_name = {flow["name"]: flow for flow in listed}
    assert by_name["proxy-manager"]["fires"] == ["session-close"]
    assert by_name["ai-blocked"]["fires"] == [] and "audit.go" in by_name["ai-blocked"]["hoop"]


def test_flows_says_which_refusals_fire_no_hook():
    lines = hookdk("flows").stdout.splitlines()
    nothing = {line.split()[0]: line for line in lines if "  no hook  " in line}
    assert set(nothing) == {"ai-blocked", "refused"}
    assert "missing approval groups" in nothing["refused"] and "48 h" in nothing["refused"]


NEW_FLOWS = {
    "client-left-web": ["open", "close"],
    "review-jit-connect": ["open", "open"],
    "review-ai-web": ["open", "close"],
    "ai-blocked": [],
    "refused": [],
    "agent-error": ["open", "close"],
    "guardrail-blocked": ["open", "close"],
    "proxy-manager": ["close"],
}


@pytest.mark.parametrize("name", NEW_FLOWS)
def test_session_plays_each_new_flow(hook_repo, name):
    repo = hook_repo(DUMP_HOOK)
    done = hookdk("session", "--flow", name, "--repo", str(repo.root), "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["event"].removeprefix("session-") for r in results] == NEW_FLOWS[name]
    closes = [json.loads(r["output"])["event_session_close"] for r in results[1:]]
    if name == "agent-error":
        assert closes == [
            {"exit_code": 254, "output": "connection params not found, contact the administrator"}
        ]
    text = hookdk("session", "--flow", name, "--repo", str(repo.root))
    assert text.returncode == 0 and text.stdout.startswith(f"flow {name}: ")
    if not NEW_FLOWS[name]:
        assert f"note: Hoop fires no hook for flow {name}" in text.stdout


@pytest.mark.parametrize(
    "kind, email", [("api-key", "deploy-bot"), ("gateway-api-key", "API_KEY"), ("machine", "")]
)
def test_caller_sets_user_email_in_payload_fire_and_session(hook_repo, kind, email):
    repo = hook_repo(DUMP_HOOK)
    made = json.loads(hookdk("payload", "session-open", "--caller", kind).stdout)
    assert made["event_session_open"]["user_email"] == email
    fired = hookdk("fire", "session-open", "--caller", kind, "--repo", str(repo.root), "--json")
    sent = json.loads(json.loads(fired.stdout)["output"])
    assert sent["event_session_open"]["user_email"] == email
    played = hookdk("session", "--caller", kind, "--repo", str(repo.root), "--json")
    opened = json.loads(json.loads(played.stdout)[0]["output"])
    assert opened["event_session_open"]["user_email"] == email


@pytest.mark.parametrize(
    "args, needle",
    [
        (["fire", "session-close", "--caller", "machine"], "a session-close payload names no"),
        (["payload", "session-open", "--caller", "robot"], "Invalid value for '--caller'"),
        (["session", "--flow", "proxy-manager", "--caller", "api-key"], "fires no session-open"),
        (["session", "--flow", "agent-error", "--exit-code", "1"], "fixes exit_code to 254"),
    ],
)
def test_caller_and_close_options_a_command_cannot_use_are_exit_2(echo_repo, args, needle):
    assert_user_error(hookdk(*args, cwd=echo_repo.root), needle)


def test_a_flow_without_a_close_says_so(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    done = hookdk("session", "--flow", "client-left", "--repo", str(repo.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok session-open") == 1 and "session-close " not in done.stdout
    assert "no session-close: Hoop fires none for this flow" in done.stdout


def test_session_json_run_later_carries_the_runner(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    args = ["--flow", "review-run-later", "--run-by", "boss@example.com", "--json"]
    done = hookdk("session", *args, "--repo", str(repo.root))
    results = json.loads(done.stdout)
    sent = [json.loads(result["output"]) for result in results]
    assert [s["event_session_open"]["user_email"] for s in sent[:2]] == [
        "alice@example.com",
        "boss@example.com",
    ]
    assert sent[0]["id"] == sent[1]["id"]


# The second request goes after the timeout by the hook's own clock: late on any machine.
LATE_HOOK = """\
import time, urllib.request
started = time.time()
urllib.request.urlopen(urllib.request.Request("http://siem.example.test/a", data=b"x"))
while time.time() < started + 4.2:
    time.sleep(0.02)
urllib.request.urlopen(urllib.request.Request("http://siem.example.test/b", data=b"x"))
print("done")
"""


def test_fire_past_the_timeout_shows_the_gateways_result_and_late_requests(hook_repo):
    repo = hook_repo(LATE_HOOK)
    args = ["--timeout", "4", "--kill-after", "20", "--capture", "--repo", str(repo.root)]
    done = hookdk("fire", "session-close", *args)
    assert done.returncode == 1
    assert "TIMED OUT session-close  exit_code=-2" in done.stdout
    assert "timeout (4s) waiting for a response from agent, name=hookdk" in done.stdout
    assert "the hook ran on: exit_code=0" in done.stdout
    rows = [line for line in done.stdout.splitlines() if "siem.example.test" in line]
    assert [("(late" in row) for row in rows] == [False, True]


@pytest.mark.parametrize("mode, seen", [("inherit", "t-1\n"), ("clean", "unset\n")])
def test_fire_env_mode_decides_whether_the_hook_sees_the_callers_variables(hook_repo, mode, seen):
    repo = hook_repo("import os\nprint(os.environ.get('SIEM_TOKEN', 'unset'))\n")
    args = ["fire", "session-close", "--repo", str(repo.root), "--json", "--env-mode", mode]
    done = subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SIEM_TOKEN": "t-1"},
    )
    assert json.loads(done.stdout)["output"] == seen


def test_the_settings_files_env_mode_is_the_default_and_the_option_wins(hook_repo):
    repo = hook_repo("import os\nprint(os.environ.get('OTHER', 'unset'))\n")
    (repo.root / "hookdk.toml").write_text('env_mode = "clean"\n')
    args = ["fire", "session-close", "--repo", str(repo.root), "--json"]
    env = {**os.environ, "OTHER": "x"}
    outputs = []
    for extra in ([], ["--env-mode", "inherit"]):
        done = subprocess.run(
            [sys.executable, "-m", "hoophooks_dk", *args, *extra],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        outputs.append(json.loads(done.stdout)["output"])
    assert outputs == ["unset\n", "x\n"]
