"""Playing a session flow: each hook started when Hoop would start it.

Hoop's gateway starts every hook in its own goroutine and the agent runs each in its own
goroutine (docs/hoop-runtime.md section 3): a close hook does not wait for the open hook,
and the SIEM may receive the close event first. ``play`` starts each step of a
``flows.Flow`` in its own thread at the step's time (``duration`` seconds separate the
session's start from its end), or one after another with ``sequential=True``, and
returns the results in the flow's order whatever order they finished in.

A step whose hook file the repository lacks fires nothing, as in Hoop (a missing file is
not an error there): an open-only repository plays every flow, its closes noted as
running no hook. A close in a repository with a close hook and no open hook crashes the
gateway instead (``render.check_close_layout``): such a flow is refused before any hook
runs, with Hoop's text.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import SettingsError
from .flows import FLOWS, Flow, Step, flow_for
from .hooks import HOOK_PATHS, require
from .leaks import add_session_leaks
from .payload import EVENT_KEYS, caller_email
from .render import close_without_open
from .runtime.keeper import lingering
from .runtime.runner import end_running

if TYPE_CHECKING:
    from .capture.capture import CapturedRequest
    from .emulator import Emulator, FireResult, Prepared

DEFAULT_RUN_BY = "admin@example.com"  # who starts an approved run, unless told


class SessionResult(list):
    """The results of the hooks Hoop runs for the flow, in event order (a list of
    ``FireResult``; empty when it runs none), with the flow, the session's id, its
    requests in order of arrival, and ``notes``: the flow's steps that ran no hook, and
    why."""

    def __init__(
        self,
        flow: Flow,
        results: list[FireResult],
        started_at: float,
        sid: str,
        notes: list[str] | None = None,
    ) -> None:
        super().__init__(results)
        self.flow = flow
        self.started_at = started_at  # time.time() when the session started
        self.sid = sid
        self.notes = list(notes or ())

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self)

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request the session's hooks sent, in order of arrival."""
        seen = {id(r): r for result in self for r in result.requests or ()}
        return sorted(seen.values(), key=lambda request: request.index)


def play(
    emulator: Emulator,
    flow: str | None = None,
    *,
    review: bool = False,
    reviewers: list[str] | None = None,
    exit_code: int | None = None,
    output: str | None = None,
    sid: str | None = None,
    run_by: str | None = None,
    caller: str | None = None,
    duration: float = 0.0,
    sequential: bool = False,
    overrides: Iterable[tuple[str, Any]] = (),
    **open_fields: Any,
) -> SessionResult:
    """Fire the events of ``flow`` (default ``exec``; ``review=True`` is
    ``review-same-stream``) for one session.

    ``reviewers`` sets ``connection_reviewers`` (the connection's review groups; it does
    not make the session reviewed); ``exit_code`` (default 0) and ``output`` (default
    null) go to the close event, where the flow does not fix them (``agent-error``'s
    output is the agent's error text unless given); ``run_by`` is who starts an approved
    run; ``caller`` is who opens the session (``payload.CALLERS``: ``user``, ``api-key``,
    ``ai-agent``, ``gateway-api-key``, ``machine``); ``open_fields`` set other
    session-open fields. ``overrides`` are ``--set`` pairs applied last to every payload
    they concern (a path under the other event's key is left out:
    ``event_session_close.exit_code`` sets no open).
    """
    chosen = session_flow(
        flow,
        review,
        duration=duration,
        run_by=run_by,
        caller=caller,
        exit_code=exit_code,
        output=output,
    )
    sid = sid or str(uuid.uuid4())
    opened = dict(open_fields)
    if reviewers is not None:
        opened["connection_reviewers"] = list(reviewers)
    if caller is not None:
        opened["user_email"] = caller_email(caller)
    opened |= chosen.open_fields
    closed = {"exit_code": 0, "output": None, **chosen.close_defaults}
    closed |= {k: v for k, v in (("exit_code", exit_code), ("output", output)) if v is not None}
    closed |= chosen.close_fields
    steps, prepared, notes = _runnable(emulator, chosen)
    overrides = list(overrides)

    def fire(index: int) -> FireResult:
        step = steps[index]
        fields = closed if step.event == "session-close" else opened
        if step.run_by:
            fields = fields | {"user_email": run_by or DEFAULT_RUN_BY}
        changes = overrides_for(step.event, overrides)
        return prepared[step.event].fire(None, changes, sid=sid, **fields)

    offsets = [0.0 if step.at == "start" else duration for step in steps]
    started_at = time.time()
    # what a hook leaves running runs on until the session ends (or the test around it)
    with lingering():
        results = _in_turn(fire, offsets) if sequential else _at_once(fire, offsets)
    opens = [result for result in results if result.event == "session-open"]
    if results and results[-1].event == "session-close" and opens:
        add_session_leaks(results[-1], opens[0])
    return SessionResult(chosen, results, started_at, sid, notes)


