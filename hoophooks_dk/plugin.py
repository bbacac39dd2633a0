"""The pytest plugin: fixtures that fire events through real hooks and capture the SIEM.

Registered through the ``pytest11`` entry point, so installing the kit is enough:

- ``hoop_hooks``: fires events at the runbooks repo (``--hoop-repo``, ini ``hoop_repo``,
  default the git root above the rootdir, as the CLI finds it) and returns ``FireResult``
  objects with the requests each sent and the payload secrets among them (``leaks``);
- ``siem``: this test's view of the capture (``requests``, ``router``, ``strict``,
  ``syslog``, ``assert_no_leaks()``), wired into ``hoop_hooks``;
- ``hook_payload``: a factory for complete payloads.

One proxy, one certificate authority and one warm interpreter serve the whole pytest
process (per xdist worker: ephemeral ports, private temp dirs); each test starts from a
reset capture and sees only its own requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .runner import DEFAULT_TIMEOUT

if TYPE_CHECKING:  # the capture pulls in respx and cryptography: only import when used
    from .capture import Capture, CapturedRequest
    from .emulator import Emulator, FireResult
    from .fuzz import FuzzReport
    from .runner import Runner
    from .syslog_receiver import SyslogMessage, SyslogReceiver

RUNNERS = ("auto", "fast", "subprocess")


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


class Siem:
    """What one test sees of the capture: its own requests, routes and leak canaries."""

    def __init__(self, capture: Capture) -> None:
        from .payload import CANARY_SECRETS, b64

        self._capture = capture
        self._mark = capture.mark()
        self.syslog = SiemSyslog(capture.syslog)
        self.canaries: dict[str, str] = {
            f'connection_envs["{key}"]': b64(value) for key, value in CANARY_SECRETS.items()
        }

    @property
    def requests(self) -> list[CapturedRequest]:
        return self._capture.requests_since(self._mark)

    @property
    def router(self) -> Any:
        return self._capture.router

    @property
    def strict(self) -> bool:
        return self._capture.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._capture.strict = value

    @property
    def default_status(self) -> int:
        return self._capture.default_status

    @default_status.setter
    def default_status(self, value: int) -> None:
        self._capture.default_status = value

    def assert_no_leaks(self) -> None:
        """Fail when a connection secret or a hook's source shows up in any request."""
        from .leaks import assert_no_leaks

        assert_no_leaks([*self.requests, *self.syslog.messages], self.canaries)

    def _saw(self, result: FireResult) -> None:
        from .payload import canaries

        self.canaries.update(canaries(result.payload))


class SiemSyslog:
    """What one test sees of the syslog receiver: the messages this test's hooks sent
    (``siem.syslog[0]``, ``len(siem.syslog)``, iteration), and a collector that is down."""

    def __init__(self, receiver: SyslogReceiver | None) -> None:
        self.receiver = receiver
        self._mark = receiver.mark() if receiver is not None else 0

    @property
    def messages(self) -> list[SyslogMessage]:
        return self.receiver.messages_since(self._mark) if self.receiver is not None else []

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[SyslogMessage]:
        return iter(self.messages)

    def __getitem__(self, index: int) -> SyslogMessage:
        return self.messages[index]

    def refuse_connections(self, count: int) -> None:
        """The next ``count`` TCP or TLS connections are reset at once (a collector down)."""
        self._running().refuse_connections(count)

    @property
    def unclean_closes(self) -> int:
        """TLS connections closed without close_notify in this test (RFC 5425 section 4.4:
        a sender MUST send it; without it a reset can cut the last message short)."""
        return self._running().unclean_closes

    @property
    def refused(self) -> int:
        """How many connections were refused so far in this test."""
        return self._running().refused

    def _running(self) -> SyslogReceiver:
        if self.receiver is None:
            raise RuntimeError("this capture has no syslog receiver (Capture(syslog=True))")
        return self.receiver


