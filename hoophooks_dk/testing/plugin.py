"""The pytest plugin: fixtures that fire events through real hooks and capture the SIEM.

Registered through the ``pytest11`` entry point, so installing the kit is enough. Every
name starts with ``hoop_``:

- ``hoop_hooks``: fires events at the runbooks repo (``--hoop-repo``, ini ``hoop_repo``,
  default the git root above the rootdir, as the CLI finds it) and returns ``FireResult``
  objects with the requests each sent and the payload secrets among them (``leaks``);
- ``hoop_siem``: this test's view of the capture (``requests``, ``router``, ``strict``,
  ``assert_no_leaks()``), wired into ``hoop_hooks``; at teardown it re-raises what the
  test's routes raised and fails when a request is still in flight;
- ``hoop_payload``: a factory for complete payloads;
- ``hoop_settings``: the repository's settings file (``hookdk.toml`` or
  ``[tool.hookdk]``: ``python``, ``timeout``, ``env``, ``env_mode``, ``respond``), read
  as ``hookdk fire`` reads it, so ``pytest`` and ``hookdk fire`` run the same hooks the
  same way; the marker and the fixtures' arguments come on top;
- ``hoop_capture`` and ``hoop_runner``: the session's capture and runner, built by
  ``hoophooks_dk.wiring`` from ``hoop_settings``; fixtures a conftest.py may override
  (same name, session scope);
- ``@pytest.mark.hoop(strict=..., default_status=..., respond=..., timeout=...,
  env_mode=..., flow=...)``: settings for one test;
- ``--hoop-report DIR``: one HTML page per test that fired hooks (its timeline,
  payloads, output, requests and leaks, and the test's outcome) and ``DIR/index.html``,
  for a CI job to keep as an artifact (``hoophooks_dk.report``).

``siem`` and ``hook_payload`` are the old names of ``hoop_siem`` and ``hoop_payload``:
they still work, with a DeprecationWarning. The objects behind the fixtures (``Siem``,
``HoopHooks``) live in ``hoophooks_dk.testing.harness``.

One proxy, one certificate authority and one warm interpreter serve the whole pytest
process (per xdist worker: ephemeral ports, private temp dirs); each test starts from a
reset capture and sees only its own requests.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .harness import HoopHooks, Siem

if TYPE_CHECKING:  # the capture pulls in respx and cryptography: only import when used
    from ..capture import Capture
    from ..runtime import Runner
    from ..settings import RunSettings

__all__ = ["HoopHooks", "Siem"]  # the fixtures' types, re-exported for old imports

RUNNERS = ("auto", "fast", "subprocess")  # wiring.RUNNERS, without importing it at start-up


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hoophooks_dk", "Hoop runbook hooks")
    group.addoption("--hoop-repo", help="Runbooks repository whose hooks the fixtures fire.")
    group.addoption("--hoop-runner", choices=RUNNERS, help="How hooks run (default: auto).")
    parser.addini("hoop_repo", "Runbooks repository (relative to the rootdir).")
    parser.addini("hoop_runner", "auto | fast | subprocess", default="auto")
    group.addoption(
        "--hoop-sandbox",
        action="store_true",
        default=None,
        help="Linux: run hooks in a network namespace where only the capture answers.",
    )
    parser.addini("hoop_sandbox", "Run hooks sandboxed (Linux network namespace)", type="bool")
    group.addoption(
        "--hoop-report",
        metavar="DIR",
        help="Write an HTML page for each test that fired hooks (timeline, payloads, "
        "requests, leaks) and DIR/index.html; pages of an earlier run there are replaced.",
    )


#: The keyword arguments of ``@pytest.mark.hoop``.
MARKER_KEYS = ("strict", "default_status", "respond", "timeout", "env_mode", "flow")


#: The environment as pytest started, before any test changed it (see ``hoop_hooks``).
ENVIRON_AT_START = pytest.StashKey[dict[str, str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ENVIRON_AT_START] = dict(os.environ)
    config.addinivalue_line(
        "markers",
        "hoop(strict=, default_status=, respond=, timeout=, env_mode=, flow=): "
        "hoophooks_dk settings for this test's capture and hooks",
    )
    folder = _report_folder(config)
    if folder is not None and not hasattr(config, "workerinput"):  # xdist: the controller
        from ..errors import HookdkError
        from ..report.folder import prepare

        try:
            prepare(folder)
        except HookdkError as error:
            raise pytest.UsageError(str(error)) from None


def _report_folder(config: pytest.Config) -> Path | None:
    """``--hoop-report DIR``, relative to where pytest was invoked."""
    folder = config.getoption("hoop_report", None)
    return (config.invocation_params.dir / folder).resolve() if folder else None


_OUTCOME = pytest.StashKey["pytest.TestReport"]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep the test's own outcome (the call, or a setup that failed) for its page."""
    report = yield
    if report.when == "call" or report.failed:
        item.stash[_OUTCOME] = report
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = _report_folder(session.config)
    if folder is None or hasattr(session.config, "workerinput") or not folder.is_dir():
        return
    from ..report.folder import write_index

    path, count = write_index(folder, f"hoop hooks in {session.config.rootpath.name}")
    session.config.stash[_INDEX] = (path, count)


