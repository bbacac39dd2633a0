"""``hookdk check``: the command-line face of ``hoophooks_dk.check``.

Kept in its own module and loaded lazily by ``cli.LAZY_COMMANDS``, so ``hookdk fire``
does not pay for importing ast, difflib and GitPython.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from ..errors import HookdkError
from .options import prepare_runtime, repo_option, repo_root, run_settings, settings_options
from .report import progress_line

FORMATS = ("text", "json", "sarif", "codeclimate")


@click.command("check")
@repo_option
@click.option("--ref", help="Check the hook files at this git revision, not the working tree.")
@click.option("--branch", help="The branch configured in Hoop [default: master, else main].")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="json: a list of findings (rule, severity, file, line, column, message, fix); "
    "sarif: SARIF 2.1.0, for GitHub code scanning; codeclimate: a GitLab Code Quality "
    "report.",
)
@click.option(
    "--output",
    "output_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the --format report to FILE; the text report then goes to stdout (CI logs).",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option("--static", is_flag=True, help="Do not run the hooks (skip the HK5xx rules).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds each hook may run in the dynamic check "
    "[default: timeout in the settings file, else 15, as Hoop waits].",
)
@settings_options
def check_command(
    repo, ref, branch, output_format, output_file, strict, static, timeout, **options
) -> None:
    """Find what Hoop would silently drop: names, template, Python, git, a real run.

    The hooks run against a local capture (nothing leaves the machine), with your
    environment plus the settings given (--env, --env-file, the repo's settings file).
    --format sarif (GitHub code scanning) and codeclimate (GitLab Code Quality) are what
    the CI `hookdk init` writes uploads. Exit status: 0 clean (or only warnings/info),
    1 errors (or warnings, with --strict), 2 bad usage.
    """
    from ..check import check, exit_code

    # check() says "no such directory" for a --repo that is not there: one place for it.
    root = repo.resolve() if repo is not None else repo_root(None)
    settings = run_settings(root, options | {"timeout": timeout}) if root.is_dir() else None
    if not static:
        prepare_runtime(settings)  # built once per machine, with progress, if missing
    with progress_line("check"):
        findings = check(root, ref=ref, branch=branch, static=static, settings=settings)
    if output_file is not None:
        _write(output_file, report(findings, output_format, root))
        output_format = "text"
    if output_format == "text":
        colour = False if os.environ.get("NO_COLOR") else None  # None: click asks the TTY
        for line in format_text(findings, static, styled=True):
            click.echo(line, color=colour)
    else:
        click.echo(report(findings, output_format, root))
    sys.exit(exit_code(findings, strict))


def report(findings, output_format: str, root: Path) -> str:
    """The findings in ``output_format``, as the text of one file."""
    from ..check import formats

    if output_format == "json":
        data: object = [f.to_dict() for f in findings]
    elif output_format == "sarif":
        data = formats.to_sarif(findings, version=_kit_version(), root=root)
    elif output_format == "codeclimate":
        data = formats.to_codeclimate(findings)
    else:
        return "\n".join(format_text(findings))
    return json.dumps(data, ensure_ascii=False, indent=2)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise HookdkError(f"--output {path}: cannot write it: {error.strerror}") from None


def _kit_version() -> str:
    from .. import __version__

    return __version__


SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}


def format_text(findings, static: bool = False, styled: bool = False) -> list[str]:
    """One line per finding, ``file:line: RULE severity: message (fix: ...)``, and a summary.

    ``styled`` colours the severities and the fix (click strips the colour again when
    the output is not a terminal)."""

    def paint(text: str, **style) -> str:
        return click.style(text, **style) if styled else text

    lines = []
    for f in findings:
        where = f"{f.file}:{f.line}: " if f.line else f"{f.file}: " if f.file else ""
        severity = paint(f"{f.rule} {f.severity}", fg=SEVERITY_COLOURS[f.severity], bold=True)
        fix = paint(f"(fix: {f.fix})", fg="green")
        lines.append(f"{paint(where, bold=True)}{severity}: {f.message} {fix}")
    from ..check import SEVERITIES

    counts = Counter(f.severity for f in findings)
    parts = [
        paint(_plural(counts[s], s), fg=SEVERITY_COLOURS[s]) if counts[s] else _plural(0, s)
        for s in SEVERITIES
    ]
    ran = " (static: hooks not run)" if static else ""
    lines.append(f"hookdk check: {', '.join(parts)}{ran}")
    return lines


def _plural(count: int, word: str) -> str:
    if word == "info":
        return f"{count} info"
    return f"{count} {word}{'' if count == 1 else 's'}"
