"""Session flows, timing, the timeout rule and the environment modes, end to end.

Every test runs real hook scripts in real subprocesses; HTTP requests are real urllib
requests through the capture (docs/hoop-runtime.md sections 3 and 5).
"""

from __future__ import annotations

import json
import os

import pytest

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.emulator import CLEAN_KEEP, Emulator
from hoophooks_dk.errors import HookdkError
from hoophooks_dk.flows import FLOWS
from hoophooks_dk.payload import hook_id
from hoophooks_dk.wiring import make_runner

DUMP_HOOK = """\
import os
print(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
"""

# Posts the event's id to the SIEM, after SLEEP seconds for session-open.
POST_HOOK = """\
import json, os, time, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
event = "open" if payload["event_session_open"] else "close"
time.sleep({sleep} if event == "open" else 0)
request = urllib.request.Request(
    "https://siem.example.test/" + event, data=json.dumps({{"id": payload["id"]}}).encode()
)
urllib.request.urlopen(request, timeout=5).read()
print(event, "sent")
"""


def payloads(results) -> list[dict]:
    return [json.loads(result.output) for result in results]


def events(results) -> list[str]:
    return [result.event.removeprefix("session-") for result in results]


EXPECTED = {
    "exec": ["open", "close"],
    "connect": ["open", "close"],
    "client-left": ["open"],
    "client-left-web": ["open", "close"],
    "review-same-stream": ["open", "open", "close"],
    "review-run-later": ["open", "open", "close"],
    "review-jit-connect": ["open", "open"],
    "review-ai": ["open", "close"],
    "review-ai-web": ["open", "close"],
    "review-rejected": ["open"],
    "ai-blocked": [],
    "refused": [],
    "agent-error": ["open", "close"],
    "guardrail-blocked": ["open", "close"],
    "proxy-manager": ["close"],
}


def test_every_flow_is_tested_here():
    assert set(EXPECTED) == set(FLOWS)


@pytest.mark.parametrize("name", EXPECTED)
def test_each_flow_fires_exactly_hoops_events_with_one_sid_and_hoops_ids(name, hook_repo):
    repo = hook_repo(DUMP_HOOK)
    results = Emulator(repo.root).session(name)
    assert events(results) == EXPECTED[name] == [s.event[8:] for s in FLOWS[name].steps]
    sent = payloads(results)
    assert {payload["sid"] for payload in sent} <= {results.sid}
    for result, payload in zip(results, sent, strict=True):
        assert payload["id"] == hook_id(result.event, payload["sid"]) == result.id
    assert results.flow.name == name
    assert (results.notes == []) == bool(FLOWS[name].steps)  # both hooks exist here
    assert FLOWS[name].doc  # every flow names where in Hoop's source it comes from


@pytest.mark.parametrize("name", ["ai-blocked", "refused"])
def test_refusals_before_the_hook_step_fire_nothing_and_say_so(name, hook_repo):
    results = Emulator(hook_repo(DUMP_HOOK).root).session(name)
    assert list(results) == [] and results.ok
    assert results.notes == [f"Hoop fires no hook for flow {name}: {FLOWS[name].summary}"]
    assert FLOWS[name].fires == "no hook"


def test_proxy_manager_closes_without_an_open(hook_repo):
    (closed,) = payloads(Emulator(hook_repo(DUMP_HOOK).root).session("proxy-manager"))
    assert closed["event_session_open"] is None
    assert closed["event_session_close"] == {"exit_code": 0, "output": None}


def test_review_jit_connect_opens_twice_identically_as_a_connect(hook_repo):
    first, second = payloads(Emulator(hook_repo(DUMP_HOOK).root).session("review-jit-connect"))
    assert first == second
    assert (first["event_session_open"]["verb"], first["event_session_open"]["input"]) == (
        "connect",
        "",
    )


