"""The README's and the docs' examples are true: run as a user runs them, they pass, or
print what the page says they print."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hook_sources import DOCS_HOOK
from run_hookdk import hookdk
from test_templates import counts, run_generated_suite

from hoophooks_dk.scaffold.writer import init

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def python_blocks(page: Path = README) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)


def doc_block(needle: str) -> str:
    """The one python block of the README or a docs page that holds ``needle``."""
    pages = [README, *sorted(DOCS.glob("*.md"))]
    found = [block for page in pages for block in python_blocks(page) if needle in block]
    assert len(found) == 1, (needle, len(found))
    return found[0]


def shell_block(after: str) -> list[str]:
    """The commands of the README's first ```sh block after the line ``after``."""
    text = README.read_text()
    block = re.search(r"```sh\n(.*?)```", text[text.index(after) :], re.DOTALL)
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_the_readme_stays_short_and_starts_with_the_hook_author():
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) <= 250
    assert text.index("## Quick start") < text.index("## Working on the kit")
    assert lines.index("## Quick start") < 60
    # exactly two set-up commands, each one line a fresh machine can run
    setup = text[text.index("## Working on the kit") :]
    commands = re.findall(r"```sh\n(.*?)\n```", setup, re.DOTALL)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/hookdk demo",
        "python3 -m venv .venv && .venv/bin/pip install '.[dev]' && "
        '.venv/bin/pytest -n auto -m "not go and not browser and not collector and not mutants"',
    ]


def test_ci_runs_the_readmes_test_command_exactly():
    text = README.read_text()
    setup = text[text.index("## Working on the kit") :]
    test_command = re.findall(r"```sh\n(.*?)\n```", setup, re.DOTALL)[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"{test_command} || exit 1" in ci.splitlines()


def test_every_reference_link_names_a_page_that_exists():
    links = re.findall(r"\]\((docs/[\w.-]+\.md)\)", README.read_text())
    assert {f"docs/{p.name}" for p in DOCS.glob("*.md")} == set(links)
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (DOCS / target).is_file(), (page.name, target)


@pytest.mark.slow
def test_the_quick_start_runs_as_written(runbooks):
    """init -> fire -> pytest -> check, each command as the README writes it, in a fresh
    repository, with nothing configured by hand: each exits 0."""
    commands = shell_block("## Quick start")
    assert [c.split()[0] for c in commands] == ["hookdk", "hookdk", "pytest", "hookdk", "git"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for command in commands[:-1]:
        words = shlex.split(command)
        argv = [sys.executable, "-m", "hoophooks_dk" if words[0] == "hookdk" else "pytest"]
        argv += words[1:] + (["-p", "no:cacheprovider"] if words[0] == "pytest" else [])
        done = subprocess.run(
            argv, cwd=runbooks.root, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-2000:])
        if words[:2] == ["hookdk", "fire"]:  # the delivery table, as the README shows it
            shown = README.read_text().split("3. **fire**")[1].split("```")[1].splitlines()
            table = [line.strip() for line in shown if line.strip()]
            table = table[[line.startswith("sent:") for line in table].index(True) :]
            assert len(table) == 3
            for line in table:
                assert line in done.stdout, (line, done.stdout)


def test_the_documentations_hook_fails_fire_as_the_readme_shows(hook_repo):
    source = doc_block('"curl",')
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(DOCS_HOOK))  # the tests' copy
    repo = hook_repo(source)

    done = hookdk("fire", "session-open", "--repo", str(repo.root))

    assert done.returncode == 1, done
    shown = README.read_text().split("hookdk fire session-open\n```\n\n```\n")[1].split("```")[0]
    for line in shown.splitlines():
        if line.strip() and line.strip() != "..." and "ms (" not in line:
            assert line.strip() in done.stdout, (line, done.stdout)


def test_the_readmes_fixed_hook_passes(hook_repo):
    repo = hook_repo(doc_block("opened.get"))
    for event in ("session-open", "session-close"):
        done = hookdk("fire", event, "--repo", str(repo.root))
        assert done.returncode == 0, done
        assert done.stdout.startswith(f"ok {event}") and "LEAKS" not in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("needle", "template"),
    [
        ("def test_close_is_forwarded_with_its_id", "siem-http"),  # README
        ("def test_close_is_forwarded(", "siem-http"),  # docs/pytest.md
        ("def test_close_reaches_the_siem_as_cef", "syslog-cef"),  # docs/capture.md
    ],
)
def test_the_plugin_examples_pass(runbooks, needle, template):
    example = doc_block(needle)
    init(runbooks.root, template)
    runbooks.commit("hookdk init")
    (runbooks.root / "tests" / "hooks" / "test_readme_example.py").write_text(example)

    done = run_generated_suite(runbooks.root, "tests/hooks/test_readme_example.py")

    defined = len(re.findall(r"^def test_", example, re.MULTILINE))
    assert counts(done.stdout) == f"{defined} passed", done.stdout[-3000:]


def test_the_library_example_prints_what_it_says_in_a_fresh_repo(runbooks):
    """docs/library.md, run as a user runs it: from the root of a repository `hookdk
    init` just wrote, in its own interpreter."""
    example = doc_block("emulator.fire(")
    done = hookdk("init", cwd=runbooks.root)
    assert done.returncode == 0, done.stderr
    runbooks.commit("hookdk init")

    ran = subprocess.run(
        [sys.executable, "-c", example], cwd=runbooks.root, capture_output=True, text=True
    )

    assert ran.returncode == 0, ran.stderr
    printed = "0 [('https://siem.example.com/hoop/events', 202)]"
    assert ran.stdout == printed + "\n"
    assert f"prints\n`{printed}`" in (DOCS / "library.md").read_text()  # the page says so


def test_the_python_examples_import_only_public_names():
    """Users copy these: every name they import from the kit is in its ``__all__``."""
    import hoophooks_dk

    imported = []
    for page in [README, *DOCS.glob("*.md")]:
        for block in python_blocks(page):
            for node in ast.walk(ast.parse(block)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hoop"):
                    assert node.module == "hoophooks_dk", node.module
                    imported += [alias.name for alias in node.names]
                elif isinstance(node, ast.Import):
                    assert not any(a.name.startswith("hoophooks_dk.") for a in node.names)
    assert imported and set(imported) <= set(hoophooks_dk.__all__)
