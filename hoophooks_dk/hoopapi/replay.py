"""A session read from Hoop's API, as the payloads Hoop sent its hooks.

``GET /api/sessions/{id}`` (``gateway/api/session/session.go``) returns the session as
Hoop stored it. The hooks saw the same facts, taken from the same places at the time
(``gateway/transport/extensions/runbookhook.go``); this module maps one onto the other,
field by field (docs/replay-and-doctor.md has the table with every Hoop file):

* open: ``verb``, ``connection`` -> ``connection_name``, ``type`` -> ``connection_type``,
  ``connection_subtype``, ``user`` -> ``user_email`` (an API key's name for a session
  opened with one), ``script.data`` -> ``input``;
* close: ``exit_code``, and ``output`` from the event stream: the gateway writes the
  close packet's text as the stream's ``e`` event when the session ends
  (``closeSessionWAL`` in ``gateway/transport/plugins/audit/wal.go``), and nothing at all
  when the text is empty, which is exactly when the hook got ``null``;
* the flow (reviewed, rejected, still running...) from ``review``, ``ai_analysis``,
  ``exit_code`` and ``verb``, where the API shows it;
* ``connection_envs``: the connection's keys when the API gives them without values (an
  org that hides secrets), each with a canary value; otherwise the kit's own canaries.
  The secrets themselves are never fetched.

Nothing here fires a hook: ``ReplayPlan`` says what to fire, ``cli/replay.py`` fires it
through the one wiring, as ``hookdk session`` does.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import HookdkError
from ..payload import CANARY_SECRETS, b64
from .source import (
    AGENT_PACKETS,
    API_KEYS,
    AUDIT_PLUGIN,
    CLIENT_LOOP,
    CONNECTION_SECRETS,
    HOOK_LOADER,
    SESSION_API,
    SESSION_WAL,
    cite,
)

if TYPE_CHECKING:
    from .client import HoopApi

#: The placeholder stream Hoop stores when a session had no log on disk
#: (``markSessionDonePlaceholder``): its ``e`` event is not what the close carried.
NO_LOG_TEXT = b"no log found on disk"
AGENT_ERROR_CODE = 254  # wal.go internalExitCode; agent.go for an unparsable exit code
VERBS = ("connect", "exec")


class SessionNotReplayable(HookdkError):
    """The API's answer lacks what a payload needs (a field of the wrong type, say)."""


@dataclass
class ReplayPlan:
    """What to fire for one session, and why. ``flow`` None: the session has not ended,
    so only its session-open has fired so far; ``fires`` False: Hoop fired no hook."""

    sid: str
    flow: str | None
    open_fields: dict[str, Any]
    reviewers: list[str]
    exit_code: int | None
    output: str | None
    summary: str
    notes: list[str] = field(default_factory=list)
    fires: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "flow": self.flow,
            "fires": self.fires,
            "summary": self.summary,
            "event_session_open": self.open_payload_fields(),
            "event_session_close": None
            if self.exit_code is None
            else {"exit_code": self.exit_code, "output": self.output},
            "notes": self.notes,
        }

    def open_payload_fields(self) -> dict[str, Any]:
        return {**self.open_fields, "connection_reviewers": list(self.reviewers)}


def fetch_plan(api: HoopApi, sid: str, flow: str | None = None) -> ReplayPlan:
    """Read session ``sid`` (and, where the org hides secrets, its connection's keys and
    reviewers) and map it. ``flow`` overrides the flow read from the session."""
    session = api.session(sid)
    name = session.get("connection")
    keys = reviewers = None
    notes = []
    hides = api.hides_secrets()
    if hides and isinstance(name, str) and name:
        connection = api.connection(name) or {}
        keys, reviewers = connection_facts(connection)
        if keys is not None:
            notes.append(
                f"connection_envs: the keys of connection {name} (the org hides secret values, "
                f"so the API gave keys only: {cite(CONNECTION_SECRETS, 'stripInlineSecrets')}), "
                "each with a canary value"
            )
    if keys is None:
        why = (
            "the org lets the API read connection secrets, so the kit did not fetch the connection"
            if hides is False
            else "the kit could not learn whether the API hides connection secrets "
            "(GET /api/orgs/hide-role-info is for admins), so it did not fetch the connection"
        )
        notes.append(f"connection_envs: the kit's canaries (HOST, USER, PASS): {why}")
    plan = plan_replay(session, keys=keys, connection_reviewers=reviewers, flow=flow)
    plan.notes[:0] = notes
    return plan