class HoopHooks:
    """Fires events at one runbooks repository, against this test's capture."""

    def __init__(
        self, repo: Path, runner: Runner, siem: Siem, capture: Capture, found_by: str = ""
    ) -> None:
        self.repo = repo
        self.siem = siem
        self._runner = runner
        self._capture = capture
        self._found_by = found_by  # how the repo was chosen, for a missing hook's message

    def emulator(self, *, ref: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Emulator:
        from .emulator import Emulator

        return Emulator(
            self.repo, ref=ref, timeout=timeout, runner=self._runner, capture=self._capture
        )

    def fire(
        self,
        event: str,
        payload: dict[str, Any] | None = None,
        *,
        ref: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        **fields: Any,
    ) -> FireResult:
        """Fire ``event``; ``fields`` set the event's fields by name (``exit_code=1``), top-level
        keys (``sid=...``), or dotted paths (``**{"event_session_open.verb": "connect"}``)."""
        with self._hook_must_exist():
            result = self.emulator(ref=ref, timeout=timeout).fire(event, payload, **fields)
        self.siem._saw(result)
        return result

    def session(
        self, *, review: bool = False, ref: str | None = None, **options: Any
    ) -> list[FireResult]:
        """A session's whole life; with ``review=True`` session-open fires twice."""
        with self._hook_must_exist():
            results = self.emulator(ref=ref).session(review=review, **options)
        for result in results:
            self.siem._saw(result)
        return results

    def fuzz(
        self,
        event: str,
        *,
        examples: int = 100,
        seed: int | None = None,
        ref: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        allow_leaks: bool = False,
    ) -> FuzzReport:
        """Fire ``examples`` generated payloads at the hook; ``.check()`` the report. A
        payload secret in a request is a failure unless ``allow_leaks``."""
        from .fuzz import fuzz

        with self._hook_must_exist():
            return fuzz(
                self.emulator(ref=ref, timeout=timeout),
                event,
                examples=examples,
                seed=seed,
                allow_leaks=allow_leaks,
            )

    @contextmanager
    def _hook_must_exist(self) -> Iterator[None]:
        """A missing hook is the test's setup being wrong, not the hook failing: one line
        naming where the kit looked and how to point it elsewhere, no traceback."""
        from .errors import HookNotFound

        try:
            yield
        except HookNotFound as error:
            pytest.fail(
                f"{error}\nhoop_hooks looked in {self.repo}{self._found_by}; point it at "
                "your runbooks repository with --hoop-repo DIR (or ini hoop_repo)",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def _hookdk_capture() -> Iterator[Capture]:
    from .capture import Capture
    from .interrupts import sigterm_interrupts

    # A SIGTERM'd pytest run unwinds like Ctrl-C: fixtures close, temporary files go.
    with sigterm_interrupts(), Capture(syslog=True) as capture:
        yield capture


@pytest.fixture(scope="session")
def _hookdk_runner(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Iterator[Runner]:
    from .forkserver import make_runner

    kind = pytestconfig.getoption("hoop_runner") or pytestconfig.getini("hoop_runner") or "auto"
    if pytestconfig.getoption("hoop_sandbox") or pytestconfig.getini("hoop_sandbox"):
        from .sandbox import sandboxed_runner

        runner = sandboxed_runner("python3", request.getfixturevalue("_hookdk_capture"))
    else:
        runner = make_runner(kind, "python3")
    yield runner
    runner.close()


@pytest.fixture
def siem(_hookdk_capture: Capture) -> Iterator[Siem]:
    _hookdk_capture.reset()
    view = Siem(_hookdk_capture)
    yield view
    _hookdk_capture.wait_idle()
    _hookdk_capture.check_strict()


def hoop_repo(config: pytest.Config) -> Path:
    """``--hoop-repo`` is relative to where pytest was invoked, ini ``hoop_repo`` to the
    rootdir (as pytest treats paths in each); without either, the git root above the
    rootdir (else above the invocation directory), as ``hookdk`` finds it."""
    return _hoop_repo(config)[0]


def _hoop_repo(config: pytest.Config) -> tuple[Path, str]:
    """The repository, and how it was chosen (for messages)."""
    from .hooks import find_repo_root

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
    pytestconfig: pytest.Config, siem: Siem, _hookdk_capture: Capture, _hookdk_runner: Runner
) -> HoopHooks:
    repo, found_by = _hoop_repo(pytestconfig)
    return HoopHooks(repo, _hookdk_runner, siem, _hookdk_capture, found_by)


@pytest.fixture
def hook_payload(pytestconfig: pytest.Config):
    """``hook_payload("session-close", exit_code=1)``: a complete payload, as Hoop builds it.

    ``input_file`` is the repo's hook for that event, rendered, so firing the payload
    sends the hook its own source as Hoop does.
    """
    repo = hoop_repo(pytestconfig)

    def build(event: str, **fields: Any) -> dict[str, Any]:
        from .emulator import build_payload
        from .hooks import read_hooks
        from .render import load

        script = load(read_hooks(repo)).get(event, b"").decode("utf-8", "replace")
        return build_payload(event, input_file=script, **fields)

    return build
