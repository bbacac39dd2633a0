"""``hookdk session``: one session's events, each fired when Hoop would fire it; and
``hookdk flows``, the flows a session can take."""

from __future__ import annotations

import json
import sys

import click

from ..errors import HookdkError
from .options import (
    caller_option,
    capturing,
    complete_flows,
    emulator_from,
    report_option,
    run_options,
)
from .report import (
    check_report_file,
    echo_session,
    echo_unmatched_routes,
    leak_fails,
    progress_line,
    result_dict,
    result_hints,
    write_html_report,
)


@click.command()
@click.option(
    "--flow",
    shell_complete=complete_flows,
    help="What Hoop fires for this session (hookdk flows lists them) [default: exec].",
)
@click.option("--review", is_flag=True, help="Same as --flow review-same-stream.")
@click.option(
    "--reviewers", help="Comma-separated groups for connection_reviewers [default: none]."
)
@click.option(
    "--run-by",
    metavar="EMAIL",
    help="Who starts the approved run (review-run-later, review-ai-web) [default: "
    "admin@example.com].",
)
@caller_option
@click.option("--exit-code", type=int, help="Session exit code [default: 0, or the flow's].")
@click.option(
    "--output",
    help="Session error output [default: null, as on a clean close; agent-error: the "
    "agent's error text].",
)
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
    caller,
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

    # before any hook runs: a bad flow, duration, --run-by, --caller... is one line, exit 2
    given = {"run_by": run_by, "caller": caller, "exit_code": exit_code, "output": output}
    chosen = session_flow(flow, review, duration=duration, **given)
    with emulator_from(options) as emulator, progress_line("session", options):
        results = emulator.session(
            chosen.name,
            reviewers=groups,
            duration=duration,
            sequential=sequential,
            **given,
        )
    hints = [result_hints(result, options) for result in results]
    if as_json:
        shown = [result_dict(r, h) for r, h in zip(results, hints, strict=True)]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        echo_session(chosen, results, capturing(options), hints, options["allow_leaks"])
    for note in results.notes if as_json else ():  # JSON stays a list of results
        click.echo(f"hookdk: note: {note}", err=True)
    if report_file is not None:
        command = f"hookdk session --flow {chosen.name}"
        write_html_report(report_file, [results], [hints], options, command, chosen.name)
    echo_unmatched_routes(results, options)
    failed = not all(r.ok for r in results) or leak_fails(results, options)
    sys.exit(1 if failed else 0)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON, with each flow's Hoop sources.")
def flows(as_json) -> None:
    """List the session flows: what Hoop fires, one line each ("no hook": refused before
    the hook step, so not even a session-open fires)."""
    from ..flows import FLOWS

    if as_json:
        shown = [
            {
                "name": f.name,
                "fires": [s.event for s in f.steps],
                "summary": f.summary,
                "hoop": f.doc,
            }
            for f in FLOWS.values()
        ]
        click.echo(json.dumps(shown, indent=2))
        return
    width = max(len(name) for name in FLOWS)
    fires = max(len(flow.fires) for flow in FLOWS.values())
    for flow in FLOWS.values():
        click.echo(f"{flow.name:<{width}}  {flow.fires:<{fires}}  {flow.summary}")
