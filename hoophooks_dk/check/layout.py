"""Files (HK1xx): what Hoop finds at its two fixed paths (docs/hoop-runtime.md section 1).

Hoop reads exactly ``hoop-hooks/session-open.runbook.py`` and
``hoop-hooks/session-close.runbook.py`` from the repository's root, refuses files over
1,000,000 bytes, and with one bad file loads neither hook. Each rule takes the ``Layout``
of the checked files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..hooks import HOOK_PATHS, MAX_HOOK_BYTES, HookFile, hook_key
from ..payload import MAX_ENV_STRING, environment_bytes, input_file_text
from .registry import Problem, rule

HOOKS_DIR = "hoop-hooks"
NEITHER_LOADS = "Hoop loads NEITHER hook while this is so (it only logs a warning)"


@dataclass
class Layout:
    """The checked files: the two hooks, every file path, symlinks, importable modules."""

    repo: Path
    ref: str | None
    hooks: dict[str, HookFile | None]
    paths: list[str]  # every file, relative to the root, "/"-separated
    symlinks: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, repo: Path, ref: str | None, hooks: dict[str, HookFile | None]) -> Layout:
        if ref is None:
            paths, symlinks = _tree_paths(repo)
        else:
            paths, symlinks = _ref_paths(repo, ref)
        # A case-insensitive disk finds `Hoop-Hooks/...` at Hoop's path; git and Hoop don't.
        exact = {
            event: hook if hook and hook.path in paths else None for event, hook in hooks.items()
        }
        return cls(repo, ref, exact, paths, symlinks)

    def present(self) -> list[HookFile]:
        return [hook for hook in self.hooks.values() if hook is not None]

    @property
    def modules(self) -> frozenset[str]:
        """Names a hook run from the repo could import: .py files and packages beside it."""
        names = set()
        for path in self.paths:
            parts = path.split("/")
            if parts[0] == HOOKS_DIR:
                parts = parts[1:]
            if len(parts) == 1 and parts[0].endswith(".py"):
                names.add(parts[0][:-3])
            elif len(parts) == 2 and parts[1] == "__init__.py":
                names.add(parts[0])
        return frozenset(name for name in names if name.isidentifier())


# The files scanned (for look-alike hooks and importable modules) are the root's and
# those of folders at most MAX_SCAN_DEPTH deep: runbooks repos are shallow, and outside
# git (``cd /tmp && hookdk check``) a deeper walk finds other people's projects.
MAX_SCAN_DEPTH = 2
_SKIPPED_DIRS = {"venv", "node_modules", "site-packages", "__pycache__"}


def _skipped_name(name: str) -> bool:
    """Hidden folders (.git, .venv, .tox...), virtualenvs, installed packages, caches."""
    return name.startswith(".") or name in _SKIPPED_DIRS


def _tree_paths(repo: Path) -> tuple[list[str], set[str]]:
    """Files of the working tree, in the root and folders up to MAX_SCAN_DEPTH deep,
    skipping folders that are another project (see ``_scanned_folder``)."""
    paths, symlinks = [], set()
    for folder, dirs, files in os.walk(repo):
        depth = len(Path(folder).relative_to(repo).parts)
        if depth >= MAX_SCAN_DEPTH:
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if _scanned_folder(Path(folder) / d))
        for name in files:
            path = (Path(folder) / name).relative_to(repo).as_posix()
            paths.append(path)
            if (Path(folder) / name).is_symlink():
                symlinks.add(path)
    return sorted(paths), symlinks


def _scanned_folder(folder: Path) -> bool:
    """False for a folder that is not this repository's own: skipped by name, a
    virtualenv, a git repository of its own, or a project with its own hoop-hooks/."""
    if _skipped_name(folder.name):
        return False
    markers = ("pyvenv.cfg", ".git", HOOKS_DIR)
    return not any((folder / marker).exists() for marker in markers)


def _ref_paths(repo: Path, ref: str) -> tuple[list[str], set[str]]:
    """Files at ``ref``, limited as ``_tree_paths`` limits the working tree."""
    import git

    commit = git.Repo(repo).commit(ref)  # read_hooks has already vetted the ref
    blobs = {}
    for item in commit.tree.traverse():
        if item.type == "blob":  # submodules are commits: never scanned
            blobs[item.path] = item.mode == 0o120000
    # Folders below the root that hold a project of their own, or a virtualenv.
    nested = set()
    for path in blobs:
        parts = path.split("/")
        nested |= {"/".join(parts[:i]) for i in range(1, len(parts) - 1) if parts[i] == HOOKS_DIR}
        if len(parts) > 1 and parts[-1] == "pyvenv.cfg":
            nested.add("/".join(parts[:-1]))
    paths = [path for path in blobs if _scanned_path(path, nested)]
    return sorted(paths), {path for path in paths if blobs[path]}


def _scanned_path(path: str, nested: set[str]) -> bool:
    folders = path.split("/")[:-1]
    if len(folders) > MAX_SCAN_DEPTH or any(_skipped_name(name) for name in folders):
        return False
    return not any("/".join(folders[: i + 1]) in nested for i in range(len(folders)))


@rule("HK101", "error", "session-close hook without a session-open hook")
def close_without_open(layout: Layout) -> list[Problem]:
    """HK101: on close, the gateway logs the open hook's commit: a nil pointer without it,
    a panic nothing recovers. Hoop's text (the Go runtime's) first, as ``fire`` says it."""
    if layout.hooks["session-close"] is None or layout.hooks["session-open"] is not None:
        return []
    from ..render import close_without_open as crash

    hoop_text, explanation = crash()
    fix_at = explanation.rindex("; add ")
    return [
        Problem(
            f"{hoop_text}: {explanation[:fix_at]} (docs/hoop-runtime.md section 1)",
            explanation[fix_at + 2 :],
        )
    ]


@rule("HK102", "warning", "hook file missing: that event has no hook")
def missing_hooks(layout: Layout) -> list[Problem]:
    """HK102: a missing file is legal, but that event then reaches no SIEM at all."""
    found = []
    for event, path in HOOK_PATHS.items():
        if event == "session-open" and close_without_open(layout):
            continue  # HK101 says it, as an error
        if layout.hooks[event] is None and not _lookalikes(layout, event):
            found.append(
                Problem(
                    f"no {path}: Hoop runs no hook on {event}",
                    f"add {path} (`hookdk init` scaffolds both hooks)",
                )
            )
    return found


@rule("HK103", "error", "hook file under the wrong name or folder: it never runs")
def misnamed_hooks(layout: Layout) -> list[Problem]:
    """HK103: a file that looks like a hook where Hoop does not read, and no real hook."""
    found = []
    for event, path in HOOK_PATHS.items():
        if layout.hooks[event] is not None:
            continue
        for lookalike in _lookalikes(layout, event):
            found.append(
                Problem(
                    f"looks like the {event} hook, but Hoop reads only {path} "
                    "(exact name, case and folder): this file never runs",
                    f"git mv {lookalike} {path}",
                    file=lookalike,
                )
            )
    return found


@rule("HK104", "warning", "stray copy of a hook file: Hoop never runs it")
def stray_copies(layout: Layout) -> list[Problem]:
    """HK104: a second, look-alike copy next to a real hook invites editing the wrong one."""
    found = []
    for event, path in HOOK_PATHS.items():
        if layout.hooks[event] is None:
            continue
        for lookalike in _lookalikes(layout, event):
            found.append(
                Problem(
                    f"looks like the {event} hook, but Hoop runs only {path}: "
                    "edits to this copy have no effect",
                    f"delete {lookalike}, or rename it so it does not look like a hook",
                    file=lookalike,
                )
            )
    return found


@rule("HK105", "error", "hook file larger than 1,000,000 bytes")
def oversized_hooks(layout: Layout) -> list[Problem]:
    """HK105: Hoop refuses files over 1,000,000 bytes, and with one file, both hooks.
    Hoop's text (what its gateway logs) first, as ``fire`` and ``render`` say it."""
    from ..render import too_large

    found = []
    for hook in layout.present():
        if len(hook.source) > MAX_HOOK_BYTES:
            hoop_text, detail = too_large(hook.path, len(hook.source))
            found.append(
                Problem(
                    f"{hoop_text}: {detail}; {NEITHER_LOADS}",
                    "move bulky data out of the hook (fetch it at run time, or shrink it)",
                    file=hook.path,
                )
            )
    return found


