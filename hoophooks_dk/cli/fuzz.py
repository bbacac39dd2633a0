"""``hookdk fuzz``: fire generated payloads at a hook until it breaks, keep the smallest.

The face over ``fuzz.fuzz``. On a failure it shows the reason, the hook's output and the
smallest failing payload, and saves that payload beside the user (never over an existing
file) so that ``hookdk fire EVENT --payload FILE`` replays it while they fix the hook.
Only click and the CLI's shared options are imported here; the core is imported when
the command runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..errors import HookdkError
from .options import EVENT, capturing, emulator_from, run_options
from .report import echo_result, is_terminal, result_dict, result_hints


@click.command("fuzz")
@click.argument("event", type=EVENT)
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Payloads to try before shrinking.",
)
@click.option("--seed", type=int, help="Repeat a run: the seed it printed [default: random].")
@run_options(runner="auto")
def fuzz_command(event, examples, seed, as_json, **options) -> None:
    """Fire generated payloads at EVENT's hook; on a failure, keep the smallest one.

    A failure is a non-zero exit code, a timeout, a Python traceback in the output, or
    (unless --allow-leaks) a payload secret in a captured request. The smallest failing payload is saved to hookdk-failing-EVENT-<hash>.json in the
    current directory, for `hookdk fire EVENT --payload FILE` to replay. Exits 1 on a
    failure, 0 when every payload passed.
    """
    from ..fuzz import fuzz

    _keep_hypothesis_out_of_cwd()
    shown = Progress(examples, enabled=not as_json and is_terminal(sys.stderr))
    started = time.perf_counter()
    with emulator_from(options) as emulator:
        try:
            report = fuzz(
                emulator,
                event,
                examples=examples,
                seed=seed,
                allow_leaks=options["allow_leaks"],
                progress=shown.update,
            )
        finally:
            shown.clear()
        hints = result_hints(report.failure.result, options) if report.failure else []
    elapsed = time.perf_counter() - started
    # A hook that stops for a missing setting fails on every payload: the payload is not
    # the cause, and a file to replay would only mislead.
    setup = any(hint.rule == "setting" for hint in hints)
    saved = None
    if report.failure and not setup:
        saved = save_failing_payload(report.failure.payload, event)
    if as_json:
        shown_report = _report_dict(report, saved, hints) | {"seconds": round(elapsed, 3)}
        click.echo(json.dumps(shown_report, ensure_ascii=False, indent=2))
    else:
        _echo_report(report, saved, options, hints)
        click.echo(f"{report.tried} payloads in {elapsed:.1f} s ({_rate(report.tried, elapsed)})")
    sys.exit(0 if report.ok else 1)


class Progress:
    """One line on stderr, rewritten in place: payloads fired, failures so far, elapsed.
    Only on a terminal: a log or a pipe gets the final summary alone."""

    def __init__(self, examples: int, enabled: bool) -> None:
        self.examples = examples
        self.enabled = enabled
        self.started = time.perf_counter()
        self.shown = False

    def update(self, tried: int, failures: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        phase = "shrinking" if failures else "fuzzing"
        line = (
            f"hookdk fuzz: {phase}: {tried} payloads ({self.examples} to try), "
            f"{failures} failing, {elapsed:.1f} s"
        )
        click.echo(f"\r\x1b[2K{line}", nl=False, err=True)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[2K", nl=False, err=True)


def _rate(tried: int, seconds: float) -> str:
    return f"{tried / seconds:.1f} payloads/s" if seconds > 0 else "n/a payloads/s"


def _keep_hypothesis_out_of_cwd() -> None:
    """Hypothesis caches (unicode tables, source constants) under ``./.hypothesis``; a
    command run in someone's runbooks repo should not leave that behind. The user's
    cache directory is used instead, unless HYPOTHESIS_STORAGE_DIRECTORY says otherwise."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    set_hypothesis_home_dir(Path(cache) / "hookdk" / "hypothesis")


