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
    run_options,
)
from .report import echo_result, leak_fails, result_dict, result_hints


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
@run_options()
def fire(event, payload_file, sets, caller, as_json, **options) -> None:
    """Fire EVENT through the real hook script, as Hoop would."""
    overrides = parse_overrides(sets, event, caller)
    label = "standard input" if payload_file == "-" else (payload_file or "payload")
    base = payload_for(read_payload_file(payload_file), event, label) if payload_file else None
    with emulator_from(options) as emulator:
        result = emulator.fire(event, base, overrides, source=label)
    hints = result_hints(result, options)
    if as_json:
        click.echo(json.dumps(result_dict(result, hints), ensure_ascii=False, indent=2))
    else:
        echo_result(result, emulator.capture is not None, hints, options["allow_leaks"])
    sys.exit(0 if result.ok and not leak_fails([result], options) else 1)
