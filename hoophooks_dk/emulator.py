"""One event through one hook, as Hoop would run it: the core both faces call.

payload -> validated; hook files -> read (tree or ref) -> loaded as Hoop loads them;
script -> run with the payload in the environment (and the capture's proxy, when one is
attached) -> a ``FireResult`` holding what Hoop would record, what the hook really did,
what it sent, and which of the payload's secrets (``connection_envs`` values, its own
source) went with it. Whole sessions (``session``) are played by ``hoophooks_dk.sessions``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import payload as payloads
from .errors import PayloadError, SettingsError
from .hooks import HookFile, read_hooks, require
from .render import check_close_layout, load
from .runtime.runner import DEFAULT_TIMEOUT, Runner, RunResult, SubprocessRunner, kill_limit
from .settings import ENV_MODES

if TYPE_CHECKING:
    from .capture.capture import Capture, CapturedRequest
    from .capture.connections import CapturedConnection
    from .capture.datagrams import CapturedDatagram, RuntimeNote
    from .capture.syslog_receiver import SyslogMessage
    from .leaks import Leak
    from .runtime.agent import Runtime
    from .sessions import SessionResult

PAYLOAD_VARIABLE = payloads.PAYLOAD_VARIABLE  # the name Hoop gives it, for old imports
# --env-mode clean keeps only these of the caller's variables: what python3 (or a launcher
# such as pyenv's shim) needs to start and to decode text. Hoop's agent may pass nothing
# but the payload (docs/hoop-runtime.md section 3).
CLEAN_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYENV_ROOT", "PYENV_VERSION")


@dataclass
class FireResult:
    """One fired event: the payload as the hook parsed it, the run (what Hoop records and
    what the hook did), and, with a capture, what it sent and which secrets went with it."""

    event: str
    payload: dict[str, Any]
    run: RunResult
    hook_path: str
    origin: str
    requests: list[CapturedRequest] | None = None  # None when no capture was attached
    warnings: list[str] = field(default_factory=list)  # risks Hoop would not report
    timeout: float = DEFAULT_TIMEOUT
    leaks: list[Leak] = field(default_factory=list)  # payload secrets in what it sent
    syslog: list[SyslogMessage] | None = None  # None when no syslog receiver was attached
    source: bytes = b""  # the hook file as written (reports show Hoop's template step)
    script: bytes = b""  # the script after the template step, as the agent runs it
    #: TCP connections that were not HTTP, and UDP datagrams (the agent runtime's sockets)
    connections: list[CapturedConnection] | None = None
    datagrams: list[CapturedDatagram] | None = None
    dns: list[RuntimeNote] = field(default_factory=list)  # names the hook looked up
    #: How the network was held: "captured", "sandboxed" or "live".
    network: str = "captured"
    runtime: Runtime | None = None  # what the hook ran with (None: not known)

    id = property(lambda self: self.payload["id"])
    sid = property(lambda self: self.payload["sid"])
    exit_code = property(lambda self: self.run.exit_code)
    output = property(lambda self: self.run.output)
    timed_out = property(lambda self: self.run.timed_out)
    execution_time_sec = property(lambda self: self.run.execution_time_sec)
    duration_ms = property(lambda self: round(self.run.duration * 1000, 3))
    hook_exit_code = property(lambda self: self.run.hook_exit_code)
    hook_output = property(lambda self: self.run.hook_output)
    started_at = property(lambda self: self.run.started_at)
    #: What the hook started and left running when it exited (``runtime.keeper``).
    left_running = property(lambda self: list(self.run.left_running))

    @property
    def ok(self) -> bool:
        """What Hoop would record as success (a leak is reported apart: see ``leaks``)."""
        return self.exit_code == 0 and not self.timed_out

    def is_late(self, request: CapturedRequest) -> bool:
        """Sent after the gateway stopped waiting: it arrives, but Hoop recorded -2."""
        deadline = self.run.started_at + self.timeout
        return self.timed_out and request.time.timestamp() > deadline

    @property
    def late_requests(self) -> list[CapturedRequest]:
        return [request for request in self.requests or () if self.is_late(request)]

    @property
    def sent(self) -> list[Any]:
        """Everything the hook sent that was captured: HTTP requests, syslog messages, other
        connections, datagrams, and the names it looked up (a name reaches DNS servers)."""
        return [
            *(self.requests or []),
            *(self.syslog or []),
            *(self.connections or []),
            *(self.datagrams or []),
            *self.dns,
        ]

    @property
    def live(self) -> bool:
        """No capture was attached: the hook's requests went to the real network."""
        return self.requests is None

    def to_dict(self) -> dict[str, Any]:
        result = {
            "event": self.event,
            "id": self.id,
            "sid": self.sid,
            "exit_code": self.exit_code,
            "output": self.output,
            "execution_time_sec": self.execution_time_sec,
            "duration_ms": self.duration_ms,
            "timed_out": self.timed_out,
            "hook_exit_code": self.hook_exit_code,
            "hook_output": self.hook_output,
            "started_at": self.started_at,
            "hook": self.hook_path,
            "origin": self.origin,
            "warnings": self.warnings,
            "left_running": [survivor.to_dict() for survivor in self.left_running],
            "network": self.network,
            "runtime": None if self.runtime is None else self.runtime.to_dict(),
            "leaks": [leak.to_dict() for leak in self.leaks],
        }
        if self.requests is not None:
            result["requests"] = [
                request.to_dict() | {"late": self.is_late(request)} for request in self.requests
            ]
        if self.syslog is not None:
            result["syslog"] = [message.to_dict() for message in self.syslog]
        if self.connections is not None:
            result["connections"] = [connection.to_dict() for connection in self.connections]
        if self.datagrams is not None:
            result["datagrams"] = [datagram.to_dict() for datagram in self.datagrams]
        if not self.live:
            result["dns"] = [note.detail for note in self.dns]
        return result


