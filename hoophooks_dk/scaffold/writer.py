"""`hookdk init`: write a template's hooks, tests and CI workflow into a runbooks repo.

A template is a folder under the shipped ``templates/`` with a ``template.toml`` (its
one-line description, the settings its hooks read, the values ``hookdk demo`` uses) and
the files it contributes, laid out as they land in the repository:

    templates/<name>/hoop-hooks/session-open.runbook.py, session-close.runbook.py
    templates/<name>/tests/hooks/...          the template's own tests
    templates/<name>/include/NAME.py          code its two hooks share (see below)
    templates/_common/tests/hooks/...         pytest.ini, README, example payloads
    templates/_common/syslog-tests/hooks/...  the delivery tests of syslog templates
    templates/_common/tests-only/hooks/...    init --tests-only: what any hook must hold
    templates/_common/ci/github.yml, gitlab.yml
    templates/_common/include/NAME.py         code hooks of several templates share

Beside them init writes the settings file and ``.gitignore`` lines (``project_files``),
and the CI installs the kit from where this copy came from (``kit_source``).

Hook files are written as they stand, except for include lines: Hoop runs each hook file
alone on stdin, so a hook cannot import a sibling module (docs/hoop-runtime.md section 3), yet
the kit keeps shared code (a template's settings and ``main()``, delivery with retry,
failure) in one place. A line that is exactly ``# hookdk:include NAME`` in a template's
hook is replaced, line end included, by the bytes of the fragment ``NAME.py``: the
template's own ``templates/<name>/include/NAME.py`` when there is one, otherwise
``templates/_common/include/NAME.py``. A fragment ends with a line end and holds no
include line itself (one level, no nesting); a template's ``include/`` folder is never
written into a repository. A NAME with neither file raises ``LookupError``, which the
kit's tests reach for every template before a user can. The shared test and CI files may
carry ``@NAME@`` markers that are filled in.

Nothing here prints: ``init`` returns what it did, file by file, and the CLI reports it.
Nothing a user wrote is overwritten without ``force``, and ``force`` only touches files
the template provides.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import HookdkError, did_you_mean
from ..hooks import HOOK_PATHS
from ..resources import data_dir
from . import project_files
from .kit_source import KitSource, kit_source

DEFAULT_TEMPLATE = "siem-http"
COMMON = "_common"
TESTS_ONLY = "tests-only"  # under templates/_common: the suite of init --tests-only
CI_CHOICES = ("github", "gitlab", "none")
CI_FILES = {"github": ".github/workflows/hoop-hooks.yml", "gitlab": ".gitlab-ci.yml"}
TESTS_DIR = "tests/hooks"
INCLUDE_DIR = "include"  # under a template's folder, then under templates/_common
INCLUDE = re.compile(rb"^# hookdk:include ([\w-]+)\n", re.MULTILINE)

# What ``init`` did with each file.
CREATED, OVERWRITTEN, SKIPPED, UNCHANGED = "created", "overwritten", "skipped", "unchanged"
APPENDED = "appended"  # .gitignore: the kit's missing lines added at its end


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    settings: tuple[str, ...]
    demo_env: dict[str, str]
    folder: Traversable
    transport: str = "http"  # "syslog": its hooks feed a syslog socket, not an HTTP URL

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_TEMPLATE


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the repository root, with forward slashes
    content: bytes


@dataclass
class InitResult:
    root: Path  # where the files went: the git root, or the folder given
    in_git: bool
    template: Template | None  # None for --tests-only: the user's own hooks
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path under root, action)
    warnings: list[str] = field(default_factory=list)
    kit: KitSource | None = None  # where the CI installs the kit from (None: no CI)
    settings_elsewhere: str | None = None  # the settings file init left alone for the user's

    @property
    def skipped(self) -> list[Path]:
        return [path for path, action in self.files if action == SKIPPED]


# --- templates --------------------------------------------------------------------------


def templates() -> list[Template]:
    """Every shipped template, the default first, then by name."""
    root = data_dir("templates")
    found = [_load(entry) for entry in root.iterdir() if (entry / "template.toml").is_file()]
    return sorted(found, key=lambda t: (not t.is_default, t.name))


def get_template(name: str) -> Template:
    """The template called ``name``; a one-line error listing them all when there is none."""
    for template in templates():
        if template.name == name:
            return template
    names = [t.name for t in templates()]
    raise HookdkError(
        f"unknown template {name!r}{did_you_mean(name, names)}; available templates: "
        f"{', '.join(names)}"
    )


def _load(folder: Traversable) -> Template:
    meta: dict[str, Any] = tomllib.loads((folder / "template.toml").read_text(encoding="utf-8"))
    return Template(
        name=folder.name,
        description=meta["description"],
        settings=tuple(meta.get("settings", ())),
        demo_env=dict(meta.get("demo", {}).get("env", {})),
        folder=folder,
        transport=meta.get("transport", "http"),
    )


# --- what a template writes -------------------------------------------------------------


def plan(
    template: Template, *, ci: str = "github", tests: bool = True, kit: KitSource | None = None
) -> list[PlannedFile]:
    """The files ``init`` writes for ``template``, in the order it reports them: the hooks,
    their tests, the CI (installing the kit from ``kit``, default: where this copy came
    from) and the settings file with the template's test values.

    Both hook files always: Hoop reads them together, and a close hook without an open
    hook is a crash risk in the gateway (docs/hoop-runtime.md section 1).
    """
    _check_options(ci, tests)
    files = [
        PlannedFile(path, expand_includes(_child(template.folder, path).read_bytes(), template))
        for path in HOOK_PATHS.values()
    ]
    if tests:
        common = data_dir("templates") / COMMON
        shared = {path: _fill(data, template) for path, data in _tree(common / "tests", "tests")}
        if template.transport == "syslog":  # delivery tests for a socket, not for HTTP
            syslog = _tree(common / "syslog-tests", "tests")
            shared |= {path: _fill(data, template) for path, data in syslog}
        own = dict(_tree(template.folder / "tests", "tests"))
        merged = shared | own  # a template's file replaces a shared one of the same name
        files += [PlannedFile(path, merged[path]) for path in sorted(merged)]
        files += _project_files(ci, kit, project_files.settings_file(template.demo_env))
    return files


def plan_tests_only(
    *, ci: str = "github", kit: KitSource | None = None, read_by_hooks: Iterable[str] = ()
) -> list[PlannedFile]:
    """The files ``init --tests-only`` writes beside hooks of the user's own: the generic
    suite (every flow, what any hook must hold), the CI and the settings file, listing
    the settings the hooks read (``read_by_hooks``) for the user to fill in."""
    _check_options(ci, True)
    folder = data_dir("templates") / COMMON / TESTS_ONLY
    files = [PlannedFile(path, data) for path, data in sorted(_tree(folder, "tests"))]
    settings = project_files.settings_file({}, read_by_hooks)
    return files + _project_files(ci, kit, settings)


def _project_files(ci: str, kit: KitSource | None, settings: bytes) -> list[PlannedFile]:
    files = []
    if ci != "none":
        files.append(PlannedFile(CI_FILES[ci], project_files.ci_file(ci, kit or kit_source())))
    files.append(PlannedFile(project_files.SETTINGS_PATH, settings))
    # the .gitignore's content depends on what is there: filled in when written
    files.append(PlannedFile(project_files.GITIGNORE_PATH, b""))
    return files


def _check_options(ci: str, tests: bool) -> None:
    if ci not in CI_CHOICES:
        raise HookdkError(f"--ci {ci}: expected one of {', '.join(CI_CHOICES)}")
    if not tests and ci != "none":
        raise HookdkError(
            f"--ci {ci} with --no-tests: the workflow would have no tests to run; "
            "drop --no-tests, or use --ci none"
        )


def _child(folder: Traversable, path: str) -> Traversable:
    for part in path.split("/"):
        folder = folder / part
    return folder


def _tree(folder: Traversable, prefix: str) -> list[tuple[str, bytes]]:
    """(path, content) of every file under ``folder``, caches left out."""
    if not folder.is_dir():
        return []
    found: list[tuple[str, bytes]] = []
    for entry in folder.iterdir():
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        path = str(PurePosixPath(prefix) / entry.name)
        found += _tree(entry, path) if entry.is_dir() else [(path, entry.read_bytes())]
    return found


def expand_includes(source: bytes, template: Template | None = None) -> bytes:
    """``source`` with each ``# hookdk:include NAME`` line replaced by that fragment,
    ``template``'s own first (see :func:`include`)."""
    return INCLUDE.sub(lambda match: include(match[1].decode(), template), source)


