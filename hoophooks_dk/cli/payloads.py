"""``hookdk payload``, ``validate`` and ``schema``: the payload Hoop sends, made, checked
and described, without running a hook."""

from __future__ import annotations

import json
import sys

import click

from ..errors import HookdkError
from .options import EVENT, caller_option, parse_overrides, read_payload_file


@click.command()
@click.argument("event", type=EVENT)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
@caller_option
def payload(event, sets, caller) -> None:
    """Print a synthetic payload for EVENT."""
    from ..emulator import build_payload

    overrides = parse_overrides(sets, event, caller)
    built = build_payload(event, overrides=overrides, source="payload with --set")
    click.echo(json.dumps(built, ensure_ascii=False, indent=2))


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--partial",
    is_flag=True,
    help="Accept files that `fire --payload` completes (id, sid, command, input_file).",
)
def validate(files, partial) -> None:
    """Validate payload files against the schema, reporting every violation."""
    from ..payload import complete, event_of
    from ..schema import validate as validate_payload

    failed = 0
    for name in files:
        try:
            data = read_payload_file(name)
        except HookdkError as error:
            click.echo(str(error))
            failed += 1
            continue
        if partial:
            data = complete(data, event_of(data) or "session-open", input_file="")
        violations = validate_payload(data)
        failed += bool(violations)
        if not violations:
            click.echo(f"{name}: ok")
        for violation in violations:
            click.echo(f"{name}: {violation}")
    sys.exit(1 if failed else 0)


@click.command()
@click.option("--path", "show_path", is_flag=True, help="Print the schema file's path instead.")
def schema(show_path) -> None:
    """Print the payload's JSON Schema."""
    from ..resources import read_schema_text, schema_path

    click.echo(str(schema_path()) if show_path else read_schema_text(), nl=show_path)
