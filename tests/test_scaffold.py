"""`hookdk init` and the shipped templates: where files go, what is never overwritten,
and what every template's hooks and payloads must satisfy (docs/hoop-runtime.md)."""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hoophooks_dk.capture.capture import Capture
from hoophooks_dk.check import check
from hoophooks_dk.cli.init import init_command, templates_command
from hoophooks_dk.emulator import Emulator
from hoophooks_dk.errors import HookdkError
from hoophooks_dk.hooks import read_hooks
from hoophooks_dk.payload import complete, event_of
from hoophooks_dk.render import load
from hoophooks_dk.resources import data_dir
from hoophooks_dk.scaffold.writer import (
    Template,
    expand_includes,
    get_template,
    init,
    plan,
    templates,
)
from hoophooks_dk.schema import validate

TEMPLATES = [template.name for template in templates()]
HTTP_TEMPLATES = [t.name for t in templates() if t.transport == "http"]
SYSLOG_TEMPLATES = [t.name for t in templates() if t.transport == "syslog"]
HOOKS = ["hoop-hooks/session-open.runbook.py", "hoop-hooks/session-close.runbook.py"]
GITHUB = ".github/workflows/hoop-hooks.yml"
TEST_FILE = "tests/hooks/test_hoop_hooks.py"
DELIVERY_TEST_FILE = "tests/hooks/test_delivery.py"
INCLUDE_LINE = re.compile(rb"^# hookdk:include (.*)\n", re.MULTILINE)
COMMON_FRAGMENTS = data_dir("templates") / "_common" / "include"


def paths(result) -> list[str]:
    return [path.as_posix() for path, _ in result.files]


def actions(result) -> dict[str, str]:
    return {path.as_posix(): action for path, action in result.files}


# --- where init writes ------------------------------------------------------------------


def test_fresh_git_repo_gets_hooks_tests_payloads_and_ci(runbooks):
    result = init(runbooks.root)

    assert (result.root, result.in_git, result.warnings) == (runbooks.root, True, [])
    assert paths(result)[:2] == HOOKS  # both hooks, always
    assert {TEST_FILE, "tests/hooks/pytest.ini", GITHUB} <= set(paths(result))
    assert any(p.startswith("tests/hooks/payloads/") for p in paths(result))
    assert set(actions(result).values()) == {"created"}
    for path in paths(result):
        assert (runbooks.root / path).is_file()
    source = get_template("siem-http").folder / "hoop-hooks" / "session-open.runbook.py"
    written = (runbooks.root / HOOKS[0]).read_bytes()
    # byte for byte, includes filled (the template's own fragments, then the common ones)
    assert written == expand_includes(source.read_bytes(), get_template("siem-http"))


def test_subdirectory_of_a_repo_writes_at_the_repo_root(runbooks):
    inside = runbooks.root / "runbooks" / "db"
    inside.mkdir(parents=True)

    result = init(inside)

    assert result.root == runbooks.root
    assert (runbooks.root / HOOKS[0]).is_file()
    assert list(inside.iterdir()) == []


def test_missing_folder_inside_a_repo_writes_at_the_repo_root(runbooks):
    result = init(runbooks.root / "not-yet")

    assert result.root == runbooks.root
    assert not (runbooks.root / "not-yet").exists()


def test_plain_folder_warns_and_writes_there(tmp_path):
    plain = tmp_path / "plain"

    result = init(plain)

    assert (result.root, result.in_git) == (plain, False)
    [warning] = result.warnings
    assert "not in a git repository" in warning and str(plain) in warning
    assert (plain / HOOKS[1]).is_file()


def test_a_file_in_place_of_the_folder_is_an_error(tmp_path):
    (tmp_path / "file").write_text("x")

    with pytest.raises(HookdkError, match="is not a directory"):
        init(tmp_path / "file")


# --- never overwrite without --force -----------------------------------------------------


