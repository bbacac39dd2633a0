"""The plugin finds the runbooks repo as the CLI does, says clearly when a hook is not
there, and carries leaks on every result."""

from __future__ import annotations

import subprocess
import textwrap

import pytest

LEAKING = """\
import os, urllib.request
raw = os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"].encode()
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/raw", data=raw), timeout=5)
"""


@pytest.fixture
def repo(pytester: pytest.Pytester) -> pytest.Pytester:
    """A git repository with both hooks at its root and the tests in a subfolder."""
    subprocess.run(["git", "init", "-q", str(pytester.path)], check=True)
    hooks = pytester.path / "hoop-hooks"
    hooks.mkdir()
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(LEAKING)
    return pytester


def run_in(pytester: pytest.Pytester, folder: str, test_source: str, *args: str):
    where = pytester.path / folder
    where.mkdir(parents=True, exist_ok=True)
    (where / "test_hooks.py").write_text(textwrap.dedent(test_source))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_run_from_a_subfolder_fires_the_repos_hooks_with_leaks_on_the_result(repo):
    result = run_in(
        repo,
        "checks/hooks",
        """
        def test_fire(hoop_hooks):
            fired = hoop_hooks.fire("session-open")
            assert fired.exit_code == 0, fired.output
            secrets = {leak.label for leak in fired.leaks}
            assert 'connection_envs["envvar:PASS"]' in secrets and "input_file" in secrets
            assert fired.to_dict()["leaks"]
        """,
    )
    result.assert_outcomes(passed=1)


def test_a_runbooks_folder_inside_another_repository_is_found_where_pytest_runs(pytester):
    """A runbooks repository kept as a folder of a bigger one (a monorepo; a test's
    temporary folder inside a clone, as in CI) is used, not the outer repository's root,
    even where the outer root's pytest config makes it the rootdir."""
    outer = pytester.path
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / "pytest.ini").write_text("[pytest]\n")
    inner = outer / "ops" / "runbooks"
    (inner / "hoop-hooks").mkdir(parents=True)
    for event in ("session-open", "session-close"):
        (inner / "hoop-hooks" / f"{event}.runbook.py").write_text(LEAKING)
    result = run_in(
        pytester,
        "ops/runbooks",
        """
        def test_fire(hoop_hooks):
            fired = hoop_hooks.fire("session-close")
            assert fired.exit_code == 0, fired.output
            assert fired.requests
        """,
    )
    result.assert_outcomes(passed=1)
    assert f"rootdir: {outer}" in result.stdout.str()


