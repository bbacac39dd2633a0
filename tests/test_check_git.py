"""hookdk check, git rules (HK4xx): what Hoop reads is the pushed tip of one branch.

Every repo is real; "the remote" is a bare repository in the tmp dir, pushed to with
git itself, so remote-tracking branches and upstreams are exactly what users have.
"""

from __future__ import annotations

import git
import pytest

from hoophooks_dk.check import Finding, check
from hoophooks_dk.errors import HookdkError

HOOK = 'import os\nprint(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"][:10])\n'
OPEN = "hoop-hooks/session-open.runbook.py"


def git_findings(repo_root, **options) -> list[Finding]:
    return [f for f in check(repo_root, static=True, **options) if f.rule.startswith("HK4")]


def of(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def publish(runbooks, *branches: str) -> git.Repo:
    """A bare clone as `origin`, with the given branches (default: main) pushed, tracked."""
    bare = git.Repo.init(runbooks.root.parent / "remote.git", bare=True)
    runbooks.git.create_remote("origin", bare.git_dir)
    for branch in branches or ("main",):
        runbooks.git.git.push("-u", "origin", branch)
    return bare


@pytest.fixture
def committed(hook_repo):
    repo = hook_repo(HOOK)
    repo.commit()
    return repo


@pytest.fixture
def pushed(committed):
    publish(committed)
    return committed


def test_a_pushed_clean_repo_has_no_git_findings(pushed):
    assert git_findings(pushed.root) == []


def test_hk401_not_a_git_repository_is_a_finding_not_a_crash(tmp_path):
    (tmp_path / "hoop-hooks").mkdir()
    (tmp_path / OPEN).write_text(HOOK)
    [found] = git_findings(tmp_path)
    assert (found.rule, found.severity) == ("HK401", "warning")


def test_hk401_a_folder_inside_a_repository_is_not_its_root(committed):
    inner = committed.root / "hoop-hooks"
    [found] = git_findings(inner)
    assert found.rule == "HK401"
    assert str(committed.root) in found.message


def test_hk401_not_at_the_root_of_a_repository(committed):
    assert not of(git_findings(committed.root), "HK401")


def test_hk402_nothing_committed_yet(hook_repo):
    [found] = git_findings(hook_repo(HOOK).root)
    assert (found.rule, found.severity) == ("HK402", "warning")


def test_hk402_not_once_committed(committed):
    assert not of(git_findings(committed.root), "HK402")


def test_hk403_master_and_main_with_no_branch_configured(pushed):
    pushed.git.create_head("master")
    pushed.git.git.push("-u", "origin", "master")
    [found] = of(git_findings(pushed.root), "HK403")
    assert found.severity == "warning"
    assert not of(git_findings(pushed.root, branch="main"), "HK403")


def test_hk403_looks_at_the_remote_not_at_local_branches(pushed):
    pushed.git.create_head("master")  # local only: Hoop reads the remote, which has main
    assert not of(git_findings(pushed.root), "HK403")


def test_hk404_the_configured_branch_does_not_exist(pushed):
    [found] = of(git_findings(pushed.root, branch="release"), "HK404")
    assert found.severity == "error"
    assert "release" in found.message
    assert not of(git_findings(pushed.root, branch="main"), "HK404")


def test_hk405_neither_master_nor_main(hook_repo):
    repo = hook_repo(HOOK)
    repo.commit()
    repo.git.head.reference.rename("trunk")
    [found] = of(git_findings(repo.root), "HK405")
    assert found.severity == "warning"
    assert not of(git_findings(repo.root, branch="trunk"), "HK405")


def test_hk406_an_uncommitted_change_is_not_what_hoop_runs(committed):
    committed.write(OPEN, HOOK + "# edited\n")
    [found] = of(git_findings(committed.root), "HK406")
    assert (found.severity, found.file) == ("warning", OPEN)
    assert "working tree" in found.message and "main" in found.message


def test_hk406_a_new_hook_and_a_deleted_hook(committed):
    (committed.root / OPEN).unlink()
    message = of(git_findings(committed.root), "HK406")[0].message
    assert "keeps running it" in message
    fresh = committed.hooks(HOOK)
    committed.git.git.rm("--cached", OPEN)
    committed.git.index.commit("drop open")
    assert "does not run it yet" in of(git_findings(fresh.root), "HK406")[0].message


def test_hk406_compares_with_the_remote_tip_when_there_is_a_remote(pushed):
    pushed.write(OPEN, HOOK + "# edited\n")
    pushed.commit("edit")  # committed, not pushed: Hoop still runs origin/main
    [found] = of(git_findings(pushed.root), "HK406")
    assert "origin/main" in found.message


def test_hk406_with_ref_compares_that_revision(committed):
    committed.write(OPEN, HOOK + "# v2\n")
    committed.commit("v2")
    assert not of(git_findings(committed.root, ref="HEAD"), "HK406")
    [found] = of(git_findings(committed.root, ref="HEAD~1"), "HK406")
    assert "at HEAD~1" in found.message


def test_hk406_not_when_the_tree_matches(committed):
    assert not of(git_findings(committed.root), "HK406")


def test_hk407_committed_but_not_pushed(pushed):
    pushed.write(OPEN, HOOK + "# edited\n")
    pushed.commit("edit")
    [found] = of(git_findings(pushed.root), "HK407")
    assert found.severity == "warning"
    assert "1 commit(s) ahead of origin/main" in found.message
    pushed.git.git.push()
    assert not of(git_findings(pushed.root), "HK407")


def test_hk408_no_remote_at_all(committed):
    [found] = of(git_findings(committed.root), "HK408")
    assert "no remote" in found.message


def test_hk408_branch_never_pushed_to_the_remote(committed):
    committed.git.create_head("feature")
    publish(committed, "feature")
    [found] = of(git_findings(committed.root), "HK408")
    assert "main is not on origin" in found.message


def test_hk408_not_once_pushed(pushed):
    assert not of(git_findings(pushed.root), "HK408")


def test_a_bad_ref_is_a_user_error(committed):
    with pytest.raises(HookdkError, match="no such revision"):
        check(committed.root, ref="no-such-ref", static=True)


def test_a_missing_repo_is_a_user_error(tmp_path):
    with pytest.raises(HookdkError, match="no such directory"):
        check(tmp_path / "nowhere", static=True)
