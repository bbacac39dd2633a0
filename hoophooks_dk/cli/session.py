"""``hookdk session``: one session's events, each fired when Hoop would fire it; and
``hookdk flows``, the flows a session can take."""

from __future__ import annotations

import json
import sys

import click

from ..errors import HookdkError
from .options import capturing, emulator_from, report_option, run_options
from .report import (
    check_report_file,
    echo_session,
    leak_fails,
    result_dict,
    result_hints,
    write_html_report,
)


@click.command()
@click.option(
    "--flow", help="What Hoop fires for this session (hookdk flows lists them) [default: exec]."
)
@click.option("--review", is_flag=True, help="Same as --flow review-same-stream.")
@click.option(
    "--reviewers", help="Comma-separated groups for connection_reviewers [default: none]."
)
@click.option("--run-by", metavar="EMAIL", help="Who starts the approved run (review-run-later).")
@click.option("--exit-code", type=int, default=0, show_default=True, help="Session exit code.")
@click.option("--output", help="Session error output [default: null, as on a clean close].")
@click.option(
    "--duration", type=float, default=0.0, show_default=True, help="Seconds from open to close."
)
@click.option(
    "--sequential", is_flag=True, help="Run the hooks one after another, not as Hoop does."
)
@report_option
@run_options()
def session(
    flow,
    review,
    reviewers,
    run_by,
    exit_code,
    output,
    duration,
    sequential,
    as_json,
    report_file,
    **options,
) -> None:
    """Run one session's events through the real hooks, each when Hoop would fire it."""
    check_report_file(report_file)
    groups = [g.strip() for g in reviewers.split(",") if g.strip()] if reviewers else None
    if reviewers is not None and not groups:
        raise HookdkError("--reviewers: give at least one group name, e.g. dba,sec")
    from ..sessions import session_flow

    # before any hook runs: a bad flow, duration or --run-by is one line, exit 2
    chosen = session_flow(flow, review, duration=duration, run_by=run_by)
    with emulator_from(options) as emulator:
        results = emulator.session(
            chosen.name,
            reviewers=groups,
            exit_code=exit_code,
            output=output,
            run_by=run_by,
            duration=duration,
            sequential=sequential,
        )
    hints = [result_hints(result, options) for result in results]
    if as_json:
        shown = [result_dict(r, h) for r, h in zip(results, hints, strict=True)]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        echo_session(chosen, results, capturing(options), hints, options["allow_leaks"])
    if report_file is not None:
        command = f"hookdk session --flow {chosen.name}"
        write_html_report(report_file, [results], [hints], options, command, chosen.name)
    failed = not all(r.ok for r in results) or leak_fails(results, options)
    sys.exit(1 if failed else 0)


@click.command()
def flows() -> None:
    """List the session flows: what Hoop fires, one line each."""
    from ..flows import FLOWS

    width = max(len(name) for name in FLOWS)
    fires = max(len(flow.fires) for flow in FLOWS.values())
    for flow in FLOWS.values():
        click.echo(f"{flow.name:<{width}}  {flow.fires:<{fires}}  {flow.summary}")
