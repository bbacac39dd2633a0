"""Fuzzing a hook: many generated payloads through the real script, then the smallest failure.

A hook that fails in production fails silently (docs/hoop-runtime.md section 3), so the kit
goes looking for the payloads that break it: ``fuzz`` draws payloads from
``strategies.partial_payloads``, fires each through ``Emulator.fire`` exactly as
``hookdk fire`` would, and lets Hypothesis shrink the first failure to the smallest
payload that still fails. Nothing here prints; the CLI and the pytest plugin format
the ``FuzzReport``.

What counts as a failure: a non-zero exit code, a timeout (Hoop records -2), or a Python
traceback in the output, even when the hook caught the exception and exited 0 (searched
in the whole output, not only the 4096 bytes Hoop keeps). A traceback the hook merely
copied from the payload (a session's error output it logs) does not count.

Choices, and why:

* **Payloads are drawn without ``id``, ``command`` and ``input_file``.** The emulator
  fills them in as Hoop does: the id from the sid, the hook's own rendered source as
  ``input_file``. So the failing payload, saved to a file, replays against whatever the
  hook has become since, not against a stale copy of its source.
* **Payloads too large for one environment variable are skipped.** Linux refuses to
  start a process with a variable over 128 KiB (MAX_ARG_STRLEN); Hoop's agent could not
  start the hook either, so such a payload says nothing about the hook.
* **Errors that are not the hook's stop the run at once.** A missing hook, a wrong
  ``--python``, a payload the schema rejects: these are raised as they are, not shrunk.
* **Hypothesis's engine, configured for slow, external tests:** no example database (no
  files left in the user's repo), no deadline, no explain phase (it re-runs the hook
  many times for a hint nobody reads here), one bug reported, and a seed always chosen
  so that every run can be repeated. A hook that times out shrinks slowly, one timeout
  per attempt: lower the timeout when fuzzing such a hook.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import FlakyFailure, HypothesisWarning, Unsatisfiable

from . import payload as hoop
from .errors import HookdkError
from .strategies import partial_payloads

if TYPE_CHECKING:
    from .emulator import Emulator, FireResult

#: Strings longer than this are cut when a payload is shown (files keep them whole).
SHOWN_STRING_CHARS = 300
# Header, indented frame lines, then the ``Type: message`` line that closes it.
_TRACEBACK_BLOCK = re.compile(r"Traceback \(most recent call last\):\r?\n(?:[ \t][^\n]*\n)*[^\n]*")


@dataclass(frozen=True)
class Failure:
    """The smallest failing payload (as fired, complete), what the hook did, and why."""

    payload: dict[str, Any]
    result: FireResult
    reason: str


@dataclass(frozen=True)
class FuzzReport:
    event: str
    tried: int  # payloads fired, shrinking included
    seed: int  # pass it back to ``fuzz`` to repeat this run
    failure: Failure | None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def describe(self) -> str:
        """Plain text for an assertion message or a log."""
        if self.failure is None:
            return f"{self.event}: {self.tried} payloads, no failure (seed {self.seed})"
        shown = abbreviated(replayable(self.failure.payload))
        return (
            f"{self.event} hook failed: {self.failure.reason}\n"
            f"after {self.tried} payloads (seed {self.seed}); smallest failing payload:\n"
            f"{json.dumps(shown, indent=2)}\n"
            f"hook output:\n{self.failure.result.output}"
        )

    def check(self) -> None:
        """Raise AssertionError describing the failure, if there was one (for pytest)."""
        if self.failure is not None:
            raise AssertionError(self.describe())


def replayable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload minus ``input_file``: a replay fills in the hook's current source."""
    return {key: value for key, value in payload.items() if key != "input_file"}


def abbreviated(value: Any, limit: int = SHOWN_STRING_CHARS) -> Any:
    """``value`` with long strings cut, for showing a payload to a person."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}... [{len(value) - limit} more characters]"
    if isinstance(value, Mapping):
        return {key: abbreviated(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [abbreviated(item, limit) for item in value]
    return value


def failure_reason(result: FireResult, allow_leaks: bool = True) -> str | None:
    """Why this run counts as a failure, in one line, or None when it does not; a leak of
    the payload's secrets is one unless ``allow_leaks``."""
    traceback = own_traceback(result.run.raw_output.decode("utf-8", "replace"), result.payload)
    if result.timed_out:
        reason = f"timed out (Hoop records exit code {result.exit_code})"
    elif result.exit_code != 0:
        reason = f"exit code {result.exit_code}"
    elif traceback is not None:
        reason = "a Python traceback in the output, though the exit code is 0"
    elif result.leaks and not allow_leaks:
        return f"it sends payload secrets out: {result.leaks[0].summary()}"
    else:
        return None
    exception = traceback.splitlines()[-1].strip() if traceback else ""
    return f"{reason}: {exception}" if exception else reason


