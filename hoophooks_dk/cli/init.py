"""The ``init``, ``templates`` and ``demo`` commands: thin faces over scaffold and demo.

Registered lazily in ``cli.LAZY_COMMANDS``, so ``hookdk fire`` never pays for importing
them. Each command formats what the core returns; the core never prints.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from ..scaffold.writer import CI_CHOICES, CI_FILES, DEFAULT_TEMPLATE, SKIPPED
from .options import complete_templates


@click.command("init")
@click.argument(
    "directory", default=".", type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]"
)
@click.option(
    "--template",
    "-t",
    shell_complete=complete_templates,
    help=f"Which hooks to write (see `hookdk templates`) [default: {DEFAULT_TEMPLATE}].",
)
@click.option("--force", is_flag=True, help="Overwrite files init writes that already exist.")
@click.option(
    "--ci",
    type=click.Choice(CI_CHOICES),
    help="CI workflow to write [default: github; none with --no-tests].",
)
@click.option("--no-tests", is_flag=True, help="Write the hooks only: no tests, no CI workflow.")
@click.option(
    "--tests-only",
    is_flag=True,
    help="For hooks you already have: write a generic test suite, the CI and the settings "
    "file, never touching hoop-hooks/.",
)
@click.option(
    "--kit-spec",
    metavar="SPEC",
    help="The pip requirement the CI installs the kit with [default: where this copy "
    "came from: git URL and commit, or index version].",
)
def init_command(
    directory: Path,
    template: str | None,
    force: bool,
    ci: str | None,
    no_tests: bool,
    tests_only: bool,
    kit_spec: str | None,
):
    """Scaffold hoop-hooks/ from a template, with tests that pass at once.

    Writes at the root of the git repository that holds DIR (default: the current
    directory), where Hoop looks for hooks: both hooks, their tests in tests/hooks/, a CI
    workflow that checks and tests them, hookdk.toml (test values for the hooks'
    settings) and .gitignore lines. Existing files are kept unless --force.
    """
    from ..scaffold.writer import init

    if tests_only and (template is not None or no_tests):
        given = "--template" if template is not None else "--no-tests"
        raise click.UsageError(f"--tests-only writes no hooks, and tests: drop {given}")
    if ci is None:
        ci = "none" if no_tests else "github"
    if kit_spec is not None and (no_tests or ci == "none"):
        raise click.UsageError("--kit-spec is the CI's install line: it needs a CI (--ci)")
    result = init(
        directory,
        template or DEFAULT_TEMPLATE,
        force=force,
        ci=ci,
        tests=not no_tests,
        kit_spec=kit_spec,
        tests_only=tests_only,
    )
    for warning in result.warnings:
        click.echo(f"hookdk: warning: {warning}", err=True)
    what = "tests for your own hooks" if tests_only else f"template {result.template.name}"
    click.echo(f"hookdk init: {what} in {shown(result.root)}")
    width = max(len(action) for _, action in result.files)
    for path, action in result.files:
        click.echo(f"  {styled(action, width)}  {path.as_posix()}")
    if result.skipped:
        click.echo(
            f"{len(result.skipped)} file(s) already existed and were kept; "
            "--force overwrites them (and nothing else)."
        )
    for path in result.skipped:
        if path.as_posix() in CI_FILES.values():
            click.echo(
                f"Your {path.as_posix()} was kept: add a job to it that runs "
                '`pip install "$HOOKDK_PIP_SPEC"` (the kit), `hookdk check` and '
                "`pytest tests/hooks`."
            )
    echo_next_steps(result, tests=not no_tests)


def echo_next_steps(result, tests: bool) -> None:
    """Steps for what is on disk: the template's hooks, or the user's own, kept."""
    from ..hooks import HOOK_PATHS

    kept = [p.as_posix() for p in result.skipped if p.as_posix() in HOOK_PATHS.values()]
    settings_file = result.settings_elsewhere or "hookdk.toml [env]"
    click.echo("Next:")
    if result.template is None:  # --tests-only
        click.echo(
            f"  - give the settings your hooks read test values in {settings_file} "
            "(the capture answers every request: they never leave this machine)"
        )
    elif kept:
        click.echo(
            f"  - your own {' and '.join(kept)} {'was' if len(kept) == 1 else 'were'} kept, "
            f"not the {result.template.name} template's: its tests may not fit "
            f"{'it' if len(kept) == 1 else 'them'} (--force writes the template's; "
            "`hookdk init --tests-only` writes tests for any hook)"
        )
    settings = ", ".join(result.template.settings) if result.template else ""
    if settings and len(kept) < len(HOOK_PATHS):
        click.echo(
            f"  - {settings}: test values are in {settings_file}, for hookdk fire and check and "
            "the CI; on the agent the hooks read the real ones from its environment: give "
            "them there, never in git (`hookdk check` HK308)"
        )
    if result.kit is not None and result.kit.note:
        click.echo(f"  - CI: {result.kit.note}")
    if tests:
        click.echo("  - run the checks and the tests: hookdk check, then pytest tests/hooks")
    click.echo(
        "  - commit and push (Hoop runs only what is committed and pushed), then "
        "`hookdk check --strict` on the branch Hoop reads"
    )


def styled(action: str, width: int) -> str:
    """The action padded to ``width``, coloured when it changed or kept a file."""
    colour = {"created": "green", "overwritten": "yellow", SKIPPED: "yellow"}.get(action)
    return click.style(action.ljust(width), fg=colour)


def shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else absolute."""
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else f"{path} (here)"