@rule("HK106", "error", "hook file is a symbolic link")
def symlinked_hooks(layout: Layout) -> list[Problem]:
    """HK106: git stores a symlink as its target's path, and Hoop runs that text as Python."""
    return [
        Problem(
            "is a symbolic link: Hoop reads the file from git, where a link is stored as "
            "the text of its target path, and runs that text as the hook",
            "replace the link with a regular file holding the hook's code",
            file=hook.path,
        )
        for hook in layout.present()
        if hook.path in layout.symlinks
    ]


@rule(
    "HK107",
    "error",
    "too large for the agent's environment: the hook can never start",
    automatic=False,
)
def too_large_for_environment(hook: HookFile, rendered: bytes) -> list[Problem]:
    """HK107: the payload carries the rendered hook in ``input_file``, and Linux refuses
    to start a process with one environment string over 128 KiB (MAX_ARG_STRLEN), so the
    agent cannot start ``python3`` for this hook on any event. Measured on the synthetic
    payload the dynamic step would fire (real payloads only add to it)."""
    if len(hook.source) > MAX_HOOK_BYTES:
        return []  # HK105: Hoop does not even load it
    size = payload_environment_size(hook.event, rendered)
    if size <= MAX_ENV_STRING:
        return []
    return too_large_problem(hook, size)


def payload_environment_size(event: str, rendered: bytes) -> int:
    """Bytes HOOP_RUNBOOK_HOOK_PAYLOAD takes in the environment when ``event`` fires this
    rendered script: the payload the emulator builds (``input_file_text``, its decoding),
    measured as the emulator measures what it sends (``environment_bytes``)."""
    from ..emulator import build_payload

    payload = build_payload(event, input_file=input_file_text(rendered))
    return environment_bytes(payload)


def too_large_problem(hook: HookFile, size: int | None = None, detail: str = "") -> Problem:
    """HK107's problem: ``size`` as measured, or ``detail``, the emulator's own refusal."""
    measured = f"{size:,} bytes" if size is not None else "too large"
    return Problem(
        detail
        or (
            f"the payload is {measured} in the environment, since it carries this hook's "
            f"rendered source in input_file; Linux refuses one variable over "
            f"{MAX_ENV_STRING:,} bytes, so the agent can never start python3 for this hook"
        ),
        "keep the hook well under 128 KiB: move bulky data out (fetch it at run time)",
        file=hook.path,
    )


def _lookalikes(layout: Layout, event: str) -> list[str]:
    """Files that are probably meant to be ``event``'s hook: same name once normalised
    (case, ``_`` or ``-``, ``.runbook``/``.py`` suffixes), in any folder but the right one."""
    wanted = hook_key(HOOK_PATHS[event])
    return [path for path in layout.paths if path != HOOK_PATHS[event] and hook_key(path) == wanted]
