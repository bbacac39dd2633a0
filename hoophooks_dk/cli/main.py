"""The ``hookdk`` command line: a thin face over the emulator.

Start-up time matters (``hookdk fire`` is run in edit loops and benchmarked against bare
``python3``), so this module imports only click; each command imports the core it needs
when it runs, and commands that live in their own modules are loaded on first use.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import HookdkError
from .report import (
    echo_hints,
    echo_leaks,
    fail_json,
    leak_fails,
    result_dict,
    result_hints,
    wants_json,
)

EVENT = click.Choice(["session-open", "session-close"])

# Commands kept in their own modules, imported only when used (or listed by --help).
LAZY_COMMANDS = {
    "check": "hoophooks_dk.cli.check:check_command",
    "demo": "hoophooks_dk.cli.init:demo_command",
    "fuzz": "hoophooks_dk.cli.fuzz:fuzz_command",
    "init": "hoophooks_dk.cli.init:init_command",
    "render": "hoophooks_dk.cli.render:render_command",
    "templates": "hoophooks_dk.cli.init:templates_command",
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


def repo_option(function):
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        help="Runbooks repository root [default: the current directory's git root].",
    )(function)


def settings_options(function):
    """``--env``, ``--env-file`` and ``--python``: what the hooks run with (every command
    that runs hooks, ``check`` included)."""
    options = [
        click.option(
            "--env",
            "env",
            multiple=True,
            metavar="KEY=VALUE",
            help="A setting for the hooks' environment (repeatable; over the settings file).",
        ),
        click.option(
            "--env-file",
            metavar="FILE",
            help="Settings from a .env file (KEY=VALUE lines; over the settings file).",
        ),
        click.option(
            "--env-mode",
            type=click.Choice(["inherit", "clean"]),
            help="inherit: the hook gets your environment; clean: only the payload (and the "
            "capture's variables, PATH, locale), as an agent may give it [default: env_mode "
            "in the settings file, else inherit].",
        ),
        click.option(
            "--python",
            metavar="PYTHON",
            help="Interpreter [default: python in the settings file, else python3, as the agent].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_options(runner: str = "subprocess"):
    """The options every command that runs hooks takes; ``runner`` is its default runner."""
    options = [
        click.option(
            "--live",
            is_flag=True,
            help="Let the hooks reach the real network (by default a local capture answers).",
        ),
        click.option(
            "--capture",
            is_flag=True,
            help="Capture the hook's HTTP(S) requests: the default; kept for old scripts.",
        ),
        click.option(
            "--respond",
            multiple=True,
            metavar="[[METHOD ]URL-GLOB=]STATUS",
            help="How the capture answers: a status for every request [default: 200], or "
            "one for matching requests, e.g. 'POST https://siem.example.com/*=503' (repeatable).",
        ),
        click.option(
            "--allow-leaks",
            is_flag=True,
            help="Exit 0 even when a hook sends payload secrets out (they are still listed).",
        ),
        click.option(
            "--syslog/--no-syslog",
            default=True,
            show_default=True,
            help="With the capture, also receive syslog (UDP, TCP, TLS) at the "
            "HOOKDK_SYSLOG_* address (--sandbox: TCP and TLS only).",
        ),
        click.option("--ref", help="Read the hooks from this git revision, as Hoop does."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            help="Seconds before the gateway records -2 [default: timeout in the settings "
            "file, else 15].",
        ),
        click.option(
            "--kill-after",
            type=float,
            help="Seconds before the kit ends a hook that runs on past --timeout "
            "[default: 60, or --timeout if larger].",
        ),
        click.option(
            "--runner",
            type=click.Choice(["subprocess", "fast", "auto"]),
            default=runner,
            show_default=True,
            help="subprocess: one python3 per event, as the agent; fast: a warm fork server.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option(
            "--sandbox",
            is_flag=True,
            help="Linux: run hooks in a network namespace where only the capture answers "
            "(implies --capture and the subprocess runner).",
        ),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return repo_option(settings_options(function))

    return decorate


def repo_root(repo: Path | None) -> Path:
    """``--repo``, or the current directory's git root."""
    from ..hooks import find_repo_root

    root = repo.resolve() if repo else find_repo_root()
    if repo and not root.is_dir():
        raise HookdkError(f"--repo {repo}: no such directory")
    return root


def run_settings(root: Path, options: dict[str, Any]):
    """The command line over the repo's settings file (``settings.RunSettings``)."""
    from ..settings import resolve

    return resolve(
        root,
        python=options["python"],
        timeout=options.get("timeout"),
        env=options["env"],
        env_file=options["env_file"],
        respond=options.get("respond", ()),
        env_mode=options.get("env_mode"),
    )