@click.command("templates")
def templates_command() -> None:
    """List the templates `hookdk init --template` accepts."""
    from ..scaffold.writer import templates

    found = templates()
    width = max(len(template.name) for template in found)
    for template in found:
        mark = " [default]" if template.is_default else ""
        click.echo(f"{template.name:<{width}}  {template.description}{mark}")


@click.command("demo")
@click.option(
    "--template",
    "-t",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    shell_complete=complete_templates,
    help="Which template's hooks to run.",
)
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def demo_command(template: str, keep: bool) -> None:
    """Fire a reviewed session through a template's hooks in a throwaway repository.

    Needs no network and no configuration: every request the hooks make is answered by
    a local capture, and the demo prints what Hoop would record and what the SIEM got.
    """
    from ..scaffold.demo import run_demo
    from ..wiring import runtime_for
    from .options import runtime_progress

    runtime_for(None, runtime_progress)  # built once per machine, with progress, if missing
    if keep:
        run = run_demo(Path(tempfile.mkdtemp(prefix="hookdk-demo-")), template)
    else:
        with tempfile.TemporaryDirectory(prefix="hookdk-demo-") as workdir:
            run = run_demo(Path(workdir), template)
    echo_demo(run, keep)
    sys.exit(0 if run.ok else 1)


def echo_demo(run, keep: bool) -> None:
    where = f"from {run.ref}, committed, as Hoop reads them" if run.ref else "working tree"
    click.echo(f"hookdk demo: template {run.template.name}, one reviewed session")
    click.echo(f"  repository  {run.repo}{'' if keep else ' (deleted)'}")
    click.echo(f"  hooks       hoop-hooks/*.runbook.py ({where})")
    runtime = run.results[0].runtime if run.results else None
    if runtime is not None:
        click.echo(f"  ran in      {runtime.describe()}; network {run.results[0].network}")
    click.echo("")
    click.echo("What Hoop would record:")
    click.echo(f"  {'#':<2} {'event':<14} {'id':<37} {'exit':>4}  {'duration':>8}")
    for number, result in enumerate(run.results, 1):
        exit_code = click.style(f"{result.exit_code:>4}", fg="green" if result.ok else "red")
        click.echo(
            f"  {number:<2} {result.event:<14} {result.id:<37} {exit_code}  "
            f"{result.duration_ms:>5.0f} ms"
        )
        if not result.ok:
            for line in result.output.splitlines():
                click.echo(f"       {line}")
    click.echo("")
    click.echo("What the SIEM received (a local capture answered; nothing left this machine):")
    for number, result in enumerate(run.results, 1):
        for request in result.requests or []:
            click.echo(f"  {number:<2} {request.method} {request.url}  {request.response.status}")
            click.echo(f"     {excerpt(request.text)}")
        for message in result.syslog or []:
            click.echo(f"  {number:<2} syslog over {message.transport}, {message.format}")
            click.echo(f"     {excerpt(message.message or message.text)}")
        if not result.requests and not result.syslog:
            click.echo(f"  {number:<2} (no request)")
    click.echo("")
    if run.same_open_id:
        click.echo(
            f"Both session-open runs carry the same id, {run.results[0].id}: Hoop fires\n"
            "session-open twice for a reviewed session (review requested, approved run), so\n"
            "the SIEM deduplicates on that id."
        )
    click.echo("Next: in your runbooks repository, `hookdk init` (`hookdk templates` lists them).")


def excerpt(text: str, width: int = 110) -> str:
    """The start of a body on one line; JSON compacted so that more of it shows."""
    try:
        flat = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