_INDEX = pytest.StashKey[tuple[Path, int]]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _INDEX in config.stash:
        path, count = config.stash[_INDEX]
        terminalreporter.write_line(f"hoophooks_dk: {count} test page(s), see {path}")


def _marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``hoop`` marker's settings for this test (the closest marker wins)."""
    marker = request.node.get_closest_marker("hoop")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.hoop takes keyword arguments only")
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.hoop: unknown setting {unknown[0]!r} (known: {', '.join(MARKER_KEYS)})"
        )
    return dict(marker.kwargs)


@pytest.fixture(scope="session")
def hoop_settings(pytestconfig: pytest.Config) -> RunSettings:
    """The runbooks repository's settings file, read as ``hookdk fire`` reads it (with no
    command-line options): the interpreter, timeout, environment and answers every test
    starts from. A settings file with an error fails each test with its one message."""
    from ..errors import HookdkError
    from ..settings import resolve

    repo, _ = _hoop_repo(pytestconfig)
    try:
        return resolve(repo)
    except HookdkError as error:
        pytest.fail(f"hoophooks_dk: {error}", pytrace=False)


@pytest.fixture(scope="session")
def hoop_capture(hoop_settings: RunSettings) -> Iterator[Capture]:
    """The session's capture, answering as the settings file's ``respond`` says (a test's
    own routes first); override it (session scope) to start it your way."""
    from ..runtime.interrupts import sigterm_interrupts
    from ..wiring import open_capture

    # A SIGTERM'd pytest run unwinds like Ctrl-C: fixtures close, temporary files go.
    with sigterm_interrupts(), open_capture(hoop_settings, syslog=True) as capture:
        yield capture


@pytest.fixture(scope="session")
def hoop_runner(
    pytestconfig: pytest.Config, request: pytest.FixtureRequest, hoop_settings: RunSettings
) -> Iterator[Runner]:
    """How hooks run (``--hoop-runner``, ``--hoop-sandbox``): in the agent runtime (built
    on first use, once per machine), or with the settings file's ``python``; override it
    to choose."""
    from ..wiring import make_runner

    kind = pytestconfig.getoption("hoop_runner") or pytestconfig.getini("hoop_runner") or "auto"
    sandbox = bool(pytestconfig.getoption("hoop_sandbox") or pytestconfig.getini("hoop_sandbox"))
    capture = request.getfixturevalue("hoop_capture") if sandbox else None
    progress = partial(_progress, pytestconfig)  # building the agent runtime, once per machine
    runner = make_runner(
        kind, hoop_settings.python, capture=capture, sandbox=sandbox, progress=progress
    )
    yield runner
    runner.close()


