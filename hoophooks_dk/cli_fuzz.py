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
from pathlib import Path
from typing import Any

import click

from .cli import EVENT, capturing, echo_result, emulator_from, run_options
from .errors import HookdkError


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

    A failure is a non-zero exit code, a timeout, or a Python traceback in the output.
    The smallest failing payload is saved to hookdk-failing-EVENT-<hash>.json in the
    current directory, for `hookdk fire EVENT --payload FILE` to replay. Exits 1 on a
    failure, 0 when every payload passed.
    """
    from .fuzz import fuzz

    _keep_hypothesis_out_of_cwd()
    with emulator_from(options) as emulator:
        report = fuzz(emulator, event, examples=examples, seed=seed)
    saved = save_failing_payload(report.failure.payload, event) if report.failure else None
    if as_json:
        click.echo(json.dumps(_report_dict(report, saved), ensure_ascii=False, indent=2))
    else:
        _echo_report(report, saved, options)
    sys.exit(0 if report.ok else 1)


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
    from .fuzz import replayable

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


def _report_dict(report, saved: Path | None) -> dict[str, Any]:
    from .fuzz import replayable

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
            "file": str(saved),
            "result": report.failure.result.to_dict(),
        }
    return result


def _echo_report(report, saved: Path | None, options: dict[str, Any]) -> None:
    from .fuzz import abbreviated, replayable

    if report.failure is None:
        ok = click.style("ok", fg="green", bold=True)
        click.echo(f"{ok} {report.event}: {report.tried} payloads, no failure (seed {report.seed})")
        return
    failure = report.failure
    failed = click.style("FAILED", fg="red", bold=True)
    click.echo(f"{failed} {report.event} hook: {failure.reason}")
    click.echo(f"  after {report.tried} payloads (seed {report.seed})")
    click.echo("\nThe hook, on the smallest failing payload:")
    echo_result(failure.result, capturing(options))
    click.echo("\nSmallest failing payload:")
    # ASCII with \u escapes: an invisible or control character still shows in a terminal.
    shown = json.dumps(abbreviated(replayable(failure.payload)), indent=2)
    click.echo("\n".join(f"  {line}" for line in shown.splitlines()))
    click.echo(f"\nSaved to {saved}")
    click.echo(f"Replay:  {_replay_command(report.event, saved, options)}")


def _replay_command(event: str, saved: Path | None, options: dict[str, Any]) -> str:
    words = ["hookdk", "fire", event, "--payload", saved.name if saved else "FILE"]
    for flag in ("repo", "ref", "python"):
        if options[flag] is not None and not (flag == "python" and options[flag] == "python3"):
            words += [f"--{flag}", str(options[flag])]
    if options["timeout"] != 15.0:
        words += ["--timeout", f"{options['timeout']:g}"]
    if options["respond"] is not None:
        words += ["--respond", str(options["respond"])]
    elif options["capture"]:
        words.append("--capture")
    return shlex.join(words)
