"""What a test holds: ``Siem``, its view of the capture, and ``HoopHooks``, which fires.

The pytest plugin hands these out as fixtures (``hoop_siem``, ``hoop_hooks``), but they
are plain objects over the core (``Capture``, ``Emulator``, a runner), so a test suite
without the plugin, or another framework, can build them too. Nothing here imports
pytest: where the plugin wants a pytest failure it passes ``fail``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ..errors import HookdkError, HookNotFound

T = TypeVar("T")

if TYPE_CHECKING:  # the capture pulls in respx and cryptography: only import when used
    from ..capture.capture import Capture, CapturedRequest
    from ..capture.syslog_receiver import SyslogMessage, SyslogReceiver
    from ..emulator import Emulator, FireResult
    from ..fuzz import FuzzReport
    from ..runtime.runner import Runner
    from ..sessions import SessionResult
    from ..settings import RunSettings

__all__ = ["HoopHooks", "Siem", "SiemSyslog"]

#: Seconds the teardown waits for requests still in flight after a test.
IDLE_TIMEOUT = 2.0


class SiemSyslog:
    """What one test sees of the syslog receiver: the messages this test's hooks sent
    (``siem.syslog[0]``, ``len(siem.syslog)``, iteration), and a collector that is down.

    ``mark``: where the test began in the receiver's record log (``Siem`` passes its own,
    the capture's log being the receiver's too); None: now. A message on the ports of a
    hook run that did not start in this test is not this test's (``strays``)."""

    def __init__(self, receiver: SyslogReceiver | None, mark: int | None = None) -> None:
        self.receiver = receiver
        if mark is None:
            mark = receiver.mark() if receiver is not None else 0
        self._mark = mark

    @property
    def messages(self) -> list[SyslogMessage]:
        return [m for m in self._all() if _own(m, self._ours())]

    @property
    def strays(self) -> list[SyslogMessage]:
        """Messages since the test began that came from hook runs of other tests."""
        return [m for m in self._all() if not _own(m, self._ours())]

    def _all(self) -> list[SyslogMessage]:
        return self.receiver.messages_since(self._mark) if self.receiver is not None else []

    def _ours(self) -> set[str]:
        if self.receiver is None:
            return set()
        return self.receiver.records.clients_since(self._mark)

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
            raise HookdkError("this capture has no syslog receiver (Capture(syslog=True))")
        return self.receiver


