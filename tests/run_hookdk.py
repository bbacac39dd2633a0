"""Run the ``hookdk`` command as users do: a real process, real exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def hookdk(
    *args: str, cwd=None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hoophooks_dk", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=None if env is None else {**os.environ, **env},
    )


def hookdk_command() -> list[str]:
    """The argv that starts hookdk: the console script beside this Python when installed
    (what a user runs, and what a signal must reach), else ``python -m hoophooks_dk``."""
    script = shutil.which("hookdk", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "hoophooks_dk"]


def make_repo(path: Path, hook: str) -> None:
    """A committed runbooks repo at ``path`` whose two hooks both run ``hook``, made with
    the git command alone (for tests that start hookdk as a separate process)."""
    hooks = path / "hoop-hooks"
    hooks.mkdir(parents=True)
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(hook)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for step in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "hooks"]):
        subprocess.run([*git, *step], cwd=path, check=True, capture_output=True)
