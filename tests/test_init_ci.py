"""What `hookdk init` writes beside the hooks: a CI workflow that installs the kit from
where it came from (PEP 610) and runs check and the tests, hookdk.toml, .gitignore lines;
and `init --tests-only`, a suite for hooks of your own that passes on a sound hook and
fails, naming the rule, on a leaky one."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from run_hookdk import hookdk
from test_templates import counts, run_generated_suite

from hoophooks_dk.scaffold.kit_source import KitSource, from_direct_url, kit_source
from hoophooks_dk.scaffold.writer import init

GITHUB = ".github/workflows/hoop-hooks.yml"
COMMIT = "0123456789abcdef0123456789abcdef01234567"

SOUND = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
opened = payload["event_session_open"] or {}
event = {"id": payload["id"], "sid": payload["sid"], "user": opened.get("user_email")}
token = os.environ.get("SIEM_TOKEN", "")
request = urllib.request.Request(
    "https://siem.example.com/hoop", data=json.dumps(event).encode(),
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
)
try:
    urllib.request.urlopen(request, timeout=3)
except OSError as error:
    raise SystemExit(f"not delivered: {error}")
print("sent", payload["id"])
"""
LEAKY = SOUND.replace(
    'event = {"id": payload["id"], "sid": payload["sid"], "user": opened.get("user_email")}',
    "event = payload",
)


# --- where the kit came from -----------------------------------------------------------


@pytest.mark.parametrize(
    ("direct_url", "spec"),
    [
        (
            {"url": "https://github.com/acme/hoophooks_dk", "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"}},
            f"hoophooks_dk @ git+https://github.com/acme/hoophooks_dk@{COMMIT}",
        ),
        (
            {"url": "https://example.com/kit.git", "subdirectory": "kit", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
            f"hoophooks_dk @ git+https://example.com/kit.git@{COMMIT}#subdirectory=kit",
        ),
        (
            {"url": "https://files.example.com/hoophooks_dk-0.1.0-py3-none-any.whl", "archive_info": {}},
            "hoophooks_dk @ https://files.example.com/hoophooks_dk-0.1.0-py3-none-any.whl",
        ),
        ({"url": "file:///home/me/hoophooks_dk", "dir_info": {"editable": True}}, None),
        ({"url": "file:///home/me/hoophooks_dk", "dir_info": {}}, None),
        ({"url": "file:///tmp/hoophooks_dk-0.1.0-py3-none-any.whl", "archive_info": {}}, None),
    ],
)  # fmt: skip
def test_the_install_line_is_read_from_pep_610s_direct_url(direct_url, spec):
    source = from_direct_url(direct_url)
    assert source.spec == spec
    if spec is None:  # a folder on this machine: say so, and what to do
        assert "--kit-spec" in source.note and "cannot install" in source.note


def test_a_git_install_from_this_machine_is_written_as_it_is_with_a_warning():
    source = from_direct_url(
        {"url": "file:///srv/kit", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}
    )
    assert source.spec == f"hoophooks_dk @ git+file:///srv/kit@{COMMIT}"
    assert "cannot reach" in source.note


def test_a_local_git_checkout_with_a_remote_suggests_its_url_and_commit(tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(tmp_path)]
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run([*git, *args], check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "git@github.com:acme/hoophooks_dk.git"], check=True
    )
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()

    source = from_direct_url({"url": tmp_path.as_uri(), "dir_info": {}})

    assert source.spec is None
    assert f"hoophooks_dk @ git+ssh://git@github.com/acme/hoophooks_dk.git@{head}" in source.note


def test_kit_spec_wins():
    assert kit_source("hoophooks_dk==9.9") == KitSource("hoophooks_dk==9.9", "--kit-spec")


# --- the workflows ---------------------------------------------------------------------


