"""``hookdk doctor``'s rules: what in the org's configuration stops hooks or thins them.

Each rule reads the ``HookConfig`` (from Hoop's API) or the local repository and names
the Hoop source behind it. A finding is a ``problem`` when hooks do not fire, or fire on
only some events (exit 1), a ``warning`` when they fire but not as one might expect, and
``ok`` for what was checked and is fine. The rules, in the order Hoop's gateway meets
them (``processEventOpenSessionHook`` in gateway/transport/extensions/runbookhook.go):

* the plugin's TTL that does not parse fails every event before any hook runs;
* a configuration with no repository whose TTL turns hooks on: hooks are off;
* several repositories, one without a TTL: Hoop walks them in Go's random map order and
  stops at the first without one, so the others fire on a random subset of events, each
  event cloning again (the walk is cached only when it completes);
* the demo repository every org gets (``hoophq/demo-runbooks``, no TTL) left in place;
* both configurations at once: each fires its own hooks, and the next gateway start
  migrates the plugin into the newer configuration, replacing its repositories;
* several repositories with hooks: each runs its own copy of each hook;
* the local repository: is it the one Hoop reads (its remotes against ``git_url``), on
  the branch Hoop reads, with both hooks loading at that branch's pushed commit.
"""

from __future__ import annotations

from pathlib import Path

from .config import PLUGIN, HookConfig, Repository
from .findings import OK, PROBLEM, WARNING, Finding
from .source import (
    HOOK_LOADER,
    RUNBOOKS_API,
    RUNBOOKS_CONFIG,
    RUNBOOKS_MIGRATION,
    RUNBOOKS_MODEL,
    cite,
)


def diagnose(config: HookConfig, root: Path | None) -> list[Finding]:
    """Every finding for ``config``, then for the repository at ``root`` (None: none)."""
    found = [*config_findings(config)]
    if root is not None:
        from .localrepo import local_findings

        found += local_findings(config, root)
    return found


def config_findings(config: HookConfig) -> list[Finding]:
    found: list[Finding] = []
    for rule in (plugin_broken, nothing_on, random_subset, demo_left, both_configs, copies):
        found += rule(config)
    if not any(f.level == PROBLEM for f in found) and any(r.hooks_on for r in config.repositories):
        on = ", ".join(r.name for r in config.repositories if r.hooks_on)
        found.append(Finding("hooks-on", OK, f"hooks fire from {on}", cite(HOOK_LOADER)))
    return found


def plugin_broken(config: HookConfig) -> list[Finding]:
    if config.plugin_error is None:
        return []
    return [
        Finding(
            "plugin-ttl-invalid",
            PROBLEM,
            f"the runbooks plugin's {config.plugin_error}: Hoop fails to read the plugin on every "
            "event and then returns, so no hook runs, not even the runbooks configuration's",
            cite(RUNBOOKS_CONFIG, "parseRunbookHookCacheTTLConfig"),
            PLUGIN,
            "set GIT_HOOK_CONFIG_TTL to the base64 of whole seconds, or delete the plugin",
        )
    ]


def nothing_on(config: HookConfig) -> list[Finding]:
    """No configuration, or none with a TTL that turns hooks on."""
    if config.v2 is None and not config.plugin_present:
        return [
            Finding(
                "no-configuration",
                PROBLEM,
                "the org has no runbook configuration: Hoop has nowhere to read hooks from",
                cite(HOOK_LOADER, "getRunbookHookFilesV2"),
                fix="add the hooks repository with a TTL (git_hook_ttl > 0) in Hoop's "
                "runbooks settings",
            )
        ]
    if any(repo.hooks_on for repo in config.repositories) or config.plugin_error:
        return []
    names = [repo.name for repo in config.repositories]
    if names:
        why = f"{', '.join(names)} {'has' if len(names) == 1 else 'have'} no TTL (unset or 0)"
    else:
        why = "the runbooks configuration lists no repository"
    return [
        Finding(
            "hooks-off",
            PROBLEM,
            f"hooks are off: {why}; Hoop runs hooks only from a repository with a TTL",
            cite(RUNBOOKS_CONFIG, "NewConfigV2"),
            fix="set git_hook_ttl (seconds, > 0) on the hooks repository",
        )
    ]


