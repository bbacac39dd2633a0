"""Every template's generated suite catches every mutant of the catalogue: ``hookdk init``
writes hooks with tests that pass at once *and fail when the hooks regress*.

Slow by nature: each template's suite runs once unmutated, then once per mutant (up to
its first failure), and the mutant that sleeps past Hoop's 15 s waits that long once. So
these tests are marked ``mutants`` and run in a CI stage of their own (``.ci/run``:
``pytest -m mutants -n 2``, two templates at a time), not in the README's test command;
``pytest -m mutants -k syslog-cef`` checks one template.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hoophooks_dk.mutants import CATALOGUE
from hoophooks_dk.scaffold.writer import init, templates

TEMPLATES = [template.name for template in templates()]


@pytest.mark.mutants
@pytest.mark.parametrize("template", TEMPLATES)
def test_the_generated_suite_catches_every_mutant(tmp_path, template):
    repo = tmp_path / "runbooks"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    init(repo, template)

    # two mutants at work at once (plus the one that sleeps), as two cores allow
    command = [sys.executable, "-m", "hoophooks_dk", "mutants", "--repo", str(repo), "-j", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(CATALOGUE)} of {len(CATALOGUE)} mutants caught" in done.stdout
