"""Git (HK4xx): Hoop runs only what is committed and pushed on one branch.

Hoop clones the runbooks repository and reads the configured branch, else the first of
master and main (docs/hoop-runtime.md section 1). The rules look at one ``GitView`` of
the repository: the branch Hoop would read and its tip as the remote has it. Nothing
here touches the network: the remote is as of the last fetch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..hooks import HOOK_PATHS
from .layout import HOOKS_DIR
from .registry import Finding, Problem, family_rules, rule

if TYPE_CHECKING:
    import git

DEFAULT_BRANCHES = ("master", "main")  # Hoop's order when no branch is configured


@dataclass
class GitView:
    """What Hoop would read: the branch, and its tip as the remote has it (if any)."""

    repo: git.Repo
    root: Path
    ref: str | None
    configured: str | None  # --branch
    remote: git.Remote | None
    names: list[str]  # branch names where Hoop looks: the remote's if any, else local
    branch: str | None  # the branch Hoop reads, when one exists
    tip: git.Commit | None  # that branch's commit on the remote (else local)
    tip_label: str = ""


def check_git(
    root: Path, ref: str | None, configured: str | None, remote: str | None = None
) -> list[Finding]:
    """HK401 when there is no repository, else every git rule on one view of it.
    ``remote`` names the remote Hoop clones (``hookdk doctor`` knows it from Hoop's
    configuration); by default ``origin``, or the only remote there is."""
    view = _git_view(root, ref, configured, remote)
    if isinstance(view, list):  # HK401
        return view
    if not view.repo.heads and not view.names:
        return no_commits(view)
    return [f for each in family_rules("git") for f in each(view)]


def hoop_view(
    root: Path, configured: str | None = None, remote: str | None = None
) -> GitView | None:
    """What Hoop would read from the repository at ``root`` (its branch, that branch's tip
    on ``remote`` as of the last fetch), or None when ``root`` is no repository's root."""
    view = _git_view(root, None, configured, remote)
    return None if isinstance(view, list) else view


def _git_view(
    root: Path, ref: str | None, configured: str | None, remote_name: str | None = None
) -> GitView | list[Finding]:
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return not_a_repository(root, None)
    top = Path(repo.working_tree_dir or root).resolve()
    if top != root:
        return not_a_repository(root, top)
    remote = repo.remote(remote_name) if remote_name else _remote(repo)
    pushed = _remote_branches(repo, remote) if remote else []
    local = [head.name for head in repo.heads]
    wanted = [configured] if configured else list(DEFAULT_BRANCHES)
    # Hoop reads the remote; a branch that exists only here is still the one meant (HK408).
    branch = next((name for name in wanted if name in pushed), None)
    branch = branch or next((name for name in wanted if name in local), None)
    view = GitView(repo, root, ref, configured, remote, pushed or local, branch, None)
    if branch is not None:
        view.tip_label = f"{remote.name}/{branch}" if branch in pushed else branch
        view.tip = repo.commit(view.tip_label)
    return view


def _remote(repo: git.Repo) -> git.Remote | None:
    """Hoop clones one URL; locally that is `origin`, or the only remote there is."""
    names = [remote.name for remote in repo.remotes]
    if "origin" in names:
        return repo.remote("origin")
    return repo.remotes[0] if names else None


def _remote_branches(repo: git.Repo, remote: git.Remote) -> list[str]:
    """Branch names on ``remote`` as of the last fetch (no network: check stays offline)."""
    import git

    return [
        ref.remote_head
        for ref in repo.references
        if isinstance(ref, git.RemoteReference)
        and ref.remote_name == remote.name
        and ref.remote_head != "HEAD"
    ]


@rule("HK401", "warning", "not a git repository", automatic=False)
def not_a_repository(root: Path, top: Path | None) -> Problem:
    """HK401: Hoop reads hooks only from a git repository's root, committed and pushed."""
    if top is None:
        message = f"{root} is not a git repository: Hoop reads hooks only from one"
        fix = "git init, commit hoop-hooks/, push it to the repository Hoop is configured with"
    else:
        message = f"{root} is inside the git repository {top}, not at its root: Hoop reads {HOOKS_DIR}/ at the root"
        fix = f"run hookdk check --repo {top}, or move {HOOKS_DIR}/ to the root"
    return Problem(message, fix)


@rule("HK402", "warning", "nothing committed yet", automatic=False)
def no_commits(view: GitView) -> list[Problem]:
    """HK402: a new repository has no branch yet, so Hoop has nothing to read."""
    return [
        Problem(
            "the repository has no commits: Hoop runs only committed, pushed hooks",
            f"git add {HOOKS_DIR} && git commit, then push",
        )
    ]