@dataclass
class Emulator:
    """Fires events at the hooks of one runbooks repository.

    ``capture``, when set, receives every HTTP(S) request the hooks make; ``env`` is the
    environment the hook starts from (the caller's by default), all of it with
    ``env_mode="inherit"``, only what python3 needs with ``"clean"``; ``extra_env`` holds
    the settings given on top of it (``--env``, the repo's settings file). At ``timeout``
    the result is the gateway's; the hook runs on until ``kill_after`` (default 60 s).
    """

    repo: Path
    ref: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    runner: Runner = field(default_factory=SubprocessRunner)
    capture: Capture | None = None
    env: Mapping[str, str] | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    kill_after: float | None = None
    env_mode: str = "inherit"

    def __post_init__(self) -> None:
        """Refuse settings no run could use now, not at the first fire."""
        if self.env_mode not in ENV_MODES:
            raise SettingsError(
                f"unknown env mode {self.env_mode!r}: expected one of {', '.join(ENV_MODES)}"
            )
        kill_limit(self.timeout, self.kill_after)

    def fire(
        self,
        event: str,
        payload: Mapping[str, Any] | None = None,
        overrides: Iterable[tuple[str, Any]] = (),
        *,
        source: str = "payload",
        **fields: Any,
    ) -> FireResult:
        """Fire ``event``; ``payload`` is a file's content (complete or partial) or None."""
        return self.prepare(event).fire(payload, overrides, source=source, **fields)

    def read_hooks(self) -> dict[str, HookFile | None]:
        """Both hook files, as Hoop reads them together (None where one is absent)."""
        return read_hooks(self.repo, self.ref)

    def prepare(self, event: str, hooks: Mapping[str, HookFile | None] | None = None) -> Prepared:
        """The hook for ``event`` read and loaded once, ready to fire (sessions fire it
        several times, possibly at once); ``hooks`` as ``read_hooks`` returned them, when
        the caller has read them already.

        Raises what Hoop would do instead of running it: ``HookNotFound`` (no such file),
        ``HooksNotLoaded`` (either file fails Hoop's load step), ``GatewayCrash`` (a close
        hook without an open hook: the gateway panics on the close)."""
        hooks = self.read_hooks() if hooks is None else hooks
        hook = require(dict(hooks), event, self.repo, self.ref)
        script = load(hooks)[event]
        if event == "session-close":
            check_close_layout(hooks)
        return Prepared(self, event, hooks, hook, script)

    def session(self, flow: str | None = None, **options: Any) -> SessionResult:
        """A session's whole life as Hoop fires it; see ``hoophooks_dk.sessions.play``."""
        from .sessions import play

        return play(self, flow, **options)

    def _run(self, event: str, payload: dict, script: bytes, path: str, origin: str) -> FireResult:
        env = self._environment()
        tag = uuid.uuid4().hex[:12]  # what this run sends carries it: concurrent runs apart
        mark = 0  # one mark in the capture's one log: its requests and syslog messages
        receiver = getattr(self.capture, "syslog", None)
        if self.capture is not None:
            env.update(self.capture.environ(client=tag))
            mark = self.capture.mark()
        env[payloads.PAYLOAD_VARIABLE] = text = payloads.hoop_json(payload)
        check_environment_size(text, payload)
        runtime = getattr(self.runner, "runtime", None)  # set by ``wiring.make_runner``
        if runtime is not None:
            env = runtime.environ(env)
        run = self.runner.run(script, env, self.timeout, self.kill_after)
        requests = None
        if self.capture is not None:
            self.capture.wait_idle()  # the syslog receiver's messages too
            requests = self.capture.requests_since(mark, client=tag)
        seen = json.loads(text)  # the payload as the hook parses it
        result = FireResult(event, seen, run, path, origin, requests, timeout=self.timeout)
        result.runtime = runtime
        result.warnings.extend(run.warnings)
        if receiver is not None:  # this run's own ports, and the shared ones
            result.syslog = receiver.messages_since(mark, client=tag)
            receiver.release(tag)
        self._held(result, mark, tag)
        if result.sent:
            from .leaks import find_leaks

            result.leaks = find_leaks(result.sent, payloads.canaries(seen))
        return result

    def _held(self, result: FireResult, mark: int, tag: str) -> None:
        """How the network was held, what went around HTTP, and what may have escaped."""
        from .runtime.held import network_of

        result.network = network_of(self.runner, self.capture)
        if self.capture is None:
            return
        from .capture.records import NOTE, TCP, UDP
        from .runtime.held import warnings_for

        records = self.capture.records
        result.connections = records.since(mark, kind=TCP, client=tag)
        result.datagrams = records.since(mark, kind=UDP, client=tag)
        notes = records.since(mark, kind=NOTE, client=tag)
        result.dns = [note for note in notes if note.kind == "dns"]
        result.warnings.extend(warnings_for(result, notes))

    def _environment(self) -> dict[str, str]:
        """The hook's environment before the capture's variables and the payload: the
        caller's (or only what python3 needs, ``clean``), then ``extra_env``."""
        base = os.environ if self.env is None else self.env
        if self.env_mode == "clean":
            env = {name: base[name] for name in CLEAN_KEEP if name in base}
        else:
            env = dict(base)
        env.update(self.extra_env)
        return env


