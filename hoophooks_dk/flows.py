"""Session flows: which events Hoop fires for one session, when, and with which payloads.

A session does not always end with a close event, and a reviewed one may open twice
(docs/hoop-runtime.md section 5). Each ``Flow`` below is one shape Hoop's gateway
produces, written as data: its steps (event, and whether it fires when the session
starts or when it ends) and the payload fields the flow implies. ``Emulator.session``
plays them; ``hookdk flows`` lists them.

Timing: a step marked ``at="start"`` starts with the session; ``at="end"`` starts
``duration`` seconds later. The wait for a reviewer takes no time here: the approved
session-open fires together with the first one, the hardest case for a SIEM that
deduplicates by id. Every hook starts at its time whatever the hooks before it are still
doing, as Hoop starts each one in its own goroutine (docs/hoop-runtime.md section 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import SettingsError

AGENT_ERROR_EXIT_CODE = 254  # agent/controller/const.go: internalExitCode


@dataclass(frozen=True)
class Step:
    """One hook run in a flow."""

    event: str  # "session-open" or "session-close"
    at: str  # "start" or "end" (``duration`` seconds after the start)
    label: str  # what happens in Hoop at that moment
    run_by: bool = False  # user_email is whoever starts the run (``run_by``)


@dataclass(frozen=True)
class Flow:
    """A session shape. ``doc`` says where in Hoop's source it comes from."""

    name: str
    summary: str
    steps: tuple[Step, ...]
    doc: str
    open_fields: Mapping[str, Any] = field(default_factory=dict)  # on every session-open
    close_fields: Mapping[str, Any] = field(default_factory=dict)  # fixed close fields

    def __post_init__(self) -> None:
        object.__setattr__(self, "open_fields", MappingProxyType(dict(self.open_fields)))
        object.__setattr__(self, "close_fields", MappingProxyType(dict(self.close_fields)))

    @property
    def fires(self) -> str:
        """``open, open, close``: the events in order, for listings."""
        return ", ".join(step.event.removeprefix("session-") for step in self.steps)


OPEN = Step("session-open", "start", "the client opens the session")
CLOSE = Step("session-close", "end", "the agent reports the session's end")

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        Flow(
            "exec",
            "a one-off command (hoop exec): open, then close when the agent ends it",
            (OPEN, CLOSE),
            doc="gateway/transport/extensions/extension.go (OnReceive: SessionOpen, then "
            "SessionClose from the agent, gateway/transport/agent.go).",
        ),
        Flow(
            "connect",
            "an interactive session (hoop connect) that the agent ends: input is empty",
            (OPEN, CLOSE),
            doc="gateway/transport/client.go: a connect session's open packet carries no "
            "input; the close comes from the agent (gateway/transport/agent.go).",
            open_fields={"verb": "connect", "input": ""},
        ),
        Flow(
            "client-left",
            "the client ends first (Ctrl-C, disconnect, grant expired): no close event",
            (OPEN,),
            doc="gateway/transport/streamclient/proxy.go (ProxyStream.Close removes the "
            "stream) and agent/controller/agent.go (processSessionClose answers nothing).",
            open_fields={"verb": "connect", "input": ""},
        ),
        Flow(
            "review-same-stream",
            "a CLI session waits for approval: open, the same open again, then close",
            (OPEN, Step("session-open", "start", "approved: the session opens again"), CLOSE),
            doc="gateway/transport/client.go: the open packet passes the extensions again "
            "once the review is approved on the same stream (same sid, same id).",
        ),
        Flow(
            "review-run-later",
            "approved, then run from the web app: a second open by whoever runs it, close",
            (
                OPEN,
                Step("session-open", "start", "the approved run starts", run_by=True),
                CLOSE,
            ),
            doc="gateway/api/session/run-exec.go: a new stream with the stored session's "
            "sid and input, opened by the user who starts the run.",
        ),
        Flow(
            "review-ai",
            "an AI-analysis review decided at once: one open, then close",
            (OPEN, CLOSE),
            doc="gateway/transport/plugins/audit/audit.go: the AI analyzer decides while "
            "the open packet passes the plugins; a session it allows runs at once, so the "
            "open fires once.",
        ),
        Flow(
            "review-rejected",
            "the review is rejected: one open, no close",
            (OPEN,),
            doc="gateway/transport/client.go: the gateway answers the client itself; the "
            "agent never runs the session, so no close comes.",
        ),
        Flow(
            "agent-error",
            "the agent fails the session: close with exit code 254 and output null",
            (OPEN, CLOSE),
            doc="agent/controller/const.go (internalExitCode 254); the close carries the "
            "agent's code (gateway/transport/extensions/runbookhook.go).",
            close_fields={"exit_code": AGENT_ERROR_EXIT_CODE, "output": None},
        ),
    )
}

DEFAULT_FLOW = "exec"
REVIEW_ALIAS = "review-same-stream"  # what --review / review=True mean


def get_flow(name: str) -> Flow:
    """The flow called ``name``; a SettingsError listing the known ones otherwise."""
    try:
        return FLOWS[name]
    except KeyError:
        raise SettingsError(
            f"unknown flow {name!r}: expected one of {', '.join(FLOWS)} (hookdk flows lists them)"
        ) from None


def flow_for(flow: str | None, review: bool) -> Flow:
    """``flow`` by name; ``review`` is another name for review-same-stream."""
    if review and flow not in (None, REVIEW_ALIAS):
        raise SettingsError(
            f"--review means --flow {REVIEW_ALIAS}; it cannot go with --flow {flow}"
        )
    return get_flow(flow or (REVIEW_ALIAS if review else DEFAULT_FLOW))
