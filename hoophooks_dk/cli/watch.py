"""``hookdk watch``: fire on start and on every save, and show what the hook did.

The face over ``watch.watch``. Each run is printed as ``hookdk fire`` prints a result
(with ``--flow``, as ``hookdk session`` prints a played flow: each result in event order),
with the requests the hook sent and any payload secret it leaked, under a rule line that
says when and why it ran (on a terminal the screen is cleared first, so the latest run
is the whole screen). Errors that are the user's to fix (hooks Hoop would not load, a
missing hook, a settings file saved with an error) are printed as a run and the watch
goes on; bad options are refused before the first run (one line, exit 2); Ctrl-C (or SIGTERM, SIGHUP)
ends it, with the warm interpreter, the hook's processes and the capture stopped, and
exit 0.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .options import (
    EVENT,
    capturing,
    check_run_options,
    complete_flows,
    emulator_from,
    parse_overrides,
    read_payload_file,
    run_options,
)
from .report import (
    echo_hints,
    echo_result,
    echo_session,
    echo_unmatched_routes,
    leak_fails,
    result_dict,
    result_hints,
)


@click.command("watch")
@click.argument("event", type=EVENT, required=False)
@click.option("--payload", "payload_file", metavar="FILE|-", help="Payload file (may be partial).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
@click.option(
    "--flow",
    shell_complete=complete_flows,
    help="Play this session flow on each save instead of one event (hookdk flows lists them).",
)
@click.option(
    "--duration",
    type=float,
    default=0.0,
    show_default=True,
    help="With --flow: seconds from open to close.",
)
@click.option(
    "--sequential",
    is_flag=True,
    help="With --flow: run the hooks one after another, not as Hoop does.",
)
@click.option("--run-by", metavar="EMAIL", help="With --flow review-run-later: who starts the run.")
@click.option(
    "--clear/--no-clear",
    default=None,
    help="Clear the screen before each run [default: when the output is a terminal].",
)
@click.option(
    "--ui",
    is_flag=True,
    help="Also show each run on a live page: served on 127.0.0.1 at an address holding a "
    "token (printed), the latest run first.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="With --ui: the port to serve the page on [default: any free port].",
)
@click.option(
    "--open", "open_browser", is_flag=True, help="With --ui: open the page in the browser."
)
@run_options(runner="auto", ref=False)
def watch_command(
    event,
    payload_file,
    sets,
    flow,
    duration,
    sequential,
    run_by,
    clear,
    as_json,
    ui,
    port,
    open_browser,
    **options,
) -> None:
    """Fire EVENT [default: session-close] now and again on every save of the hooks.

    With --flow NAME, each run plays that session flow instead, as `hookdk session` does.
    Watches hoop-hooks/session-open.runbook.py, hoop-hooks/session-close.runbook.py,
    hookdk.toml, pyproject.toml and the --payload file. One warm interpreter (the fast
    runner, where the system has fork) and, unless --live, one capture serve the whole
    watch. With --json, each run is one line of JSON. With --ui, each run is also shown
    on a live page in the browser (docs/report.md). Ctrl-C stops it.
    """
    from ..watch import WATCHED_FILES, watch

    _refuse_conflicts(options, flow, event, payload_file, sets, duration, sequential)
    if not ui and (port is not None or open_browser):
        raise click.UsageError(f"{'--port' if port is not None else '--open'} applies to --ui")
    chosen = None
    if flow is not None:
        from ..sessions import session_flow

        chosen = session_flow(flow, duration=duration, run_by=run_by)
    elif run_by is not None:
        raise click.UsageError("--run-by applies to --flow review-run-later")
    # Everything the command line can get wrong, once, before the first run: exit 2.
    check_run_options(options)
    root = options["repo"] = options["root"]
    event = event or "session-close"
    base = read_payload_file(payload_file) if payload_file else None
    label = "standard input" if payload_file == "-" else (payload_file or "payload")
    overrides = parse_overrides(sets)
    payload_path = Path(payload_file) if payload_file and payload_file != "-" else None

    def fire(emulator):
        if chosen is not None:
            return emulator.session(
                chosen.name, duration=duration, sequential=sequential, run_by=run_by
            )
        payload = read_payload_file(payload_file) if payload_path else base  # as saved now
        return [emulator.fire(event, payload, overrides, source=label)]

    clear = sys.stdout.isatty() if clear is None else clear
    watched = ", ".join(WATCHED_FILES)
    click.echo(f"hookdk: watching {watched} in {root} (Ctrl-C to stop)", err=True)
    also = [payload_path] if payload_path else []
    runs = watch(root, lambda: emulator_from(options), fire, also=also)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_interrupted_once())
        stack.enter_context(contextlib.closing(runs))
        page = None
        if ui:
            from .live import live_page

            page = stack.enter_context(live_page(options, port or 0, open_browser, chosen))
        try:
            for run in runs:
                if as_json:
                    click.echo(json.dumps(_run_dict(run, chosen, options), ensure_ascii=False))
                else:
                    _echo_run(run, chosen, clear, options)
                if page is not None:
                    page.publish(run, _load_hints(run))
        except KeyboardInterrupt:
            pass  # the way a watch ends; closing the runs stops what they started
    click.echo("hookdk: watch stopped", err=True)


def _refuse_conflicts(options, flow, event, payload_file, sets, duration, sequential) -> None:
    """Options that cannot go together, as click usage errors (exit 2)."""
    if options["ref"] is not None:
        raise click.UsageError(
            "watch fires the hooks in the working tree, which a save changes; "
            "--ref reads a commit, which it does not (use `hookdk fire --ref`)"
        )
    if flow is None:
        if duration or sequential:
            flag = "--sequential" if sequential else "--duration"
            raise click.UsageError(f"{flag} applies to a session: give --flow NAME")
        return
    given = [name for name, value in [("EVENT", event), ("--payload", payload_file)] if value]
    given += ["--set"] if sets else []
    if given:
        raise click.UsageError(
            f"--flow plays a whole session, each event with the payload Hoop builds; "
            f"{given[0]} fires one event: give one or the other"
        )


@contextlib.contextmanager
def _interrupted_once():
    """Ctrl-C, SIGTERM or SIGHUP ends the watch as a KeyboardInterrupt. A second one,
    while the watch stops the hook, the warm interpreter and the capture, is ignored:
    cutting that short would leave them behind."""
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def interrupt(_signum, _frame):
        for name in names:
            signal.signal(name, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = {name: signal.signal(name, interrupt) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(name, handler)


def _load_hints(run) -> list:
    """For hooks Hoop would not load: the check rule that explains it (a ``{{`` in Python)."""
    from ..check.hints import load_failure_hint
    from ..render import HooksNotLoaded

    hint = load_failure_hint(run.cause) if isinstance(run.cause, HooksNotLoaded) else None
    return [hint] if hint else []


def _run_dict(run, flow, options: dict[str, Any]) -> dict[str, Any]:
    return run.to_dict() | {
        "ok": run.error is None
        and all(r.ok for r in run.results)
        and not leak_fails(run.results, options),
        "flow": flow.name if flow is not None else None,
        "results": [result_dict(r, result_hints(r, options)) for r in run.results],
        "notes": list(getattr(run.results, "notes", ())),  # a flow's steps that ran no hook
        "hints": [hint.to_dict() for hint in _load_hints(run)],
    }


def _echo_run(run, flow, clear: bool, options: dict[str, Any]) -> None:
    if clear:
        click.clear()
    why = ", ".join(run.changed) + " changed" if run.changed else "started"
    title = f" {run.started:%H:%M:%S} run {run.number}: {why} "
    click.echo(click.style(f"──{title}".ljust(78, "─"), dim=True))
    if run.error is not None:
        click.echo(f"{click.style('NOT RUN', fg='red', bold=True)} hookdk: {run.error}")
        echo_hints(_load_hints(run))
    hints = [result_hints(result, options) for result in run.results]
    if flow is not None and run.error is None:  # a flow that fires no hook says so too
        echo_session(flow, run.results, capturing(options), hints, options["allow_leaks"])
    else:
        for result, hint in zip(run.results, hints, strict=True):
            echo_result(result, capturing(options), hint, options["allow_leaks"])
    echo_unmatched_routes(run.results, options)
    if clear:
        click.echo(f"\nhookdk: watching {options['repo']} (Ctrl-C to stop)", err=True)
