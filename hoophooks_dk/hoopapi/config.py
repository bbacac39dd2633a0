"""The org's hook configuration as Hoop's gateway reads it, from the API's answers.

Hoop looks for hooks in two places on every session event
(``gateway/transport/extensions/runbookhook.go``): the legacy ``runbooks`` plugin
(``getRunbookHookFiles``: ``GIT_URL``, ``GIT_HOOK_CONFIG_TTL`` in its base64 envvars,
parsed by ``NewConfig`` in ``common/runbooks/config.go``), then each repository of the
newer configuration (``getRunbookHookFilesV2``: ``git_hook_ttl``, parsed by
``NewConfigV2``). This module turns ``GET /api/plugins/runbooks`` and ``GET
/api/runbooks/configurations`` into ``Repository`` records, keeping only what decides
whether hooks fire: no password, key or token from those answers is kept (both carry
them: ``git_password``, ``ssh_key``, ``GIT_PASSWORD``...).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: The repository every org gets by default, without a TTL (gateway/models/runbooks.go,
#: CreateDefaultRunbookConfiguration; added at each gateway start where none exists).
DEMO_REPOSITORY = "github.com/hoophq/demo-runbooks"
DEFAULT_BRANCHES = ("master", "main")  # common/runbooks/git.go, when no branch is set


@dataclass(frozen=True)
class Repository:
    """One repository Hoop reads hooks from. ``ttl`` is in seconds, None when unset."""

    origin: str  # "runbooks configuration" (V2) or "runbooks plugin" (legacy)
    name: str  # Hoop's key: host/owner/repo
    git_url: str  # as configured, any user:password@ removed
    ttl: int | None
    branch: str | None = None  # the configured branch, when the API shows one
    entry_id: str | None = None  # V2: the id DELETE /api/runbooks/configurations/{id} takes

    @property
    def hooks_on(self) -> bool:
        """V2 turns hooks on with a TTL above 0 (NewConfigV2); the plugin with any TTL
        (NewConfig: 0 means on, with nothing cached)."""
        if self.origin == PLUGIN:
            return self.ttl is not None
        return self.ttl is not None and self.ttl > 0

    @property
    def is_demo(self) -> bool:
        return self.name == DEMO_REPOSITORY or normalized_git_url(self.git_url) == DEMO_REPOSITORY

    @property
    def reads(self) -> str:
        """The branch Hoop clones: the configured one, else master or main."""
        return self.branch or " or ".join(DEFAULT_BRANCHES)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "repository": self.name,
            "git_url": self.git_url,
            "ttl": self.ttl,
            "hooks_on": self.hooks_on,
            "branch": self.branch,
        }


V2 = "runbooks configuration"
PLUGIN = "runbooks plugin"


@dataclass
class HookConfig:
    """Both configurations as read: ``v2`` None when the org has none (404), likewise
    ``plugin``; ``plugin_error`` when the plugin's settings make Hoop fail every event."""

    v2: list[Repository] | None = None
    plugin: Repository | None = None
    plugin_present: bool = False
    plugin_error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def repositories(self) -> list[Repository]:
        return [*([self.plugin] if self.plugin else []), *(self.v2 or [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "runbooks_configuration": None
            if self.v2 is None
            else [repo.to_dict() for repo in self.v2],
            "runbooks_plugin": self.plugin.to_dict() if self.plugin else None,
            "runbooks_plugin_present": self.plugin_present,
            "runbooks_plugin_error": self.plugin_error,
        }


def read_config(v2: Mapping[str, Any] | None, plugin: Mapping[str, Any] | None) -> HookConfig:
    """The answers of ``GET /runbooks/configurations`` and ``GET /plugins/runbooks`` (None
    for a 404) as one ``HookConfig``."""
    config = HookConfig()
    if v2 is not None:
        config.v2 = [
            _v2_repository(item)
            for item in v2.get("repositories") or []
            if isinstance(item, Mapping)
        ]
    if plugin is not None:
        config.plugin_present = True
        _read_plugin(plugin, config)
    return config


def _v2_repository(item: Mapping[str, Any]) -> Repository:
    """One ``openapi.RunbookRepositoryResponse``. Its ``git_hook_ttl`` is an int (0 when
    unset); the answer has no branch field at this commit, so ``git_branch`` is read only
    if a later Hoop adds it."""
    url = str(item.get("git_url") or "")
    ttl = item.get("git_hook_ttl")
    branch = item.get("git_branch")
    return Repository(
        origin=V2,
        name=str(item.get("repository") or normalized_git_url(url)),
        git_url=without_credentials(url),
        ttl=ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else 0,
        branch=branch if isinstance(branch, str) and branch else None,
        # runbooksV2.go (CreateRunbookFile) and DeleteRunbookConfigurationEntry: uuid5 of git_url
        entry_id=str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
    )


def _read_plugin(plugin: Mapping[str, Any], config: HookConfig) -> None:
    """``NewConfig``: no envvars or an undecodable ``GIT_URL`` is "no configuration" (no
    hooks, no error); a ``GIT_HOOK_CONFIG_TTL`` that does not decode or parse is an error
    that stops every event's hooks, V2's included."""
    settings = plugin.get("config")
    envvars = settings.get("envvars") if isinstance(settings, Mapping) else None
    if not isinstance(envvars, Mapping) or not envvars:
        return
    if all(value == "REDACTED" for value in envvars.values()):
        config.notes.append("the API redacted the runbooks plugin's settings: not checked")
        return
    url = _decode(envvars.get("GIT_URL"))
    if url is None:
        return
    ttl: int | None = None
    if "GIT_HOOK_CONFIG_TTL" in envvars:
        text = _decode(envvars["GIT_HOOK_CONFIG_TTL"])
        try:
            ttl = int(text or "")
        except ValueError:
            config.plugin_error = (
                "GIT_HOOK_CONFIG_TTL does not decode to whole seconds (base64 of e.g. 300)"
            )
    config.plugin = Repository(PLUGIN, normalized_git_url(url), without_credentials(url), ttl)


def _decode(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def normalized_git_url(url: str) -> str:
    """``host/owner/repo``: Hoop's ``Config.GetNormalizedGitURL`` (common/runbooks/
    config.go), the key it files a repository under; the host in lower case."""
    raw = url.strip()
    if ":" in raw and "://" not in raw:  # git@host:owner/repo.git
        host, _, path = raw.partition(":")
        raw = f"ssh://{host.removeprefix('git@')}/{path}"
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
    except ValueError:
        return ""
    path = parts.path.removesuffix(".git").strip("/")
    return f"{host}/{path}"


def without_credentials(url: str) -> str:
    """The URL with any ``user:password@`` dropped: a Git URL may embed a token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "://" not in url or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
