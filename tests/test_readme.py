"""The README's examples are true: they pass (or print what it says) against a freshly
initialised repo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from run_hookdk import hookdk
from test_templates import counts, run_generated_suite

from hoophooks_dk.scaffold.writer import init

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


@pytest.mark.slow
def test_the_readme_plugin_example_passes_on_the_default_template(runbooks):
    example = next(block for block in python_blocks() if "def test_close_is_forwarded" in block)
    init(runbooks.root, "siem-http")
    runbooks.commit("hookdk init")
    (runbooks.root / "tests" / "hooks" / "test_readme_example.py").write_text(example)

    done = run_generated_suite(runbooks.root, "tests/hooks/test_readme_example.py")

    defined = len(re.findall(r"^def test_", example, re.MULTILINE))
    assert counts(done.stdout) == f"{defined} passed", done.stdout[-3000:]


def test_the_readme_library_example_prints_what_it_says_in_a_fresh_repo(runbooks):
    """ "Use the kit from Python", run as a user runs it: from the root of a repository
    `hookdk init` just wrote, in its own interpreter."""
    example = next(block for block in python_blocks() if "emulator.fire(" in block)
    done = hookdk("init", cwd=runbooks.root)
    assert done.returncode == 0, done.stderr
    runbooks.commit("hookdk init")

    ran = subprocess.run(
        [sys.executable, "-c", example], cwd=runbooks.root, capture_output=True, text=True
    )

    assert ran.returncode == 0, ran.stderr
    printed = "0 [('https://siem.example.com/hoop/events', 202)]"
    assert ran.stdout == printed + "\n"
    assert f"prints\n`{printed}`" in README.read_text()  # the README says so


@pytest.mark.slow
def test_the_readme_syslog_example_passes_on_syslog_cef(runbooks):
    example = next(block for block in python_blocks() if "def test_close_reaches_the_siem" in block)
    init(runbooks.root, "syslog-cef")
    runbooks.commit("hookdk init")
    (runbooks.root / "tests" / "hooks" / "test_readme_example.py").write_text(example)

    done = run_generated_suite(runbooks.root, "tests/hooks/test_readme_example.py")

    defined = len(re.findall(r"^def test_", example, re.MULTILINE))
    assert counts(done.stdout) == f"{defined} passed", done.stdout[-3000:]


def test_the_readmes_python_examples_import_only_public_names():
    """Users copy these: every name they import from the kit is in its ``__all__``."""
    import ast

    import hoophooks_dk

    imported = []
    for block in python_blocks():
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hoophooks"):
                assert node.module == "hoophooks_dk", node.module
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("hoophooks_dk.") for a in node.names)
    assert imported and set(imported) <= set(hoophooks_dk.__all__)
