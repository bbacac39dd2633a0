"""What a report shows: the page model, plain data, already decoded, cut and marked.

A page holds the run's settings (``RunInfo``) and one ``RunView`` per ``hookdk fire``,
played session or watch run; each holds its timeline and one ``EventView`` per hook run,
each with its requests and syslog messages. ``model`` builds them from results; the
templates (``render``) only lay them out and escape them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .content import BodyView, OutputView, Pieces
from .timeline import Timeline

#: Status words, as ``hookdk fire`` prints them, and the class the page styles them by.
STATUS_TEXT = {
    "ok": "ok",
    "failed": "FAILED",
    "timed-out": "TIMED OUT",
    "leaked": "LEAKED",
    "not-run": "NOT RUN",
}


@dataclass(frozen=True)
class RunInfo:
    """The run's settings as a page shows them: how the hooks ran, never a secret value
    (of the environment only the keys the settings add)."""

    repo: str
    python: str
    runner: str
    network: str  # "captured", "live" or "sandboxed"
    timeout: float
    kill_after: float | None
    env_mode: str
    env_keys: tuple[str, ...]
    answers: tuple[str, ...]  # how the capture answers: the default status, then routes
    settings_file: str | None
    ref: str | None = None
    flow: str | None = None
    command: str = ""
    version: str = ""


@dataclass(frozen=True)
class Leaked:
    """One leak, as listed under its request: which secret, in which form, where."""

    what: str
    form: str
    where: str


@dataclass(frozen=True)
class RequestView:
    anchor: str
    index: int
    method: str
    url: Pieces
    status: int
    matched: bool
    t: float  # seconds since the run's start
    late: bool
    headers: tuple[tuple[str, Pieces], ...]
    body: BodyView
    response_headers: tuple[tuple[str, str], ...]
    response_body: BodyView
    trailers: tuple[tuple[str, str], ...]
    leaks: tuple[Leaked, ...]
    encoding: str | None  # the Content-Encoding the body was sent in


@dataclass(frozen=True)
class SyslogView:
    anchor: str
    index: int
    transport: str
    framing: str
    format: str
    t: float
    late: bool
    frame: Pieces
    hidden: int
    message: str | None
    error: str | None
    leaks: tuple[Leaked, ...]


@dataclass(frozen=True)
class TemplateStep:
    """Hoop's template step on the hook file: whether it changed the text, and how."""

    changed: bool
    had_actions: bool  # the file holds ``{{``
    diff: str


@dataclass(frozen=True)
class EventView:
    anchor: str
    event: str
    label: str  # the flow step's label ("the client opens the session"), or ""
    status: str
    hook_path: str
    origin: str
    start: float  # seconds since the run's start
    duration_ms: float
    exit_code: int
    recorded_output: str  # what the gateway records, as it records it
    execution_time_sec: int
    timed_out: bool
    timeout: float
    hook_exit_code: int  # the hook's own (differs from exit_code once the gateway gave up)
    output: OutputView  # what the hook wrote, and the agent's cut
    payload: Pieces
    source: Pieces
    source_hidden: int  # characters of the source not shown
    template: TemplateStep
    requests: tuple[RequestView, ...]
    syslog: tuple[SyslogView, ...]
    leaks: tuple[Leaked, ...]
    warnings: tuple[str, ...]
    hints: tuple[str, ...]
    live: bool  # no capture: the hook reached the real network

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def late(self) -> int:
        return sum(r.late for r in self.requests) + sum(s.late for s in self.syslog)


@dataclass(frozen=True)
class RunView:
    """One fire, session or watch run: its timeline and its hook runs."""

    anchor: str
    heading: str
    summary: str
    status: str
    sid: str
    started: str  # local wall-clock time, to the millisecond
    timeline: Timeline | None
    events: tuple[EventView, ...]
    notes: tuple[str, ...] = ()
    error: str | None = None  # why nothing ran (watch: hooks Hoop would not load...)
    hints: tuple[str, ...] = ()
    number: int | None = None  # the watch's run number
    changed: tuple[str, ...] = ()  # the watch: the saves that made it run

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def requests(self) -> int:
        return sum(len(event.requests) for event in self.events)

    @property
    def messages(self) -> int:
        return sum(len(event.syslog) for event in self.events)

    @property
    def leaks(self) -> int:
        return sum(len(event.leaks) for event in self.events)


@dataclass(frozen=True)
class TestView:
    """The pytest test a page belongs to (``--hoop-report``)."""

    nodeid: str
    outcome: str  # "passed", "failed", "skipped", "error"
    failure: str = ""  # pytest's report of the failure, as far as shown


@dataclass
class Page:
    title: str
    info: RunInfo | None
    runs: list[RunView] = field(default_factory=list)
    test: TestView | None = None
    generated: str = field(default_factory=lambda: clock(datetime.now().astimezone()))

    @property
    def status(self) -> str:
        """The hooks' worst status (a test page: the test's outcome is shown beside it)."""
        return worst(run.status for run in self.runs)

    @property
    def events(self) -> int:
        return sum(len(run.events) for run in self.runs)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def messages(self) -> int:
        return sum(run.messages for run in self.runs)

    @property
    def leaks(self) -> int:
        return sum(run.leaks for run in self.runs)


ORDER = ("ok", "leaked", "failed", "timed-out", "not-run")


def worst(statuses: Any) -> str:
    return max(statuses, key=ORDER.index, default="ok")


def clock(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="milliseconds")
