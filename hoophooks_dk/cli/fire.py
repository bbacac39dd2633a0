"""``hookdk fire``: one event through the real hook script, as Hoop would run it."""

from __future__ import annotations

import json
import sys

import click

from .options import (
    EVENT,
    caller_option,
    emulator_from,
    parse_overrides,
    payload_for,
    read_payload_file,
    report_option,
    run_options,
)
from .report import (
    check_report_file,
    echo_result,
    echo_unmatched_routes,
    leak_fails,
    progress_line,
    result_dict,
    result_hints,
    write_html_report,
)


@click.command()
@click.argument("event", type=EVENT)
@click.option(
    "--payload",
    "payload_file",
    metavar="FILE|-",
    help="Payload file (may be partial), or one hookdk replay --save wrote.",
)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
@caller_option
@report_option
@run_options()
def fire(event, payload_file, sets, caller, as_json, report_file, **options) -> None:
    """Fire EVENT through the real hook script, as Hoop would."""
    check_report_file(report_file)
    overrides = parse_overrides(sets, event, caller)
    label = "standard input" if payload_file == "-" else (payload_file or "payload")
    base = payload_for(read_payload_file(payload_file), event, label) if payload_file else None
    with emulator_from(options) as emulator, progress_line(f"{event} hook", options):
        result = emulator.fire(event, base, overrides, source=label)
    hints = result_hints(result, options)
    if as_json:
        click.echo(json.dumps(result_dict(result, hints), ensure_ascii=False, indent=2))
    else:
        echo_result(result, emulator.capture is not None, hints, options["allow_leaks"])
    if report_file is not None:
        command = f"hookdk fire {event}"
        write_html_report(report_file, [[result]], [[hints]], options, command)
    echo_unmatched_routes([result], options)
    sys.exit(0 if result.ok and not leak_fails([result], options) else 1)
