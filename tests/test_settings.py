"""Settings: --env, --env-file, the repo's settings file, --respond patterns, check --python.

Run through the real command line; the hooks are real processes that print what they got.
"""

from __future__ import annotations

import json
import sys

import pytest
from run_hookdk import hookdk

from hoophooks_dk.errors import HookdkError
from hoophooks_dk.settings import Route, load_settings, parse_respond, resolve

SHOW_TOKEN = """\
import os, sys
token = os.environ.get("SIEM_TOKEN", "")
if not token:
    sys.exit("SIEM_TOKEN is not set: edit it at the top of this hook or set it in the environment")
print("token", token, os.environ.get("REGION", "-"))
"""

TWO_POSTS = """\
import urllib.request, urllib.error
for url in ("https://siem.example.com/a", "https://other.example.com/b"):
    try:
        print(urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=5).status)
    except urllib.error.HTTPError as error:
        print(error.code)
"""

SHOW_PYTHON = "import sys\nprint(sys.executable)\n"


def fire_output(repo, *args: str) -> tuple[int, str]:
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--json", *args)
    return done.returncode, json.loads(done.stdout)["output"]


def test_env_and_env_file_reach_the_hook(hook_repo, tmp_path):
    repo = hook_repo(SHOW_TOKEN)
    assert fire_output(repo, "--env", "SIEM_TOKEN=t-1") == (0, "token t-1 -\n")
    env_file = tmp_path / "hooks.env"
    env_file.write_text('# test values\nexport SIEM_TOKEN="from file"\nREGION=eu\n')
    assert fire_output(repo, "--env-file", str(env_file)) == (0, "token from file eu\n")
    # --env wins over --env-file
    assert fire_output(repo, "--env-file", str(env_file), "--env", "SIEM_TOKEN=x") == (
        0,
        "token x eu\n",
    )


def test_pyproject_settings_are_defaults_and_the_command_line_wins(hook_repo):
    repo = hook_repo(SHOW_TOKEN)
    repo.write(
        "pyproject.toml",
        '[project]\nname = "runbooks"\n\n[tool.hookdk]\ntimeout = 9\n'
        '[tool.hookdk.env]\nSIEM_TOKEN = "from-pyproject"\nREGION = "us"\n',
    )
    assert fire_output(repo) == (0, "token from-pyproject us\n")
    assert fire_output(repo, "--env", "REGION=ap") == (0, "token from-pyproject ap\n")
    assert load_settings(repo.root).timeout == 9.0


def test_hookdk_toml_gives_python_and_respond(hook_repo):
    repo = hook_repo(SHOW_PYTHON)
    repo.write(
        "hookdk.toml",
        f'python = "{sys.executable}"\n[respond]\n"*" = 418\n',
    )
    code, output = fire_output(repo)
    assert (code, output) == (0, f"{sys.executable}\n")
    assert resolve(repo.root).default_status == 418


def test_respond_by_url_pattern_on_the_command_line_and_in_the_file(hook_repo):
    repo = hook_repo(TWO_POSTS)
    assert fire_output(repo, "--respond", "POST https://siem.example.com/*=503") == (
        0,
        "503\n200\n",
    )
    assert fire_output(repo, "--respond", "429") == (0, "429\n429\n")
    repo.write("hookdk.toml", '[respond]\n"https://other.example.com/*" = 502\n')
    assert fire_output(repo) == (0, "200\n502\n")
    # the command line's routes come first
    assert fire_output(repo, "--respond", "https://other.example.com/b=201") == (0, "200\n201\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("503", 503),
        ("POST https://siem.example.com/*=503", Route("https://siem.example.com/*", 503, "POST")),
        ("https://x.example.com/a=b=204", Route("https://x.example.com/a=b", 204)),
    ],
)
def test_respond_forms(text, expected):
    assert parse_respond(text, "--respond") == expected


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("timeout = -1\n", "hookdk.toml: timeout must be a number of seconds above 0"),
        ("tiemout = 3\n", "hookdk.toml: unknown key 'tiemout'"),
        ("env_mode = 'dirty'\n", "hookdk.toml: env_mode must be one of inherit, clean"),
        ("[env]\nTOKEN = 1\n", "hookdk.toml: env.TOKEN must be a string"),
        ('[respond]\n"GET https://x/*" = 999\n', "respond.'GET https://x/*'"),
        ("timeout = \n", "hookdk.toml: invalid TOML"),
    ],
)
def test_bad_settings_name_the_file_and_key(echo_repo, content, needle):
    echo_repo.write("hookdk.toml", content)
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert needle in done.stderr, done.stderr


