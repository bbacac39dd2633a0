"""Run the ``hookdk`` command as users do: a real process, real exit codes."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

#: Seconds a watch may take to say something (waited for, never a timing assert).
PATIENCE = 60


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


class Watch:
    """``hookdk watch --ui`` in a process of its own, as a user starts it."""

    def __init__(self, repo: Path, *args: str) -> None:
        command = [*hookdk_command(), "watch", "--ui", "--repo", str(repo), "--no-clear", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=repo
        )
        self.stderr = b""
        self.url = self.line_with("hookdk: live page at ").split(" at ", 1)[1]

    def line_with(self, text: str) -> str:
        deadline = time.monotonic() + PATIENCE
        while text.encode() not in self.stderr:
            left = deadline - time.monotonic()
            ready = select.select([self.process.stderr], [], [], max(left, 0))[0]
            chunk = os.read(self.process.stderr.fileno(), 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"hookdk watch said no {text!r}:\n{self.stderr.decode()}")
            self.stderr += chunk
        line = next(line for line in self.stderr.decode().splitlines() if text in line)
        return line.strip()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=PATIENCE)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
