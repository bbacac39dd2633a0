"""The page model: what a report shows, built from the results a run produced.

A page holds the run's settings (``RunInfo``) and one ``RunView`` per ``hookdk fire``,
played session or watch run; each holds its timeline and one ``EventView`` per hook run,
each with its requests and syslog messages. Everything is plain data, already decoded,
cut and marked (``content``), so the templates only lay it out and escape it. Nothing
here prints or writes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..leaks import OPEN_SOURCE, describe, forms
from ..payload import canaries, input_file_text
from .content import (
    BodyView,
    OutputView,
    Pieces,
    body_view,
    clipped,
    marked,
    output_view,
    payload_view,
    plain,
)
from .timeline import HookSpan, Timeline, layout

if TYPE_CHECKING:
    from ..capture.captured import CapturedRequest
    from ..capture.syslog_message import SyslogMessage
    from ..emulator import FireResult
    from ..flows import Flow
    from ..leaks import Leak
    from ..settings import RunSettings

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


def run_info(
    settings: RunSettings,
    *,
    repo: Any,
    runner: str,
    network: str,
    ref: str | None = None,
    flow: str | None = None,
    kill_after: float | None = None,
    command: str = "",
) -> RunInfo:
    """The settings a face ran with, as a page shows them."""
    from .. import __version__
    from ..runtime.runner import kill_limit

    answers = (f"default {settings.default_status}", *(str(r) for r in settings.routes))
    return RunInfo(
        repo=str(repo),
        python=settings.python,
        runner=runner,
        network=network,
        timeout=settings.timeout,
        kill_after=kill_limit(settings.timeout, kill_after),
        env_mode=settings.env_mode or "inherit",
        env_keys=tuple(sorted(settings.env)),
        answers=answers if network != "live" else (),
        settings_file=settings.source,
        ref=ref,
        flow=flow,
        command=command,
        version=__version__,
    )


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
    generated: str = field(default_factory=lambda: _clock(datetime.now().astimezone()))

    @property
    def status(self) -> str:
        """The hooks' worst status (a test page: the test's outcome is shown beside it)."""
        return _worst(run.status for run in self.runs)

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


def report_page(
    runs: Sequence[Sequence[FireResult]],
    *,
    title: str,
    info: RunInfo | None = None,
    hints: Sequence[Sequence[Sequence[Any]]] = (),
    allow_leaks: bool = False,
    test: TestView | None = None,
) -> Page:
    """A page of runs: each a fire (a list of one result) or a played session (a
    ``SessionResult``); ``hints`` holds, per run, one list of hints per result."""
    views = [
        run_view(
            results,
            anchor=f"run-{number}",
            hints=hints[number - 1] if number <= len(hints) else (),
            allow_leaks=allow_leaks,
        )
        for number, results in enumerate(runs, start=1)
    ]
    return Page(title=title, info=info, runs=views, test=test)


# --- building ---------------------------------------------------------------------------


def run_view(
    results: Sequence[FireResult],
    *,
    anchor: str,
    flow: Flow | None = None,
    hints: Sequence[Sequence[Any]] = (),
    allow_leaks: bool = False,
    number: int | None = None,
    changed: Sequence[str] = (),
) -> RunView:
    """A fire (one result) or a played session (its results in the flow's order, a
    ``SessionResult`` carrying its flow) as a page shows it; ``hints`` holds one list per
    result (``check``'s explanations of a failure)."""
    flow = flow if flow is not None else getattr(results, "flow", None)
    origin = min((r.started_at for r in results), default=0.0)
    labels = [step.label for step in flow.steps] if flow else [""] * len(results)
    opened = results[0] if results and results[0].event == "session-open" else None
    events = tuple(
        _event(result, f"{anchor}-e{i}", label, origin, opened, _texts(hints, i), allow_leaks)
        for i, (result, label) in enumerate(zip(results, labels, strict=False))
    )
    spans = [_span(event, result) for event, result in zip(events, results, strict=True)]
    notes = ()
    if flow is not None and not any(step.event == "session-close" for step in flow.steps):
        notes = (
            "no session-close: Hoop fires none for this flow (docs/hoop-runtime.md section 5)",
        )
    heading = f"session {flow.name}" if flow else (results[0].event if results else "run")
    return RunView(
        anchor=anchor,
        heading=heading,
        summary=flow.summary if flow else "one event through the real hook",
        status=_worst(event.status for event in events),
        sid=results[0].sid if results else "",
        started=_clock(datetime.fromtimestamp(origin).astimezone()) if results else "",
        timeline=layout(spans) if spans else None,
        events=events,
        notes=notes,
        number=number,
        changed=tuple(changed),
    )


def not_run(
    anchor: str,
    error: str,
    *,
    started: datetime,
    hints: Sequence[Any] = (),
    number: int | None = None,
    changed: Sequence[str] = (),
) -> RunView:
    """A watch run where nothing ran: the hooks would not load, a payload was refused..."""
    return RunView(
        anchor=anchor,
        heading="not run",
        summary="nothing ran: fix what the message says and save again",
        status="not-run",
        sid="",
        started=_clock(started),
        timeline=None,
        events=(),
        error=error,
        hints=tuple(str(hint) for hint in hints),
        number=number,
        changed=tuple(changed),
    )


def _event(
    result: FireResult,
    anchor: str,
    label: str,
    origin: float,
    opened: FireResult | None,
    hints: tuple[str, ...],
    allow_leaks: bool,
) -> EventView:
    secrets = _secrets(result, opened)
    by_request: dict[int, list[Leak]] = {}
    for leak in result.leaks:
        by_request.setdefault(id(leak.request), []).append(leak)
    requests = tuple(
        _request(r, f"{anchor}-r{r.index}", origin, result, by_request.get(id(r), []), secrets)
        for r in result.requests or ()
    )
    syslog = tuple(
        _syslog(m, f"{anchor}-s{m.index}", origin, result, by_request.get(id(m), []), secrets)
        for m in result.syslog or ()
    )
    script = result.script or (result.payload.get("input_file") or "").encode()
    source = input_file_text(script) if script else ""
    shown, hidden = clipped(source)
    return EventView(
        anchor=anchor,
        event=result.event,
        label=label,
        status=_status(result, allow_leaks),
        hook_path=result.hook_path,
        origin=result.origin,
        start=result.started_at - origin,
        duration_ms=result.duration_ms,
        exit_code=result.exit_code,
        recorded_output=result.output,
        execution_time_sec=result.execution_time_sec,
        timed_out=result.timed_out,
        timeout=result.timeout,
        hook_exit_code=_hook_exit_code(result),
        output=output_view(result.run.raw_output),
        payload=payload_view(result.payload, canaries(result.payload)),
        source=plain(shown),
        source_hidden=hidden,
        template=_template_step(result.source, script),
        requests=requests,
        syslog=syslog,
        leaks=tuple(_leaked(leak) for leak in result.leaks),
        warnings=tuple(result.warnings),
        hints=hints,
        live=result.live,
    )


def _request(
    request: CapturedRequest,
    anchor: str,
    origin: float,
    result: FireResult,
    leaks: list[Leak],
    secrets: Mapping[str, str],
) -> RequestView:
    needles = _needles(leaks, secrets)

    def mark(text: str) -> Pieces:
        return marked(text, needles, "leak") if needles else plain(text)

    response = request.response
    return RequestView(
        anchor=anchor,
        index=request.index,
        method=request.method,
        url=mark(request.url),
        status=response.status,
        matched=request.matched,
        t=request.time.timestamp() - origin,
        late=result.is_late(request),
        headers=tuple((name, mark(value)) for name, value in request.headers),
        body=body_view(request.content, needles),
        response_headers=tuple(response.headers),
        response_body=body_view(response.body),
        trailers=tuple(request.trailers),
        leaks=tuple(_leaked(leak) for leak in leaks),
        encoding=request.header("content-encoding"),
    )


def _syslog(
    message: SyslogMessage,
    anchor: str,
    origin: float,
    result: FireResult,
    leaks: list[Leak],
    secrets: Mapping[str, str],
) -> SyslogView:
    needles = _needles(leaks, secrets)
    text, rest = clipped(message.text)
    deadline = result.started_at + result.timeout
    return SyslogView(
        anchor=anchor,
        index=message.index,
        transport=message.transport,
        framing=message.framing,
        format=message.format,
        t=message.time.timestamp() - origin,
        late=result.timed_out and message.time.timestamp() > deadline,
        frame=marked(text, needles, "leak") if needles else plain(text),
        hidden=rest,
        message=message.message,
        error=message.error,
        leaks=tuple(_leaked(leak) for leak in leaks),
    )


def _span(event: EventView, result: FireResult) -> HookSpan:
    sends = [
        (r.t, "http", r.late, r.anchor, f"#{r.index} {r.method} {_text(r.url)} \u2192 {r.status}")
        for r in event.requests
    ]
    sends += [
        (m.t, "syslog", m.late, m.anchor, f"syslog #{m.index} ({m.transport})")
        for m in event.syslog
    ]
    return HookSpan(
        label=event.event,
        sublabel=_short(event.label, 34) if event.label else f"{event.duration_ms:.0f} ms",
        status=event.status,
        anchor=event.anchor,
        start=event.start,
        end=event.start + result.run.duration,
        timeout=event.timeout,
        sends=tuple(sends),
    )


def _template_step(source: bytes, script: bytes) -> TemplateStep:
    had_actions = b"{{" in source
    if not source or source == script:
        return TemplateStep(False, had_actions, "")
    before = source.decode("utf-8", "replace").splitlines(keepends=True)
    after = script.decode("utf-8", "replace").splitlines(keepends=True)
    diff = difflib.unified_diff(before, after, "the file", "what Hoop sends", n=1)
    return TemplateStep(True, had_actions, clipped("".join(diff))[0])


# --- leaks ----------------------------------------------------------------------------------


def _secrets(result: FireResult, opened: FireResult | None) -> dict[str, str]:
    """Label -> secret for the canaries this result's leaks name (the close hook's may
    name the open payload's source, ``OPEN_SOURCE``)."""
    found = canaries(result.payload)
    if opened is not None and opened is not result:
        source = canaries(opened.payload).get("input_file")
        if source:
            found[OPEN_SOURCE] = source
    return found


def _needles(leaks: list[Leak], secrets: Mapping[str, str]) -> dict[str, str]:
    """Every form of every secret these leaks name, as text -> what it is."""
    needles: dict[str, str] = {}
    for leak in leaks:
        secret = secrets.get(leak.label)
        if secret is None:
            continue
        note = f"leak: {describe(leak.label)}"
        for _, needle in forms(secret):
            needles.setdefault(needle.decode("utf-8", "replace"), note)
    return needles


def _leaked(leak: Leak) -> Leaked:
    return Leaked(describe(leak.label), leak.form, leak.where)


# --- small things ---------------------------------------------------------------------------


def _hook_exit_code(result: FireResult) -> int:
    code = result.hook_exit_code
    return result.exit_code if code is None else code


def _status(result: FireResult, allow_leaks: bool = False) -> str:
    """As ``hookdk fire`` says it: timed out, else leaked, else ok or failed."""
    if result.timed_out:
        return "timed-out"
    if result.leaks and not allow_leaks:
        return "leaked"
    return "ok" if result.exit_code == 0 else "failed"


_ORDER = ("ok", "leaked", "failed", "timed-out", "not-run")


def _worst(statuses: Any) -> str:
    return max(statuses, key=_ORDER.index, default="ok")


def _texts(hints: Sequence[Sequence[Any]], index: int) -> tuple[str, ...]:
    return tuple(str(hint) for hint in hints[index]) if index < len(hints) else ()


def _text(pieces: Pieces) -> str:
    return "".join(piece.text for piece in pieces)


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "\u2026"


def _clock(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="milliseconds")
