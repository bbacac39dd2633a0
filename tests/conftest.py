"""Shared fixtures: throwaway runbooks repositories with real git history."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import git
import pytest

pytest_plugins = ["pytester"]

# Hooks run as `python3`, as on the agent. Resolve it to the interpreter running the tests
# (a real python3, with the test extra's clients installed) rather than whatever wrapper
# comes first on PATH: version managers' shims cost a second interpreter start per hook.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

# pip keeps its downloads in the user's cache folder: keep using the real one (it is pip's,
# not the kit's), so that building the agent runtime below downloads nothing twice.
os.environ.setdefault(
    "PIP_CACHE_DIR",
    str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"),
)

# The kit keeps a CA (and Hypothesis's caches) in the user's cache folder: the suite uses a
# folder of its own, so it neither reads nor leaves anything in the real one.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="hookdk-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)

# Hooks run in the agent runtime by default: the suite builds one, once per session, in a
# folder of its own that pytest-xdist's workers inherit (they start after this import in
# the controller, and find the variable set).
if "HOOKDK_AGENT_RUNTIME" not in os.environ:
    os.environ["HOOKDK_AGENT_RUNTIME"] = tempfile.mkdtemp(prefix="hookdk-tests-agent-")
    atexit.register(shutil.rmtree, os.environ["HOOKDK_AGENT_RUNTIME"], ignore_errors=True)

# A suite started as a shell's background job (no job control) inherits SIGINT and SIGQUIT
# ignored, and so would every hookdk and pytest the tests start: an ignored signal stays
# ignored across exec, and a SIGINT could not stop them as the signal tests expect of a
# terminal's Ctrl-C. The tests run as from a terminal (a handled signal is reset by exec).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)

ECHO_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["id"], payload["sid"])
"""


class RunbooksRepo:
    """A git repository laid out as Hoop expects, for tests to write hooks into."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git = git.Repo.init(root, initial_branch="main")
        with self.git.config_writer() as config:
            config.set_value("user", "name", "hookdk tests")
            config.set_value("user", "email", "tests@example.com")

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text))
        return path

    def hooks(
        self, open_source: str | bytes | None = None, close_source: str | bytes | None = None
    ):
        if open_source is not None:
            self.write("hoop-hooks/session-open.runbook.py", open_source)
        if close_source is not None:
            self.write("hoop-hooks/session-close.runbook.py", close_source)
        return self

    def commit(self, message: str = "hooks") -> str:
        self.git.git.add(A=True)
        self.git.index.commit(message)
        return self.git.head.commit.hexsha


@pytest.fixture
def runbooks(tmp_path: Path) -> RunbooksRepo:
    return RunbooksRepo(tmp_path / "runbooks")


@pytest.fixture
def capture():
    """A running capture, stopped after the test (the capture tests' common fixture)."""
    from hoophooks_dk.capture.capture import Capture

    with Capture() as running:
        yield running


@pytest.fixture
def echo_repo(runbooks: RunbooksRepo) -> RunbooksRepo:
    """Both hooks print the payload's id and sid."""
    return runbooks.hooks(ECHO_HOOK, ECHO_HOOK)


@pytest.fixture
def hook_repo(runbooks: RunbooksRepo) -> Callable[[str], RunbooksRepo]:
    """Both hooks run the same given source."""

    def make(source: str | bytes) -> RunbooksRepo:
        return runbooks.hooks(source, source)

    return make


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite runs real curl; say so plainly rather than skip what depends on it. The
    controller (or a run without xdist) builds the agent runtime, once for the session,
    before any worker starts."""
    import shutil

    if shutil.which("curl") is None:
        raise pytest.UsageError("the tests need curl on PATH (hooks in the wild call it)")
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller built it
    from hoophooks_dk.errors import HookdkError
    from hoophooks_dk.runtime import agent

    reporter = session.config.pluginmanager.getplugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    try:
        agent.ensure(lambda line: write(f"agent runtime: {line}"))
    except HookdkError as error:
        raise pytest.UsageError(f"the tests run hooks in the agent runtime: {error}") from None
