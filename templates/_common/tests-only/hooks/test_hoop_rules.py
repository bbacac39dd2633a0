"""What any Hoop runbook hook must hold: the suite `hookdk init --tests-only` writes.

It fires the hooks in hoop-hooks/ as Hoop runs them (python3 with the script on standard
input, the event as plain JSON in HOOP_RUNBOOK_HOOK_PAYLOAD), in every session flow Hoop
has, against a local capture that answers every request: nothing leaves the machine.
Each test holds the hooks to rules a hook must keep whatever it does, and a failure names
the rule (`hookdk check` knows them by the same ids). The settings your hooks read go in
hookdk.toml's [env], as test values.

Add tests of your own beside this file for what your SIEM must receive: the hoop_hooks,
hoop_siem and hoop_payload fixtures come from the hoophooks_dk pytest plugin.
"""

from pathlib import Path

import pytest
from hoophooks_dk import FLOWS

REPO = Path(__file__).resolve().parents[2]  # where pytest.ini's hoop_repo points
PRESENT = [
    event
    for event in ("session-open", "session-close")
    if (REPO / "hoop-hooks" / f"{event}.runbook.py").is_file()
]
# The session shapes Hoop fires (`hookdk flows`) whose every event has a hook here.
PLAYABLE = [
    name
    for name, flow in FLOWS.items()
    if flow.steps and all(step.event in PRESENT for step in flow.steps)
]
TRACEBACK = "Traceback (most recent call last)"


def broken(rule, message):
    """Fail the test with the rule first, and without pytest's traceback of this file."""
    pytest.fail(f"rule {rule}: {message}", pytrace=False)


def assert_sound(result):
    """The rules every run of a hook keeps, each named when it is broken."""
    hook = f"the {result.event} hook"
    if result.timed_out:
        broken(
            "HK502, the 15 s rule",
            f"{hook} was still running when Hoop stopped waiting; Hoop records exit code "
            f"-2 and the event is lost. What it printed:\n{result.hook_output}",
        )
    if result.exit_code != 0:
        broken(
            "HK501, exit 0",
            f"{hook} exited {result.exit_code}; Hoop only logs it, so the event never "
            f"reaches the SIEM. Its output:\n{result.output}",
        )
    if TRACEBACK in result.output:
        broken(
            "HK505, no traceback",
            f"{hook} exited 0 but printed a traceback, which Hoop records as a success. "
            f"Its output:\n{result.output}",
        )
    if result.leaks:
        leaked = "\n".join(f"  {leak.summary()}" for leak in result.leaks)
        broken(
            "HK503/HK504, no payload secret leaves the hook",
            f"{hook} sent the connection's secrets (connection_envs) or its own source "
            f"(input_file):\n{leaked}",
        )


def test_there_are_hooks_to_test():
    assert PRESENT, f"no hook in {REPO / 'hoop-hooks'}: `hookdk init` writes both from a template"


@pytest.mark.parametrize("flow", PLAYABLE)
def test_every_session_flow_hoop_fires(hoop_hooks, flow):
    """Reviewed sessions open twice, clients leave before the close, agents fail: each
    event of each flow, fired when Hoop fires it (hooks running at the same time)."""
    results = hoop_hooks.session(flow)
    assert [r.event for r in results] == [step.event for step in FLOWS[flow].steps]
    for result in results:
        assert_sound(result)


@pytest.mark.skipif("session-close" not in PRESENT, reason="no session-close hook here")
@pytest.mark.parametrize("exit_code", [0, 1, 254])
def test_a_close_with_output_null(hoop_hooks, exit_code):
    """Hoop sends `"output": null` when a session printed nothing on error, and on
    agent errors (exit code 254): a hook must not need a string there."""
    result = hoop_hooks.fire("session-close", exit_code=exit_code, output=None)
    assert result.payload["event_session_close"]["output"] is None
    assert_sound(result)


@pytest.mark.skipif("session-open" not in PRESENT, reason="no session-open hook here")
def test_a_caller_without_an_email(hoop_hooks):
    """Callers authenticated without an email (an API key, a service account) open
    sessions with an empty user_email."""
    result = hoop_hooks.fire("session-open", user_email="")
    assert result.payload["event_session_open"]["user_email"] == ""
    assert_sound(result)


@pytest.mark.hoop(respond="503")
@pytest.mark.parametrize("event", PRESENT)
def test_a_failing_siem_still_leaves_the_hook_inside_15_s(hoop_hooks, event):
    """Whatever the SIEM answers, the hook ends before Hoop stops waiting (retries
    included); it may fail, but not past the 15 s rule."""
    result = hoop_hooks.fire(event)
    if result.timed_out:
        broken(
            "HK502, the 15 s rule",
            f"with the SIEM answering 503, the {event} hook was still running when Hoop "
            f"stopped waiting. What it printed:\n{result.hook_output}",
        )


@pytest.mark.parametrize("event", PRESENT)
def test_any_payload_hoop_can_send(hoop_hooks, event):
    """A short fuzz run: nulls, empty and huge strings, control characters, odd exit
    codes (`hookdk fuzz EVENT` runs a longer one and saves the smallest failing payload)."""
    report = hoop_hooks.fuzz(event, examples=25)
    if not report.ok:
        broken("any payload Hoop can send (hookdk fuzz)", report.describe())