@dataclass
class Prepared:
    """One event's hook, read and rendered, fired as many times as needed."""

    emulator: Emulator
    event: str
    hooks: Mapping[str, HookFile | None]
    hook: HookFile
    script: bytes

    def fire(
        self,
        payload: Mapping[str, Any] | None = None,
        overrides: Iterable[tuple[str, Any]] = (),
        *,
        source: str = "payload",
        **fields: Any,
    ) -> FireResult:
        text = payloads.input_file_text(self.script)
        event = self.event
        built = build_payload(event, payload, overrides, input_file=text, source=source, **fields)
        result = self.emulator._run(event, built, self.script, self.hook.path, self.hook.origin)
        result.source, result.script = self.hook.source, self.script
        return result


def build_payload(
    event: str,
    base: Mapping[str, Any] | None = None,
    overrides: Iterable[tuple[str, Any]] = (),
    *,
    input_file: str = "",
    source: str = "payload",
    **fields: Any,
) -> dict[str, Any]:
    """A complete, validated payload: ``base`` (a file's content) or a synthetic one.

    Synthetic payloads with no changes are valid by construction (a property test holds
    the builder to the schema), so they skip validation and its import cost.
    """
    payloads.check_event(event)
    start = payloads.synthetic(event) if base is None else base
    overrides = [*payloads.field_overrides(event, fields), *overrides]
    payload = payloads.complete(start, event, input_file=input_file, overrides=overrides)
    if base is not None or overrides:
        check_payload(payload, event, source)
    return payload


