"""The doctor's look at the local repository: is it the one Hoop reads, and what does Hoop
find at the branch it reads?

Hoop clones ``git_url`` and reads the configured branch, else master or main
(``CloneRepositoryInMemory`` in common/runbooks/git.go). Locally, the repository Hoop
reads is the remote whose URL normalizes (``GetNormalizedGitURL``) to a configured
repository; what Hoop finds is that remote's branch as of the last fetch. Nothing here
touches the network: ``git fetch`` first for a fresh answer. The branch rules are
``hookdk check``'s git family (HK4xx), run against that remote.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import HooksNotLoaded
from .config import HookConfig, Repository, normalized_git_url
from .findings import OK, PROBLEM, WARNING, Finding
from .source import HOOK_LOADER, RUNBOOKS_GIT, cite


def local_findings(config: HookConfig, root: Path) -> list[Finding]:
    """The findings for the repository at ``root``: not one (one warning), its remotes,
    the branch Hoop reads and the hooks at that branch's pushed commit."""
    import git

    try:
        repo = git.Repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return [
            Finding(
                "not-a-repository",
                WARNING,
                f"{root} is not a git repository: the local checks were skipped",
                cite(RUNBOOKS_GIT, "CloneRepositoryInMemory"),
                fix="run hookdk doctor in the hooks repository, or pass --repo",
            )
        ]
    remotes = {remote.name: list(remote.urls) for remote in repo.remotes}
    configured = ", ".join(r.name for r in config.repositories) or "none"
    if not remotes:
        return [
            Finding(
                "no-remote",
                WARNING,
                f"{root} has no remote: Hoop clones the repository it is configured with "
                f"({configured}), and the doctor cannot tell whether it is this one",
                cite(RUNBOOKS_GIT, "CloneRepositoryInMemory"),
                fix="git remote add origin <the git_url configured in Hoop>",
            )
        ]
    matched = matching(config, remotes)
    if not matched:
        shown = "; ".join(f"{name}: {', '.join(urls)}" for name, urls in remotes.items())
        return [
            Finding(
                "not-hoops-repository",
                PROBLEM,
                f"this repository ({shown}) is none of the repositories Hoop reads "
                f"({configured}): the hooks here never run",
                cite(HOOK_LOADER, "getRunbookHookFilesV2"),
                fix="push these hooks to the configured repository, or configure this one",
            )
        ]
    name = "origin" if "origin" in matched else sorted(matched)[0]
    target = matched[name]
    found = [
        Finding(
            "this-repository",
            OK if target.hooks_on else WARNING,
            f"remote {name} is {target.name}, which Hoop reads from branch {target.reads}"
            + ("" if target.hooks_on else ", with hooks off (no TTL)"),
            cite(HOOK_LOADER),
            target.name,
        )
    ]
    return found + _branch_findings(root, repo, name, target.branch, target.name)


def _branch_findings(root: Path, repo, remote: str, branch: str | None, name: str) -> list[Finding]:
    from ..check.git import check_git, hoop_view

    found = [
        Finding(
            finding.rule,
            PROBLEM if finding.severity == "error" else WARNING,
            f"{finding.file + ': ' if finding.file else ''}{finding.message}",
            cite(RUNBOOKS_GIT, "CloneRepositoryInMemory"),
            name,
            finding.fix,
        )
        for finding in check_git(root, None, branch, remote)
    ]
    view = hoop_view(root, branch, remote)
    if view is None or view.tip is None:
        return found
    found += _pushed_hooks(root, view.tip_label, view.tip.hexsha, name)
    current = None if repo.head.is_detached else repo.active_branch.name
    if current is not None and view.branch is not None and current != view.branch:
        found.append(
            Finding(
                "other-branch",
                WARNING,
                f"you are on branch {current}; Hoop reads {view.tip_label}: merge and push there "
                "for Hoop to run what you test",
                cite(RUNBOOKS_GIT, "CloneRepositoryInMemory"),
                name,
            )
        )
    return found


def _pushed_hooks(root: Path, label: str, sha: str, name: str) -> list[Finding]:
    """What Hoop loads at the pushed commit: both hooks, one, none, or neither (a file
    that will not load drops both, as ``render.load`` emulates)."""
    from ..hooks import read_hooks
    from ..render import close_without_open, load

    hooks = read_hooks(root, sha)
    where = f"{label} ({sha[:8]})"
    source = cite(HOOK_LOADER, "processEventOpenSessionHook")
    present = [event for event, hook in hooks.items() if hook is not None]
    if not present:
        return [
            Finding(
                "no-pushed-hooks",
                PROBLEM,
                f"Hoop finds no hooks at {where}: hoop-hooks/ is not on the branch it reads",
                source,
                name,
                "commit hoop-hooks/ and push it to that branch",
            )
        ]
    try:
        load(hooks)
    except HooksNotLoaded as error:
        return [Finding("pushed-hooks-not-loaded", PROBLEM, f"at {where}: {error}", source, name)]
    if present == ["session-close"]:  # the gateway panics on every close: Hoop's text first
        hoop_text, explanation = close_without_open(where)
        fix_at = explanation.rindex("; add ")
        return [
            Finding(
                "pushed-close-only",
                PROBLEM,
                f"{hoop_text}: {explanation[:fix_at]} (docs/hoop-runtime.md section 1)",
                cite(HOOK_LOADER, "processEventCloseSessiontHook"),
                name,
                explanation[fix_at + 2 :],
            )
        ]
    shown = " and ".join(present)
    return [Finding("pushed-hooks", OK, f"Hoop loads {shown} at {where}", source, name)]


def matching(config: HookConfig, urls: dict[str, list[str]]) -> dict[str, Repository]:
    """Remote name -> the configured repository it is, by Hoop's normalized URL."""
    by_url = {normalized_git_url(repo.git_url): repo for repo in config.repositories}
    found = {}
    for remote, remote_urls in urls.items():
        for url in remote_urls:
            repo = by_url.get(normalized_git_url(url))
            if repo is not None:
                found.setdefault(remote, repo)
    return found
