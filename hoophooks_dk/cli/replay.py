"""``hookdk replay SESSION_ID``: a production session, read from Hoop's API, fired through
the local hooks as Hoop fired it (``hoopapi.replay`` maps it; the wiring runs it, as for
``hookdk session``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import HookdkError
from .options import (
    capturing,
    check_run_options,
    emulator_from,
    hoop_api_options,
    hoop_credentials,
    parse_overrides,
    run_options,
)
from .report import echo_result, echo_session, leak_fails, result_dict, result_hints


@click.command()
@click.argument("session_id")
@click.option(
    "--flow",
    help="Replay as this flow (hookdk flows) [default: the one the session shows].",
)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
@click.option(
    "--reviewers", help="Comma-separated groups for connection_reviewers [default: as read]."
)
@click.option("--run-by", metavar="EMAIL", help="Who starts the approved run (review-run-later).")
@click.option("--exit-code", type=int, help="Close exit code [default: the session's].")
@click.option("--output", help="Close output [default: the session's, from its event stream].")
@click.option(
    "--duration", type=float, default=0.0, show_default=True, help="Seconds from open to close."
)
@click.option(
    "--sequential", is_flag=True, help="Run the hooks one after another, not as Hoop does."
)
@click.option(
    "--save",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the payloads to FILE, for hookdk fire EVENT --payload FILE (a regression test).",
)
@click.option("--force", is_flag=True, help="Overwrite the --save file.")
@hoop_api_options
@run_options()
def replay(
    session_id,
    flow,
    sets,
    reviewers,
    run_by,
    exit_code,
    output,
    duration,
    sequential,
    save,
    force,
    as_json,
    **options,
) -> None:
    """Fire SESSION_ID's events through the local hooks, with the payloads Hoop sent."""
    from ..hoopapi.client import HoopApi
    from ..hoopapi.replay import fetch_plan, replay_payloads
    from ..sessions import session_flow

    # every option a user can get wrong is refused before the API is asked
    if flow is not None or duration < 0:
        session_flow(flow, duration=duration, run_by=run_by)
    if save is not None and save.exists() and not force:
        raise HookdkError(f"--save {save}: the file exists (--force to overwrite it)")
    overrides = parse_overrides(sets)
    credentials = hoop_credentials(options)
    check_run_options(options)
    with HoopApi(credentials) as api:
        plan = fetch_plan(api, session_id, flow)
    _apply(plan, reviewers, exit_code, output)
    if plan.fires and plan.flow is not None:
        session_flow(plan.flow, duration=duration, run_by=run_by)
    if save is not None:
        _save(save, replay_payloads(plan, overrides))
    results = _fire(plan, overrides, run_by, duration, sequential, options) if plan.fires else []
    _report(plan, results, save, as_json, options)
    failed = not all(r.ok for r in results) or leak_fails(results, options)
    sys.exit(1 if failed else 0)


def _apply(plan, reviewers: str | None, exit_code: int | None, output: str | None) -> None:
    """The command line over what the session shows."""
    if reviewers is not None:
        groups = [g.strip() for g in reviewers.split(",") if g.strip()]
        if not groups:
            raise HookdkError("--reviewers: give at least one group name, e.g. dba,sec")
        plan.reviewers = groups
    if exit_code is not None or output is not None:
        if plan.exit_code is None:
            raise HookdkError(
                "--exit-code/--output: this session has no close event to replay "
                f"(flow {plan.flow or 'still open'}); choose one with --flow"
            )
        plan.exit_code = plan.exit_code if exit_code is None else exit_code
        plan.output = plan.output if output is None else output


def _fire(plan, overrides, run_by, duration, sequential, options) -> list:
    from ..sessions import overrides_for

    with emulator_from(options) as emulator:
        if plan.flow is None:  # not ended: only its session-open has fired so far
            changes = overrides_for("session-open", overrides)
            fields = plan.open_payload_fields()
            return [emulator.fire("session-open", None, changes, sid=plan.sid, **fields)]
        return emulator.session(
            plan.flow,
            sid=plan.sid,
            reviewers=plan.reviewers,
            # a flow without a close (client-left, review-rejected) takes neither
            exit_code=plan.exit_code,
            output=plan.output if plan.exit_code is not None else None,
            run_by=run_by,
            duration=duration,
            sequential=sequential,
            overrides=overrides,
            **plan.open_fields,
        )


def _save(path: Path, payloads: dict) -> None:
    try:
        path.write_text(json.dumps(payloads, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError as error:
        raise HookdkError(f"--save {path}: {error.strerror}") from None


def _report(plan, results: list, save: Path | None, as_json: bool, options) -> None:
    hints = [result_hints(result, options) for result in results]
    if as_json:
        shown = [result_dict(r, h) for r, h in zip(results, hints, strict=True)]
        body = {"session": plan.to_dict(), "saved": str(save) if save else None, "results": shown}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(f"session {plan.sid}: {plan.summary}")
    for note in plan.notes:
        click.echo(f"  note: {note}")
    if save is not None:
        click.echo(f"  saved the payloads to {save} (hookdk fire EVENT --payload {save})")
    if not plan.fires:
        click.echo("Hoop fired no hook for this session: nothing to replay")
        return
    if plan.flow is None:
        for result, hint in zip(results, hints, strict=True):
            echo_result(result, capturing(options), hint, options["allow_leaks"])
        return
    from ..flows import get_flow

    echo_session(get_flow(plan.flow), results, capturing(options), hints, options["allow_leaks"])
