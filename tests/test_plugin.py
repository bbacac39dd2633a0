"""The pytest plugin, exercised as users use it: pytester runs real test files that fire
real hooks, whose real HTTP clients talk to the capture."""

from __future__ import annotations

import textwrap

import pytest

FORWARDER = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
URL = os.environ.get("SIEM_URL", "https://siem.example.com/events")
body = json.dumps({"id": payload["id"], "sid": payload["sid"]}).encode()
request = urllib.request.Request(URL, data=body, headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(request, timeout=5).status)
"""

RETRYING = """\
import json, os, sys, time, urllib.error, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
for attempt in range(4):
    try:
        request = urllib.request.Request("https://siem.example.com/events", data=b"{}")
        urllib.request.urlopen(request, timeout=5)
        print("delivered on attempt", attempt + 1)
        break
    except urllib.error.HTTPError as error:
        time.sleep(0.05)
else:
    sys.exit("delivery failed after 4 attempts")
"""

RAW_FORWARDER = """\
import os, subprocess
subprocess.run(["curl", "-sS", "-X", "POST", "https://siem.example.com/raw",
                "-H", "Content-Type: application/json",
                "--data-binary", os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]], check=True)
"""

REDACTING = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
payload.pop("input_file")
event = payload["event_session_open"] or {}
if event.get("connection_envs"):
    event["connection_envs"] = sorted(event["connection_envs"])
urllib.request.urlopen(urllib.request.Request(
    "https://siem.example.com/events", data=json.dumps(payload).encode()), timeout=5)
"""


@pytest.fixture
def project(pytester: pytest.Pytester):
    """A runbooks repo laid out in pytester's folder, with hooks given per test."""

    def make(
        open_source: str, close_source: str | None = None, where: str = "."
    ) -> pytest.Pytester:
        hooks = pytester.path / where / "hoop-hooks"
        hooks.mkdir(parents=True, exist_ok=True)
        (hooks / "session-open.runbook.py").write_text(open_source)
        (hooks / "session-close.runbook.py").write_text(close_source or open_source)
        return pytester

    return make


def run(pytester: pytest.Pytester, test_source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_hooks=textwrap.dedent(test_source))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_fire_captures_the_request_and_returns_hoops_result(project):
    result = run(
        project(FORWARDER),
        """
        def test_close(hoop_hooks, hoop_siem):
            result = hoop_hooks.fire("session-close", exit_code=1)
            assert result.exit_code == 0 and not result.timed_out
            assert result.output == "200\\n"
            assert result.payload["event_session_close"]["exit_code"] == 1
            (sent,) = result.requests
            assert sent.method == "POST" and sent.url == "https://siem.example.com/events"
            assert sent.json() == {"id": result.id, "sid": result.sid}
            assert hoop_siem.requests == result.requests
            opened = hoop_hooks.fire("session-open", **{"event_session_open.verb": "connect"})
            assert opened.payload["event_session_open"]["verb"] == "connect"
    """,
    )
    result.assert_outcomes(passed=1)


def test_programmed_responses_with_respx(project):
    result = run(
        project(RETRYING),
        """
        import httpx

        def test_fails_then_recovers(hoop_hooks, hoop_siem):
            route = hoop_siem.router.post("https://siem.example.com/events")
            route.side_effect = [httpx.Response(503), httpx.Response(503), httpx.Response(200)]
            result = hoop_hooks.fire("session-close")
            assert result.exit_code == 0, result.output
            assert "delivered on attempt 3" in result.output
            assert [r.response.status for r in result.requests] == [503, 503, 200]

        def test_collector_down(hoop_hooks, hoop_siem):
            hoop_siem.router.post("https://siem.example.com/events").respond(503)
            result = hoop_hooks.fire("session-close")
            assert result.exit_code == 1
            assert result.output == "delivery failed after 4 attempts\\n"
            assert len(hoop_siem.requests) == 4
    """,
    )
    result.assert_outcomes(passed=2)


def test_unmatched_requests_get_200_and_each_test_sees_only_its_own(project):
    result = run(
        project(FORWARDER),
        """
        def test_first(hoop_hooks, hoop_siem):
            hoop_hooks.fire("session-open")
            hoop_hooks.fire("session-close")
            assert len(hoop_siem.requests) == 2
            assert all(r.response.status == 200 and r.response.body == b"{}" for r in hoop_siem.requests)

        def test_second(hoop_hooks, hoop_siem):
            hoop_hooks.fire("session-close")
            assert len(hoop_siem.requests) == 1
    """,
    )
    result.assert_outcomes(passed=2)


