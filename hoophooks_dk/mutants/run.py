"""Run a repository's hook tests against each mutant, each in a copy of the repository.

Every mutant gets its own temporary copy (the user's files are never touched), its
preludes put into the copy's hooks, then the tests run there in a subprocess of their
own process group: a mutant that hangs, or an interrupt, ends the whole group and the
copies are removed. The unmutated copy runs first: a suite that fails without a mutant
would "catch" every one of them.

With the default command (pytest, stopping at the first failure, a JUnit XML report)
each caught mutant names the test that caught it; with ``--command`` a non-zero exit is
all there is to go by. Mutants run in parallel, one per core unless told otherwise.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import HookdkError
from .catalogue import Mutant, apply

__all__ = ["Outcome", "baseline", "run_mutants"]

#: Never copied: caches, virtual environments and the git store are not the tests' input.
IGNORED = (".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".tox")
REPORT = "hookdk-mutants-junit.xml"
#: A mutant's run ends here whatever it does (the slowest mutant takes Hoop's 15 s once).
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Outcome:
    """What one run of the tests did: ``caught`` when they failed."""

    name: str
    models: str
    caught: bool
    by: str  # the first test that failed, or what else ended the run
    seconds: float


def default_command() -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
            f"--junitxml={REPORT}"]  # fmt: skip


def baseline(repo: Path, command: list[str] | None, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    """The tests on an unmutated copy; they must pass for the mutants to mean anything."""
    return _run_one(repo, None, command, timeout)


def run_mutants(
    repo: Path,
    mutants: Iterable[Mutant],
    command: list[str] | None = None,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Each mutant's outcome, in the order given; ``done`` hears of each as it ends.

    ``jobs`` mutants work at once (default: one per core). A mutant that mostly waits
    (``Mutant.waits``: the one that sleeps past Hoop's limit spends 15 s of its run
    asleep) takes no job: it starts first and runs beside them, so its wait costs the
    run no time when the others take longer.
    """
    mutants = list(mutants)
    hooks = sorted((repo / "hoop-hooks").glob("*.runbook.py"))
    if not hooks:
        raise HookdkError(f"{repo}/hoop-hooks holds no *.runbook.py hook to mutate")
    jobs = max(1, jobs or os.cpu_count() or 1)
    working = threading.BoundedSemaphore(jobs)
    waiting = [mutant for mutant in mutants if mutant.waits]

    def one(mutant: Mutant) -> Outcome:
        with contextlib.nullcontext() if mutant.waits else working:
            outcome = _run_one(repo, mutant, command, timeout)
        if done is not None:
            done(outcome)
        return outcome

    threads = max(1, min(jobs + len(waiting), len(mutants)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        started = {mutant: pool.submit(one, mutant) for mutant in sorted(mutants, key=_first)}
        return [started[mutant].result() for mutant in mutants]


def _first(mutant: Mutant) -> bool:
    """Sort key: the mutants that wait start first (False sorts before True)."""
    return not mutant.waits


def _run_one(repo: Path, mutant: Mutant | None, command: list[str] | None,
             timeout: float) -> Outcome:  # fmt: skip
    name, models = (mutant.name, mutant.models) if mutant else ("(none)", "the hooks as written")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hookdk-mutant-") as folder:
        copy = Path(folder) / repo.name
        shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
        if mutant is not None:
            for hook in sorted((copy / "hoop-hooks").glob("*.runbook.py")):
                apply(mutant, hook)
        code, tail = _execute(copy, command or default_command(), timeout)
        by = _first_failure(copy / REPORT) if command is None else ""
        if code != 0 and not by:
            by = tail or f"exit {code}"
    return Outcome(name, models, code != 0, by, time.monotonic() - started)


def _execute(folder: Path, command: list[str], timeout: float) -> tuple[int, str]:
    """Run ``command`` in ``folder`` in a process group of its own; its exit code and
    the last line it printed. A timeout, or an interrupt, ends the whole group."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        process.communicate()
        return -1, f"timed out after {timeout:g} s"
    except BaseException:
        _kill(process)
        process.wait()
        raise
    lines = output.decode(errors="replace").strip().splitlines()
    return process.returncode, lines[-1] if lines else ""


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _first_failure(report: Path) -> str:
    """The first failed or erroring test in a JUnit XML report, as pytest names it."""
    try:
        tree = ElementTree.parse(report)
    except (OSError, ElementTree.ParseError):
        return ""
    for case in tree.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            module = case.get("classname", "").rpartition(".")[2]
            return f"{module}.py::{case.get('name')}" if module else str(case.get("name"))
    return ""


def split_command(text: str) -> list[str]:
    """A ``--command`` string as arguments (shell quoting, no shell)."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise HookdkError(f"--command: {error}") from None
