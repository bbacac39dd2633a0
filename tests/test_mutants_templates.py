"""Every template's generated suite catches every mutant of the catalogue: ``hookdk init``
writes hooks with tests that pass at once *and fail when the hooks regress*.

Slow by nature (each template's suite runs once per mutant, and the mutant that sleeps
past Hoop's 15 s takes that long once): 1-3 minutes a template. The default run checks
the two shared suites every template's tests are built on, through one template each
(siem-http for HTTP, syslog-cef for syslog), which keeps CI within its budget;
``HOOKDK_MUTANTS_ALL=1`` collects every template (about 15 minutes on two cores).
``hookdk mutants`` stops each run at its first failure."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hoophooks_dk.mutants import CATALOGUE
from hoophooks_dk.scaffold.writer import init, templates

SHARED_SUITES = ["siem-http", "syslog-cef"]
TEMPLATES = [t.name for t in templates()] if os.environ.get("HOOKDK_MUTANTS_ALL") else SHARED_SUITES


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_the_generated_suite_catches_every_mutant(tmp_path, template):
    repo = tmp_path / "runbooks"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    init(repo, template)

    command = [sys.executable, "-m", "hoophooks_dk", "mutants", "--repo", str(repo), "-j", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(CATALOGUE)} of {len(CATALOGUE)} mutants caught" in done.stdout