def own_traceback(output: str, payload: Mapping[str, Any]) -> str | None:
    """The last traceback in ``output`` that the hook raised rather than copied.

    A hook that logs the session's error output may print a traceback the payload
    carried (a Python session that failed); that one is the user's, not the hook's.
    Escaped copies (``json.dumps``, ``repr``) have no real newline after the header and do
    not match at all; verbatim copies are recognised as text found in the payload.
    """
    copied = "\0".join(_strings(payload))
    for block in reversed(_TRACEBACK_BLOCK.findall(output)):
        if block not in copied:
            return block
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def fuzz(
    emulator: Emulator,
    event: str,
    *,
    examples: int = 100,
    seed: int | None = None,
    allow_leaks: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FuzzReport:
    """Fire ``examples`` generated payloads at the hook for ``event``; shrink any failure.

    A leak of the payload's secrets (with a capture attached) is a failure unless
    ``allow_leaks``. ``progress(tried, failures)`` is called after every payload fired.
    Raises what the emulator raises for problems that are not the hook's (no such hook,
    hooks Hoop would not load, an interpreter that cannot start).
    """
    hoop.check_event(event)
    if examples < 1:
        raise HookdkError(f"examples must be at least 1, not {examples}")
    if emulator.kill_after is None:  # a timeout is already a failure: no need to run on
        emulator = dataclasses.replace(emulator, kill_after=emulator.timeout)
    script = _rendered_script(emulator, event)
    _check_room(event, script)
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    tried = failures = 0

    def attempt(partial: dict[str, Any]) -> None:
        nonlocal tried, failures
        assume(fits_in_environment(partial, event, script))
        tried += 1
        result = _fire(emulator, event, partial)
        reason = failure_reason(result, allow_leaks)
        failures += reason is not None
        if progress is not None:
            progress(tried, failures)
        if reason is not None:
            raise _HookFailed(Failure(result.payload, result, reason))

    test = hypothesis_seed(seed)(
        _engine_settings(examples)(given(partial_payloads(event))(attempt))
    )
    failure = _run(test)
    return FuzzReport(event, tried, seed, failure)


def fits_in_environment(partial: Mapping[str, Any], event: str, script: str) -> bool:
    """Whether the completed payload fits in the one variable the hook receives, measured
    as the emulator measures what it sends (``script`` is ``input_file_text``'s)."""
    complete = hoop.complete(partial, event, input_file=script)
    return hoop.environment_bytes(complete) <= hoop.MAX_ENV_STRING


def _rendered_script(emulator: Emulator, event: str) -> str:
    """The script Hoop would run, as the payload's ``input_file`` (decoded as the emulator
    decodes it, so sizes match), read once up front so that what Hoop would do instead of
    running it (no file, no load, a gateway crash) is raised before any payload is drawn."""
    return hoop.input_file_text(emulator.prepare(event).script)


def _check_room(event: str, script: str) -> None:
    """Refuse at once a hook so large that even a typical payload cannot reach it."""
    typical = hoop.synthetic(event) | {"sid": str(uuid.UUID(int=0))}
    if not fits_in_environment(typical, event, script):
        raise HookdkError(
            f"the {event} hook's source is too large for Hoop to start it: the payload, "
            "which carries the source as input_file, does not fit in the 128 KiB that one "
            "environment variable may hold"
        )


def _engine_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        # All of them: they guard unit tests (slow data, filters, nesting, fixtures), while
        # this "test" is a real process per example, run from the CLI or inside a test.
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def _fire(emulator: Emulator, event: str, partial: dict[str, Any]) -> FireResult:
    try:
        return emulator.fire(event, partial, source="generated payload")
    except Exception as error:
        raise _NotTheHook(error) from error


def _run(test: Any) -> Failure | None:
    """Run the Hypothesis test; the failure it ends on is the smallest one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HypothesisWarning)  # e.g. "overly large repr"
            test()
    except _HookFailed as failed:
        return failed.failure
    except FlakyFailure as flaky:
        return _flaky_failure(flaky)
    except Unsatisfiable:
        raise HookdkError(
            "too few generated payloads fit beside this hook in the 128 KiB environment "
            "variable it receives: the hook's source is too large to fuzz"
        ) from None
    except _NotTheHook as stop:
        raise stop.error from None
    return None


def _flaky_failure(flaky: FlakyFailure) -> Failure:
    """The hook failed, then passed on the same payload: report it, say so."""
    for error in flaky.exceptions:
        if isinstance(error, _HookFailed):
            failure = error.failure
            reason = f"{failure.reason} (flaky: the same payload passed when fired again)"
            return Failure(failure.payload, failure.result, reason)
    raise flaky


class _HookFailed(Exception):
    """The hook failed on this payload: Hypothesis shrinks towards a smaller one."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class _NotTheHook(BaseException):
    """Carries an error that is not the hook's out of Hypothesis, which re-raises
    BaseExceptions at once instead of shrinking them."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
