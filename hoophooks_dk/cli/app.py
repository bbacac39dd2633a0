"""The ``hookdk`` group and its entry point.

Start-up time matters (``hookdk fire`` is run in edit loops and benchmarked against bare
``python3``), so this module imports only click; every command lives in a module of its
own, imported when it runs (or when ``--help`` lists it).
"""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import HookdkError
from .report import fail_json, wants_json

# Each command's module, imported only when used (or listed by --help).
LAZY_COMMANDS = {
    "check": "hoophooks_dk.cli.check:check_command",
    "demo": "hoophooks_dk.cli.init:demo_command",
    "doctor": "hoophooks_dk.cli.doctor:doctor",
    "fire": "hoophooks_dk.cli.fire:fire",
    "flows": "hoophooks_dk.cli.session:flows",
    "fuzz": "hoophooks_dk.cli.fuzz:fuzz_command",
    "init": "hoophooks_dk.cli.init:init_command",
    "mutants": "hoophooks_dk.cli.mutants:mutants",
    "payload": "hoophooks_dk.cli.payloads:payload",
    "render": "hoophooks_dk.cli.render:render_command",
    "replay": "hoophooks_dk.cli.replay:replay",
    "schema": "hoophooks_dk.cli.payloads:schema",
    "session": "hoophooks_dk.cli.session:session",
    "templates": "hoophooks_dk.cli.init:templates_command",
    "validate": "hoophooks_dk.cli.payloads:validate",
    "watch": "hoophooks_dk.cli.watch:watch_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hoophooks_dk", prog_name="hookdk")
def cli() -> None:
    """Build and test Hoop runbook hooks before you push them."""


def main() -> None:
    """Entry point: user errors become one line on stderr and their ``exit_code`` (2 for
    bad input, 1 for what Hoop would do instead of running the hooks: not load them, with
    the check rule's hint, or crash), never a traceback.

    With ``--json`` (or ``check --format json``) every error is a JSON object on stdout
    instead, ``{"error": ..., "exit_code": ...}``, so a machine reading stdout always gets
    JSON. SIGTERM and SIGHUP unwind as Ctrl-C does, so hooks and temporary files go too.
    """
    from ..runtime import interrupts

    spare_last_collection()
    try:
        with interrupts.sigterm_interrupts():
            # prog_name: usage lines and the completion variable (_HOOKDK_COMPLETE) say
            # hookdk however it was started (the console script, or python -m hoophooks_dk).
            cli.main(standalone_mode=False, prog_name="hookdk")
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        if wants_json():
            fail_json(error.format_message(), error.exit_code)
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        if wants_json():
            fail_json("aborted", 1)
        click.echo("Aborted.", err=True)
        sys.exit(128 + interrupts.received if interrupts.received else 1)
    except HookdkError as error:
        from ..errors import HooksNotLoaded, HoopFinding

        extra, hint = {}, None
        if isinstance(error, HooksNotLoaded):  # the finding, with the rule that explains it
            from ..check.hints import load_failure_hint

            hint = load_failure_hint(error)
            extra["hints"] = [hint.to_dict()] if hint else []
        if wants_json():
            fail_json(str(error), error.exit_code, **extra)
        label = "" if isinstance(error, HoopFinding) else "error: "  # a finding, not a mistake
        click.echo(f"hookdk: {label}{error}", err=True)
        if hint is not None:
            click.echo(f"hookdk: hint: {hint}", err=True)
        sys.exit(error.exit_code)


def spare_last_collection() -> None:
    """At exit, move every object to the garbage collector's permanent generation, which
    the interpreter's last collections skip. Everything the command made lives until the
    process ends anyway, and its clean-up (temporary folders, the hook's process group)
    ran in ``finally`` blocks and ``weakref.finalize`` before that; the collection over
    it cost ``hookdk fire`` 15-20 ms (on a Python built without optimisations, as pyenv
    builds it), a tenth of the command. Registered once, however often ``main`` runs (the
    tests run it in-process).
    """
    import atexit
    import gc

    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