def test_the_github_workflow_installs_the_kit_checks_uploads_sarif_and_tests(runbooks):
    spec = f"hoophooks_dk @ git+https://github.com/acme/hoophooks_dk@{COMMIT}"
    init(runbooks.root, kit_spec=spec)

    workflow = yaml.safe_load((runbooks.root / GITHUB).read_text())

    assert workflow["env"]["HOOKDK_PIP_SPEC"] == spec
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["hooks"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any('python -m pip install "$HOOKDK_PIP_SPEC"' in run for run in runs)
    assert "hookdk check --format sarif --output hookdk.sarif" in runs
    assert "python -m pytest tests/hooks --hoop-report hookdk-report" in runs
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["with"]["sarif_file"] == "hookdk.sarif"
    assert "!cancelled()" in upload["if"]  # the findings go up when the check fails too
    tests = next(s for s in steps if s.get("run", "").startswith("python -m pytest tests/hooks"))
    assert "!cancelled()" in tests["if"]  # and the tests still run


def test_the_gitlab_job_publishes_a_code_quality_report(runbooks):
    init(runbooks.root, ci="gitlab", kit_spec="hoophooks_dk==0.1.0")

    job = yaml.safe_load((runbooks.root / ".gitlab-ci.yml").read_text())["hoop-hooks"]

    assert job["variables"]["HOOKDK_PIP_SPEC"] == "hoophooks_dk==0.1.0"
    script = "\n".join(job["script"])
    assert "hookdk check --format codeclimate --output gl-code-quality-report.json" in script
    assert "python -m pytest tests/hooks" in script and script.rstrip().endswith("exit $status")
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"


def test_a_kit_ci_cannot_install_leaves_the_line_empty_and_the_job_fails_saying_why(
    runbooks, monkeypatch
):
    monkeypatch.setattr(
        "hoophooks_dk.scaffold.writer.kit_source",
        lambda spec=None: from_direct_url({"url": "file:///home/me/kit", "dir_info": {}}),
    )
    result = init(runbooks.root)
    workflow = (runbooks.root / GITHUB).read_text()
    assert yaml.safe_load(workflow)["env"]["HOOKDK_PIP_SPEC"] == ""
    install = next(
        step["run"]
        for step in yaml.safe_load(workflow)["jobs"]["hooks"]["steps"]
        if "pip install" in step.get("run", "")
    )
    ran = subprocess.run(
        ["bash", "-c", install], env={"HOOKDK_PIP_SPEC": "", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert ran.returncode == 1
    assert "HOOKDK_PIP_SPEC is empty" in ran.stdout and "--kit-spec" in ran.stdout
    assert "file:///home/me/kit" in ran.stdout
    assert "cannot install" in result.kit.note


def test_init_says_where_the_ci_gets_the_kit_when_it_cannot(runbooks):
    """The kit under test runs from this checkout (or an editable install of one): the
    CI cannot install that, and "Next" says so."""
    done = hookdk("init", cwd=runbooks.root)
    assert done.returncode == 0, done.stderr
    assert "  - CI: the kit here was" in done.stdout and "--kit-spec" in done.stdout


def test_kit_spec_needs_a_ci_and_tests_only_takes_no_template(runbooks):
    for args, needle in [
        (("--kit-spec", "x", "--ci", "none"), "--kit-spec is the CI's install line"),
        (("--tests-only", "--template", "slack"), "--tests-only writes no hooks"),
    ]:
        done = hookdk("init", *args, cwd=runbooks.root)
        assert done.returncode == 2 and done.stderr.startswith("hookdk: error: "), done
        assert needle in done.stderr


# --- hookdk.toml and .gitignore ----------------------------------------------------------


def test_init_writes_the_templates_test_values_and_gitignore_lines(runbooks):
    result = init(runbooks.root, "splunk-hec")

    settings = (runbooks.root / "hookdk.toml").read_text()
    assert 'SPLUNK_HEC_TOKEN = "demo-hec-token"' in settings and "[env]" in settings
    ignored = (runbooks.root / ".gitignore").read_text().splitlines()
    assert {"hookdk-failing-*.json", "hookdk.sarif", ".hypothesis/"} <= set(ignored)
    assert dict((p.as_posix(), a) for p, a in result.files)[".gitignore"] == "created"


def test_an_existing_gitignore_gets_only_the_missing_lines_appended(runbooks):
    mine = "# mine\n.venv/\nhookdk.sarif"  # no final newline
    runbooks.write(".gitignore", mine)

    first = init(runbooks.root)
    again = init(runbooks.root)

    text = (runbooks.root / ".gitignore").read_text()
    assert text.startswith(mine + "\n")  # nothing of theirs changed
    assert text.count("hookdk.sarif") == 1 and "hookdk-failing-*.json" in text
    assert dict((p.as_posix(), a) for p, a in first.files)[".gitignore"] == "appended"
    assert dict((p.as_posix(), a) for p, a in again.files)[".gitignore"] == "unchanged"


def test_settings_kept_in_pyproject_are_left_there(runbooks):
    runbooks.write("pyproject.toml", "[tool.hookdk]\ntimeout = 10\n")

    result = init(runbooks.root)

    assert not (runbooks.root / "hookdk.toml").exists()  # it would clash with [tool.hookdk]
    assert result.settings_elsewhere == "pyproject.toml [tool.hookdk]"


# --- init --tests-only -------------------------------------------------------------------


def own_hooks_with_tests(runbooks, source):
    runbooks.hooks(source, source)
    runbooks.commit("my hooks")
    done = hookdk("init", "--tests-only", cwd=runbooks.root)
    assert done.returncode == 0, done.stderr
    return done


def test_tests_only_writes_the_suite_ci_and_settings_and_never_touches_the_hooks(runbooks):
    done = own_hooks_with_tests(runbooks, SOUND)

    assert (runbooks.root / "hoop-hooks" / "session-open.runbook.py").read_text() == SOUND
    written = {
        line.split()[-1] for line in done.stdout.splitlines() if line.startswith("  created")
    }
    assert written == {
        "tests/hooks/README.md", "tests/hooks/pytest.ini", "tests/hooks/test_hoop_rules.py",
        GITHUB, "hookdk.toml", ".gitignore",
    }  # fmt: skip
    assert "hoop-hooks" not in runbooks.git.git.status("--porcelain")
    assert '# SIEM_TOKEN = ""' in (runbooks.root / "hookdk.toml").read_text()  # read by the hooks


@pytest.mark.slow
def test_the_generic_suite_passes_on_a_sound_hook(runbooks):
    own_hooks_with_tests(runbooks, SOUND)

    done = run_generated_suite(runbooks.root)

    assert done.returncode == 0, done.stdout[-4000:]
    assert counts(done.stdout).endswith("passed") and "failed" not in counts(done.stdout)


@pytest.mark.slow
def test_the_generic_suite_fails_on_a_leaky_hook_naming_the_rule(runbooks):
    own_hooks_with_tests(runbooks, LEAKY)

    done = run_generated_suite(runbooks.root)

    assert done.returncode == 1
    assert "rule HK503/HK504, no payload secret leaves the hook" in done.stdout
    assert 'connection_envs["envvar:PASS"]' in done.stdout


@pytest.mark.slow
def test_the_generic_suite_names_the_15_s_rule_and_a_crash(runbooks):
    slow = "import time\ntime.sleep(3)\n"
    own_hooks_with_tests(runbooks, slow)
    (runbooks.root / "hookdk.toml").write_text("timeout = 1\n[env]\n")
    crashing = "import json, os\njson.loads(os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'])['nope']\n"

    done = run_generated_suite(
        runbooks.root, "tests/hooks/test_hoop_rules.py::test_a_caller_without_an_email"
    )
    runbooks.hooks(crashing, crashing)
    crashed = run_generated_suite(
        runbooks.root, "tests/hooks/test_hoop_rules.py::test_a_caller_without_an_email"
    )

    assert done.returncode == 1 and "rule HK502, the 15 s rule" in done.stdout, done.stdout[-2000:]
    assert crashed.returncode == 1 and "rule HK501, exit 0" in crashed.stdout
    assert "KeyError: 'nope'" in crashed.stdout


def test_the_tests_only_pytest_ini_is_the_templates_one():
    from hoophooks_dk.resources import data_dir

    common = data_dir("templates") / "_common"
    shared = (common / "tests" / "hooks" / "pytest.ini").read_text()
    assert (common / "tests-only" / "hooks" / "pytest.ini").read_text() == shared


def test_the_ci_yaml_templates_parse_once_filled_in(runbooks):
    for ci in ("github", "gitlab"):
        init(runbooks.root, ci=ci, kit_spec='hoophooks_dk @ "odd"', force=True)
    gitlab = yaml.safe_load((runbooks.root / ".gitlab-ci.yml").read_text())
    assert gitlab["hoop-hooks"]["variables"]["HOOKDK_PIP_SPEC"] == 'hoophooks_dk @ "odd"'
    assert yaml.safe_load((runbooks.root / GITHUB).read_text())["env"]["HOOKDK_PIP_SPEC"] == (
        'hoophooks_dk @ "odd"'
    )