def include(name: str, template: Template | None = None) -> bytes:
    """The bytes of the fragment ``<name>.py``: ``templates/<template>/include/`` holds
    the code of one template's hooks and is looked in first; ``templates/_common/include/``
    holds what several templates share."""
    places = [(template.folder, template.name)] if template is not None else []
    places.append((data_dir("templates") / COMMON, COMMON))
    for folder, _ in places:
        fragment = folder / INCLUDE_DIR / f"{name}.py"
        if fragment.is_file():
            return fragment.read_bytes()
    tried = " or ".join(f"{label}/{INCLUDE_DIR}/{name}.py" for _, label in places)
    raise LookupError(f"# hookdk:include {name}: no fragment {tried}")


def _fill(data: bytes, template: Template) -> bytes:
    """Fill the ``@NAME@`` markers of a shared file (a README, a CI workflow)."""
    markers = {
        "@TEMPLATE@": template.name,
        "@SETTINGS@": ", ".join(f"`{name}`" for name in template.settings) or "none",
        "@HOOKDK_VERSION@": kit_version(),
    }
    text = data.decode("utf-8")
    for marker, value in markers.items():
        text = text.replace(marker, value)
    return text.encode("utf-8")


def kit_version() -> str:
    """The installed kit's version, which the CI workflow pins."""
    try:
        return version("hoophooks_dk")
    except PackageNotFoundError:  # running from a checkout that was never installed
        from .. import __version__

        return __version__


