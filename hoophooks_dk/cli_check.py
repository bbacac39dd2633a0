"""``hookdk check``: the command-line face of ``hoophooks_dk.check``.

Kept in its own module and loaded lazily by ``cli.LAZY_COMMANDS``, so ``hookdk fire``
does not pay for importing ast, difflib and GitPython.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

from .cli import ENV_MODE, repo_option
from .runner import DEFAULT_TIMEOUT


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
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds each hook may run in the dynamic check (Hoop waits 15).",
)
@ENV_MODE
def check_command(repo, ref, branch, output_format, strict, static, timeout, env_mode) -> None:
    """Find what Hoop would silently drop: names, template, Python, git, a real run.

    Exit status: 0 clean (or only warnings/info), 1 errors (or warnings, with --strict),
    2 bad usage.
    """
    from .check import check, exit_code
    from .hooks import find_repo_root

    # check() says "no such directory" for a --repo that is not there: one place for it.
    root = repo.resolve() if repo is not None else find_repo_root()
    findings = check(
        root, ref=ref, branch=branch, static=static, timeout=timeout, env_mode=env_mode
    )
    if output_format == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for line in format_text(findings, static):
            click.echo(line)
    sys.exit(exit_code(findings, strict))


def format_text(findings, static: bool = False) -> list[str]:
    """One line per finding, ``file:line: RULE severity: message (fix: ...)``, and a summary."""
    lines = []
    for f in findings:
        where = f"{f.file}:{f.line}: " if f.line else f"{f.file}: " if f.file else ""
        lines.append(f"{where}{f.rule} {f.severity}: {f.message} (fix: {f.fix})")
    from .check import SEVERITIES

    counts = Counter(f.severity for f in findings)
    parts = [_plural(counts[severity], severity) for severity in SEVERITIES]
    ran = " (static: hooks not run)" if static else ""
    lines.append(f"hookdk check: {', '.join(parts)}{ran}")
    return lines


def _plural(count: int, word: str) -> str:
    if word == "info":
        return f"{count} info"
    return f"{count} {word}{'' if count == 1 else 's'}"
