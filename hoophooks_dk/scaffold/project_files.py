"""The files ``hookdk init`` writes beside the hooks and their tests.

- the CI workflow (``.github/workflows/hoop-hooks.yml`` or ``.gitlab-ci.yml``), whose
  install line names where this kit came from (``kit_source``);
- the settings file, ``hookdk.toml``: test values for the settings the hooks read, so
  that ``hookdk fire``, ``hookdk check`` and the CI run the hooks as they are configured
  (the capture answers every request, so the values never reach a real SIEM);
- ``.gitignore`` lines for what the kit leaves in a repository (fuzz's failing payloads,
  check's reports, pytest's and Hypothesis's caches). An existing ``.gitignore`` gets the
  missing lines appended: nothing in it is changed or removed.

Nothing here prints or writes: each function returns bytes for ``writer`` to write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from ..resources import data_dir
from .kit_source import KitSource

SETTINGS_PATH = "hookdk.toml"
GITIGNORE_PATH = ".gitignore"
#: What the kit leaves in a runbooks repository when it runs there.
IGNORED = (
    "hookdk-failing-*.json",  # hookdk fuzz: the smallest failing payload, to replay
    "hookdk.sarif",  # hookdk check --format sarif --output (the GitHub workflow)
    "gl-code-quality-report.json",  # hookdk check --format codeclimate (the GitLab job)
    "hookdk-report/",  # pytest --hoop-report (the CI's test step)
    ".hypothesis/",  # hoop_hooks.fuzz() in the tests
    ".pytest_cache/",
    "__pycache__/",
)
GITIGNORE_HEADER = "# what hookdk leaves in a runbooks repository (hookdk init wrote these lines)"


def ci_file(ci: str, kit: KitSource) -> bytes:
    """The workflow for ``ci`` ("github" or "gitlab"), installing the kit from ``kit``."""
    text = (data_dir("templates") / "_common" / "ci" / f"{ci}.yml").read_text(encoding="utf-8")
    missing = (
        "HOOKDK_PIP_SPEC is empty: hookdk init ran from a copy of the kit that CI cannot "
        f"install ({kit.how}). Set HOOKDK_PIP_SPEC in this file to a pip requirement for "
        "the kit, e.g. hoophooks_dk @ git+https://github.com/YOUR-ORG/hoophooks_dk@COMMIT "
        "(or rerun: hookdk init --kit-spec SPEC --force)"
    )
    markers = {
        "@HOOKDK_PIP_SPEC@": json.dumps(kit.spec or ""),  # a YAML double-quoted string
        "@HOOKDK_SOURCE@": kit.how,
        "@HOOKDK_MISSING@": missing.replace('"', "'"),
    }
    for marker, value in markers.items():
        text = text.replace(marker, value)
    return text.encode("utf-8")


def settings_file(env: Mapping[str, str], read_by_hooks: Iterable[str] = ()) -> bytes:
    """``hookdk.toml`` with ``env`` as the test values of the hooks' settings, and the
    other settings the hooks read (``read_by_hooks``) listed, commented out, to fill in."""
    lines = [
        "# hookdk's settings for this runbooks repository, written by `hookdk init`: read by",
        "# hookdk fire, check, fuzz and watch and by the pytest plugin. Hoop never reads it.",
        "#",
        "# [env] holds TEST values for the settings the hooks read. The kit's capture answers",
        "# every request the hooks make, so these never reach a real SIEM; the generated tests",
        "# pin their own. They are not the agent's values: on the agent, give the hooks their",
        "# real settings without committing them (`hookdk check` rule HK308 says how).",
        "[env]",
    ]
    lines += [f"{name} = {json.dumps(value)}" for name, value in env.items()]
    others = [name for name in dict.fromkeys(read_by_hooks) if name not in env]
    if others:
        lines.append("# read by your hooks: give each a test value here")
        lines += [f'# {name} = ""' for name in others]
    if not env and not others:
        lines.append('# SIEM_TOKEN = "test-token"')
    return ("\n".join(lines) + "\n").encode("utf-8")


def gitignore(existing: bytes | None) -> bytes:
    """The ``.gitignore`` with the kit's lines: the whole file when there is none, else
    ``existing`` with the missing lines appended (unchanged when none is missing)."""
    if existing is None:
        return ("\n".join([GITIGNORE_HEADER, *IGNORED]) + "\n").encode("utf-8")
    present = {line.strip() for line in existing.decode("utf-8", "replace").splitlines()}
    missing = [line for line in IGNORED if line not in present]
    if not missing:
        return existing
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    block = "\n".join([GITIGNORE_HEADER, *missing]) + "\n"
    return existing + separator + b"\n" + block.encode("utf-8")
