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
  env_mode=..., flow=...)``: settings for one test.

``siem`` and ``hook_payload`` are the old names of ``hoop_siem`` and ``hoop_payload``:
they still work, with a DeprecationWarning. The objects behind the fixtures (``Siem``,
``HoopHooks``) live in ``hoophooks_dk.testing.harness``.

One proxy, one certificate authority and one warm interpreter serve the whole pytest
process (per xdist worker: ephemeral ports, private temp dirs); each test starts from a
reset capture and sees only its own requests.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
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


#: The keyword arguments of ``@pytest.mark.hoop``.
MARKER_KEYS = ("strict", "default_status", "respond", "timeout", "env_mode", "flow")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hoop(strict=, default_status=, respond=, timeout=, env_mode=, flow=): "
        "hoophooks_dk settings for this test's capture and hooks",
    )


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
    """How hooks run (``--hoop-runner``, ``--hoop-sandbox``), with the settings file's
    ``python``; override it to choose."""
    from ..wiring import make_runner

    kind = pytestconfig.getoption("hoop_runner") or pytestconfig.getini("hoop_runner") or "auto"
    sandbox = bool(pytestconfig.getoption("hoop_sandbox") or pytestconfig.getini("hoop_sandbox"))
    capture = request.getfixturevalue("hoop_capture") if sandbox else None
    runner = make_runner(kind, hoop_settings.python, capture=capture, sandbox=sandbox)
    yield runner
    runner.close()


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


@pytest.fixture
def siem(hoop_siem: Siem) -> Siem:
    """Deprecated: ``hoop_siem``."""
    warnings.warn("the siem fixture is now hoop_siem", DeprecationWarning, stacklevel=2)
    return hoop_siem


def hoop_repo(config: pytest.Config) -> Path:
    """``--hoop-repo`` is relative to where pytest was invoked, ini ``hoop_repo`` to the
    rootdir (as pytest treats paths in each); without either, the git root above the
    rootdir (else above the invocation directory), as ``hookdk`` finds it."""
    return _hoop_repo(config)[0]


def _hoop_repo(config: pytest.Config) -> tuple[Path, str]:
    """The repository, and how it was chosen (for messages)."""
    from ..hooks import find_repo_root

    option = config.getoption("hoop_repo")
    if option:
        return (config.invocation_params.dir / option).resolve(), " (--hoop-repo)"
    ini = config.getini("hoop_repo")
    if ini:
        return (config.rootpath / ini).resolve(), f" (ini hoop_repo = {ini})"
    for start in (config.rootpath, config.invocation_params.dir):
        root = find_repo_root(start)
        if (root / ".git").exists():
            return root, f" (the git root above {start})"
    return config.rootpath, " (pytest's rootdir: no git repository above it)"


@pytest.fixture
def hoop_hooks(
    pytestconfig: pytest.Config,
    request: pytest.FixtureRequest,
    hoop_siem: Siem,
    hoop_capture: Capture,
    hoop_runner: Runner,
    hoop_settings: RunSettings,
) -> HoopHooks:
    """Fires events at the runbooks repository, against this test's capture, with the
    settings file's timeout, environment and mode under the ``hoop`` marker's."""
    repo, found_by = _hoop_repo(pytestconfig)
    marked = _marker(request)
    options: dict[str, Any] = {k: marked[k] for k in ("env_mode", "flow") if k in marked}
    if "timeout" in marked:
        options["timeout"] = float(marked["timeout"])
    fail = partial(pytest.fail, pytrace=False)
    return HoopHooks(
        repo, hoop_runner, hoop_siem, hoop_capture, found_by,
        settings=hoop_settings, fail=fail, **options,
    )  # fmt: skip


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