# --- writing ----------------------------------------------------------------------------


def init(
    directory: Path | str = ".",
    template: str = DEFAULT_TEMPLATE,
    *,
    force: bool = False,
    ci: str = "github",
    tests: bool = True,
    kit_spec: str | None = None,
    tests_only: bool = False,
) -> InitResult:
    """Write ``template`` into the runbooks repository that holds ``directory``.

    Files go to the git root, because that is where Hoop looks for ``hoop-hooks/``; outside
    a git repository they go to ``directory`` itself, with a warning. An existing file is
    left alone (reported skipped) unless ``force``; one that already has the template's
    content is reported unchanged. ``kit_spec`` is the pip requirement the CI installs
    (default: where this copy of the kit came from). ``tests_only`` writes a generic
    suite, the CI and the settings file for the hooks already there, never touching
    ``hoop-hooks/``.
    """
    root, in_git, warnings = find_root(Path(directory))
    kit = kit_source(kit_spec) if (tests and ci != "none") else None
    if tests_only:
        chosen = None
        planned = plan_tests_only(ci=ci, kit=kit, read_by_hooks=_settings_read(root))
    else:
        chosen = get_template(template)
        planned = plan(chosen, ci=ci, tests=tests, kit=kit)
    _check_targets(root, planned)
    if not force and chosen is not None:
        _refuse_mixing(root, chosen)
    result = InitResult(root, in_git, chosen, warnings=warnings, kit=kit)
    elsewhere = _settings_elsewhere(root)
    if elsewhere:  # the user keeps hookdk's settings in pyproject.toml: not a second file
        planned = [f for f in planned if f.path != project_files.SETTINGS_PATH]
        result.settings_elsewhere = elsewhere
    try:
        root.mkdir(parents=True, exist_ok=True)
        for planned_file in planned:
            result.files.append((Path(planned_file.path), _write(root, planned_file, force)))
    except OSError as error:
        where = error.filename or root
        raise HookdkError(f"cannot write {where}: {error.strerror or error}") from None
    return result


def _settings_elsewhere(root: Path) -> str | None:
    """ "pyproject.toml [tool.hookdk]" when the repository keeps hookdk's settings there
    (a hookdk.toml beside it would be an error), else None."""
    pyproject = root / "pyproject.toml"
    if (root / project_files.SETTINGS_PATH).exists() or not pyproject.is_file():
        return None
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return "pyproject.toml [tool.hookdk]" if "hookdk" in table else None


