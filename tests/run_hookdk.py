"""Run the ``hookdk`` command as users do: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys


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