def overrides_for(event: str, overrides: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The ``--set`` pairs that concern ``event``'s payload: all but those under the other
    event's key (which is null in this payload)."""
    other = EVENT_KEYS["session-close" if event == "session-open" else "session-open"]
    return [(path, value) for path, value in overrides if path.split(".")[0] != other]


def session_flow(
    flow: str | None,
    review: bool = False,
    *,
    duration: float = 0.0,
    run_by: str | None = None,
    caller: str | None = None,
    exit_code: int | None = None,
    output: str | None = None,
) -> Flow:
    """The flow to play, once its options are checked: the one check ``play``, ``hookdk
    session`` and ``hookdk watch --flow`` share, so that a bad option is refused before
    any hook runs, with the same message from the API and the command line."""
    chosen = flow_for(flow, review)
    if duration < 0:
        raise SettingsError(f"duration {duration:g} s (--duration): give 0 seconds or more")
    if run_by is not None and not any(step.run_by for step in chosen.steps):
        runs = " and ".join(f.name for f in FLOWS.values() if any(s.run_by for s in f.steps))
        raise SettingsError(f"run_by (--run-by) applies to flows {runs}, not {chosen.name}")
    if caller is not None:
        caller_email(caller)  # an unknown kind is named before anything else
        if not any(s.event == "session-open" and not s.run_by for s in chosen.steps):
            raise SettingsError(
                f"caller (--caller) sets who opens the session; flow {chosen.name} fires "
                "no session-open of the caller's"
                + (" (the run's opener is --run-by)" if chosen.steps else "")
            )
    for name, value in (("exit_code", exit_code), ("output", output)):
        _check_close_option(chosen, name, value)
    return chosen


def _check_close_option(flow: Flow, name: str, value: Any) -> None:
    """A close field given for a flow that fires no close, or that fixes that field to
    another value."""
    if value is None:
        return
    option = f"{name} (--{name.replace('_', '-')})"
    if not flow.closes:
        raise SettingsError(f"{option} applies to a session-close; flow {flow.name} fires none")
    if name in flow.close_fields and value != flow.close_fields[name]:
        fixed = flow.close_fields[name]
        shown = "null" if fixed is None else fixed
        raise SettingsError(f"{option}: flow {flow.name} fixes {name} to {shown}, as Hoop does")


def _runnable(emulator: Emulator, flow: Flow) -> tuple[list[Step], dict[str, Prepared], list[str]]:
    """The flow's steps whose hook exists, each event's hook prepared once, and a note for
    each event that runs none. Hoop's own refusals are raised before any hook runs: hooks
    it would not load (``HooksNotLoaded``), a close that would crash the gateway
    (``GatewayCrash``); and a repository with neither hook is a ``HookNotFound``."""
    if not flow.steps:
        return [], {}, [f"Hoop fires no hook for flow {flow.name}: {flow.summary}"]
    hooks = emulator.read_hooks()
    if all(hook is None for hook in hooks.values()):
        require(hooks, flow.steps[0].event, emulator.repo, emulator.ref)  # names the file
    present = [event for event in flow.events if hooks[event] is not None]
    # the close's hook checks the layout once loaded: a close-only one crashes the gateway
    prepared = {event: emulator.prepare(event, hooks) for event in present}
    notes = [
        f"{event}: no {HOOK_PATHS[event]}, so Hoop runs no hook for it"
        for event in flow.events
        if hooks[event] is None
    ]
    if hooks["session-open"] is None and hooks["session-close"] is not None:
        hoop_text, explanation = close_without_open(hooks["session-close"].origin)
        notes.append(
            "no session of this flow closes, but one that does crashes the gateway: "
            f"{hoop_text}: {explanation}"
        )
    return [step for step in flow.steps if step.event in prepared], prepared, notes


def _in_turn(fire, offsets: list[float]) -> list[FireResult]:
    """The session's end comes ``duration`` after the hooks before it ended."""
    results = []
    for index, offset in enumerate(offsets):
        if index and offset > offsets[index - 1]:
            time.sleep(offset - offsets[index - 1])
        results.append(fire(index))
    return results


def _at_once(fire, offsets: list[float]) -> list[FireResult]:
    """Run ``fire(i)`` for every step in its own thread, ``offsets[i]`` seconds after a
    common start; the first error any raised is raised once all have ended.

    Each step says it has ended through an Event of its own, never through
    ``Thread.is_alive()``: on Python 3.11 a ``join()`` that an interrupt cuts short marks
    the thread stopped while it still runs, so an interrupted session would stop waiting
    for (and ending) a hook that is still running."""
    results: list[Any] = [None] * len(offsets)
    errors: list[BaseException] = []
    start = time.monotonic()
    stopping = threading.Event()
    ended = [threading.Event() for _ in offsets]

    def run(index: int) -> None:
        try:
            if stopping.wait(max(start + offsets[index] - time.monotonic(), 0)):
                return  # interrupted before its time came: it never starts
            results[index] = fire(index)
        except BaseException as error:  # handed to the caller below
            errors.append(error)
        finally:
            ended[index].set()

    for index in range(len(offsets)):
        name = f"hookdk-step-{index}"
        context = contextvars.copy_context()  # the session's ``lingering`` block included
        step = threading.Thread(target=context.run, args=(run, index), name=name, daemon=True)
        step.start()
    try:
        for step in ended:
            step.wait()
    except BaseException:  # an interrupt reaches this thread only: end the hooks running
        _stop_all(ended, stopping)
        raise
    if errors:
        raise errors[0]
    return results


def _stop_all(ended: list[threading.Event], stopping: threading.Event) -> None:
    """End every step's hook and wait for the steps to clean up (scratch folders): a hook
    that was starting when the interrupt came is ended on a later pass."""
    stopping.set()
    deadline = time.monotonic() + STOP_TIMEOUT
    while not all(step.is_set() for step in ended) and time.monotonic() < deadline:
        end_running()
        for step in ended:
            step.wait(timeout=0.05)


#: Seconds an interrupted session waits for its steps to end their hooks and clean up.
STOP_TIMEOUT = 30.0