def test_strict_mode_fails_the_test_at_teardown_listing_unmatched(project):
    result = run(
        project(FORWARDER),
        """
        def test_strict(hoop_hooks, hoop_siem):
            hoop_siem.strict = True
            hoop_siem.router.post("https://elsewhere.example.com/")
            result = hoop_hooks.fire("session-close")
            assert result.exit_code == 1
    """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*siem.example.com/events*"])


def test_leak_check_catches_a_raw_payload_forwarder(project):
    result = run(
        project(RAW_FORWARDER),
        """
        def test_leaks(hoop_hooks, hoop_siem):
            assert hoop_hooks.fire("session-open").exit_code == 0
            hoop_siem.assert_no_leaks()
    """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*leak*connection_envs*envvar:*"])
    result.stdout.fnmatch_lines(["*leak*input_file*"])


def test_leak_check_passes_a_redacting_forwarder(project):
    result = run(
        project(REDACTING),
        """
        def test_no_leaks(hoop_hooks, hoop_siem):
            assert hoop_hooks.fire("session-open").exit_code == 0
            assert len(hoop_siem.requests) == 1
            hoop_siem.assert_no_leaks()
    """,
    )
    result.assert_outcomes(passed=1)


def test_review_session_and_hoop_payload_factory(project):
    result = run(
        project(FORWARDER),
        """
        from hoophooks_dk.schema import validate

        def test_review(hoop_hooks, hoop_siem):
            first, second, close = hoop_hooks.session(review=True)
            assert first.requests[0].json()["id"] == second.requests[0].json()["id"]
            assert close.requests[0].json()["id"] != first.requests[0].json()["id"]
            assert first.payload["event_session_open"]["connection_reviewers"] == []
            later = hoop_hooks.session("review-run-later", run_by="boss@example.com", reviewers=["dba"])
            assert later[1].payload["event_session_open"]["user_email"] == "boss@example.com"
            assert later[0].payload["event_session_open"]["connection_reviewers"] == ["dba"]
            assert [r.event for r in hoop_hooks.session(flow="client-left")] == ["session-open"]

        def test_factory(hoop_hooks, hoop_payload):
            payload = hoop_payload("session-close", exit_code=1, output="boom")
            assert validate(payload) == []
            assert "urllib.request" in payload["input_file"]
            result = hoop_hooks.fire("session-close", payload)
            assert result.payload == payload
            assert result.id == payload["id"]
    """,
    )
    result.assert_outcomes(passed=2)


def test_hoop_payload_writes_input_file_as_fire_does(project):
    """A hook source that is not UTF-8: Go writes each bad byte of input_file as the
    escape \\ufffd, and a payload from hoop_payload must reach the hook as fire's does."""
    pytester = project("")
    for name in ("session-open", "session-close"):
        (pytester.path / "hoop-hooks" / f"{name}.runbook.py").write_bytes(b"# caf\xe9\n")
    result = run(
        pytester,
        """
        import json

        from hoophooks_dk.payload import hoop_json

        def test_same_text(hoop_hooks, hoop_payload):
            payload = hoop_payload("session-close")
            assert "caf\\udce9" in payload["input_file"]  # the byte, kept
            assert "caf\\\\ufffd" in hoop_json(payload)  # written as Go writes it
            fired = hoop_hooks.fire("session-close")
            assert fired.payload["input_file"] == json.loads(hoop_json(payload))["input_file"]
    """,
    )
    result.assert_outcomes(passed=1)


def test_repo_option_and_ini(project):
    pytester = project(FORWARDER, where="runbooks")
    source = """
        def test_elsewhere(hoop_hooks):
            assert hoop_hooks.repo.name == "runbooks"
            assert hoop_hooks.fire("session-close").exit_code == 0
    """
    run(pytester, source, "--hoop-repo", "runbooks").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nhoop_repo = runbooks\n")
    run(pytester, source).assert_outcomes(passed=1)


@pytest.mark.parametrize("runner", ["subprocess", "fast"])
def test_both_runners_under_xdist(project, runner):
    tests = "\n".join(
        f"def test_{n}(hoop_hooks, hoop_siem):\n"
        f"    result = hoop_hooks.fire('session-close')\n"
        f"    assert result.exit_code == 0, result.output\n"
        f"    assert [r.json()['id'] for r in hoop_siem.requests] == [result.id]\n"
        for n in range(6)
    )
    result = run(project(FORWARDER), tests, "-n", "2", "--hoop-runner", runner)
    result.assert_outcomes(passed=6)


NAIVE_CLOSE = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["event_session_close"]["output"].strip())
"""


def test_fuzz_from_a_test_finds_the_null_output(project):
    result = run(
        project("print('open')\n", NAIVE_CLOSE),
        """
        import pytest

        def test_fuzz(hoop_hooks):
            report = hoop_hooks.fuzz("session-close", examples=30, seed=1)
            assert report.failure is not None
            assert report.failure.payload["event_session_close"]["output"] is None
            with pytest.raises(AssertionError):
                report.check()

        def test_open_survives(hoop_hooks):
            hoop_hooks.fuzz("session-open", examples=10, seed=1).check()
    """,
    )
    result.assert_outcomes(passed=2)


# --- failures in the capture, markers, overridable fixtures, deprecated names -----------


def test_a_raising_side_effect_fails_the_test_with_its_own_traceback(project):
    result = run(
        project(FORWARDER),
        """
        def broken_answer(request):
            return undefined_name  # a bug in the test's own code

        def test_route_bug(hoop_hooks, hoop_siem):
            hoop_siem.router.post("https://siem.example.com/events").mock(side_effect=broken_answer)
            result = hoop_hooks.fire("session-close")
            assert result.exit_code == 1  # the hook still got its error response
            assert hoop_siem.requests[0].response.status == 502
    """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*def broken_answer(request):*",
            "*return undefined_name*",
            "E*NameError: name 'undefined_name' is not defined",
            "*request #0 POST https://siem.example.com/events*",
        ]
    )


def test_a_simulated_network_failure_is_not_a_test_failure(project):
    result = run(
        project(FORWARDER),
        """
        import httpx

        def test_collector_unreachable(hoop_hooks, hoop_siem):
            hoop_siem.router.post("https://siem.example.com/events").mock(
                side_effect=httpx.ConnectError
            )
            assert hoop_hooks.fire("session-close").exit_code == 1
            assert hoop_siem.requests[0].response.status == 502
    """,
    )
    result.assert_outcomes(passed=1)


def test_a_teardown_whose_capture_never_went_idle_fails_and_says_so(project):
    result = run(
        project(FORWARDER),
        """
        import socket
        from urllib.parse import urlsplit

        LEFT_OPEN = []

        def test_half_a_request(hoop_siem, hoop_capture):
            port = urlsplit(hoop_capture.proxy_url).port
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"POST http://siem.example.com/events HTTP/1.1\\r\\nHost: si")
            LEFT_OPEN.append(client)  # still open when the test ends
    """,
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*a request was still in flight 2 s after the test ended*"])


def test_the_hoop_marker_changes_one_test_only(project):
    result = run(
        project(FORWARDER),
        """
        import pytest

        @pytest.mark.hoop(default_status=503, timeout=7)
        def test_marked(hoop_hooks, hoop_siem):
            assert hoop_hooks.fire("session-close").exit_code == 1
            assert hoop_siem.requests[0].response.status == 503
            assert hoop_hooks.emulator().timeout == 7

        @pytest.mark.hoop(respond={"POST https://siem.example.com/*": 202})
        def test_routes(hoop_hooks, hoop_siem):
            assert hoop_hooks.fire("session-close").output == "202\\n"

        @pytest.mark.hoop(strict=True)
        def test_strict(hoop_hooks, hoop_siem):
            hoop_hooks.fire("session-close")

        def test_unmarked(hoop_hooks, hoop_siem):
            assert hoop_hooks.fire("session-close").exit_code == 0
            assert hoop_siem.requests[0].response.status == 200
            assert not hoop_siem.strict and hoop_hooks.emulator().timeout == 15
    """,
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_strict*"])


def test_the_hoop_marker_refuses_an_unknown_setting(project):
    result = run(
        project(FORWARDER),
        """
        import pytest

        @pytest.mark.hoop(stirct=True)
        def test_typo(hoop_hooks):
            pass
    """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown setting 'stirct'*"])


def test_a_users_overriding_fixtures_are_used(project):
    pytester = project(FORWARDER)
    pytester.makeconftest(
        """
        import pytest
        from hoophooks_dk import Capture
        from hoophooks_dk.runtime.runner import SubprocessRunner

        class TeapotCapture(Capture):
            pass

        class CountingRunner(SubprocessRunner):
            runs = 0

            def run(self, *args, **kwargs):
                CountingRunner.runs += 1
                return super().run(*args, **kwargs)

        @pytest.fixture(scope="session")
        def hoop_capture():
            with TeapotCapture(default_status=202) as capture:
                yield capture

        @pytest.fixture(scope="session")
        def hoop_runner():
            return CountingRunner()
        """
    )
    result = run(
        pytester,
        """
        from conftest import CountingRunner, TeapotCapture

        def test_mine(hoop_hooks, hoop_siem, hoop_capture):
            assert isinstance(hoop_capture, TeapotCapture)
            assert hoop_hooks.fire("session-close").output == "202\\n"  # reset keeps 202
            assert len(hoop_siem.requests) == 1 and CountingRunner.runs == 1
    """,
    )
    result.assert_outcomes(passed=1)


def test_the_old_fixture_names_still_work_with_a_deprecation_warning(project):
    result = run(
        project(FORWARDER),
        """
        def test_old(hoop_hooks, siem, hook_payload):
            hoop_hooks.fire("session-close", hook_payload("session-close"))
            assert len(siem.requests) == 1
    """,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*DeprecationWarning: the siem fixture is now hoop_siem*", "*hook_payload*hoop_payload*"]
    )