def check_run_options(options: dict[str, Any]):
    """Check the run options and read the settings they sit over, before anything runs:
    flags that contradict each other, the repo, the settings file, ``--env``/``--env-file``,
    ``--respond``, ``--kill-after`` against the timeout. Raises the one HookdkError the
    core raises for each rule; returns the ``settings.RunSettings``.

    ``options`` gets the repository's ``root`` and the ``settings`` (hints read both; the
    ``repo`` stays as given, for commands that print it back). ``emulator_from`` calls it
    each time it opens an emulator (``watch`` opens one again after a settings file's
    save); ``watch`` also calls it once before the first run, so that a bad option is one
    line and exit 2 rather than a run that never works.
    """
    from ..runtime.runner import kill_limit

    if options["live"] and (options["capture"] or options["respond"] or options.get("sandbox")):
        flag = next(f"--{name}" for name in ("capture", "respond", "sandbox") if options.get(name))
        raise HookdkError(
            f"--live and {flag} contradict each other: with --live nothing is captured"
        )
    root = repo_root(options["repo"])
    settings = run_settings(root, options)
    kill_limit(settings.timeout, options.get("kill_after"))
    options["root"] = root
    options["settings"] = settings
    return settings


@contextmanager
def emulator_from(options: dict[str, Any]) -> Iterator[Any]:
    """The Emulator the run options describe, its runner and capture running meanwhile.

    Nothing leaves the machine unless ``--live``: a local capture answers every request.
    """
    from ..emulator import Emulator

    settings = check_run_options(options)
    root = options["root"]
    kill_after = options.get("kill_after")
    runner = make_runner(options["runner"], settings.python)
    emulator = Emulator(
        root,
        ref=options["ref"],
        timeout=settings.timeout,
        runner=runner,
        extra_env=settings.env,
        kill_after=kill_after,
        env_mode=settings.env_mode or "inherit",  # --env-mode, else the settings file's
    )
    try:
        if options["live"]:
            yield emulator
        else:
            from ..capture.capture import Capture
            from ..settings import apply_routes

            syslog = options.get("syslog", True)
            with Capture(default_status=settings.default_status, syslog=syslog) as capture:
                apply_routes(capture, settings.routes)
                emulator.capture = capture
                if options.get("sandbox"):
                    from ..runtime.sandbox import sandboxed_runner

                    emulator.runner = sandboxed_runner(settings.python, capture)
                yield emulator
    finally:
        runner.close()


def capturing(options: dict[str, Any]) -> bool:
    return not options["live"]


def make_runner(kind: str, python: str):
    if kind == "subprocess":  # the common case skips importing the fork server
        from ..runtime.runner import SubprocessRunner

        return SubprocessRunner(python)
    from ..runtime.forkserver import make_runner as make

    return make(kind, python)


