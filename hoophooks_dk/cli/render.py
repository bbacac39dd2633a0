"""``hookdk render PATH``: show the exact bytes Hoop would run for a hook file.

Why: Hoop renders every hook as a runbook template before running it (docs/hoop-runtime.md
section 2), so the script that runs is not always the file that was pushed. This command prints
what Hoop would run, byte for byte, or the error Hoop would log instead of running it.

Exit codes: 0 rendered; 1 Hoop would refuse the file (its error on stderr); 2 the kit could not
do its job (unreadable file, bad ``--input``, a construct the emulator does not reproduce).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hoophooks_dk.errors import HookdkError
from hoophooks_dk.hooks import MAX_HOOK_BYTES
from hoophooks_dk.render import too_large
from hoophooks_dk.runbook_template import TemplateError, render_runbook


def _parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise HookdkError(f"--input expects KEY=VALUE, got {pair!r}")
        inputs[key] = value
    return inputs


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise HookdkError(f"cannot read {path}: {reason}") from None


@click.command("render")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--input",
    "input_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Give a runbook input (hooks get none; use this for ordinary runbooks).",
)
def render_command(path: Path, input_pairs: tuple[str, ...]) -> None:
    """Print PATH exactly as Hoop renders it, or Hoop's error (exit 1)."""
    try:
        source = _read(path)
        if len(source) > MAX_HOOK_BYTES:  # Hoop's text first, then the kit's: as fire says it
            hoop_text, detail = too_large(str(path), len(source))
            click.echo(f"{hoop_text}: Hoop would not load {path} ({detail})", err=True)
            raise SystemExit(1)
        rendered = render_runbook(source, _parse_inputs(input_pairs))
    except TemplateError as err:
        click.echo(str(err), err=True)
        raise SystemExit(1) from None
    except HookdkError as err:
        click.echo(f"hookdk render: {err}", err=True)
        raise SystemExit(2) from None
    sys.stdout.flush()
    sys.stdout.buffer.write(rendered)
    sys.stdout.buffer.flush()
