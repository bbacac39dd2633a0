"""hookdk doctor: the org's hook configuration (from a fake Hoop API validated against
Hoop's OpenAPI shapes) and the local repository against it."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from fake_hoop import TOKEN, FakeHoop, configuration, repository
from run_hookdk import hookdk, make_repo

from hoophooks_dk.hoopapi.config import normalized_git_url, read_config, without_credentials
from hoophooks_dk.hoopapi.doctor import config_findings

DEMO = "github.com/hoophq/demo-runbooks"
HOOKS = "github.com/acme/hooks"
CLEAN = "print('ok')\n"


def plugin(**envvars: str) -> dict:
    """An ``openapi.Plugin`` for runbooks as GET /plugins/runbooks returns it (base64)."""
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in envvars.items()}
    return {
        "id": "d9a998b3-aa7b-49b0-8463-c9e36435fc0b",
        "name": "runbooks",
        "connections": [],
        "config": {"id": "d9a998b3-aa7b-49b0-8463-c9e36435fc0b", "envvars": encoded},
        "source": None,
        "priority": 0,
    }


def codes(findings, level: str | None = None) -> list[str]:
    return [f.code for f in findings if level is None or f.level == level]


def git(root: Path, *args: str) -> None:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    subprocess.run(command, cwd=root, check=True, capture_output=True)


@pytest.fixture
def pushed(tmp_path: Path) -> Path:
    """A hooks repository whose origin is github.com/acme/hooks, pushed (as of the last
    fetch: the remote-tracking ref is set without any network)."""
    root = tmp_path / "hooks"
    make_repo(root, CLEAN)
    git(root, "remote", "add", "origin", "git@github.com:acme/hooks.git")
    git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    return root


def doctor(fake: FakeHoop, root: Path, *args: str, token: str = TOKEN):
    env = {"HOOP_APIURL": fake.url, "HOOP_TOKEN": token, "HOME": str(root.parent)}
    return hookdk("doctor", "--repo", str(root), *args, cwd=root, env=env)


# The configuration rules, on the API's answers ------------------------------------------


def test_the_demo_repository_beside_a_hooks_repository_thins_the_hooks():
    config = read_config(configuration(repository(DEMO, 0), repository(HOOKS, 300)), None)
    found = config_findings(config)
    assert codes(found, "problem") == ["repository-without-ttl", "demo-repository"]
    assert all(f.repository == DEMO for f in found if f.level == "problem")
    assert "about 1 in 2" in found[0].message
    assert all("@ e939597dc" in f.hoop for f in found)


def test_one_hooks_repository_with_a_ttl_is_well():
    config = read_config(configuration(repository(HOOKS, 300)), None)
    assert codes(config_findings(config)) == ["hooks-on"]


@pytest.mark.parametrize(
    ("v2", "legacy", "problems"),
    [
        (None, None, ["no-configuration"]),
        (configuration(repository(HOOKS, 0)), None, ["hooks-off"]),
        (configuration(repository(DEMO, 0)), None, ["hooks-off", "demo-repository"]),
        (configuration(), plugin(GIT_URL="https://x/y"), ["hooks-off"]),  # plugin without TTL
        (
            None,
            plugin(GIT_URL=f"https://{HOOKS}", GIT_HOOK_CONFIG_TTL="soon"),
            ["plugin-ttl-invalid"],
        ),
        (
            configuration(repository(HOOKS, 60)),
            plugin(GIT_URL="https://github.com/acme/old", GIT_HOOK_CONFIG_TTL="60"),
            ["both-configurations"],
        ),
    ],
)
def test_what_stops_the_hooks(v2, legacy, problems):
    assert codes(config_findings(read_config(v2, legacy)), "problem") == problems


def test_warnings_do_not_fail():
    legacy = plugin(GIT_URL=f"https://{HOOKS}", GIT_HOOK_CONFIG_TTL="0")  # on, never cached
    found = config_findings(read_config(None, legacy))
    assert codes(found, "warning") == ["plugin-ttl-zero"] and not codes(found, "problem")
    two = read_config(
        configuration(repository(HOOKS, 60), repository("github.com/acme/b", 60)), None
    )
    assert codes(config_findings(two), "warning") == ["several-hook-repositories"]


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/hooks",
        "https://github.com/acme/hooks.git",
        "git@github.com:acme/hooks.git",
        "ssh://git@github.com/acme/hooks.git",
        "https://oauth2:ghp_x@GitHub.com/acme/hooks/",
    ],
)
def test_urls_normalize_as_hoop_keys_them(url):
    assert normalized_git_url(url) == HOOKS


def test_credentials_in_a_git_url_are_dropped():
    assert without_credentials("https://oauth2:ghp_tok@github.com/a/b") == "https://github.com/a/b"


# The command, against the fake API and a real local repository -------------------------


def test_doctor_names_the_demo_repository_and_exits_1(pushed):
    secret = "ghp_do-not-print-me-4242"
    answer = configuration(
        repository(DEMO, 0), repository(HOOKS, 300, git_password=secret, git_user="bot")
    )
    with FakeHoop({"/runbooks/configurations": answer, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, pushed)
        as_json = doctor(fake, pushed, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PROBLEM repository-without-ttl [github.com/hoophq/demo-runbooks]" in done.stdout
    assert "hoophq/demo-runbooks" in done.stdout and "gateway/" in done.stdout
    body = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and body["ok"] is False
    problems = {f["code"]: f for f in body["findings"] if f["level"] == "problem"}
    assert set(problems) == {"repository-without-ttl", "demo-repository"}
    assert problems["demo-repository"]["hoop_source"].startswith("gateway/models/runbooks.go")
    assert "pushed-hooks" in {f["code"] for f in body["findings"]}  # the local repo is fine
    assert secret not in done.stdout + as_json.stdout + done.stderr + as_json.stderr
    assert TOKEN not in done.stdout + as_json.stdout


def test_a_clean_org_and_a_pushed_repository_pass(pushed):
    answer = configuration(repository(HOOKS, 300))
    with FakeHoop({"/runbooks/configurations": answer, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, pushed)
    assert done.returncode == 0, done.stdout
    assert "0 problem(s)" in done.stdout


def test_another_repository_or_no_pushed_hooks_is_a_problem(pushed, tmp_path):
    other = configuration(repository("github.com/acme/elsewhere", 300))
    with FakeHoop({"/runbooks/configurations": other, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, pushed, "--json")
    assert "not-hoops-repository" in codes_of(done)

    git(pushed, "rm", "-rq", "hoop-hooks")
    git(pushed, "commit", "-qm", "no hooks")
    git(pushed, "update-ref", "refs/remotes/origin/main", "HEAD")
    mine = configuration(repository(HOOKS, 300))
    with FakeHoop({"/runbooks/configurations": mine, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, pushed, "--json")
    assert done.returncode == 1 and "no-pushed-hooks" in codes_of(done)


def test_a_pushed_close_only_repository_is_a_problem_with_hoops_panic(pushed):
    git(pushed, "rm", "-q", "hoop-hooks/session-open.runbook.py")
    git(pushed, "commit", "-qm", "close only")
    git(pushed, "update-ref", "refs/remotes/origin/main", "HEAD")
    mine = configuration(repository(HOOKS, 300))
    with FakeHoop({"/runbooks/configurations": mine, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, pushed, "--json")
    assert done.returncode == 1, done.stdout
    [found] = [f for f in json.loads(done.stdout)["findings"] if f["code"] == "pushed-close-only"]
    assert found["level"] == "problem"
    assert found["message"].startswith(
        "panic: runtime error: invalid memory address or nil pointer dereference: "
    )


def test_outside_a_repository_the_local_checks_are_skipped(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    answer = configuration(repository(HOOKS, 300))
    with FakeHoop({"/runbooks/configurations": answer, "/plugins/runbooks": None}) as fake:
        done = doctor(fake, folder, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert codes_of(done) == ["hooks-on", "not-a-repository"]


def test_a_bad_token_is_one_line_exit_2(pushed):
    with FakeHoop({"/runbooks/configurations": configuration()}) as fake:
        done = doctor(fake, pushed, token="hpk_bad-token-for-doctor-99")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "hpk_bad-token-for-doctor-99" not in done.stdout + done.stderr


def codes_of(done) -> list[str]:
    return [finding["code"] for finding in json.loads(done.stdout)["findings"]]
