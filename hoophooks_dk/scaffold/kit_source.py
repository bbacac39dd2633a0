"""Where this copy of the kit came from, as a pip requirement a CI runner can install.

The CI workflow ``hookdk init`` writes installs the kit before it runs the tests, so its
install line must name something a fresh runner can fetch. pip records how it installed
a distribution in ``direct_url.json`` (PEP 610, read with ``importlib.metadata``):

- no ``direct_url.json``: installed from an index, so ``hoophooks_dk==<version>``;
- ``vcs_info``: a VCS install, so ``hoophooks_dk @ git+<url>@<commit>`` (the commit, not
  the branch or tag asked for: the tests the kit wrote are for exactly this code);
- ``archive_info``: a wheel or sdist from a URL, so ``hoophooks_dk @ <url>``;
- ``dir_info`` (``pip install .``, ``pip install -e .``), a ``file:`` archive, or no
  distribution at all (a checkout on ``PYTHONPATH``): nothing a runner can reach. The
  CI line is then left empty and fails with what to put there, and ``init`` says so;
  when the folder is a git checkout with a remote, the message names the git URL and
  commit that would do.

``hookdk init --kit-spec SPEC`` overrides all of this. Nothing here prints.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

DISTRIBUTION = "hoophooks_dk"


@dataclass(frozen=True)
class KitSource:
    """``spec``: the pip requirement for CI, or None when there is none to give; ``how``:
    how the kit was installed, for messages; ``note``: what the user should know (a
    source CI cannot reach, the spec to use instead)."""

    spec: str | None
    how: str
    note: str | None = None


def kit_source(spec: str | None = None) -> KitSource:
    """The pip requirement CI installs: ``spec`` when given (``--kit-spec``), else read
    from the installed distribution (see the module docstring)."""
    if spec is not None:
        return KitSource(spec.strip(), "--kit-spec")
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        checkout = Path(__file__).resolve().parents[2]
        return _local(checkout.as_uri(), f"run from the checkout {checkout.as_uri()}")
    text = dist.read_text("direct_url.json")
    if not text:
        return KitSource(
            f"{DISTRIBUTION}=={dist.version}", f"from an index, version {dist.version}"
        )
    return from_direct_url(json.loads(text))


def from_direct_url(data: dict) -> KitSource:
    """A ``KitSource`` for the PEP 610 ``direct_url.json`` object ``data``."""
    url = data.get("url", "")
    subdirectory = f"#subdirectory={data['subdirectory']}" if data.get("subdirectory") else ""
    if "vcs_info" in data:
        vcs = data["vcs_info"]
        requirement = f"{DISTRIBUTION} @ {vcs['vcs']}+{url}@{vcs['commit_id']}{subdirectory}"
        note = None
        if url.startswith("file:"):
            note = (
                f"the kit was installed from {url}, a repository on this machine that a CI "
                "runner cannot reach: give --kit-spec with its public git URL"
            )
        return KitSource(requirement, f"from git at {vcs['commit_id'][:12]}", note)
    if "archive_info" in data and not url.startswith("file:"):
        return KitSource(f"{DISTRIBUTION} @ {url}{subdirectory}", f"from {url}")
    editable = data.get("dir_info", {}).get("editable", False)
    how = "an editable install of" if editable else "installed from"
    return _local(url, f"{how} {url}")


def _local(url: str, how: str) -> KitSource:
    """A source on this machine: no spec, and the git URL and commit to use if the folder
    is a git checkout with a remote."""
    suggestion = _git_suggestion(url)
    note = (
        f"the kit here was {how}, which a CI runner cannot install; the CI file says so "
        "and fails until HOOKDK_PIP_SPEC names the kit (rerun `hookdk init --kit-spec "
        f"SPEC --force`{f', e.g. --kit-spec {suggestion!r}' if suggestion else ''})"
    )
    return KitSource(None, how, note)


def _git_suggestion(url: str) -> str | None:
    """``hoophooks_dk @ git+<origin>@<HEAD>`` for a local folder that is a git checkout
    with an ``origin`` remote, else None."""
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    folder = Path(unquote(parsed.path))
    try:
        origin = _git(folder, "remote", "get-url", "origin")
        commit = _git(folder, "rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return None
    if not origin or not commit:
        return None
    remote = origin if "://" in origin else _scp_to_url(origin)
    return f"{DISTRIBUTION} @ git+{remote}@{commit}"


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()


def _scp_to_url(origin: str) -> str:
    """``git@github.com:org/repo.git`` (scp-like syntax, which pip does not take) as
    ``ssh://git@github.com/org/repo.git``."""
    host, _, path = origin.partition(":")
    return f"ssh://{host}/{path}" if path else origin