def _progress(config: pytest.Config, line: str) -> None:
    """A line of the agent runtime's build, shown on the terminal past pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else _nothing():
        reporter.write_line(f"hoophooks_dk: agent runtime: {line}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@pytest.fixture
def hoop_siem(hoop_capture: Capture, request: pytest.FixtureRequest) -> Iterator[Siem]:
    """This test's view of the capture, set up by the ``hoop`` marker. Teardown re-raises
    the first exception the test's routes raised, fails when a request is still in
    flight, and in strict mode lists the requests no route answered."""
    hoop_capture.reset()
    view = Siem(hoop_capture)
    settings = _marker(request)
    if "strict" in settings:
        view.strict = bool(settings["strict"])
    if "default_status" in settings:
        view.default_status = int(settings["default_status"])
    if "respond" in settings:
        view.respond(settings["respond"])
    yield view
    view.finish()
    if view.strays:
        warnings.warn(StraysWarning(_strays_message(view.strays)), stacklevel=1)


def _named(record: Any) -> str:
    """A request, a connection or datagram, or a syslog message, in a few words."""
    if hasattr(record, "url"):
        return f"{record.method} {record.url}"
    if hasattr(record, "leak_source"):
        return record.leak_source()[0]
    return f"syslog message #{record.index} ({record.transport})"


class StraysWarning(UserWarning):
    """Something that is not one of the test's hook runs sent to the capture during it."""


def _strays_message(strays: list) -> str:
    listed = "; ".join(_named(stray) for stray in strays[:5])
    more = f" and {len(strays) - 5} more" if len(strays) > 5 else ""
    return (
        f"hoop_siem: {len(strays)} request(s) or message(s) came from outside this test's "
        f"hook runs (hoop_siem.strays, not in hoop_siem.requests): {listed}{more}"
    )


@pytest.fixture
def siem(hoop_siem: Siem) -> Siem:
    """Deprecated: ``hoop_siem``."""
    warnings.warn("the siem fixture is now hoop_siem", DeprecationWarning, stacklevel=2)
    return hoop_siem


def hoop_repo(config: pytest.Config) -> Path:
    """``--hoop-repo`` is relative to where pytest was invoked, ini ``hoop_repo`` to the
    rootdir (as pytest treats paths in each); without either, as ``hookdk`` finds it: the
    nearest folder with ``hoop-hooks/`` above the invocation directory (else the rootdir),
    up to the git root; else the git root."""
    return _hoop_repo(config)[0]


def _hoop_repo(config: pytest.Config) -> tuple[Path, str]:
    """The repository, and how it was chosen (for messages)."""
    from ..hooks import find_repo_root

    option = config.getoption("hoop_repo")
    if option:
        return (config.invocation_params.dir / option).resolve(), " (repository from --hoop-repo)"
    ini = config.getini("hoop_repo")
    if ini:
        return (config.rootpath / ini).resolve(), f" (repository from ini hoop_repo = {ini})"
    starts = (config.invocation_params.dir, config.rootpath)
    for start in starts:
        root = find_repo_root(start)
        if (root / "hoop-hooks").is_dir():
            return root, f" (repository: the nearest folder with hoop-hooks/ above {start})"
    for start in starts:
        root = find_repo_root(start)
        if (root / ".git").exists():
            return root, f" (repository: the git root above {start})"
    return config.rootpath, " (repository: pytest's rootdir, with no git repository above it)"