class Siem:
    """What one test sees of the capture: its own requests, routes and leak canaries.

    Its own: what the hook runs that started during the test sent (each run's requests
    carry its tag), and what came untagged (the test's own code, through
    ``hoop_capture.proxy_url``). Anything else, such as a process a hook of an earlier
    test left behind, is in ``strays``, never in ``requests``. What this test's hooks
    leave running lives until the test ends (``lingering``), then is ended."""

    def __init__(self, capture: Capture) -> None:
        from ..payload import CANARY_SECRETS, b64
        from ..runtime.keeper import Lingering

        self._capture = capture
        self._mark = capture.mark()  # one mark: requests and syslog messages share a log
        self.syslog = SiemSyslog(getattr(capture, "syslog", None), self._mark)
        self.canaries: dict[str, str] = {
            f'connection_envs["{key}"]': b64(value) for key, value in CANARY_SECRETS.items()
        }
        #: What the test's hooks left running, ended when the test ends (``finish``).
        self.lingering = Lingering()

    @property
    def requests(self) -> list[CapturedRequest]:
        ours = self._capture.records.clients_since(self._mark)
        return [r for r in self._capture.requests_since(self._mark) if _own(r, ours)]

    @property
    def strays(self) -> list[Any]:
        """Requests, connections, datagrams and syslog messages since the test began
        that are not its own: sent by hook runs that started before it (a process an
        earlier test's hook left)."""
        from ..capture.records import HTTP, TCP, UDP

        ours = self._capture.records.clients_since(self._mark)
        sent = [
            record
            for kind in (HTTP, TCP, UDP)
            for record in self._capture.records.since(self._mark, kind=kind)
            if not _own(record, ours)
        ]
        return [*sent, *self.syslog.strays]

    @property
    def connections(self) -> list[Any]:
        """This test's TCP connections that were not HTTP (``CapturedConnection``)."""
        from ..capture.records import TCP

        ours = self._capture.records.clients_since(self._mark)
        return [r for r in self._capture.records.since(self._mark, kind=TCP) if _own(r, ours)]

    @property
    def datagrams(self) -> list[Any]:
        """This test's UDP datagrams to ports that are not syslog's (``CapturedDatagram``)."""
        from ..capture.records import UDP

        ours = self._capture.records.clients_since(self._mark)
        return [r for r in self._capture.records.since(self._mark, kind=UDP) if _own(r, ours)]

    def reply_tcp(self, pattern: str, data: bytes) -> None:
        """Answer connections to ``host:port`` matching ``pattern`` with ``data`` (see
        ``Capture.reply_tcp``); without one, the capture reads and then closes."""
        self._capture.reply_tcp(pattern, data)

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

    @property
    def untrusted_certificates(self) -> bool:
        """Set it to present HTTPS and syslog-TLS certificates from a CA the hooks do not
        trust, as an impostor between the hook and its collector would: a hook that
        verifies certificates fails to deliver (the capture turns it off between tests)."""
        return self._capture.untrusted_certificates

    @untrusted_certificates.setter
    def untrusted_certificates(self, value: bool) -> None:
        self._capture.untrusted_certificates = value

    @default_status.setter
    def default_status(self, value: int) -> None:
        self._capture.default_status = value

    def respond(self, answers: str | list[str] | dict[str, int]) -> None:
        """Program answers as ``--respond`` and the settings file do: ``"503"`` (the
        default status), ``"POST https://siem.example.com/*=503"``, or a table of
        ``{"[METHOD ]URL-GLOB": status}`` where ``"*"`` alone is the default status."""
        from ..settings import apply_routes, parse_respond, parse_responses

        if isinstance(answers, dict):
            default, routes = parse_responses(answers, "hoop_siem.respond()")
            if default is not None:
                self.default_status = default
            apply_routes(self._capture, routes)
            return
        routes = []
        for text in [answers] if isinstance(answers, str) else answers:
            answer = parse_respond(text, "respond")
            if isinstance(answer, int):
                self.default_status = answer
            else:
                routes.append(answer)
        apply_routes(self._capture, routes)

    def assert_no_leaks(self) -> None:
        """Fail when a connection secret or a hook's source shows up in any request."""
        from ..leaks import assert_no_leaks

        assert_no_leaks([*self.requests, *self.syslog.messages], self.canaries)

    def finish(self, idle_timeout: float = IDLE_TIMEOUT) -> None:
        """End of the test: end what its hooks left running, re-raise what the test's
        routes raised, fail when requests are still in flight, and (in strict mode) list
        the requests no route answered."""
        self.lingering.end()
        idle = self._capture.wait_idle(idle_timeout)
        self._capture.raise_failure()
        if not idle:
            raise AssertionError(
                f"hookdk capture: a request was still in flight {idle_timeout:g} s after the "
                "test ended (a hook left one running, or a client stopped mid-request); "
                "what it sent is not in the test's requests"
            )
        self._capture.check_strict()

    def _saw(self, result: FireResult) -> None:
        """Keep the canaries of every fire of this test, whatever the order: each hook's
        source under its event's name, and a value that differs from one already kept
        under a label of its own, so ``assert_no_leaks`` covers every fire, not the last."""
        from ..payload import canaries

        for label, secret in canaries(result.payload).items():
            if label == "input_file":
                label = f"{result.event} input_file"
            self._keep(label, secret)

    def _keep(self, label: str, secret: str) -> None:
        if secret in self.canaries.values():
            return
        name, number = label, 2
        while name in self.canaries:
            name, number = f"{label} #{number}", number + 1
        self.canaries[name] = secret


def _own(record: CapturedRequest | SyslogMessage, ours: set[str]) -> bool:
    """Sent by a run of this test (its tag was handed out during it), or untagged."""
    return record.client == "" or record.client in ours


def _raise(message: str) -> NoReturn:
    raise HookNotFound(message)


