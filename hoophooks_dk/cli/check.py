"""``hookdk check``: the command-line face of ``hoophooks_dk.check``.

Kept in its own module and loaded lazily by ``cli.LAZY_COMMANDS``, so ``hookdk fire``
does not pay for importing ast, difflib and GitPython.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

import click

from .options import repo_option, repo_root, run_settings, settings_options


@click.command("check")
@repo_option
@click.option("--ref", help="Check the hook files at this git revision, not the working tree.")
@click.option("--branch", help="The branch configured in Hoop [default: master, else main].")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: a list of findings (rule, severity, file, line, message, fix).",
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
def check_command(repo, ref, branch, output_format, strict, static, timeout, **options) -> None:
    """Find what Hoop would silently drop: names, template, Python, git, a real run.

    The hooks run against a local capture (nothing leaves the machine), with your
    environment plus the settings given (--env, --env-file, the repo's settings file).
    Exit status: 0 clean (or only warnings/info), 1 errors (or warnings, with --strict),
    2 bad usage.
    """
    from ..check import check, exit_code

    # check() says "no such directory" for a --repo that is not there: one place for it.
    root = repo.resolve() if repo is not None else repo_root(None)
    settings = run_settings(root, options | {"timeout": timeout}) if root.is_dir() else None
    findings = check(
        root,
        ref=ref,
        branch=branch,
        static=static,
        settings=settings,
    )
    if output_format == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        colour = False if os.environ.get("NO_COLOR") else None  # None: click asks the TTY
        for line in format_text(findings, static, styled=True):
            click.echo(line, color=colour)
    sys.exit(exit_code(findings, strict))


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