@pytest.fixture
def hoop_hooks(
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
    hoop_siem: Siem,
    hoop_capture: Capture,
    hoop_runner: Runner,
    hoop_settings: RunSettings,
) -> Iterator[HoopHooks]:
    """Fires events at the runbooks repository, against this test's capture, with the
    settings file's timeout, environment and mode under the ``hoop`` marker's; a setting
    the test itself sets or removes in ``os.environ`` wins over the file's ``env``."""
    repo, found_by = _hoop_repo(pytestconfig)
    at_start = pytestconfig.stash.get(ENVIRON_AT_START, None)
    if at_start is not None:
        _settings_in_environ(hoop_settings, request.getfixturevalue("monkeypatch"), at_start)
    marked = _marker(request)
    options: dict[str, Any] = {k: marked[k] for k in ("env_mode", "flow") if k in marked}
    if "timeout" in marked:
        options["timeout"] = float(marked["timeout"])
    fail = partial(pytest.fail, pytrace=False)
    hooks = HoopHooks(
        repo, hoop_runner, hoop_siem, hoop_capture, found_by,
        settings=hoop_settings, fail=fail, **options,
        environ_at_start=at_start,
    )  # fmt: skip
    yield hooks
    folder = _report_folder(pytestconfig)
    if folder is not None and hooks.fired:
        _write_test_page(request.node, hooks, folder, pytestconfig)


def _settings_in_environ(
    settings: RunSettings, monkeypatch: pytest.MonkeyPatch, at_start: dict[str, str]
) -> None:
    """The settings file's ``env`` in ``os.environ`` for the test's length, where nothing
    before the test set the variable itself: so the test's own ``monkeypatch.delenv``
    takes a file's setting away (it could not take away what was never there), and
    ``setenv`` pins one. The test's ``monkeypatch`` is the one used, so its undo puts
    ``os.environ`` back as it was, in one order."""
    for name, value in settings.env.items():
        if os.environ.get(name) == at_start.get(name):
            monkeypatch.setenv(name, value)


def _write_test_page(
    item: pytest.Item, hooks: HoopHooks, folder: Path, config: pytest.Config
) -> None:
    """This test's page: its outcome (and failure), then each fire and session it made."""
    from dataclasses import replace

    from ..report.folder import write_test_page
    from ..report.model import report_page, run_info
    from ..report.views import TestView

    outcome = item.stash.get(_OUTCOME, None)
    failure = (
        outcome.longreprtext[-FAILURE_CHARS:] if outcome is not None and outcome.failed else ""
    )
    word = outcome.outcome if outcome is not None else "passed"
    settings = replace(hooks.settings, timeout=hooks.timeout, env_mode=hooks.env_mode)
    sandbox = bool(config.getoption("hoop_sandbox") or config.getini("hoop_sandbox"))
    runner = config.getoption("hoop_runner") or config.getini("hoop_runner") or "auto"
    info = run_info(
        settings,
        repo=hooks.repo,
        runner="subprocess" if sandbox else runner,
        network="sandboxed" if sandbox else "captured",
        flow=hooks.flow,
        command=f"pytest {item.nodeid}",
    )
    test = TestView(item.nodeid, word, failure)
    page = report_page(hooks.fired, title=item.nodeid, info=info, test=test)
    write_test_page(folder, page)


#: Characters of a failure's report kept on a test's page (its end: where it failed).
FAILURE_CHARS = 20_000


@pytest.fixture
def hoop_payload(pytestconfig: pytest.Config):
    """``hoop_payload("session-close", exit_code=1)``: a complete payload, as Hoop builds it.

    ``input_file`` is the repo's hook for that event, rendered, so firing the payload
    sends the hook its own source as Hoop does.
    """
    repo = hoop_repo(pytestconfig)

    def build(event: str, **fields: Any) -> dict[str, Any]:
        from ..emulator import build_payload
        from ..hooks import read_hooks
        from ..payload import input_file_text
        from ..render import load

        script = input_file_text(load(read_hooks(repo)).get(event, b""))
        return build_payload(event, input_file=script, **fields)

    return build


@pytest.fixture
def hook_payload(hoop_payload):
    """Deprecated: ``hoop_payload``."""
    warnings.warn("the hook_payload fixture is now hoop_payload", DeprecationWarning, stacklevel=2)
    return hoop_payload