def read_payload_file(name: str) -> dict[str, Any]:
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise HookdkError(f"cannot read payload {name}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise HookdkError(f"{label}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise HookdkError(
            f"{label}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise HookdkError(f"{label}: $: expected a JSON object, got {type(data).__name__}")
    return data


def parse_overrides(values: tuple[str, ...]) -> list[tuple[str, Any]]:
    from ..payload import parse_override

    return [parse_override(value) for value in values]


@cli.command()
@click.argument("event", type=EVENT)
@click.option("--payload", "payload_file", metavar="FILE|-", help="Payload file (may be partial).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
@run_options()
def fire(event, payload_file, sets, as_json, **options) -> None:
    """Fire EVENT through the real hook script, as Hoop would."""
    base = read_payload_file(payload_file) if payload_file else None
    label = "standard input" if payload_file == "-" else (payload_file or "payload")
    with emulator_from(options) as emulator:
        result = emulator.fire(event, base, parse_overrides(sets), source=label)
    hints = result_hints(result, options)
    if as_json:
        click.echo(json.dumps(result_dict(result, hints), ensure_ascii=False, indent=2))
    else:
        echo_result(result, emulator.capture is not None, hints, options["allow_leaks"])
    sys.exit(0 if result.ok and not leak_fails([result], options) else 1)


@cli.command()
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
@run_options()
def session(
    flow, review, reviewers, run_by, exit_code, output, duration, sequential, as_json, **options
) -> None:
    """Run one session's events through the real hooks, each when Hoop would fire it."""
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
    failed = not all(r.ok for r in results) or leak_fails(results, options)
    sys.exit(1 if failed else 0)


@cli.command()
def flows() -> None:
    """List the session flows: what Hoop fires, one line each."""
    from ..flows import FLOWS

    width = max(len(name) for name in FLOWS)
    fires = max(len(flow.fires) for flow in FLOWS.values())
    for flow in FLOWS.values():
        click.echo(f"{flow.name:<{width}}  {flow.fires:<{fires}}  {flow.summary}")


@cli.command()
@click.argument("event", type=EVENT)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a field.")
def payload(event, sets) -> None:
    """Print a synthetic payload for EVENT."""
    from ..emulator import build_payload

    built = build_payload(event, overrides=parse_overrides(sets), source="payload with --set")
    click.echo(json.dumps(built, ensure_ascii=False, indent=2))


@cli.command()
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


@cli.command()
@click.option("--path", "show_path", is_flag=True, help="Print the schema file's path instead.")
def schema(show_path) -> None:
    """Print the payload's JSON Schema."""
    from ..resources import read_schema_text, schema_path

    click.echo(str(schema_path()) if show_path else read_schema_text(), nl=show_path)


def echo_session(flow, results, captured: bool, hints, allow_leaks: bool = False) -> None:
    """A played flow (``hookdk session``, ``hookdk watch --flow``): what Hoop fires, then
    each result in the flow's order, ``hints`` holding one list per result."""
    click.echo(f"flow {flow.name}: {flow.fires}")
    for result, hint in zip(results, hints, strict=True):
        echo_result(result, captured, hint, allow_leaks)
    if not any(step.event == "session-close" for step in flow.steps):
        click.echo(
            "no session-close: Hoop fires none for this flow (docs/hoop-runtime.md section 5)"
        )


def echo_result(result, captured: bool = False, hints=(), allow_leaks: bool = False) -> None:
    for warning in result.warnings:
        click.echo(f"hookdk: warning: {warning}", err=True)
    if result.timed_out:
        status = click.style("TIMED OUT", fg="red", bold=True)
    elif result.leaks and not allow_leaks:
        status = click.style("LEAKED", fg="red", bold=True)
    elif result.exit_code == 0:
        status = click.style("ok", fg="green", bold=True)
    else:
        status = click.style("FAILED", fg="red", bold=True)
    click.echo(
        f"{status} {result.event}  exit_code={result.exit_code}  "
        f"{result.duration_ms:.0f} ms (execution_time_sec={result.execution_time_sec})"
    )
    click.echo(f"  hook  {result.hook_path} ({result.origin})")
    click.echo(f"  id    {result.id}")
    click.echo(f"  sid   {result.sid}")
    echo_output("output", result.output)
    if result.timed_out:  # the gateway stopped waiting; what the hook itself did
        click.echo(f"  the hook ran on: exit_code={result.hook_exit_code}")
        echo_output("hook output", result.hook_output)
    if captured:
        echo_requests(result.requests, result)
        if result.syslog is not None:
            echo_syslog(result.syslog)
    else:
        live = click.style("LIVE", fg="yellow", bold=True)
        click.echo(
            f"  network: {live}: the hook reached the real network (--live); nothing captured"
        )
    echo_leaks(result.leaks, allow_leaks)
    echo_hints(hints)


def echo_output(label: str, text: str) -> None:
    if text:
        click.echo(f"  {label}:")
        for line in text.splitlines():
            click.echo(f"    {line}")
    else:
        click.echo(f"  {label}: (none)")


def echo_requests(requests, result=None) -> None:
    """A delivery log, in the spirit of the one Hoop's Svix webhooks showed."""
    if not requests:
        click.echo("  sent: no HTTP requests")
        return
    click.echo(f"  sent: {len(requests)} request(s), answered by the local capture (none left)")
    click.echo(f"    {'#':>3}  {'METHOD':<7} {'STATUS':>6} {'BYTES':>7}  URL")
    for request in requests:
        late = (
            "  (late: after the gateway stopped waiting)"
            if result and result.is_late(request)
            else ""
        )
        click.echo(
            f"    {request.index:>3}  {request.method:<7} {request.response.status:>6} "
            f"{len(request.body):>7}  {request.url}{late}"
        )


def echo_syslog(messages) -> None:
    """The syslog messages the hook sent, one line each, after its HTTP requests."""
    if not messages:
        click.echo("  syslog: no messages")
        return
    click.echo(f"  syslog: {len(messages)} message(s), received by the local capture")
    click.echo(f"    {'#':>3}  {'VIA':<4} {'FORMAT':<13} {'BYTES':>7}  MESSAGE")
    for message in messages:
        shown = message.error if message.malformed else message.message
        text = " ".join((shown or "").split())
        text = text if len(text) <= 72 else text[:71] + "\u2026"
        if message.malformed:
            text = click.style(f"MALFORMED: {text}", fg="red")
        click.echo(
            f"    {message.index:>3}  {message.transport:<4} {message.format:<13} "
            f"{len(message.raw):>7}  {text}"
        )


def main() -> None:
    """Entry point: user errors become one line on stderr and their ``exit_code`` (2 for
    bad input, 1 for hooks Hoop would not load, with the check rule's hint), never a
    traceback.

    With ``--json`` (or ``check --format json``) every error is a JSON object on stdout
    instead, ``{"error": ..., "exit_code": ...}``, so a machine reading stdout always gets
    JSON. SIGTERM and SIGHUP unwind as Ctrl-C does, so hooks and temporary files go too.
    """
    from ..runtime import interrupts

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
        from ..errors import HooksNotLoaded

        extra, hint = {}, None
        if isinstance(error, HooksNotLoaded):  # the finding, with the rule that explains it
            from ..check.hints import load_failure_hint

            hint = load_failure_hint(error)
            extra["hints"] = [hint.to_dict()] if hint else []
        if wants_json():
            fail_json(str(error), error.exit_code, **extra)
        label = "" if isinstance(error, HooksNotLoaded) else "error: "
        click.echo(f"hookdk: {label}{error}", err=True)
        if hint is not None:
            click.echo(f"hookdk: hint: {hint}", err=True)
        sys.exit(error.exit_code)
