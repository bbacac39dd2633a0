"""Building the page model (``views``) from the results a run produced: a fire, a
played session, a watch run, a test's fires. Bodies, output and payloads are decoded,
cut and marked here (``content``), the timeline laid out (``timeline``); nothing here
prints or writes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..leaks import OPEN_SOURCE, describe, forms
from ..payload import canaries, input_file_text
from .content import Pieces, body_view, clipped, marked, output_view, payload_view, plain
from .timeline import HookSpan, layout
from .views import (
    EventView,
    Leaked,
    Page,
    RequestView,
    RunInfo,
    RunView,
    SyslogView,
    TemplateStep,
    TestView,
    clock,
    worst,
)

if TYPE_CHECKING:
    from ..capture.captured import CapturedRequest
    from ..capture.syslog_message import SyslogMessage
    from ..emulator import FireResult
    from ..flows import Flow
    from ..leaks import Leak
    from ..settings import RunSettings

__all__ = ["not_run", "report_page", "run_info", "run_view"]


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
        python=settings.python or "agent runtime",  # None: the agent runtime (runtime.agent)
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
        status=worst(event.status for event in events),
        sid=results[0].sid if results else "",
        started=clock(datetime.fromtimestamp(origin).astimezone()) if results else "",
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
        started=clock(started),
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


def _texts(hints: Sequence[Sequence[Any]], index: int) -> tuple[str, ...]:
    return tuple(str(hint) for hint in hints[index]) if index < len(hints) else ()


def _text(pieces: Pieces) -> str:
    return "".join(piece.text for piece in pieces)


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "\u2026"