def test_two_settings_files_are_refused(echo_repo):
    echo_repo.write("hookdk.toml", "timeout = 3\n")
    echo_repo.write("pyproject.toml", "[tool.hookdk]\ntimeout = 4\n")
    with pytest.raises(HookdkError, match="both hold hookdk settings"):
        load_settings(echo_repo.root)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--env", "NOEQUALS"), "--env 'NOEQUALS': expected KEY=VALUE"),
        (("--env-file", "/nonexistent/x.env"), "--env-file /nonexistent/x.env: no such file"),
        (("--respond", "POST=503"), "no URL pattern"),
        (("--respond", "teapot"), "expected a status (100-599)"),
    ],
)
def test_bad_options_are_usage_errors(echo_repo, args, needle):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), *args)
    assert done.returncode == 2 and needle in done.stderr, done.stderr


def test_a_missing_setting_names_it_and_how_to_give_it(hook_repo):
    repo = hook_repo(SHOW_TOKEN)
    done = hookdk("fire", "session-close", "--repo", str(repo.root))
    assert done.returncode == 1
    assert "hint: setting: the hook stops because SIEM_TOKEN is not set" in done.stdout
    assert "--env SIEM_TOKEN=..." in done.stdout
    repo.write("hookdk.toml", "timeout = 10\n")
    result = json.loads(hookdk("fire", "session-close", "--repo", str(repo.root), "--json").stdout)
    assert result["hints"][0]["fix"].endswith('SIEM_TOKEN = "..." under [env] in hookdk.toml')


def test_fresh_init_checks_clean_with_its_test_values_and_names_a_setting_taken_away(runbooks):
    # runbooks: a git repository, nothing committed yet
    assert hookdk("init", str(runbooks.root)).returncode == 0
    done = hookdk("check", "--repo", str(runbooks.root), "--format", "json")
    assert [f for f in json.loads(done.stdout) if f["rule"].startswith("HK5")] == []
    settings = runbooks.root / "hookdk.toml"
    settings.write_text(settings.read_text().replace("SIEM_TOKEN = ", "# SIEM_TOKEN = "))
    taken = hookdk("check", "--repo", str(runbooks.root), "--format", "json")
    crashes = [f for f in json.loads(taken.stdout) if f["rule"] == "HK501"]
    assert len(crashes) == 2
    for found in crashes:
        assert "SIEM_TOKEN is not set" in found["message"]
        assert found["fix"].startswith("give the hooks SIEM_TOKEN: --env SIEM_TOKEN=...")
    fixed = hookdk(
        "check", "--repo", str(runbooks.root), "--format", "json", "--env", "SIEM_TOKEN=t"
    )
    assert [f for f in json.loads(fixed.stdout) if f["rule"].startswith("HK5")] == []


def test_check_python_runs_the_hooks_with_that_interpreter(hook_repo, tmp_path):
    repo = hook_repo("print(1)\n")
    done = hookdk("check", "--repo", str(repo.root), "--python", str(tmp_path / "no-python"))
    assert done.returncode == 2 and "cannot run" in done.stderr and "no-python" in done.stderr
    repo.write("hookdk.toml", f'python = "{tmp_path / "also-missing"}"\n')
    done = hookdk("check", "--repo", str(repo.root))
    assert done.returncode == 2 and "also-missing" in done.stderr


def test_env_mode_is_read_for_the_emulator(echo_repo):
    """The environment modes themselves live in the emulator; the file only names one."""
    echo_repo.write("hookdk.toml", 'env_mode = "clean"\n')
    assert load_settings(echo_repo.root).env_mode == "clean"
    assert resolve(echo_repo.root, env_mode="inherit").env_mode == "inherit"  # the option wins


def test_a_settings_file_that_is_not_utf8_is_one_line(tmp_path):
    from hoophooks_dk.errors import SettingsError
    from hoophooks_dk.settings import resolve

    (tmp_path / "hookdk.toml").write_bytes(b"timeout = 5\n# caf\xe9\n")
    with pytest.raises(SettingsError, match=r"hookdk.toml: not UTF-8 text"):
        resolve(tmp_path, python=None, timeout=None, env=(), env_file=None)


def test_siem_respond_reads_a_table_as_the_settings_file_does():
    """One parser for a respond table: the settings file's and ``Siem.respond``'s."""
    import httpx

    from hoophooks_dk.capture.capture import Capture
    from hoophooks_dk.errors import SettingsError
    from hoophooks_dk.settings import parse_responses
    from hoophooks_dk.testing.harness import Siem

    table = {"*": 503, "POST https://siem.example.com/*": 201}
    assert parse_responses(table, "hookdk.toml") == (
        503,
        (Route("https://siem.example.com/*", 201, "POST"),),
    )
    with Capture() as capture:
        siem = Siem(capture)
        siem.respond(table)
        assert siem.default_status == 503
        [route] = capture.router.routes
        assert route.resolve(httpx.Request("POST", "https://siem.example.com/e"))
        with pytest.raises(SettingsError, match=r"hoop_siem.respond\(\): respond.'GET x' must"):
            siem.respond({"GET x": "fast"})