@rule("HK403", "warning", "both master and main exist and no branch is configured")
def ambiguous_default_branch(view: GitView) -> list[Problem]:
    """HK403: with no branch configured, Hoop takes the first of master or main that its
    reference listing yields, and go-git lists an in-memory clone's references in Go's
    (random) map order: with both present, either may be read, fetch after fetch."""
    if view.configured or not all(name in view.names for name in DEFAULT_BRANCHES):
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        Problem(
            f"both master and main exist on {where} and no branch is configured: "
            "Hoop may read either, and may switch on each refresh (checked here: master)",
            "configure the branch in Hoop's runbooks settings and pass --branch, or delete one",
        )
    ]


@rule("HK404", "error", "the configured branch does not exist")
def configured_branch_missing(view: GitView) -> list[Problem]:
    """HK404: Hoop fails the fetch ("branch ref not found") and runs no hook at all."""
    if not view.configured or view.branch is not None:
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        Problem(
            f"branch {view.configured} is not on {where}: Hoop finds no branch and runs no hook",
            f"push {view.configured}, or pass the branch configured in Hoop",
        )
    ]


@rule("HK405", "warning", "neither master nor main exists and no branch is configured")
def no_default_branch(view: GitView) -> list[Problem]:
    """HK405: without a configured branch Hoop looks only for master and main."""
    if view.configured or view.branch is not None:
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        Problem(
            f"{where} has neither master nor main: unless a branch is configured in Hoop, "
            "Hoop finds no branch and runs no hook",
            "pass --branch with the branch configured in Hoop, or push a main branch",
        )
    ]


@rule("HK406", "warning", "checked hook differs from what Hoop reads")
def differs_from_hoop(view: GitView) -> list[Problem]:
    """HK406: what you test is not what Hoop runs until it is committed and pushed."""
    if view.tip is None:
        return []
    checked = "at " + view.ref if view.ref else "in the working tree"
    tip = f"{view.tip_label} ({view.tip.hexsha[:8]})"
    found = []
    for path in HOOK_PATHS.values():
        mine, hoops = _checked_bytes(view, path), _blob_bytes(view.tip, path)
        if mine == hoops:
            continue
        if hoops is None:
            message = f"exists {checked} but not on {tip}: Hoop does not run it yet"
        elif mine is None:
            message = f"is absent {checked} but {tip} still has it: Hoop keeps running it"
        else:
            message = f"differs {checked} from {tip}, which is what Hoop runs"
        found.append(Problem(message, "commit and push it", file=path))
    return found


@rule("HK407", "warning", "branch is ahead of its remote: not pushed")
def ahead_of_remote(view: GitView) -> list[Problem]:
    """HK407: local commits on Hoop's branch that the remote (so Hoop) does not have."""
    local = _local_head(view)
    upstream = _upstream(view, local)
    if local is None or upstream is None:
        return []
    ahead = sum(1 for _ in view.repo.iter_commits(f"{upstream}..{local.name}"))
    if not ahead:
        return []
    return [
        Problem(
            f"{local.name} is {ahead} commit(s) ahead of {upstream}: Hoop still runs {upstream}",
            f"git push {upstream.split('/', 1)[0]} {local.name}",
        )
    ]


@rule("HK408", "warning", "branch is not on a remote")
def not_on_remote(view: GitView) -> list[Problem]:
    """HK408: Hoop clones from a remote; a branch that exists only here is invisible."""
    local = _local_head(view)
    if local is None or _upstream(view, local) is not None:
        return []
    if view.remote is None:
        message = (
            f"no remote: Hoop clones the runbooks repository, and {local.name} exists only here"
        )
        fix = f"git remote add origin URL && git push -u origin {local.name}"
    else:
        message = (
            f"{local.name} is not on {view.remote.name} (as of the last fetch): Hoop cannot read it"
        )
        fix = f"git push -u {view.remote.name} {local.name}"
    return [Problem(message, fix)]


def _local_head(view: GitView) -> git.Head | None:
    if view.branch is None:
        return None
    return next((head for head in view.repo.heads if head.name == view.branch), None)


def _upstream(view: GitView, local: git.Head | None) -> str | None:
    """The remote-tracking branch of ``local``: configured, else the remote's same name."""
    if local is None:
        return None
    tracking = local.tracking_branch()
    if tracking is not None and tracking.is_valid():
        return tracking.name
    if view.remote is not None and local.name in _remote_branches(view.repo, view.remote):
        return f"{view.remote.name}/{local.name}"
    return None


def _checked_bytes(view: GitView, path: str) -> bytes | None:
    """The checked file as git would store it (a symlink is its target's path)."""
    if view.ref is not None:
        return _blob_bytes(view.repo.commit(view.ref), path)
    file = view.root / path
    if file.is_symlink():
        return os.readlink(file).encode()
    return file.read_bytes() if file.is_file() else None


def _blob_bytes(commit: git.Commit, path: str) -> bytes | None:
    try:
        return (commit.tree / path).data_stream.read()
    except KeyError:
        return None