def connection_facts(connection: Mapping[str, Any]) -> tuple[list[str] | None, list[str] | None]:
    """The secret keys and the reviewer groups of a connection answer. The values are
    dropped here, whatever they are: only keys leave this function."""
    secret = connection.get("secret")
    keys = sorted(str(key) for key in secret) if isinstance(secret, Mapping) else None
    groups = connection.get("reviewers")
    reviewers = [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else None
    return keys, reviewers


def plan_replay(
    session: Mapping[str, Any],
    *,
    keys: Iterable[str] | None = None,
    connection_reviewers: list[str] | None = None,
    flow: str | None = None,
) -> ReplayPlan:
    """The payload fields and the flow for one API session answer (``openapi.Session``)."""
    sid = _text(session, "id")
    _check_sid(sid)
    fields = {
        "verb": _text(session, "verb"),
        "connection_name": _text(session, "connection"),
        "connection_type": _text(session, "type"),
        "connection_subtype": _text(session, "connection_subtype"),
        "connection_envs": canary_envs(sid, keys),
        "input": _script(session),
        "user_email": _text(session, "user"),
    }
    notes: list[str] = []
    reviewers = _reviewers(session, connection_reviewers, notes)
    exit_code = _exit_code(session)
    output = close_output(session, notes) if exit_code is not None else None
    plan = ReplayPlan(sid, None, fields, reviewers, exit_code, output, _summary(session), notes)
    if "@" not in fields["user_email"]:
        notes.append(
            f"user_email {fields['user_email']!r} is the session's user as Hoop stored it: an "
            f"API key's name for a session opened with one ({cite(API_KEYS, 'GetAPIKeyContext')})"
        )
    if flow is not None:
        plan.flow = flow
        notes.append(f"flow {flow}: chosen with --flow")
        if exit_code is None:
            plan.exit_code = 0
            notes.append("the session has not ended: the close carries exit_code 0, output null")
        return plan
    _infer_flow(plan, session)
    return plan


def canary_envs(sid: str, keys: Iterable[str] | None) -> dict[str, str]:
    """``connection_envs`` with a canary for each key (base64, as Hoop sends values): the
    kit's leak checks find them wherever a hook sends them. Without keys, the kit's own."""
    if keys is None:
        return {key: b64(value) for key, value in CANARY_SECRETS.items()}
    found = {}
    for key in keys:
        mark = uuid.uuid5(uuid.NAMESPACE_URL, f"{sid}/{key}").hex[:10]
        name = key.split(":", 1)[-1]
        found[key] = b64(f"hookdk-canary-{name}-{mark}")
    return found


def stream_events(stream: Any) -> list[tuple[str, bytes]] | None:
    """The stored event stream ``[[seconds, "i"|"o"|"e", base64], ...]`` as (type, bytes),
    or None when the answer holds something else (no stream, or one rendered as text)."""
    if not isinstance(stream, list):
        return None
    events = []
    for event in stream:
        if not (isinstance(event, list) and len(event) == 3 and isinstance(event[1], str)):
            return None
        try:
            data = base64.b64decode(event[2], validate=True) if isinstance(event[2], str) else None
        except binascii.Error:
            data = None
        if data is None:
            return None
        events.append((event[1], data))
    return events


def close_output(session: Mapping[str, Any], notes: list[str]) -> str | None:
    """The close event's ``output``: the stream's last ``e`` event, as text the way Go's
    ``string([]byte)`` keeps it (a byte that is not UTF-8 is written as \\ufffd); None when
    there is none, as Hoop sends ``null`` for an empty close text."""
    events = stream_events(session.get("event_stream"))
    if events is None:
        notes.append(
            "output: null, unknown: the API gave no event stream as stored (only the "
            f"session's owner, admins and auditors may read it: {cite(SESSION_API, 'Get')})"
        )
        return None
    if events == [("e", NO_LOG_TEXT)]:
        notes.append(
            "output: null, unknown: Hoop kept no log for this session and stored a "
            f"placeholder ({cite(SESSION_WAL, 'markSessionDonePlaceholder')})"
        )
        return None
    errors = [data for kind, data in events if kind == "e"]
    if not errors:
        metrics = session.get("metrics")
        if isinstance(metrics, Mapping) and metrics.get("truncated"):
            notes.append(
                "output: null, unknown: Hoop stopped storing this session's stream at its size "
                f"cap, so the close text may be missing ({cite(SESSION_WAL, 'flushSession')})"
            )
        return None
    if session.get("guardrails_info"):
        notes.append(
            "output: a guardrail matched, and Hoop stores its own message in place of the "
            f"agent's close text, which is what the hook got ({cite(AGENT_PACKETS, 'buildErrorFromPacket')})"
        )
    return errors[-1].decode("utf-8", "surrogateescape")


def _infer_flow(plan: ReplayPlan, session: Mapping[str, Any]) -> None:
    """The flow Hoop's gateway went through, from what the API shows (docs section 5)."""
    review = session.get("review") if isinstance(session.get("review"), Mapping) else None
    analysis = session.get("ai_analysis")
    analysis = analysis if isinstance(analysis, Mapping) else None
    verb = plan.open_fields["verb"]
    if verb not in VERBS:
        plan.fires = False
        plan.notes.append(f"verb {verb!r}: Hoop fires hooks only for connect and exec sessions")
    elif analysis is not None and analysis.get("action") == "block_execution":
        plan.fires = False
        plan.notes.append(
            "the AI analyzer blocked the session while the plugins ran, before the hooks' step: "
            f"Hoop fired no hook ({cite(AUDIT_PLUGIN, 'OnReceive')}, {cite(CLIENT_LOOP, 'listenClientMessages')})"
        )
    elif review is not None and review.get("status") == "REJECTED":
        plan.flow = "review-rejected"
    elif plan.exit_code is None:
        plan.notes.append(
            "the session has not ended (no exit code): only its session-open has fired so far"
        )
    elif review is not None and review.get("type") == "onetime":
        plan.flow = "review-same-stream"
        plan.notes.append(
            "flow review-same-stream: a one-time review; if the approved run was started later "
            "by someone else, replay with --flow review-run-later --run-by EMAIL (the API does not "
            "say who ran it)"
        )
    elif analysis is not None:
        plan.flow = "review-ai"
    elif verb == "connect" and plan.exit_code == AGENT_ERROR_CODE:
        plan.flow = "client-left"
        plan.notes.append(
            "flow client-left: a connect session with exit code 254 is how Hoop records a client "
            f"that left first, when no close event fires ({cite(SESSION_WAL, 'parseExitCodeFromErr')}); "
            "the API does not show the session's origin: if it came from the web app, the API "
            "or a runbook, Hoop kept its stream and the close fired (replay with --flow "
            "client-left-web); a Hoop Desktop session fired only the close (--flow proxy-manager)"
        )
    else:
        plan.flow = verb
        if plan.exit_code == AGENT_ERROR_CODE:
            plan.notes.append(
                "exit code 254: the agent's failure, or a client that left first (then Hoop fired "
                "no close: replay with --flow client-left)"
            )
    if plan.flow in ("review-rejected", "client-left"):
        plan.exit_code = None  # no close event: the flow has none


def _reviewers(
    session: Mapping[str, Any], connection_reviewers: list[str] | None, notes: list[str]
) -> list[str]:
    """``connection_reviewers``: the groups of the review the review plugin made (its
    ``access_request_rule_name`` is null), which are the connection's reviewers at the
    time; else the connection's current reviewers when read; else ``[]``."""
    review = session.get("review")
    if isinstance(review, Mapping) and review.get("access_request_rule_name") is None:
        groups = review.get("review_groups_data")
        if isinstance(groups, list):
            names = [g["group"] for g in groups if isinstance(g, Mapping) and "group" in g]
            if names:
                notes.append(
                    "connection_reviewers: the groups of the session's review (made by the "
                    f"review plugin, whose groups Hoop sends: {cite(HOOK_LOADER)})"
                )
                return [str(name) for name in names]
    return list(connection_reviewers or [])


def _exit_code(session: Mapping[str, Any]) -> int | None:
    value = session.get("exit_code")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SessionNotReplayable(f"session {session.get('id')}: $.exit_code is not an integer")
    return value


def _text(session: Mapping[str, Any], key: str) -> str:
    value = session.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SessionNotReplayable(
            f"session {session.get('id')}: ${'.' + key} is {type(value).__name__}, expected a string"
        )
    return value


def _script(session: Mapping[str, Any]) -> str:
    script = session.get("script")
    if script is None:
        return ""
    data = script.get("data") if isinstance(script, Mapping) else None
    if not isinstance(data, str):
        raise SessionNotReplayable(f"session {session.get('id')}: $.script.data is not a string")
    return data


def _check_sid(sid: str) -> None:
    try:
        uuid.UUID(sid)
    except ValueError:
        raise SessionNotReplayable(
            f"the API's session id {sid!r} is not a uuid, as Hoop's session ids are"
        ) from None


def _summary(session: Mapping[str, Any]) -> str:
    kind = "/".join(str(session.get(k) or "?") for k in ("type", "connection_subtype"))
    ended = session.get("exit_code")
    state = f"exit code {ended}" if ended is not None else f"status {session.get('status')}"
    return (
        f"{session.get('verb')} on {session.get('connection')} ({kind}) by "
        f"{session.get('user')}, {state}"
    )


def replay_payloads(
    plan: ReplayPlan, overrides: Iterable[tuple[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
    """The payloads of the plan, one per event (the first session-open of the flow), built
    and checked by the emulator's own ``build_payload`` as the fire builds them, without
    ``input_file``: the file ``--save`` writes, which ``hookdk fire EVENT --payload FILE``
    reads (the hook's source is filled in at each fire, so the file outlives its edits)."""
    from ..emulator import build_payload
    from ..sessions import overrides_for

    overrides = list(overrides)
    fields = {"session-open": plan.open_payload_fields()}
    if plan.exit_code is not None:
        fields["session-close"] = {"exit_code": plan.exit_code, "output": plan.output}
    saved = {}
    for event, values in fields.items():
        payload = build_payload(
            event,
            None,
            overrides_for(event, overrides),
            source=f"session {plan.sid}",
            sid=plan.sid,
            **values,
        )
        saved[event] = {key: value for key, value in payload.items() if key != "input_file"}
    return saved
