"""``hookdk doctor``: what in the org's hook configuration (read from Hoop's API) and in
the local repository stops the hooks from firing, or from firing on every event
(``hoopapi.doctor`` has the rules, each with its Hoop source)."""

from __future__ import annotations

import json
import sys

import click

from .options import hoop_api_options, hoop_credentials, repo_option

LABELS = {"problem": ("PROBLEM", "red"), "warning": ("warning", "yellow"), "ok": ("ok", "green")}


@click.command()
@hoop_api_options
@repo_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(as_json: bool, repo, **options) -> None:
    """Check the org's hook configuration in Hoop, and this repository against it."""
    from ..hooks import find_repo_root
    from ..hoopapi.client import HoopApi
    from ..hoopapi.config import read_config
    from ..hoopapi.doctor import diagnose

    credentials = hoop_credentials(options)
    root = repo.resolve() if repo else find_repo_root()
    with HoopApi(credentials) as api:
        v2 = api.runbook_configuration()
        plugin, unread = _plugin(api)
    config = read_config(v2, plugin)
    config.notes += unread
    findings = diagnose(config, root)
    problems = [f for f in findings if f.level == "problem"]
    if as_json:
        body = {
            "api_url": credentials.api_url,
            "repository": str(root),
            "configuration": config.to_dict(),
            "notes": config.notes,
            "findings": [finding.to_dict() for finding in findings],
            "ok": not problems,
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _echo(credentials.api_url, config, findings)
    sys.exit(1 if problems else 0)


def _plugin(api) -> tuple[dict | None, list[str]]:
    """The legacy plugin, or None and a note when the token may not read it (the newer
    configuration is what matters today)."""
    from ..hoopapi.client import OPTIONAL_FAILURES, HoopApiError

    try:
        return api.runbooks_plugin(), []
    except HoopApiError as error:
        if error.kind not in OPTIONAL_FAILURES:
            raise
        return None, [f"the runbooks plugin (legacy) was not read: {error}"]


def _echo(api_url: str, config, findings) -> None:
    click.echo(f"Hoop API {api_url}")
    if config.v2 is None:
        click.echo("  runbooks configuration: none")
    else:
        click.echo(f"  runbooks configuration: {len(config.v2)} repository(ies)")
    for repository in config.repositories:
        ttl = "no TTL" if not repository.ttl else f"TTL {repository.ttl} s"
        state = "hooks on" if repository.hooks_on else "hooks off"
        click.echo(
            f"    {repository.name}  ({repository.origin}, {ttl}, {state}, "
            f"branch {repository.reads})"
        )
    if not config.plugin_present:
        click.echo("  runbooks plugin (legacy): none")
    for note in config.notes:
        click.echo(f"  note: {note}")
    for finding in findings:
        label, colour = LABELS[finding.level]
        where = f" [{finding.repository}]" if finding.repository else ""
        click.echo(
            f"{click.style(label, fg=colour, bold=True)} {finding.code}{where}: {finding.message}"
        )
        if finding.fix:
            click.echo(f"  fix: {finding.fix}")
        click.echo(f"  hoop: {finding.hoop}")
    problems = sum(f.level == "problem" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    verdict = "hooks do not fire, or not on every event" if problems else "nothing stops the hooks"
    click.echo(f"doctor: {problems} problem(s), {warnings} warning(s): {verdict}")