def test_review_ai_web_opens_once_as_whoever_runs_it(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    results = Emulator(repo.root).session("review-ai-web", run_by="boss@example.com")
    opened, closed = payloads(results)
    assert opened["event_session_open"]["user_email"] == "boss@example.com"
    assert closed["sid"] == opened["sid"]


def test_client_left_web_still_closes(hook_repo):
    opened, closed = payloads(Emulator(hook_repo(DUMP_HOOK).root).session("client-left-web"))
    assert opened["event_session_open"]["verb"] == "exec"
    assert closed["event_session_close"] == {"exit_code": 0, "output": None}


def test_exec_sends_hoops_empty_collections_and_a_clean_close(hook_repo):
    opened, closed = payloads(Emulator(hook_repo(DUMP_HOOK).root).session())
    event = opened["event_session_open"]
    assert (event["verb"], event["connection_reviewers"]) == ("exec", [])
    assert "SELECT" in event["input"]
    assert closed["event_session_close"] == {"exit_code": 0, "output": None}


def test_connect_and_client_left_open_with_an_empty_input(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    for name in ("connect", "client-left"):
        event = payloads(Emulator(repo.root).session(name))[0]["event_session_open"]
        assert (event["verb"], event["input"]) == ("connect", "")


def test_review_same_stream_opens_twice_with_identical_payloads(hook_repo):
    first, second, close = payloads(Emulator(hook_repo(DUMP_HOOK).root).session(review=True))
    assert first == second
    assert close["sid"] == first["sid"]


def test_review_run_later_reopens_the_same_session_as_whoever_runs_it(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    results = Emulator(repo.root).session("review-run-later", run_by="boss@example.com")
    request, run, _ = payloads(results)
    assert (request["sid"], request["id"]) == (run["sid"], run["id"])
    assert request["event_session_open"]["user_email"] == "alice@example.com"
    assert run["event_session_open"]["user_email"] == "boss@example.com"
    assert run["event_session_open"]["input"] == request["event_session_open"]["input"]
    default = payloads(Emulator(repo.root).session("review-run-later"))[1]
    assert default["event_session_open"]["user_email"] == "admin@example.com"


def test_agent_error_closes_with_254_and_the_agents_error_text(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    closed = payloads(Emulator(repo.root).session("agent-error"))[1]
    assert closed["event_session_close"] == {
        "exit_code": 254,
        "output": "connection params not found, contact the administrator",
    }
    text = "failed connecting to remote host=db, port=5432, reason=refused"
    closed = payloads(Emulator(repo.root).session("agent-error", output=text))[1]
    assert closed["event_session_close"] == {"exit_code": 254, "output": text}


def test_guardrail_blocked_closes_with_254_and_null(hook_repo):
    closed = payloads(Emulator(hook_repo(DUMP_HOOK).root).session("guardrail-blocked"))[1]
    assert closed["event_session_close"] == {"exit_code": 254, "output": None}


@pytest.mark.parametrize(
    ("flow", "options", "message"),
    [
        ("agent-error", {"exit_code": 1}, r"exit_code \(--exit-code\): flow agent-error fixes"),
        ("guardrail-blocked", {"output": "x"}, "flow guardrail-blocked fixes output to null"),
        ("client-left", {"exit_code": 1}, "applies to a session-close; flow client-left fires"),
        ("ai-blocked", {"output": "x"}, "flow ai-blocked fires none"),
        ("proxy-manager", {"caller": "machine"}, "flow proxy-manager fires no session-open"),
        ("review-ai-web", {"caller": "machine"}, r"the run's opener is --run-by"),
        ("exec", {"caller": "robot"}, "unknown caller 'robot': expected one of user, api-key"),
    ],
)
def test_options_a_flow_cannot_take_are_refused_before_any_hook_runs(
    flow, options, message, hook_repo
):
    with pytest.raises(HookdkError, match=message):
        Emulator(hook_repo(DUMP_HOOK).root).session(flow, **options)


@pytest.mark.parametrize(
    ("caller", "email"),
    [
        ("user", "alice@example.com"),
        ("api-key", "deploy-bot"),
        ("ai-agent", "ops-assistant"),
        ("gateway-api-key", "API_KEY"),
        ("machine", ""),
    ],
)
def test_caller_sets_who_opens_the_session_but_not_who_runs_it(caller, email, hook_repo):
    repo = hook_repo(DUMP_HOOK)
    results = Emulator(repo.root).session("review-run-later", caller=caller)
    request, run, _ = payloads(results)
    assert request["event_session_open"]["user_email"] == email
    assert run["event_session_open"]["user_email"] == "admin@example.com"


# --- what the repository holds: an open-only one plays, a close-only one crashes ----------


def test_an_open_only_repository_plays_every_flow_its_closes_running_nothing(runbooks):
    runbooks.hooks(open_source=DUMP_HOOK)
    for name, fired in EXPECTED.items():
        results = Emulator(runbooks.root).session(name)
        assert events(results) == [e for e in fired if e == "open"], name
        if "close" in fired:
            assert any("no hoop-hooks/session-close.runbook.py" in n for n in results.notes)


def test_a_close_only_repository_fails_every_flow_that_closes_with_hoops_panic(runbooks):
    from hoophooks_dk.errors import GatewayCrash

    runbooks.hooks(close_source=DUMP_HOOK)
    for name, fired in EXPECTED.items():
        if "close" not in fired:
            results = Emulator(runbooks.root).session(name)
            assert list(results) == []  # no open hook: nothing runs, and nothing crashes
            continue
        with pytest.raises(GatewayCrash) as caught:
            Emulator(runbooks.root).session(name)
        assert str(caught.value).startswith(
            "panic: runtime error: invalid memory address or nil pointer dereference: "
            "hoop-hooks/session-close.runbook.py exists but hoop-hooks/session-open.runbook.py"
        )
        assert caught.value.exit_code == 1


def test_reviewers_only_set_the_field_and_review_invents_none(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    reviewed = payloads(Emulator(repo.root).session(review=True))
    assert reviewed[0]["event_session_open"]["connection_reviewers"] == []
    plain = payloads(Emulator(repo.root).session(reviewers=["dba", "sec"]))
    assert events(plain and Emulator(repo.root).session(reviewers=["x"])) == ["open", "close"]
    assert plain[0]["event_session_open"]["connection_reviewers"] == ["dba", "sec"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"flow": "nope"}, "unknown flow 'nope': expected one of exec, connect"),
        ({"flow": "connect", "review": True}, "--review means --flow review-same-stream"),
        ({"duration": -1}, r"duration -1 s \(--duration\): give 0 seconds or more"),
        (
            {"run_by": "x@example.com"},
            r"run_by \(--run-by\) applies to flows review-run-later and review-ai-web, not "
            "exec",
        ),
    ],
)
def test_bad_session_options_are_one_clear_error(options, message, hook_repo):
    with pytest.raises(HookdkError, match=message):
        Emulator(hook_repo(DUMP_HOOK).root).session(**options)


# --- timing: hooks start when Hoop starts them, not after each other ---------------------


@pytest.fixture(params=["subprocess", "fast"])
def runner(request):
    made = make_runner(request.param)
    yield made
    made.close()


# The open hook sends only once the close hook has sent: it waits for the file the close
# hook writes after its request. Were the close event held back until the open hook
# ended, the open hook would wait in vain (and give up after a minute, sending first).
WAITS_FOR_THE_CLOSE = """\
import json, os, pathlib, time, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
event = "open" if payload["event_session_open"] else "close"
closed = pathlib.Path(os.environ["CLOSE_SENT"])
if event == "open":
    for _ in range(1200):
        if closed.exists():
            break
        time.sleep(0.05)
request = urllib.request.Request(
    "https://siem.example.test/" + event, data=json.dumps({"id": payload["id"]}).encode()
)
urllib.request.urlopen(request, timeout=5).read()
if event == "close":
    closed.write_text("sent")
print(event, "sent")
"""


def test_a_slow_open_hook_does_not_hold_back_the_close_event(hook_repo, runner, tmp_path):
    """The SIEM receives the close event first, as it can in production: judged by order
    (the open hook sends only after the close hook has), not by how long anything took."""
    repo = hook_repo(WAITS_FOR_THE_CLOSE)
    env = dict(os.environ, CLOSE_SENT=str(tmp_path / "close-sent"))
    with Capture() as capture:
        results = Emulator(repo.root, capture=capture, runner=runner, env=env).session()
    opened, closed = results
    assert events(results) == ["open", "close"]  # results stay in event order
    assert [r.url for r in results.requests] == [
        "https://siem.example.test/close",
        "https://siem.example.test/open",
    ]
    assert [r.url for r in opened.requests] == ["https://siem.example.test/open"]
    assert [r.url for r in closed.requests] == ["https://siem.example.test/close"]
    # the close hook started, and sent, while the open hook was still running
    assert closed.started_at < opened.requests[0].time.timestamp()
    assert opened.started_at + opened.run.duration > closed.requests[0].time.timestamp()


def test_sequential_runs_the_hooks_one_after_another(hook_repo):
    repo = hook_repo(POST_HOOK.format(sleep=0.5))
    with Capture() as capture:
        results = Emulator(repo.root, capture=capture).session(sequential=True)
    assert [r.url.rsplit("/", 1)[1] for r in results.requests] == ["open", "close"]


def test_each_concurrent_hook_gets_its_own_requests(hook_repo, runner):
    """Three hooks at once (review-same-stream): each result holds only what it sent."""
    repo = hook_repo(POST_HOOK.format(sleep=0.3))
    with Capture() as capture:
        results = Emulator(repo.root, capture=capture, runner=runner).session(review=True)
    assert [len(result.requests) for result in results] == [1, 1, 1]
    for result in results:
        assert result.requests[0].json() == {"id": result.id}
    assert len({r.index for r in results.requests}) == 3


def test_duration_separates_the_close_from_the_open(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    results = Emulator(repo.root).session(duration=0.6)
    opened, closed = results
    assert closed.started_at - results.started_at >= 0.6  # never earlier than asked
    assert opened.started_at <= closed.started_at


# --- the 15 s rule: the gateway stops waiting, the hook runs on --------------------------

LATE_HOOK = """\
import os, time, urllib.request
started = time.time()  # after the runner's start: waiting from here is never too short
def post(what):
    urllib.request.urlopen(urllib.request.Request("http://siem.example.test/" + what, data=b"x"))
post("early")
while time.time() < started + {sleep}:
    time.sleep(0.02)
post("late")
print("done")
"""


def test_requests_after_the_timeout_are_captured_and_marked_late(hook_repo):
    """The second request is sent after the timeout by the hook's own clock (so it is
    late whatever the machine's load); the first at once, well within 4 s."""
    repo = hook_repo(LATE_HOOK.format(sleep=4.2))
    with Capture() as capture:
        result = Emulator(repo.root, capture=capture, timeout=4, kill_after=20).fire(
            "session-close"
        )
    assert (result.exit_code, result.timed_out, result.execution_time_sec) == (-2, True, 0)
    assert result.output.startswith("timeout (4s) waiting for a response from agent, name=")
    assert (result.hook_exit_code, result.hook_output) == (0, "done\n")
    early, late = result.requests
    assert (result.is_late(early), result.is_late(late)) == (False, True)
    assert result.late_requests == [late]
    reported = result.to_dict()
    assert [r["late"] for r in reported["requests"]] == [False, True]
    assert reported["requests"][1]["time"] > reported["requests"][0]["time"]
    assert (reported["hook_exit_code"], reported["hook_output"]) == (0, "done\n")


def test_the_hard_limit_ends_a_hook_that_never_finishes(hook_repo):
    """The first request is sent at once, well before the hard limit (4 s)."""
    repo = hook_repo(LATE_HOOK.format(sleep=60))
    with Capture() as capture:
        result = Emulator(repo.root, capture=capture, timeout=0.3, kill_after=4).fire(
            "session-close"
        )
    assert (result.exit_code, result.hook_exit_code) == (-2, -1)
    assert [r.url for r in result.requests] == ["http://siem.example.test/early"]
    assert any("--kill-after" in warning for warning in result.warnings)


def test_a_hook_within_the_timeout_has_no_late_requests(hook_repo):
    repo = hook_repo(LATE_HOOK.format(sleep=0))
    with Capture() as capture:
        result = Emulator(repo.root, capture=capture).fire("session-close")
    assert result.ok and result.hook_exit_code == 0 and result.late_requests == []


# --- the hook's environment, both ways ---------------------------------------------------

ENV_HOOK = """\
import json, os
print(json.dumps(sorted(os.environ)))
"""


def test_inherit_passes_the_callers_environment(hook_repo):
    repo = hook_repo(ENV_HOOK)
    env = dict(os.environ, SIEM_TOKEN="t-1")
    names = json.loads(Emulator(repo.root, env=env).fire("session-close").output)
    assert "SIEM_TOKEN" in names and "HOOP_RUNBOOK_HOOK_PAYLOAD" in names


def test_clean_passes_only_the_payload_and_what_python_needs(hook_repo):
    repo = hook_repo(ENV_HOOK)
    env = dict(os.environ, SIEM_TOKEN="t-1", LANG="C.UTF-8")
    result = Emulator(repo.root, env=env, env_mode="clean").fire("session-close")
    names = set(json.loads(result.output))
    assert "SIEM_TOKEN" not in names and "HOOP_RUNBOOK_HOOK_PAYLOAD" in names
    assert {"PATH", "LANG"} <= names <= {"HOOP_RUNBOOK_HOOK_PAYLOAD", *CLEAN_KEEP}


def test_clean_keeps_the_capture_working(hook_repo):
    repo = hook_repo(LATE_HOOK.format(sleep=0))
    with Capture() as capture:
        result = Emulator(repo.root, capture=capture, env_mode="clean").fire("session-close")
    assert result.ok and len(result.requests) == 2


def test_an_unknown_env_mode_is_a_settings_error(hook_repo):
    from hoophooks_dk.errors import PayloadError, SettingsError

    with pytest.raises(SettingsError, match="unknown env mode 'dirty'") as caught:
        Emulator(hook_repo(DUMP_HOOK).root, env_mode="dirty")
    assert not isinstance(caught.value, PayloadError)  # a setting, not a payload


def test_a_kill_after_below_the_timeout_is_refused_when_the_emulator_is_made(hook_repo):
    from hoophooks_dk.errors import SettingsError

    with pytest.raises(SettingsError, match=r"kill_after 1 s \(--kill-after\) is below the"):
        Emulator(hook_repo(DUMP_HOOK).root, timeout=5, kill_after=1)


# --- which hook run sent a request: the tag in the proxy URL -----------------------------


@pytest.mark.parametrize("url", ["http://siem.example.test/a", "https://siem.example.test/a"])
def test_the_capture_records_the_proxy_urls_tag_and_drops_the_proxy_header(url):
    import subprocess

    with Capture() as capture:
        env = {**os.environ, **capture.environ(client="run-7")}
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "-d", "x", url], env=env, check=True)
    (request,) = capture.requests
    assert request.client == "run-7"
    assert request.header("Proxy-Authorization") is None


def test_clean_keeps_the_settings_given_explicitly(hook_repo):
    repo = hook_repo(ENV_HOOK)
    emulator = Emulator(
        repo.root,
        env=dict(os.environ, OTHER="x"),
        extra_env={"SIEM_TOKEN": "t-1"},
        env_mode="clean",
    )
    names = set(json.loads(emulator.fire("session-close").output))
    assert "SIEM_TOKEN" in names and "OTHER" not in names
