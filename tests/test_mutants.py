"""``hookdk mutants``: the catalogue applies to any hook, and the command reports what a
suite misses. That every template's generated suite catches every mutant is checked in
test_mutants_templates.py (marked `mutants`: it runs each suite once per mutant)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from run_hookdk import hookdk

from hoophooks_dk.mutants import CATALOGUE, apply

HOOK = '''"""A hook that prints its caller's name."""

from __future__ import annotations

import json
import os

print(json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])["event_session_open"]["user_email"])
'''
# A "suite" of one check: the hook runs for a caller without an email and exits 0.
CHECK = (
    "import json, os, subprocess, sys; "
    "payload = json.dumps({'event_session_open': {'user_email': 'API_KEY'}}); "
    "env = dict(os.environ, HOOP_RUNBOOK_HOOK_PAYLOAD=payload); "
    "sys.exit(subprocess.run([sys.executable, 'hoop-hooks/session-open.runbook.py'], "
    "env=env).returncode)"
)


def make_repo(path: Path) -> Path:
    (path / "hoop-hooks").mkdir(parents=True)
    for event in ("session-open", "session-close"):
        (path / "hoop-hooks" / f"{event}.runbook.py").write_text(HOOK)
    return path


def test_every_prelude_goes_after_the_docstring_and_future_imports(tmp_path):
    hook = make_repo(tmp_path) / "hoop-hooks" / "session-open.runbook.py"
    for mutant in CATALOGUE:
        hook.write_text(HOOK)
        apply(mutant, hook)
        mutated = hook.read_text()

        compile(mutated, str(hook), "exec")  # a future import after the prelude would not
        assert mutated.startswith('"""A hook that prints')
        assert mutated.index("from __future__") < mutated.index("_hookdk_mutant")
        assert "{" + "{" not in mutated, mutant.name  # Hoop reads hooks as Go templates


def test_the_preludes_change_what_the_hook_does(tmp_path):
    hook = make_repo(tmp_path) / "hoop-hooks" / "session-open.runbook.py"
    [mutant] = [m for m in CATALOGUE if m.name == "email-needs-at"]
    payload = json.dumps({"event_session_open": {"user_email": "API_KEY"}})
    env = {**os.environ, "HOOP_RUNBOOK_HOOK_PAYLOAD": payload}
    run = [sys.executable, str(hook)]

    assert subprocess.run(run, env=env, capture_output=True).returncode == 0
    apply(mutant, hook)
    crashed = subprocess.run(run, env=env, capture_output=True, text=True)
    assert crashed.returncode == 1
    assert "IndexError" in crashed.stderr


def test_a_suite_that_misses_mutants_fails_and_names_them(tmp_path):
    repo = make_repo(tmp_path / "repo")

    done = hookdk("mutants", "--repo", str(repo), "--command", f'{sys.executable} -c "{CHECK}"')

    assert done.returncode == 1, done.stderr
    assert "caught email-needs-at" in done.stdout
    assert "MISSED tls-unverified" in done.stdout
    assert "missed: leaks-secret:" in done.stderr
    assert f"1 of {len(CATALOGUE)} mutants caught" in done.stdout
    assert sorted(p.name for p in (repo / "hoop-hooks").iterdir()) == [
        "session-close.runbook.py",
        "session-open.runbook.py",
    ]
    assert (repo / "hoop-hooks" / "session-open.runbook.py").read_text() == HOOK  # untouched


def test_json_report_and_one_mutant(tmp_path):
    repo = make_repo(tmp_path / "repo")
    command = f'{sys.executable} -c "{CHECK}"'

    done = hookdk("mutants", "--repo", str(repo), "--command", command,
                  "--mutant", "email-needs-at", "--json")  # fmt: skip

    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["mutants"]
    assert (row["name"], row["caught"]) == ("email-needs-at", True)
    assert row["seconds"] >= 0


def test_user_errors_are_one_line(tmp_path):
    repo = make_repo(tmp_path / "repo")

    unknown = hookdk("mutants", "--repo", str(repo), "--mutant", "nope")
    failing = hookdk("mutants", "--repo", str(repo), "--command", "false")
    no_hooks = hookdk("mutants", "--repo", str(tmp_path))

    assert unknown.returncode == 2
    assert "--mutant nope: no such mutant" in unknown.stderr
    assert failing.returncode == 1
    assert "the tests fail on the unmutated hooks" in failing.stderr
    assert no_hooks.returncode == 2
    assert "no hoop-hooks folder" in no_hooks.stderr
    for done in (unknown, failing, no_hooks):
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


# A "suite" that logs which copy it runs in (the unmutated one, the sleeper's, another
# mutant's) and fails on every mutant. In the sleeper's copy it waits until another
# mutant starts after it (at most a minute): with one job, only a sleeper that runs
# beside the job sees one.
RECORDER = """\
import pathlib, sys, time
log = pathlib.Path(sys.argv[1])
hooks = "".join(p.read_text() for p in pathlib.Path("hoop-hooks").glob("*.runbook.py"))
name = "none" if "_hookdk_mutant" not in hooks else "mutant"
name = "sleeper" if "time.sleep(16)" in hooks else name
with log.open("a") as out:
    out.write(f"start {name}\\n")


def another_started():
    return "start mutant" in log.read_text().partition("start sleeper")[2]


give_up = time.monotonic() + 60
while name == "sleeper" and not another_started() and time.monotonic() < give_up:
    time.sleep(0.05)
with log.open("a") as out:
    out.write(f"end {name}\\n")
sys.exit(0 if name == "none" else 1)
"""


def test_the_mutant_that_sleeps_runs_beside_the_jobs_and_takes_none(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (tmp_path / "recorder.py").write_text(RECORDER)
    log = tmp_path / "runs.log"
    command = f"{sys.executable} {tmp_path / 'recorder.py'} {log}"

    done = hookdk("mutants", "--repo", str(repo), "--command", command, "-j", "1")

    assert done.returncode == 0, done.stdout + done.stderr
    runs = log.read_text().splitlines()
    assert runs[:2] == ["start none", "end none"]  # the unmutated copy first, alone
    asleep = runs[runs.index("start sleeper") : runs.index("end sleeper")]
    assert "start mutant" in asleep  # another mutant started beside the sleeper's run
    assert runs.count("start mutant") == len(CATALOGUE) - 1
    working = 0
    for run in runs:  # the other mutants, one at a time
        working += {"start mutant": 1, "end mutant": -1}.get(run, 0)
        assert working <= 1