def save_failing_payload(payload: dict[str, Any], event: str, folder: Path | None = None) -> Path:
    """Write the payload to a new file in ``folder`` (the current directory); never overwrite.

    The name carries a hash of the content, so the same failure found again gets the same
    name; when that name is taken, ``-2``, ``-3``... are tried until one is free.
    """
    from ..fuzz import replayable

    text = json.dumps(replayable(payload), ensure_ascii=False, indent=2) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    stem = f"hookdk-failing-{event}-{digest}"
    folder = folder or Path.cwd()
    for attempt in range(1, 1000):
        path = folder / (stem if attempt == 1 else f"{stem}-{attempt}")
        path = path.with_name(path.name + ".json")
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
        except FileExistsError:
            continue
        except OSError as error:
            raise HookdkError(f"cannot write {path}: {error.strerror}") from None
        return path
    raise HookdkError(f"cannot write the failing payload: {stem}-*.json are all taken")


def _report_dict(report, saved: Path | None, hints=()) -> dict[str, Any]:
    from ..fuzz import replayable

    result: dict[str, Any] = {
        "event": report.event,
        "ok": report.ok,
        "tried": report.tried,
        "seed": report.seed,
        "failure": None,
    }
    if report.failure is not None:
        result["failure"] = {
            "reason": report.failure.reason,
            "payload": replayable(report.failure.payload),
            "file": str(saved) if saved else None,  # None: a missing setting, see hints
            "result": result_dict(report.failure.result, list(hints)),
        }
    return result


def _echo_report(report, saved: Path | None, options: dict[str, Any], hints=()) -> None:
    from ..fuzz import abbreviated, replayable

    if report.failure is None:
        ok = click.style("ok", fg="green", bold=True)
        click.echo(f"{ok} {report.event}: {report.tried} payloads, no failure (seed {report.seed})")
        return
    failure = report.failure
    failed = click.style("FAILED", fg="red", bold=True)
    click.echo(f"{failed} {report.event} hook: {failure.reason}")
    click.echo(f"  after {report.tried} payloads (seed {report.seed})")
    click.echo("\nThe hook, on the smallest failing payload:")
    echo_result(failure.result, capturing(options), hints, options["allow_leaks"])
    click.echo("\nSmallest failing payload:")
    # ASCII with \u escapes: an invisible or control character still shows in a terminal.
    shown = json.dumps(abbreviated(replayable(failure.payload)), indent=2)
    click.echo("\n".join(f"  {line}" for line in shown.splitlines()))
    if saved is None:
        click.echo("\nNot saved: the hook stops for a missing setting, whatever the payload")
        click.echo("(the hint above says how to give it); fuzz again once it is given.")
        return
    click.echo(f"\nSaved to {saved}")
    click.echo(f"Replay:  {_replay_command(report.event, saved, options)}")


#: Options that change what the hook runs with or how its result is judged, as given:
#: the replay must run the failing payload exactly as the fuzz did. (--runner is left
#: out: fire's subprocess runner is the agent's own, and gives the same result.)
REPLAYED_VALUES = ("repo", "ref", "python", "env_file", "env_mode")
REPLAYED_NUMBERS = ("timeout", "kill_after")
REPLAYED_FLAGS = ("live", "sandbox", "allow_leaks")


def _replay_command(event: str, saved: Path | None, options: dict[str, Any]) -> str:
    """``hookdk fire`` on the saved payload, with every option of the fuzz that changes
    the run (a failure found with ``--env-mode clean`` must replay in a clean environment)."""
    words = ["hookdk", "fire", event, "--payload", saved.name if saved else "FILE"]
    for name in REPLAYED_VALUES:
        if options.get(name) is not None:
            words += [_flag(name), str(options[name])]
    for name in REPLAYED_NUMBERS:
        if options.get(name) is not None:
            words += [_flag(name), f"{options[name]:g}"]
    for setting in options["env"]:
        words += ["--env", setting]
    for answer in options["respond"]:
        words += ["--respond", answer]
    words += [_flag(name) for name in REPLAYED_FLAGS if options.get(name)]
    return shlex.join(words)


def _flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"
