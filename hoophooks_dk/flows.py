"""Session flows: which events Hoop fires for one session, when, and with which payloads.

A session does not always end with a close event, a reviewed one may open twice, some
open none at all and some close without having opened (docs/hoop-runtime.md section 5).
Each ``Flow`` below is one shape Hoop's gateway produces, written as data: its steps
(event, and whether it fires when the session starts or when it ends), the payload
fields the flow implies, and where in Hoop's source (commit e939597) it comes from.
``Emulator.session`` plays them; ``hookdk flows`` lists them.

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

from .errors import SettingsError, did_you_mean

AGENT_ERROR_EXIT_CODE = 254  # agent/controller/const.go: internalExitCode
#: What the agent sends when a session's connection has no parameters on it
#: (agent/controller/postgres.go 21, mysql.go 20, mssql.go 20, ...: sendClientSessionClose).
AGENT_ERROR_OUTPUT = "connection params not found, contact the administrator"


@dataclass(frozen=True)
class Step:
    """One hook run in a flow."""

    event: str  # "session-open" or "session-close"
    at: str  # "start" or "end" (``duration`` seconds after the start)
    label: str  # what happens in Hoop at that moment
    run_by: bool = False  # user_email is whoever starts the run (``run_by``)


@dataclass(frozen=True)
class Flow:
    """A session shape. ``doc`` says where in Hoop's source it comes from.

    ``close_fields`` are close fields the flow fixes (an option may not change them);
    ``close_defaults`` are the ones it gives unless an option does."""

    name: str
    summary: str
    steps: tuple[Step, ...]
    doc: str
    open_fields: Mapping[str, Any] = field(default_factory=dict)  # on every session-open
    close_fields: Mapping[str, Any] = field(default_factory=dict)  # fixed close fields
    close_defaults: Mapping[str, Any] = field(default_factory=dict)  # unless an option says

    def __post_init__(self) -> None:
        for name in ("open_fields", "close_fields", "close_defaults"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def fires(self) -> str:
        """``open, open, close``: the events in order, for listings (``no hook`` when
        Hoop fires none)."""
        return ", ".join(step.event.removeprefix("session-") for step in self.steps) or "no hook"

    @property
    def closes(self) -> bool:
        return any(step.event == "session-close" for step in self.steps)

    @property
    def events(self) -> tuple[str, ...]:
        """The events the flow fires, each once, in order."""
        return tuple(dict.fromkeys(step.event for step in self.steps))


OPEN = Step("session-open", "start", "the client opens the session")
CLOSE = Step("session-close", "end", "the agent reports the session's end")
RUN = Step("session-open", "start", "the approved run starts", run_by=True)
CONNECT = {"verb": "connect", "input": ""}

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        Flow(
            "exec",
            "a one-off command (hoop exec): open, then close when the agent ends it",
            (OPEN, CLOSE),
            doc="gateway/transport/client.go 236 (the extension step fires the open), "
            "gateway/transport/agent.go 101-119 (the agent's SessionClose fires the close).",
        ),
        Flow(
            "connect",
            "an interactive session (hoop connect) that the agent ends: input is empty",
            (OPEN, CLOSE),
            doc="gateway/transport/client.go: a connect session's open packet carries no "
            "input; the close comes from the agent (gateway/transport/agent.go).",
            open_fields=CONNECT,
        ),
        Flow(
            "client-left",
            "the CLI client ends first (Ctrl-C, disconnect, grant expired): no close event",
            (OPEN,),
            doc="gateway/transport/client.go 114-126 (origin client: the stream is closed "
            "when the client leaves), streamclient/proxy.go 146-163 (Close removes it), "
            "agent.go 101-104 (the agent's close finds no stream and fires nothing).",
            open_fields=CONNECT,
        ),
        Flow(
            "client-left-web",
            "the web app, REST exec or a runbook outlives its caller: the close still fires",
            (OPEN, CLOSE),
            doc="gateway/transport/client.go 110-126: only origin client closes the stream "
            "when the caller leaves; client-api and client-api-runbooks keep it, so the "
            "agent's close finds it (gateway/api/session/session.go 377-388: the API stops "
            "waiting after 50 s and answers 202).",
        ),
        Flow(
            "review-same-stream",
            "a CLI session waits for approval: open, the same open again, then close",
            (OPEN, Step("session-open", "start", "approved: the session opens again"), CLOSE),
            doc="gateway/transport/client.go 223-252: the extension step runs while the "
            "review waits; client/cmd/exec.go 223 sends the open packet again once approved "
            "(same stream: same sid, same id).",
        ),
        Flow(
            "review-run-later",
            "approved, then run from the web app: a second open by whoever runs it, close",
            (OPEN, RUN, CLOSE),
            doc="gateway/api/session/run-exec.go: a new stream with the stored session's "
            "sid and input, opened by the user who starts the run.",
        ),
        Flow(
            "review-jit-connect",
            "a JIT-reviewed connect: open, the same open once approved, usually no close",
            (OPEN, Step("session-open", "start", "the JIT access is approved: it opens again")),
            doc="gateway/transport/plugins/review/review.go 106-130 (connect asks for JIT "
            "access), 78-92 (the approved JIT lets the open through); client/cmd/connect.go "
            "465-472 (the CLI sends the open again); the session ends with the client or "
            "the grant (client.go 114-126, 171-172), so no close comes unless the agent "
            "ends it first.",
            open_fields=CONNECT,
        ),
        Flow(
            "review-ai",
            "an AI-analysis review decided at once: one open, then close",
            (OPEN, CLOSE),
            doc="gateway/transport/plugins/audit/audit.go 180-264: the AI analyzer decides "
            "while the open packet passes the plugins; a session it allows runs at once, so "
            "the open fires once.",
        ),
        Flow(
            "review-ai-web",
            "a web/API exec sent to AI review: no hook until the approved run opens, then close",
            (RUN, CLOSE),
            doc="gateway/api/session/session.go 282-307 and ai_decision.go 88-121: the API "
            "answers 202 before any stream opens; the approved run "
            "(gateway/api/session/run-exec.go) opens the only stream.",
        ),
        Flow(
            "review-rejected",
            "the review is rejected: one open, no close",
            (OPEN,),
            doc="gateway/transport/client.go 857-893: the gateway answers the client itself "
            "and closes the stream; the agent never runs the session, so no close comes.",
        ),
        Flow(
            "ai-blocked",
            "the AI analyzer blocks the command before the hook step: no hook fires",
            (),
            doc="gateway/transport/plugins/audit/audit.go 211-230 (CLI exec: the plugin "
            'returns "session blocked by AI risk analyzer" and client.go 223-233 returns '
            "before the extension step at 236); gateway/api/session/session.go 301-304 and "
            "ai_decision.go 60-86 (web and API: answered before any stream opens).",
        ),
        Flow(
            "refused",
            "refused by a plugin (a bad or over-48 h JIT, missing approval groups, an "
            "access-request error): no hook fires",
            (),
            doc="gateway/transport/plugins/review/review.go 110-135 and "
            "interceptors/accessrequest/accessrequest.go 224-236: the error returns from "
            "client.go 205-233, before the extension step at 236 fires the open.",
        ),
        Flow(
            "agent-error",
            "the agent fails the session: close with exit code 254 and the agent's error",
            (OPEN, CLOSE),
            doc="agent/controller/agent.go 391-401 and 427-436 (connection parameters, the "
            "TCP liveness check), 559-580 (sendClientSessionClose): exit code 254 "
            "(internalExitCode, const.go) and the error's text as output.",
            close_fields={"exit_code": AGENT_ERROR_EXIT_CODE},
            close_defaults={"output": AGENT_ERROR_OUTPUT},
        ),
        Flow(
            "guardrail-blocked",
            "a guardrail rule blocks the command on the agent: close with 254 and output null",
            (OPEN, CLOSE),
            doc="agent/controller/agent.go 574-577: a guardrail error closes with "
            "internalExitCode and no text (the violation travels in its own spec, which the "
            "hook does not get); terminal-exec.go 117-127, 156-162.",
            close_fields={"exit_code": AGENT_ERROR_EXIT_CODE, "output": None},
        ),
        Flow(
            "proxy-manager",
            "Hoop Desktop (proxy manager): no open ever; a close only if the agent ends it",
            (CLOSE,),
            doc="gateway/transport/proxymanager.go 215-245: the open packet passes the "
            "plugins and goes to the agent without the extension step; the stream is saved "
            "(192), so the agent's close finds it (agent.go 101-119).",
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
            f"unknown flow {name!r}{did_you_mean(name, FLOWS)}: expected one of "
            f"{', '.join(FLOWS)} (hookdk flows lists them)"
        ) from None


def flow_for(flow: str | None, review: bool) -> Flow:
    """``flow`` by name; ``review`` is another name for review-same-stream."""
    if review and flow not in (None, REVIEW_ALIAS):
        raise SettingsError(
            f"--review means --flow {REVIEW_ALIAS}; it cannot go with --flow {flow}"
        )
    return get_flow(flow or (REVIEW_ALIAS if review else DEFAULT_FLOW))