def check_environment_size(value: str, payload: Mapping[str, Any] | None = None) -> None:
    """Refuse a payload the kernel would refuse, naming what makes it large. ``value`` is
    the text set in the environment, measured as ``check`` (HK107) and ``fuzz`` measure."""
    size = payloads.variable_bytes(value)
    if size > payloads.MAX_ENV_STRING:
        raise PayloadError(
            f"the payload is {size:,} bytes in the environment; Linux refuses variables over "
            f"{payloads.MAX_ENV_STRING:,} bytes, so the agent could not start python3 for "
            f"this hook ({what_is_large(payload or {})})"
        )


def what_is_large(payload: Mapping[str, Any]) -> str:
    """The session input, the hook source, or both, with their sizes as sent (Go's JSON:
    a byte of the source that is not UTF-8 takes six, ``\\ufffd``)."""
    event = payload.get("event_session_open")
    parts = {
        "the session input (event_session_open.input)": (
            event.get("input") if isinstance(event, dict) else None
        ),
        "the hook's own source (input_file)": payload.get("input_file"),
    }
    sizes = {
        name: len(payloads.go_json(text).encode())
        for name, text in parts.items()
        if isinstance(text, str)
    }
    quarter = payloads.MAX_ENV_STRING / 4
    large = [f"{name}, {size:,} bytes" for name, size in sizes.items() if size > quarter]
    if not large:
        listed = "; ".join(f"{name}, {size:,} bytes" for name, size in sizes.items())
        return f"no one field is large: {listed}; the rest is other fields"
    return "what makes it large: " + " and ".join(large)


def check_payload(payload: Mapping[str, Any], event: str, source: str = "payload") -> None:
    """Raise one PayloadError that lists every violation, or when the event does not match."""
    from .schema import validate

    problems = payloads.value_problems(payload)
    if not isinstance(payload.get("sid"), str):
        problems.append(f"$.sid: expected a uuid string, got {json.dumps(payload.get('sid'))}")
    else:
        problems += [p for p in [payloads.sid_problem(payload)] if p]
    if problems:
        raise PayloadError(f"{source}: {'; '.join(problems)}")
    violations = validate(payload)
    if violations:
        listed = "\n".join(f"  {v}" for v in violations)
        hint = ""
        events = {f"$.{key}" for key in payloads.EVENT_KEYS.values()}
        if any(v.path in events and v.message.startswith("missing") for v in violations):
            hint = (
                f"\n  (Hoop always sends every field of the event object, so the kit fills in "
                f"none of them: `hookdk payload {event}` prints a complete payload to start "
                f"from, or fire without --payload and change fields with --set)"
            )
        raise PayloadError(f"{source} does not match the hook payload schema:\n{listed}{hint}")
    carried = payloads.event_of(payload)
    if carried != event:
        raise PayloadError(
            f"{source} is a {carried} payload, but the event fired is {event}; "
            f"set {payloads.EVENT_KEYS[event]} and null the other"
        )
    expected = payloads.hook_id(event, payload["sid"])
    if payload["id"] != expected:
        raise PayloadError(
            f'{source}: $.id: expected {expected} (uuid5 of "{event}/<sid>", as Hoop derives '
            f"it), got {json.dumps(payload['id'])}; drop id to have it filled in"
        )