def _settings_read(root: Path) -> list[str]:
    """The settings the hooks in ``root`` read from the environment, in order: what the
    settings file init --tests-only writes lists for the user to give test values."""
    from ..check.python import environment_names

    names: list[str] = []
    for path in HOOK_PATHS.values():
        try:
            names += environment_names((root / path).read_bytes())
        except OSError:
            continue
    return names


def find_root(directory: Path) -> tuple[Path, bool, list[str]]:
    """(where to write, whether that is a git root, warnings) for ``directory``.

    A folder that does not exist yet is looked up from its nearest existing parent, so
    ``hookdk init new-folder`` inside a repository still writes at the repository root.
    """
    directory = directory.expanduser().absolute()
    if directory.exists() and not directory.is_dir():
        raise HookdkError(f"{directory} is not a directory")
    start = next(folder for folder in (directory, *directory.parents) if folder.exists())
    outside = (
        f"{directory} is not in a git repository; writing there. Hoop reads hoop-hooks/ "
        "from the root of the runbooks repository, committed and pushed"
    )
    try:
        import git
    except ImportError:  # GitPython refuses to import when the git program is missing
        return directory, False, [outside + " (git is not installed)"]
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return directory, False, [outside]
    if repo.working_tree_dir is None:
        raise HookdkError(f"{repo.git_dir} is a bare repository: run init in a checkout")
    return Path(repo.working_tree_dir), True, []


def template_of(event: str, source: bytes) -> str | None:
    """The template whose hook ``source`` is, told by its first line (each template's
    hooks open with their own docstring line, which edits below it keep)."""
    first = source.split(b"\n", 1)[0].strip()
    if not first:
        return None
    for candidate in templates():
        hook = _child(candidate.folder, HOOK_PATHS[event])
        if hook.is_file() and hook.read_bytes().split(b"\n", 1)[0].strip() == first:
            return candidate.name
    return None


def _refuse_mixing(root: Path, chosen: Template) -> None:
    """Hooks of another template stay as they are without ``--force``, and the tests and
    "Next" steps written for ``chosen`` would not fit them: refuse before writing."""
    for event, path in HOOK_PATHS.items():
        target = root / path
        if not target.is_file():
            continue
        other = template_of(event, target.read_bytes())
        if other is not None and other != chosen.name:
            raise HookdkError(
                f"{target} is the {other} template's hook; init --template {chosen.name} "
                f"would keep it beside {chosen.name}'s tests. Run `hookdk init --template "
                f"{chosen.name} --force` to replace the {other} hooks (and the files init "
                f"wrote), or `hookdk init --template {other}` to keep them"
            )


def _check_targets(root: Path, planned: list[PlannedFile]) -> None:
    """Refuse before writing anything when a target path is taken by a folder."""
    for planned_file in planned:
        target = root / planned_file.path
        if target.is_dir():
            raise HookdkError(f"{target} is a directory; init writes a file there")
        for parent in target.relative_to(root).parents:
            if (root / parent).is_file():
                raise HookdkError(f"{root / parent} is a file; init needs a folder there")


def _write(root: Path, planned_file: PlannedFile, force: bool) -> str:
    target = root / planned_file.path
    if planned_file.path == project_files.GITIGNORE_PATH:
        return _write_gitignore(target)
    if target.exists():
        if target.read_bytes() == planned_file.content:
            return UNCHANGED
        if not force:
            return SKIPPED
        target.write_bytes(planned_file.content)
        return OVERWRITTEN
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(planned_file.content)
    return CREATED


def _write_gitignore(target: Path) -> str:
    """The kit's lines in ``.gitignore``: a new file, or the missing lines appended to the
    user's (nothing of theirs changes, so no ``--force`` is needed)."""
    existing = target.read_bytes() if target.exists() else None
    content = project_files.gitignore(existing)
    if content == existing:
        return UNCHANGED
    target.write_bytes(content)
    return CREATED if existing is None else APPENDED
