"""Reading hook files where Hoop reads them.

Hoop reads exactly two paths under the root of the runbooks repository, from the tip of
one branch (docs/hoop-runtime.md section 1). The kit reads them from the working tree by
default, for the edit-run loop, or from any git revision with ``ref``, to see what Hoop
would really run. GitPython is imported only for ``ref``: it is slow to import and the
common path does not need it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import HookdkError, HookNotFound
from .payload import EVENTS, check_event

HOOK_PATHS = {
    "session-open": "hoop-hooks/session-open.runbook.py",
    "session-close": "hoop-hooks/session-close.runbook.py",
}
MAX_HOOK_BYTES = 1_000_000


@dataclass(frozen=True)
class HookFile:
    """One hook file as read: its event, its path, its bytes, and where they came from."""

    event: str
    path: str  # relative to the repository root, as Hoop names it
    source: bytes
    origin: str  # "working tree" or "<ref> (<short sha>)"


def find_repo_root(start: Path | None = None) -> Path:
    """The enclosing git root, or ``start`` itself when it is not inside a git repo."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def read_hooks(repo: Path, ref: str | None = None) -> dict[str, HookFile | None]:
    """Both hook files (None where a file is absent), as Hoop reads them together."""
    if ref is None:
        return {event: _from_tree(repo, event) for event in EVENTS}
    commit, label = _resolve(repo, ref)
    return {event: _from_commit(commit, label, event) for event in EVENTS}


def require(hooks: dict[str, HookFile | None], event: str, repo: Path, ref: str | None) -> HookFile:
    hook = hooks[check_event(event)]
    if hook is None:
        where = f"at {ref}" if ref else "in the working tree"
        raise HookNotFound(f"no {event} hook: {repo / HOOK_PATHS[event]} does not exist {where}")
    return hook


def _from_tree(repo: Path, event: str) -> HookFile | None:
    path = repo / HOOK_PATHS[event]
    if not _exact_file(repo, HOOK_PATHS[event]):
        return None
    try:
        # git stores a symlink as its target's path, and that text is what Hoop runs
        source = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    except OSError as error:
        raise HookdkError(f"cannot read {path}: {error.strerror}") from None
    return HookFile(event, HOOK_PATHS[event], source, "working tree")


def _exact_file(repo: Path, relative: str) -> bool:
    """Only this exact spelling: a case-insensitive disk also opens Hoop-Hooks/..., git
    and Hoop do not."""
    folder = repo
    for part in relative.split("/"):
        try:
            if part not in os.listdir(folder):
                return False
        except OSError:
            return False
        folder = folder / part
    return folder.is_file() or folder.is_symlink()


def _resolve(repo: Path, ref: str):  # -> tuple[git.Commit, str]
    import git

    try:
        commit = git.Repo(repo).commit(ref)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise HookdkError(f"--ref {ref}: {repo} is not a git repository") from None
    except (git.BadName, ValueError):
        raise HookdkError(f"--ref {ref}: no such revision in {repo}") from None
    return commit, f"{ref} ({commit.hexsha[:8]})"


def _from_commit(commit, label: str, event: str) -> HookFile | None:
    try:
        blob = commit.tree / HOOK_PATHS[event]
    except KeyError:
        return None
    return HookFile(event, HOOK_PATHS[event], blob.data_stream.read(), label)