def test_a_missing_hook_is_one_line_naming_the_path_how_the_repo_was_found_and_the_cause(repo):
    (repo.path / "hoop-hooks" / "session-close.runbook.py").unlink()
    result = run_in(
        repo,
        "checks",
        """
        def test_fire(hoop_hooks):
            hoop_hooks.fire("session-close")
        """,
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    missing = f"{repo.path / 'hoop-hooks' / 'session-close.runbook.py'} does not exist"
    # printed once, not again as its cause (the short summary repeats it in full where
    # pytest sees CI=true, and cut to the terminal's width elsewhere: not counted)
    report = output.split("short test summary info")[0]
    assert report.count(missing) == 1, output
    how = f"(repository: the nearest folder with hoop-hooks/ above {repo.path / 'checks'})"
    assert how in output
    assert "`hookdk init` writes the session-close hook" in output
    assert "--hoop-repo" not in output  # the repository is right: the hook is missing
    assert "HookNotFound" not in output and "Traceback" not in output


def test_a_misnamed_hook_is_named_with_its_fix(repo):
    hooks = repo.path / "hoop-hooks"
    (hooks / "session-close.runbook.py").rename(hooks / "session_close.runbook.py")
    result = run_in(
        repo, "checks", "def test_fire(hoop_hooks):\n    hoop_hooks.fire('session-close')\n"
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "hoop-hooks/session_close.runbook.py looks like it" in output
    assert (
        "git mv hoop-hooks/session_close.runbook.py hoop-hooks/session-close.runbook.py" in output
    )
    assert "--hoop-repo" not in output


def test_the_hooks_folder_given_as_the_repository_suggests_its_parent(repo):
    result = run_in(
        repo,
        "checks",
        "def test_fire(hoop_hooks):\n    hoop_hooks.fire('session-close')\n",
        f"--hoop-repo={repo.path / 'hoop-hooks'}",
    )
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "is the hoop-hooks/ folder itself, not the repository holding it" in output
    assert f"(try --hoop-repo {repo.path})" in output


def test_hoop_repo_still_wins(repo, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "hoop-hooks").mkdir(parents=True)
    (elsewhere / "hoop-hooks" / "session-open.runbook.py").write_text("print('opened')\n")
    (elsewhere / "hoop-hooks" / "session-close.runbook.py").write_text("print('elsewhere')\n")
    result = run_in(
        repo,
        "checks",
        """
        def test_fire(hoop_hooks):
            assert hoop_hooks.fire("session-close").output == "elsewhere\\n"
        """,
        f"--hoop-repo={elsewhere}",
    )
    result.assert_outcomes(passed=1)


def test_a_close_only_repository_fails_fire_and_session_with_hoops_panic(repo, tmp_path):
    only_close = tmp_path / "only-close"
    (only_close / "hoop-hooks").mkdir(parents=True)
    (only_close / "hoop-hooks" / "session-close.runbook.py").write_text("print('closed')\n")
    result = run_in(
        repo,
        "checks",
        """
        import pytest
        from hoophooks_dk import GatewayCrash

        def test_close_only(hoop_hooks):
            for fire in (lambda: hoop_hooks.fire("session-close"), hoop_hooks.session):
                with pytest.raises(GatewayCrash, match="^panic: runtime error: invalid memory"):
                    fire()
            assert list(hoop_hooks.session("client-left")) == []  # it never closes
        """,
        f"--hoop-repo={only_close}",
    )
    result.assert_outcomes(passed=1)


def test_fuzz_in_the_plugin_fails_on_a_leak_unless_allowed(repo):
    result = run_in(
        repo,
        "checks",
        """
        def test_leaky(hoop_hooks):
            report = hoop_hooks.fuzz("session-close", examples=2, seed=1)
            assert not report.ok and "payload secrets" in report.failure.reason
            assert hoop_hooks.fuzz("session-close", examples=2, seed=1, allow_leaks=True).ok
        """,
    )
    result.assert_outcomes(passed=1)


SOURCE_SENDER = """\
import json, os, urllib.request
event = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
body = json.dumps({"id": event["id"], "debug": event["input_file"]}).encode()
urllib.request.urlopen(urllib.request.Request("https://siem.example.com/x", data=body), timeout=5)
"""

QUIET = "print('nothing sent')\n"


def test_a_tests_leak_check_covers_every_fire_whatever_the_order(repo):
    """The close hook sends its own source; the open hook, fired after it, sends nothing:
    the test's check still names the close hook's source."""
    (repo.path / "hoop-hooks" / "session-close.runbook.py").write_text(SOURCE_SENDER)
    (repo.path / "hoop-hooks" / "session-open.runbook.py").write_text(QUIET)
    result = run_in(
        repo,
        "tests",
        """
        import pytest

        def test_both(hoop_hooks, hoop_siem):
            hoop_hooks.fire("session-close")
            hoop_hooks.fire("session-open")
            with pytest.raises(AssertionError) as raised:
                hoop_siem.assert_no_leaks()
            assert "the session-close hook's source (its input_file)" in str(raised.value)

        def test_two_payloads_two_secrets(hoop_hooks, hoop_siem):
            hoop_hooks.fire("session-open")
            hoop_hooks.fire(
                "session-open",
                **{"event_session_open.connection_envs": {"envvar:PASS": "c2Vjb25kLXNlY3JldA=="}},
            )
            labels = [label for label in hoop_siem.canaries if "envvar:PASS" in label]
            assert len(labels) == 2, hoop_siem.canaries
        """,
    )
    result.assert_outcomes(passed=2)
