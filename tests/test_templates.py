"""Every template's generated tests pass right after `hookdk init`, in a fresh repository.

This is the promise of `hookdk init`: nothing else done, `pytest` from the repository root
goes green. Each suite runs in its own `pytest` process, with the kit's plugin found
through its entry point as in a user's CI, and must pass every test it defines: a
skipped or uncollected test counts as a failure here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hoophooks_dk.scaffold.writer import init, templates

TEMPLATES = [template.name for template in templates()]
SUMMARY = re.compile(r"^=* ?(?P<counts>\d+ \w+.*) in [\d.]+s", re.MULTILINE)


def run_generated_suite(repo: Path, target: str = "tests/hooks") -> subprocess.CompletedProcess:
    """`pytest` as a user runs it from the repository root (the fast runner by default)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", target],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def defined_tests(repo: Path) -> int:
    """How many test cases the generated suite defines: its test functions, each
    parametrized one counted once per parameter set (test_delivery.py has some), as
    `pytest --collect-only` lists them. Every function must yield at least one case."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"]
        + ["tests/hooks"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    cases = [line for line in listed.stdout.splitlines() if "::test_" in line]
    files = (repo / "tests" / "hooks").glob("test_*.py")
    functions = {
        f"{f.name}::{name}"
        for f in files
        for name in re.findall(r"^def (test_\w+)", f.read_text(), re.MULTILINE)
    }
    collected = {case.split("[")[0].removeprefix("tests/hooks/") for case in cases}
    assert collected == functions, listed.stdout[-2000:] + listed.stderr[-2000:]
    return len(cases)


def counts(output: str) -> str:
    found = SUMMARY.findall(output)
    return found[-1] if found else "no summary"


@pytest.mark.slow
@pytest.mark.parametrize("name", TEMPLATES)
def test_generated_suite_passes_right_after_init(name, runbooks):
    init(runbooks.root, name)
    runbooks.commit("hookdk init")

    done = run_generated_suite(runbooks.root)

    expected = defined_tests(runbooks.root)
    assert expected >= 10
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert counts(done.stdout) == f"{expected} passed", done.stdout[-2000:]


@pytest.mark.slow
def test_generated_suite_catches_a_hook_that_forwards_the_raw_payload(runbooks):
    """The generated tests have teeth: the documentation's naive forwarder, which posts
    the whole payload (secrets and hook source included), fails them."""
    init(runbooks.root, "siem-http")
    hook = runbooks.root / "hoop-hooks" / "session-open.runbook.py"
    source = hook.read_text()
    naive = source.replace("    event = build_event(payload)\n", "    event = payload\n", 1)
    assert naive != source
    hook.write_text(naive)

    done = run_generated_suite(
        runbooks.root, "tests/hooks/test_hoop_hooks.py::test_secrets_are_never_forwarded"
    )

    assert done.returncode == 1
    assert counts(done.stdout) == "1 failed", done.stdout[-2000:]
    assert "leak: 4 payload secrets sent out" in done.stdout  # 3 connection secrets, the source
