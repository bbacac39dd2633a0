"""hookdk check, static rules: each rule with a repo that trips it and one that does not.

Files (HK1xx), Hoop's template step (HK2xx) and the Python that runs (HK3xx). The git
rules are in test_check_git.py, the dynamic ones and the command line in
test_check_run.py. Repos are real git repos in tmp dirs (conftest's ``runbooks``).
"""

from __future__ import annotations

import os

import pytest
from check_repos import CLEAN_HOOK, CLOSE, OPEN

from hoophooks_dk.check import RULES, Finding, check


def static(repo, **options) -> list[Finding]:
    return check(repo.root, static=True, **options)


def of(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def python_findings(hook_repo, source: str, rule: str) -> list[Finding]:
    """Findings of ``rule`` for the session-open hook, both hooks holding ``source``."""
    repo = hook_repo(source)
    return [f for f in of(static(repo), rule) if f.file == OPEN]


# --- the rule table --------------------------------------------------------------------


def test_rule_ids_are_stable_and_grouped_by_kind():
    assert all(rule.id == key for key, rule in RULES.items())
    kinds = {key[:3] for key in RULES}
    assert kinds == {"HK1", "HK2", "HK3", "HK4", "HK5"}
    assert {rule.severity for rule in RULES.values()} == {"error", "warning", "info"}


def test_a_clean_repo_has_no_file_template_or_python_findings(hook_repo):
    findings = static(hook_repo(CLEAN_HOOK))
    assert not [f for f in findings if f.rule[:3] in ("HK1", "HK2", "HK3")], findings


# --- files (HK1xx) ---------------------------------------------------------------------


def test_hk101_close_without_open_is_an_error(runbooks):
    [found] = of(static(runbooks.hooks(close_source=CLEAN_HOOK)), "HK101")
    assert found.severity == "error"
    assert found.message.startswith(  # Hoop's text, as fire says it
        "panic: runtime error: invalid memory address or nil pointer dereference: "
    )
    assert "the gateway process dies and the close hook never runs" in found.message
    assert found.fix == "add hoop-hooks/session-open.runbook.py, even one that does nothing"
    assert "HK102" not in rules(static(runbooks))  # the error says it; no second finding


def test_hk101_not_when_both_hooks_exist(hook_repo):
    assert "HK101" not in rules(static(hook_repo(CLEAN_HOOK)))


def test_hk102_a_missing_close_hook_is_a_warning(runbooks):
    [found] = of(static(runbooks.hooks(open_source=CLEAN_HOOK)), "HK102")
    assert found.severity == "warning"
    assert CLOSE in found.message
    assert "HK101" not in rules(static(runbooks))


@pytest.mark.parametrize(
    "misnamed",
    [
        "hoop-hooks/session_close.runbook.py",
        "hoop-hooks/session-close.py",
        "hoop-hooks/Session-Close.runbook.py",
        "hooks/session-close.runbook.py",
        "hoop_hooks/session-close.runbook.py",
        "Hoop-Hooks/session-close.runbook.py",
        "session-close.runbook.py",
    ],
)
def test_hk103_a_misnamed_hook_is_named(runbooks, misnamed):
    runbooks.hooks(open_source=CLEAN_HOOK).write(misnamed, CLEAN_HOOK)
    findings = static(runbooks)
    [found] = of(findings, "HK103")
    assert found.severity == "error"
    assert found.file == misnamed
    assert CLOSE in found.message
    assert misnamed in found.fix
    assert "HK102" not in rules(findings)  # the misnamed file explains the missing hook


def test_hk103_not_for_the_exact_names_or_ordinary_files(runbooks):
    runbooks.hooks(CLEAN_HOOK, CLEAN_HOOK)
    runbooks.write("tests/test_session_close_forwarder.py", "def test(): pass\n")
    runbooks.write("hoop-hooks/siem.md", "notes\n")
    assert not rules(static(runbooks)) & {"HK103", "HK104"}


def test_hk104_a_stray_copy_next_to_the_real_hook_is_a_warning(hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    repo.write("hooks/session-open.runbook.py", CLEAN_HOOK)
    [found] = of(static(repo), "HK104")
    assert (found.severity, found.file) == ("warning", "hooks/session-open.runbook.py")
    assert OPEN in found.message
    assert "HK103" not in rules(static(repo))


def test_hk105_a_file_over_a_million_bytes_means_neither_hook_loads(hook_repo, runbooks):
    big = "#" * 1_000_000 + "\n"  # 1,000,001 bytes
    repo = hook_repo(CLEAN_HOOK)
    repo.write(CLOSE, big)
    [found] = of(static(repo), "HK105")
    assert (found.severity, found.file) == ("error", CLOSE)
    assert "1,000,001 bytes" in found.message
    assert "NEITHER" in found.message


def test_hk105_not_at_exactly_a_million_bytes(hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    repo.write(CLOSE, "#" * 999_999 + "\n")
    assert "HK105" not in rules(static(repo))


def test_hk106_a_symlinked_hook_is_an_error_in_the_tree_and_at_a_ref(runbooks):
    runbooks.hooks(open_source=CLEAN_HOOK)
    runbooks.write("shared/close.py", CLEAN_HOOK)
    os.symlink("../shared/close.py", runbooks.root / CLOSE)
    [found] = of(static(runbooks), "HK106")
    assert (found.severity, found.file) == ("error", CLOSE)
    runbooks.commit()
    assert "HK106" in rules(static(runbooks, ref="HEAD"))


def test_hk106_not_for_regular_files(hook_repo):
    assert "HK106" not in rules(static(hook_repo(CLEAN_HOOK)))


def test_hk107_a_hook_too_large_for_the_environment_can_never_start(hook_repo):
    # 200 KB: well under Hoop's 1,000,000 bytes, far over Linux's 128 KiB per variable.
    big = "import os\nprint(__file__)\n" + "# padding\n" * 20_000
    repo = hook_repo(CLEAN_HOOK)
    repo.write(OPEN, big)
    findings = static(repo)
    [found] = of(findings, "HK107")
    assert (found.severity, found.file) == ("error", OPEN)
    assert "131,072 bytes" in found.message and "never start" in found.message
    assert "HK105" not in rules(findings)
    assert [f.line for f in of(findings, "HK302")] == [2]  # the other rules still ran


def test_hk107_not_for_a_hook_of_ordinary_size(hook_repo):
    repo = hook_repo(CLEAN_HOOK + "# padding\n" * 10_000)  # 100 KB: fits
    assert "HK107" not in rules(static(repo))


def test_hk107_not_on_top_of_hk105(hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    repo.write(CLOSE, "#" * 1_000_001 + "\n")
    assert "HK107" not in rules(static(repo))


# --- how far the files are scanned -----------------------------------------------------

NOT_OURS = (
    "other/hoop-hooks/session-close.runbook.py",  # a project with its own hoop-hooks/
    "work/other/hoop-hooks/session-close.runbook.py",
    "a/b/c/session-close.runbook.py",  # too deep
    ".cache/session-close.runbook.py",  # hidden
    "venv/lib/session-close.runbook.py",
    "env312/session-close.runbook.py",  # a virtualenv by its pyvenv.cfg
    "lib/site-packages/session_close.py",
    "node_modules/session-close.runbook.py",
    "clone/session-close.runbook.py",  # a git repository of its own
)


def test_lookalikes_outside_git_skip_other_projects_and_deep_folders(tmp_path):
    """`cd /tmp && hookdk check`: only this folder's own files count."""
    (tmp_path / OPEN).parent.mkdir()
    (tmp_path / OPEN).write_text(CLEAN_HOOK)
    for path in NOT_OURS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(CLEAN_HOOK)
    (tmp_path / "other/hoop-hooks/session-open.runbook.py").write_text(CLEAN_HOOK)
    (tmp_path / "env312/pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "clone/.git").mkdir()
    findings = check(tmp_path, static=True)
    assert not rules(findings) & {"HK103", "HK104"}, findings
    assert "HK102" in rules(findings)  # session-close is simply missing
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks/session-close.runbook.py").write_text(CLEAN_HOOK)
    [found] = of(check(tmp_path, static=True), "HK103")  # a shallow one still counts
    assert found.file == "hooks/session-close.runbook.py"


def test_lookalikes_at_a_ref_skip_other_projects_and_deep_folders(runbooks):
    runbooks.hooks(open_source=CLEAN_HOOK)
    for path in NOT_OURS:
        if not path.startswith("clone/"):
            runbooks.write(path, CLEAN_HOOK)
    runbooks.write("env312/pyvenv.cfg", "home = /usr/bin\n")
    runbooks.git.git.add(A=True, force=True)
    runbooks.git.index.commit("hooks")
    assert not rules(static(runbooks, ref="HEAD")) & {"HK103", "HK104"}


# --- template (HK2xx) ------------------------------------------------------------------


def test_hk201_a_template_error_gives_hoops_text_and_line(hook_repo):
    repo = hook_repo('import os\nwho = "x"\nprint(f"{{who}}")\n')
    findings = of(static(repo), "HK201")
    assert {f.file for f in findings} == {OPEN, CLOSE}
    found = findings[0]
    assert found.severity == "error"
    assert found.message.startswith('template: :3: function "who" not defined: ')  # Hoop's
    assert found.line == 3
    assert "NEITHER" in found.message
    # a {{ meant for Python: how to write one that Hoop renders as {{
    assert '{{ if true }}{{ "{{" }}{{ end }}, which Hoop renders as {{' in found.fix


def test_hk201_a_missing_input_is_placed_on_its_action(hook_repo):
    repo = hook_repo('import os\n\nREGION = "{{ .region }}"\n')
    [found, _] = of(static(repo), "HK201")
    assert "the following inputs are missing [region]" in found.message
    assert found.line == 3
    assert "if true" not in found.fix and "default" in found.fix  # not where it does not fit


def test_hk201_a_string_literal_action_is_placed_after_control_actions(hook_repo):
    repo = hook_repo('import os\n{{ if .x }}pass{{ end }}\nprint("{{ "{{" }}")\n')
    [found, _] = of(static(repo), "HK201")
    assert "inconsistent findings, findings=0, val=[]" in found.message
    assert found.line == 3


def test_hk201_in_one_file_stops_the_python_checks_of_that_file_only(hook_repo):
    repo = hook_repo(CLEAN_HOOK)
    repo.write(CLOSE, 'import yaml\nprint("{{ junk }}")\n')
    findings = static(repo)
    assert [f.file for f in of(findings, "HK201")] == [CLOSE]
    assert "HK307" not in rules(findings)


def test_hk201_not_for_braces_that_are_not_actions(hook_repo):
    source = 'import json\nD = {"a": {"b": 1}}\nprint("}}", json.dumps(D))\n'
    assert "HK201" not in rules(static(hook_repo(source)))


def test_hk202_says_what_a_default_renders_as(hook_repo):
    repo = hook_repo('import os\nREGION = "{{ .region | default "us-east-1" }}"\nprint(REGION)\n')
    findings = [f for f in of(static(repo), "HK202") if f.file == OPEN]
    [found] = findings
    assert (found.severity, found.line) == ("info", 2)
    assert 'renders as: REGION = "us-east-1"' in found.message


def test_hk202_a_header_comment_then_defaults_reads_line_by_line(hook_repo):
    source = (
        "import os\n"
        "{{/* settings, filled in by Hoop\n"
        "   from the defaults */}}\n"
        'A = "{{ .a | default "x" }}"\n'
        'B = "{{- .b | default "y" -}}"\n'
        "{{/* gone */ -}}\n"
        "\n"
        "print(A, B)\n"
    )
    findings = [f for f in of(static(hook_repo(source)), "HK202") if f.file == OPEN]
    assert [(f.line, f.message) for f in findings] == [
        (2, "lines 2-3 render as an empty line"),
        (4, 'line 4 renders as: A = "x"'),
        (5, 'line 5 renders as: B = "y"'),
        (6, "lines 6-7 render as nothing (removed)"),
    ]


def test_hk202_not_when_the_file_has_no_action(hook_repo):
    assert "HK202" not in rules(static(hook_repo(CLEAN_HOOK)))


def test_hk203_a_nested_missing_input_renders_no_value(hook_repo):
    source = 'import os\n{{ if not .x }}TOKEN = "{{ .token }}"{{ end }}\nprint(1)\n'
    findings = [f for f in of(static(hook_repo(source)), "HK203") if f.file == OPEN]
    [found] = findings
    assert (found.severity, found.line) == ("warning", 2)
    assert "<no value>" in found.message


def test_hk203_not_for_a_top_level_default(hook_repo):
    source = 'TOKEN = "{{ .token | default "none" }}"\n'
    assert "HK203" not in rules(static(hook_repo(source)))


def test_hk201_an_invalid_pattern_is_gos_regexp_error_not_a_refusal(hook_repo):
    # Once refused (HK204); now Hoop's own failure, with Go's regexp error text.
    repo = hook_repo('X = "{{ .x | default "a" | pattern `(?i)[[:alpha:]` }}"\n')
    findings = static(repo)
    assert "HK204" not in rules(findings)
    [found] = [f for f in of(findings, "HK201") if f.file == OPEN]
    assert "error parsing regexp: missing closing ]: `[[:alpha:]`" in found.message


def test_hk204_a_construct_the_kit_cannot_render_is_said_not_guessed(hook_repo):
    # Any construct runbook_template still refuses will do: printf's %p of a map (an address) is one.
    repo = hook_repo(
        'import yaml\nX = "{{ .x | default "1" }}{{ if true }}{{ printf "%p" . }}{{ end }}"\n'
    )
    findings = static(repo)
    found = [f for f in of(findings, "HK204") if f.file == OPEN]
    assert [f.severity for f in found] == ["warning"]
    assert "printf %p" in found[0].message and "not checked" in found[0].message
    assert not rules(findings) & {"HK201", "HK307"}  # no verdict, no Python checks
    assert not of(check(repo.root, timeout=5), "HK501")  # and no run


# --- Python (HK3xx) --------------------------------------------------------------------


def test_hk301_a_syntax_error_is_placed_on_its_line(hook_repo):
    [found] = python_findings(hook_repo, 'import os\n\nprint("a"\n', "HK301")
    assert found.severity == "error"
    assert found.line == 3
    assert "does not compile" in found.message


def test_hk301_compile_errors_that_the_parser_alone_misses(hook_repo):
    [found] = python_findings(hook_repo, "import os\nreturn 1\n", "HK301")
    assert found.line == 2
    assert "'return' outside function" in found.message


def test_hk301_points_at_the_source_line_when_the_template_moves_lines(hook_repo):
    source = '{{/* a note\nover two lines */}}\nimport os\nprint("a"\n'
    [found] = python_findings(hook_repo, source, "HK301")
    assert found.line == 4  # line 3 of the rendered script
    assert "rendered script" in found.message


def test_hk301_not_for_valid_python(hook_repo):
    assert not python_findings(hook_repo, CLEAN_HOOK, "HK301")


def test_hk302_file_dunder(hook_repo):
    source = "import os\nHERE = os.path.dirname(os.path.abspath(__file__))\n"
    [found] = python_findings(hook_repo, source, "HK302")
    assert (found.severity, found.line) == ("warning", 2)
    assert "'<stdin>'" in found.message


def test_hk302_not_for_the_word_in_a_string(hook_repo):
    assert not python_findings(hook_repo, 'print("__file__")\n', "HK302")


def test_hk303_sys_argv_in_both_spellings(hook_repo):
    source = "import sys\nfrom sys import argv\nmode = sys.argv[1]\nprint(argv)\n"
    found = python_findings(hook_repo, source, "HK303")
    assert [f.line for f in found] == [2, 3, 4]
    assert all(f.severity == "warning" for f in found)


def test_hk303_not_for_other_sys_attributes(hook_repo):
    assert not python_findings(hook_repo, "import sys\nsys.exit(0)\n", "HK303")


def test_hk308_settings_read_from_the_environment_without_a_default(hook_repo):
    source = (
        "import os\n"
        'a = os.environ["SIEM_TOKEN"]\n'
        'b = os.getenv("SIEM_URL")\n'
        'c = os.environ.get("SIEM_KEY", None)\n'
        "from os import environ\n"
        "d = environ.get(NAME)\n"
    )
    found = python_findings(hook_repo, source, "HK308")
    assert [f.line for f in found] == [2, 3, 4, 6]
    assert [f.column for f in found] == [5, 5, 5, 5]
    assert all(f.severity == "warning" for f in found)
    # what it sees, exactly: how the setting is read, and what the hook gets without it
    assert found[0].message.startswith(
        'reads SIEM_TOKEN with os.environ["SIEM_TOKEN"], no default: a KeyError (exit 1)'
    )
    assert found[1].message.startswith(
        'reads SIEM_URL with os.getenv("SIEM_URL"), no default: None'
    )
    assert found[2].message.startswith(
        'reads SIEM_KEY with os.environ.get("SIEM_KEY", None), default None: None'
    )
    assert "docs/hoop-runtime.md section 3" in found[0].message
    # the fix: a default, then the safe ways to give a secret on the agent, never git
    fix = found[0].fix
    assert 'os.environ.get("SIEM_TOKEN", "")' in fix and "--env-mode clean" in fix
    assert "agent's own environment" in fix and "Secrets Manager" in fix
    assert "A secret written in the hook is in git" in fix


def test_hk308_not_for_the_payload_nor_a_setting_with_a_default_even_an_empty_one(hook_repo):
    """The templates read their settings as `os.environ.get("SIEM_TOKEN", "")` and stop
    with one line when it is empty: the hook decides what absence means."""
    source = (
        "import os\n"
        'p = os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]\n'
        'q = os.environ.get("REGION", "us-east-1")\n'
        'r = os.getenv("TIMEOUT", default="5")\n'
        's = os.environ.get("SIEM_TOKEN", "")\n'
    )
    assert not python_findings(hook_repo, source, "HK308")


def test_hk304_every_way_of_reading_stdin(hook_repo):
    source = (
        "import json, sys\n"
        "a = sys.stdin.read()\n"
        "b = input()\n"
        "c = json.load(sys.stdin)\n"
        "d = open(0).read()\n"
        'e = open("/dev/stdin").read()\n'
    )
    found = python_findings(hook_repo, source, "HK304")
    assert [f.line for f in found] == [2, 3, 4, 5, 6]
    assert all(f.severity == "error" for f in found)


def test_hk304_not_for_the_payload_variable(hook_repo):
    assert not python_findings(hook_repo, CLEAN_HOOK, "HK304")


def test_hk305_imports_of_repository_files(hook_repo):
    repo = hook_repo("import helper\nfrom common import send\nfrom . import util\n")
    repo.write("helper.py", "X = 1\n")
    repo.write("hoop-hooks/common.py", "def send(): pass\n")
    found = [f for f in of(static(repo), "HK305") if f.file == OPEN]
    assert [f.line for f in found] == [1, 2, 3]
    assert "helper" in found[0].message and "ModuleNotFoundError" in found[0].message
    assert "relative import" in found[2].message
    assert not [f for f in of(static(repo), "HK307") if f.file == OPEN]  # not also "third-party"


def test_hk305_not_for_a_guarded_import_or_a_stdlib_name(hook_repo):
    repo = hook_repo(
        "import json\ntry:\n    import helper\nexcept ImportError:\n    helper = None\n"
    )
    repo.write("helper.py", "X = 1\n")
    repo.write("json.py", "X = 1\n")  # `import json` gets the standard library on the agent
    assert "HK305" not in rules(static(repo))


def test_hk306_opening_files_beside_the_hook(hook_repo):
    source = (
        "import json, os\n"
        "from pathlib import Path\n"
        'config = json.load(open("config.json"))\n'
        'rules = (Path(__file__).parent / "rules.txt").read_text()\n'
        'data = Path("data/targets.csv").read_text()\n'
        'with open(os.path.join(os.path.dirname(__file__), "x.json")) as f:\n'
        "    pass\n"
    )
    found = python_findings(hook_repo, source, "HK306")
    assert [f.line for f in found] == [3, 4, 5, 6]
    assert "config.json" in found[0].message


def test_hk306_not_for_absolute_paths_or_writes(hook_repo):
    source = 'open("/etc/hosts").read()\nopen("hook.log", "a").write("x")\n'
    assert not python_findings(hook_repo, source, "HK306")


def test_hk307_modules_the_agent_lacks(hook_repo):
    source = "import json\nimport yaml\nfrom distutils import util\nimport httpx.auth\n"
    found = python_findings(hook_repo, source, "HK307")
    assert [f.line for f in found] == [2, 3, 4]
    assert all(f.severity == "error" for f in found)  # it fails on every session
    assert "3.12" in found[1].message
    assert "httpx.auth" in found[2].message
    # the message names what the agent does have, at the versions it has them
    assert "boto3 1.40.6" in found[0].message and "requests 2.32.4" in found[0].message


def test_hk307_not_for_the_agent_images_packages_or_a_guarded_import(hook_repo):
    source = (
        "import json, urllib.request, tomllib\n"
        "import requests\n"
        "import boto3\n"
        "from botocore.exceptions import ClientError\n"
        "try:\n"
        "    import yaml\n"
        "except ImportError:\n"
        "    yaml = None\n"
    )
    assert not python_findings(hook_repo, source, "HK307")


def test_a_rule_is_one_decorated_function_found_by_its_family(monkeypatch, hook_repo):
    """Registering a Python rule is all it takes: check_python runs it, with the id,
    severity and title given once, on the line the problem's node is on."""
    from hoophooks_dk.check import registry
    from hoophooks_dk.check.python import Script

    monkeypatch.setattr(registry, "RULES", dict(registry.RULES))

    @registry.rule("HK399", "info", "prints something")
    def prints(script: Script):
        import ast

        for node in ast.walk(script.tree):
            if isinstance(node, ast.Name) and node.id == "print":
                yield script.at(node, "prints", "do not")

    assert registry.RULES["HK399"] is prints and prints.family == "python"
    [found] = python_findings(hook_repo, "import os\n\nprint(1)\n", "HK399")
    assert (found.severity, found.line, found.message) == ("info", 3, "prints")


def test_every_rule_function_is_registered_once_with_its_family():
    from hoophooks_dk.check import git as git_rules
    from hoophooks_dk.check import layout, python, registry, run, template

    modules = {"layout": layout, "template": template, "python": python, "git": git_rules}
    modules["run"] = run
    for rule in RULES.values():
        assert rule.family in modules
        assert getattr(modules[rule.family], rule.function.__name__) is rule
    assert registry.family_rules("python")[0].id == "HK302"  # HK301 runs first, by hand


def test_every_registered_rule_has_a_test_that_makes_it_fire():
    """A rule added with @rule and no test of its own fails here: each id needs a
    ``test_hkNNN_...`` in the check tests (those assert the rule fires on its repo)."""
    from pathlib import Path

    here = Path(__file__).parent
    names = " ".join(p.read_text() for p in sorted(here.glob("test_check*.py")))
    untested = [rule for rule in RULES if f"def test_{rule.lower()}_" not in names]
    assert untested == []
