"""``hookdk mutants``: run the repository's hook tests against each regression in the
catalogue (``hoophooks_dk.mutants``) and say which ones they miss."""

from __future__ import annotations

import json

import click

from .options import repo_option


@click.command("mutants")
@repo_option
@click.option(
    "--command",
    "command",
    metavar="CMD",
    help="Run this instead of pytest in each copy (a failing exit = caught).",
)
@click.option(
    "--mutant",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only this mutant (repeat for more) [default: the whole catalogue].",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Mutants run at once [default: one per core]."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds one run of the tests may take.",
)
@click.option("--list", "list_only", is_flag=True, help="List the catalogue and stop.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mutants(repo, command, names, jobs, timeout, list_only, as_json) -> None:  # fmt: skip
    """Check that the hook tests fail when the hooks regress.

    Each mutant (TLS verification off, assuming an '@' in user_email, leaking the
    hook's source or a secret, the session id as the event id, swallowing errors,
    running past 15 s, no retries) goes into a copy of the repository's hooks and the
    tests run there. Exit 1 when the tests miss one.
    """
    from ..errors import HookdkError
    from ..hooks import find_repo_root
    from ..mutants import CATALOGUE, baseline, by_name, run_mutants
    from ..mutants.run import split_command

    if list_only:
        for mutant in CATALOGUE:
            click.echo(f"{mutant.name:22} {mutant.models}")
        return
    try:
        chosen = by_name(list(names)) if names else list(CATALOGUE)
    except KeyError as error:
        known = ", ".join(m.name for m in CATALOGUE)
        raise HookdkError(f"--mutant {error.args[0]}: no such mutant (known: {known})") from None
    root = repo.resolve() if repo else find_repo_root()
    if not (root / "hoop-hooks").is_dir():
        raise HookdkError(f"{root} has no hoop-hooks folder: run in a runbooks repository")
    argv = split_command(command) if command else None
    clean = baseline(root, argv, timeout)
    if clean.caught:
        failing = HookdkError(f"the tests fail on the unmutated hooks ({clean.by}): fix them first")
        failing.exit_code = 1  # the hooks' tests failed, as a failed hook does
        raise failing

    def heard(outcome) -> None:
        if not as_json:
            verdict = click.style("caught", fg="green") if outcome.caught else click.style(
                "MISSED", fg="red", bold=True)  # fmt: skip
            by = f" by {outcome.by}" if outcome.caught and outcome.by else ""
            click.echo(f"{verdict} {outcome.name} ({outcome.seconds:.1f} s){by}")

    outcomes = run_mutants(root, chosen, argv, jobs, timeout, done=heard)
    missed = [o for o in outcomes if not o.caught]
    if as_json:
        rows = [o.__dict__ | {"seconds": round(o.seconds, 2)} for o in outcomes]
        click.echo(json.dumps({"baseline_seconds": round(clean.seconds, 2), "mutants": rows},
                              indent=2))  # fmt: skip
    else:
        for outcome in missed:
            click.echo(f"missed: {outcome.name}: {outcome.models}: no test failed", err=True)
        click.echo(f"{len(outcomes) - len(missed)} of {len(outcomes)} mutants caught "
                   f"(tests alone: {clean.seconds:.1f} s)")  # fmt: skip
    if missed:
        raise SystemExit(1)
