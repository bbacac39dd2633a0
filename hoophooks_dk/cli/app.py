"""The ``hookdk`` group and its entry point.

Start-up time matters (``hookdk fire`` is run in edit loops and benchmarked against bare
``python3``), so this module imports only click; every command lives in a module of its
own, imported when it runs (or when ``--help`` lists it).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from ..errors import HookdkError
from .report import fail_json, wants_json

# Each command's module, imported only when used (or listed by --help).
LAZY_COMMANDS = {
    "check": "hoophooks_dk.cli.check:check_command",
    "demo": "hoophooks_dk.cli.init:demo_command",
    "docs": "hoophooks_dk.cli.docs:docs_command",
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


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM, SIGHUP) stopped the command: raised in place of
    KeyboardInterrupt so that click does not print its own ``Aborted!``."""


class BrokenPipe(Exception):
    """Whoever read our output went away (``hookdk fire | head``): not an error of ours."""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """An unknown command names the closest ones, as click does for options."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            from ..errors import did_you_mean

            if args and args[0] not in self.list_commands(ctx):
                hint = did_you_mean(args[0], self.list_commands(ctx))
                error.message = f"no such command {args[0]!r}{hint}"
            raise

    def invoke(self, ctx: click.Context):
        """Run the command; an interrupt or a closed pipe is turned into an exception of
        our own before click sees it (click would print ``Aborted!`` and exit 1)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except BrokenPipeError:
            raise BrokenPipe() from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hoophooks_dk", prog_name="hookdk")
def cli() -> None:
    """Build and test Hoop runbook hooks before you push them."""


def main() -> None:
    """Entry point: every error is one line, ``hookdk: error: ...`` on stderr (click's
    usage errors too), with its exit status: 2 for bad input or usage, 1 for what Hoop
    would do instead of running the hooks (not load them, with the check rule's hint, or
    crash), never a traceback.

    With ``--json`` (or ``check --format json``) every error is a JSON object on stdout
    instead, ``{"error": ..., "exit_code": ...}``, so a machine reading stdout always gets
    JSON. Ctrl-C ends any command with ``hookdk: interrupted`` and status 130 (SIGTERM:
    143, SIGHUP: 129, as a shell reports a process the signal ended); SIGTERM and SIGHUP
    unwind as Ctrl-C does, so hooks and temporary files go too. A reader that goes away
    (``hookdk fire | head``) ends the command quietly with 141, the status of a process
    SIGPIPE ended, as ``git log | head`` does: never 1, which means a hook failed.
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
        _usage_error(error)
    except (Interrupted, click.Abort, KeyboardInterrupt):
        status = 128 + (interrupts.received or signal.SIGINT)
        if wants_json():
            fail_json("interrupted", status)
        click.echo("hookdk: interrupted", err=True)
        sys.exit(status)
    except (BrokenPipe, BrokenPipeError):
        _quiet_broken_pipe()
    except HookdkError as error:
        _user_error(error)


def _usage_error(error: click.ClickException) -> None:
    """click's errors in the kit's one format: ``hookdk: error: ...``, then where to look."""
    message = error.format_message()
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        message += f" (see '{context.command_path} --help')"
    if wants_json():
        fail_json(message, error.exit_code)
    click.echo(f"hookdk: error: {message}", err=True)
    sys.exit(error.exit_code)


def _user_error(error: HookdkError) -> None:
    from ..errors import HookNotFound, HooksNotLoaded, HoopFinding

    extra, hint = {}, None
    if isinstance(error, HooksNotLoaded):  # the finding, with the rule that explains it
        from ..check.hints import load_failure_hint

        hint = load_failure_hint(error)
        extra["hints"] = [hint.to_dict()] if hint else []
    message = error.explain("--repo") if isinstance(error, HookNotFound) else str(error)
    if wants_json():
        fail_json(message, error.exit_code, **extra)
    label = "" if isinstance(error, HoopFinding) else "error: "  # a finding, not a mistake
    click.echo(f"hookdk: {label}{message}", err=True)
    if hint is not None:
        click.echo(f"hookdk: hint: {hint}", err=True)
    sys.exit(error.exit_code)


def _quiet_broken_pipe() -> None:
    """Nothing more can be written; point stdout at /dev/null so that the interpreter's
    last flush does not print a BrokenPipeError, and exit as SIGPIPE would (141)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)


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
