"""How ``fire``, ``session`` and ``fuzz`` report what production would do.

Beside Hoop's own record (``cli.echo_result``): the payload secrets a hook sent out, the
hint a ``check`` rule gives for a failure, and errors as JSON when the command line asked
for JSON. Only click and json are imported here: ``hookdk fire`` starts fast.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click


def leak_fails(results, options: dict[str, Any]) -> bool:
    """A leak fails the command unless ``--allow-leaks``."""
    return not options["allow_leaks"] and any(result.leaks for result in results)


def result_hints(result, options: dict[str, Any]) -> list:
    """Why a failed run failed, when a check rule or a missing setting explains it.

    ``options`` are the run options once ``cli.check_run_options`` resolved them (the
    repository's ``root``, the ``settings`` read): the result can be explained after its emulator closed,
    as ``hookdk watch`` does between saves."""
    from ..check.hints import hints_for

    source = getattr(options.get("settings"), "source", None)
    return hints_for(result, options["root"], options.get("ref"), settings_source=source)


def result_dict(result, hints: list) -> dict[str, Any]:
    return result.to_dict() | {"hints": [hint.to_dict() for hint in hints]}


def echo_leaks(leaks, allowed: bool = False) -> None:
    """Each payload secret the hook sent: which, in what encoding, in which request."""
    if not leaks:
        return
    word = click.style("LEAKS", fg="red", bold=True)
    note = " (allowed by --allow-leaks)" if allowed else ""
    click.echo(f"  {word}: {len(leaks)} payload secret(s) sent out{note}")
    for leak in leaks:
        click.echo(f"    {leak.summary()}")
    if not allowed:
        click.echo(
            "    forward only the fields the SIEM needs: never connection_envs values or "
            "input_file (--allow-leaks to exit 0 anyway)"
        )


def echo_hints(hints) -> None:
    for hint in hints:
        click.echo(f"  {click.style('hint', fg='cyan', bold=True)}: {hint}")


def wants_json(argv: list[str] | None = None) -> bool:
    """Whether the command line asked for JSON output (read from the raw arguments, since
    the error may come before click parsed them)."""
    args = sys.argv[1:] if argv is None else argv
    if "--" in args:
        args = args[: args.index("--")]
    pairs = zip(args, [*args[1:], ""], strict=True)
    return "--json" in args or "--format=json" in args or ("--format", "json") in pairs


def fail_json(message: str, exit_code: int, **extra: Any) -> None:
    click.echo(json.dumps({"error": message, "exit_code": exit_code, **extra}, ensure_ascii=False))
    sys.exit(exit_code)