def test_edited_file_survives_and_is_reported_skipped(runbooks):
    init(runbooks.root)
    hook = runbooks.root / HOOKS[0]
    hook.write_text("# my own hook\n")

    result = init(runbooks.root)

    assert hook.read_text() == "# my own hook\n"
    assert actions(result)[HOOKS[0]] == "skipped"
    assert result.skipped == [Path(HOOKS[0])]
    assert set(actions(result).values()) == {"skipped", "unchanged"}


def test_force_overwrites_only_what_init_creates(runbooks):
    init(runbooks.root)
    (runbooks.root / HOOKS[0]).write_text("# edited\n")
    unrelated = runbooks.write("tests/hooks/test_mine.py", "def test_mine(): pass\n")
    readme = runbooks.write("README.md", "runbooks\n")

    result = init(runbooks.root, force=True)

    assert actions(result)[HOOKS[0]] == "overwritten"
    assert "# edited" not in (runbooks.root / HOOKS[0]).read_text()
    assert unrelated.read_text() == "def test_mine(): pass\n"
    assert readme.read_text() == "runbooks\n"
    assert "tests/hooks/test_mine.py" not in paths(result)


def test_a_folder_where_a_file_goes_stops_init_before_it_writes(runbooks):
    (runbooks.root / TEST_FILE).mkdir(parents=True)

    with pytest.raises(HookdkError, match="is a directory"):
        init(runbooks.root, force=True)

    assert not (runbooks.root / "hoop-hooks").exists()


# --- options -------------------------------------------------------------------------------


def test_no_tests_writes_the_two_hooks_only(runbooks):
    result = init(runbooks.root, tests=False, ci="none")

    assert paths(result) == HOOKS
    assert not (runbooks.root / "tests").exists()


def test_no_tests_with_a_ci_workflow_is_refused(runbooks):
    with pytest.raises(HookdkError, match="--no-tests"):
        init(runbooks.root, tests=False, ci="github")


@pytest.mark.parametrize(
    ("ci", "expected", "absent"),
    [
        ("gitlab", ".gitlab-ci.yml", GITHUB),
        ("none", None, GITHUB),
        ("github", GITHUB, ".gitlab-ci.yml"),
    ],
)
def test_ci_choice(runbooks, ci, expected, absent):
    result = init(runbooks.root, ci=ci)

    assert not (runbooks.root / absent).exists()
    if expected is None:
        assert not any(p.endswith(".yml") for p in paths(result))
        return
    workflow = (runbooks.root / expected).read_text()
    assert "python -m pytest tests/hooks" in workflow and "hookdk check" in workflow
    assert 'python -m pip install "$HOOKDK_PIP_SPEC"' in workflow
    assert "@HOOKDK_" not in workflow  # every marker filled in


def test_unknown_template_is_one_line_listing_the_templates(runbooks):
    with pytest.raises(HookdkError) as caught:
        init(runbooks.root, "nope")

    message = str(caught.value)
    assert "\n" not in message
    assert "unknown template 'nope'" in message
    assert all(name in message for name in TEMPLATES)
    assert not (runbooks.root / "hoop-hooks").exists()


# --- the command line face -------------------------------------------------------------------


def test_cli_prints_each_file_and_its_action(runbooks):
    runner = CliRunner()
    first = runner.invoke(init_command, [str(runbooks.root), "--template", "slack"])
    (runbooks.root / HOOKS[1]).write_text("# mine\n")
    second = runner.invoke(init_command, [str(runbooks.root), "-t", "slack"])

    assert first.exit_code == 0, first.output
    assert f"created  {HOOKS[0]}" in first.output
    assert "SLACK_WEBHOOK_URL" in first.output  # the setting to configure next
    assert second.exit_code == 0
    assert f"skipped    {HOOKS[1]}" in second.output
    assert "--force" in second.output


def test_cli_warns_on_stderr_outside_git(tmp_path):
    result = CliRunner().invoke(init_command, [str(tmp_path), "--no-tests"])

    assert result.exit_code == 0
    assert "warning: " in result.stderr and "not in a git repository" in result.stderr
    assert ".github" not in result.stdout  # --no-tests means no workflow either