def random_subset(config: HookConfig) -> list[Finding]:
    """The V2 walk stops at the first repository without a TTL, in random order."""
    repos = config.v2 or []
    on = [repo for repo in repos if repo.hooks_on]
    off = [repo for repo in repos if not repo.hooks_on]
    if not on or not off:
        return []
    share = f"about 1 in {len(off) + 1}"
    found = []
    for repo in off:
        found.append(
            Finding(
                "repository-without-ttl",
                PROBLEM,
                f"{repo.name} has no TTL beside {', '.join(r.name for r in on)}: Hoop walks the "
                "repositories in Go's random map order and stops at the first without a TTL, so "
                f"hooks fire on a random subset of events ({share}), and each event clones the "
                "repositories before it again (the walk is cached only when it completes)",
                cite(HOOK_LOADER, "getRunbookHookFilesV2"),
                repo.name,
                f"remove {repo.name} ({_delete_hint(repo)}) or give it a TTL",
            )
        )
    return found


def demo_left(config: HookConfig) -> list[Finding]:
    demo = next((repo for repo in config.v2 or [] if repo.is_demo), None)
    if demo is None:
        return []
    others = [repo for repo in config.v2 or [] if repo is not demo]
    if not others:
        message = (
            f"only the default demo repository {demo.name} is configured: it has no hooks and "
            "no TTL, so no hook fires"
        )
        level = PROBLEM
    elif not demo.hooks_on:
        message = (
            f"the default demo repository {demo.name} is still configured, without a TTL, beside "
            f"{', '.join(r.name for r in others)}: it thins those hooks to a random subset of events"
        )
        level = PROBLEM
    else:
        message = (
            f"the default demo repository {demo.name} is still configured: Hoop clones it for "
            "hooks too, and a failed clone of any repository stops every hook of the event"
        )
        level = WARNING
    return [
        Finding(
            "demo-repository",
            level,
            message,
            cite(RUNBOOKS_MODEL, "CreateDefaultRunbookConfiguration"),
            demo.name,
            f"remove the {demo.name} entry, not the whole configuration (Hoop adds the demo back "
            f"at start to an org with none): {_delete_hint(demo)}",
        )
    ]


def both_configs(config: HookConfig) -> list[Finding]:
    if not config.plugin_present or config.v2 is None:
        return []
    plugin_on = config.plugin is not None and config.plugin.hooks_on
    v2_on = any(repo.hooks_on for repo in config.v2)
    migrate = (
        "and at its next start the gateway migrates the plugin into the runbooks configuration, "
        "replacing every repository there with the plugin's"
    )
    if plugin_on and v2_on:
        message = (
            "both the runbooks plugin and the runbooks configuration are set: each event runs the "
            "plugin's hooks and each configured repository's, a failed plugin fetch stops them "
            f"all, {migrate}"
        )
        level = PROBLEM
    else:
        message = (
            f"the legacy runbooks plugin is still set beside the runbooks configuration, {migrate}"
        )
        level = WARNING
    return [
        Finding(
            "both-configurations",
            level,
            message,
            f"{cite(HOOK_LOADER, 'processEventOpenSessionHook')}; "
            f"{cite(RUNBOOKS_MIGRATION, 'migrateOrganizationRunbooks')}",
            PLUGIN,
            "keep one: delete the runbooks plugin once its repository is in the runbooks "
            "configuration",
        )
    ]


def copies(config: HookConfig) -> list[Finding]:
    """Each repository with hooks runs its own copy of each hook, under the same id."""
    found = []
    plugin = config.plugin
    if plugin is not None and plugin.hooks_on and plugin.ttl == 0:
        found.append(
            Finding(
                "plugin-ttl-zero",
                WARNING,
                "the runbooks plugin's GIT_HOOK_CONFIG_TTL is 0: hooks run, but nothing is cached, "
                "so every event clones the repository while the session opens (30 s limit)",
                cite(HOOK_LOADER, "getRunbookHookFiles"),
                PLUGIN,
                "set a TTL of a few minutes",
            )
        )
    on = [repo for repo in config.v2 or [] if repo.hooks_on]
    if len(on) > 1:
        found.append(
            Finding(
                "several-hook-repositories",
                WARNING,
                f"{len(on)} repositories have a TTL ({', '.join(r.name for r in on)}): each one's "
                "hooks run for every event, under the same request id",
                cite(HOOK_LOADER, "processEventOpenSessionHook"),
                fix="keep the hooks in one repository, and a TTL only there",
            )
        )
    return found


def _delete_hint(repo: Repository) -> str:
    """The API call that removes one V2 entry: its id is uuid5(URL namespace, git_url)."""
    if repo.origin == PLUGIN:
        return "delete the runbooks plugin"
    return f"DELETE /api/runbooks/configurations/{repo.entry_id} ({cite(RUNBOOKS_API, 'DeleteRunbookConfigurationEntry')})"
