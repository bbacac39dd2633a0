"""Reading hook files where Hoop reads them.

Hoop reads exactly two paths under the root of the runbooks repository, from the tip of
one branch (docs/hoop-runtime.md section 1). The kit reads them from the working tree by
default, for the edit-run loop, or from any git revision with ``ref``, to see what Hoop
would really run. GitPython is imported only for ``ref``: it is slow to import and the
common path does not need it.
"""

from __future__ import annotations

import os
import re
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
    """The runbooks repository around ``start``: the nearest folder, up to the enclosing
    git root, that holds a ``hoop-hooks/`` folder; else that git root; else ``start``.

    The nearest ``hoop-hooks/`` wins so that a runbooks repository kept as a folder of a
    bigger one (a monorepo, a test's temporary folder inside a clone) is the one used
    where the user stands, not the outer repository's root."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "hoop-hooks").is_dir() or (folder / ".git").exists():
            return folder
    return start


def in_git_repository(folder: Path) -> bool:
    """Whether ``folder`` is a git repository or inside one."""
    folder = folder.resolve()
    return any((parent / ".git").exists() for parent in (folder, *folder.parents))


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
        cause, repo_to_try = why_missing(repo, event, ref)
        raise HookNotFound(
            f"no {event} hook: {repo / HOOK_PATHS[event]} does not exist {where}",
            cause=cause,
            repo_to_try=repo_to_try,
        )
    return hook


def why_missing(repo: Path, event: str, ref: str | None = None) -> tuple[str, Path | None]:
    """The likely cause of a missing hook, and the repository to try instead when the
    cause is the wrong one: most "missing" hooks are there, under another name or folder.
    ``{option}`` in the cause stands for the face's way to name a repository."""
    wanted = HOOK_PATHS[event]
    folder, name = wanted.split("/")
    if repo.name == folder or (repo / name).is_file():
        return f"{repo} is the {folder}/ folder itself, not the repository holding it", repo.parent
    if ref is not None and (repo / wanted).is_file():
        return f"it is in the working tree but not committed at {ref}: commit and push it", None
    for found in lookalikes(repo, event):
        return (
            f"{found} looks like it, but Hoop reads only {wanted} (exact name, case and "
            f"folder): git mv {found} {wanted}"
        ), None
    if not in_git_repository(repo):
        return (
            f"{repo} is not in a git repository, and Hoop reads hooks from one: run the kit "
            "in your runbooks repository (or give {option}), or start one with `git init` "
            "and `hookdk init`"
        ), None
    if not (repo / folder).is_dir():
        return (
            f"{repo} has no {folder}/ folder: `hookdk init` writes both hooks from a "
            "template (`hookdk templates` lists them), or give {option} for the runbooks "
            "repository that has them"
        ), None
    return f"`hookdk init` writes the {event} hook from a template", None


def lookalikes(repo: Path, event: str) -> list[str]:
    """Files in the working tree, in the root or one folder down, that are probably meant
    to be ``event``'s hook (see ``hook_key``), as paths relative to ``repo``."""
    wanted, found = hook_key(HOOK_PATHS[event]), []
    try:
        folders = [repo, *sorted(p for p in repo.iterdir() if p.is_dir())]
    except OSError:
        return []
    for folder in folders:
        if folder != repo and folder.name.startswith("."):
            continue
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = (folder / name).relative_to(repo).as_posix()
            if path != HOOK_PATHS[event] and hook_key(path) == wanted and (folder / name).is_file():
                found.append(path)
    return found


def hook_key(path: str) -> str:
    """A file name with case, ``-``/``_`` and suffixes (``.runbook``, ``.py``...) taken
    away: ``Session_Close.runbook.py`` and ``session-close.py`` are both ``sessionclose``."""
    name = path.rsplit("/", 1)[-1].lower()
    for suffix in (".txt", ".bak", ".orig", ".py", ".runbook", ".template", ".tmpl"):
        name = name.removesuffix(suffix)
    return re.sub(r"[^a-z]", "", name)


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
