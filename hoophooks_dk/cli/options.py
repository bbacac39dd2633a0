"""The options every command that runs hooks shares, and how they become a run.

The options are parsed here; what they mean (the settings file under them, the capture,
the runner, the emulator) is ``hoophooks_dk.wiring``'s, the one place every face builds a
run. Only click is imported at start-up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import HookdkError

EVENT = click.Choice(["session-open", "session-close"])
# payload.CALLERS' keys, repeated so that ``--help`` needs no import of the core
CALLER_KINDS = ("user", "api-key", "ai-agent", "gateway-api-key", "machine")


def caller_option(function):
    """``--caller KIND``: who opens the session, as Hoop names them in ``user_email``."""
    return click.option(
        "--caller",
        type=click.Choice(CALLER_KINDS),
        help="Who opens the session, as user_email says it: user (an email), api-key (the "
        "key's name), ai-agent (its name), gateway-api-key (API_KEY), machine (empty) "
        "[default: user].",
    )(function)


def complete_flows(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for ``--flow``: the flows ``hookdk flows`` lists."""
    from ..flows import FLOWS

    return [name for name in FLOWS if name.startswith(incomplete)]


def complete_templates(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for ``--template``: the templates ``hookdk templates`` lists."""
    from ..scaffold.writer import templates

    return [t.name for t in templates() if t.name.startswith(incomplete)]


def repo_option(function):
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        help="Runbooks repository root [default: the nearest folder with hoop-hooks/ up "
        "to the current directory's git root, else that git root].",
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
            help="Run hooks with this interpreter and its packages, as given [default: python "
            "in the settings file, else the agent runtime: Python 3.12 with the agent "
            "image's boto3 and requests, every connection captured].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_options(runner: str = "subprocess", *, ref: bool = True):
    """The options every command that runs hooks takes; ``runner`` is its default runner.
    ``ref=False`` leaves ``--ref`` out of the help (a command that fires the working tree
    takes it only to refuse it with the reason); the option is then ``None``."""
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
        click.option(
            "--ref",
            hidden=not ref,
            help="Read the hooks from this git revision, as Hoop does.",
        ),
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


def report_option(function):
    """``--report FILE.html`` (``fire``, ``session``): the run as one HTML page too."""
    return click.option(
        "--report",
        "report_file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE.html",
        help="Also write the run as one self-contained HTML page (timeline, payloads, "
        "output, requests, leaks); it loads nothing, so it opens offline and as a CI "
        "artifact. A file the kit did not write is not overwritten.",
    )(function)


def repo_root(repo: Path | None) -> Path:
    """``--repo``, or the repository around the current directory (``find_repo_root``)."""
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
    """The Emulator the run options describe (``wiring.run``), its runner and capture
    running meanwhile. Nothing leaves the machine unless ``--live``."""
    from .. import wiring

    settings = check_run_options(options)
    with wiring.run(
        options["root"],
        settings,
        ref=options["ref"],
        runner=options["runner"],
        live=options["live"],
        sandbox=bool(options.get("sandbox")),
        syslog=options.get("syslog", True),
        kill_after=options.get("kill_after"),
        progress=runtime_progress,
    ) as emulator:
        yield emulator


def runtime_progress(line: str) -> None:
    """How building the agent runtime (once per machine) shows on the terminal."""
    click.echo(f"hookdk: agent runtime: {line}", err=True)


def prepare_runtime(settings) -> None:
    """Build the agent runtime now, with progress, if the settings use it and this
    machine has none yet (for faces that reach the wiring through the core)."""
    if settings is not None and settings.python is None:
        from ..wiring import runtime_for

        runtime_for(None, runtime_progress)


def capturing(options: dict[str, Any]) -> bool:
    return not options["live"]


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


def payload_for(data: dict[str, Any], event: str, label: str) -> dict[str, Any]:
    """A payload file, or the event's payload in a file ``hookdk replay --save`` wrote
    (``{"session-open": {...}, "session-close": {...}}``)."""
    if not data or not set(data) <= {"session-open", "session-close"}:
        return data
    if event not in data:
        raise HookdkError(
            f"{label} holds the payloads of {', '.join(data)} only, not {event} "
            "(hookdk replay saves a close only for a session that ended)"
        )
    if not isinstance(data[event], dict):
        raise HookdkError(f"{label}: $.{event}: expected a JSON object")
    return data[event]


def parse_overrides(
    values: tuple[str, ...], event: str | None = None, caller: str | None = None
) -> list[tuple[str, Any]]:
    """``--set`` pairs, after ``--caller``'s ``user_email`` (so a ``--set`` wins)."""
    from ..payload import caller_override, parse_override

    first = [caller_override(event, caller)] if caller is not None and event else []
    return first + [parse_override(value) for value in values]


def hoop_api_options(function):
    """``--api-url`` and ``--token``: the Hoop API, over ``HOOP_APIURL``/``HOOP_TOKEN`` and
    Hoop's CLI file ``~/.hoop/config.toml`` (``hoopapi.credentials``)."""
    options = [
        click.option(
            "--api-url",
            metavar="URL",
            help="Hoop's API, e.g. https://use.hoop.dev [default: HOOP_APIURL, else api_url "
            "in ~/.hoop/config.toml, as Hoop's CLI].",
        ),
        click.option(
            "--token",
            metavar="TOKEN",
            help="An access token or API key [default: HOOP_TOKEN, else token in "
            "~/.hoop/config.toml]. Prefer the variable: a command line is visible to others.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def hoop_credentials(options: dict[str, Any]):
    """The ``hoopapi.Credentials`` the options and the environment give."""
    from ..hoopapi.credentials import resolve

    return resolve(options.pop("api_url", None), options.pop("token", None))