def test_cli_unknown_template_raises_the_user_error(runbooks):
    result = CliRunner().invoke(init_command, [str(runbooks.root), "-t", "nope"])

    assert isinstance(result.exception, HookdkError)  # main() prints it and exits 2


def test_hookdk_init_user_errors_exit_2_with_one_line(runbooks):
    for args in (["-t", "nope"], ["--no-tests", "--ci", "gitlab"]):
        done = subprocess.run(
            [sys.executable, "-m", "hoophooks_dk", "init", *args],
            cwd=runbooks.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done
        assert done.stderr.startswith("hookdk: error: ") and done.stderr.count("\n") == 1
    assert not (runbooks.root / "hoop-hooks").exists()


def test_templates_command_lists_each_template_with_its_description():
    result = CliRunner().invoke(templates_command)

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(TEMPLATES)
    assert lines[0].startswith("siem-http") and lines[0].endswith("[default]")
    for template, line in zip(templates(), lines, strict=True):
        assert line.split()[0] == template.name and template.description in line


# --- what every template must satisfy -------------------------------------------------------


def planned(name: str) -> dict[str, bytes]:
    return {f.path: f.content for f in plan(get_template(name))}


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_has_metadata_both_hooks_and_tests(name):
    template = get_template(name)
    files = planned(name)

    assert template.description and "\n" not in template.description
    assert template.settings and template.demo_env
    assert set(HOOKS) <= set(files) and TEST_FILE in files
    hooks = files[HOOKS[0]].decode() + files[HOOKS[1]].decode()
    for setting in template.settings:  # each one a constant an environment variable overrides
        assert re.search(rf'os\.environ\.get\(\s*"{setting}"', hooks), setting


@pytest.mark.parametrize("name", HTTP_TEMPLATES)
def test_every_template_gets_the_shared_delivery_tests_and_their_settings(name):
    """Every HTTP template's hooks include the delivery fragment, so each gets the shared
    test_delivery.py and conftest.py, fed by its own hook_settings.py."""
    files = planned(name)
    common = data_dir("templates") / "_common" / "tests" / "hooks"

    assert (
        b"# hookdk:include delivery\n"
        in (get_template(name).folder / "hoop-hooks" / "session-open.runbook.py").read_bytes()
    )
    assert files[DELIVERY_TEST_FILE] == (common / "test_delivery.py").read_bytes()
    assert files["tests/hooks/conftest.py"] == (common / "conftest.py").read_bytes()
    own = files["tests/hooks/hook_settings.py"].decode()
    for name in ("SETTINGS", "SECRET_SETTING", "ROUTE"):
        assert re.search(rf"^{name} = ", own, re.MULTILINE), name
    assert "\ndef event_id(request):\n" in own


@pytest.mark.parametrize("name", HTTP_TEMPLATES)
def test_the_generated_tests_pin_every_setting_and_leave_only_unwritten_ones_to_defaults(name):
    """Every setting the hooks read is pinned in every generated test (SETTINGS), so an
    exported value cannot change a result. The ones test_delivery.py leaves to the hooks'
    own defaults (DEFAULTS) are settings hookdk.toml does not set: the file's value would
    run instead of the default, and the test would check nothing (the plugin keeps a
    file's value where a test removes a variable that was not set when pytest started)."""
    template = get_template(name)
    namespace: dict[str, object] = {}
    exec(planned(name)["tests/hooks/hook_settings.py"], namespace)
    defaults = set(namespace.get("DEFAULTS", ()))

    assert set(namespace["SETTINGS"]) == set(template.settings)
    assert defaults <= set(template.settings)
    assert not defaults & set(template.demo_env), "set in hookdk.toml: not the default"


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_written_hook_has_two_adjacent_opening_braces(name):
    """Hoop renders hooks as Go templates: every `{{` opens an action, so the templates
    write none (docs/hoop-runtime.md section 2)."""
    files = planned(name)
    for path in HOOKS:
        assert b"{" + b"{" not in files[path], f"{name}/{path}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_hooks_load_as_hoop_loads_them_unchanged(name, tmp_path):
    init(tmp_path / "repo", name)

    rendered = load(read_hooks(tmp_path / "repo"))

    for path, event in zip(HOOKS, ("session-open", "session-close"), strict=True):
        assert rendered[event] == (tmp_path / "repo" / path).read_bytes()


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("name", TEMPLATES)
def test_written_hooks_compile_use_the_standard_library_only_and_parse_as_python_3_8(name):
    """The agent's python3 may have nothing installed (docs/hoop-runtime.md section 3)."""
    files = planned(name)
    for path in HOOKS:
        compile(files[path], f"{name}/{path}", "exec")
        imported = imported_modules(ast.parse(files[path], feature_version=(3, 8)))
        assert imported <= sys.stdlib_module_names, f"{name}/{path}: {imported}"


@pytest.mark.parametrize("name", SYSLOG_TEMPLATES)
def test_every_syslog_template_gets_the_syslog_delivery_tests(name):
    """A syslog template's hooks include syslog-delivery, so it gets the syslog delivery
    tests and conftest.py instead of the HTTP ones, fed by its own hook_settings.py."""
    files = planned(name)
    syslog_tests = data_dir("templates") / "_common" / "syslog-tests" / "hooks"

    for hook in HOOKS:
        source = (get_template(name).folder / hook).read_bytes()
        assert b"# hookdk:include syslog-delivery\n" in source
        assert b"# hookdk:include delivery\n" not in source
    assert files[DELIVERY_TEST_FILE] == (syslog_tests / "test_delivery.py").read_bytes()
    assert files["tests/hooks/conftest.py"] == (syslog_tests / "conftest.py").read_bytes()
    own = files["tests/hooks/hook_settings.py"].decode()
    for setting in ("SETTINGS", "FRAMING", "FORMAT"):
        assert re.search(rf"^{setting} = ", own, re.MULTILINE), setting
    assert "\ndef event_id(message):\n" in own
    assert set(SYSLOG_TEMPLATES) == {"syslog-cef", "qradar-leef"}


# --- includes: code shared by a template's hooks (<template>/include) or by several ---------
# --- templates (_common/include), kept once and written into each hook ----------------------


def hook_sources() -> dict[str, bytes]:
    """Every template's hook files as they stand in the kit, before includes are filled."""
    return {
        f"{name}/{path}": (get_template(name).folder / path).read_bytes()
        for name in TEMPLATES
        for path in HOOKS
    }


def fragments(folder=COMMON_FRAGMENTS) -> dict[str, bytes]:
    """The fragments in ``folder`` (the common ones by default), by name."""
    if not folder.is_dir():
        return {}
    found = [f for f in folder.iterdir() if f.name.endswith(".py")]
    return {f.name.removesuffix(".py"): f.read_bytes() for f in found}


def own_fragments(name: str) -> dict[str, bytes]:
    return fragments(get_template(name).folder / "include")


def included_by(name: str) -> set[str]:
    """The fragment names the hooks of template ``name`` include."""
    sources = [(get_template(name).folder / path).read_bytes() for path in HOOKS]
    return {found.decode() for source in sources for found in INCLUDE_LINE.findall(source)}


def test_each_include_line_is_replaced_by_its_fragment_line_end_and_all():
    """Hooks cannot import a common module (docs/hoop-runtime.md section 3): the shared code is
    written into each of them, the same in every hook that includes it; a template's own
    fragment is taken before a common one."""
    common = fragments()
    including = []
    for where, source in hook_sources().items():
        name, path = where.split("/", 1)
        shared = common | own_fragments(name)
        names = [found.decode() for found in INCLUDE_LINE.findall(source)]
        expected = source
        for included in names:
            expected = expected.replace(f"# hookdk:include {included}\n".encode(), shared[included])
        assert planned(name)[path] == expected, where
        including += [where] if {"delivery", "syslog-delivery"} & set(names) else []
    assert len(including) >= 2 * len(TEMPLATES) - 1  # teams-review's close hook sends nothing


def test_every_fragment_is_included_somewhere_and_every_include_has_one():
    """An include with no fragment fails here, in the kit's tests, not at a user's init;
    a fragment no hook includes is dead code, in a template's include/ or in _common."""
    common = fragments()
    used_common: set[str] = set()
    every = {f"_common/{name}": text for name, text in common.items()}
    for name in TEMPLATES:
        own, included = own_fragments(name), included_by(name)
        assert included <= set(own) | set(common), name  # each include has a fragment
        assert set(own) <= included, name  # each of the template's fragments is used
        assert not set(own) & set(common), name  # no shadowing: one place to read a name
        used_common |= included - set(own)
        every |= {f"{name}/{fragment}": text for fragment, text in own.items()}

    assert common and set(common) == used_common
    assert any(own_fragments(name) for name in TEMPLATES)
    for where, text in every.items():
        assert text.endswith(b"\n") and not text.endswith(b"\n\n"), where
        assert b"hookdk:include" not in text, where  # one level: no includes in a fragment


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_written_file_has_an_include_line_left(name):
    for ci, tests in (("github", True), ("gitlab", True), ("none", True), ("none", False)):
        for planned_file in plan(get_template(name), ci=ci, tests=tests):
            assert b"hookdk:include" not in planned_file.content, (name, planned_file.path)
            assert not planned_file.path.startswith("include/"), (name, planned_file.path)


def test_an_unknown_include_is_an_error_naming_it():
    with pytest.raises(LookupError, match="hookdk:include no-such-part"):
        expand_includes(b"import os\n# hookdk:include no-such-part\nmain()\n")
    template = get_template("siem-http")
    where = "no fragment siem-http/include/no-such-part.py or _common/include/no-such-part.py"
    with pytest.raises(LookupError, match=re.escape(where)):
        expand_includes(b"# hookdk:include no-such-part\n", template)
    with pytest.raises(LookupError, match="hookdk:include main"):  # siem-http's own fragment
        expand_includes(b"# hookdk:include main\n")  # is not found without the template


def test_a_templates_own_fragment_is_taken_before_the_common_one(tmp_path):
    folder = tmp_path / "mine"
    (folder / "include").mkdir(parents=True)
    (folder / "include" / "delivery.py").write_bytes(b"def deliver():\n    pass\n")
    (folder / "include" / "only-mine.py").write_bytes(b"MINE = 1\n")
    template = Template("mine", "a test template", ("X",), {"X": "1"}, folder)
    source = b"# hookdk:include only-mine\n# hookdk:include delivery\n# hookdk:include delivery-settings\n"

    written = expand_includes(source, template)

    common = fragments()
    assert written == b"MINE = 1\ndef deliver():\n    pass\n" + common["delivery-settings"]
    assert expand_includes(b"# hookdk:include delivery\n") == common["delivery"]


def test_only_a_whole_include_line_is_replaced():
    text = b"x = 1  # hookdk:include delivery\n    # hookdk:include delivery\n"

    assert expand_includes(text) == text


def test_written_hooks_pass_the_template_lint(tmp_path):
    """The hook sources are linted with undefined names and unused imports allowed (their
    shared code comes by include, templates/ruff.toml); the hooks as written are linted
    whole, with the templates' settings."""
    config = Path(__file__).resolve().parent.parent / "templates" / "ruff.toml"
    for name in TEMPLATES:
        for path, content in planned(name).items():
            if path in HOOKS:  # flat names: the per-file ignores of hoop-hooks/ do not apply
                (tmp_path / f"{name}--{Path(path).name.replace('.', '-')}.py").write_bytes(content)

    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(config), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert len(list(tmp_path.iterdir())) == 2 * len(TEMPLATES)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", TEMPLATES)
def test_example_payloads_validate_against_the_payload_schema(name):
    payloads = {p: c for p, c in planned(name).items() if p.startswith("tests/hooks/payloads/")}

    assert len(payloads) >= 2
    events = set()
    for path, content in payloads.items():
        data = json.loads(content)
        event = event_of(data)
        assert event is not None, path
        events.add(event)
        assert validate(complete(data, event, input_file="")) == [], path
    assert events == {"session-open", "session-close"}


def test_a_collector_that_never_answers_is_given_up_on(tmp_path):
    """The delivery code (the same in every hook) bounds each attempt by its timeout, so a
    hanging collector cannot hold the hook past Hoop's 15 s."""
    init(tmp_path / "repo")
    env = os.environ | {"SIEM_TOKEN": "t", "HOOK_ATTEMPTS": "2", "HOOK_RETRY_DELAY_SECONDS": "0"}
    env |= {"HOOK_TIMEOUT_SECONDS": "0.2", "SIEM_URL": "https://slow.example.test/events"}
    with Capture() as capture:
        capture.router.post("https://slow.example.test/events").mock(
            side_effect=lambda request: time.sleep(0.6) or httpx.Response(200)
        )
        result = Emulator(tmp_path / "repo", capture=capture, env=env).fire("session-close")

    assert result.exit_code == 1 and not result.timed_out
    assert "failed after 2 attempt(s)" in result.output and "timed out" in result.output


# --- svix-compat: the bodies are the deprecated Svix events ----------------------------------


@pytest.fixture(scope="module")
def svix_run(tmp_path_factory):
    """svix-compat's hooks fired against the capture: (results, bodies), in order."""
    repo = tmp_path_factory.mktemp("svix") / "repo"
    template = get_template("svix-compat")
    init(repo, template.name)
    env = {**os.environ, **template.demo_env}
    with Capture() as capture:
        emulator = Emulator(repo, capture=capture, env=env)
        # one hook at a time, so that the bodies below come in the order of the results
        results = emulator.session(review=True, reviewers=["dba-team"], sequential=True)
        results.append(emulator.fire("session-open", input="x" * 12_000, connection_envs=None))
        results.append(emulator.fire("session-close", exit_code=-2, output="ERROR: lost"))
    bodies = [json.loads(request.body) for request in capture.requests]
    return results, bodies


def test_svix_bodies_validate_against_the_svix_schemas(svix_run):
    results, bodies = svix_run

    assert all(result.ok for result in results), [r.output for r in results]
    assert len(bodies) == len(results)
    for body in bodies:
        schema = f"svix-{body['event_type'].replace('.', '-')}.schema.json"
        assert validate(body, schema) == [], body


def test_svix_bodies_map_the_hoop_payload_as_documented(svix_run):
    results, bodies = svix_run
    reviewed, _, close, long_input, unknown_exit = bodies

    assert reviewed["review"]["status"] == "UNKNOWN"
    assert reviewed["id"] == results[0].sid
    assert close["exit_err"] is None
    assert long_input["is_input_truncated"] is True
    assert long_input["input_size"] == 12_000
    assert len(base64.b64decode(long_input["input"])) == 10_000
    assert long_input["connection_envs"] is None
    assert (unknown_exit["exit_code"], unknown_exit["exit_err"]) == (-100, "ERROR: lost")


# --- once configured, every template passes `hookdk check` -----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", TEMPLATES)
def test_configured_template_passes_hookdk_check(name, runbooks, monkeypatch):
    template = get_template(name)
    init(runbooks.root, name)
    runbooks.commit("hooks")
    for variable, value in template.demo_env.items():
        monkeypatch.setenv(variable, value)

    findings = [f for f in check(runbooks.root) if not f.rule.startswith("HK4")]  # git: no remote

    # Configured through the environment, as the generated tests do: nothing is found,
    # HK308 included (each setting is read with a default, and the hooks stop when empty).
    assert findings == []