class HoopHooks:
    """Fires events at one runbooks repository, against this test's capture.

    ``settings`` are what the hooks run with (the repository's settings file, read by
    ``settings.resolve``: timeout, environment, mode); ``timeout``, ``env_mode`` and
    ``flow`` are this test's defaults on top (the ``hoop`` marker sets them); ``fail`` is
    called with the message when a hook file is missing.
    """

    def __init__(
        self,
        repo: Path,
        runner: Runner,
        siem: Siem,
        capture: Capture,
        found_by: str = "",
        *,
        settings: RunSettings | None = None,
        timeout: float | None = None,
        env_mode: str | None = None,
        flow: str | None = None,
        fail: Callable[[str], NoReturn] = _raise,
        environ_at_start: Mapping[str, str] | None = None,
    ) -> None:
        from ..settings import RunSettings

        self.repo = repo
        self.siem = siem
        self.settings = settings or RunSettings()
        self.timeout = self.settings.timeout if timeout is None else timeout
        self.env_mode = env_mode or self.settings.env_mode
        self.flow = flow
        self._runner = runner
        self._capture = capture
        self._found_by = found_by  # how the repo was chosen, for a missing hook's message
        self._fail = fail
        #: Every fire (a list of one result) and session this test made, in order: what
        #: the plugin's ``--hoop-report`` draws.
        self.fired: list[list[FireResult]] = []
        self._environ_at_start = environ_at_start

    def emulator(
        self,
        *,
        ref: str | None = None,
        timeout: float | None = None,
        kill_after: float | None = None,
        env_mode: str | None = None,
    ) -> Emulator:
        """``env_mode="clean"`` runs hooks with only the payload (and the capture's and
        python3's variables), as an agent may; ``kill_after`` ends a hook that runs on
        past ``timeout`` (default 60 s). Unset, both follow the test's ``hoop`` marker."""
        from dataclasses import replace

        from ..wiring import make_emulator

        settings = replace(
            self.settings,
            timeout=self.timeout if timeout is None else timeout,
            env_mode=env_mode or self.env_mode,
            env=self._settings_env(),
        )
        return make_emulator(
            self.repo, settings, self._runner, self._capture, ref=ref, kill_after=kill_after
        )

    def _settings_env(self) -> dict[str, str]:
        """The settings file's ``env`` as this test left it in ``os.environ``: the plugin
        puts the file's values there for the test (``_settings_in_environ``), so what the
        test changed (``monkeypatch.setenv``/``delenv``) wins, as its marker and its routes
        win over the file: a test can pin a setting or take it away. Outside the plugin
        (no environment recorded at start), the file's ``env`` as it is."""
        if self._environ_at_start is None:
            return dict(self.settings.env)
        # kept in a clean environment too; a name the test removed is not given at all
        return {name: os.environ[name] for name in self.settings.env if name in os.environ}

    def fire(
        self,
        event: str,
        payload: dict[str, Any] | None = None,
        *,
        ref: str | None = None,
        timeout: float | None = None,
        kill_after: float | None = None,
        env_mode: str | None = None,
        **fields: Any,
    ) -> FireResult:
        """Fire ``event``; ``fields`` set the event's fields by name (``exit_code=1``), top-level
        keys (``sid=...``), or dotted paths (``**{"event_session_open.verb": "connect"}``)."""
        emulator = self.emulator(ref=ref, timeout=timeout, kill_after=kill_after, env_mode=env_mode)
        with self._test_lasting():
            result = self._hook_must_exist(lambda: emulator.fire(event, payload, **fields))
        self.siem._saw(result)
        self.fired.append([result])
        return result

    def session(
        self,
        flow: str | None = None,
        *,
        ref: str | None = None,
        timeout: float | None = None,
        kill_after: float | None = None,
        env_mode: str | None = None,
        **options: Any,
    ) -> SessionResult:
        """The events Hoop fires for one session of ``flow`` (``hookdk flows``; default the
        test's marker, else ``exec``), each started when Hoop would start it;
        ``review=True`` is ``review-same-stream``. Results come in the flow's order; see
        ``hoophooks_dk.sessions.play`` for ``reviewers``, ``run_by``, ``duration``..."""
        emulator = self.emulator(ref=ref, timeout=timeout, kill_after=kill_after, env_mode=env_mode)
        with self._test_lasting():
            results = self._hook_must_exist(lambda: emulator.session(flow or self.flow, **options))
        for result in results:
            self.siem._saw(result)
        self.fired.append(results)
        return results

    def fuzz(
        self,
        event: str,
        *,
        examples: int = 100,
        seed: int | None = None,
        ref: str | None = None,
        timeout: float | None = None,
        env_mode: str | None = None,
        allow_leaks: bool = False,
    ) -> FuzzReport:
        """Fire ``examples`` generated payloads at the hook; ``.check()`` the report. A
        payload secret in a request is a failure unless ``allow_leaks``."""
        from ..fuzz import fuzz

        emulator = self.emulator(ref=ref, timeout=timeout, env_mode=env_mode)
        return self._hook_must_exist(
            lambda: fuzz(
                emulator,
                event,
                examples=examples,
                seed=seed,
                allow_leaks=allow_leaks,
            )
        )

    def _test_lasting(self) -> Any:
        """What a hook leaves running lives until the test ends (``Siem.finish``), as on
        the agent it would go on after the hook: its late requests are the test's."""
        from ..runtime.keeper import lingering

        return lingering(self.siem.lingering)

    def _hook_must_exist(self, call: Callable[[], T]) -> T:
        """``call()``; a missing hook is the test's setup being wrong, not the hook
        failing: one line naming where the kit looked, how it chose the repository, and
        the likely cause (``--hoop-repo`` only when another repository is the fix)."""
        try:
            return call()
        except HookNotFound as error:
            message = error.explain("--hoop-repo", self._found_by)
        self._fail(message)  # out of the except: pytest would print the cause as well
